//! Rakuten order import end to end: the import-orders function's code, DynamoDB and Secrets
//! Manager on the emulator, the Rakuten sandbox over real HTTP.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use ichigen_core::import::{ImportContext, ImportError, run_import};
use ichigen_core::mall::{Acknowledgement, FetchOutcome, ListedOrder, NormaliseError, Normalised};
use ichigen_core::order::RawPayload;
use ichigen_core::ports::{OrderStore, StoreConfigs, StoreError, StoredOrderSummary};
use ichigen_core::status::SyncState;
use ichigen_core::{HoldKind, ImportSettings, Mall, MallError, Order, OrderId, OrderStatus};
use ichigen_integration::*;
use ichigen_sandbox::FaultConfig;
use ichigen_sandbox::control::InsertOrderRequest;
use import_orders::FunctionError;

#[tokio::test]
async fn importing_twice_keeps_one_record_per_order_and_never_overwrites() {
    let h = Harness::new().await;
    let seeded = h.seed(60, 11, ago(hours(20)), ago(minutes(1))).await;

    let first = h.differential().await.expect("first import");
    assert_eq!(first.created.len(), 60, "{first:?}");
    assert_eq!(first.writes_queued, 60, "each order's confirmOrder queued");
    let written = h.write_to_mall().await;
    assert_eq!(written.report.accepted, 60, "{}", written.report.summary());
    assert!(first.checkpoint_advanced_to.is_some());

    // The shop edits an order after import.
    let mut edited = h.order(&seeded[0]).await.expect("imported");
    edited.notes = Some("shop: call the buyer before shipping".into());
    let expected = edited.version;
    edited.version += 1;
    h.table
        .update_order(&edited, expected)
        .await
        .expect("shop edit");

    // The second run re-reads every order: a range over all of them, not just the overlap.
    let all = ImportRequest::Range {
        from: ago(hours(21)),
        to: now(),
    };
    let second = match h.invoke(all).await.expect("second import") {
        import_orders::Outcome::Report(report) => *report,
        other => panic!("expected a report, got {other:?}"),
    };
    assert!(second.created.is_empty(), "{second:?}");
    assert_eq!(second.listed, 60, "the range lists every order");
    assert_eq!(second.already_imported, 60);
    assert_eq!(second.fetched, 0, "stored orders are not fetched again");

    let orders = h.all_orders().await;
    assert_eq!(orders.len(), 60);
    let ids: HashSet<&OrderId> = orders.iter().map(|o| &o.id).collect();
    assert_eq!(ids.len(), 60);
    let kept = h.order(&seeded[0]).await.unwrap();
    assert_eq!(
        kept.notes.as_deref(),
        Some("shop: call the buyer before shipping")
    );
    assert_eq!(kept.version, edited.version);

    // Each order was confirmed on the mall exactly once, and shows it.
    let confirmed = h.confirmed_on_mall().await;
    assert_eq!(confirmed.len(), 60);
    assert_eq!(confirmed.iter().collect::<HashSet<_>>().len(), 60);
    assert!(
        orders.iter().all(|o| o.mall_sync.state == SyncState::Done),
        "every order confirmed"
    );
}

