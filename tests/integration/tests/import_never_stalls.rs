//! The import path under the failures a shop meets over months: orders the mall lists but will
//! not return, orders too large to store, a mall that reports cancellations, replies lost
//! after the mall acted, keys lapsing mid-run, short listings, a lagging search index, a sync
//! start in the past, operator work on re-import, concurrent runs of one store, and logs at
//! trace level. Function code, the emulator and the Rakuten sandbox over real HTTP.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use ichigen_core::import::{ImportCommand, ImportContext, run_import};
use ichigen_core::ports::{
    CheckpointStore, FailedImportStore, ImportStep, OrderStore, StoreConfigs,
};
use ichigen_core::status::SyncState;
use ichigen_core::{Hold, HoldKind, ImportSettings, OrderStatus};
use ichigen_integration::*;
use ichigen_sandbox::FaultConfig;
use ichigen_sandbox::control::RakutenLimits;
use ichigen_sandbox::control::{InsertOrderRequest, OrderFault, RegisterStoreRequest};
use import_orders::Invocation;

#[tokio::test]
async fn orders_the_mall_will_not_return_are_quarantined_and_recovered_without_blocking() {
    let h = Harness::new().await;
    let numbers = h.seed(52, 61, ago(hours(6)), ago(minutes(5))).await;
    let (missing, unreadable) = (&numbers[10], &numbers[40]);
    let control = h.control();
    control
        .rakuten_set_order_fault(&h.shop_id, missing, OrderFault::OmittedFromGetOrder)
        .await
        .unwrap();
    control
        .rakuten_set_order_fault(&h.shop_id, unreadable, OrderFault::UnreadableInGetOrder)
        .await
        .unwrap();

    let first = h.differential().await.expect("the store is not blocked");
    assert_eq!(first.created.len(), 50, "{}", first.summary());
    assert!(
        first.checkpoint_advanced_to.is_some(),
        "the checkpoint moves on"
    );
    let quarantined: HashSet<&str> = first
        .quarantined
        .iter()
        .map(|f| f.mall_order_id.as_str())
        .collect();
    assert_eq!(
        quarantined,
        HashSet::from([missing.as_str(), unreadable.as_str()])
    );
    let failed = h.table.failed_imports(&h.store).await.unwrap();
    assert_eq!(failed.len(), 2);
    for f in &failed {
        assert_eq!(f.step, ImportStep::Fetch);
        assert_eq!(f.attempts, 1);
        assert!(f.error.contains("did not return"), "{}", f.error);
        assert!(f.next_attempt_at.is_some());
    }

    // The next run, once the backoff is due, retries them on its own; the mall still fails.
    h.clock.set(now().checked_add(minutes(4)).unwrap());
    let second = h.differential().await.unwrap();
    assert_eq!(second.quarantine_retried, 2);
    assert_eq!(second.quarantined.len(), 2);
    let failed = h.table.failed_imports(&h.store).await.unwrap();
    assert!(failed.iter().all(|f| f.attempts == 2));

    // The mall returns them again: imported once, quarantine cleared.
    for n in [missing, unreadable] {
        control
            .rakuten_set_order_fault(&h.shop_id, n, OrderFault::None)
            .await
            .unwrap();
    }
    h.clock.set(now().checked_add(minutes(15)).unwrap());
    let third = h.differential().await.unwrap();
    let recovered: HashSet<&str> = third.recovered.iter().map(String::as_str).collect();
    assert_eq!(
        recovered,
        HashSet::from([missing.as_str(), unreadable.as_str()])
    );
    assert_eq!(third.created.len(), 2);
    assert!(h.table.failed_imports(&h.store).await.unwrap().is_empty());
    assert_eq!(h.all_orders().await.len(), 52);
    h.write_to_mall().await;
    let confirmed = h.confirmed_on_mall().await;
    assert_eq!(confirmed.len(), 52);
    assert_eq!(confirmed.iter().collect::<HashSet<_>>().len(), 52);
}

