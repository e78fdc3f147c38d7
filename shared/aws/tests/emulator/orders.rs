use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_aws::tables::{WITH_HOLDS, keys};
use ichigen_core::ports::{OrderStore, StoreError, StoredOrderSummary};
use ichigen_core::status::{MallSync, OrderStatus, SyncState};
use ichigen_core::{MallId, Order, OrderId, StoreRef};

use crate::{hold, order, shop, store_a};

#[tokio::test]
async fn create_stores_an_order_once() {
    let (_, _, table) = shop("create").await;
    let first = order(&store_a(), "100-1", "2026-11-22T10:15:00+09:00");
    table.create_order(&first).await.unwrap();

    let mut second = first.clone();
    second.notes = Some("上書きされてはいけない".into());
    let err = table.create_order(&second).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::AlreadyExists(id) if *id == first.id),
        "{err}"
    );
    assert_eq!(table.get_order(&first.id).await.unwrap(), Some(first));
}

#[tokio::test]
async fn get_returns_the_order_exactly_as_stored() {
    let (_, _, table) = shop("roundtrip").await;
    let mut stored = order(&store_a(), "100-2", "2026-11-22T10:15:00+09:00");
    stored.holds = vec![hold()];
    stored.status = OrderStatus::OnHold;
    table.create_order(&stored).await.unwrap();

    let got = table
        .get_order(&stored.id)
        .await
        .unwrap()
        .expect("the stored order");
    assert_eq!(got, stored);
    assert!(got.raw.body.contains("たろう🐱"));

    let absent = OrderId::new(&store_a(), "no-such-order");
    assert_eq!(table.get_order(&absent).await.unwrap(), None);
}

#[tokio::test]
async fn update_needs_the_current_version() {
    let (_, _, table) = shop("update").await;
    let v1 = order(&store_a(), "100-3", "2026-11-22T10:15:00+09:00");
    table.create_order(&v1).await.unwrap();

    let mut v2 = v1.clone();
    v2.version = 2;
    v2.status = OrderStatus::Shipped;
    table.update_order(&v2, 1).await.unwrap();
    assert_eq!(table.get_order(&v1.id).await.unwrap(), Some(v2.clone()));

    let mut stale = v1.clone();
    stale.version = 2;
    stale.notes = Some("古い版からの更新".into());
    let err = table.update_order(&stale, 1).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { expected, .. } if expected == "1"),
        "{err}"
    );
    assert_eq!(table.get_order(&v1.id).await.unwrap(), Some(v2));

    let never_created = order(&store_a(), "100-404", "2026-11-22T10:15:00+09:00");
    let err = table.update_order(&never_created, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
}

#[tokio::test]
async fn find_orders_answers_for_more_than_one_batch() {
    let (_, _, table) = shop("find").await;
    let states = [
        SyncState::Idle,
        SyncState::Pending,
        SyncState::InFlight,
        SyncState::Done,
        SyncState::Failed {
            reason: "timeout".into(),
            retryable: true,
        },
    ];
    let mut writes = tokio::task::JoinSet::new();
    let mut expected = HashMap::new();
    for n in 0..130u64 {
        let mut o = order(
            &store_a(),
            &format!("find-{n:03}"),
            "2026-11-22T10:15:00+09:00",
        );
        o.version = n % 4 + 1;
        o.mall_sync = MallSync {
            state: states[n as usize % 5].clone(),
            ..MallSync::idle()
        };
        expected.insert(
            o.id.clone(),
            StoredOrderSummary {
                version: o.version,
                acknowledgement_outstanding: o.mall_sync.is_outstanding(),
                mall_status: Some(o.mall_status.code.clone()),
            },
        );
        let table = table.clone();
        writes.spawn(async move { table.create_order(&o).await });
    }
    while let Some(written) = writes.join_next().await {
        written.unwrap().unwrap();
    }

    // Present and absent ids interleaved, one id asked twice: 251 keys, 3 batches.
    let mut ids: Vec<OrderId> = (0..250)
        .map(|n| OrderId::new(&store_a(), &format!("find-{:03}", n * 13 % 250)))
        .collect();
    ids.push(ids[0].clone());
    let found = table.find_orders(&ids).await.unwrap();
    assert_eq!(found.len(), 130);
    assert_eq!(found, expected);
    assert_eq!(table.find_orders(&[]).await.unwrap(), HashMap::new());
}

