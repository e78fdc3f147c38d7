//! The Rakuten client over real HTTP against the sandbox (`tests/sandbox`).
//!
//! Each test starts its own sandbox on a free port, so tests run in parallel. Client settings
//! are short (tiny backoff, high rate) to keep the whole file fast; the 2 s timeout leaves
//! room for a loaded machine (a spurious client timeout would add a retry the tests count).

// Test helpers outside #[test] functions panic on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use ichigen_core::mall::AckOutcome;
use ichigen_core::ports::SecretValue;
use ichigen_core::{HoldKind, JstInstant, Mall, MallError, MallId, StoreRef, TimeWindow};
use ichigen_malls::{ClientSettings, MallEndpoints, RakutenMall, connect, connect_rakuten};
use ichigen_sandbox::control::{
    FaultConfig, GenerateOptions, OrderKind, RakutenLimits, RegisterStoreRequest,
};
use ichigen_sandbox::rakuten::endpoints;
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use jiff::SignedDuration;

const SHOP: &str = "998877";
const SECRET: &str = "SP998877_secret";
const KEY: &str = "SL998877_key";

fn store() -> StoreRef {
    StoreRef::new(MallId::Rakuten, "store-a")
}

fn fast_settings() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_millis(2_000),
        requests_per_second: 1000.0,
        max_attempts: 5,
        backoff_min: Duration::from_millis(1),
        backoff_max: Duration::from_millis(20),
        rate_budget: None,
    }
}

fn secret(key: &str) -> SecretValue {
    SecretValue::new(format!(
        r#"{{"serviceSecret":"{SECRET}","licenseKey":"{key}"}}"#
    ))
}

fn now() -> JstInstant {
    JstInstant::from_timestamp(jiff::Timestamp::now())
}

/// The last eight days (the generator spreads orders over the last seven by default).
fn recent_window() -> TimeWindow {
    let now = now();
    TimeWindow::new(
        now.checked_sub(SignedDuration::from_hours(24 * 8)).unwrap(),
        now.checked_add(SignedDuration::from_mins(1)).unwrap(),
    )
}

struct Fixture {
    // Kept alive for the test; dropping it stops the server.
    _sandbox: Sandbox,
    base_url: String,
    control: ControlClient,
}

impl Fixture {
    async fn start() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 7 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .rakuten_register_store(&RegisterStoreRequest::new(SHOP, SECRET, KEY))
            .await
            .unwrap();
        Self {
            base_url: sandbox.base_url(),
            _sandbox: sandbox,
            control,
        }
    }

    fn mall_with(&self, key: &str, settings: &ClientSettings) -> RakutenMall {
        let endpoints = MallEndpoints {
            rakuten: self.base_url.clone(),
            ..MallEndpoints::default()
        };
        connect_rakuten(&store(), &secret(key), &endpoints, settings).unwrap()
    }

    fn mall(&self) -> RakutenMall {
        self.mall_with(KEY, &fast_settings())
    }

    async fn generate(&self, count: usize) -> (Vec<String>, Vec<OrderKind>) {
        let options = GenerateOptions {
            count: Some(count),
            ..GenerateOptions::default()
        };
        let generated = self
            .control
            .rakuten_generate_orders(SHOP, &options)
            .await
            .unwrap();
        (generated.order_numbers, generated.kinds)
    }

    async fn requests(&self, endpoint: &str) -> u64 {
        self.control.stats().await.unwrap().requests_for(endpoint)
    }
}