#[tokio::test]
async fn odd_orders_are_held_with_reasons_and_do_not_block_the_others() {
    let h = Harness::new().await;
    h.seed(40, 5, ago(hours(10)), ago(minutes(1))).await;
    // A malformed field, an unreadable timestamp, and an unknown payment method.
    let template = h
        .control()
        .rakuten_order(
            &h.shop_id,
            &h.seed(1, 6, ago(hours(2)), ago(hours(2))).await[0],
        )
        .await
        .unwrap();
    let mut odd = Vec::new();
    for (n, mutate) in [
        (
            "9000000001",
            Box::new(|o: &mut serde_json::Value| {
                o["PackageModelList"][0]["ItemModelList"][0]["units"] = "two".into()
            }) as Box<dyn Fn(&mut serde_json::Value)>,
        ),
        (
            "9000000002",
            Box::new(|o: &mut serde_json::Value| {
                o["SettlementModel"]["settlementMethodCode"] = 99.into()
            }),
        ),
        (
            "9000000003",
            Box::new(|o: &mut serde_json::Value| o["goodsPrice"] = "3,300円".into()),
        ),
    ] {
        let mut order = template.clone();
        let number = format!(
            "{}-{}-{n}",
            h.shop_id,
            ago(hours(3)).date().strftime("%Y%m%d")
        );
        order["orderNumber"] = number.clone().into();
        mutate(&mut order);
        let mut insert = InsertOrderRequest::new(order);
        insert.order_datetime = Some(rakuten_time(ago(hours(3))));
        h.control()
            .rakuten_insert_order(&h.shop_id, &insert)
            .await
            .unwrap();
        odd.push(number);
    }

    let report = h
        .differential()
        .await
        .expect("import succeeds despite odd orders");
    assert_eq!(report.created.len(), 44, "{report:?}");

    let units = h
        .order(&odd[0])
        .await
        .expect("malformed order still imported");
    assert_eq!(units.status, OrderStatus::OnHold);
    let hold = units
        .holds
        .iter()
        .find(|h| h.kind == HoldKind::MalformedField)
        .expect("malformed hold");
    assert_eq!(
        hold.field.as_deref(),
        Some("PackageModelList[0].ItemModelList[0].units")
    );
    assert!(hold.message.contains("two"), "{hold:?}");

    let payment = h.order(&odd[1]).await.unwrap();
    assert!(
        payment.has_hold(HoldKind::UnknownPaymentMethod),
        "{:?}",
        payment.holds
    );
    assert!(payment.holds.iter().any(|h| h.message.contains("99")));

    let goods = h.order(&odd[2]).await.unwrap();
    assert!(
        goods
            .holds
            .iter()
            .any(|h| h.field.as_deref() == Some("goodsPrice")),
        "{:?}",
        goods.holds
    );

    // Generated odd kinds: a bad total is held with both numbers; konbini waits for payment.
    let orders = h.all_orders().await;
    assert!(orders.iter().any(|o| o.has_hold(HoldKind::TotalsMismatch)));
    assert!(
        orders
            .iter()
            .any(|o| o.status == OrderStatus::AwaitingPayment)
    );
    assert!(
        orders
            .iter()
            .filter(|o| o.holds.is_empty())
            .all(|o| o.status != OrderStatus::OnHold)
    );
}

#[tokio::test]
async fn an_expired_license_key_fails_fast_naming_store_and_credential() {
    let h = Harness::new().await;
    h.seed(10, 3, ago(hours(5)), ago(minutes(1))).await;
    h.control().rakuten_expire_key(&h.shop_id).await.unwrap();

    let error = h
        .differential()
        .await
        .expect_err("an expired key must fail the run");
    let message = error.to_string();
    assert!(message.contains("rakuten:store-a"), "{message}");
    assert!(message.contains("licenseKey"), "{message}");
    assert!(
        !message.contains("test-license-key"),
        "the key itself never appears: {message}"
    );
    assert!(matches!(
        error,
        FunctionError::Import(ImportError::Mall(MallError::CredentialRejected { .. }))
    ));
    assert!(!error.is_retryable());

    // Nothing half-written: no orders, no checkpoint, no mall writes, and no retries.
    assert!(h.all_orders().await.is_empty());
    use ichigen_core::ports::CheckpointStore;
    assert_eq!(h.table.load_checkpoint(&h.store).await.unwrap(), None);
    assert!(h.confirmed_on_mall().await.is_empty());
    let stats = h.control().stats().await.unwrap();
    assert_eq!(stats.requests.values().sum::<u64>(), 1, "{stats:?}");
}

#[tokio::test]
async fn a_flaky_mall_still_delivers_every_order_with_bounded_retries() {
    let h = Harness::new().await;
    let seeded = h.seed(250, 17, ago(hours(20)), ago(minutes(1))).await;
    h.control()
        .set_faults(&FaultConfig {
            error5xx_rate: 0.08,
            rate429_rate: 0.07,
            timeout_rate: 0.05,
            timeout_ms: 1_000,
            latency_ms: 0,
            seed: Some(99),
        })
        .await
        .unwrap();

    let report = h.differential().await.expect("import survives 20% faults");
    assert_eq!(report.created.len(), 250);
    assert_eq!(h.all_orders().await.len(), seeded.len());
    let written = h.write_to_mall().await;
    assert_eq!(written.report.accepted, 250, "{}", written.report.summary());

    // Fault-free, this takes 1 search + 3 getOrder requests and one getPayment per
    // prepayment order for the import, and one confirmOrder per batch the mall-write queue
    // delivered (ten orders at most).
    let prepaid = h
        .all_orders()
        .await
        .iter()
        .filter(|o| o.payment.method.is_prepayment())
        .count() as u64;
    let calls = 4 + prepaid + written.batches as u64;
    let stats = h.control().stats().await.unwrap();
    let total: u64 = stats.requests.values().sum();
    let injected: u64 = stats.injected.values().sum();
    assert!(injected > 0, "faults were injected: {stats:?}");
    assert_eq!(
        total - injected,
        calls,
        "every operation succeeded exactly once: {stats:?}"
    );
    assert!(
        total <= calls * 8,
        "retries stay within the attempt budget: {stats:?}"
    );
}

