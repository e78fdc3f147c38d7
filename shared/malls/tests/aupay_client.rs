//! The au PAY client over real HTTP against the sandbox (`tests/sandbox`).
//!
//! Each test starts its own sandbox on a free port and registers the store's key there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ichigen_core::mall::AckOutcome;
use ichigen_core::ports::SecretValue;
use ichigen_core::{HoldKind, JstInstant, Mall, MallError, MallId, StoreRef, TimeWindow};
use ichigen_malls::{AupayMall, ClientSettings, MallEndpoints, connect_aupay};
use ichigen_sandbox::aupay::endpoints;
use ichigen_sandbox::control::{
    AupayApiGroup, AupayBadGatewayRequest, AupayGenerateOptions, AupayLimits, AupayOrderKind,
    AupayRegisterStoreRequest, FaultConfig, RequestDateFormat, ResultCountMeaning,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use jiff::SignedDuration;

const SHOP: &str = "20240001";
const KEY: &str = "ak-ichigen-test-0123456789";

fn store() -> StoreRef {
    StoreRef::new(MallId::Aupay, "aupay-a")
}

fn fast_settings() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_millis(500),
        requests_per_second: 1000.0,
        max_attempts: 6,
        backoff_min: Duration::from_millis(1),
        backoff_max: Duration::from_millis(20),
        rate_budget: None,
    }
}

fn now() -> JstInstant {
    JstInstant::from_timestamp(jiff::Timestamp::now())
}

fn last_days(days: i64) -> TimeWindow {
    let end = now();
    TimeWindow::new(
        end.checked_sub(SignedDuration::from_hours(24 * days))
            .unwrap(),
        end,
    )
}

struct Fixture {
    _sandbox: Sandbox,
    base_url: String,
    control: ControlClient,
}

