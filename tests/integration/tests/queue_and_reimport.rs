//! The import queue path (SQS → import-orders) and explicit re-import (注文再取込).

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use ichigen_core::{HoldKind, OrderStatus};
use ichigen_integration::*;
use import_orders::{Invocation, Outcome};
use serde_json::json;

fn message(id: &str, body: String) -> SqsMessage {
    SqsMessage {
        message_id: Some(id.to_owned()),
        body: Some(body),
        ..SqsMessage::default()
    }
}

async fn handle_queue(h: &Harness, messages: Vec<SqsMessage>) -> Vec<String> {
    let event = SqsEvent { records: messages };
    match h
        .app
        .handle(Invocation::Queue(event), None)
        .await
        .expect("queue events never fail whole")
    {
        Outcome::Queue(response) => response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect(),
        other => panic!("expected a batch response, got {other:?}"),
    }
}

/// A FIFO message: its group is the store it names.
fn fifo_message(id: &str, body: &serde_json::Value) -> SqsMessage {
    let mut m = message(id, body.to_string());
    if let Some(store) = body["store"].as_str() {
        m.attributes
            .insert("MessageGroupId".to_owned(), store.to_owned());
    }
    m
}

#[tokio::test]
async fn final_failures_are_acknowledged_and_recorded_retryable_ones_come_back_in_order() {
    use ichigen_core::ports::StoreStatusStore;
    let h = Harness::new().await;
    let numbers = h.seed(5, 41, ago(hours(4)), ago(minutes(1))).await;
    let targeted =
        json!({"type": "orders", "store": "rakuten:store-a", "mall_order_ids": numbers[..2]});
    let later =
        json!({"type": "orders", "store": "rakuten:store-a", "mall_order_ids": numbers[2..]});
    let other_store = json!({"type": "differential", "store": "rakuten:no-such-store"});

    // The mall is down: the first request of store-a fails retryably, so it and the later
    // request of the same store come back (FIFO order); the unknown store is final.
    h.control()
        .set_faults(&ichigen_sandbox::FaultConfig {
            error5xx_rate: 1.0,
            ..ichigen_sandbox::FaultConfig::default()
        })
        .await
        .unwrap();
    let failed = handle_queue(
        &h,
        vec![
            fifo_message("first", &targeted),
            fifo_message("unknown-store", &other_store),
            fifo_message("later", &later),
        ],
    )
    .await;
    assert_eq!(failed, vec!["first".to_string(), "later".to_string()]);
    let status = h.table.load_store_status(&h.store).await.unwrap();
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("unavailable")),
        "{status:?}"
    );

    h.control()
        .set_faults(&ichigen_sandbox::FaultConfig::default())
        .await
        .unwrap();
    let failed = handle_queue(
        &h,
        vec![
            fifo_message("first", &targeted),
            fifo_message("later", &later),
        ],
    )
    .await;
    assert!(failed.is_empty());
    assert_eq!(h.all_orders().await.len(), 5);
    let status = h.table.load_store_status(&h.store).await.unwrap();
    assert!(status.last_error.is_none() && status.last_success_at.is_some());
}

#[tokio::test]
async fn only_the_failed_messages_of_a_batch_are_reported_for_retry() {
    let h = Harness::new().await;
    let numbers = h.seed(5, 41, ago(hours(4)), ago(minutes(1))).await;
    let targeted =
        json!({"type": "orders", "store": "rakuten:store-a", "mall_order_ids": numbers[..3]});
    let unknown_store = json!({"type": "differential", "store": "rakuten:no-such-store"});

    let failed = handle_queue(
        &h,
        vec![
            message("good", targeted.to_string()),
            message("not-json", "{this is not an import request".into()),
            message("unknown-store", unknown_store.to_string()),
        ],
    )
    .await;
    // Neither can ever succeed: they are logged and acknowledged, not retried into the DLQ.
    assert!(failed.is_empty(), "{failed:?}");
    let orders = h.all_orders().await;
    assert_eq!(
        orders.len(),
        3,
        "the good message imported its three orders"
    );

    // Redelivery of the same message (SQS is at-least-once) imports nothing twice.
    let again = handle_queue(&h, vec![message("good", targeted.to_string())]).await;
    assert!(again.is_empty());
    assert_eq!(h.all_orders().await.len(), 3);
    h.write_to_mall().await;
    assert_eq!(h.confirmed_on_mall().await.len(), 3);
}

#[tokio::test]
async fn a_mail_trigger_racing_the_schedule_imports_each_order_once() {
    let h = Harness::new().await;
    let numbers = h.seed(30, 43, ago(hours(2)), ago(minutes(1))).await;
    let targeted = json!({"type": "orders", "store": "rakuten:store-a", "mall_order_ids": numbers});
    let (schedule, queue) = tokio::join!(
        h.differential(),
        handle_queue(&h, vec![message("mail", targeted.to_string())])
    );
    let schedule = schedule.expect("scheduled run");
    assert!(queue.is_empty());
    let orders = h.all_orders().await;
    assert_eq!(orders.len(), 30);
    assert!(schedule.created.len() <= 30);
    h.write_to_mall().await;
    let confirmed = h.confirmed_on_mall().await;
    let distinct: std::collections::HashSet<_> = confirmed.iter().collect();
    assert_eq!(distinct.len(), 30, "every order confirmed");
}