fn numbers(listed: &[ichigen_core::mall::ListedOrder]) -> Vec<String> {
    listed.iter().map(|l| l.mall_order_id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_fetch_normalise_acknowledge_round_trip() {
    let fx = Fixture::start().await;
    let (generated, kinds) = fx.generate(30).await;
    // Through the factory the Lambda uses.
    let mall: Box<dyn Mall> = connect(
        &store(),
        &secret(KEY),
        &MallEndpoints {
            rakuten: fx.base_url.clone(),
            ..MallEndpoints::default()
        },
        &fast_settings(),
    )
    .unwrap();

    let listed = mall.list_orders(recent_window()).await.unwrap();
    assert_eq!(numbers(&listed), generated, "every order, oldest first");
    assert!(listed.iter().all(|l| l.payload.is_none()));

    let mut wanted = generated.clone();
    wanted.push(format!("{SHOP}-20250101-9999999999"));
    let fetched = mall.fetch_orders(&wanted).await.unwrap();
    assert_eq!(fetched.orders.len(), 30);
    assert_eq!(fetched.missing.len(), 1);
    assert_eq!(fetched.missing[0].0, wanted[30]);
    assert!(
        fetched.missing[0]
            .1
            .contains("ORDER_EXT_API_GET_ORDER_INFO_102"),
        "{:?}",
        fetched.missing
    );

    let imported_at = now();
    let mut to_confirm = Vec::new();
    for (fetched, kind) in fetched.orders.iter().zip(&kinds) {
        let order = mall
            .normalise(&fetched.payload, imported_at)
            .unwrap()
            .orders
            .remove(0);
        assert_eq!(order.mall_order_id, fetched.mall_order_id);
        if *kind == OrderKind::SocialGiftWaiting {
            // Held until the recipient enters their address; the placeholder is not used.
            assert_eq!(order.holds.len(), 1, "{:?}", order.holds);
            assert!(order.holds[0].message.contains("gift recipient's address"));
            assert!(
                order
                    .destinations
                    .iter()
                    .all(|d| d.address.street.is_empty())
            );
        } else if kind.keeps_amount_invariants() {
            let odd: Vec<_> = order
                .holds
                .iter()
                .filter(|h| h.kind != HoldKind::UnmappedTimeSlot)
                .collect();
            assert!(
                odd.is_empty(),
                "{kind:?} order {}: {odd:?}",
                order.mall_order_id
            );
        }
        if *kind == OrderKind::BadTotal {
            assert!(order.has_hold(HoldKind::TotalsMismatch), "{kind:?}");
        }
        if mall.needs_acknowledgement(&order) {
            to_confirm.push(order.mall_order_id.clone());
        }
    }
    assert_eq!(
        to_confirm.len(),
        30,
        "generated orders wait in 100 注文確認待ち"
    );

    let acks = mall.acknowledge(&stored(&to_confirm)).await.unwrap();
    assert_eq!(acks.len(), 30);
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Accepted),
        "{acks:?}"
    );
    let writes = fx.control.rakuten_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].operation, "confirmOrder");
    assert_eq!(writes[0].order_numbers, to_confirm);

    // Confirming again: the mall already moved on.
    let again = mall.acknowledge(&stored(&to_confirm[..2])).await.unwrap();
    assert!(
        again
            .iter()
            .all(|a| matches!(a.outcome, AckOutcome::NotNeeded { .. })),
        "{again:?}"
    );
    // A cancelled order does not need confirming either.
    let (cancelled, _) = fx.generate(1).await;
    fx.control
        .rakuten_set_progress(SHOP, &cancelled[0], 900)
        .await
        .unwrap();
    let acks = mall.acknowledge(&stored(&cancelled)).await.unwrap();
    assert!(
        matches!(&acks[0].outcome, AckOutcome::Cancelled { reason } if reason.contains("cancelled")),
        "{acks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_through_more_than_a_thousand_orders() {
    let fx = Fixture::start().await;
    let (generated, _) = fx.generate(2_345).await;
    let mall = fx.mall();
    let listed = numbers(&mall.list_orders(recent_window()).await.unwrap());
    assert_eq!(listed.len(), 2_345);
    assert_eq!(listed, generated);
    assert_eq!(
        fx.requests(endpoints::SEARCH_ORDER).await,
        3,
        "three pages of 1000"
    );

    // 2,345 details in batches of 100.
    let fetched = mall.fetch_orders(&listed).await.unwrap();
    assert_eq!(fetched.orders.len(), 2_345);
    assert!(fetched.missing.is_empty());
    assert_eq!(fx.requests(endpoints::GET_ORDER).await, 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_windows_that_match_more_than_the_hit_cap() {
    let fx = Fixture::start().await;
    let limits = RakutenLimits {
        search_hit_cap: 300,
        max_page_size: 100,
        ..RakutenLimits::default()
    };
    fx.control.rakuten_set_limits(&limits).await.unwrap();
    let (generated, _) = fx.generate(1_000).await;
    let mall = fx.mall().with_hit_cap(300);
    // Pages of 1000 are too big for this sandbox: that 400 is reported, not hidden.
    let err = mall.list_orders(recent_window()).await.unwrap_err();
    assert!(matches!(&err, MallError::Rejected { .. }), "{err}");
    assert!(err.to_string().contains("ERROR_015"), "{err}");

    fx.control
        .rakuten_set_limits(&RakutenLimits {
            search_hit_cap: 300,
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let listed = numbers(&mall.list_orders(recent_window()).await.unwrap());
    let unique: HashSet<_> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "no duplicates");
    assert_eq!(unique, generated.iter().collect::<HashSet<_>>());
    assert_eq!(listed, generated, "still oldest first");
    // 1000 orders with a cap of 300: at least four leaf windows plus the windows halved.
    assert!(fx.requests(endpoints::SEARCH_ORDER).await >= 4 + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splits_windows_longer_than_63_days() {
    let fx = Fixture::start().await;
    let (generated, _) = fx.generate(50).await;
    let mall = fx.mall();
    let end = now().checked_add(SignedDuration::from_mins(1)).unwrap();
    let window = TimeWindow::new(
        end.checked_sub(SignedDuration::from_hours(24 * 200))
            .unwrap(),
        end,
    );
    let listed = numbers(&mall.list_orders(window).await.unwrap());
    assert_eq!(listed, generated);
    assert_eq!(
        fx.requests(endpoints::SEARCH_ORDER).await,
        4,
        "200 days = four ≤63-day searches"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_window_is_empty() {
    let fx = Fixture::start().await;
    let listed = fx.mall().list_orders(recent_window()).await.unwrap();
    assert!(listed.is_empty());
    assert!(fx.mall().fetch_orders(&[]).await.unwrap().orders.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_license_key_is_reported_once_and_not_retried() {
    let fx = Fixture::start().await;
    fx.generate(5).await;
    fx.control.rakuten_expire_key(SHOP).await.unwrap();
    let mall = fx.mall();
    let err = mall.list_orders(recent_window()).await.unwrap_err();
    let MallError::CredentialRejected {
        store: s,
        operation,
        credential,
        detail,
    } = &err
    else {
        panic!("expected CredentialRejected, got {err}");
    };
    assert_eq!(s, &store());
    assert_eq!(operation, "searchOrder");
    assert_eq!(credential, "licenseKey");
    assert!(
        detail.contains("90 days") && detail.contains("RMS"),
        "{detail}"
    );
    assert!(detail.contains("ES01-01"), "{detail}");
    let text = err.to_string();
    assert!(
        text.contains("rakuten:store-a") && text.contains("licenseKey"),
        "{text}"
    );
    assert!(!text.contains(KEY) && !text.contains(SECRET), "{text}");
    assert!(!err.is_retryable());
    assert_eq!(
        fx.requests(endpoints::SEARCH_ORDER).await,
        1,
        "401 is never retried"
    );

    // A key the mall never issued: the same.
    let wrong = fx.mall_with("SL-not-issued", &fast_settings());
    let err = wrong.fetch_orders(&["x".to_owned()]).await.unwrap_err();
    assert!(matches!(err, MallError::CredentialRejected { .. }), "{err}");
    assert_eq!(fx.requests(endpoints::GET_ORDER).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_twenty_percent_faults_with_bounded_requests() {
    let fx = Fixture::start().await;
    let (generated, kinds) = fx.generate(1_000).await;
    // Unpaid bank-transfer and konbini orders also cost one getPayment call each.
    let prepaid = kinds
        .iter()
        .filter(|k| matches!(k, OrderKind::BankTransfer | OrderKind::KonbiniUnpaid))
        .count() as u64;
    assert!(prepaid > 0);
    let faults = FaultConfig {
        error5xx_rate: 0.08,
        rate429_rate: 0.06,
        timeout_rate: 0.06,
        timeout_ms: 2_500,
        seed: Some(11),
        ..FaultConfig::default()
    };
    fx.control.set_faults(&faults).await.unwrap();
    let settings = ClientSettings {
        max_attempts: 8,
        ..fast_settings()
    };
    let mall = fx.mall_with(KEY, &settings);

    let listed = numbers(&mall.list_orders(recent_window()).await.unwrap());
    assert_eq!(listed, generated);
    let fetched = mall.fetch_orders(&listed).await.unwrap();
    assert_eq!(fetched.orders.len(), 1_000);
    assert!(fetched.missing.is_empty());
    let acks = mall.acknowledge(&stored(&listed)).await.unwrap();
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Accepted),
        "{acks:?}"
    );

    let stats = fx.control.stats().await.unwrap();
    let total: u64 = stats.requests.values().sum();
    let injected: u64 = stats.injected.values().sum();
    // 1 search + 10 getOrder + 10 confirmOrder + one getPayment per prepayment order, each
    // at most `max_attempts` times.
    for kind in ["5xx", "429", "timeout"] {
        assert!(
            stats.injected_for(kind) > 0,
            "{kind} faults were injected: {stats:?}"
        );
    }
    assert!(stats.requests_for(endpoints::GET_PAYMENT) >= prepaid);
    assert!(total <= (21 + prepaid) * 8, "bounded: {stats:?}");
    assert_eq!(
        total,
        21 + prepaid + injected,
        "one retry per injected fault, no more: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_max_attempts_as_unavailable() {
    let fx = Fixture::start().await;
    let faults = FaultConfig {
        error5xx_rate: 1.0,
        ..FaultConfig::default()
    };
    fx.control.set_faults(&faults).await.unwrap();
    let settings = ClientSettings {
        max_attempts: 3,
        ..fast_settings()
    };
    let err = fx
        .mall_with(KEY, &settings)
        .list_orders(recent_window())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MallError::Unavailable { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.is_retryable());
    assert!(err.to_string().contains("rakuten:store-a") && err.to_string().contains("searchOrder"));
    assert_eq!(fx.requests(endpoints::SEARCH_ORDER).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_is_rejected_with_its_message_codes() {
    let fx = Fixture::start().await;
    let mall = fx.mall();
    // Rakuten only searches the last 730 days.
    let end = now()
        .checked_sub(SignedDuration::from_hours(24 * 800))
        .unwrap();
    let window = TimeWindow::new(
        end.checked_sub(SignedDuration::from_hours(24)).unwrap(),
        end,
    );
    let err = mall.list_orders(window).await.unwrap_err();
    let MallError::Rejected {
        store: s,
        operation,
        detail,
    } = &err
    else {
        panic!("expected Rejected, got {err}");
    };
    assert_eq!((s, operation.as_str()), (&store(), "searchOrder"));
    assert!(
        detail.contains("HTTP 400") && detail.contains("ORDER_EXT_API_SEARCH_ORDER_ERROR_014"),
        "{detail}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        fx.requests(endpoints::SEARCH_ORDER).await,
        1,
        "400 is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_the_license_key_expiry() {
    let fx = Fixture::start().await;
    let mut request = RegisterStoreRequest::new(SHOP, SECRET, KEY);
    request.license_expires_at = Some("2027-02-20T23:59:59".into());
    fx.control.rakuten_register_store(&request).await.unwrap();
    let expiry = fx.mall().license_key_expiry().await.unwrap();
    assert_eq!(expiry.to_string(), "2027-02-20T23:59:59+09:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_to_the_store_rate_limit() {
    // The sandbox allows a burst of 50 and 50/s after that; 80 unthrottled calls would
    // draw 429s. The client's own bucket spaces them 20 ms apart instead.
    let fx = Fixture::start().await;
    let limits = RakutenLimits {
        requests_per_second: Some(50.0),
        ..RakutenLimits::default()
    };
    fx.control.rakuten_set_limits(&limits).await.unwrap();
    let (generated, _) = fx.generate(1).await;
    let settings = ClientSettings {
        requests_per_second: 50.0,
        max_attempts: 1,
        ..fast_settings()
    };
    let mall = fx.mall_with(KEY, &settings);
    let started = std::time::Instant::now();
    for _ in 0..80 {
        mall.fetch_orders(&generated).await.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "80 calls at 50/s take ≥ 1.58 s"
    );
    assert_eq!(fx.control.stats().await.unwrap().rate_limited, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_malformed_order_does_not_fail_the_batch() {
    use ichigen_sandbox::control::InsertOrderRequest;
    let fx = Fixture::start().await;
    let (mut generated, _) = fx.generate(3).await;
    let at = now().checked_sub(SignedDuration::from_mins(1)).unwrap();
    let odd_number = format!("{SHOP}-20261101-0000000777");
    let mut insert = InsertOrderRequest::new(serde_json::json!({
        "orderNumber": odd_number,
        "orderDatetime": "garbage",
        "orderProgress": "100",
        "PackageModelList": "nope",
        "goodsPrice": "a lot",
    }));
    insert.order_datetime = Some(format!("{}+0900", at.civil().strftime("%Y-%m-%dT%H:%M:%S")));
    fx.control
        .rakuten_insert_order(SHOP, &insert)
        .await
        .unwrap();
    generated.push(odd_number.clone());

    let mall = fx.mall();
    let listed = numbers(&mall.list_orders(recent_window()).await.unwrap());
    assert_eq!(listed, generated);
    let fetched = mall.fetch_orders(&listed).await.unwrap();
    assert_eq!(fetched.orders.len(), 4);
    for fetched in &fetched.orders {
        let order = mall
            .normalise(&fetched.payload, now())
            .unwrap()
            .orders
            .remove(0);
        if order.mall_order_id == odd_number {
            let fields: Vec<_> = order
                .holds
                .iter()
                .filter_map(|h| h.field.as_deref())
                .collect();
            for field in ["orderDatetime", "PackageModelList", "goodsPrice"] {
                assert!(fields.contains(&field), "{field} in {fields:?}");
            }
            // The audit copy is exactly what the mall sent.
            let raw: serde_json::Value = serde_json::from_str(&order.raw.body).unwrap();
            assert_eq!(raw, insert.order);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_listing_is_incomplete_never_a_shorter_list() {
    let fx = Fixture::start().await;
    fx.generate(1_234).await;
    let mall = fx.mall();
    for dropped in [1, 2] {
        fx.control
            .rakuten_set_limits(&RakutenLimits {
                drop_search_page: Some(dropped),
                ..RakutenLimits::default()
            })
            .await
            .unwrap();
        let err = mall.list_orders(recent_window()).await.unwrap_err();
        assert!(matches!(&err, MallError::Incomplete { .. }), "{err}");
        assert!(err.is_retryable());
        let text = err.to_string();
        assert!(
            text.contains("store-a") && text.contains("searchOrder"),
            "{text}"
        );
        assert!(
            text.contains(&recent_window().start.to_string()[..10]),
            "{text}"
        );
        let expected = if dropped == 1 {
            "page 1 of 2 listed 0 orders; expected 1000"
        } else {
            "reported 1234 orders (totalRecordsAmount) but its pages listed 1000"
        };
        assert!(text.contains(expected), "{text}");
    }
    fx.control
        .rakuten_set_limits(&RakutenLimits::default())
        .await
        .unwrap();
    assert_eq!(
        mall.list_orders(recent_window()).await.unwrap().len(),
        1_234
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_at_exactly_the_hit_cap_is_split() {
    let fx = Fixture::start().await;
    fx.control
        .rakuten_set_limits(&RakutenLimits {
            search_hit_cap: 40,
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let (generated, _) = fx.generate(40).await;
    let mall = fx.mall().with_hit_cap(40);
    let listed = numbers(&mall.list_orders(recent_window()).await.unwrap());
    assert_eq!(listed, generated);
    assert!(
        fx.requests(endpoints::SEARCH_ORDER).await >= 3,
        "a total equal to the cap may itself be capped: the window is halved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_confirm_reply_is_retried_and_ends_not_needed() {
    let fx = Fixture::start().await;
    let (generated, _) = fx.generate(3).await;
    fx.control
        .lose_replies(endpoints::CONFIRM_ORDER, 1)
        .await
        .unwrap();
    let acks = fx.mall().acknowledge(&stored(&generated)).await.unwrap();
    assert_eq!(acks.len(), 3);
    for ack in &acks {
        assert!(
            matches!(&ack.outcome, AckOutcome::NotNeeded { reason } if reason.contains("ERROR_103")),
            "{ack:?}"
        );
    }
    assert_eq!(fx.requests(endpoints::CONFIRM_ORDER).await, 2, "one retry");
    let writes = fx.control.rakuten_writes().await.unwrap();
    assert_eq!(
        writes.len(),
        1,
        "applied once, by the call whose reply was lost"
    );
    assert_eq!(writes[0].order_numbers, generated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_refused_mid_run_is_a_credential_error_naming_the_license_key() {
    let fx = Fixture::start().await;
    let (generated, _) = fx.generate(2).await;
    let mall = fx.mall();
    assert_eq!(mall.list_orders(recent_window()).await.unwrap().len(), 2);
    fx.control
        .rakuten_reject_operation(SHOP, "confirmOrder")
        .await
        .unwrap();
    let err = mall.acknowledge(&stored(&generated)).await.unwrap_err();
    assert!(err.is_credential(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("licenseKey") && text.contains("ES01-01") && text.contains("store-a"),
        "{text}"
    );
    assert_eq!(
        fx.requests(endpoints::CONFIRM_ORDER).await,
        1,
        "never retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_kind_imports_with_the_right_totals() {
    let fx = Fixture::start().await;
    let options = GenerateOptions {
        kinds: Some(OrderKind::ALL.to_vec()),
        count: Some(OrderKind::ALL.len() * 3),
        ..GenerateOptions::default()
    };
    let generated = fx
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap();
    let mall = fx.mall();
    let fetched = mall.fetch_orders(&generated.order_numbers).await.unwrap();
    assert_eq!(fetched.orders.len(), generated.order_numbers.len());
    let mut waiting = Vec::new();
    for (fetched, kind) in fetched.orders.iter().zip(&generated.kinds) {
        let order = mall
            .normalise(&fetched.payload, now())
            .unwrap()
            .orders
            .remove(0);
        let kinds: Vec<HoldKind> = order.holds.iter().map(|h| h.kind).collect();
        match kind {
            OrderKind::BadTotal => assert!(kinds.contains(&HoldKind::TotalsMismatch)),
            OrderKind::UnfixedPostage => assert!(kinds.contains(&HoldKind::AmountNotFixed)),
            OrderKind::DesiredDelivery => {
                assert!(
                    kinds.iter().all(|k| *k == HoldKind::UnmappedTimeSlot),
                    "{kinds:?}"
                );
            }
            OrderKind::SocialGiftWaiting => {
                assert_eq!(order.holds.len(), 1, "{:?}", order.holds);
                waiting.push(order.mall_order_id.clone());
            }
            _ => assert!(order.holds.is_empty(), "{kind:?}: {:?}", order.holds),
        }
        if kind.keeps_amount_invariants() {
            let a = &order.amounts;
            assert_eq!(a.total, a.expected_total(), "{kind:?} {a:?}");
            assert_eq!(a.billed, a.expected_billed(), "{kind:?} {a:?}");
            assert_eq!(
                order.lines().map(|l| l.line_total()).sum::<i64>(),
                a.goods,
                "{kind:?}"
            );
        }
    }
    assert_eq!(waiting.len(), 3);

    // The recipients fill in their addresses: the next read has no hold and a destination.
    for number in &waiting {
        fx.control
            .rakuten_fill_social_gift(SHOP, number)
            .await
            .unwrap();
    }
    let again = mall.fetch_orders(&waiting).await.unwrap();
    for fetched in &again.orders {
        let order = mall
            .normalise(&fetched.payload, now())
            .unwrap()
            .orders
            .remove(0);
        assert!(order.holds.is_empty(), "{:?}", order.holds);
        assert!(!order.destinations[0].address.street.is_empty());
        assert!(!order.destinations[0].recipient_name.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_api_not_enabled_in_rms_says_so_and_is_not_retried() {
    let fx = Fixture::start().await;
    fx.generate(2).await;
    fx.control
        .rakuten_set_order_api_enabled(SHOP, false)
        .await
        .unwrap();
    let err = fx.mall().list_orders(recent_window()).await.unwrap_err();
    assert!(err.is_credential(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("ES04-01") && text.contains("楽天ペイ受注API") && text.contains("licenseKey"),
        "{text}"
    );
    assert_eq!(
        fx.requests(endpoints::SEARCH_ORDER).await,
        1,
        "never retried"
    );
    fx.control
        .rakuten_set_order_api_enabled(SHOP, true)
        .await
        .unwrap();
    assert_eq!(
        fx.mall().list_orders(recent_window()).await.unwrap().len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_the_mall_cannot_return_are_missing_with_its_message() {
    use ichigen_sandbox::control::OrderFault;
    let fx = Fixture::start().await;
    let (generated, _) = fx.generate(4).await;
    fx.control
        .rakuten_set_order_fault(SHOP, &generated[1], OrderFault::OmittedFromGetOrder)
        .await
        .unwrap();
    fx.control
        .rakuten_set_order_fault(SHOP, &generated[2], OrderFault::UnreadableInGetOrder)
        .await
        .unwrap();
    fx.control
        .rakuten_set_order_fault(SHOP, &generated[3], OrderFault::HiddenFromSearch)
        .await
        .unwrap();
    let mall = fx.mall();
    let listed = numbers(&mall.list_orders(recent_window()).await.unwrap());
    assert_eq!(
        listed,
        generated[..3].to_vec(),
        "the hidden one is not listed"
    );

    let fetched = mall.fetch_orders(&generated).await.unwrap();
    let returned: Vec<_> = fetched
        .orders
        .iter()
        .map(|o| o.mall_order_id.clone())
        .collect();
    assert_eq!(returned, vec![generated[0].clone(), generated[3].clone()]);
    let missing: Vec<_> = fetched.missing.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(missing, vec![generated[1].clone(), generated[2].clone()]);
    assert!(
        fetched.missing[0]
            .1
            .contains("ORDER_EXT_API_GET_ORDER_INFO_102"),
        "{:?}",
        fetched.missing
    );
    assert!(
        fetched.missing[1].1.contains("no readable orderNumber"),
        "{:?}",
        fetched.missing
    );
}

// -- getPayment and lines cancelled on the mall ----------------------------------------------

async fn generate_kinds(fx: &Fixture, kinds: Vec<OrderKind>, count: usize) -> Vec<String> {
    let options = GenerateOptions {
        count: Some(count),
        kinds: Some(kinds),
        ..GenerateOptions::default()
    };
    fx.control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers
}

fn rakuten_text(at: JstInstant) -> String {
    format!("{}+0900", at.civil().strftime("%Y-%m-%dT%H:%M:%S"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepayment_order_stays_unpaid_until_the_buyer_pays_and_only_it_costs_get_payment() {
    let fx = Fixture::start().await;
    let numbers = generate_kinds(
        &fx,
        vec![
            OrderKind::BankTransfer,
            OrderKind::KonbiniUnpaid,
            OrderKind::Plain,
            OrderKind::Cod,
        ],
        4,
    )
    .await;
    let mall = fx.mall();

    let fetched = mall.fetch_orders(&numbers).await.unwrap();
    assert_eq!(fetched.orders.len(), 4);
    assert_eq!(
        fx.requests(endpoints::GET_PAYMENT).await,
        2,
        "only the bank transfer and the konbini order are asked about"
    );
    let at = now();
    for (i, order) in fetched.orders.iter().enumerate() {
        let normalised = mall.normalise(&order.payload, at).unwrap().orders.remove(0);
        assert_eq!(normalised.payment.paid_at, None, "{i}");
        let kept: serde_json::Value = serde_json::from_str(&order.payload.body).unwrap();
        assert_eq!(kept.get("ichigenGetPayment").is_some(), i < 2, "{i}");
        if i < 2 {
            assert!(normalised.payment.awaits_payment(), "{i}");
            assert_eq!(
                kept["ichigenGetPayment"]["PaymentModelList"][0]["paymentStatus"],
                30500
            );
        }
    }

    // The buyer pays the bank transfer.
    let paid_at = now().checked_sub(SignedDuration::from_mins(5)).unwrap();
    fx.control
        .rakuten_pay(SHOP, &numbers[0], Some(&rakuten_text(paid_at)))
        .await
        .unwrap();
    let again = mall.fetch_orders(&numbers[..2]).await.unwrap();
    let paid = mall
        .normalise(&again.orders[0].payload, now())
        .unwrap()
        .orders
        .remove(0);
    assert_eq!(
        paid.payment.paid_at,
        Some(rakuten_text(paid_at).parse().unwrap()),
        "paid when the buyer paid (paymentFixDatetime), not when ichigen asked"
    );
    assert!(!paid.payment.awaits_payment());
    let unpaid = mall
        .normalise(&again.orders[1].payload, now())
        .unwrap()
        .orders
        .remove(0);
    assert!(
        unpaid.payment.awaits_payment(),
        "the konbini order is not paid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_or_cancelled_prepayment_orders_are_not_asked_about() {
    let fx = Fixture::start().await;
    let numbers = generate_kinds(&fx, vec![OrderKind::BankTransfer], 3).await;
    fx.control
        .rakuten_set_progress(SHOP, &numbers[0], 500)
        .await
        .unwrap();
    fx.control
        .rakuten_set_progress(SHOP, &numbers[1], 900)
        .await
        .unwrap();
    fx.control
        .rakuten_set_progress(SHOP, &numbers[2], 800)
        .await
        .unwrap();
    let fetched = fx.mall().fetch_orders(&numbers).await.unwrap();
    assert_eq!(fetched.orders.len(), 3);
    assert_eq!(fx.requests(endpoints::GET_PAYMENT).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_payment_failure_leaves_the_order_unpaid_and_the_batch_whole() {
    let fx = Fixture::start().await;
    let numbers = generate_kinds(&fx, vec![OrderKind::KonbiniUnpaid, OrderKind::Plain], 4).await;
    fx.control
        .rakuten_pay(SHOP, &numbers[0], None)
        .await
        .unwrap();
    fx.control
        .rakuten_reject_operation(SHOP, "getPayment")
        .await
        .unwrap();
    let mall = fx.mall();
    let fetched = mall.fetch_orders(&numbers).await.unwrap();
    assert_eq!(fetched.orders.len(), 4, "every order still fetched");
    assert!(fetched.missing.is_empty());
    let paid_on_mall = mall
        .normalise(&fetched.orders[0].payload, now())
        .unwrap()
        .orders
        .remove(0);
    assert!(
        paid_on_mall.payment.awaits_payment(),
        "without getPayment's answer the order is not taken as paid"
    );
    assert!(!fetched.orders[0].payload.body.contains("ichigenGetPayment"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_cancelled_on_the_mall_leaves_the_order_with_totals_that_still_add_up() {
    let fx = Fixture::start().await;
    let numbers = generate_kinds(&fx, vec![OrderKind::Plain], 30).await;
    let mut chosen = None;
    for number in &numbers {
        let order = fx.control.rakuten_order(SHOP, number).await.unwrap();
        let items = order["PackageModelList"][0]["ItemModelList"]
            .as_array()
            .unwrap()
            .clone();
        if items.len() >= 2 {
            chosen = Some((number.clone(), order, items));
            break;
        }
    }
    let (number, before, items) = chosen.expect("a generated order with two lines or more");
    let gone = items[1]["itemDetailId"].as_i64().unwrap();
    let after = fx
        .control
        .rakuten_cancel_line(SHOP, &number, gone)
        .await
        .unwrap();
    ichigen_sandbox::rakuten::generator::check_amount_invariants(&after).unwrap();
    let change = &after["ChangeReasonModelList"][0];
    assert_eq!(change["changeType"], 6);
    assert_eq!(change["changeTypeDetail"], 0);
    let units = items[1]["units"].as_i64().unwrap();
    let price = items[1]["price"].as_i64().unwrap();
    assert_eq!(
        after["goodsPrice"].as_i64().unwrap(),
        before["goodsPrice"].as_i64().unwrap() - price * units
    );

    let mall = fx.mall();
    let fetched = mall
        .fetch_orders(std::slice::from_ref(&number))
        .await
        .unwrap();
    let order = mall
        .normalise(&fetched.orders[0].payload, now())
        .unwrap()
        .orders
        .remove(0);
    let odd: Vec<_> = order
        .holds
        .iter()
        .filter(|h| h.kind != HoldKind::UnmappedTimeSlot)
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    assert_eq!(order.lines().count(), items.len() - 1);
    assert!(order.lines().all(|l| l.mall_line_id != gone.to_string()));

    // The last line of a package cannot go this way.
    let single = &numbers[0];
    let order = fx.control.rakuten_order(SHOP, single).await.unwrap();
    if order["PackageModelList"][0]["ItemModelList"]
        .as_array()
        .unwrap()
        .len()
        == 1
    {
        let id = order["PackageModelList"][0]["ItemModelList"][0]["itemDetailId"]
            .as_i64()
            .unwrap();
        assert!(
            fx.control
                .rakuten_cancel_line(SHOP, single, id)
                .await
                .is_err()
        );
    }
}

/// Orders as an import stored them, by number: all this mall's acknowledgement needs.
fn stored(numbers: &[String]) -> Vec<ichigen_core::Order> {
    ichigen_core::testing::numbered_orders(&store().to_string(), numbers)
}