impl Fixture {
    async fn new() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 11 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .aupay_register_store(&AupayRegisterStoreRequest::new(SHOP, KEY))
            .await
            .unwrap();
        Self {
            base_url: sandbox.base_url(),
            _sandbox: sandbox,
            control,
        }
    }

    fn mall_with(&self, secret: serde_json::Value, settings: &ClientSettings) -> AupayMall {
        let endpoints = MallEndpoints {
            aupay: self.base_url.clone(),
            ..MallEndpoints::default()
        };
        connect_aupay(
            &store(),
            &SecretValue::new(secret.to_string()),
            &endpoints,
            settings,
        )
        .unwrap()
    }

    fn mall(&self) -> AupayMall {
        self.mall_with(
            serde_json::json!({"shopId": SHOP, "apiKey": KEY}),
            &fast_settings(),
        )
    }

    async fn generate(&self, count: usize, kinds: Option<Vec<AupayOrderKind>>) -> Vec<String> {
        self.control
            .aupay_generate_orders(
                SHOP,
                &AupayGenerateOptions {
                    count: Some(count),
                    days: Some(3),
                    kinds,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .order_ids
    }
}

#[tokio::test]
async fn lists_full_orders_across_pages_under_either_reading_of_result_count() {
    let fx = Fixture::new().await;
    let made = fx.generate(23, None).await;
    let mall = fx.mall().with_page_size(5);
    for meaning in [ResultCountMeaning::Total, ResultCountMeaning::Page] {
        fx.control
            .aupay_set_limits(&AupayLimits {
                result_count: meaning,
                request_date_format: RequestDateFormat::Compact,
                ..AupayLimits::default()
            })
            .await
            .unwrap();
        let listed = mall.list_orders(last_days(4)).await.unwrap();
        let ids: Vec<_> = listed.iter().map(|o| o.mall_order_id.clone()).collect();
        assert_eq!(ids, made, "{meaning:?}");
        assert!(listed.iter().all(|o| o.payload.is_some()), "full orders");
    }
    let stats = fx.control.stats().await.unwrap();
    assert_eq!(
        stats.requests_for(endpoints::SEARCH_TRADE_INFO_LIST),
        10,
        "5 pages of 5 (the last short) for each reading"
    );
    assert_eq!(stats.requests_for(endpoints::SEARCH_TRADE_INFO), 0);
}

#[tokio::test]
async fn only_orders_inside_the_window_are_listed_though_the_wire_asks_for_whole_days() {
    let fx = Fixture::new().await;
    fx.control
        .aupay_generate_orders(
            SHOP,
            &AupayGenerateOptions {
                order_dates: Some(vec![
                    "2026/01/01 00:04".into(),
                    "2026/01/01 00:05".into(),
                    "2026/01/01 10:00".into(),
                ]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let start: JstInstant = "2026-01-01T00:05:30+09:00".parse().unwrap();
    let end: JstInstant = "2026-01-01T09:59:59+09:00".parse().unwrap();
    let listed = fx
        .mall()
        .list_orders(TimeWindow::new(start, end))
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        1,
        "only the 00:05 order (minutes only on the wire)"
    );
    let payload = listed[0].payload.as_ref().unwrap();
    assert!(payload.body.contains("2026/01/01 00:05"));
    // A window starting a fraction of a second into the minute still holds that minute.
    let start: JstInstant = "2026-01-01T00:05:00.250+09:00".parse().unwrap();
    let listed = fx
        .mall()
        .list_orders(TimeWindow::new(start, end))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn targeted_fetch_returns_one_order_and_names_the_missing() {
    let fx = Fixture::new().await;
    let made = fx.generate(2, None).await;
    let mall = fx.mall();
    let ids = vec![made[1].clone(), "999999".to_owned()];
    let outcome = mall.fetch_orders(&ids).await.unwrap();
    assert_eq!(outcome.orders.len(), 1);
    assert_eq!(outcome.orders[0].mall_order_id, made[1]);
    assert_eq!(outcome.missing.len(), 1);
    assert_eq!(outcome.missing[0].0, "999999");
    let order = mall
        .normalise(&outcome.orders[0].payload, now())
        .unwrap()
        .orders
        .remove(0);
    assert_eq!(order.mall_order_id, made[1]);
}

#[tokio::test]
async fn acknowledgement_moves_unpaid_prepayment_to_awaiting_and_paid_to_ready() {
    let fx = Fixture::new().await;
    let kinds = vec![
        AupayOrderKind::KonbiniUnpaid,
        AupayOrderKind::CardPaid,
        AupayOrderKind::BankUnpaid,
        AupayOrderKind::KonbiniPaid,
        AupayOrderKind::CarrierBilling,
        AupayOrderKind::Screening,
        AupayOrderKind::UnknownSettlement,
    ];
    let made = fx.generate(kinds.len(), Some(kinds.clone())).await;
    let mall = fx.mall();
    let listed = mall.list_orders(last_days(4)).await.unwrap();
    let mut to_acknowledge = Vec::new();
    for listed in &listed {
        let order = mall
            .normalise(listed.payload.as_ref().unwrap(), now())
            .unwrap()
            .orders
            .remove(0);
        if mall.needs_acknowledgement(&order) {
            to_acknowledge.push(order);
        }
    }
    assert_eq!(
        to_acknowledge
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>(),
        made[..5],
        "not screening, not unknown payment"
    );
    let acks = mall.acknowledge(&to_acknowledge).await.unwrap();
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Accepted),
        "{acks:?}"
    );
    let writes = fx.control.aupay_writes().await.unwrap();
    let written: Vec<(&str, &str)> = writes
        .iter()
        .map(|w| (w.order_id.as_str(), w.order_status.as_str()))
        .collect();
    assert_eq!(
        written,
        [
            (made[0].as_str(), "発送前入金待ち"),
            (made[1].as_str(), "発送待ち"),
            (made[2].as_str(), "発送前入金待ち"),
            (made[3].as_str(), "発送待ち"),
            (made[4].as_str(), "発送待ち"),
        ]
    );
}

#[tokio::test]
async fn a_retried_acknowledgement_looks_the_order_up_first() {
    let fx = Fixture::new().await;
    let made = fx
        .generate(3, Some(vec![AupayOrderKind::KonbiniUnpaid]))
        .await;
    // The import stored them; the first attempt failed; meanwhile the buyer cancelled one
    // and asked to cancel another.
    let mut stored = stored_orders(&fx, &made).await;
    for order in &mut stored {
        order.mall_sync.attempts = 1;
    }
    fx.control.aupay_cancel(SHOP, &made[1]).await.unwrap();
    fx.control
        .aupay_set_status(SHOP, &made[2], "キャンセル受付中")
        .await
        .unwrap();
    let acks = fx.mall().acknowledge(&stored).await.unwrap();
    assert_eq!(acks[0].outcome, AckOutcome::Accepted);
    assert!(matches!(acks[1].outcome, AckOutcome::Cancelled { .. }));
    assert!(matches!(
        acks[2].outcome,
        AckOutcome::CancelRequested { .. }
    ));
    let writes = fx.control.aupay_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].order_status, "発送前入金待ち");
}

