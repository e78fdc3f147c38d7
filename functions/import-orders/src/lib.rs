//! The import-orders Lambda: thin wiring from an event to [`ichigen_core::import::run_import`].
//!
//! Every import request reaches it through the shop's import queue, a FIFO queue whose message
//! group is the store: the per-store schedule (EventBridge Scheduler sends
//! `{"type":"differential","store":…,"sent_at":<scheduled time>}`), the mail trigger and
//! operators (targeted order numbers, range re-imports) and the function itself (the rest of
//! a run that stopped at its deadline). So a store's runs never overlap, and its mall rate
//! holds across invocations. A plain [`ImportCommand`] invocation is accepted too (local runs,
//! `cargo lambda invoke`).
//!
//! Queue failures are classified: a retryable one (mall or DynamoDB unavailable,
//! acknowledgements still owed) is reported as a batch item failure, with every later message
//! of the same store, so FIFO order holds; a final one (a bad message, an unknown store, a
//! refused credential) is logged, recorded on the store's run status and acknowledged — retrying
//! it would only hammer the mall.
//!
//! [`App`] holds the clients, built once per Lambda instance, and one mall client per store
//! (rebuilt when the store's secret changes), so the store's token bucket spans invocations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use ichigen_aws::metrics::{RunMetrics, name};
use ichigen_aws::{ImportQueue, MallWriteSqs, SecretsManagerVault, ShopTable};
use ichigen_core::StoreRef;
use ichigen_core::import::{
    ImportCommand, ImportContext, ImportError, ImportReport, ImportRequest, run_import,
};
use ichigen_core::mall_write::{MallWrite, MallWriteQueue};
use ichigen_core::ports::{
    CheckpointStore, Clock, FailedImportStore, OrderIndex, QueueFailure, StoreRunStatus,
    StoreStatusStore, SystemClock, Vault,
};
use ichigen_malls::{ClientSettings, MallAccess, MallEndpoints, StoreMallError, StoreMalls};
use serde::{Deserialize, Serialize};

/// How long before the function's timeout a run stops taking new batches: room for one slow
/// batch (mall retries with backoff) and the bookkeeping after it. An invocation with less
/// time (a short local timeout) keeps a third of what it has instead.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(90);

/// When a run with this deadline stops taking new batches (see [`DEADLINE_MARGIN`]).
pub fn stop_at(deadline: Instant, now: Instant) -> Instant {
    let remaining = deadline.saturating_duration_since(now);
    let margin = DEADLINE_MARGIN.min(remaining / 3);
    deadline.checked_sub(margin).unwrap_or(deadline)
}

/// What the function is invoked with.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Invocation {
    Queue(SqsEvent),
    Command(ImportCommand),
}

/// What the function returns.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Queue(SqsBatchResponse),
    Report(Box<ImportReport>),
    Skipped { skipped: String },
}

/// Why one import request failed.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    #[error(transparent)]
    Store(#[from] StoreMallError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("queue message {message_id} is not an import request: {detail}")]
    BadMessage { message_id: String, detail: String },
    #[error("{store}: the run stopped early and its continuation could not be queued: {detail}")]
    Continuation { store: StoreRef, detail: String },
}

impl FunctionError {
    /// Worth retrying without a person doing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            FunctionError::Import(e) => e.is_retryable(),
            FunctionError::Store(e) => e.is_retryable(),
            FunctionError::Continuation { .. } => true,
            FunctionError::BadMessage { .. } => false,
        }
    }

    /// A person must renew the store's credential.
    pub fn is_credential(&self) -> bool {
        matches!(self, FunctionError::Import(e) if e.is_credential())
    }
}

/// The function's adapters, built once per Lambda instance.
pub struct App {
    pub table: String,
    pub shop_id: String,
    pub store: Arc<ShopTable>,
    pub vault: Arc<dyn Vault>,
    pub clock: Arc<dyn Clock>,
    pub endpoints: MallEndpoints,
    pub client_settings: ClientSettings,
    /// Where the rest of an unfinished run is queued (`ICHIGEN_IMPORT_QUEUE_URL`).
    pub queue: Option<ImportQueue>,
    /// Where the mall writes an import owes go (`ICHIGEN_WRITE_QUEUE_URL`, the mall-writer's
    /// queue). Without one, writes stay owed on their orders (nothing is lost; nothing is
    /// sent either).
    pub writes: Option<MallWriteSqs>,
    malls: StoreMalls,
}

