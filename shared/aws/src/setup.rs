//! Creates a shop's resources where SAM does not: on the local emulator, for the local run
//! and the tests. Every step is idempotent, so running it again is harmless.
//!
//! The settings mirror `infra/template.yaml` (a test holds the two together).

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::tables::{self, TableError};

/// After this many failed receives an import request moves to the dead-letter queue.
pub const IMPORT_MAX_RECEIVE_COUNT: u32 = 5;
/// The import function's timeout in the template: room for a run to work until its deadline
/// margin (`import_orders::DEADLINE_MARGIN`, 90 s) and stop cleanly at a batch boundary.
pub const IMPORT_FUNCTION_TIMEOUT_SECS: u32 = 300;
/// Six times the function timeout (AWS's advice for Lambda event sources), so a message is
/// not redelivered while a slow run still works on it.
pub const IMPORT_VISIBILITY_TIMEOUT_SECS: u32 = 6 * IMPORT_FUNCTION_TIMEOUT_SECS;
/// After this many failed receives a mall write moves to its dead-letter queue (the order
/// stays owed; the import run queues it again later).
pub const WRITE_MAX_RECEIVE_COUNT: u32 = 5;
/// The mall-writer's timeout in the template: a batch of ten writes, with the mall's retries.
pub const WRITER_FUNCTION_TIMEOUT_SECS: u32 = 60;
/// Six times the writer's timeout, as for the import queue.
pub const WRITE_VISIBILITY_TIMEOUT_SECS: u32 = 6 * WRITER_FUNCTION_TIMEOUT_SECS;
/// Dead letters are kept for the SQS maximum, 14 days, to give an operator time.
pub const DLQ_RETENTION_SECS: u32 = 14 * 24 * 60 * 60;

/// The names of a shop's resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopResources {
    pub table_name: String,
    pub import_queue_name: String,
    pub import_dlq_name: String,
    pub write_queue_name: String,
    pub write_dlq_name: String,
}

impl ShopResources {
    /// `<prefix>-orders`, `<prefix>-import.fifo`, `<prefix>-import-dlq.fifo`,
    /// `<prefix>-mall-write.fifo`, `<prefix>-mall-write-dlq.fifo`: with the prefix
    /// `ichigen-<shop id>` these are the names the SAM template gives them; tests use a random
    /// prefix so they run side by side on one emulator. The queues are FIFO (one message
    /// group per store: a store's import requests run one at a time, in order).
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            table_name: format!("{prefix}-orders"),
            import_queue_name: format!("{prefix}-import.fifo"),
            import_dlq_name: format!("{prefix}-import-dlq.fifo"),
            write_queue_name: format!("{prefix}-mall-write.fifo"),
            write_dlq_name: format!("{prefix}-mall-write-dlq.fifo"),
        }
    }
}

/// What [`ensure_shop`] created or found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopHandles {
    pub table_name: String,
    pub import_queue_url: String,
    pub import_dlq_url: String,
    pub import_dlq_arn: String,
    pub write_queue_url: String,
    pub write_dlq_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("queue {queue}: {detail}")]
    Queue { queue: String, detail: String },
    #[error("secret {name}: {detail}")]
    Secret { name: String, detail: String },
}