#[tokio::test]
async fn an_expired_key_is_a_credential_error_naming_store_and_key_and_is_never_retried() {
    let fx = Fixture::new().await;
    fx.generate(2, None).await;
    fx.control.aupay_expire_key(SHOP).await.unwrap();
    let error = fx.mall().list_orders(last_days(4)).await.unwrap_err();
    assert!(error.is_credential(), "{error}");
    assert!(!error.is_retryable());
    let text = error.to_string();
    assert!(
        text.starts_with("aupay:aupay-a: searchTradeInfoListProc"),
        "{text}"
    );
    assert!(text.contains("apiKey") && text.contains("0002"), "{text}");
    assert!(text.contains("90 days"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    let stats = fx.control.stats().await.unwrap();
    assert_eq!(stats.requests_for(endpoints::SEARCH_TRADE_INFO_LIST), 1);
}

#[tokio::test]
async fn a_key_without_the_update_right_reads_but_its_acknowledgement_fails_on_the_key() {
    let fx = Fixture::new().await;
    let made = fx.generate(1, Some(vec![AupayOrderKind::CardPaid])).await;
    fx.control
        .aupay_register_store(&AupayRegisterStoreRequest {
            denied_api_groups: vec![AupayApiGroup::TradeUpdate],
            ..AupayRegisterStoreRequest::new(SHOP, KEY)
        })
        .await
        .unwrap();
    let mall = fx.mall();
    assert_eq!(mall.list_orders(last_days(4)).await.unwrap().len(), 1);
    let stored = stored_orders(&fx, &made).await;
    let error = mall.acknowledge(&stored).await.unwrap_err();
    assert!(error.is_credential(), "{error}");
    assert!(error.to_string().contains("updateTradeStsProc"), "{error}");
}

#[tokio::test]
async fn a_wrong_shop_id_is_a_credential_error_naming_the_shop_id() {
    let fx = Fixture::new().await;
    let mall = fx.mall_with(
        serde_json::json!({"shopId": "20249999", "apiKey": KEY}),
        &fast_settings(),
    );
    let error = mall.list_orders(last_days(1)).await.unwrap_err();
    match &error {
        MallError::CredentialRejected {
            credential, detail, ..
        } => {
            assert_eq!(credential, "shopId");
            assert!(detail.contains("CME0022"), "{detail}");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn html_502_pages_and_5xx_bursts_are_retried() {
    let fx = Fixture::new().await;
    let made = fx.generate(6, None).await;
    fx.control.aupay_bad_gateway(3).await.unwrap();
    let listed = fx.mall().list_orders(last_days(4)).await.unwrap();
    assert_eq!(listed.len(), made.len());
    fx.control
        .set_faults(&FaultConfig {
            error5xx_rate: 0.3,
            rate429_rate: 0.2,
            seed: Some(3),
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let mall = fx.mall_with(
        serde_json::json!({"shopId": SHOP, "apiKey": KEY}),
        &ClientSettings {
            max_attempts: 12,
            ..fast_settings()
        },
    );
    let outcome = mall.fetch_orders(&made).await.unwrap();
    assert_eq!(outcome.orders.len(), 6);
    let stats = fx.control.stats().await.unwrap();
    assert!(stats.injected_for("5xx") + stats.injected_for("429") > 0);

    // A gateway page passed through with HTTP 200 is retried too.
    fx.control
        .set_faults(&FaultConfig::default())
        .await
        .unwrap();
    fx.control
        .aupay_set_bad_gateway(&AupayBadGatewayRequest {
            count: 2,
            endpoint: None,
            status: Some(200),
        })
        .await
        .unwrap();
    assert_eq!(fx.mall().list_orders(last_days(4)).await.unwrap().len(), 6);

    // Out of attempts: unavailable, retryable, naming the operation.
    fx.control
        .set_faults(&FaultConfig::default())
        .await
        .unwrap();
    fx.control.aupay_bad_gateway(100).await.unwrap();
    let error = fx.mall().list_orders(last_days(4)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(
        error.to_string().contains("searchTradeInfoListProc"),
        "{error}"
    );
    fx.control
        .aupay_set_bad_gateway(&AupayBadGatewayRequest {
            count: 100,
            endpoint: None,
            status: Some(200),
        })
        .await
        .unwrap();
    let error = fx.mall().list_orders(last_days(4)).await.unwrap_err();
    assert!(
        matches!(error, MallError::Unavailable { attempts: 6, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("502 Bad Gateway"), "{error}");
}

#[tokio::test]
async fn the_store_mapping_names_the_carrier_and_holds_stay_in_the_order() {
    let fx = Fixture::new().await;
    fx.generate(20, Some(vec![AupayOrderKind::BadRequestPrice]))
        .await;
    let mall = fx.mall_with(
        serde_json::json!({
            "shopId": SHOP, "apiKey": KEY,
            "shippingMethodCarriers": {"宅配便": "sagawa", "ゆうパック": "yamato"}
        }),
        &fast_settings(),
    );
    let listed = mall.list_orders(last_days(4)).await.unwrap();
    let mut carriers = std::collections::BTreeSet::new();
    for listed in listed {
        let order = mall
            .normalise(listed.payload.as_ref().unwrap(), now())
            .unwrap()
            .orders
            .remove(0);
        assert!(order.has_hold(HoldKind::TotalsMismatch));
        carriers.insert((
            order.delivery.mall_method_name.clone(),
            order.delivery.carrier.clone(),
        ));
    }
    assert!(
        carriers.contains(&("宅配便".into(), Some("sagawa".into()))),
        "{carriers:?}"
    );
    assert!(
        carriers.contains(&("ゆうパック".into(), Some("yamato".into()))),
        "{carriers:?}"
    );
    assert!(
        carriers.contains(&("ネコポス".into(), Some("yamato".into()))),
        "{carriers:?}"
    );
}

#[tokio::test]
async fn the_default_pace_stays_under_the_sandboxes_rate_limit() {
    let fx = Fixture::new().await;
    let made = fx.generate(3, None).await;
    // Production clients keep about one request a second; the default settings do the same,
    // so a shop-wide limit a little above that is never hit.
    fx.control
        .aupay_set_limits(&AupayLimits {
            requests_per_second_per_shop: Some(1.2),
            ..AupayLimits::default()
        })
        .await
        .unwrap();
    let mall = fx.mall_with(
        serde_json::json!({"shopId": SHOP, "apiKey": KEY}),
        &ClientSettings::default(),
    );
    let outcome = mall.fetch_orders(&made).await.unwrap();
    assert_eq!(outcome.orders.len(), 3);
    let stats = fx.control.stats().await.unwrap();
    assert_eq!(stats.rate_limited, 0);
    assert_eq!(stats.requests_for(endpoints::SEARCH_TRADE_INFO), 3);
}

/// The orders as an import stored them (read before any test changes them on the mall).
async fn stored_orders(fx: &Fixture, ids: &[String]) -> Vec<ichigen_core::Order> {
    let mall = fx.mall();
    let fetched = mall.fetch_orders(ids).await.unwrap();
    fetched
        .orders
        .iter()
        .flat_map(|f| mall.normalise(&f.payload, now()).unwrap().orders)
        .collect()
}