impl App {
    /// Builds the adapters from the environment: `ICHIGEN_TABLE`, `ICHIGEN_SHOP_ID`,
    /// `ICHIGEN_IMPORT_QUEUE_URL`, `ICHIGEN_WRITE_QUEUE_URL` (required), the AWS SDK's own variables (`AWS_ENDPOINT_URL` points it at
    /// a local emulator), and the mall client settings.
    pub async fn from_env() -> Result<Self, MissingEnv> {
        let table = std::env::var("ICHIGEN_TABLE").map_err(|_| MissingEnv("ICHIGEN_TABLE"))?;
        let writes = std::env::var("ICHIGEN_WRITE_QUEUE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .ok_or(MissingEnv("ICHIGEN_WRITE_QUEUE_URL"))?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let mut app = Self::new(
            &sdk,
            table,
            MallEndpoints::from_env(),
            ClientSettings::from_env(),
        );
        app.shop_id = std::env::var("ICHIGEN_SHOP_ID").unwrap_or_else(|_| "local".to_owned());
        app.queue = std::env::var("ICHIGEN_IMPORT_QUEUE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .map(|url| ImportQueue::from_sdk(&sdk, url));
        app.writes = Some(MallWriteSqs::from_sdk(&sdk, writes));
        Ok(app)
    }

    pub fn new(
        sdk: &aws_config::SdkConfig,
        table: String,
        endpoints: MallEndpoints,
        client_settings: ClientSettings,
    ) -> Self {
        let store = Arc::new(ShopTable::new(
            aws_sdk_dynamodb::Client::new(sdk),
            table.clone(),
        ));
        let client_settings = client_settings.sharing_rate_budget(store.clone());
        Self {
            store,
            vault: Arc::new(SecretsManagerVault::from_sdk(sdk)),
            clock: Arc::new(SystemClock),
            table,
            shop_id: "local".to_owned(),
            malls: StoreMalls::default(),
            endpoints,
            client_settings,
            queue: None,
            writes: None,
        }
    }

    /// The same app, queueing mall writes on `url` (the mall-writer's queue).
    pub fn with_write_queue(mut self, sdk: &aws_config::SdkConfig, url: &str) -> Self {
        self.writes = Some(MallWriteSqs::from_sdk(sdk, url));
        self
    }

    /// Handles one invocation; `deadline` is when the invocation times out.
    pub async fn handle(
        &self,
        invocation: Invocation,
        deadline: Option<Instant>,
    ) -> Result<Outcome, FunctionError> {
        let stop_at = deadline.map(|d| stop_at(d, Instant::now()));
        match invocation {
            Invocation::Command(command) => match self.import(&command, stop_at).await? {
                Some(report) => Ok(Outcome::Report(Box::new(report))),
                None => Ok(Outcome::Skipped {
                    skipped: format!("{} is disabled", command.store),
                }),
            },
            Invocation::Queue(event) => Ok(Outcome::Queue(self.handle_queue(event, stop_at).await)),
        }
    }

    /// Processes the messages in order. A retryable failure is reported, and so is every
    /// later message of the same store (FIFO: they must not overtake it); a final failure
    /// is logged, recorded and acknowledged.
    pub async fn handle_queue(
        &self,
        event: SqsEvent,
        stop_at: Option<Instant>,
    ) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        let mut blocked_groups: Vec<String> = Vec::new();
        for message in event.records {
            let message_id = message.message_id.clone().unwrap_or_default();
            let group = message_group(&message);
            if group.as_ref().is_some_and(|g| blocked_groups.contains(g)) {
                response.batch_item_failures.push(BatchItemFailure {
                    item_identifier: message_id,
                });
                continue;
            }
            let Err(error) = self.handle_message(&message, stop_at).await else {
                continue;
            };
            let retryable = error.is_retryable();
            tracing::error!(
                message_id = %message_id,
                retryable,
                error = %error,
                "import request failed"
            );
            if retryable {
                response.batch_item_failures.push(BatchItemFailure {
                    item_identifier: message_id,
                });
                blocked_groups.extend(group);
            }
        }
        response
    }