/// Creates (or finds) the shop table, the import and mall-write queues and their dead-letter
/// queues.
pub async fn ensure_shop(sdk: &SdkConfig, shop: &ShopResources) -> Result<ShopHandles, SetupError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    tables::create_table(&dynamodb, &shop.table_name, &tables::shop_table()).await?;

    let sqs = aws_sdk_sqs::Client::new(sdk);
    let dlq_attributes = [
        (QueueAttributeName::FifoQueue, "true".to_owned()),
        (
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECS.to_string(),
        ),
    ];
    let import_dlq_url = ensure_queue(&sqs, &shop.import_dlq_name, &dlq_attributes).await?;
    let import_dlq_arn = queue_arn(&sqs, &shop.import_dlq_name, &import_dlq_url).await?;

    let redrive = serde_json::json!({
        "deadLetterTargetArn": import_dlq_arn,
        "maxReceiveCount": IMPORT_MAX_RECEIVE_COUNT,
    });
    let queue_attributes = [
        (QueueAttributeName::FifoQueue, "true".to_owned()),
        // The schedule's messages carry their scheduled time, so equal bodies are repeats.
        (
            QueueAttributeName::ContentBasedDeduplication,
            "true".to_owned(),
        ),
        (
            QueueAttributeName::VisibilityTimeout,
            IMPORT_VISIBILITY_TIMEOUT_SECS.to_string(),
        ),
        (QueueAttributeName::RedrivePolicy, redrive.to_string()),
    ];
    let import_queue_url = ensure_queue(&sqs, &shop.import_queue_name, &queue_attributes).await?;

    let write_dlq_url = ensure_queue(&sqs, &shop.write_dlq_name, &dlq_attributes).await?;
    let write_dlq_arn = queue_arn(&sqs, &shop.write_dlq_name, &write_dlq_url).await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": write_dlq_arn,
        "maxReceiveCount": WRITE_MAX_RECEIVE_COUNT,
    });
    let write_queue_attributes = [
        (QueueAttributeName::FifoQueue, "true".to_owned()),
        // Senders give each write's id as its de-duplication id.
        (
            QueueAttributeName::ContentBasedDeduplication,
            "false".to_owned(),
        ),
        (
            QueueAttributeName::VisibilityTimeout,
            WRITE_VISIBILITY_TIMEOUT_SECS.to_string(),
        ),
        (QueueAttributeName::RedrivePolicy, redrive.to_string()),
    ];
    let write_queue_url =
        ensure_queue(&sqs, &shop.write_queue_name, &write_queue_attributes).await?;

    Ok(ShopHandles {
        table_name: shop.table_name.clone(),
        import_queue_url,
        import_dlq_url,
        import_dlq_arn,
        write_queue_url,
        write_dlq_url,
    })
}

/// Creates the queue, or brings an existing one's attributes up to date; returns its URL.
async fn ensure_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> Result<String, SetupError> {
    let failed = |action: &str, detail: String| SetupError::Queue {
        queue: name.to_owned(),
        detail: format!("{action}: {detail}"),
    };
    let mut create = sqs.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        create = create.attributes(attribute.clone(), value);
    }
    match create.send().await {
        Ok(out) => out
            .queue_url
            .ok_or_else(|| failed("CreateQueue", "no queue URL returned".into())),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_queue_name_exists()) =>
        {
            let url = sqs
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| failed("GetQueueUrl", sqs_detail(&e)))?
                .queue_url
                .ok_or_else(|| failed("GetQueueUrl", "no queue URL returned".into()))?;
            let mut set = sqs.set_queue_attributes().queue_url(&url);
            for (attribute, value) in attributes {
                set = set.attributes(attribute.clone(), value);
            }
            set.send()
                .await
                .map_err(|e| failed("SetQueueAttributes", sqs_detail(&e)))?;
            Ok(url)
        }
        Err(e) => Err(failed("CreateQueue", sqs_detail(&e))),
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, name: &str, url: &str) -> Result<String, SetupError> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| SetupError::Queue {
            queue: name.to_owned(),
            detail: format!("GetQueueAttributes: {}", sqs_detail(&e)),
        })?;
    out.attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| SetupError::Queue {
            queue: name.to_owned(),
            detail: "no QueueArn".into(),
        })
}

fn sqs_detail<E: std::error::Error>(e: &E) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(e).to_string()
}

/// Stores `json` as the secret `name`: creates it, or puts a new current version.
pub async fn put_secret(
    sdk: &SdkConfig,
    name: &str,
    json: &serde_json::Value,
) -> Result<(), SetupError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let value = json.to_string();
    let failed = |action: &str, e: &dyn std::error::Error| SetupError::Secret {
        name: name.to_owned(),
        detail: format!(
            "{action}: {}",
            aws_sdk_secretsmanager::error::DisplayErrorContext(e)
        ),
    };
    match client
        .create_secret()
        .name(name)
        .secret_string(&value)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_exists_exception()) =>
        {
            client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| failed("PutSecretValue", &e))?;
            Ok(())
        }
        Err(e) => Err(failed("CreateSecret", &e)),
    }
}
