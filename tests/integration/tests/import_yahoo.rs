//! Yahoo! Shopping order import end to end: the import-orders function's code, DynamoDB and
//! Secrets Manager on the emulator, the Yahoo sandbox over real HTTP (YConnect token, the
//! public-key signature, XML).

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use ichigen_aws::{ShopHandles, ShopResources, ShopTable, ensure_shop, put_secret};
use ichigen_core::import::{ImportCommand, ImportReport, ImportRequest};
use ichigen_core::ports::{CheckpointStore, OrderStore, StoreConfigs, StoreStatusStore};
use ichigen_core::{ImportSettings, MallId, Order, OrderId, OrderStatus, StoreConfig, StoreRef};
use ichigen_integration::shop_api::{self, assert_refused_and_listed, retry_until_written};
use ichigen_integration::{
    Drained, assert_line_cancelled, clock_days_later, emulator_sdk, events, fast_client_settings,
    follow_open_orders, follow_open_orders_counted, hours, import_only, open_order_count, shop_app,
    write_to_mall,
};
use ichigen_malls::{ClientSettings, MallEndpoints, YahooEndpoints};
use ichigen_sandbox::control::{
    YahooGenerateOptions, YahooLimits, YahooOrderKind, YahooRegisterStoreRequest,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use import_orders::{App, FunctionError, Invocation, Outcome};

const SELLER: &str = "snbx-it";

struct YahooShop {
    _sandbox: Sandbox,
    control: ControlClient,
    table: Arc<ShopTable>,
    app: App,
    sdk: aws_config::SdkConfig,
    handles: ShopHandles,
    store: StoreRef,
}

impl YahooShop {
    async fn new() -> Self {
        let sdk = emulator_sdk().await;
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 29 })
            .await
            .unwrap();
        let control = sandbox.control();
        // The sandbox makes the key pair and hands back the public half, as a shop's
        // engineer registers it with Yahoo.
        let registered = control
            .yahoo_register_store(&YahooRegisterStoreRequest {
                seller_id: SELLER.into(),
                client_id: "dj00it".into(),
                client_secret: "cs-it".into(),
                refresh_token: "rt-it".into(),
                private_key_pem: String::new(),
                key_version: 1,
            })
            .await
            .unwrap();
        let public_key = registered.generated_public_key_pem.expect("a public key");
        control
            .yahoo_set_limits(&YahooLimits {
                requests_per_second_per_url: None,
                ..YahooLimits::default()
            })
            .await
            .unwrap();

        let prefix = format!("it-{}", uuid::Uuid::new_v4().simple());
        let handles = ensure_shop(&sdk, &ShopResources::with_prefix(&prefix))
            .await
            .unwrap();
        let table = Arc::new(ShopTable::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            handles.table_name.clone(),
        ));
        let store = StoreRef::new(MallId::Yahoo, "store-y");
        let secret_id = format!("{prefix}/yahoo/store-y");
        put_secret(
            &sdk,
            &secret_id,
            &serde_json::json!({
                "sellerId": SELLER,
                "clientId": "dj00it",
                "clientSecret": "cs-it",
                "refreshToken": "rt-it",
                "publicKey": public_key,
                "publicKeyVersion": 1,
            }),
        )
        .await
        .unwrap();
        table
            .put_store_config(&StoreConfig {
                store: store.clone(),
                secret_id,
                import: ImportSettings {
                    first_run_lookback: hours(72),
                    ..ImportSettings::default()
                },
                enabled: true,
            })
            .await
            .unwrap();
        let endpoints = MallEndpoints {
            yahoo: YahooEndpoints::at(&sandbox.base_url()),
            ..MallEndpoints::default()
        };
        // The sandbox decrypts each request's RSA signature header in a debug build: on a
        // loaded 2-core machine that can pass the fast settings' 400 ms, and the timed-out
        // status change is then sent again (and recorded twice). No test here injects timeouts.
        let settings = ClientSettings {
            timeout: std::time::Duration::from_secs(5),
            ..fast_client_settings()
        };
        let app = shop_app(&sdk, &handles, &table, endpoints, settings);
        Self {
            _sandbox: sandbox,
            control,
            table,
            app,
            sdk,
            handles,
            store,
        }
    }

    /// The scheduled import, then the mall-writer's turn (deployed, it follows within
    /// seconds): the status changes the import queued are on Yahoo when this returns.
    async fn differential(&self) -> Result<ImportReport, FunctionError> {
        self.differential_and_write()
            .await
            .map(|(report, _)| report)
    }

    async fn differential_and_write(&self) -> Result<(ImportReport, Drained), FunctionError> {
        let command = ImportCommand::new(self.store.clone(), ImportRequest::Differential);
        let report = match self.app.handle(Invocation::Command(command), None).await? {
            Outcome::Report(report) => *report,
            other => panic!("expected a report, got {other:?}"),
        };
        Ok((report, write_to_mall(&self.app, &self.sdk).await))
    }

    async fn open_orders(&self) -> ImportReport {
        follow_open_orders(&self.app, &self.sdk, &self.store).await
    }

    async fn order(&self, order_id: &str) -> Order {
        self.table
            .get_order(&OrderId::new(&self.store, order_id))
            .await
            .unwrap()
            .expect("the order is stored")
    }

    /// One order of this kind, imported (and written back); its id.
    async fn imported(&self, kind: YahooOrderKind) -> String {
        let made = self
            .control
            .yahoo_generate_orders(
                SELLER,
                &YahooGenerateOptions {
                    count: Some(1),
                    days: Some(1),
                    kinds: Some(vec![kind]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let report = self.differential().await.expect("import");
        assert_eq!(report.created.len(), 1, "{}", report.summary());
        made.order_ids[0].clone()
    }

    /// One konbini or bank-transfer order, not paid yet (`PayStatus` 0), imported.
    async fn imported_unpaid_order(&self) -> String {
        let id = self.imported(YahooOrderKind::Unpaid).await;
        let order = self.order(&id).await;
        assert_eq!(
            order.status,
            OrderStatus::AwaitingPayment,
            "{:?}",
            order.holds
        );
        id
    }

    /// `count` plain orders (no pre-orders or odd ones) over the last `days` days.
    async fn plain_orders(&self, count: usize, days: i64) {
        self.control
            .yahoo_generate_orders(
                SELLER,
                &YahooGenerateOptions {
                    count: Some(count),
                    days: Some(days),
                    kinds: Some(vec![YahooOrderKind::Plain]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }

    async fn stored(&self) -> usize {
        let mut n = 0;
        for status in [
            OrderStatus::AwaitingPayment,
            OrderStatus::ReadyToShip,
            OrderStatus::OnHold,
            OrderStatus::Cancelled,
        ] {
            n += self
                .table
                .orders_by_status(&self.store, status, 10_000)
                .await
                .unwrap()
                .len();
        }
        n
    }
}

#[tokio::test]
async fn yahoo_orders_import_once_and_are_acknowledged_once() {
    let shop = YahooShop::new().await;
    let made = shop
        .control
        .yahoo_generate_orders(
            SELLER,
            &YahooGenerateOptions {
                count: Some(25),
                days: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let report = shop.differential().await.expect("import");
    assert_eq!(report.created.len(), 25, "{}", report.summary());
    assert!(report.checkpoint_advanced_to.is_some());
    let reservations = made
        .kinds
        .iter()
        .filter(|k| **k == YahooOrderKind::Reservation)
        .count();
    let writes = shop.control.yahoo_writes().await.unwrap();
    assert_eq!(writes.len(), 25 - reservations, "処理中 once per order");

    let again = shop.differential().await.expect("import again");
    assert!(again.created.is_empty(), "{}", again.summary());
    assert_eq!(shop.stored().await, 25);
    assert_eq!(
        shop.control.yahoo_writes().await.unwrap().len(),
        writes.len(),
        "nothing written twice"
    );
}

#[tokio::test]
async fn a_status_change_yahoo_refuses_is_listed_by_the_shop_api_and_its_retry_goes_through() {
    let shop = YahooShop::new().await;
    shop.plain_orders(2, 1).await;
    let ids = shop
        .control
        .yahoo_order_ids(SELLER)
        .await
        .unwrap()
        .order_ids;
    let refused_id = ids[0].clone();
    let no_limit = YahooLimits {
        requests_per_second_per_url: None,
        ..YahooLimits::default()
    };
    shop.control
        .yahoo_set_limits(&YahooLimits {
            refuse_status_change: vec![refused_id.clone()],
            ..no_limit.clone()
        })
        .await
        .unwrap();
    let (report, written) = shop.differential_and_write().await.expect("import");
    assert_eq!(report.created.len(), 2, "{}", report.summary());
    written.assert_accepted_and_refused(1, 1);

    let api = shop_api::shop_api(&shop.sdk, &shop.handles);
    let refused = shop.order(&refused_id).await;
    let message = assert_refused_and_listed(&api, &refused, "orderStatusChange").await;
    assert!(
        message.contains("under review"),
        "Yahoo's own message: {message}"
    );

    // Yahoo lets the order go; a person at the shop sends the write again.
    shop.control.yahoo_set_limits(&no_limit).await.unwrap();
    retry_until_written(&api, &shop.app, &shop.sdk, &refused).await;
    let writes = shop.control.yahoo_writes().await.unwrap();
    assert_eq!(
        writes.iter().filter(|w| w.order_id == refused_id).count(),
        1,
        "written once, after the retry"
    );
}

#[tokio::test]
async fn the_daily_quota_mid_run_stops_cleanly_and_the_next_day_completes() {
    let shop = YahooShop::new().await;
    shop.plain_orders(30, 2).await;
    // Enough for the list, some details and some acknowledgements, not for all.
    shop.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            daily_quota: 30,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let error = shop.differential().await.expect_err("the quota runs out");
    let text = error.to_string();
    assert!(text.contains("daily quota reached"), "{text}");
    assert!(!error.is_retryable(), "no retry storm: {text}");
    let stored = shop.stored().await;
    assert!(stored < 30, "{stored} stored");
    assert_eq!(
        shop.table.load_checkpoint(&shop.store).await.unwrap(),
        None,
        "the checkpoint does not pass unimported orders"
    );

    // The next day (quota reset): the run completes, nothing twice.
    shop.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: None,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let report = shop.differential().await.expect("the next day");
    assert_eq!(report.created.len() + stored, 30, "{}", report.summary());
    assert_eq!(shop.stored().await, 30);
    assert!(
        shop.table
            .load_checkpoint(&shop.store)
            .await
            .unwrap()
            .is_some()
    );
    let writes = shop.control.yahoo_writes().await.unwrap();
    let ids: HashSet<_> = writes.iter().map(|w| w.order_id.clone()).collect();
    assert_eq!(ids.len(), writes.len(), "no order acknowledged twice");
    assert_eq!(
        writes.len(),
        30,
        "owed acknowledgements are sent by the next run"
    );
}

#[tokio::test]
async fn a_lost_status_change_reply_on_an_html_error_page_is_retried_and_every_order_ends_done() {
    let shop = YahooShop::new().await;
    shop.plain_orders(6, 1).await;
    // Yahoo applies the first status change, then the gateway answers 504 with an HTML page.
    shop.control
        .lose_replies("yahoo.orderStatusChange", 1)
        .await
        .unwrap();
    let (report, written) = shop
        .differential_and_write()
        .await
        .expect("the import completes");
    assert_eq!(report.created.len(), 6, "{}", report.summary());
    let summary = written.report.summary();
    assert_eq!(
        written.report.accepted + written.report.not_needed,
        6,
        "{summary}"
    );
    assert!(written.failed_receipts.is_empty(), "{summary}");
    let writes = shop.control.yahoo_writes().await.unwrap();
    let ids: HashSet<_> = writes.iter().map(|w| w.order_id.clone()).collect();
    assert_eq!(ids.len(), 6, "every order moved to 処理中");
    // The one lost reply may be sent once more: the same status again, never a different one.
    assert!(writes.len() <= 7, "{} writes", writes.len());
    assert!(writes.iter().all(|w| w.order_status == 2));
    let stats = shop.control.stats().await.unwrap();
    assert_eq!(stats.lost_replies, 1, "the fault fired");
}

#[tokio::test]
async fn an_access_token_that_expires_mid_run_is_refreshed_once_and_the_run_completes() {
    let shop = YahooShop::new().await;
    shop.plain_orders(12, 1).await;
    // Slow enough that the run is still going when the token lapses.
    shop.control
        .set_faults(&ichigen_sandbox::FaultConfig {
            latency_ms: 40,
            ..Default::default()
        })
        .await
        .unwrap();
    let expire_mid_run = {
        let control = shop.control.clone();
        tokio::spawn(async move {
            loop {
                let writes = control.yahoo_writes().await.unwrap().len();
                if writes >= 3 {
                    control.yahoo_expire_token(SELLER).await.unwrap();
                    return writes;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    let (report, written) = shop
        .differential_and_write()
        .await
        .expect("the run completes");
    let writes_before_expiry = expire_mid_run.await.unwrap();
    assert!(
        writes_before_expiry < 12,
        "the token lapsed mid-run (after {writes_before_expiry} of 12 writes)"
    );
    assert_eq!(report.created.len(), 12, "{}", report.summary());
    assert_eq!(written.report.accepted, 12, "{}", written.report.summary());
    let store = shop.control.yahoo_store(SELLER).await.unwrap();
    assert_eq!(
        store.tokens_issued, 3,
        "the import's token, the mall-writer's (its own process), and one refresh"
    );
}

#[tokio::test]
async fn a_refused_public_key_or_refresh_token_stops_the_store_naming_the_credential() {
    for (revoked, credential) in [
        ("public key", "publicKey"),
        ("refresh token", "refreshToken"),
    ] {
        let shop = YahooShop::new().await;
        shop.plain_orders(5, 1).await;
        if revoked == "public key" {
            shop.control.yahoo_revoke_key(SELLER, 1).await.unwrap();
        } else {
            shop.control
                .yahoo_revoke_refresh_token(SELLER)
                .await
                .unwrap();
        }
        let error = shop.differential().await.expect_err("the store is refused");
        let text = error.to_string();
        assert!(
            !error.is_retryable(),
            "{revoked}: never retried into the mall: {text}"
        );
        assert!(
            text.contains(credential),
            "{revoked}: names {credential}: {text}"
        );
        assert!(
            text.contains("yahoo:store-y"),
            "{revoked}: names the store: {text}"
        );
        assert!(
            !text.contains("rt-it") && !text.contains("cs-it"),
            "{revoked}: no secret in {text}"
        );
        let status = shop.table.load_store_status(&shop.store).await.unwrap();
        assert!(status.credential_rejected, "{revoked}: {status:?}");
        // Nothing half-written: no order, no checkpoint, no write to the mall.
        assert_eq!(shop.stored().await, 0, "{revoked}");
        assert_eq!(shop.table.load_checkpoint(&shop.store).await.unwrap(), None);
        assert!(shop.control.yahoo_writes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_konbini_order_paid_on_yahoo_three_days_later_is_ready_to_ship_and_followed_once() {
    let mut shop = YahooShop::new().await;
    let id = shop.imported_unpaid_order().await;
    let before = shop.order(&id).await;

    // Three days later the buyer pays at the konbini; the open-orders run reads it again.
    shop.control
        .yahoo_set_pay_status(SELLER, &id, 1)
        .await
        .unwrap();
    shop.app.clock = clock_days_later(3);
    let report = shop.open_orders().await;
    assert_eq!(
        report.paid_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    assert_eq!(report.changed_on_mall, vec![before.id.clone()]);
    assert!(report.created.is_empty(), "{}", report.summary());
    let after = shop.order(&id).await;
    assert_eq!(after.status, OrderStatus::ReadyToShip, "{:?}", after.holds);
    assert!(after.payment.paid_at.is_some());
    assert!(
        events(&after).contains(&"paid_on_mall"),
        "{:?}",
        after.history
    );
    assert!(after.version > before.version);

    // Nothing moved on Yahoo since: counted unchanged, not written.
    let again = shop.open_orders().await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(again.unchanged_on_mall, 1, "{}", again.summary());
    assert_eq!(shop.order(&id).await.version, after.version);
}

#[tokio::test]
async fn one_line_of_three_removed_on_yahoo_is_re_totalled_and_named_in_the_history() {
    let shop = YahooShop::new().await;
    let id = shop.imported(YahooOrderKind::MixedTax).await;
    let before = shop.order(&id).await;
    assert_eq!(
        before.status,
        OrderStatus::ReadyToShip,
        "{:?}",
        before.holds
    );
    assert_eq!(before.lines().count(), 3);

    let on_mall = shop
        .control
        .yahoo_cancel_line(SELLER, &id, 2)
        .await
        .unwrap();
    let on_mall = ichigen_sandbox::yahoo::xml::parse(&on_mall).unwrap();
    let total: i64 = on_mall
        .child("Detail")
        .and_then(|d| d.child_text("TotalPrice"))
        .unwrap()
        .parse()
        .unwrap();
    let report = shop.open_orders().await;
    let after = shop.order(&id).await;
    assert_line_cancelled(&report, &before, &after, "2");
    assert_eq!(after.amounts.billed, total, "Yahoo's new TotalPrice");

    let again = shop.open_orders().await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(shop.order(&id).await.version, after.version);
}

#[tokio::test]
async fn an_order_yahoo_cancelled_is_cancelled_by_the_open_orders_run() {
    let shop = YahooShop::new().await;
    let id = shop.imported_unpaid_order().await;
    let before = shop.order(&id).await;

    // The buyer never paid; the shop (or Yahoo) cancels it: OrderStatus 4 キャンセル.
    shop.control
        .yahoo_set_order_status(SELLER, &id, 4)
        .await
        .unwrap();
    let report = shop.open_orders().await;
    assert_eq!(
        report.cancelled_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    assert!(report.paid_on_mall.is_empty());
    let after = shop.order(&id).await;
    assert_eq!(after.status, OrderStatus::Cancelled);
    assert!(
        events(&after).contains(&"cancelled_on_mall"),
        "{:?}",
        after.history
    );

    // A cancelled order is no longer open: the next run does not read it.
    let again = shop.open_orders().await;
    assert_eq!(again.listed, 0, "{}", again.summary());
    assert_eq!(shop.order(&id).await.version, after.version);
}

/// The open-orders run reads every open order again, one `orderInfo` each, through the store's
/// client paced at Yahoo's rate per URL: with the sandbox refusing anything faster, 1,000 open
/// orders cost 1,000 calls, none refused and no `orderList`. A second run finds nothing changed.
#[tokio::test]
async fn a_thousand_open_orders_are_read_again_within_the_rate_budget() {
    // Yahoo's 1 query/s per URL, scaled up so the test takes seconds, not 17 minutes.
    const RATE: f64 = 200.0;
    let mut shop = YahooShop::new().await;
    shop.plain_orders(1_000, 2).await;
    let first = import_only(&shop.app, &shop.store).await;
    assert_eq!(first.created.len(), 1_000, "{}", first.summary());
    let open = open_order_count(&shop.table, &shop.store).await;
    assert!(open > 900, "{open} open orders");

    shop.control
        .yahoo_set_limits(&YahooLimits {
            requests_per_second_per_url: Some(RATE),
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    shop.app.client_settings.requests_per_second = RATE;
    let run = follow_open_orders_counted(&shop.app, &shop.sdk, &shop.store, &shop.control).await;
    assert_eq!(run.report.listed, open, "{}", run.report.summary());
    assert_eq!(run.calls("yahoo.orderInfo"), open as u64);
    assert_eq!(
        run.calls("yahoo.orderList"),
        0,
        "open orders come from our table"
    );
    assert_eq!(run.rate_limited(), 0, "no call over Yahoo's rate");
    assert!(
        run.report.changed_on_mall.is_empty(),
        "{}",
        run.report.summary()
    );

    let again = shop.open_orders().await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(again.unchanged_on_mall, open);
}