#[tokio::test]
async fn a_mall_that_never_recovers_stops_after_the_attempt_budget() {
    let h = Harness::new().await;
    h.seed(5, 3, ago(hours(5)), ago(minutes(1))).await;
    let faults = FaultConfig {
        error5xx_rate: 1.0,
        seed: Some(1),
        ..FaultConfig::default()
    };
    h.control().set_faults(&faults).await.unwrap();

    let error = h.differential().await.expect_err("the mall is down");
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("searchOrder"), "{error}");
    let stats = h.control().stats().await.unwrap();
    assert_eq!(
        stats.requests.values().sum::<u64>(),
        u64::from(fast_client_settings().max_attempts)
    );
}

/// The real store, with a crash injected after `remaining` successful creates.
struct CrashingStore {
    inner: Arc<ichigen_aws::ShopTable>,
    remaining: AtomicUsize,
}

#[async_trait]
impl OrderStore for CrashingStore {
    async fn create_order(&self, order: &Order) -> Result<(), StoreError> {
        if self
            .remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            return Err(StoreError::Unavailable {
                operation: "PutItem".into(),
                detail: "injected crash".into(),
            });
        }
        self.inner.create_order(order).await
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.get_order(id).await
    }
    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<(), StoreError> {
        self.inner.update_order(order, expected_version).await
    }
    async fn find_orders(
        &self,
        ids: &[OrderId],
    ) -> Result<HashMap<OrderId, StoredOrderSummary>, StoreError> {
        self.inner.find_orders(ids).await
    }
    async fn orders_owing_mall_sync(
        &self,
        store: &ichigen_core::StoreRef,
        owed_before: ichigen_core::JstInstant,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.inner
            .orders_owing_mall_sync(store, owed_before, limit)
            .await
    }
}

/// Connects to the sandbox the way the function does, for runs that need a wrapped adapter.
async fn connect(h: &Harness) -> (ichigen_core::StoreConfig, Box<dyn Mall>) {
    let config = h.table.get_store_config(&h.store).await.unwrap().unwrap();
    let secret = h.app.vault.get_secret(&config.secret_id).await.unwrap();
    let mall = ichigen_malls::connect(&h.store, &secret, &h.app.endpoints, &h.app.client_settings)
        .unwrap();
    (config, mall)
}

