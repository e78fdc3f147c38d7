//! The Yahoo client over real HTTP against the sandbox (`tests/sandbox`).
//!
//! Each test starts its own sandbox on a free port. The test generates an RSA key pair: the
//! sandbox gets the private half (it decrypts every `X-sws-signature`), the client's secret
//! the public half, as a store's would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;
use std::time::Duration;

use ichigen_core::mall::{AckOutcome, ListedOrder};
use ichigen_core::ports::SecretValue;
use ichigen_core::{HoldKind, JstInstant, Mall, MallError, MallId, StoreRef, TimeWindow};
use ichigen_malls::{ClientSettings, MallEndpoints, YahooEndpoints, YahooMall, connect_yahoo};
use ichigen_sandbox::control::{
    FaultConfig, YahooGenerateOptions, YahooLimits, YahooOrderKind, YahooRegisterStoreRequest,
};
use ichigen_sandbox::yahoo::endpoints;
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use jiff::SignedDuration;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{RsaPrivateKey, RsaPublicKey};

const SELLER: &str = "snbx-ichigen";
const CLIENT_ID: &str = "dj00ichigen-test";
const CLIENT_SECRET: &str = "cs-ichigen-test";
const REFRESH: &str = "rt-ichigen-test";

fn store() -> StoreRef {
    StoreRef::new(MallId::Yahoo, "yahoo-a")
}

/// Two key pairs, made once: 1024 bits keeps debug-build key generation quick.
fn keys() -> &'static [RsaPrivateKey; 2] {
    static KEYS: OnceLock<[RsaPrivateKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            RsaPrivateKey::new(&mut OsRng, 1024).unwrap(),
            RsaPrivateKey::new(&mut OsRng, 1024).unwrap(),
        ]
    })
}

