//! Lambda's SQS event source, played where there is no Lambda service: the local run (which
//! hands the batch to the function under `cargo lambda watch`) and the tests (which call the
//! function's code). It does what the event source mapping does: receive up to ten messages,
//! hand them over as one [`SqsEvent`], delete those the function did not report as failed.
//! A failed message stays invisible until the queue's visibility timeout ends, as deployed;
//! [`EventSource::redeliver`] ends that wait early, for a test or an impatient local run.

use std::collections::HashMap;
use std::future::Future;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};

use crate::QueueError;

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub received: usize,
    /// Receipt handles of the messages the function reported as failed.
    pub failed: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct EventSource {
    client: Client,
    url: String,
    arn: String,
}

impl EventSource {
    pub fn from_sdk(sdk: &SdkConfig, url: impl Into<String>) -> Self {
        let url = url.into();
        let name = url.rsplit('/').next().unwrap_or_default().to_owned();
        Self {
            client: Client::new(sdk),
            arn: format!("arn:aws:sqs:local:000000000000:{name}"),
            url,
        }
    }

    /// Receives up to ten messages and hands them to `function` as one event; `None` when
    /// the queue had nothing to deliver.
    pub async fn deliver<F, Fut>(&self, function: F) -> Result<Option<Delivered>, QueueError>
    where
        F: FnOnce(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(self.error("ReceiveMessage"))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(None);
        }
        let mut receipts = HashMap::new();
        let records = messages
            .into_iter()
            .map(|m| {
                let id = m.message_id.clone().unwrap_or_default();
                receipts.insert(id.clone(), m.receipt_handle.clone().unwrap_or_default());
                let attributes = m
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v))
                    .collect();
                SqsMessage {
                    message_id: Some(id),
                    receipt_handle: m.receipt_handle,
                    body: m.body,
                    md5_of_body: m.md5_of_body,
                    attributes,
                    event_source: Some("aws:sqs".to_owned()),
                    event_source_arn: Some(self.arn.clone()),
                    ..SqsMessage::default()
                }
            })
            .collect::<Vec<_>>();
        let received = records.len();
        let event = SqsEvent { records };
        let response = function(event).await;
        let mut failed = Vec::new();
        for failure in &response.batch_item_failures {
            if let Some(receipt) = receipts.remove(&failure.item_identifier) {
                failed.push(receipt);
            }
        }
        // The rest were handled: deleted in one call, as the event source does.
        let entries = receipts
            .into_values()
            .enumerate()
            .map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.error("DeleteMessageBatch"))?;
        if !entries.is_empty() {
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(self.error("DeleteMessageBatch"))?;
            if let Some(failed) = out.failed.first() {
                return Err(QueueError::Call {
                    queue: self.url.clone(),
                    action: "DeleteMessageBatch",
                    detail: format!(
                        "{} ({})",
                        failed.code,
                        failed.message.as_deref().unwrap_or("")
                    ),
                });
            }
        }
        Ok(Some(Delivered { received, failed }))
    }

    /// Ends the visibility timeout of these failed messages now (time passing, early).
    pub async fn redeliver(&self, receipts: &[String]) -> Result<(), QueueError> {
        for receipt in receipts {
            self.client
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(self.error("ChangeMessageVisibility"))?;
        }
        Ok(())
    }

    /// Messages waiting (visible) and in flight (received, not deleted), as SQS counts them.
    pub async fn depth(&self) -> Result<(usize, usize), QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(self.error("GetQueueAttributes"))?;
        let attributes = out.attributes.unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok((
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }

    fn error<E: std::error::Error>(&self, action: &'static str) -> impl Fn(E) -> QueueError {
        let queue = self.url.clone();
        move |e| QueueError::Call {
            queue: queue.clone(),
            action,
            detail: DisplayErrorContext(&e).to_string(),
        }
    }
}
