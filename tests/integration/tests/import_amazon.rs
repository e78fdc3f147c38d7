//! Amazon.co.jp order import end to end: the import-orders function's code, DynamoDB and
//! Secrets Manager on the emulator, the Amazon sandbox over real HTTP (LWA, restricted-data
//! tokens, getOrders by update time, NextToken paging, rate limits).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use ichigen_aws::{ShopResources, ShopTable, ensure_shop, put_secret};
use ichigen_core::import::{ImportCommand, ImportReport, ImportRequest};
use ichigen_core::ports::{OrderStore, StoreConfigs};
use ichigen_core::{
    HoldKind, ImportSettings, MallId, Order, OrderId, OrderStatus, StoreConfig, StoreRef,
};
use ichigen_integration::{
    assert_line_cancelled, clock_days_later, emulator_sdk, events, fast_client_settings,
    follow_open_orders, follow_open_orders_counted, hours, import_only, open_order_count, shop_app,
};
use ichigen_malls::{AmazonEndpoints, MallEndpoints};
use ichigen_sandbox::amazon::{endpoints, format_utc};
use ichigen_sandbox::control::{
    AmazonBuyerCancelRequest, AmazonCancelItemRequest, AmazonGenerateOptions, AmazonLimits,
    AmazonOrderEventRequest, AmazonOrderKind, AmazonRegisterSellerRequest,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use import_orders::{App, FunctionError, Invocation, Outcome};

const SELLER: &str = "A2ICHIGENIT";
const CLIENT_ID: &str = "amzn1.application-oa2-client.it";
const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.it";
const REFRESH: &str = "Atzr|IwEBIit";

struct AmazonShop {
    _sandbox: Sandbox,
    control: ControlClient,
    table: Arc<ShopTable>,
    app: App,
    sdk: aws_config::SdkConfig,
    store: StoreRef,
}

impl AmazonShop {
    async fn new() -> Self {
        let sdk = emulator_sdk().await;
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 31 })
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
        // Amazon's buckets and bursts, 200 times faster.
        control
            .amazon_set_limits(&AmazonLimits {
                rate_scale: 200.0,
                ..AmazonLimits::default()
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
        let store = StoreRef::new(MallId::Amazon, "store-amz");
        let secret_id = format!("{prefix}/amazon/store-amz");
        put_secret(
            &sdk,
            &secret_id,
            &serde_json::json!({
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "refreshToken": REFRESH,
            }),
        )
        .await
        .unwrap();
        table
            .put_store_config(&StoreConfig {
                store: store.clone(),
                secret_id,
                import: ImportSettings {
                    first_run_lookback: hours(24),
                    ..ImportSettings::default()
                },
                enabled: true,
            })
            .await
            .unwrap();
        let endpoints = MallEndpoints {
            amazon: AmazonEndpoints::at(&sandbox.base_url()),
            ..MallEndpoints::default()
        };
        let app = shop_app(&sdk, &handles, &table, endpoints, fast_client_settings());
        Self {
            _sandbox: sandbox,
            control,
            table,
            app,
            sdk,
            store,
        }
    }

    async fn differential(&self) -> Result<ImportReport, FunctionError> {
        let command = ImportCommand::new(self.store.clone(), ImportRequest::Differential);
        match self.app.handle(Invocation::Command(command), None).await? {
            Outcome::Report(report) => Ok(*report),
            other => panic!("expected a report, got {other:?}"),
        }
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

    /// One order of this kind, imported; its id.
    async fn imported(&self, kind: AmazonOrderKind) -> String {
        let made = self
            .control
            .amazon_generate_orders(
                SELLER,
                &AmazonGenerateOptions {
                    count: 1,
                    kinds: vec![kind],
                    ..AmazonGenerateOptions::default()
                },
            )
            .await
            .unwrap();
        let report = self.differential().await.expect("import");
        assert_eq!(report.created.len(), 1, "{}", report.summary());
        made.order_ids[0].clone()
    }

    /// These orders paid `minutes` ago (Pending → Unshipped): a change Amazon lists after its
    /// two-minute delay when `minutes` > 2.
    async fn paid_minutes_ago(&self, order_ids: &[String], minutes: i64) {
        let at = format_utc(jiff::Timestamp::now().as_second() - minutes * 60);
        for id in order_ids {
            self.control
                .amazon_pay(
                    SELLER,
                    id,
                    &AmazonOrderEventRequest {
                        at: Some(at.clone()),
                    },
                )
                .await
                .unwrap();
        }
    }

    async fn count(&self, status: OrderStatus) -> usize {
        self.table
            .orders_by_status(&self.store, status, 10_000)
            .await
            .unwrap()
            .len()
    }
}

#[tokio::test]
async fn amazon_orders_import_over_three_pages_and_pending_completes_without_duplicates() {
    let shop = AmazonShop::new().await;
    let made = shop
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 250,
                kinds: vec![
                    AmazonOrderKind::Standard,
                    AmazonOrderKind::Pending,
                    AmazonOrderKind::Cod,
                    AmazonOrderKind::Standard,
                    AmazonOrderKind::Gift,
                ],
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let report = shop.differential().await.expect("import");
    assert_eq!(report.created.len(), 250, "{}", report.summary());
    let stats = shop.control.stats().await.unwrap();
    assert_eq!(
        stats.requests_for(endpoints::GET_ORDERS),
        3,
        "three NextToken pages"
    );
    let seller = shop.control.amazon_seller(SELLER).await.unwrap();
    assert_eq!(seller.rejected_list_requests, 0);
    assert!(
        seller.closest_before_gap_secs.unwrap() >= 120,
        "LastUpdatedBefore never within 2 minutes"
    );
    assert!(seller.throttled.is_empty(), "{:?}", seller.throttled);
    let pending = made
        .kinds
        .iter()
        .filter(|k| **k == AmazonOrderKind::Pending)
        .count();
    assert_eq!(shop.count(OrderStatus::AwaitingPayment).await, pending);
    // Personal data came only under restricted-data tokens: every order's buyer and address,
    // and the gift orders' item buyer info (wrap and message).
    let gifts = made
        .kinds
        .iter()
        .filter(|k| **k == AmazonOrderKind::Gift)
        .count();
    let log = shop.control.amazon_pii_log().await.unwrap();
    let disclosed = |operation: &str| log.iter().filter(|d| d.operation == operation).count();
    assert_eq!(disclosed("getOrder"), 250);
    assert_eq!(disclosed("getOrderItems"), gifts);
    assert!(log.iter().all(|d| d.under_restricted_data_token));
    let (gift_id, _) = made
        .order_ids
        .iter()
        .zip(&made.kinds)
        .find(|(_, k)| **k == AmazonOrderKind::Gift)
        .unwrap();
    let gift = shop
        .table
        .get_order(&ichigen_core::OrderId::new(&shop.store, gift_id))
        .await
        .unwrap()
        .unwrap();
    assert!(gift.gift.is_gift);
    assert_eq!(gift.amounts.gift_wrapping, 330, "{:?}", gift.amounts);
    assert_eq!(gift.gift.wrappings.len(), 1);
    assert!(gift.lines().next().unwrap().gift_wrapped);
    assert!(
        gift.notes
            .as_deref()
            .unwrap_or("")
            .contains("ギフトメッセージ"),
        "{:?}",
        gift.notes
    );
    assert!(
        gift.holds.is_empty(),
        "gift wrap is in OrderTotal: {:?}",
        gift.holds
    );

    // The buyer pays one Pending order; Amazon lists it again as Unshipped.
    let (paid, _) = made
        .order_ids
        .iter()
        .zip(&made.kinds)
        .find(|(_, k)| **k == AmazonOrderKind::Pending)
        .unwrap();
    shop.paid_minutes_ago(std::slice::from_ref(paid), 5).await;
    let again = shop.differential().await.expect("import again");
    assert!(again.created.is_empty(), "{}", again.summary());
    assert_eq!(again.changed_on_mall.len(), 1, "{}", again.summary());
    let order = shop
        .table
        .get_order(&ichigen_core::OrderId::new(&shop.store, paid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.mall_status.code, "Unshipped");
    assert!(order.payment.paid_at.is_some());
    assert!(order.amounts.billed > 0, "prices arrive with the payment");
    assert!(
        order.history.iter().any(|h| h.event == "changed_on_mall"),
        "{:?}",
        order.history
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_stops_the_store_naming_the_lwa_credential() {
    let shop = AmazonShop::new().await;
    shop.control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 5,
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    shop.control
        .amazon_revoke_refresh_token(SELLER)
        .await
        .unwrap();
    let error = shop.differential().await.expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("refreshToken (LWA)"), "{text}");
    assert!(!error.is_retryable(), "{text}");
    let stats = shop.control.stats().await.unwrap();
    assert_eq!(
        stats.requests_for(endpoints::TOKEN),
        1,
        "fails fast, no retry"
    );
    assert_eq!(
        shop.count(OrderStatus::ReadyToShip).await,
        0,
        "nothing half-written"
    );
}

#[tokio::test]
async fn a_pending_konbini_order_paid_three_days_later_is_ready_to_ship_and_followed_once() {
    let mut shop = AmazonShop::new().await;
    let id = shop.imported(AmazonOrderKind::Pending).await;
    let before = shop.order(&id).await;
    assert_eq!(
        before.status,
        OrderStatus::AwaitingPayment,
        "{:?}",
        before.holds
    );

    // The buyer pays at the konbini: Pending → Unshipped, prices and address arrive.
    shop.control
        .amazon_pay(SELLER, &id, &AmazonOrderEventRequest::default())
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
    let after = shop.order(&id).await;
    assert_eq!(after.status, OrderStatus::ReadyToShip, "{:?}", after.holds);
    assert_eq!(after.mall_status.code, "Unshipped");
    assert!(after.payment.paid_at.is_some());
    assert!(after.amounts.billed > 0, "prices arrive with the payment");
    assert!(
        events(&after).contains(&"paid_on_mall"),
        "{:?}",
        after.history
    );

    // The next run reads only what Amazon listed as changed since: nothing.
    let again = shop.open_orders().await;
    assert!(again.followed_by_listing, "{}", again.summary());
    assert_eq!(again.listed, 0, "{}", again.summary());
    assert_eq!(shop.order(&id).await.version, after.version);
}

#[tokio::test]
async fn an_open_orders_run_reads_only_the_orders_amazon_listed_as_changed() {
    let shop = AmazonShop::new().await;
    let made = shop
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 12,
                kinds: vec![AmazonOrderKind::Pending],
                // Placed an hour or more ago: not changes the next runs' windows hold.
                spread_minutes: 180,
                ends_minutes_ago: 60,
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let report = shop.differential().await.expect("import");
    assert_eq!(report.created.len(), 12, "{}", report.summary());

    // The first run has no checkpoint of its own: it reads every open order once.
    let first = shop.open_orders().await;
    assert_eq!(first.listed, 12, "{}", first.summary());
    assert!(!first.followed_by_listing);

    // Two buyers pay; Amazon lists an order a few minutes after its change (five minutes ago
    // here, past the listing delay of two).
    shop.paid_minutes_ago(&made.order_ids[..2], 5).await;
    let before = shop.control.stats().await.unwrap();
    let second = shop.open_orders().await;
    let after = shop.control.stats().await.unwrap();
    assert!(second.followed_by_listing, "{}", second.summary());
    assert_eq!(second.listed, 2, "{}", second.summary());
    let paid: HashSet<String> = second
        .paid_on_mall
        .iter()
        .map(|id| id.to_string())
        .collect();
    let expected: HashSet<String> = made.order_ids[..2]
        .iter()
        .map(|id| OrderId::new(&shop.store, id).to_string())
        .collect();
    assert_eq!(paid, expected, "{}", second.summary());
    let calls = |endpoint: &str| after.requests_for(endpoint) - before.requests_for(endpoint);
    assert_eq!(
        calls("amazon.getOrder"),
        2,
        "only the changed orders are read"
    );
    assert_eq!(calls("amazon.getOrders"), 1, "one listing of the changes");
    assert_eq!(shop.count(OrderStatus::AwaitingPayment).await, 10);
}

#[tokio::test]
async fn an_order_amazon_cancelled_is_cancelled_by_the_open_orders_run() {
    let shop = AmazonShop::new().await;
    let id = shop.imported(AmazonOrderKind::Standard).await;
    let before = shop.order(&id).await;
    assert_eq!(
        before.status,
        OrderStatus::ReadyToShip,
        "{:?}",
        before.holds
    );
    shop.control
        .amazon_cancel(SELLER, &id, &AmazonOrderEventRequest::default())
        .await
        .unwrap();
    let report = shop.open_orders().await;
    assert_eq!(
        report.cancelled_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let after = shop.order(&id).await;
    assert_eq!(after.status, OrderStatus::Cancelled);
    assert!(
        events(&after).contains(&"cancelled_on_mall"),
        "{:?}",
        after.history
    );
    let again = shop.open_orders().await;
    assert_eq!(
        again.listed,
        0,
        "a cancelled order is not open: {}",
        again.summary()
    );
}

#[tokio::test]
async fn an_item_the_seller_cancelled_on_amazon_leaves_the_order_re_totalled() {
    let shop = AmazonShop::new().await;
    let id = shop.imported(AmazonOrderKind::ManyLines).await;
    let before = shop.order(&id).await;
    assert_eq!(
        before.status,
        OrderStatus::ReadyToShip,
        "{:?}",
        before.holds
    );
    assert_eq!(before.lines().count(), 12);
    let gone = before.lines().nth(1).unwrap().clone();

    shop.control
        .amazon_cancel_item(
            SELLER,
            &id,
            &AmazonCancelItemRequest {
                order_item_id: gone.mall_line_id.clone(),
                at: None,
            },
        )
        .await
        .unwrap();
    let report = shop.open_orders().await;
    let after = shop.order(&id).await;
    // The item with nothing ordered is not kept as a line.
    assert_line_cancelled(&report, &before, &after, &gone.mall_line_id);
    let cost = gone.unit_price * i64::from(gone.quantity);
    assert_eq!(after.amounts.billed, before.amounts.billed - cost);

    let again = shop.open_orders().await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(shop.order(&id).await.version, after.version);
}

#[tokio::test]
async fn a_buyer_cancel_request_on_amazon_holds_the_order() {
    let shop = AmazonShop::new().await;
    let id = shop.imported(AmazonOrderKind::Standard).await;
    let before = shop.order(&id).await;
    assert_eq!(
        before.status,
        OrderStatus::ReadyToShip,
        "{:?}",
        before.holds
    );
    shop.control
        .amazon_buyer_cancel_request(
            SELLER,
            &id,
            &AmazonBuyerCancelRequest {
                reason: "注文を間違えた".into(),
                at: None,
            },
        )
        .await
        .unwrap();
    let report = shop.open_orders().await;
    assert_eq!(
        report.cancel_requested_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let after = shop.order(&id).await;
    assert_eq!(after.status, OrderStatus::OnHold);
    let hold = after
        .holds
        .iter()
        .find(|h| h.kind == HoldKind::CancelRequested)
        .expect("a cancel-request hold");
    assert!(hold.message.contains("注文を間違えた"), "{hold}");

    // Followed once: the same request read again changes nothing.
    let again = shop.open_orders().await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(shop.order(&id).await.version, after.version);
}

/// 1,000 open orders within Amazon's rate budget: the first open-orders run (no checkpoint of
/// its own yet) reads each once, `getOrder` and `getOrderItems`, paced by the rates Amazon
/// announces, none throttled; after that a run costs one `getOrders` listing plus the orders
/// Amazon lists as changed: 30 payments, 30 reads.
#[tokio::test]
async fn a_thousand_open_orders_cost_one_read_each_once_then_only_what_changed() {
    let shop = AmazonShop::new().await;
    let made = shop
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 1_000,
                // One in ten is a konbini order still to be paid.
                kinds: [
                    vec![AmazonOrderKind::Standard; 9],
                    vec![AmazonOrderKind::Pending],
                ]
                .concat(),
                spread_minutes: 600,
                ends_minutes_ago: 60,
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let imported = import_only(&shop.app, &shop.store).await;
    assert_eq!(imported.created.len(), 1_000, "{}", imported.summary());
    let open = open_order_count(&shop.table, &shop.store).await;
    assert_eq!(open, 1_000);

    let first = follow_open_orders_counted(&shop.app, &shop.sdk, &shop.store, &shop.control).await;
    assert_eq!(first.report.listed, open, "{}", first.report.summary());
    assert_eq!(first.calls("amazon.getOrder"), open as u64);
    assert_eq!(first.calls("amazon.getOrderItems"), open as u64);
    assert_eq!(first.rate_limited(), 0, "nothing throttled");
    assert!(
        first.report.changed_on_mall.is_empty(),
        "{}",
        first.report.summary()
    );

    let pending: Vec<_> = made
        .order_ids
        .iter()
        .skip(9)
        .step_by(10)
        .take(30)
        .cloned()
        .collect();
    shop.paid_minutes_ago(&pending, 5).await;
    let next = follow_open_orders_counted(&shop.app, &shop.sdk, &shop.store, &shop.control).await;
    assert!(next.report.followed_by_listing, "{}", next.report.summary());
    assert_eq!(
        next.report.paid_on_mall.len(),
        30,
        "{}",
        next.report.summary()
    );
    assert_eq!(next.calls("amazon.getOrders"), 1);
    assert_eq!(next.calls("amazon.getOrder"), 30, "only what Amazon listed");
    assert_eq!(next.rate_limited(), 0, "nothing throttled");
    // The listed orders are read from the table by id, not found among all the open ones.
    eprintln!(
        "table reads: first run {:.1} units, after 30 payments {:.1}",
        first.table_read_units(),
        next.table_read_units()
    );
    assert!(
        next.table_read_units() * 5.0 < first.table_read_units(),
        "table reads {} after 30 payments, {} for the first run",
        next.table_read_units(),
        first.table_read_units()
    );
}
