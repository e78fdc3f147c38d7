use aws_sdk_sqs::types::QueueAttributeName;
use ichigen_aws::setup::{IMPORT_MAX_RECEIVE_COUNT, IMPORT_VISIBILITY_TIMEOUT_SECS};
use ichigen_aws::{ImportQueue, ShopResources, ensure_shop};

use crate::{sdk, shop, unique};

async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<serde_json::Value> {
    let mut bodies = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        // FIFO: the group's next messages come only once these are deleted.
        for m in messages {
            bodies.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn import_requests_are_sent_one_by_one_and_in_batches() {
    let (sdk, handles, _) = shop("queue").await;
    let queue = ImportQueue::from_sdk(&sdk, &handles.import_queue_url);
    let single = serde_json::json!({ "type": "orders", "store": "rakuten:store-a", "ids": ["1"] });
    queue.send(&single).await.unwrap();
    let batch: Vec<_> = (0..23)
        .map(|n| serde_json::json!({ "type": "orders", "store": "rakuten:store-a", "ids": [n] }))
        .collect();
    queue.send_batch(&batch).await.unwrap();

    // One store, one message group: they come back in the order they were sent, and none
    // is dropped as a duplicate (each send has its own de-duplication id).
    assert!(queue.is_fifo());
    queue.send(&single).await.unwrap();
    let received = receive_all(&aws_sdk_sqs::Client::new(&sdk), queue.url()).await;
    let sent: Vec<_> = [single.clone()]
        .into_iter()
        .chain(batch)
        .chain([single])
        .collect();
    assert_eq!(received, sent);
}

#[tokio::test]
async fn the_import_queue_redrives_to_its_dead_letter_queue() {
    let sdk = sdk().await;
    let names = ShopResources::with_prefix(&unique("dlq"));
    let handles = ensure_shop(&sdk, &names).await.unwrap();
    assert_eq!(
        ensure_shop(&sdk, &names).await.unwrap(),
        handles,
        "ensure_shop is idempotent"
    );

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&handles.import_queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    let redrive: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        handles.import_dlq_arn.as_str()
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string(),
        IMPORT_MAX_RECEIVE_COUNT.to_string()
    );
    assert_eq!(
        attributes[&QueueAttributeName::VisibilityTimeout],
        IMPORT_VISIBILITY_TIMEOUT_SECS.to_string()
    );

    // A message received maxReceiveCount times without being deleted moves to the DLQ.
    let body = serde_json::json!({ "type": "orders", "store": "rakuten:store-a", "ids": ["x"] });
    ImportQueue::new(sqs.clone(), &handles.import_queue_url)
        .send(&body)
        .await
        .unwrap();
    for _ in 0..=IMPORT_MAX_RECEIVE_COUNT {
        sqs.receive_message()
            .queue_url(&handles.import_queue_url)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(receive_all(&sqs, &handles.import_dlq_url).await, [body]);
}
