//! au PAY Market order import end to end: the import-orders function's code, DynamoDB and
//! Secrets Manager on the emulator, the au PAY sandbox over real HTTP (Bearer key + shopId,
//! XML). Two stores of one shop share the table, each with its own key and checkpoint.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use ichigen_aws::{ShopHandles, ShopResources, ShopTable, ensure_shop, put_secret};
use ichigen_core::import::{ImportCommand, ImportReport, ImportRequest};
use ichigen_core::ports::{CheckpointStore, FixedClock, OrderStore, StoreConfigs};
use ichigen_core::{
    HoldKind, ImportSettings, JstInstant, MallId, Order, OrderId, OrderStatus, StoreConfig,
    StoreRef,
};
use ichigen_integration::shop_api::{self, assert_refused_and_listed, retry_until_written};
use ichigen_integration::{
    Drained, clock_days_later, emulator_sdk, events, fast_client_settings, follow_open_orders,
    follow_open_orders_counted, hours, import_only, open_order_count, shop_app, write_to_mall,
};
use ichigen_malls::MallEndpoints;
use ichigen_sandbox::control::{
    AupayGenerateOptions, AupayLimits, AupayOrderKind, AupayRegisterStoreRequest,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use import_orders::{App, FunctionError, Invocation, Outcome};

/// Two au PAY stores of one shop: (store id, shopId, API key).
const STORES: [(&str, &str, &str); 2] = [
    ("au-main", "30000001", "ak-it-main-0123456789"),
    ("au-outlet", "30000002", "ak-it-outlet-0123456789"),
];

struct AupayShop {
    _sandbox: Sandbox,
    control: ControlClient,
    table: Arc<ShopTable>,
    app: App,
    sdk: aws_config::SdkConfig,
    handles: ShopHandles,
}

impl AupayShop {
    async fn new() -> Self {
        let sdk = emulator_sdk().await;
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 31 })
            .await
            .unwrap();
        let control = sandbox.control();
        let prefix = format!("it-{}", uuid::Uuid::new_v4().simple());
        let handles = ensure_shop(&sdk, &ShopResources::with_prefix(&prefix))
            .await
            .unwrap();
        let table = Arc::new(ShopTable::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            handles.table_name.clone(),
        ));
        for (store_id, shop_id, key) in STORES {
            control
                .aupay_register_store(&AupayRegisterStoreRequest::new(shop_id, key))
                .await
                .unwrap();
            let secret_id = format!("{prefix}/aupay/{store_id}");
            put_secret(
                &sdk,
                &secret_id,
                &serde_json::json!({"shopId": shop_id, "apiKey": key}),
            )
            .await
            .unwrap();
            table
                .put_store_config(&StoreConfig {
                    store: StoreRef::new(MallId::Aupay, store_id),
                    secret_id,
                    import: ImportSettings {
                        first_run_lookback: hours(72),
                        ..ImportSettings::default()
                    },
                    enabled: true,
                })
                .await
                .unwrap();
        }
        let endpoints = MallEndpoints {
            aupay: sandbox.base_url(),
            ..MallEndpoints::default()
        };
        let app = shop_app(&sdk, &handles, &table, endpoints, fast_client_settings());
        Self {
            _sandbox: sandbox,
            control,
            table,
            app,
            sdk,
            handles,
        }
    }

    fn store(index: usize) -> StoreRef {
        StoreRef::new(MallId::Aupay, STORES[index].0)
    }

    fn shop_id(index: usize) -> &'static str {
        STORES[index].1
    }

    /// The scheduled import, then the mall-writer's turn (deployed, it follows within
    /// seconds): the status changes the import queued are on au PAY when this returns.
    async fn import(&self, index: usize) -> Result<ImportReport, FunctionError> {
        self.import_and_write(index).await.map(|(report, _)| report)
    }

    async fn import_and_write(
        &self,
        index: usize,
    ) -> Result<(ImportReport, Drained), FunctionError> {
        let command = ImportCommand::new(Self::store(index), ImportRequest::Differential);
        let report = match self.app.handle(Invocation::Command(command), None).await? {
            Outcome::Report(report) => *report,
            other => panic!("expected a report, got {other:?}"),
        };
        Ok((report, write_to_mall(&self.app, &self.sdk).await))
    }

    async fn open_orders(&self, index: usize) -> ImportReport {
        follow_open_orders(&self.app, &self.sdk, &Self::store(index)).await
    }

    async fn order(&self, index: usize, order_id: &str) -> Order {
        self.table
            .get_order(&OrderId::new(&Self::store(index), order_id))
            .await
            .unwrap()
            .expect("the order is stored")
    }

    /// Orders of these kinds in the first store, imported; their ids.
    async fn imported(&self, count: usize, kinds: Vec<AupayOrderKind>) -> Vec<String> {
        let made = self.generate(0, count, Some(kinds)).await;
        let report = self.import(0).await.expect("import");
        assert_eq!(report.created.len(), count, "{}", report.summary());
        made
    }

    async fn generate(
        &self,
        index: usize,
        count: usize,
        kinds: Option<Vec<AupayOrderKind>>,
    ) -> Vec<String> {
        self.control
            .aupay_generate_orders(
                Self::shop_id(index),
                &AupayGenerateOptions {
                    count: Some(count),
                    days: Some(2),
                    kinds,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .order_ids
    }

    async fn stored(&self, index: usize) -> usize {
        let mut n = 0;
        for status in [
            OrderStatus::AwaitingPayment,
            OrderStatus::ReadyToShip,
            OrderStatus::OnHold,
            OrderStatus::Cancelled,
        ] {
            n += self
                .table
                .orders_by_status(&Self::store(index), status, 10_000)
                .await
                .unwrap()
                .len();
        }
        n
    }
}

#[tokio::test]
async fn aupay_orders_import_once_with_the_right_status_written_back() {
    let shop = AupayShop::new().await;
    let kinds = vec![
        AupayOrderKind::KonbiniUnpaid,
        AupayOrderKind::CardPaid,
        AupayOrderKind::ManagementIdMt,
        AupayOrderKind::BankUnpaid,
        AupayOrderKind::CarrierBilling,
        AupayOrderKind::Gift,
        AupayOrderKind::CouponsPoints,
        AupayOrderKind::OptionSurcharge,
    ];
    let made = shop.generate(0, 16, Some(kinds.clone())).await;
    let (report, written) = shop.import_and_write(0).await.expect("import");
    assert_eq!(report.created.len(), 16, "{}", report.summary());
    assert!(report.held.is_empty(), "{}", report.summary());
    assert_eq!(report.writes_queued, 16, "{}", report.summary());
    assert_eq!(written.report.accepted, 16, "{}", written.report.summary());
    assert!(report.checkpoint_advanced_to.is_some());

    // Unpaid konbini/bank → 発送前入金待ち, paid → 発送待ち; recorded by the sandbox.
    let writes = shop.control.aupay_writes().await.unwrap();
    assert_eq!(writes.len(), 16);
    for (id, kind) in made.iter().zip(kinds.iter().cycle()) {
        let write = writes.iter().find(|w| &w.order_id == id).unwrap();
        let expected = if kind.awaits_prepayment() {
            "発送前入金待ち"
        } else {
            "発送待ち"
        };
        assert_eq!(write.order_status, expected, "{kind:?}");
        assert_eq!(write.from_status, "新規受付");
        let order = shop
            .table
            .get_order(&OrderId::new(&AupayShop::store(0), id))
            .await
            .unwrap()
            .unwrap();
        let expected_status = if kind.awaits_prepayment() {
            OrderStatus::AwaitingPayment
        } else {
            OrderStatus::ReadyToShip
        };
        assert_eq!(order.status, expected_status, "{kind:?}");
        // The M/T 管理ID round-trips into the SKU untouched.
        if *kind == AupayOrderKind::ManagementIdMt {
            let line = &order.destinations[0].lines[0];
            assert!(
                line.seller_sku.as_deref().unwrap().ends_with("-MT-2T"),
                "{:?}",
                line.seller_sku
            );
        }
    }

    let again = shop.import(0).await.expect("import again");
    assert!(again.created.is_empty(), "{}", again.summary());
    assert_eq!(shop.stored(0).await, 16);
    assert_eq!(
        shop.control.aupay_writes().await.unwrap().len(),
        16,
        "nothing written twice"
    );
}

#[tokio::test]
async fn a_status_change_au_pay_refuses_is_listed_by_the_shop_api_and_its_retry_goes_through() {
    let shop = AupayShop::new().await;
    let made = shop
        .generate(0, 2, Some(vec![AupayOrderKind::CardPaid]))
        .await;
    let refused_id = made[0].clone();
    let taking = shop.control.aupay_limits().await.unwrap();
    shop.control
        .aupay_set_limits(&AupayLimits {
            refuse_status_change: vec![refused_id.clone()],
            ..taking.clone()
        })
        .await
        .unwrap();
    let (report, written) = shop.import_and_write(0).await.expect("import");
    assert_eq!(report.created.len(), 2, "{}", report.summary());
    written.assert_accepted_and_refused(1, 1);

    let api = shop_api::shop_api(&shop.sdk, &shop.handles);
    let refused = shop.order(0, &refused_id).await;
    let message = assert_refused_and_listed(&api, &refused, "updateTradeStsProc").await;
    assert!(
        message.contains("編集中"),
        "au PAY's own message: {message}"
    );

    // The order is free again on au PAY; a person at the shop sends the write again.
    shop.control.aupay_set_limits(&taking).await.unwrap();
    retry_until_written(&api, &shop.app, &shop.sdk, &refused).await;
    let writes = shop.control.aupay_writes().await.unwrap();
    let to_refused: Vec<_> = writes.iter().filter(|w| w.order_id == refused_id).collect();
    assert_eq!(
        to_refused.len(),
        1,
        "written once, after the retry: {to_refused:?}"
    );
    assert_eq!(to_refused[0].order_status, "発送待ち");
}

#[tokio::test]
async fn one_stores_expired_key_never_stops_the_other() {
    let shop = AupayShop::new().await;
    shop.generate(0, 5, None).await;
    shop.generate(1, 7, None).await;
    shop.control
        .aupay_expire_key(AupayShop::shop_id(0))
        .await
        .unwrap();

    let error = shop.import(0).await.expect_err("the key is expired");
    let text = error.to_string();
    assert!(!error.is_retryable(), "{text}");
    assert!(text.contains("aupay:au-main"), "{text}");
    assert!(text.contains("apiKey"), "{text}");
    assert!(!text.contains(STORES[0].2), "the key never shows: {text}");
    assert_eq!(shop.stored(0).await, 0, "nothing half-written");
    assert_eq!(
        shop.table
            .load_checkpoint(&AupayShop::store(0))
            .await
            .unwrap(),
        None
    );

    let report = shop.import(1).await.expect("the other store imports");
    assert_eq!(report.created.len(), 7, "{}", report.summary());
    assert_eq!(shop.stored(1).await, 7);
    assert!(
        shop.table
            .load_checkpoint(&AupayShop::store(1))
            .await
            .unwrap()
            .is_some()
    );
    let writes = shop.control.aupay_writes().await.unwrap();
    assert!(writes.iter().all(|w| w.shop_id == AupayShop::shop_id(1)));

    // Renewed key: the first store catches up.
    shop.control
        .aupay_register_store(&AupayRegisterStoreRequest::new(
            AupayShop::shop_id(0),
            STORES[0].2,
        ))
        .await
        .unwrap();
    let report = shop.import(0).await.expect("after renewal");
    assert_eq!(report.created.len(), 5, "{}", report.summary());
}

#[tokio::test]
async fn an_html_502_mid_run_is_retried_and_every_order_ends_acknowledged_once() {
    let shop = AupayShop::new().await;
    let made = shop
        .generate(0, 6, Some(vec![AupayOrderKind::CardPaid]))
        .await;
    // au PAY under load mid-run: the list goes through, then two status writes get the
    // gateway's HTML page instead of XML.
    shop.control
        .aupay_bad_gateway_on("aupay.updateTradeStsProc", 2)
        .await
        .unwrap();
    let (report, written) = shop
        .import_and_write(0)
        .await
        .expect("the import completes");
    assert_eq!(report.created.len(), 6, "{}", report.summary());
    assert_eq!(written.report.accepted, 6, "{}", written.report.summary());
    assert!(written.failed_receipts.is_empty());
    let writes = shop.control.aupay_writes().await.unwrap();
    let ids: HashSet<_> = writes.iter().map(|w| w.order_id.clone()).collect();
    assert_eq!(ids, made.into_iter().collect(), "every order moved on");
    assert_eq!(writes.len(), 6, "each once");
    assert!(writes.iter().all(|w| w.order_status == "発送待ち"));
    let stats = shop.control.stats().await.unwrap();
    assert_eq!(stats.requests_for("aupay.searchTradeInfoListProc"), 1);
    assert_eq!(
        stats.requests_for("aupay.updateTradeStsProc"),
        8,
        "two HTML pages retried"
    );
}

#[tokio::test]
async fn a_lost_status_change_reply_is_sent_again_with_the_same_status() {
    let shop = AupayShop::new().await;
    let made = shop
        .generate(0, 4, Some(vec![AupayOrderKind::KonbiniUnpaid]))
        .await;
    // au PAY applies the first status change, then the gateway answers 504 with HTML.
    shop.control
        .lose_replies("aupay.updateTradeStsProc", 1)
        .await
        .unwrap();
    let (report, written) = shop
        .import_and_write(0)
        .await
        .expect("the import completes");
    assert_eq!(report.writes_queued, 4, "{}", report.summary());
    assert_eq!(written.report.accepted, 4, "{}", written.report.summary());
    let writes = shop.control.aupay_writes().await.unwrap();
    let ids: HashSet<_> = writes.iter().map(|w| w.order_id.clone()).collect();
    assert_eq!(ids, made.into_iter().collect());
    assert_eq!(writes.len(), 5, "the lost one once more");
    assert!(writes.iter().all(|w| w.order_status == "発送前入金待ち"));
    assert_eq!(shop.control.stats().await.unwrap().lost_replies, 1);
}

#[tokio::test]
async fn new_year_0005_jst_lands_on_new_years_eve_1505_utc() {
    let mut shop = AupayShop::new().await;
    shop.control
        .aupay_generate_orders(
            AupayShop::shop_id(0),
            &AupayGenerateOptions {
                order_dates: Some(vec!["2026/01/01 00:05".into()]),
                kinds: Some(vec![AupayOrderKind::KonbiniUnpaid]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let noon: JstInstant = "2026-01-01T12:00:00+09:00".parse().unwrap();
    shop.app.clock = Arc::new(FixedClock::new(noon));
    let report = shop.import(0).await.expect("import");
    assert_eq!(report.created.len(), 1, "{}", report.summary());
    let order = shop
        .table
        .get_order(&report.created[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        order.ordered_at.timestamp().to_string(),
        "2025-12-31T15:05:00Z"
    );
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    let writes = shop.control.aupay_writes().await.unwrap();
    assert_eq!(writes[0].order_status, "発送前入金待ち");
}

/// Where au PAY leaves a paid order in 発送前入金待ち (who moves it is not public), the
/// open-orders sync sees the payment, makes the order ready to ship and sends au PAY its next
/// status, 発送待ち, once; where au PAY moved it itself, nothing is written.
#[tokio::test]
async fn a_paid_order_au_pay_leaves_waiting_is_moved_on_to_hasso_machi_once() {
    let shop = AupayShop::new().await;
    let limits = ichigen_sandbox::control::AupayLimits {
        payment_moves_status: false,
        ..Default::default()
    };
    shop.control.aupay_set_limits(&limits).await.unwrap();
    let ids = shop
        .generate(
            0,
            2,
            Some(vec![
                AupayOrderKind::KonbiniUnpaid,
                AupayOrderKind::BankUnpaid,
            ]),
        )
        .await;
    shop.import(0).await.unwrap();
    let waiting_writes = shop.control.aupay_writes().await.unwrap().len();
    shop.control
        .aupay_pay(AupayShop::shop_id(0), &ids[0])
        .await
        .unwrap();

    let open_orders = ImportCommand::new(
        AupayShop::store(0),
        ImportRequest::OpenOrders { only: vec![] },
    );
    let report = match shop
        .app
        .handle(Invocation::Command(open_orders.clone()), None)
        .await
        .unwrap()
    {
        Outcome::Report(report) => *report,
        other => panic!("expected a report, got {other:?}"),
    };
    let paid = OrderId::new(&AupayShop::store(0), &ids[0]);
    assert_eq!(
        report.paid_on_mall,
        std::slice::from_ref(&paid),
        "{}",
        report.summary()
    );
    assert_eq!(report.writes_queued, 1, "{}", report.summary());
    let written = write_to_mall(&shop.app, &shop.sdk).await;
    assert_eq!(written.report.accepted, 1, "{}", written.report.summary());
    let writes = shop.control.aupay_writes().await.unwrap();
    let new: Vec<_> = writes[waiting_writes..].iter().collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        (
            new[0].order_id.as_str(),
            new[0].from_status.as_str(),
            new[0].order_status.as_str()
        ),
        (ids[0].as_str(), "発送前入金待ち", "発送待ち")
    );
    let order = shop.table.get_order(&paid).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::ReadyToShip);
    assert!(
        order
            .history
            .iter()
            .any(|e| e.event == "mall_write" && e.changes == ["updateTradeStsProc: accepted"]),
        "{:?}",
        order.history
    );

    // The next sync finds au PAY in step: nothing written again.
    shop.app
        .handle(Invocation::Command(open_orders), None)
        .await
        .unwrap();
    assert_eq!(
        shop.control.aupay_writes().await.unwrap().len(),
        waiting_writes + 1
    );
}

#[tokio::test]
async fn a_konbini_order_paid_on_au_pay_three_days_later_is_ready_to_ship_and_followed_once() {
    let mut shop = AupayShop::new().await;
    let id = shop
        .imported(1, vec![AupayOrderKind::KonbiniUnpaid])
        .await
        .remove(0);
    let before = shop.order(0, &id).await;
    assert_eq!(before.status, OrderStatus::AwaitingPayment);

    // Three days later the buyer pays: paymentDate set, 発送前入金待ち → 発送待ち.
    shop.control
        .aupay_pay(AupayShop::shop_id(0), &id)
        .await
        .unwrap();
    shop.app.clock = clock_days_later(3);
    let report = shop.open_orders(0).await;
    assert_eq!(
        report.paid_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    assert_eq!(report.changed_on_mall, vec![before.id.clone()]);
    let after = shop.order(0, &id).await;
    assert_eq!(after.status, OrderStatus::ReadyToShip, "{:?}", after.holds);
    assert!(after.payment.paid_at.is_some());
    assert!(
        events(&after).contains(&"paid_on_mall"),
        "{:?}",
        after.history
    );

    let again = shop.open_orders(0).await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(again.unchanged_on_mall, 1, "{}", again.summary());
    assert_eq!(shop.order(0, &id).await.version, after.version);
}

#[tokio::test]
async fn a_line_au_pay_cancelled_holds_the_order_naming_it_and_keeps_the_lines() {
    let shop = AupayShop::new().await;
    let made = shop.imported(8, vec![AupayOrderKind::CardPaid]).await;
    let mut three = None;
    for id in &made {
        let order = shop.order(0, id).await;
        if order.lines().count() == 3 {
            three = Some(order);
            break;
        }
    }
    let before = three.expect("a generated order with three lines");
    assert_eq!(
        before.status,
        OrderStatus::ReadyToShip,
        "{:?}",
        before.holds
    );
    let second = before.lines().nth(1).unwrap().mall_line_id.clone();

    // au PAY cancels the second line (itemCancelStatus Y). Its values are not public, so the
    // normaliser holds the order rather than dropping the line: a person checks it.
    shop.control
        .aupay_cancel_lines(AupayShop::shop_id(0), &before.mall_order_id, &[&second])
        .await
        .unwrap();
    let report = shop.open_orders(0).await;
    assert!(
        report.changed_on_mall.contains(&before.id),
        "{}",
        report.summary()
    );
    // The others did not change: the stored mall status followed our own acknowledgement
    // (新規受付 → 発送待ち), so the read finds nothing new and writes nothing.
    let other = made.iter().find(|id| **id != before.mall_order_id).unwrap();
    let other = shop.order(0, other).await;
    assert!(
        !report.changed_on_mall.contains(&other.id),
        "{}",
        report.summary()
    );
    assert!(
        other.history.iter().all(|e| e.event != "changed_on_mall"),
        "{:?}",
        other.history
    );
    assert!(
        report.lines_cancelled_on_mall.is_empty(),
        "{}",
        report.summary()
    );
    let after = shop.order(0, &before.mall_order_id).await;
    assert_eq!(after.status, OrderStatus::OnHold);
    let hold = after
        .holds
        .iter()
        .find(|h| h.kind == HoldKind::MallStatus)
        .expect("a mall-status hold");
    assert!(hold.message.contains("itemCancelStatus"), "{hold}");
    assert!(
        hold.field
            .as_deref()
            .is_some_and(|f| f.contains("itemCancelStatus")),
        "{hold:?}"
    );
    assert_eq!(after.lines().count(), 3, "no line dropped on a guess");
    assert_eq!(after.amounts, before.amounts);
    assert!(!events(&after).contains(&"lines_cancelled_on_mall"));
    assert!(
        events(&after).contains(&"mall_hold_added"),
        "{:?}",
        after.history
    );

    // Followed once: the hold is not added again.
    let again = shop.open_orders(0).await;
    assert_eq!(again.unchanged_on_mall, made.len(), "{}", again.summary());
    assert_eq!(
        shop.order(0, &before.mall_order_id).await.version,
        after.version
    );
}

#[tokio::test]
async fn a_cancel_request_on_au_pay_holds_the_order_and_its_withdrawal_releases_it() {
    let shop = AupayShop::new().await;
    let id = shop
        .imported(1, vec![AupayOrderKind::CardPaid])
        .await
        .remove(0);
    let before = shop.order(0, &id).await;
    assert_eq!(before.status, OrderStatus::ReadyToShip);

    shop.control
        .aupay_set_status(AupayShop::shop_id(0), &id, "キャンセル受付中")
        .await
        .unwrap();
    let report = shop.open_orders(0).await;
    assert_eq!(
        report.cancel_requested_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let held = shop.order(0, &id).await;
    assert_eq!(held.status, OrderStatus::OnHold);
    assert!(held.has_hold(HoldKind::CancelRequested), "{:?}", held.holds);

    // The buyer withdraws the request: au PAY puts the order back to 発送待ち.
    shop.control
        .aupay_set_status(AupayShop::shop_id(0), &id, "発送待ち")
        .await
        .unwrap();
    let report = shop.open_orders(0).await;
    assert_eq!(
        report.cancel_withdrawn_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let released = shop.order(0, &id).await;
    assert_eq!(
        released.status,
        OrderStatus::ReadyToShip,
        "{:?}",
        released.holds
    );
    assert!(released.holds.is_empty(), "{:?}", released.holds);
    assert!(
        events(&released).contains(&"mall_hold_released"),
        "{:?}",
        released.history
    );
}

#[tokio::test]
async fn an_order_au_pay_cancelled_is_cancelled_by_the_open_orders_run() {
    let shop = AupayShop::new().await;
    let id = shop
        .imported(1, vec![AupayOrderKind::BankUnpaid])
        .await
        .remove(0);
    let before = shop.order(0, &id).await;
    shop.control
        .aupay_cancel(AupayShop::shop_id(0), &id)
        .await
        .unwrap();
    let report = shop.open_orders(0).await;
    assert_eq!(
        report.cancelled_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let after = shop.order(0, &id).await;
    assert_eq!(after.status, OrderStatus::Cancelled);
    assert!(
        events(&after).contains(&"cancelled_on_mall"),
        "{:?}",
        after.history
    );
    let again = shop.open_orders(0).await;
    assert_eq!(
        again.listed,
        0,
        "a cancelled order is not open: {}",
        again.summary()
    );
}

/// The open-orders run reads every open order again, one `searchTradeInfoProc` each, through
/// the store's client paced at the shop's rate: with the sandbox refusing anything faster,
/// 1,000 open orders cost 1,000 calls, none refused and no list call. A second run finds
/// nothing changed.
#[tokio::test]
async fn a_thousand_open_orders_are_read_again_within_the_rate_budget() {
    // au PAY's 1 request/s per shop, scaled up so the test takes seconds, not 17 minutes.
    const RATE: f64 = 200.0;
    let mut shop = AupayShop::new().await;
    shop.generate(0, 1_000, Some(vec![AupayOrderKind::CardPaid]))
        .await;
    let store = AupayShop::store(0);
    let first = import_only(&shop.app, &store).await;
    assert_eq!(first.created.len(), 1_000, "{}", first.summary());
    let open = open_order_count(&shop.table, &store).await;
    assert!(open > 900, "{open} open orders");

    shop.control
        .aupay_set_limits(&AupayLimits {
            requests_per_second_per_shop: Some(RATE),
            ..AupayLimits::default()
        })
        .await
        .unwrap();
    shop.app.client_settings.requests_per_second = RATE;
    let run = follow_open_orders_counted(&shop.app, &shop.sdk, &store, &shop.control).await;
    assert_eq!(run.report.listed, open, "{}", run.report.summary());
    assert_eq!(run.calls("aupay.searchTradeInfoProc"), open as u64);
    assert_eq!(
        run.calls("aupay.searchTradeInfoListProc"),
        0,
        "open orders come from our table"
    );
    assert_eq!(run.rate_limited(), 0, "no call over au PAY's rate");
    assert!(
        run.report.changed_on_mall.is_empty(),
        "{}",
        run.report.summary()
    );

    let again = shop.open_orders(0).await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(again.unchanged_on_mall, open);
}