fn public_pem(key: &RsaPrivateKey) -> String {
    RsaPublicKey::from(key)
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
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

fn recent_window() -> TimeWindow {
    let now = now();
    TimeWindow::new(
        now.checked_sub(SignedDuration::from_hours(24 * 8)).unwrap(),
        now.checked_add(SignedDuration::from_mins(1)).unwrap(),
    )
}

fn ids(listed: &[ListedOrder]) -> Vec<String> {
    listed.iter().map(|l| l.mall_order_id.clone()).collect()
}

struct Fixture {
    _sandbox: Sandbox,
    base_url: String,
    control: ControlClient,
}

impl Fixture {
    async fn start() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 11 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .yahoo_register_store(&YahooRegisterStoreRequest {
                seller_id: SELLER.into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                refresh_token: REFRESH.into(),
                private_key_pem: keys()[0].to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
                key_version: 1,
            })
            .await
            .unwrap();
        control
            .yahoo_set_limits(&YahooLimits {
                requests_per_second_per_url: None,
                ..YahooLimits::default()
            })
            .await
            .unwrap();
        Self {
            base_url: sandbox.base_url(),
            _sandbox: sandbox,
            control,
        }
    }

    fn secret(&self, key: &RsaPrivateKey, extra: serde_json::Value) -> SecretValue {
        let mut secret = serde_json::json!({
            "sellerId": SELLER,
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "refreshToken": REFRESH,
            "publicKey": public_pem(key),
            "publicKeyVersion": 1,
        });
        if let serde_json::Value::Object(extra) = extra {
            for (k, v) in extra {
                secret[k] = v;
            }
        }
        SecretValue::new(secret.to_string())
    }

    fn mall_with(&self, secret: SecretValue, settings: &ClientSettings) -> YahooMall {
        let endpoints = MallEndpoints {
            yahoo: YahooEndpoints::at(&self.base_url),
            ..MallEndpoints::default()
        };
        connect_yahoo(&store(), &secret, &endpoints, settings).unwrap()
    }

    fn mall(&self) -> YahooMall {
        self.mall_with(
            self.secret(&keys()[0], serde_json::json!({})),
            &fast_settings(),
        )
    }

    async fn generate(&self, options: YahooGenerateOptions) -> (Vec<String>, Vec<YahooOrderKind>) {
        let made = self
            .control
            .yahoo_generate_orders(SELLER, &options)
            .await
            .unwrap();
        (made.order_ids, made.kinds)
    }

    async fn count(&self, count: usize) -> Vec<String> {
        self.generate(YahooGenerateOptions {
            count: Some(count),
            ..Default::default()
        })
        .await
        .0
    }

    async fn requests(&self, endpoint: &str) -> u64 {
        self.control.stats().await.unwrap().requests_for(endpoint)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_fetch_normalise_acknowledge_round_trip() {
    let fx = Fixture::start().await;
    let (made, kinds) = fx
        .generate(YahooGenerateOptions {
            count: Some(24),
            ..Default::default()
        })
        .await;
    // Pages of 5 cross several page boundaries.
    let mall = fx.mall().with_page_size(5);
    let listed = mall.list_orders(recent_window()).await.unwrap();
    assert_eq!(ids(&listed), made, "every order once, in order time order");
    assert_eq!(fx.requests(endpoints::ORDER_LIST).await, 5);

    let mut fetched = Vec::new();
    for batch in made.chunks(mall.capabilities().detail_batch_size) {
        let outcome = mall.fetch_orders(batch).await.unwrap();
        assert!(outcome.missing.is_empty(), "{:?}", outcome.missing);
        fetched.extend(outcome.orders);
    }
    assert_eq!(fetched.len(), made.len());
    let mut to_acknowledge = Vec::new();
    for (order, kind) in fetched.iter().zip(&kinds) {
        assert_eq!(order.payload.content_type, "application/xml");
        let normalised = mall.normalise(&order.payload, now()).unwrap();
        let order = &normalised.orders[0];
        assert!(
            order.holds.is_empty(),
            "{kind:?} {}: {:?}",
            order.mall_order_id,
            order.holds
        );
        assert!(order.ordered_at.to_string().ends_with("+09:00"));
        if mall.needs_acknowledgement(order) {
            to_acknowledge.push(order.mall_order_id.clone());
        } else {
            assert_eq!(
                *kind,
                YahooOrderKind::Reservation,
                "only pre-orders are left alone"
            );
        }
    }
    assert!(!to_acknowledge.is_empty());
    let acks = mall.acknowledge(&stored(&to_acknowledge)).await.unwrap();
    assert!(
        acks.iter().all(|a| a.outcome == AckOutcome::Accepted),
        "{acks:?}"
    );
    let writes = fx.control.yahoo_writes().await.unwrap();
    assert_eq!(writes.len(), to_acknowledge.len());
    assert!(
        writes
            .iter()
            .all(|w| w.order_status == 2 && !w.is_point_fix)
    );
    assert_eq!(writes[0].operation_user.as_deref(), Some("ichigen"));

    // Seen now: a re-fetch needs no acknowledgement.
    let again = mall.fetch_orders(&to_acknowledge[..1]).await.unwrap();
    let order = &mall
        .normalise(&again.orders[0].payload, now())
        .unwrap()
        .orders[0];
    assert!(!mall.needs_acknowledgement(order));
    // One token for the whole run; every call counted.
    assert_eq!(
        fx.control.yahoo_store(SELLER).await.unwrap().tokens_issued,
        1
    );
    let stats = fx.control.stats().await.unwrap();
    let sent: u64 = stats.requests.values().sum();
    assert_eq!(mall.calls_today(), sent);
}

#[tokio::test]
async fn a_single_hit_lists_one_order() {
    let fx = Fixture::start().await;
    let made = fx.count(1).await;
    let listed = fx.mall().list_orders(recent_window()).await.unwrap();
    assert_eq!(ids(&listed), made);
    let empty = fx
        .mall()
        .list_orders(TimeWindow::new(
            "2020-01-01T00:00:00+09:00".parse().unwrap(),
            "2020-01-02T00:00:00+09:00".parse().unwrap(),
        ))
        .await
        .unwrap();
    assert!(empty.is_empty());
}

#[tokio::test]
async fn window_bounds_are_inclusive_to_the_second_and_long_windows_are_split() {
    let fx = Fixture::start().await;
    let times = [
        "2025-03-01T00:00:00+09:00",
        "2025-03-01T12:00:00+09:00",
        "2025-03-02T00:00:00+09:00",
        "2025-03-02T00:00:01+09:00",
        "2025-04-20T10:00:00+09:00",
    ];
    let (made, _) = fx
        .generate(YahooGenerateOptions {
            order_times: Some(times.iter().map(|t| (*t).to_owned()).collect()),
            ..Default::default()
        })
        .await;
    let mall = fx.mall();
    let day = TimeWindow::new(times[0].parse().unwrap(), times[2].parse().unwrap());
    assert_eq!(ids(&mall.list_orders(day).await.unwrap()), made[..3]);
    // 60 days: two pieces of ≤30 days, sharing a boundary; nothing twice.
    let long = TimeWindow::new(
        times[0].parse().unwrap(),
        "2025-04-30T00:00:00+09:00".parse().unwrap(),
    );
    let before = fx.requests(endpoints::ORDER_LIST).await;
    assert_eq!(ids(&mall.list_orders(long).await.unwrap()), made);
    assert_eq!(fx.requests(endpoints::ORDER_LIST).await - before, 2);
}

#[tokio::test]
async fn a_token_expiring_mid_run_is_refreshed_once_and_the_run_completes() {
    let fx = Fixture::start().await;
    let made = fx.count(6).await;
    let mall = fx.mall();
    let listed = mall.list_orders(recent_window()).await.unwrap();
    assert_eq!(listed.len(), 6);
    fx.control.yahoo_expire_token(SELLER).await.unwrap();
    let outcome = mall.fetch_orders(&made).await.unwrap();
    assert_eq!(outcome.orders.len(), 6);
    // The first call (or the few in flight) got 401; one refresh served the rest.
    let issued = fx.control.yahoo_store(SELLER).await.unwrap().tokens_issued;
    assert!((2..=3).contains(&issued), "{issued} tokens issued");
    assert_eq!(fx.requests(endpoints::TOKEN).await, issued);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_a_credential_error_naming_it() {
    let fx = Fixture::start().await;
    fx.count(2).await;
    fx.control.yahoo_revoke_refresh_token(SELLER).await.unwrap();
    let error = fx.mall().list_orders(recent_window()).await.unwrap_err();
    match &error {
        MallError::CredentialRejected { credential, .. } => {
            assert_eq!(credential, "refreshToken")
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_retryable());
    let text = error.to_string();
    assert!(text.starts_with("yahoo:yahoo-a: token"), "{text}");
    assert!(
        text.contains("invalid_grant") && !text.contains(REFRESH),
        "{text}"
    );
    assert_eq!(
        fx.requests(endpoints::ORDER_LIST).await,
        0,
        "no order call without a token"
    );
    assert_eq!(fx.requests(endpoints::TOKEN).await, 1, "not retried");
}

#[tokio::test]
async fn a_wrong_key_a_revoked_key_and_a_stale_signature_name_the_public_key() {
    let fx = Fixture::start().await;
    fx.count(1).await;
    let check = |error: MallError| {
        match &error {
            MallError::CredentialRejected {
                credential, detail, ..
            } => {
                assert_eq!(credential, "publicKey");
                assert!(detail.contains("px-04102"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(error.is_credential());
    };
    // The secret holds another key than the one Yahoo knows.
    let wrong = fx.mall_with(
        fx.secret(&keys()[1], serde_json::json!({})),
        &fast_settings(),
    );
    check(wrong.list_orders(recent_window()).await.unwrap_err());
    // A key version Yahoo does not have.
    let other_version = fx.mall_with(
        fx.secret(&keys()[0], serde_json::json!({"publicKeyVersion": 7})),
        &fast_settings(),
    );
    check(
        other_version
            .list_orders(recent_window())
            .await
            .unwrap_err(),
    );
    // Stale: the sandbox's clock tolerance is set below zero, so every time is off.
    fx.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            signature_tolerance_secs: -1,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    check(fx.mall().list_orders(recent_window()).await.unwrap_err());
    fx.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    fx.control.yahoo_revoke_key(SELLER, 1).await.unwrap();
    check(fx.mall().list_orders(recent_window()).await.unwrap_err());
    assert_eq!(
        fx.control
            .stats()
            .await
            .unwrap()
            .requests_for(endpoints::ORDER_LIST),
        4,
        "never retried"
    );
}

#[tokio::test]
async fn the_daily_quota_stops_the_run_with_a_clear_final_error() {
    let fx = Fixture::start().await;
    let made = fx.count(8).await;
    fx.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            daily_quota: 4,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let mall = fx.mall();
    assert_eq!(mall.list_orders(recent_window()).await.unwrap().len(), 8);
    let error = mall.fetch_orders(&made).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, MallError::Rejected { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert!(text.contains("daily quota reached"), "{text}");
    assert!(text.contains("orderInfo"), "{text}");
    // Yahoo's answer is not retried: at most the calls in flight went over.
    let info_calls = fx.requests(endpoints::ORDER_INFO).await;
    assert!(info_calls <= 3 + 4, "{info_calls} orderInfo calls");

    // The store's own tally stops the client before Yahoo has to.
    let fx = Fixture::start().await;
    let made = fx.count(8).await;
    let capped = fx.mall_with(
        fx.secret(&keys()[0], serde_json::json!({"dailyQuota": 3})),
        &fast_settings(),
    );
    capped.list_orders(recent_window()).await.unwrap();
    let error = capped.fetch_orders(&made).await.unwrap_err();
    assert!(error.to_string().contains("daily quota reached"), "{error}");
    assert_eq!(capped.calls_today(), 3, "token + orderList + one orderInfo");
    assert_eq!(fx.requests(endpoints::ORDER_INFO).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_429_and_5xx_are_retried_through() {
    let fx = Fixture::start().await;
    let made = fx.count(12).await;
    fx.control
        .set_faults(&FaultConfig {
            error5xx_rate: 0.25,
            rate429_rate: 0.15,
            seed: Some(5),
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let settings = ClientSettings {
        max_attempts: 10,
        ..fast_settings()
    };
    let mall = fx.mall_with(fx.secret(&keys()[0], serde_json::json!({})), &settings);
    let mall = mall.with_page_size(4);
    assert_eq!(ids(&mall.list_orders(recent_window()).await.unwrap()), made);
    let outcome = mall.fetch_orders(&made).await.unwrap();
    assert_eq!(outcome.orders.len(), 12);
    let stats = fx.control.stats().await.unwrap();
    assert!(
        stats.injected_for("5xx") + stats.injected_for("429") > 3,
        "{stats:?}"
    );

    // Always failing: a retryable Unavailable naming the operation.
    fx.control
        .set_faults(&FaultConfig {
            error5xx_rate: 1.0,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let error = mall.list_orders(recent_window()).await.unwrap_err();
    assert!(
        matches!(error, MallError::Unavailable { attempts: 10, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn acknowledging_a_cancelled_order_says_so() {
    let fx = Fixture::start().await;
    let made = fx.count(2).await;
    fx.control
        .yahoo_set_order_status(SELLER, &made[1], 4)
        .await
        .unwrap();
    let mall = fx.mall_with(
        fx.secret(&keys()[0], serde_json::json!({"isPointFix": true})),
        &fast_settings(),
    );
    let acks = mall.acknowledge(&stored(&made)).await.unwrap();
    assert_eq!(acks[0].outcome, AckOutcome::Accepted);
    assert!(
        matches!(acks[1].outcome, AckOutcome::Cancelled { .. }),
        "{acks:?}"
    );
    let writes = fx.control.yahoo_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert!(writes[0].is_point_fix, "the store's IsPointFix is sent");
}

#[tokio::test]
async fn unknown_orders_come_back_as_missing() {
    let fx = Fixture::start().await;
    let made = fx.count(1).await;
    let wanted = vec![made[0].clone(), format!("{SELLER}-404")];
    let outcome = fx.mall().fetch_orders(&wanted).await.unwrap();
    assert_eq!(outcome.orders.len(), 1);
    assert_eq!(outcome.missing.len(), 1);
    assert_eq!(outcome.missing[0].0, wanted[1]);
    assert!(
        outcome.missing[0].1.contains("not found"),
        "{:?}",
        outcome.missing
    );
}

#[tokio::test]
async fn odd_orders_are_held_not_dropped() {
    let fx = Fixture::start().await;
    let (made, _) = fx
        .generate(YahooGenerateOptions {
            kinds: Some(vec![
                YahooOrderKind::BadTotal,
                YahooOrderKind::UnknownPayMethod,
                YahooOrderKind::OddText,
            ]),
            count: Some(3),
            ..Default::default()
        })
        .await;
    let mall = fx.mall();
    let outcome = mall.fetch_orders(&made).await.unwrap();
    let holds: Vec<Vec<HoldKind>> = outcome
        .orders
        .iter()
        .map(|o| {
            mall.normalise(&o.payload, now()).unwrap().orders[0]
                .holds
                .iter()
                .map(|h| h.kind)
                .collect()
        })
        .collect();
    assert_eq!(holds[0], [HoldKind::TotalsMismatch]);
    assert_eq!(holds[1], [HoldKind::UnknownPaymentMethod]);
    assert!(holds[2].is_empty(), "{:?}", holds[2]);
}

/// At the sandbox's real limit (1 query/s per URL) and the client's default pace, nothing is
/// refused: the client keeps under the limit instead of retrying into it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_pace_keeps_under_one_query_per_second_per_url() {
    let fx = Fixture::start().await;
    let made = fx.count(3).await;
    fx.control
        .yahoo_set_limits(&YahooLimits::default())
        .await
        .unwrap();
    let settings = ClientSettings {
        timeout: Duration::from_secs(5),
        ..ClientSettings::default()
    };
    let mall = fx.mall_with(fx.secret(&keys()[0], serde_json::json!({})), &settings);
    let started = std::time::Instant::now();
    mall.list_orders(recent_window()).await.unwrap();
    let outcome = mall.fetch_orders(&made).await.unwrap();
    assert_eq!(outcome.orders.len(), 3);
    let elapsed = started.elapsed();
    let stats = fx.control.stats().await.unwrap();
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    // Three orderInfo calls on one URL need two full gaps.
    assert!(elapsed >= Duration::from_millis(2_000), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn an_unpaid_order_becomes_paid_when_the_buyer_pays() {
    let fx = Fixture::start().await;
    let (made, _) = fx
        .generate(YahooGenerateOptions {
            count: Some(1),
            kinds: Some(vec![YahooOrderKind::Unpaid]),
            ..Default::default()
        })
        .await;
    let mall = fx.mall();
    let read = |outcome: ichigen_core::mall::FetchOutcome| {
        mall.normalise(&outcome.orders[0].payload, now())
            .unwrap()
            .orders
            .remove(0)
    };
    let before = read(mall.fetch_orders(&made).await.unwrap());
    assert!(before.holds.is_empty(), "{:?}", before.holds);
    assert!(before.payment.awaits_payment());
    assert!(before.payment.due_date.is_some());
    fx.control
        .yahoo_set_pay_status(SELLER, &made[0], 1)
        .await
        .unwrap();
    let after = read(mall.fetch_orders(&made).await.unwrap());
    assert!(!after.payment.awaits_payment());
    assert_eq!(
        after.payment.paid_at.unwrap().date(),
        now().date(),
        "PayDate is today"
    );
}

/// Orders as an import stored them, by number: all this mall's acknowledgement needs.
fn stored(numbers: &[String]) -> Vec<ichigen_core::Order> {
    ichigen_core::testing::numbered_orders(&store().to_string(), numbers)
}