    async fn handle_message(
        &self,
        message: &SqsMessage,
        stop_at: Option<Instant>,
    ) -> Result<(), FunctionError> {
        let message_id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        let command: ImportCommand =
            serde_json::from_str(body).map_err(|e| FunctionError::BadMessage {
                message_id,
                detail: e.to_string(),
            })?;
        self.import(&command, stop_at).await.map(|_| ())
    }

    /// Runs one import request: store config → credential → mall client → core job, then
    /// records the run (store status, metrics) and queues what is left. `None` when the store
    /// is disabled.
    pub async fn import(
        &self,
        command: &ImportCommand,
        stop_at: Option<Instant>,
    ) -> Result<Option<ImportReport>, FunctionError> {
        let store = &command.store;
        let result = self.run(command, stop_at).await;
        if !matches!(result, Ok(None)) {
            self.record_run(command, &result).await;
        }
        let report = match result {
            Ok(Some(report)) => report,
            other => return other,
        };
        if let (Some(rest), Some(queue)) = (&report.unfinished, &self.queue) {
            let next = ImportCommand::new(store.clone(), rest.clone());
            let body = serde_json::to_value(&next).map_err(|e| FunctionError::Continuation {
                store: store.clone(),
                detail: e.to_string(),
            })?;
            queue
                .send(&body)
                .await
                .map_err(|e| FunctionError::Continuation {
                    store: store.clone(),
                    detail: e.to_string(),
                })?;
            tracing::info!(store = %store, "queued the rest of the run");
        }
        Ok(Some(report))
    }

    async fn run(
        &self,
        command: &ImportCommand,
        stop_at: Option<Instant>,
    ) -> Result<Option<ImportReport>, FunctionError> {
        let store = &command.store;
        let Some(found) = self
            .malls
            .for_store(
                self.store.as_ref(),
                self.vault.as_ref(),
                &self.table,
                store,
                MallAccess {
                    endpoints: &self.endpoints,
                    settings: &self.client_settings,
                },
            )
            .await?
        else {
            tracing::info!(store = %store, "store disabled; skipping import");
            return Ok(None);
        };
        let _turn = found.mall.turn.lock().await;
        let unqueued = Unqueued;
        let writes: &dyn MallWriteQueue = match &self.writes {
            Some(queue) => queue,
            None => &unqueued,
        };
        let ctx = ImportContext {
            config: &found.config,
            mall: found.mall.mall.as_ref(),
            orders: self.store.as_ref(),
            checkpoints: self.store.as_ref(),
            failed_imports: self.store.as_ref(),
            index: self.store.as_ref(),
            writes,
            clock: self.clock.as_ref(),
            deadline: stop_at,
        };
        Ok(Some(run_import(&ctx, command).await?))
    }

