//! Sends import requests (targeted order ids, range re-imports, continuations) to the shop's
//! import queue.
//!
//! Messages are JSON; the import function defines their shape. The queue is FIFO with one
//! message group per store (the message's `store`), so a store's requests run one at a time
//! and in order, whoever sent them. Each message sent here gets its own de-duplication id: an
//! operator asking twice means twice. Import is idempotent, so a message sent twice (a retry
//! after an unclear failure) does no harm.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

/// SendMessageBatch takes at most 10 entries.
const BATCH_MAX: usize = 10;
/// Retries of entries SQS failed on its side, with doubling pauses from 100 ms.
const FAILED_ENTRY_RETRIES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("sending to {queue} failed: {detail}")]
    Send { queue: String, detail: String },
    #[error("{action} on {queue} failed: {detail}")]
    Call {
        queue: String,
        action: &'static str,
        detail: String,
    },
    #[error("{queue} rejected {count} of the messages: {reasons}")]
    Rejected {
        queue: String,
        count: usize,
        reasons: String,
    },
    #[error("message {index} for {queue} is not valid JSON text: {detail}")]
    Encode {
        queue: String,
        index: usize,
        detail: String,
    },
}

#[derive(Clone, Debug)]
pub struct ImportQueue {
    client: Client,
    url: String,
}

impl ImportQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn from_sdk(sdk: &SdkConfig, url: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), url)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A FIFO queue's URL ends in `.fifo` (SQS requires the suffix).
    pub fn is_fifo(&self) -> bool {
        self.url.ends_with(".fifo")
    }

    /// The FIFO message group and de-duplication id for a body: the store it names (or one
    /// shared group when it names none) and a fresh id.
    fn fifo_ids(&self, body: &serde_json::Value) -> Option<(String, String)> {
        self.is_fifo().then(|| {
            let group = body
                .get("store")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("shop")
                .to_owned();
            (group, uuid::Uuid::new_v4().simple().to_string())
        })
    }

    /// Sends one message.
    pub async fn send(&self, body: &serde_json::Value) -> Result<(), QueueError> {
        let fifo = self.fifo_ids(body);
        let text = self.encode(0, body)?;
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(text);
        if let Some((group, dedup)) = fifo {
            send = send.message_group_id(group).message_deduplication_id(dedup);
        }
        send.send().await.map_err(|e| self.send_error(e))?;
        Ok(())
    }

    /// Sends many messages, 10 per call; entries SQS fails on its side are retried.
    pub async fn send_batch(&self, bodies: &[serde_json::Value]) -> Result<(), QueueError> {
        let messages: Vec<(&serde_json::Value, Option<(String, String)>)> =
            bodies.iter().map(|b| (b, self.fifo_ids(b))).collect();
        self.send_messages(&messages).await
    }

    /// Sends messages with their FIFO message group and de-duplication id (on a FIFO queue),
    /// 10 per call; entries SQS fails on its side are retried.
    async fn send_messages(
        &self,
        messages: &[(&serde_json::Value, Option<(String, String)>)],
    ) -> Result<(), QueueError> {
        for (chunk_index, chunk) in messages.chunks(BATCH_MAX).enumerate() {
            let mut entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (body, fifo))| {
                    let index = chunk_index * BATCH_MAX + i;
                    let (group, dedup) = fifo.clone().filter(|_| self.is_fifo()).unzip();
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(self.encode(index, body)?)
                        .set_message_group_id(group)
                        .set_message_deduplication_id(dedup)
                        .build()
                        .map_err(|e| self.send_error(e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut attempt = 0;
            while !entries.is_empty() {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries.clone()))
                    .send()
                    .await
                    .map_err(|e| self.send_error(e))?;
                let failed = out.failed;
                if failed.is_empty() {
                    break;
                }
                attempt += 1;
                if attempt > FAILED_ENTRY_RETRIES || failed.iter().any(|f| f.sender_fault) {
                    let reasons = failed
                        .iter()
                        .map(|f| format!("#{} {}", f.id, f.code))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(QueueError::Rejected {
                        queue: self.url.clone(),
                        count: failed.len(),
                        reasons,
                    });
                }
                entries.retain(|e| failed.iter().any(|f| f.id == e.id));
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
        Ok(())
    }

    fn encode(&self, index: usize, body: &serde_json::Value) -> Result<String, QueueError> {
        serde_json::to_string(body).map_err(|e| QueueError::Encode {
            queue: self.url.clone(),
            index,
            detail: e.to_string(),
        })
    }

    fn send_error<E: std::error::Error>(&self, e: E) -> QueueError {
        QueueError::Send {
            queue: self.url.clone(),
            detail: DisplayErrorContext(&e).to_string(),
        }
    }
}

#[async_trait::async_trait]
impl ichigen_core::ports::ImportRequests for ImportQueue {
    async fn enqueue(
        &self,
        commands: &[ichigen_core::import::ImportCommand],
    ) -> Result<(), ichigen_core::ports::QueueFailure> {
        let failure = |detail: String| ichigen_core::ports::QueueFailure {
            count: commands.len(),
            detail,
        };
        let bodies = commands
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failure(e.to_string()))?;
        self.send_batch(&bodies)
            .await
            .map_err(|e| failure(e.to_string()))
    }
}

/// The shop's mall-writer queue (FIFO): one message group per order, so an order's writes go
/// in order while other orders' pass, and the write's id as the de-duplication id, so the
/// same write queued twice within SQS's five minutes is delivered once.
#[derive(Clone, Debug)]
pub struct MallWriteSqs {
    queue: ImportQueue,
}

impl MallWriteSqs {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            queue: ImportQueue::new(client, url),
        }
    }

    pub fn from_sdk(sdk: &SdkConfig, url: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), url)
    }

    pub fn url(&self) -> &str {
        self.queue.url()
    }
}

/// SQS takes at most 128 characters for a message group or de-duplication id: a longer one
/// (an unusually long order number) is replaced by its hash, which stays stable.
fn fifo_id(text: String) -> String {
    use std::hash::{Hash, Hasher};
    if text.len() <= 128 {
        return text;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    format!(
        "{}#{:016x}",
        &text[..text.floor_char_boundary(100)],
        hasher.finish()
    )
}

#[async_trait::async_trait]
impl ichigen_core::mall_write::MallWriteQueue for MallWriteSqs {
    async fn enqueue(
        &self,
        writes: &[ichigen_core::mall_write::MallWrite],
    ) -> Result<(), ichigen_core::ports::QueueFailure> {
        let failure = |detail: String| ichigen_core::ports::QueueFailure {
            count: writes.len(),
            detail,
        };
        let bodies = writes
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failure(e.to_string()))?;
        let messages: Vec<(&serde_json::Value, Option<(String, String)>)> = bodies
            .iter()
            .zip(writes)
            .map(|(body, write)| {
                let ids = (
                    fifo_id(write.message_group()),
                    fifo_id(write.write_id.clone()),
                );
                (body, Some(ids))
            })
            .collect();
        self.queue
            .send_messages(&messages)
            .await
            .map_err(|e| failure(e.to_string()))
    }
}