#[tokio::test]
async fn orders_by_status_come_in_time_order() {
    let (_, _, table) = shop("bystatus").await;
    let store_b = StoreRef::new(MallId::Rakuten, "store-b");
    let times = [
        ("s-3", "2026-11-22T12:00:00+09:00"),
        ("s-1", "2026-11-21T23:59:59+09:00"),
        ("s-2", "2026-11-22T00:00:00+09:00"),
        ("s-4", "2026-11-23T08:00:00+09:00"),
    ];
    for (id, time) in times {
        table
            .create_order(&order(&store_a(), id, time))
            .await
            .unwrap();
    }
    let mut awaiting = order(&store_a(), "s-0", "2026-11-20T00:00:00+09:00");
    awaiting.status = OrderStatus::AwaitingPayment;
    table.create_order(&awaiting).await.unwrap();
    table
        .create_order(&order(&store_b, "s-b", "2026-11-20T00:00:00+09:00"))
        .await
        .unwrap();

    let ids = |orders: Vec<ichigen_core::Order>| {
        orders
            .into_iter()
            .map(|o| o.mall_order_id)
            .collect::<Vec<_>>()
    };
    let ready = table
        .orders_by_status(&store_a(), OrderStatus::ReadyToShip, 10)
        .await
        .unwrap();
    assert_eq!(ids(ready), ["s-1", "s-2", "s-3", "s-4"]);
    let first_two = table
        .orders_by_status(&store_a(), OrderStatus::ReadyToShip, 2)
        .await
        .unwrap();
    assert_eq!(ids(first_two), ["s-1", "s-2"]);

    // A status change moves the order to the other partition of the index.
    let mut paid = awaiting.clone();
    paid.version = 2;
    paid.status = OrderStatus::ReadyToShip;
    table.update_order(&paid, 1).await.unwrap();
    let ready = table
        .orders_by_status(&store_a(), OrderStatus::ReadyToShip, 10)
        .await
        .unwrap();
    assert_eq!(ids(ready), ["s-0", "s-1", "s-2", "s-3", "s-4"]);
    let awaiting = table
        .orders_by_status(&store_a(), OrderStatus::AwaitingPayment, 10)
        .await;
    assert!(awaiting.unwrap().is_empty());
}

#[tokio::test]
async fn only_orders_with_holds_are_in_the_holds_index() {
    let (sdk, handles, table) = shop("holds").await;
    let mut held_late = order(&store_a(), "h-2", "2026-11-22T12:00:00+09:00");
    held_late.holds = vec![hold()];
    let mut held_early = order(&store_a(), "h-1", "2026-11-22T09:00:00+09:00");
    held_early.holds = vec![hold(), hold()];
    for o in [
        &held_late,
        &held_early,
        &order(&store_a(), "clear", "2026-11-22T10:00:00+09:00"),
    ] {
        table.create_order(o).await.unwrap();
    }

    // List reads carry the whole order but not the mall's raw payload (not projected).
    let listed = |o: &Order| Order {
        raw: ichigen_core::order::RawPayload {
            content_type: String::new(),
            body: String::new(),
        },
        ..o.clone()
    };
    let held = table.orders_with_holds(&store_a(), 10).await.unwrap();
    assert_eq!(held, [listed(&held_early), listed(&held_late)]);

    let index_size = || async {
        let scan = aws_sdk_dynamodb::Client::new(&sdk)
            .scan()
            .table_name(&handles.table_name)
            .index_name(WITH_HOLDS)
            .send()
            .await
            .unwrap();
        scan.count
    };
    assert_eq!(index_size().await, 2);

    held_early.holds.clear();
    held_early.version = 2;
    table.update_order(&held_early, 1).await.unwrap();
    assert_eq!(
        table.orders_with_holds(&store_a(), 10).await.unwrap(),
        [listed(&held_late)]
    );
    assert_eq!(index_size().await, 1);
}

#[tokio::test]
async fn an_unreadable_item_is_reported_as_corrupt_with_its_key() {
    let (sdk, handles, table) = shop("corrupt").await;
    let id = OrderId::new(&store_a(), "broken");
    aws_sdk_dynamodb::Client::new(&sdk)
        .put_item()
        .table_name(&handles.table_name)
        .item("pk", AttributeValue::S(keys::order_pk(&id)))
        .item("sk", AttributeValue::S(keys::ORDER_SK.into()))
        .item("order", AttributeValue::M(HashMap::new()))
        .item("raw_gz", AttributeValue::B(Blob::new(b"not gzip".to_vec())))
        .item(
            "raw_content_type",
            AttributeValue::S("application/json".into()),
        )
        .send()
        .await
        .unwrap();
    let err = table.get_order(&id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { key, .. } if *key == keys::order_pk(&id)),
        "{err}"
    );
}