/// Text that gzip cannot shrink much: the order stays too large even compressed.
fn incompressible(len: usize) -> String {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 90) as u8)
        })
        .collect()
}

#[tokio::test]
async fn an_order_too_large_to_store_is_quarantined_and_later_batches_import() {
    let h = Harness::new().await;
    let numbers = h.seed(230, 67, ago(hours(6)), ago(minutes(5))).await;
    // One order of the first getOrder batch gets 600 KB of remarks.
    let huge = &numbers[30];
    let mut order = h.control().rakuten_order(&h.shop_id, huge).await.unwrap();
    order["remarks"] = incompressible(600 * 1024).into();
    h.control()
        .rakuten_insert_order(&h.shop_id, &InsertOrderRequest::new(order))
        .await
        .unwrap();

    let report = h.differential().await.expect("the run goes on");
    assert_eq!(report.created.len(), 229, "{}", report.summary());
    assert_eq!(report.quarantined.len(), 1);
    let failure = &report.quarantined[0];
    assert_eq!(&failure.mall_order_id, huge);
    assert!(
        failure.error.contains("over the 409600-byte item limit"),
        "{}",
        failure.error
    );
    assert!(report.checkpoint_advanced_to.is_some());
    let failed = h.table.failed_imports(&h.store).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].step, ImportStep::Store);
    assert!(h.order(huge).await.is_none());
}

#[tokio::test]
async fn a_cancellation_the_mall_reports_cancels_our_order_with_history() {
    let h = Harness::new().await;
    let numbers = h.seed(3, 71, ago(hours(2)), ago(minutes(5))).await;
    let report = h.differential().await.unwrap();
    assert_eq!(report.writes_queued, 3, "{}", report.summary());
    // Before the mall-writer sends confirmOrder, the buyer cancels on the mall.
    h.control()
        .rakuten_set_progress(&h.shop_id, &numbers[1], 900)
        .await
        .unwrap();

    let written = h.write_to_mall().await;
    assert_eq!(written.report.accepted, 2, "{}", written.report.summary());
    assert_eq!(
        written.report.cancelled_on_mall,
        vec![h.order_id(&numbers[1])]
    );
    let cancelled = h.order(&numbers[1]).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.mall_sync.state, SyncState::Done);
    let entry = cancelled.history.last().unwrap();
    assert_eq!(entry.event, "cancelled_on_mall");
    assert!(
        entry.changes[0].contains("→ cancelled"),
        "{:?}",
        entry.changes
    );
    for n in [&numbers[0], &numbers[2]] {
        assert_ne!(h.order(n).await.unwrap().status, OrderStatus::Cancelled);
    }
}

#[tokio::test]
async fn a_confirmation_applied_but_whose_reply_was_lost_is_not_applied_twice() {
    let h = Harness::new().await;
    h.seed(12, 73, ago(hours(2)), ago(minutes(5))).await;
    h.control()
        .lose_replies("rakuten.confirmOrder", 1)
        .await
        .unwrap();
    let report = h.differential().await.unwrap();
    assert_eq!(report.created.len(), 12);
    let written = h.write_to_mall().await;
    let summary = written.report.summary();
    assert_eq!(written.report.received, 12, "{summary}");
    assert_eq!(
        written.report.accepted + written.report.not_needed,
        12,
        "{summary}"
    );
    let orders = h.all_orders().await;
    assert!(orders.iter().all(|o| o.mall_sync.state == SyncState::Done));
    // The mall applied the first call; the retry found them confirmed (nothing applied twice).
    let confirmed = h.confirmed_on_mall().await;
    assert_eq!(confirmed.len(), 12);
    assert_eq!(confirmed.iter().collect::<HashSet<_>>().len(), 12);
    // One confirmOrder per batch the queue delivered (ten messages at most), and the one retry.
    let stats = h.control().stats().await.unwrap();
    assert_eq!(
        stats.requests_for("rakuten.confirmOrder"),
        written.batches as u64 + 1
    );
}