#[tokio::test]
async fn a_crash_before_the_checkpoint_is_recovered_by_the_rerun_with_every_order_once() {
    let h = Harness::new().await;
    h.seed(150, 23, ago(hours(20)), ago(minutes(1))).await;

    // First run: the store dies after 40 orders were handed to it (writes in flight at that
    // moment are lost with the process, so up to 40 are stored).
    let (config, mall) = connect(&h).await;
    let crashing = CrashingStore {
        inner: h.table.clone(),
        remaining: AtomicUsize::new(40),
    };
    let ctx = ImportContext {
        config: &config,
        mall: mall.as_ref(),
        orders: &crashing,
        checkpoints: h.table.as_ref(),
        failed_imports: h.table.as_ref(),
        index: h.table.as_ref(),
        writes: h.app.writes.as_ref().unwrap(),
        clock: h.app.clock.as_ref(),
        deadline: None,
    };
    let command = h.command(ImportRequest::Differential);
    let crashed = run_import(&ctx, &command)
        .await
        .expect_err("the injected crash stops the run");
    assert!(crashed.is_retryable());
    let stored = h.all_orders().await.len();
    assert!(
        (1..=40).contains(&stored),
        "{stored} orders stored before the crash"
    );
    use ichigen_core::ports::CheckpointStore;
    assert_eq!(
        h.table.load_checkpoint(&h.store).await.unwrap(),
        None,
        "no checkpoint after a crash"
    );
    let stored_ids: HashSet<String> = h
        .all_orders()
        .await
        .into_iter()
        .map(|o| o.mall_order_id)
        .collect();
    assert!(
        h.confirmed_on_mall()
            .await
            .iter()
            .all(|n| stored_ids.contains(n)),
        "only stored orders are confirmed"
    );

    // The rerun, through the function: every order exactly once, and every order confirmed
    // (the crashed run queued what it stored).
    let rerun = h.differential().await.expect("rerun");
    h.write_to_mall().await;
    assert_eq!(rerun.created.len(), 150 - stored);
    assert_eq!(rerun.already_imported, stored);
    let orders = h.all_orders().await;
    assert_eq!(orders.len(), 150);
    assert_eq!(
        orders.iter().map(|o| &o.id).collect::<HashSet<_>>().len(),
        150
    );
    let confirmed = h.confirmed_on_mall().await;
    assert_eq!(confirmed.len(), 150, "each order confirmed once");
    assert_eq!(confirmed.iter().collect::<HashSet<_>>().len(), 150);
    assert!(h.table.load_checkpoint(&h.store).await.unwrap().is_some());
}

