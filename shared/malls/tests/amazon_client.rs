//! The Amazon client over real HTTP against the sandbox (`tests/sandbox`): LWA, paging by
//! update time, restricted data, rates with bursts, credential errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ichigen_core::mall::ListedOrder;
use ichigen_core::order::RawPayload;
use ichigen_core::ports::SecretValue;
use ichigen_core::{JstInstant, Mall, MallError, MallId, StoreRef, TimeWindow};
use ichigen_malls::{AmazonEndpoints, AmazonMall, ClientSettings, MallEndpoints, connect_amazon};
use ichigen_sandbox::amazon::endpoints;
use ichigen_sandbox::control::{
    AmazonGenerateOptions, AmazonLimits, AmazonOrderKind, AmazonRegisterSellerRequest, FaultConfig,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use jiff::SignedDuration;
use serde_json::Value;

const SELLER: &str = "A2ICHIGENTEST";
const CLIENT_ID: &str = "amzn1.application-oa2-client.ichigen";
const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.ichigen-secret";
const REFRESH: &str = "Atzr|IwEBIichigen-refresh";

fn store() -> StoreRef {
    StoreRef::new(MallId::Amazon, "amazon-a")
}

fn fast_settings() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_millis(2000),
        requests_per_second: 1000.0,
        max_attempts: 8,
        backoff_min: Duration::from_millis(1),
        backoff_max: Duration::from_millis(20),
        rate_budget: None,
    }
}

fn now() -> JstInstant {
    JstInstant::from_timestamp(jiff::Timestamp::now())
}

fn last_day() -> TimeWindow {
    let now = now();
    TimeWindow::new(
        now.checked_sub(SignedDuration::from_hours(24)).unwrap(),
        now,
    )
}

struct Fixture {
    _sandbox: Sandbox,
    base_url: String,
    control: ControlClient,
}

impl Fixture {
    /// A sandbox with one seller; `rate_scale` speeds up Amazon's documented rates.
    async fn new(rate_scale: f64) -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 11 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .amazon_register_seller(&AmazonRegisterSellerRequest {
                seller_id: SELLER.into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                refresh_token: REFRESH.into(),
            })
            .await
            .unwrap();
        control
            .amazon_set_limits(&AmazonLimits {
                rate_scale,
                ..AmazonLimits::default()
            })
            .await
            .unwrap();
        Self {
            base_url: sandbox.base_url(),
            _sandbox: sandbox,
            control,
        }
    }

    fn mall_with_secret(&self, client_secret: &str) -> AmazonMall {
        let secret = serde_json::json!({
            "clientId": CLIENT_ID,
            "clientSecret": client_secret,
            "refreshToken": REFRESH,
        });
        connect_amazon(
            &store(),
            &SecretValue::new(secret.to_string()),
            &MallEndpoints {
                amazon: AmazonEndpoints::at(&self.base_url),
                ..MallEndpoints::default()
            },
            &fast_settings(),
        )
        .unwrap()
    }

    fn mall(&self) -> AmazonMall {
        self.mall_with_secret(CLIENT_SECRET)
    }

    async fn generate(&self, count: u32, kinds: Vec<AmazonOrderKind>) -> Vec<String> {
        self.control
            .amazon_generate_orders(
                SELLER,
                &AmazonGenerateOptions {
                    count,
                    kinds,
                    ..AmazonGenerateOptions::default()
                },
            )
            .await
            .unwrap()
            .order_ids
    }
}

fn statuses(listed: &[ListedOrder]) -> Vec<&str> {
    listed
        .iter()
        .filter_map(|l| l.mall_status.as_deref())
        .collect()
}

#[tokio::test]
async fn lists_250_orders_by_update_time_over_three_pages() {
    let fx = Fixture::new(1000.0).await;
    fx.generate(
        250,
        vec![AmazonOrderKind::Standard, AmazonOrderKind::Pending],
    )
    .await;
    let mall = fx.mall();
    let listed = mall.list_orders(last_day()).await.unwrap();
    assert_eq!(listed.len(), 250);
    let statuses = statuses(&listed);
    assert_eq!(statuses.len(), 250, "every listed order carries its status");
    assert_eq!(statuses.iter().filter(|s| **s == "Pending").count(), 125);
    let stats = fx.control.stats().await.unwrap();
    assert_eq!(stats.requests_for(endpoints::GET_ORDERS), 3);
    let seller = fx.control.amazon_seller(SELLER).await.unwrap();
    assert_eq!(seller.rejected_list_requests, 0);
    assert!(seller.closest_before_gap_secs.unwrap() >= 120);
}