#[tokio::test]
async fn the_same_write_delivered_twice_is_sent_to_the_mall_once() {
    let h = Harness::new().await;
    h.seed(12, 75, ago(hours(2)), ago(minutes(5))).await;
    h.differential().await.unwrap();
    let writer = h.writer();
    // SQS delivers at least once: the same batch reaches the writer twice (say its delete
    // was lost), back to back and then again later.
    let handled = std::sync::Mutex::new(Vec::new());
    let (handled_ref, app) = (&handled, &writer.app);
    let delivered = writer
        .source
        .deliver(|event| async move {
            let first = app.handle(event.clone()).await;
            let again = app.handle(event).await;
            let response = first.response.clone();
            handled_ref.lock().unwrap().extend([first, again]);
            response
        })
        .await
        .unwrap()
        .expect("a batch");
    let mut handled = handled.into_inner().unwrap();
    let again = handled.pop().unwrap();
    let first = handled.pop().unwrap();
    assert_eq!(delivered.received, 10, "a batch is ten messages at most");
    assert_eq!(
        first.reports[0].accepted,
        10,
        "{}",
        first.reports[0].summary()
    );
    assert_eq!(
        again.reports[0].duplicates,
        10,
        "{}",
        again.reports[0].summary()
    );
    assert!(again.response.batch_item_failures.is_empty());
    let rest = writer.drain().await;
    assert_eq!(rest.report.accepted, 2);
    let confirmed = h.confirmed_on_mall().await;
    assert_eq!(
        confirmed.len(),
        12,
        "each order confirmed once: {confirmed:?}"
    );
    assert_eq!(confirmed.iter().collect::<HashSet<_>>().len(), 12);
    // The import run finds nothing owed: no write is queued again.
    let next = h.differential().await.unwrap();
    assert_eq!(next.writes_queued + next.writes_queued_again, 0);
}