#[tokio::test]
async fn an_explicit_reimport_refreshes_the_order_and_records_what_changed() {
    let h = Harness::new().await;
    let numbers = h.seed(3, 47, ago(hours(2)), ago(minutes(1))).await;
    h.differential().await.expect("import");
    h.write_to_mall().await;
    let before = h.order(&numbers[0]).await.unwrap();
    // confirmOrder moved the mall on (100 → 300), and the stored status followed it.
    assert_eq!(before.mall_status.code, "300");

    // On the mall the buyer asks to cancel: 800 キャンセル確定待ち.
    h.control()
        .rakuten_set_progress(&h.shop_id, &numbers[0], 800)
        .await
        .unwrap();

    // A plain (import-once) request leaves the stored order alone.
    let once =
        json!({"type": "orders", "store": "rakuten:store-a", "mall_order_ids": [numbers[0]]});
    assert!(
        handle_queue(&h, vec![message("once", once.to_string())])
            .await
            .is_empty()
    );
    assert_eq!(h.order(&numbers[0]).await.unwrap(), before);

    // 注文再取込: refreshed from the mall, with a history entry and the cancel request held.
    let reimport = json!({"type": "orders", "store": "rakuten:store-a", "mall_order_ids": [numbers[0]], "reimport": true});
    assert!(
        handle_queue(&h, vec![message("reimport", reimport.to_string())])
            .await
            .is_empty()
    );
    let after = h.order(&numbers[0]).await.unwrap();
    assert_eq!(after.mall_status.code, "800");
    assert!(
        after.has_hold(HoldKind::CancelRequested),
        "{:?}",
        after.holds
    );
    assert_eq!(after.status, OrderStatus::OnHold);
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.imported_at, before.imported_at);
    let entry = after.history.last().expect("history entry");
    assert_eq!(entry.event, "reimported");
    assert!(
        entry.changes.iter().any(|c| c == "mall_status: 300 → 800"),
        "{:?}",
        entry.changes
    );
    assert_eq!(h.all_orders().await.len(), 3, "no second record");
}

#[tokio::test]
async fn the_sample_events_are_what_the_function_accepts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        // The shop API's events (`shop-api-*.json`) are checked in shop_api.rs.
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("shop-api-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if name.starts_with("mall-writer-") {
            let event: aws_lambda_events::sqs::SqsEvent = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not an SQS event: {e}", path.display()));
            for record in event.records {
                let write: ichigen_core::mall_write::MallWrite =
                    serde_json::from_str(&record.body.unwrap()).unwrap_or_else(|e| {
                        panic!("{}: message body is not a mall write: {e}", path.display())
                    });
                assert_eq!(
                    record.attributes.get("MessageGroupId"),
                    Some(&write.message_group()),
                    "{}: one message group per order",
                    path.display()
                );
            }
            seen += 1;
            continue;
        }
        let invocation: Invocation = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not an import-orders event: {e}", path.display()));
        if let Invocation::Queue(event) = invocation {
            for record in event.records {
                let body = record.body.unwrap();
                serde_json::from_str::<ichigen_core::import::ImportCommand>(&body).unwrap_or_else(
                    |e| {
                        panic!(
                            "{}: message body is not an import request: {e}",
                            path.display()
                        )
                    },
                );
            }
        }
        seen += 1;
    }
    assert!(seen >= 3, "events/ holds the schedule and SQS samples");
}

#[tokio::test]
async fn a_long_range_continues_through_the_fifo_queue_in_the_stores_group() {
    let mut h = Harness::new().await;
    h.app.queue = Some(ichigen_aws::ImportQueue::from_sdk(
        &h.sdk,
        &h.handles.import_queue_url,
    ));
    let numbers = h.seed(30, 113, ago(hours(70)), ago(minutes(5))).await;
    let range = json!({"type": "range", "store": "rakuten:store-a",
        "from": ago(hours(72)).to_string(), "to": now().to_string()});
    assert!(
        handle_queue(&h, vec![fifo_message("range", &range)])
            .await
            .is_empty()
    );

    // Each run handles one day and queues the rest, in the store's message group.
    let sqs = aws_sdk_sqs::Client::new(&h.sdk);
    let mut continuations = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&h.handles.import_queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let attributes = m.attributes.clone().unwrap_or_default();
            let group = attributes
                .get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
                .cloned();
            assert_eq!(group.as_deref(), Some("rakuten:store-a"));
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(body["type"], "range", "{body}");
            continuations += 1;
            sqs.delete_message()
                .queue_url(&h.handles.import_queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            assert!(
                handle_queue(&h, vec![fifo_message("next", &body)])
                    .await
                    .is_empty()
            );
        }
        assert!(continuations < 10, "a range that never ends");
    }
    assert_eq!(
        continuations, 2,
        "72 hours: the first day, then two continuations"
    );
    let stored: std::collections::HashSet<String> = h
        .all_orders()
        .await
        .into_iter()
        .map(|o| o.mall_order_id)
        .collect();
    assert_eq!(stored, numbers.into_iter().collect());
}