    /// The store's run status and the run's metrics. Best effort: a failure here is logged,
    /// never allowed to turn a good import into a failed one.
    async fn record_run(
        &self,
        command: &ImportCommand,
        result: &Result<Option<ImportReport>, FunctionError>,
    ) {
        let store = &command.store;
        let now = self.clock.now();
        let mut status = match self.store.load_store_status(store).await {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(store = %store, error = %e, "could not read the store's run status");
                StoreRunStatus::default()
            }
        };
        status.last_run_at = Some(now);
        let mut metrics = RunMetrics::default();
        match result {
            Ok(report) => {
                status.last_success_at = Some(now);
                status.last_error = None;
                status.credential_rejected = false;
                if let Some(report) = report {
                    metrics
                        .count(name::ORDERS_IMPORTED, report.created.len())
                        .count(name::ORDERS_HELD, report.held.len())
                        .count(name::ORDERS_QUARANTINED, report.quarantined.len())
                        .count(name::FAILED_IMPORTS, report.quarantine_size)
                        .count(name::MALL_WRITES_NOT_QUEUED, report.writes_not_queued);
                }
                metrics
                    .count(name::IMPORT_RUN_FAILED, 0)
                    .count(name::CREDENTIAL_REJECTED, 0);
                // Refused writes wait for a person however the runs go: counted every run, so
                // the alarm stays up until someone retries or settles them.
                match self
                    .store
                    .failed_mall_writes(store, None, name::FAILED_MALL_WRITES_COUNTED)
                    .await
                {
                    Ok(failed) => {
                        let refused = failed
                            .iter()
                            .filter(|o| o.mall_sync.refused_for_good().is_some())
                            .count();
                        metrics.count(name::FAILED_MALL_WRITES, refused);
                    }
                    Err(e) => {
                        tracing::warn!(store = %store, error = %e, "could not count the refused mall writes")
                    }
                }
            }
            Err(error) => {
                status.last_error = Some(error.to_string());
                status.credential_rejected = error.is_credential();
                metrics.count(name::IMPORT_RUN_FAILED, 1).count(
                    name::CREDENTIAL_REJECTED,
                    usize::from(error.is_credential()),
                );
                if let Ok(failed) = self.store.failed_imports(store).await {
                    metrics.count(name::FAILED_IMPORTS, failed.len());
                }
            }
        }
        if command.request == ImportRequest::Differential {
            // The run knows where it moved the checkpoint; only otherwise is it read.
            let advanced = match result {
                Ok(Some(report)) => report.checkpoint_advanced_to,
                _ => None,
            };
            let checkpoint = match advanced {
                Some(at) => Some(at),
                None => match self.store.load_checkpoint(store).await {
                    Ok(checkpoint) => checkpoint.map(|c| c.imported_until),
                    Err(e) => {
                        tracing::warn!(store = %store, error = %e, "could not read the checkpoint for its age");
                        None
                    }
                },
            };
            if let Some(imported_until) = checkpoint {
                let age = now.duration_since(imported_until);
                metrics.seconds(name::CHECKPOINT_AGE, age.as_secs());
            }
        }
        if let Err(e) = self.store.save_store_status(store, &status).await {
            tracing::warn!(store = %store, error = %e, "could not record the store's run status");
        }
        metrics.publish(&self.shop_id, &store.to_string(), now);
    }
}

/// The FIFO message group of a message (absent on a standard queue).
fn message_group(message: &SqsMessage) -> Option<String> {
    message.attributes.get("MessageGroupId").cloned()
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub &'static str);

/// No mall-writer queue configured: every write stays owed on its order.
struct Unqueued;

#[async_trait::async_trait]
impl MallWriteQueue for Unqueued {
    async fn enqueue(&self, writes: &[MallWrite]) -> Result<(), QueueFailure> {
        Err(QueueFailure {
            count: writes.len(),
            detail: "no mall-writer queue is configured (ICHIGEN_WRITE_QUEUE_URL)".to_owned(),
        })
    }
}

pub use ichigen_aws::logging::{QUIET_TARGETS, init_logging, log_filter};

/// The invocation's deadline as an [`Instant`], from the runtime's epoch milliseconds. A
/// deadline already past when the invocation starts is not a deadline Lambda gives (local
/// emulators send the timeout itself, e.g. `600000`): it is treated as unknown.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Option<Instant> {
    let now_ms = u64::try_from(jiff::Timestamp::now().as_millisecond()).ok()?;
    if deadline_ms <= now_ms {
        tracing::debug!(
            deadline_ms,
            "invocation deadline in the past; running without one"
        );
        return None;
    }
    Instant::now().checked_add(Duration::from_millis(deadline_ms - now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_stops_90_s_early_or_with_a_third_of_a_short_invocation_left() {
        let now = Instant::now();
        let long = now + Duration::from_secs(300);
        assert_eq!(stop_at(long, now), long - DEADLINE_MARGIN);
        let short = now + Duration::from_secs(30);
        assert_eq!(stop_at(short, now), short - Duration::from_secs(10));
        assert_eq!(stop_at(now, now), now);
    }

    #[test]
    fn deadline_is_in_the_future_by_the_remaining_time() {
        let now_ms = jiff::Timestamp::now().as_millisecond() as u64;
        let deadline = deadline_from_epoch_ms(now_ms + 60_000).unwrap();
        let remaining = deadline.saturating_duration_since(Instant::now());
        assert!(remaining > Duration::from_secs(55) && remaining <= Duration::from_secs(60));
        // `cargo lambda watch` sends the timeout (600 s) where Lambda sends an epoch instant.
        assert_eq!(deadline_from_epoch_ms(600_000), None);
    }
}