/// The shop renews the store's key: the mall takes the new one, the secret holds it.
async fn renew_key(h: &Harness, license_key: &str) {
    h.control()
        .rakuten_register_store(&RegisterStoreRequest::new(
            &h.shop_id,
            "test-service-secret",
            license_key,
        ))
        .await
        .unwrap();
    let config = h.table.get_store_config(&h.store).await.unwrap().unwrap();
    ichigen_aws::put_secret(
        &h.sdk,
        &config.secret_id,
        &serde_json::json!({"serviceSecret": "test-service-secret", "licenseKey": license_key}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_key_lapsing_before_the_writes_keeps_them_owed_and_the_renewed_key_sends_them() {
    let h = Harness::new().await;
    h.seed(8, 79, ago(hours(2)), ago(minutes(5))).await;
    let report = h.differential().await.unwrap();
    assert_eq!(report.writes_queued, 8);
    h.control()
        .rakuten_reject_operation(&h.shop_id, "confirmOrder")
        .await
        .unwrap();
    let writer = h.writer();
    let lapsed = writer.drain().await;
    assert_eq!(lapsed.retried(), 8, "{}", lapsed.report.summary());
    let reason = &lapsed.report.to_retry[0].reason;
    assert!(
        reason.contains("rakuten:store-a") && reason.contains("licenseKey"),
        "{reason}"
    );
    assert!(!reason.contains("test-license-key"), "{reason}");
    let orders = h.all_orders().await;
    assert_eq!(orders.len(), 8, "stored orders stay");
    assert!(orders.iter().all(|o| o.mall_sync.is_outstanding()));

    renew_key(&h, "renewed-key-2").await;
    let renewed = writer.redeliver_and_drain(&lapsed.failed_receipts).await;
    assert_eq!(renewed.report.accepted, 8, "{}", renewed.report.summary());
    assert!(
        h.all_orders()
            .await
            .iter()
            .all(|o| o.mall_sync.state == SyncState::Done)
    );
    assert_eq!(h.confirmed_on_mall().await.len(), 8);
}

#[tokio::test]
async fn a_short_listing_fails_the_run_retryably_and_keeps_the_checkpoint() {
    let h = Harness::new().await;
    h.seed(1_100, 83, ago(hours(20)), ago(minutes(5))).await;
    h.control()
        .rakuten_set_limits(&RakutenLimits {
            drop_search_page: Some(2),
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let error = h.differential().await.expect_err("a short listing");
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("searchOrder"), "{error}");
    assert_eq!(h.table.load_checkpoint(&h.store).await.unwrap(), None);
}

#[tokio::test]
async fn an_order_that_shows_up_in_search_ten_minutes_late_is_imported() {
    let h = Harness::new().await;
    let ordered_at = ago(minutes(20));
    let late = h.seed_at(&[ordered_at]).await.remove(0);
    h.control()
        .rakuten_set_order_fault(&h.shop_id, &late, OrderFault::HiddenFromSearch)
        .await
        .unwrap();
    let at = |m: i64| ordered_at.checked_add(minutes(m)).unwrap();
    // A run every three minutes; the order is searchable from ten minutes after it was placed.
    for minute in [1, 4, 7] {
        h.clock.set(at(minute));
        let report = h.differential().await.unwrap();
        assert!(report.created.is_empty());
    }
    h.control()
        .rakuten_set_order_fault(&h.shop_id, &late, OrderFault::None)
        .await
        .unwrap();
    h.clock.set(at(10));
    let report = h.differential().await.unwrap();
    assert_eq!(report.created, vec![h.order_id(&late)]);
}

#[tokio::test]
async fn the_first_run_imports_everything_since_a_sync_start_ten_days_back() {
    let sync_start = ago(hours(24 * 10));
    let h = Harness::with_settings(ImportSettings {
        sync_start_at: Some(sync_start),
        ..ImportSettings::default()
    })
    .await;
    let numbers = h
        .seed(
            120,
            89,
            sync_start.checked_add(minutes(1)).unwrap(),
            ago(minutes(5)),
        )
        .await;
    let runs = h.run_to_end(ImportRequest::Differential).await;
    let created: usize = runs.iter().map(|r| r.created.len()).sum();
    assert_eq!(created, numbers.len());
    let checkpoint = h.table.load_checkpoint(&h.store).await.unwrap().unwrap();
    assert!(checkpoint.imported_until >= ago(minutes(5)));
    assert!(runs[0].windows[0].start <= sync_start.checked_add(minutes(1)).unwrap());
}

#[tokio::test]
async fn a_run_past_its_deadline_stops_at_a_batch_boundary_and_leaves_the_rest() {
    let h = Harness::new().await;
    h.seed(250, 97, ago(hours(6)), ago(minutes(5))).await;
    let config = h.table.get_store_config(&h.store).await.unwrap().unwrap();
    let secret = h.app.vault.get_secret(&config.secret_id).await.unwrap();
    let mall = ichigen_malls::connect(&h.store, &secret, &h.app.endpoints, &h.app.client_settings)
        .unwrap();
    let ctx = ImportContext {
        config: &config,
        mall: mall.as_ref(),
        orders: h.table.as_ref(),
        checkpoints: h.table.as_ref(),
        failed_imports: h.table.as_ref(),
        index: h.table.as_ref(),
        writes: h.app.writes.as_ref().unwrap(),
        clock: h.app.clock.as_ref(),
        // Already past: one batch runs (progress), then the run stops.
        deadline: Some(std::time::Instant::now()),
    };
    let first = run_import(&ctx, &h.command(ImportRequest::Differential))
        .await
        .unwrap();
    assert_eq!(first.created.len(), 100, "one getOrder batch");
    assert_eq!(first.unfinished, Some(ImportRequest::Differential));
    assert_eq!(first.checkpoint_advanced_to, None);
    // The continuation (what the function queues) finishes the window.
    let rest = h.run_to_end(ImportRequest::Differential).await;
    assert_eq!(rest.iter().map(|r| r.created.len()).sum::<usize>(), 150);
    assert_eq!(h.all_orders().await.len(), 250);
}

#[tokio::test]
async fn a_reimport_keeps_a_persons_hold_and_note_and_refreshes_the_mall_fields() {
    let h = Harness::new().await;
    let numbers = h.seed(1, 101, ago(hours(2)), ago(minutes(5))).await;
    h.differential().await.unwrap();
    h.write_to_mall().await;
    let mut order = h.order(&numbers[0]).await.unwrap();
    let expected = order.version;
    order
        .place_hold(Hold::by_operator("buyer phoned: wait"))
        .unwrap();
    order
        .operator
        .notes
        .push(ichigen_core::order::OperatorNote {
            at: now(),
            by: "operator".into(),
            text: "call back Monday".into(),
        });
    order.version += 1;
    h.table.update_order(&order, expected).await.unwrap();

    // On the mall the order moves on (confirmed → 300).
    h.control()
        .rakuten_set_progress(&h.shop_id, &numbers[0], 300)
        .await
        .unwrap();
    h.invoke(ImportRequest::Orders {
        mall_order_ids: numbers.clone(),
        reimport: true,
    })
    .await
    .unwrap();
    let refreshed = h.order(&numbers[0]).await.unwrap();
    assert_eq!(refreshed.mall_status.code, "300", "mall fields refreshed");
    assert_eq!(refreshed.status, OrderStatus::OnHold, "the hold stays");
    assert!(refreshed.has_hold(HoldKind::Manual));
    assert_eq!(refreshed.operator.notes[0].text, "call back Monday");
    let entry = refreshed.history.last().unwrap();
    assert_eq!(entry.event, "reimported");
    // The stored mall status followed confirmOrder already (100 → 300): not a re-import change.
    assert!(
        entry.changes.iter().all(|c| !c.starts_with("mall_status")),
        "{:?}",
        entry.changes
    );
}

#[tokio::test]
async fn concurrent_runs_of_one_store_never_exceed_the_mall_rate() {
    let mut h = Harness::new().await;
    // One client at 5 requests/s stays under the mall's 10/s; three clients at once would not.
    h.app.client_settings.requests_per_second = 5.0;
    h.control()
        .rakuten_set_limits(&RakutenLimits {
            requests_per_second: Some(10.0),
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let numbers = h.seed(300, 103, ago(hours(6)), ago(minutes(5))).await;
    let targeted = |ids: &[String]| ImportRequest::Orders {
        mall_order_ids: ids.to_vec(),
        reimport: false,
    };
    let (a, b, c) = tokio::join!(
        h.invoke(ImportRequest::Differential),
        h.invoke(targeted(&numbers[..150])),
        h.invoke(targeted(&numbers[150..])),
    );
    for outcome in [a, b, c] {
        outcome.expect("each run succeeds");
    }
    let stats = h.control().stats().await.unwrap();
    assert_eq!(
        stats.rate_limited, 0,
        "the sandbox never saw more than its rate"
    );
    assert_eq!(h.all_orders().await.len(), 300);
}

/// The import and the mall-writer, each pacing itself at the store's rate, call Rakuten at the
/// same time: `shared` = with the store's rate budget in the table, as deployed. Returns the
/// requests the sandbox refused for its rate.
async fn import_beside_writer(shared: bool) -> u64 {
    use ichigen_sandbox::control::{GenerateOptions, OrderKind};
    let h = Harness::new().await;
    // Bank-transfer and konbini orders: re-reading one asks getPayment, a call of its own, so
    // the re-import below calls the mall back to back.
    let mut options = GenerateOptions::spread(
        130,
        rakuten_time(ago(hours(6))),
        rakuten_time(ago(minutes(5))),
    );
    options.seed = Some(107);
    options.kinds = Some(vec![OrderKind::KonbiniUnpaid, OrderKind::BankTransfer]);
    let numbers = h.generate(&options).await;
    // Imported at full speed; their 130 confirmations are queued, not sent yet.
    h.differential().await.unwrap();

    // From here the mall takes 2 requests/s, and each function keeps to 2 on its own.
    h.control()
        .rakuten_set_limits(&RakutenLimits {
            requests_per_second: Some(2.0),
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let mut import = cold_app(&h.app, &h.sdk);
    import.client_settings.requests_per_second = 2.0;
    if !shared {
        import.client_settings.rate_budget = None;
    }
    let writer = Writer::following(&import, &h.sdk, &h.handles.write_queue_url);
    let before = h.control().stats().await.unwrap();
    // The writer confirms the 130 orders (13 calls) while the import re-reads 30 of them
    // (one getOrder, 30 getPayment).
    let reimport = ImportCommand::new(
        h.store.clone(),
        ImportRequest::Orders {
            mall_order_ids: numbers[..30].to_vec(),
            reimport: true,
        },
    );
    let (drained, reimported) = tokio::join!(
        writer.drain(),
        import.handle(Invocation::Command(reimport), None)
    );
    reimported.expect("the re-import runs");
    let after = h.control().stats().await.unwrap();
    if shared {
        assert!(drained.failed_receipts.is_empty(), "{drained:?}");
        let confirmed: HashSet<String> = h.confirmed_on_mall().await.into_iter().collect();
        assert_eq!(confirmed.len(), 130, "every order confirmed");
    }
    after.rate_limited - before.rate_limited
}

#[tokio::test]
async fn the_import_and_the_mall_writer_share_one_rate_budget_per_store() {
    let alone = import_beside_writer(false).await;
    assert!(
        alone > 0,
        "without the shared budget the two functions together exceed the mall's rate"
    );
    let shared = import_beside_writer(true).await;
    assert_eq!(
        shared, 0,
        "with it the sandbox never sees more than its rate"
    );
}

/// Captures everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_buyer_data_reaches_the_logs_even_at_trace() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(captured.clone())
        .with_env_filter(import_orders::log_filter(Some("trace")))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::new().await;
    h.seed(30, 107, ago(hours(3)), ago(minutes(5))).await;
    // Odd orders too: a malformed field in a personal-data block must not be quoted either.
    let numbers = h.seed(1, 109, ago(hours(2)), ago(hours(2))).await;
    let mut odd = h
        .control()
        .rakuten_order(&h.shop_id, &numbers[0])
        .await
        .unwrap();
    odd["OrdererModel"]["phoneNumber1"] = serde_json::json!({"not": "a phone"});
    h.control()
        .rakuten_insert_order(&h.shop_id, &InsertOrderRequest::new(odd))
        .await
        .unwrap();
    h.control()
        .set_faults(&FaultConfig {
            error5xx_rate: 0.2,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    h.differential().await.expect("import");
    h.invoke(ImportRequest::Orders {
        mall_order_ids: numbers,
        reimport: true,
    })
    .await
    .expect("re-import");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("import finished"), "the capture works");
    let orders = h.all_orders().await;
    assert_eq!(orders.len(), 31);
    let mut personal: Vec<String> = Vec::new();
    for o in &orders {
        personal.push(o.buyer.name.clone());
        personal.extend(o.buyer.email.clone());
        personal.extend(o.buyer.phone.clone());
        if let Some(a) = &o.buyer.address {
            personal.push(a.street.clone());
        }
        for d in &o.destinations {
            personal.push(d.recipient_name.clone());
            personal.push(d.address.street.clone());
            personal.extend(d.phone.clone());
        }
    }
    personal.retain(|p| p.chars().count() >= 4);
    assert!(personal.len() > 60, "{} values checked", personal.len());
    for value in &personal {
        assert!(
            !log.contains(value.as_str()),
            "personal data in the log: {value}"
        );
    }
}

/// The open-orders sync reads every open order again, in Rakuten's batch of 100 per getOrder,
/// through the store's one paced client: with the sandbox refusing anything over 20 requests
/// a second and the client paced at that rate, 1,000 open orders cost ten getOrder calls and
/// no call is refused. A second run finds nothing changed and writes nothing.
#[tokio::test]
async fn a_thousand_open_orders_are_read_again_in_batches_within_the_rate_budget() {
    const RATE: f64 = 20.0;
    let mut h = Harness::new().await;
    h.seed(1_000, 77, ago(hours(20)), ago(minutes(5))).await;
    let first = h.differential().await.unwrap();
    assert_eq!(first.created.len(), 1_000, "{}", first.summary());

    let open = ichigen_integration::open_order_count(&h.table, &h.store).await;
    assert!(open > 900, "{open} open orders");

    h.control()
        .rakuten_set_limits(&RakutenLimits {
            requests_per_second: Some(RATE),
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let mut app = import_orders::App::new(
        &h.sdk,
        h.handles.table_name.clone(),
        ichigen_malls::MallEndpoints {
            rakuten: h.sandbox.base_url(),
            ..ichigen_malls::MallEndpoints::default()
        },
        ichigen_malls::ClientSettings {
            requests_per_second: RATE,
            // A getOrder of 100 orders on a loaded machine may take more than the usual test
            // timeout; a retry would be counted as a call.
            timeout: std::time::Duration::from_secs(10),
            ..fast_client_settings()
        },
    );
    app.clock = h.clock.clone();
    app.store = h.table.clone();
    h.app = app;

    let before = h.control().stats().await.unwrap();
    let sync = h
        .run_to_end(ImportRequest::OpenOrders { only: vec![] })
        .await;
    let after = h.control().stats().await.unwrap();
    let calls = |endpoint: &str| after.requests_for(endpoint) - before.requests_for(endpoint);
    let listed: usize = sync.iter().map(|r| r.listed).sum();
    assert_eq!(listed, open);
    assert_eq!(calls("rakuten.getOrder"), open.div_ceil(100) as u64);
    assert_eq!(
        calls("rakuten.searchOrder"),
        0,
        "open orders come from our table"
    );
    assert_eq!(after.rate_limited - before.rate_limited, 0);

    let again = h
        .run_to_end(ImportRequest::OpenOrders { only: vec![] })
        .await;
    let report = again.last().unwrap();
    assert!(report.changed_on_mall.is_empty(), "{}", report.summary());
    assert_eq!(report.unchanged_on_mall, open);
}

#[tokio::test]
async fn a_write_whose_message_was_lost_is_queued_again_by_a_later_import_run() {
    let h = Harness::new().await;
    h.seed(5, 107, ago(hours(2)), ago(minutes(5))).await;
    let first = h.differential().await.unwrap();
    assert_eq!(first.writes_queued, 5);
    // The messages vanish before the mall-writer sees them (deleted unread).
    let writer = h.writer();
    let lost = writer
        .source
        .deliver(|_| async { aws_lambda_events::sqs::SqsBatchResponse::default() })
        .await
        .unwrap()
        .expect("the queued writes");
    assert_eq!(lost.received, 5);
    assert!(
        h.all_orders()
            .await
            .iter()
            .all(|o| o.mall_sync.is_outstanding())
    );

    // Ten minutes on, the writes may still be on their way: not queued twice.
    h.clock.set(now().checked_add(minutes(10)).unwrap());
    let soon = h.differential().await.unwrap();
    assert_eq!(soon.writes_queued_again, 0, "{}", soon.summary());
    // Past fifteen minutes the run queues them again, and the mall-writer sends them.
    h.clock.set(now().checked_add(minutes(16)).unwrap());
    let later = h.differential().await.unwrap();
    assert_eq!(later.writes_queued_again, 5, "{}", later.summary());
    let written = h.write_to_mall().await;
    assert_eq!(written.report.accepted, 5, "{}", written.report.summary());
    assert_eq!(h.confirmed_on_mall().await.len(), 5);
    assert!(
        h.all_orders()
            .await
            .iter()
            .all(|o| o.mall_sync.state == SyncState::Done)
    );
}
