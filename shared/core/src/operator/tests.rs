//! The operator actions' rules, over a plain in-memory port (the DynamoDB adapter has its own
//! tests against the emulator).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::ports::{FixedClock, OrderIndex, OrderList, StoredOrderSummary};
use crate::testing::held;

/// Orders by id, with the version check the real store makes.
#[derive(Default)]
pub(crate) struct Book(Mutex<HashMap<OrderId, Order>>);

#[async_trait]
impl OrderStore for Book {
    async fn create_order(&self, order: &Order) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(order.id.clone(), order.clone());
        Ok(())
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<(), StoreError> {
        let mut book = self.0.lock().unwrap();
        let stored = book.get(&order.id).map(|o| o.version);
        if stored != Some(expected_version) {
            return Err(StoreError::Conflict {
                what: order.id.to_string(),
                expected: expected_version.to_string(),
            });
        }
        book.insert(order.id.clone(), order.clone());
        Ok(())
    }
    async fn find_orders(
        &self,
        _ids: &[OrderId],
    ) -> Result<HashMap<OrderId, StoredOrderSummary>, StoreError> {
        Ok(HashMap::new())
    }
    async fn orders_owing_mall_sync(
        &self,
        _store: &crate::StoreRef,
        _owed_before: JstInstant,
        _limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
}

#[async_trait]
impl OrderIndex for Book {
    async fn list_orders(
        &self,
        list: &OrderList,
        after: Option<&str>,
        until: Option<JstInstant>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut orders: Vec<Order> = self
            .0
            .lock()
            .unwrap()
            .values()
            .filter(|o| match list {
                OrderList::InStatus(store, status) => &o.store == store && o.status == *status,
                OrderList::WithHolds(store) => &o.store == store && !o.holds.is_empty(),
            })
            .filter(|o| after.is_none_or(|a| list_position(&o.ordered_at, &o.id).as_str() > a))
            .filter(|o| until.is_none_or(|u| o.ordered_at < u))
            .cloned()
            .collect();
        orders.sort_by_key(|o| list_position(&o.ordered_at, &o.id));
        orders.truncate(limit);
        Ok(orders)
    }
    async fn failed_mall_writes(
        &self,
        store: &crate::StoreRef,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        use writes::mall_write_position;
        let mut orders: Vec<Order> = self
            .0
            .lock()
            .unwrap()
            .values()
            .filter(|o| &o.store == store && o.mall_sync.refused_for_good().is_some())
            .filter(|o| after.is_none_or(|a| mall_write_position(o).as_str() > a))
            .cloned()
            .collect();
        orders.sort_by_key(mall_write_position);
        orders.truncate(limit);
        Ok(orders)
    }
}

pub(crate) fn at(text: &str) -> JstInstant {
    text.parse().unwrap()
}

/// A paid order of `rakuten:store-a`, ready to ship, ordered at `ordered_at`.
pub(crate) fn order(number: &str, ordered_at: &str) -> Order {
    crate::testing::ready_order("rakuten:store-a", number, ordered_at)
}

async fn book_with(orders: Vec<Order>) -> Book {
    let book = Book::default();
    for o in orders {
        book.create_order(&o).await.unwrap();
    }
    book
}

fn clock() -> FixedClock {
    FixedClock::new(at("2026-12-03T12:00:00+09:00"))
}

fn id(number: &str) -> OrderId {
    format!("rakuten:store-a:{number}").parse().unwrap()
}

#[tokio::test]
async fn clearing_the_last_hold_returns_the_order_to_ready_and_records_who_and_why() {
    let book = book_with(vec![held(
        order("1", "2026-12-01T10:00:00+09:00"),
        &[HoldKind::UnmappedSku, HoldKind::UnmappedTimeSlot],
    )])
    .await;
    let clock = clock();
    let desk = OrderDesk {
        orders: &book,
        clock: &clock,
    };
    let request = |kind| ClearHold {
        by: "sato".into(),
        reason: "mapped by hand".into(),
        kind: Some(kind),
        version: None,
    };
    let once = clear_hold(desk, &id("1"), &request(HoldKind::UnmappedSku))
        .await
        .unwrap();
    assert_eq!(once.status, OrderStatus::OnHold);
    assert_eq!(once.version, 2);
    let twice = clear_hold(desk, &id("1"), &request(HoldKind::UnmappedTimeSlot))
        .await
        .unwrap();
    assert_eq!(twice.status, OrderStatus::ReadyToShip);
    assert!(twice.holds.is_empty());
    let entry = twice.history.last().unwrap();
    assert_eq!(entry.event, HOLD_CLEARED);
    assert_eq!(
        entry.changes,
        vec!["unmapped_time_slot cleared by sato: mapped by hand"]
    );
    let again = clear_hold(desk, &id("1"), &request(HoldKind::UnmappedSku)).await;
    assert!(
        matches!(again, Err(OperatorError::NoSuchHold { .. })),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_edit_against_an_old_version_is_refused_with_the_current_version() {
    let book = book_with(vec![order("1", "2026-12-01T10:00:00+09:00")]).await;
    let clock = clock();
    let desk = OrderDesk {
        orders: &book,
        clock: &clock,
    };
    let edit = |slot: &str| OrderEdit {
        version: 1,
        by: "sato".into(),
        ship_to: None,
        note: None,
        desired_date: None,
        time_slot: Some(Some(slot.to_owned())),
    };
    let first = edit_order(desk, &id("1"), &edit("14-16")).await.unwrap();
    assert_eq!(first.version, 2);
    assert!(first.operator.edited_fields.contains("delivery.time_slot"));
    let second = edit_order(desk, &id("1"), &edit("19-21")).await;
    match second {
        Err(OperatorError::StaleVersion { given, current, .. }) => {
            assert_eq!((given, current), (1, 2));
        }
        other => panic!("expected a stale version, got {other:?}"),
    }
    let stored = book.get_order(&id("1")).await.unwrap().unwrap();
    assert_eq!(
        stored.delivery.time_slot.unwrap().mapped.as_deref(),
        Some("14-16")
    );
}

#[tokio::test]
async fn edits_are_checked_field_by_field_and_ship_to_changes_leave_no_personal_data_in_history() {
    let book = book_with(vec![order("1", "2026-12-01T10:00:00+09:00")]).await;
    let clock = clock();
    let desk = OrderDesk {
        orders: &book,
        clock: &clock,
    };
    let mut edit = OrderEdit {
        version: 1,
        by: "sato".into(),
        ship_to: Some(ShipToCorrection {
            phone: Some("03-1234".into()),
            ..ShipToCorrection::default()
        }),
        note: None,
        desired_date: None,
        time_slot: None,
    };
    match edit_order(desk, &id("1"), &edit).await {
        Err(OperatorError::Invalid { field, .. }) => assert_eq!(field, "ship_to.phone"),
        other => panic!("expected invalid phone, got {other:?}"),
    }
    edit.ship_to = Some(ShipToCorrection {
        recipient_name: Some("鈴木 花子".into()),
        phone: Some("090-1111-2222".into()),
        ..ShipToCorrection::default()
    });
    let edited = edit_order(desk, &id("1"), &edit).await.unwrap();
    assert_eq!(edited.destinations[0].recipient_name, "鈴木 花子");
    let history = serde_json::to_string(&edited.history).unwrap();
    assert!(
        !history.contains("鈴木") && !history.contains("1111"),
        "{history}"
    );
    assert!(history.contains("destinations[0].recipient_name corrected"));
}

#[tokio::test]
async fn a_shipment_moves_a_ready_order_to_shipped_and_is_refused_for_a_held_one() {
    let book = book_with(vec![
        order("1", "2026-12-01T10:00:00+09:00"),
        held(order("2", "2026-12-01T11:00:00+09:00"), &[HoldKind::Manual]),
    ])
    .await;
    let clock = clock();
    let desk = OrderDesk {
        orders: &book,
        clock: &clock,
    };
    let shipment = Shipment {
        carrier: "yamato".into(),
        tracking_numbers: vec!["1234-5678-9012".into(), "1234-5678-9013".into()],
        shipped_on: jiff::civil::date(2026, 12, 3),
        by: "warehouse".into(),
        version: None,
    };
    let shipped = report_shipment(desk, &id("1"), &shipment).await.unwrap();
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(shipped.operator.shipments[0].tracking_numbers.len(), 2);
    match report_shipment(desk, &id("2"), &shipment).await {
        Err(OperatorError::NotAllowed { current, .. }) => assert_eq!(current, OrderStatus::OnHold),
        other => panic!("expected not allowed, got {other:?}"),
    }
    let tomorrow = Shipment {
        shipped_on: jiff::civil::date(2026, 12, 4),
        ..shipment
    };
    assert!(matches!(
        report_shipment(desk, &id("2"), &tomorrow).await,
        Err(OperatorError::Invalid { field, .. }) if field == "shipped_on"
    ));
}

#[tokio::test]
async fn placing_a_hold_on_a_shipped_order_is_refused() {
    let mut shipped = order("1", "2026-12-01T10:00:00+09:00");
    shipped.status = OrderStatus::Shipped;
    let book = book_with(vec![shipped, order("2", "2026-12-01T10:00:00+09:00")]).await;
    let clock = clock();
    let desk = OrderDesk {
        orders: &book,
        clock: &clock,
    };
    let hold = PlaceHold {
        by: "sato".into(),
        reason: "buyer called".into(),
        version: None,
    };
    assert!(matches!(
        place_hold(desk, &id("1"), &hold).await,
        Err(OperatorError::NotAllowed {
            current: OrderStatus::Shipped,
            ..
        })
    ));
    let held = place_hold(desk, &id("2"), &hold).await.unwrap();
    assert_eq!(held.status, OrderStatus::OnHold);
    assert_eq!(held.holds[0].kind, HoldKind::Manual);
}

struct Stores(Vec<crate::StoreRef>);

#[async_trait]
impl crate::ports::StoreConfigs for Stores {
    async fn get_store_config(
        &self,
        store: &crate::StoreRef,
    ) -> Result<Option<crate::StoreConfig>, StoreError> {
        Ok(self.0.contains(store).then(|| crate::StoreConfig {
            store: store.clone(),
            secret_id: "s".into(),
            import: crate::ImportSettings::default(),
            enabled: true,
        }))
    }
    async fn put_store_config(&self, _config: &crate::StoreConfig) -> Result<(), StoreError> {
        Ok(())
    }
    async fn list_store_configs(&self) -> Result<Vec<crate::StoreConfig>, StoreError> {
        let mut all = Vec::new();
        for store in &self.0 {
            all.extend(self.get_store_config(store).await?);
        }
        Ok(all)
    }
}

fn in_store(mut order: Order, store: &str) -> Order {
    order.store = store.parse().unwrap();
    order.id = format!("{store}:{}", order.mall_order_id).parse().unwrap();
    order
}

#[tokio::test]
async fn pages_merge_stores_and_statuses_in_time_order_without_repeats_or_gaps_while_orders_arrive()
{
    let stores = Stores(vec![
        "rakuten:store-a".parse().unwrap(),
        "yahoo:store-b".parse().unwrap(),
    ]);
    let mut orders = Vec::new();
    for i in 0..30 {
        let at = format!("2026-12-01T10:{:02}:00+09:00", i);
        let mut o = order(&format!("{i}"), &at);
        if i % 3 == 0 {
            o = held(o, &[HoldKind::UnmappedSku]);
        }
        if i % 2 == 0 {
            o = in_store(o, "yahoo:store-b");
        }
        orders.push(o);
    }
    let book = book_with(orders).await;
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut arrived = 0;
    loop {
        let page = list_orders(&book, &stores, &OrderFilter::default(), cursor.as_ref(), 7)
            .await
            .unwrap();
        seen.extend(page.orders.iter().map(|o| o.id.clone()));
        // An order arrives later than everything listed so far, one per page.
        arrived += 1;
        book.create_order(&order(
            &format!("late-{arrived}"),
            &format!("2026-12-01T11:{arrived:02}:00+09:00"),
        ))
        .await
        .unwrap();
        match page.next {
            Some(next) if arrived < 100 => {
                cursor = Some(OrderCursor::decode(&next.encode()).unwrap());
            }
            _ => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no order twice");
    // Every original order, and every late order that arrived before the last page was read.
    for i in 0..30 {
        assert!(
            seen.iter()
                .any(|id| id.as_str().ends_with(&format!(":{i}"))),
            "{i}"
        );
    }
    assert!(
        seen.len() >= 30 + arrived - 2,
        "{} seen, {arrived} arrived",
        seen.len()
    );
    let positions: Vec<String> = {
        let book = book.0.lock().unwrap();
        seen.iter()
            .map(|id| list_position(&book[id].ordered_at, id))
            .collect()
    };
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "time order");
}

#[tokio::test]
async fn hold_kind_time_range_and_store_filters_narrow_the_list() {
    let stores = Stores(vec!["rakuten:store-a".parse().unwrap()]);
    let book = book_with(vec![
        held(
            order("1", "2026-12-01T09:00:00+09:00"),
            &[HoldKind::UnmappedSku],
        ),
        held(
            order("2", "2026-12-01T10:00:00+09:00"),
            &[HoldKind::TotalsMismatch],
        ),
        held(
            order("3", "2026-12-01T11:00:00+09:00"),
            &[HoldKind::UnmappedSku],
        ),
        order("4", "2026-12-01T10:30:00+09:00"),
    ])
    .await;
    let filter = OrderFilter {
        hold_kind: Some(HoldKind::UnmappedSku),
        ..OrderFilter::default()
    };
    let page = list_orders(&book, &stores, &filter, None, 1).await.unwrap();
    assert_eq!(page.orders[0].mall_order_id, "1");
    let page = list_orders(&book, &stores, &filter, page.next.as_ref(), 1)
        .await
        .unwrap();
    assert_eq!(page.orders[0].mall_order_id, "3");

    let window = OrderFilter {
        from: Some(at("2026-12-01T10:00:00+09:00")),
        to: Some(at("2026-12-01T11:00:00+09:00")),
        ..OrderFilter::default()
    };
    let page = list_orders(&book, &stores, &window, None, 10)
        .await
        .unwrap();
    let numbers: Vec<&str> = page
        .orders
        .iter()
        .map(|o| o.mall_order_id.as_str())
        .collect();
    assert_eq!(numbers, vec!["2", "4"]);
    assert_eq!(page.next, None);

    let unknown = OrderFilter {
        store: Some("yahoo:nope".parse().unwrap()),
        ..OrderFilter::default()
    };
    assert!(matches!(
        list_orders(&book, &stores, &unknown, None, 10).await,
        Err(OperatorError::UnknownStore(_))
    ));
}

#[test]
fn a_cursor_reads_back_and_an_edited_one_is_refused() {
    let cursor = OrderCursor {
        ordered_at: at("2026-12-01T10:00:00+09:00"),
        id: id("123-1"),
    };
    let text = cursor.encode();
    assert_eq!(OrderCursor::decode(&text).unwrap(), cursor);
    let mut edited = text.clone();
    edited.pop();
    assert!(OrderCursor::decode(&edited).is_err());
    assert!(OrderCursor::decode("not a cursor").is_err());
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"after":"2026-12-01T10:00:00Z#rakuten:store-a:1"}"#);
    assert!(OrderCursor::decode(&forged).is_err(), "not canonical");
}

/// What was queued, for the request tests.
#[derive(Default)]
struct Queue(Mutex<Vec<crate::import::ImportCommand>>);

#[async_trait]
impl crate::ports::ImportRequests for Queue {
    async fn enqueue(
        &self,
        commands: &[crate::import::ImportCommand],
    ) -> Result<(), crate::ports::QueueFailure> {
        self.0.lock().unwrap().extend_from_slice(commands);
        Ok(())
    }
}

#[derive(Default)]
struct Quarantine(Vec<crate::ports::FailedImport>);

#[async_trait]
impl crate::ports::FailedImportStore for Quarantine {
    async fn record_failed_import(
        &self,
        _failed: &crate::ports::FailedImport,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn failed_imports(
        &self,
        store: &crate::StoreRef,
    ) -> Result<Vec<crate::ports::FailedImport>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|f| &f.store == store)
            .cloned()
            .collect())
    }
    async fn clear_failed_import(
        &self,
        _store: &crate::StoreRef,
        _mall_order_id: &str,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_reimport_is_one_import_command_and_bad_requests_queue_nothing() {
    use requests::{ReimportRequest, RequestDesk, request_reimport};
    let stores = Stores(vec!["rakuten:store-a".parse().unwrap()]);
    let queue = Queue::default();
    let quarantine = Quarantine::default();
    let clock = clock();
    let desk = RequestDesk {
        configs: &stores,
        failed_imports: &quarantine,
        queue: &queue,
        clock: &clock,
    };
    let request =
        |body: serde_json::Value| -> ReimportRequest { serde_json::from_value(body).unwrap() };
    let orders = request_reimport(
        desk,
        &request(serde_json::json!({"store": "rakuten:store-a", "mall_order_ids": ["1", "2"]})),
    )
    .await
    .unwrap();
    assert_eq!(
        orders.request,
        crate::import::ImportRequest::Orders {
            mall_order_ids: vec!["1".into(), "2".into()],
            reimport: true
        }
    );
    let refused = [
        (serde_json::json!({"store": "rakuten:store-a"}), "body"),
        (
            serde_json::json!({"store": "rakuten:store-a", "mall_order_ids": []}),
            "mall_order_ids",
        ),
        (
            serde_json::json!({"store": "rakuten:store-a", "from": "2026-12-03T00:00:00+09:00", "to": "2026-12-02T00:00:00+09:00"}),
            "to",
        ),
        (
            serde_json::json!({"store": "rakuten:store-a", "from": "2026-12-03T00:00:00+09:00", "to": "2026-12-04T00:00:00+09:00"}),
            "to",
        ),
        (
            serde_json::json!({"store": "rakuten:store-a", "from": "2026-10-01T00:00:00+09:00", "to": "2026-12-02T00:00:00+09:00"}),
            "from",
        ),
    ];
    for (body, expected) in refused {
        match request_reimport(desk, &request(body.clone())).await {
            Err(OperatorError::Invalid { field, .. }) => assert_eq!(field, expected, "{body}"),
            other => panic!("{body}: expected invalid {expected}, got {other:?}"),
        }
    }
    let unknown = request(serde_json::json!({"store": "yahoo:other", "mall_order_ids": ["1"]}));
    assert!(matches!(
        request_reimport(desk, &unknown).await,
        Err(OperatorError::UnknownStore(_))
    ));
    assert_eq!(
        queue.0.lock().unwrap().len(),
        1,
        "only the valid request was queued"
    );
}

#[tokio::test]
async fn a_stock_batch_is_checked_whole_before_anything_is_written() {
    use crate::ports::{StockLevel, StockStore};
    use crate::stock::{StockUpdate, set_stock_levels};

    #[derive(Default)]
    struct Levels(Mutex<HashMap<String, StockLevel>>);
    #[async_trait]
    impl StockStore for Levels {
        async fn set_stock(
            &self,
            sku: &str,
            quantity: u32,
            at: JstInstant,
        ) -> Result<StockLevel, StoreError> {
            let mut levels = self.0.lock().unwrap();
            let sequence = levels.get(sku).map_or(1, |l| l.sequence + 1);
            let level = StockLevel {
                sku: sku.to_owned(),
                quantity,
                sequence,
                updated_at: at,
            };
            levels.insert(sku.to_owned(), level.clone());
            Ok(level)
        }
        async fn get_stock(&self, sku: &str) -> Result<Option<StockLevel>, StoreError> {
            Ok(self.0.lock().unwrap().get(sku).cloned())
        }
    }

    let levels = Levels::default();
    let clock = clock();
    let update = |sku: &str, quantity| StockUpdate {
        sku: sku.to_owned(),
        quantity,
    };
    let bad = [
        (vec![update("A-1", 1), update("A-1", 2)], "levels[1].sku"),
        (vec![update("A-1", 1), update("ア", 2)], "levels[1].sku"),
        (vec![update("A-1", 2_000_000)], "levels[0].quantity"),
        (vec![], "levels"),
    ];
    for (batch, expected) in bad {
        match set_stock_levels(&levels, &clock, &batch).await {
            Err(OperatorError::Invalid { field, .. }) => assert_eq!(field, expected),
            other => panic!("expected invalid {expected}, got {other:?}"),
        }
    }
    assert!(levels.0.lock().unwrap().is_empty(), "nothing written");
    let set = set_stock_levels(&levels, &clock, &[update("A-1", 3), update("B_2", 0)])
        .await
        .unwrap();
    assert_eq!(
        set.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        vec![1, 1]
    );
}

/// An order of `store` whose `confirmOrder` the mall refused at `failed_at`.
fn refused(number: &str, store: &str, failed_at: &str) -> Order {
    let mut order = in_store(order(number, "2026-12-01T09:00:00+09:00"), store);
    order.mall_sync = crate::status::MallSync::pending("confirmOrder", order.imported_at);
    order.mall_sync.record_attempt(
        SyncState::Failed {
            reason: format!("ERROR_105 order {number} cannot be confirmed"),
            retryable: false,
        },
        at(failed_at),
    );
    order
}

#[tokio::test]
async fn failed_writes_are_listed_oldest_failure_first_across_stores_in_pages() {
    use writes::failed_writes;
    let mut owed = refused("9", "rakuten:store-a", "2026-12-02T08:00:00+09:00");
    owed.mall_sync.state = SyncState::Failed {
        reason: "503".into(),
        retryable: true,
    };
    let book = book_with(vec![
        refused("1", "rakuten:store-a", "2026-12-02T12:00:00+09:00"),
        refused("2", "yahoo:store-b", "2026-12-02T10:00:00+09:00"),
        refused("3", "rakuten:store-a", "2026-12-02T11:00:00+09:00"),
        owed,
        order("4", "2026-12-01T09:00:00+09:00"),
    ])
    .await;
    let stores = Stores(vec![
        "rakuten:store-a".parse().unwrap(),
        "yahoo:store-b".parse().unwrap(),
    ]);
    let first = failed_writes(&book, &stores, None, None, 2).await.unwrap();
    let numbers = |page: &writes::FailedWritePage| -> Vec<String> {
        page.writes
            .iter()
            .map(|w| w.mall_order_id.clone())
            .collect()
    };
    assert_eq!(numbers(&first), ["2", "3"], "oldest failure first");
    assert_eq!(
        first.writes[0].message,
        "ERROR_105 order 2 cannot be confirmed"
    );
    assert_eq!(first.writes[0].operation.as_deref(), Some("confirmOrder"));
    assert_eq!(first.writes[0].attempts, 1);
    assert_eq!(first.writes[0].since, at("2026-12-02T10:00:00+09:00"));
    let cursor = first.next.expect("a second page");
    let second = failed_writes(&book, &stores, None, Some(&cursor), 2)
        .await
        .unwrap();
    assert_eq!(numbers(&second), ["1"]);
    assert_eq!(second.next, None);

    let store_a: crate::StoreRef = "rakuten:store-a".parse().unwrap();
    let one_store = failed_writes(&book, &stores, Some(&store_a), None, 10)
        .await
        .unwrap();
    assert_eq!(numbers(&one_store), ["3", "1"]);
    let unknown: crate::StoreRef = "aupay:nope".parse().unwrap();
    assert!(matches!(
        failed_writes(&book, &stores, Some(&unknown), None, 10).await,
        Err(OperatorError::UnknownStore(_))
    ));
    assert!(matches!(
        failed_writes(&book, &stores, None, None, 0).await,
        Err(OperatorError::Invalid { field, .. }) if field == "limit"
    ));
}

#[tokio::test]
async fn retrying_a_refused_write_makes_it_owed_again_and_records_who_asked() {
    use writes::{RetryWrite, retry_failed_write};
    let book = book_with(vec![
        refused("1", "rakuten:store-a", "2026-12-02T12:00:00+09:00"),
        order("2", "2026-12-01T09:00:00+09:00"),
    ])
    .await;
    let clock = clock();
    let desk = OrderDesk {
        orders: &book,
        clock: &clock,
    };
    let by = RetryWrite {
        by: "佐藤".to_owned(),
    };
    let queue = QueuedWrites::default();
    let order = retry_failed_write(desk, &queue, &id("1"), &by)
        .await
        .unwrap();
    assert_eq!(order.mall_sync.state, SyncState::Pending);
    let queued = queue.0.lock().unwrap().clone();
    assert_eq!(
        queued,
        [crate::mall_write::MallWrite::owed_by(&order).unwrap()],
        "the write is queued for the mall-writer"
    );
    assert!(order.mall_sync.is_outstanding());
    assert_eq!(order.mall_sync.attempts, 1, "the attempts so far are kept");
    assert_eq!(order.mall_sync.updated_at, Some(clock.now()));
    assert_eq!(order.version, 2);
    let entry = order.history.last().unwrap();
    assert_eq!(entry.event, writes::MALL_WRITE_RETRIED);
    assert!(entry.changes[0].contains("confirmOrder"), "{entry:?}");
    assert!(entry.changes[0].contains("ERROR_105"), "{entry:?}");
    assert!(entry.changes[0].ends_with("asked by 佐藤"), "{entry:?}");
    assert_eq!(
        queue.0.lock().unwrap().len(),
        1,
        "only the retried write is queued"
    );

    // Now pending: a second retry is refused with the state, and so is an idle order and
    // one whose failure ichigen retries on its own.
    let mut unavailable = refused("3", "rakuten:store-a", "2026-12-02T12:00:00+09:00");
    unavailable.mall_sync.state = SyncState::Failed {
        reason: "503".into(),
        retryable: true,
    };
    book.create_order(&unavailable).await.unwrap();
    for (number, state) in [
        ("1", "is pending"),
        ("2", "is idle"),
        ("3", "sent again on its own"),
    ] {
        match retry_failed_write(desk, &queue, &id(number), &by).await {
            Err(e @ OperatorError::WriteNotFailed { .. }) => {
                assert!(e.to_string().contains(state), "{e}");
            }
            other => panic!("order {number}: expected WriteNotFailed, got {other:?}"),
        }
    }
    assert!(matches!(
        retry_failed_write(desk, &queue, &id("404"), &by).await,
        Err(OperatorError::OrderNotFound(_))
    ));
    let nobody = RetryWrite { by: " ".to_owned() };
    assert!(matches!(
        retry_failed_write(desk, &queue, &id("1"), &nobody).await,
        Err(OperatorError::Invalid { field, .. }) if field == "by"
    ));
}

/// The writes queued, in order.
#[derive(Default)]
struct QueuedWrites(std::sync::Mutex<Vec<crate::mall_write::MallWrite>>);

#[async_trait]
impl crate::mall_write::MallWriteQueue for QueuedWrites {
    async fn enqueue(
        &self,
        writes: &[crate::mall_write::MallWrite],
    ) -> Result<(), crate::ports::QueueFailure> {
        self.0.lock().unwrap().extend_from_slice(writes);
        Ok(())
    }
}