#[tokio::test]
async fn fetches_items_pages_and_personal_data_under_a_restricted_data_token() {
    let fx = Fixture::new(1000.0).await;
    let mut ids = fx
        .generate(
            3,
            vec![
                AmazonOrderKind::ManyLines,
                AmazonOrderKind::Cod,
                AmazonOrderKind::Pending,
            ],
        )
        .await;
    ids.push("503-0000000-0000000".into());
    let mall = fx.mall();
    let outcome = mall.fetch_orders(&ids).await.unwrap();
    assert_eq!(outcome.orders.len(), 3);
    assert_eq!(outcome.missing.len(), 1);
    assert_eq!(outcome.missing[0].0, "503-0000000-0000000");
    let payload: Value = serde_json::from_str(&outcome.orders[0].payload.body).unwrap();
    assert_eq!(
        payload["orderItems"].as_array().unwrap().len(),
        12,
        "items over 3 pages"
    );

    let at = now();
    let orders: Vec<_> = outcome
        .orders
        .iter()
        .map(|o| mall.normalise(&o.payload, at).unwrap().orders.remove(0))
        .collect();
    assert!(orders[0].holds.is_empty(), "{:?}", orders[0].holds);
    assert!(!orders[0].destinations[0].recipient_name.is_empty());
    assert!(!orders[1].buyer.name.is_empty());
    assert_eq!(orders[2].status, ichigen_core::OrderStatus::AwaitingPayment);

    // One RDT for the batch; every disclosure of personal data was under it.
    let seller = fx.control.amazon_seller(SELLER).await.unwrap();
    assert_eq!(seller.restricted_data_tokens_issued, 1);
    let log = fx.control.amazon_pii_log().await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d.under_restricted_data_token));
}

#[tokio::test]
async fn a_revoked_refresh_token_fails_fast_naming_it() {
    let fx = Fixture::new(1000.0).await;
    fx.control
        .amazon_revoke_refresh_token(SELLER)
        .await
        .unwrap();
    let error = fx.mall().list_orders(last_day()).await.unwrap_err();
    match &error {
        MallError::CredentialRejected {
            credential, detail, ..
        } => {
            assert!(credential.contains("refreshToken"), "{credential}");
            assert!(detail.contains("invalid_grant"), "{detail}");
        }
        other => panic!("expected a credential error, got {other}"),
    }
    assert!(!error.is_retryable());
    assert!(!error.to_string().contains(REFRESH));
    let stats = fx.control.stats().await.unwrap();
    assert_eq!(stats.requests_for(endpoints::TOKEN), 1, "never retried");
    assert_eq!(stats.requests_for(endpoints::GET_ORDERS), 0);
}

#[tokio::test]
async fn a_wrong_client_secret_names_the_client() {
    let fx = Fixture::new(1000.0).await;
    let error = fx
        .mall_with_secret("rotated")
        .list_orders(last_day())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MallError::CredentialRejected { credential, .. } if credential.contains("clientId/clientSecret")),
        "{error}"
    );
}

#[tokio::test]
async fn the_access_token_is_cached_and_renewed_once_when_refused() {
    let fx = Fixture::new(1000.0).await;
    fx.generate(5, vec![]).await;
    let mall = fx.mall();
    mall.list_orders(last_day()).await.unwrap();
    mall.list_orders(last_day()).await.unwrap();
    assert_eq!(
        fx.control
            .stats()
            .await
            .unwrap()
            .requests_for(endpoints::TOKEN),
        1
    );
    fx.control.amazon_expire_tokens(SELLER).await.unwrap();
    assert_eq!(mall.list_orders(last_day()).await.unwrap().len(), 5);
    assert_eq!(
        fx.control
            .stats()
            .await
            .unwrap()
            .requests_for(endpoints::TOKEN),
        2
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let fx = Fixture::new(1000.0).await;
    let ids = fx.generate(20, vec![]).await;
    fx.control
        .set_faults(&FaultConfig {
            rate429_rate: 0.2,
            error5xx_rate: 0.1,
            seed: Some(3),
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let mall = fx.mall();
    assert_eq!(mall.list_orders(last_day()).await.unwrap().len(), 20);
    let outcome = mall.fetch_orders(&ids[..10]).await.unwrap();
    assert_eq!(outcome.orders.len(), 10);
    let stats = fx.control.stats().await.unwrap();
    assert!(stats.injected_for("429") > 0 && stats.injected_for("5xx") > 0);
}

/// Amazon's real usage plan: 30 getOrder/getOrderItems calls at once, then one every 2 s.
/// Counted, not timed: the sandbox refuses any call beyond the bucket, and refused none.
#[tokio::test]
async fn a_burst_of_thirty_then_the_documented_pace() {
    let fx = Fixture::new(1.0).await;
    let ids = fx.generate(32, vec![AmazonOrderKind::Standard]).await;
    let outcome = fx.mall().fetch_orders(&ids).await.unwrap();
    assert_eq!(outcome.orders.len(), 32);
    let seller = fx.control.amazon_seller(SELLER).await.unwrap();
    assert!(seller.throttled.is_empty(), "{:?}", seller.throttled);
    assert_eq!(seller.admitted["getOrderItems"], 32);
    assert_eq!(seller.admitted["getOrder"], 32);
    // Two resources an order (the order, its items) and at most 50 a token: 25 + 7 orders.
    assert_eq!(seller.admitted["createRestrictedDataToken"], 2);
}

#[tokio::test]
async fn a_payload_that_is_not_json_is_a_normalise_error() {
    let fx = Fixture::new(1000.0).await;
    let error = fx
        .mall()
        .normalise(
            &RawPayload {
                content_type: "application/json".into(),
                body: "<html>".into(),
            },
            now(),
        )
        .unwrap_err();
    assert_eq!(error.field, "(payload)");
}
