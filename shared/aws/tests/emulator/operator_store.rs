//! The shop API's storage: order lists by index after a position, stock levels with a change
//! sequence, idempotency keys with their answers and TTL.

use ichigen_core::operator::list_position;
use ichigen_core::ports::{
    IdempotencyClaim, IdempotencyStore, OrderIndex, OrderList, OrderStore, StockStore, StoredAnswer,
};
use ichigen_core::status::OrderStatus;

use crate::{at, hold, order, shop, store_a};

#[tokio::test]
async fn a_list_continues_after_a_position_and_stops_before_until() {
    let (_, _, table) = shop("lists").await;
    let mut ids = Vec::new();
    for minute in 0..12 {
        let mut o = order(
            &store_a(),
            &format!("200-{minute}"),
            &format!("2026-11-22T10:{minute:02}:00+09:00"),
        );
        o.status = OrderStatus::ReadyToShip;
        if minute % 4 == 0 {
            o.holds = vec![hold()];
            o.status = OrderStatus::OnHold;
        }
        table.create_order(&o).await.unwrap();
        ids.push(o);
    }
    let ready = OrderList::InStatus(store_a(), OrderStatus::ReadyToShip);
    let first = table.list_orders(&ready, None, None, 4).await.unwrap();
    let numbers = |orders: &[ichigen_core::Order]| {
        orders
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&first), ["200-1", "200-2", "200-3", "200-5"]);
    let last = first.last().unwrap();
    let after = list_position(&last.ordered_at, &last.id);
    let rest = table
        .list_orders(
            &ready,
            Some(&after),
            Some(at("2026-11-22T10:10:00+09:00")),
            100,
        )
        .await
        .unwrap();
    assert_eq!(numbers(&rest), ["200-6", "200-7", "200-9"]);
    // List reads carry no raw payload.
    assert!(rest.iter().all(|o| o.raw.body.is_empty()));

    let held = table
        .list_orders(&OrderList::WithHolds(store_a()), None, None, 100)
        .await
        .unwrap();
    assert_eq!(numbers(&held), ["200-0", "200-4", "200-8"]);
}

#[tokio::test]
async fn each_stock_change_bumps_the_skus_sequence() {
    let (_, _, table) = shop("stock").await;
    let now = at("2026-12-03T09:00:00+09:00");
    assert_eq!(table.get_stock("SKU-1").await.unwrap(), None);
    let first = table.set_stock("SKU-1", 10, now).await.unwrap();
    let second = table.set_stock("SKU-1", 7, now).await.unwrap();
    let other = table.set_stock("SKU-2", 3, now).await.unwrap();
    assert_eq!((first.sequence, second.sequence, other.sequence), (1, 2, 1));
    assert_eq!(table.get_stock("SKU-1").await.unwrap(), Some(second));
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_and_answers_retries_until_it_expires() {
    let (_, _, table) = shop("idempotency").await;
    let now = at("2026-12-03T09:00:00+09:00");
    let fp = "POST /x\n{}";
    assert_eq!(
        table.claim("key-1", fp, now).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        table.claim("key-1", fp, now).await.unwrap(),
        IdempotencyClaim::InProgress
    );
    // A claim that was never answered (the request died) frees its key after the lease.
    assert_eq!(
        table.claim("key-2", fp, now).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    let after_lease = at("2026-12-03T09:01:01+09:00");
    assert_eq!(
        table.claim("key-2", fp, after_lease).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    let answer = StoredAnswer {
        status: 200,
        body: "{\"ok\":true}".into(),
    };
    table
        .record_answer("key-1", fp, &answer, now)
        .await
        .unwrap();
    assert_eq!(
        table.claim("key-1", fp, now).await.unwrap(),
        IdempotencyClaim::Answered(answer.clone())
    );
    // An answered key keeps its answer after the lease.
    assert_eq!(
        table.claim("key-1", fp, after_lease).await.unwrap(),
        IdempotencyClaim::Answered(answer)
    );
    assert_eq!(
        table.claim("key-1", "POST /y\n{}", now).await.unwrap(),
        IdempotencyClaim::OtherRequest
    );
    // A day later the key is free again, even before DynamoDB's TTL has deleted it.
    let tomorrow = at("2026-12-04T09:00:01+09:00");
    assert_eq!(
        table.claim("key-1", "POST /y\n{}", tomorrow).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    table.release("key-1").await.unwrap();
    assert_eq!(
        table.claim("key-1", fp, now).await.unwrap(),
        IdempotencyClaim::Claimed
    );
}

#[tokio::test]
async fn the_table_deletes_idempotency_records_by_ttl() {
    let (sdk, handles, _) = shop("ttl").await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let ttl = client
        .describe_time_to_live()
        .table_name(&handles.table_name)
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description.unwrap();
    assert_eq!(description.attribute_name(), Some("expires_at"));
}