#[tokio::test]
async fn orders_stored_while_the_mall_cannot_confirm_are_confirmed_when_it_is_back() {
    let h = Harness::new().await;
    h.seed(20, 29, ago(hours(3)), ago(minutes(1))).await;
    let first = h.differential().await.expect("orders stored");
    assert_eq!(first.created.len(), 20);
    assert_eq!(first.writes_queued, 20);
    // The orders are stored: the checkpoint moves on, and what they owe the mall is kept on
    // each order (the owed index) and in the queue, not by re-reading the window.
    assert!(first.checkpoint_advanced_to.is_some());

    // The mall is down while the writer sends: every write is given back to the queue.
    h.control()
        .set_faults(&FaultConfig {
            error5xx_rate: 1.0,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let writer = h.writer();
    let down = writer.drain().await;
    assert_eq!(down.retried(), 20, "{}", down.report.summary());
    assert_eq!(
        down.failed_receipts.len(),
        20,
        "the messages go back to the queue"
    );
    let orders = h.all_orders().await;
    assert!(
        orders.iter().all(|o| matches!(&o.mall_sync.state, SyncState::Failed { retryable: true, reason } if reason.contains("confirmOrder"))),
        "{:?}",
        orders.iter().map(|o| &o.mall_sync).collect::<Vec<_>>()
    );
    assert!(h.confirmed_on_mall().await.is_empty());

    // Back up: the queue delivers them again (after its visibility timeout, here at once).
    h.control()
        .set_faults(&FaultConfig::default())
        .await
        .unwrap();
    let back = writer.redeliver_and_drain(&down.failed_receipts).await;
    assert_eq!(back.report.accepted, 20, "{}", back.report.summary());
    assert!(back.failed_receipts.is_empty());
    assert!(
        h.all_orders()
            .await
            .iter()
            .all(|o| o.mall_sync.state == SyncState::Done && o.mall_sync.attempts == 2)
    );
    assert_eq!(h.confirmed_on_mall().await.len(), 20);
}

#[tokio::test]
async fn orders_on_window_boundaries_and_jst_midnight_are_imported_once() {
    let h = Harness::new().await;
    // The last JST midnight before now, and orders right on it and around it.
    let today = ago(hours(1)).date();
    let midnight = ichigen_core::JstInstant::from_jst_civil(today.at(0, 0, 0, 0)).unwrap();
    let second = jiff::SignedDuration::from_secs(1);
    let instants = [
        midnight.checked_sub(second).unwrap(),
        midnight,
        midnight.checked_add(second).unwrap(),
        midnight.checked_add(minutes(3)).unwrap(),
    ];
    let numbers = h.seed_at(&instants).await;
    assert!(
        numbers[0].contains(
            &midnight
                .checked_sub(second)
                .unwrap()
                .date()
                .strftime("%Y%m%d")
                .to_string()
        )
    );

    // Run 1 at exactly midnight: the window ends on the midnight order (inclusive).
    h.clock.set(midnight);
    let run1 = h.differential().await.unwrap();
    let ids = |numbers: &[String]| numbers.iter().map(|n| h.order_id(n)).collect::<Vec<_>>();
    assert_eq!(run1.created, ids(&numbers[..2]));
    assert_eq!(run1.checkpoint_advanced_to, Some(midnight));

    // Run 2 three minutes later re-reads the overlap before the checkpoint: midnight and
    // the second before it are listed again but not imported again; the next two are new.
    h.clock.set(midnight.checked_add(minutes(3)).unwrap());
    let run2 = h.differential().await.unwrap();
    assert_eq!(run2.created, ids(&numbers[2..]));
    assert_eq!(run2.already_imported, 2);

    // A range re-import whose 63-day pieces meet exactly on an order.
    let boundary = midnight.checked_sub(hours(24 * 63)).unwrap();
    let far = h.seed_at(&[boundary]).await;
    h.clock.set(midnight.checked_add(minutes(3)).unwrap());
    // 126 days and 3 minutes, one day per message: the spans meet on the order's instant.
    let runs = h
        .run_to_end(ImportRequest::Range {
            from: boundary.checked_sub(hours(24 * 63)).unwrap(),
            to: midnight.checked_add(minutes(3)).unwrap(),
        })
        .await;
    assert_eq!(runs.len(), 127);
    let windows: Vec<_> = runs.iter().flat_map(|r| r.windows.clone()).collect();
    assert!(
        windows.windows(2).all(|w| w[0].end == w[1].start),
        "contiguous spans"
    );
    assert!(windows.iter().any(|w| w.end == boundary));
    assert!(windows.iter().any(|w| w.start == boundary));
    let created: Vec<_> = runs.iter().flat_map(|r| r.created.clone()).collect();
    assert_eq!(created, ids(&far));
    assert!(
        runs.iter().all(|r| r.checkpoint_advanced_to.is_none()),
        "a range re-import never moves the checkpoint"
    );

    let all = h.all_orders().await;
    assert_eq!(all.len(), 5);
    h.write_to_mall().await;
    let confirmed = h.confirmed_on_mall().await;
    assert_eq!(
        confirmed.len(),
        5,
        "each order confirmed once: {confirmed:?}"
    );
}

#[tokio::test]
async fn nothing_before_the_sync_start_is_imported() {
    let sync_start = ago(hours(2));
    let h = Harness::with_settings(ImportSettings {
        sync_start_at: Some(sync_start),
        ..ImportSettings::default()
    })
    .await;
    let before = h
        .seed_at(&[sync_start.checked_sub(minutes(1)).unwrap()])
        .await;
    let after = h
        .seed_at(&[sync_start.checked_add(minutes(1)).unwrap()])
        .await;

    let report = h.differential().await.unwrap();
    assert_eq!(report.created, vec![h.order_id(&after[0])]);
    assert_eq!(report.windows[0].start, sync_start);

    // Even an explicit request does not import an order placed before the sync start.
    let targeted = h
        .invoke(ImportRequest::Orders {
            mall_order_ids: before.clone(),
            reimport: false,
        })
        .await
        .unwrap();
    let import_orders::Outcome::Report(targeted) = targeted else {
        panic!()
    };
    assert_eq!(targeted.before_sync_start, 1);
    assert!(h.order(&before[0]).await.is_none());
}

#[tokio::test]
async fn range_reimport_rejects_windows_the_mall_no_longer_keeps() {
    let h = Harness::new().await;
    let error = h
        .invoke(ImportRequest::Range {
            from: ago(hours(24 * 800)),
            to: ago(hours(24 * 790)),
        })
        .await
        .expect_err("older than 730 days");
    assert!(error.to_string().contains("730 days"), "{error}");
    assert!(!error.is_retryable());
}

/// The real Rakuten adapter behind a list that reports each order's status and a mall with
/// no acknowledgement: the shape of Amazon's `getOrders`, on a sandbox we can steer.
struct StatusReportingList(Box<dyn Mall>);

#[async_trait]
impl Mall for StatusReportingList {
    fn store(&self) -> &ichigen_core::StoreRef {
        self.0.store()
    }
    fn capabilities(&self) -> ichigen_core::MallCapabilities {
        ichigen_core::MallCapabilities {
            acknowledgement: None,
            ..self.0.capabilities()
        }
    }
    async fn list_orders(
        &self,
        window: ichigen_core::TimeWindow,
    ) -> Result<Vec<ListedOrder>, MallError> {
        let ids: Vec<String> = self
            .0
            .list_orders(window)
            .await?
            .into_iter()
            .map(|l| l.mall_order_id)
            .collect();
        let fetched = self.0.fetch_orders(&ids).await?;
        Ok(fetched
            .orders
            .into_iter()
            .map(|o| {
                let order = &self.0.normalise(&o.payload, now()).unwrap().orders[0];
                ListedOrder::id(o.mall_order_id).with_mall_status(order.mall_status.code.clone())
            })
            .collect())
    }
    async fn fetch_orders(&self, ids: &[String]) -> Result<FetchOutcome, MallError> {
        self.0.fetch_orders(ids).await
    }
    fn normalise(
        &self,
        payload: &RawPayload,
        at: ichigen_core::JstInstant,
    ) -> Result<Normalised, NormaliseError> {
        self.0.normalise(payload, at)
    }
    fn needs_acknowledgement(&self, _: &Order) -> bool {
        false
    }
    async fn acknowledge(&self, _: &[Order]) -> Result<Vec<Acknowledgement>, MallError> {
        panic!("this mall has no acknowledgement")
    }
}

#[tokio::test]
async fn a_stored_order_the_list_shows_moved_on_the_mall_is_refreshed_once_not_duplicated() {
    let h = Harness::new().await;
    // Inside the overlap, so every run lists them again.
    let seeded = h.seed(10, 31, ago(minutes(25)), ago(minutes(5))).await;
    let (config, mall) = connect(&h).await;
    let mall = StatusReportingList(mall);
    let ctx = ImportContext {
        config: &config,
        mall: &mall,
        orders: h.table.as_ref(),
        checkpoints: h.table.as_ref(),
        failed_imports: h.table.as_ref(),
        index: h.table.as_ref(),
        writes: h.app.writes.as_ref().unwrap(),
        clock: h.app.clock.as_ref(),
        deadline: None,
    };
    let differential = h.command(ImportRequest::Differential);
    let run = || run_import(&ctx, &differential);
    let first = run().await.expect("first run");
    assert_eq!(first.created.len(), 10, "{}", first.summary());
    let before = h.order(&seeded[0]).await.unwrap();

    // On the mall, one order moves on (Rakuten 100 → 300) while the shop has edited it.
    let mut edited = before.clone();
    edited
        .operator
        .edited_fields
        .insert(ichigen_core::import::merge::editable::DESIRED_DATE.into());
    edited.delivery.desired_date = Some("2026-12-24".parse().unwrap());
    edited.version += 1;
    h.table.update_order(&edited, before.version).await.unwrap();
    h.control()
        .rakuten_set_progress(&h.shop_id, &seeded[0], 300)
        .await
        .unwrap();

    let second = run().await.expect("second run");
    assert!(second.created.is_empty(), "{}", second.summary());
    assert_eq!(
        second.changed_on_mall,
        vec![before.id.clone()],
        "{}",
        second.summary()
    );
    assert_eq!(second.already_imported, 9);
    assert_eq!(second.fetched, 1, "only the moved order is fetched again");
    let after = h.order(&seeded[0]).await.unwrap();
    assert_eq!(after.mall_status.code, "300");
    assert_eq!(
        after.delivery.desired_date,
        Some("2026-12-24".parse().unwrap()),
        "the shop's edit kept"
    );
    let entry = after.history.last().unwrap();
    assert_eq!(entry.event, "changed_on_mall");
    assert!(
        entry.changes.iter().any(|c| c == "mall_status: 100 → 300"),
        "{entry:?}"
    );
    assert_eq!(h.all_orders().await.len(), 10, "nothing imported twice");

    // Nothing moved since: nothing is refreshed again.
    let third = run().await.expect("third run");
    assert!(third.changed_on_mall.is_empty(), "{}", third.summary());
    assert_eq!(third.fetched, 0);
}

/// One order Rakuten has confirmed (progress 300), imported ready to ship without holds.
async fn imported_ready_order(h: &Harness) -> Order {
    let seeded = h.seed(8, 17, ago(minutes(50)), ago(minutes(5))).await;
    let report = h.differential().await.expect("import");
    assert_eq!(report.created.len(), 8, "{}", report.summary());
    for number in &seeded {
        let order = h.order(number).await.unwrap();
        if order.status == OrderStatus::ReadyToShip && order.holds.is_empty() {
            return order;
        }
    }
    panic!("no generated order is ready to ship without holds");
}

#[tokio::test]
async fn a_cancel_request_on_rakuten_holds_the_order_and_its_withdrawal_releases_it() {
    let h = Harness::new().await;
    let before = imported_ready_order(&h).await;
    let number = before.mall_order_id.clone();

    // The buyer asks to cancel: orderProgress 800 キャンセル確定待ち.
    h.control()
        .rakuten_set_progress(&h.shop_id, &number, 800)
        .await
        .unwrap();
    let report = follow_open_orders(&h.app, &h.sdk, &h.store).await;
    assert_eq!(
        report.cancel_requested_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let held = h.order(&number).await.unwrap();
    assert_eq!(held.status, OrderStatus::OnHold);
    assert!(held.has_hold(HoldKind::CancelRequested), "{:?}", held.holds);

    // The request is withdrawn: back to 300 発送待ち, the hold goes with it.
    h.control()
        .rakuten_set_progress(&h.shop_id, &number, 300)
        .await
        .unwrap();
    let report = follow_open_orders(&h.app, &h.sdk, &h.store).await;
    assert_eq!(
        report.cancel_withdrawn_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let released = h.order(&number).await.unwrap();
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

    // Nothing moved since.
    let again = follow_open_orders(&h.app, &h.sdk, &h.store).await;
    assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    assert_eq!(h.order(&number).await.unwrap().version, released.version);
}

#[tokio::test]
async fn an_order_rakuten_cancelled_is_cancelled_by_the_open_orders_run() {
    let h = Harness::new().await;
    let before = imported_ready_order(&h).await;
    let number = before.mall_order_id.clone();
    h.control()
        .rakuten_set_progress(&h.shop_id, &number, 900)
        .await
        .unwrap();
    let report = follow_open_orders(&h.app, &h.sdk, &h.store).await;
    assert_eq!(
        report.cancelled_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    let after = h.order(&number).await.unwrap();
    assert_eq!(after.status, OrderStatus::Cancelled);
    assert!(
        events(&after).contains(&"cancelled_on_mall"),
        "{:?}",
        after.history
    );
}

// ---------------------------------------------------------------------------------------------
// Rakuten payments (getPayment) and lines cancelled on the mall, followed by the open-orders
// run. Kept in one block at the end of the file.

mod rakuten_payment_and_lines {
    use super::*;
    use ichigen_sandbox::control::{GenerateOptions, OrderKind};

    fn open_orders() -> ImportRequest {
        ImportRequest::OpenOrders { only: Vec::new() }
    }

    async fn run(h: &Harness, request: ImportRequest) -> ichigen_core::import::ImportReport {
        match h.invoke(request).await.expect("import run") {
            import_orders::Outcome::Report(report) => *report,
            other => panic!("expected a report, got {other:?}"),
        }
    }

    async fn generate(h: &Harness, kinds: Vec<OrderKind>, count: usize) -> Vec<String> {
        let mut options = GenerateOptions::spread(
            count,
            rakuten_time(ago(hours(3))),
            rakuten_time(ago(hours(1))),
        );
        options.kinds = Some(kinds);
        options.seed = Some(5);
        h.generate(&options).await
    }

    #[tokio::test]
    async fn a_bank_transfer_paid_three_days_later_is_ready_to_ship_after_the_open_orders_run() {
        let h = Harness::new().await;
        let numbers = generate(
            &h,
            vec![OrderKind::BankTransfer, OrderKind::KonbiniUnpaid],
            2,
        )
        .await;

        let first = h.differential().await.expect("import");
        assert_eq!(first.created.len(), 2, "{}", first.summary());
        for number in &numbers {
            let order = h.order(number).await.unwrap();
            assert_eq!(order.status, OrderStatus::AwaitingPayment, "{number}");
            assert_eq!(order.payment.paid_at, None);
        }

        // Nothing paid yet: the open-orders run takes no payment (it may take the mall
        // status confirmOrder moved, 100 → 300).
        let unpaid = run(&h, open_orders()).await;
        assert!(unpaid.paid_on_mall.is_empty(), "{}", unpaid.summary());
        for number in &numbers {
            let order = h.order(number).await.unwrap();
            assert_eq!(order.status, OrderStatus::AwaitingPayment, "{number}");
        }

        // Three days later the buyer pays the bank transfer.
        let later = now().checked_add(hours(72)).unwrap();
        h.clock.set(later);
        h.control()
            .rakuten_pay(&h.shop_id, &numbers[0], Some(&rakuten_time(later)))
            .await
            .unwrap();
        let paid_run = run(&h, open_orders()).await;
        let paid_id = h.order_id(&numbers[0]);
        assert_eq!(
            paid_run.paid_on_mall,
            vec![paid_id.clone()],
            "{}",
            paid_run.summary()
        );
        let paid = h.order(&numbers[0]).await.unwrap();
        assert_eq!(paid.status, OrderStatus::ReadyToShip);
        assert_eq!(
            paid.payment.paid_at,
            Some(rakuten_time(later).parse().unwrap()),
            "paid when Rakuten fixed the payment"
        );
        assert!(
            paid.history.iter().any(|e| e.event == "paid_on_mall"),
            "{:?}",
            paid.history
        );
        let konbini = h.order(&numbers[1]).await.unwrap();
        assert_eq!(
            konbini.status,
            OrderStatus::AwaitingPayment,
            "not paid on the mall"
        );

        // A second run changes nothing.
        let again = run(&h, open_orders()).await;
        assert!(again.paid_on_mall.is_empty(), "{}", again.summary());
        assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
        assert_eq!(h.order(&numbers[0]).await.unwrap().version, paid.version);
    }

    /// A generated order with at least three lines in its first package: one the generator
    /// made, or (if none of the first ones has three) one widened to three lines.
    async fn order_with_three_lines(h: &Harness) -> String {
        let numbers = generate(h, vec![OrderKind::Plain], 20).await;
        for number in &numbers {
            let order = h.control().rakuten_order(&h.shop_id, number).await.unwrap();
            if order["PackageModelList"][0]["ItemModelList"]
                .as_array()
                .unwrap()
                .len()
                >= 3
            {
                return number.clone();
            }
        }
        let number = numbers[0].clone();
        let mut order = h
            .control()
            .rakuten_order(&h.shop_id, &number)
            .await
            .unwrap();
        let items = order["PackageModelList"][0]["ItemModelList"]
            .as_array_mut()
            .unwrap();
        let first = items[0].clone();
        let mut extra = 1;
        while items.len() < 3 {
            let mut line = first.clone();
            let id = first["itemDetailId"].as_i64().unwrap() + 100_000 * extra;
            line["itemDetailId"] = id.into();
            items.push(line);
            extra += 1;
        }
        ichigen_sandbox::rakuten::generator::recompute_totals(&mut order);
        h.control()
            .rakuten_insert_order(&h.shop_id, &InsertOrderRequest::new(order))
            .await
            .unwrap();
        number
    }

    #[tokio::test]
    async fn one_line_of_three_cancelled_on_the_mall_is_retotalled_and_named_in_the_history() {
        let h = Harness::new().await;
        let number = order_with_three_lines(&h).await;
        let first = h.differential().await.expect("import");
        assert!(
            first.created.contains(&h.order_id(&number)),
            "{}",
            first.summary()
        );
        let before = h.order(&number).await.unwrap();
        assert_eq!(
            before.status,
            OrderStatus::ReadyToShip,
            "{:?}",
            before.holds
        );
        assert_eq!(before.lines().count(), 3);

        let mall_order = h
            .control()
            .rakuten_order(&h.shop_id, &number)
            .await
            .unwrap();
        let gone = mall_order["PackageModelList"][0]["ItemModelList"][1]["itemDetailId"]
            .as_i64()
            .unwrap();
        let after_mall = h
            .control()
            .rakuten_cancel_line(&h.shop_id, &number, gone)
            .await
            .unwrap();

        let report = run(&h, open_orders()).await;
        let after = h.order(&number).await.unwrap();
        assert_line_cancelled(&report, &before, &after, &gone.to_string());
        assert_eq!(
            after.amounts.billed,
            after_mall["requestPrice"].as_i64().unwrap(),
            "the mall's new total billed"
        );

        let again = run(&h, open_orders()).await;
        assert!(again.changed_on_mall.is_empty(), "{}", again.summary());
    }
}
