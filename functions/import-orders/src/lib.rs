//! The import-orders Lambda: thin wiring from an event to [`ichigen_core::import::run_import`].
//!
//! Two triggers:
//! - an EventBridge schedule per store, whose input is an [`ImportCommand`]
//!   (`{"type":"differential","store":"rakuten:store-a"}`);
//! - the shop's import queue (SQS), whose messages are [`ImportCommand`]s too (targeted order
//!   numbers from the mail trigger or an operator, range re-imports). Failed messages are
//!   reported back as batch item failures, so only they are retried and, after the queue's
//!   `maxReceiveCount`, land in the dead-letter queue.
//!
//! [`App`] holds the clients, built once per Lambda instance; the same code runs in tests and
//! in the local demo (`ichigen demo`).

use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use ichigen_aws::{SecretsManagerVault, ShopTable};
use ichigen_core::StoreRef;
use ichigen_core::import::{ImportCommand, ImportContext, ImportError, ImportReport, run_import};
use ichigen_core::ports::{Clock, StoreConfigs, StoreError, SystemClock, Vault, VaultError};
use ichigen_malls::{ClientSettings, ConnectError, MallEndpoints};
use serde::{Deserialize, Serialize};

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
    #[error("{store} is not configured in table {table} (add it with `ichigen store put`)")]
    UnknownStore { store: StoreRef, table: String },
    #[error("{store}: could not read its store configuration: {source}")]
    Config {
        store: StoreRef,
        #[source]
        source: StoreError,
    },
    #[error("{store}: could not read its mall credential from Secrets Manager: {source}")]
    Secret {
        store: StoreRef,
        #[source]
        source: VaultError,
    },
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("queue message {message_id} is not an import request: {detail}")]
    BadMessage { message_id: String, detail: String },
}

impl FunctionError {
    /// Worth retrying without a person doing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            FunctionError::Import(e) => e.is_retryable(),
            FunctionError::Config { .. } => true,
            FunctionError::Secret { source, .. } => {
                matches!(source, VaultError::Unavailable { .. })
            }
            FunctionError::UnknownStore { .. }
            | FunctionError::Connect(_)
            | FunctionError::BadMessage { .. } => false,
        }
    }
}

/// The function's adapters, built once per Lambda instance.
pub struct App {
    pub table: String,
    pub store: Arc<ShopTable>,
    pub vault: Arc<dyn Vault>,
    pub clock: Arc<dyn Clock>,
    pub endpoints: MallEndpoints,
    pub client_settings: ClientSettings,
}

impl App {
    /// Builds the adapters from the environment: `ICHIGEN_TABLE`, the AWS SDK's own variables
    /// (`AWS_ENDPOINT_URL` points it at a local emulator), and the mall client settings.
    pub async fn from_env() -> Result<Self, MissingEnv> {
        let table = std::env::var("ICHIGEN_TABLE").map_err(|_| MissingEnv("ICHIGEN_TABLE"))?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self::new(
            &sdk,
            table,
            MallEndpoints::from_env(),
            ClientSettings::from_env(),
        ))
    }

    pub fn new(
        sdk: &aws_config::SdkConfig,
        table: String,
        endpoints: MallEndpoints,
        client_settings: ClientSettings,
    ) -> Self {
        Self {
            store: Arc::new(ShopTable::new(
                aws_sdk_dynamodb::Client::new(sdk),
                table.clone(),
            )),
            vault: Arc::new(SecretsManagerVault::from_sdk(sdk)),
            clock: Arc::new(SystemClock),
            table,
            endpoints,
            client_settings,
        }
    }

    /// Handles one invocation.
    pub async fn handle(&self, invocation: Invocation) -> Result<Outcome, FunctionError> {
        match invocation {
            Invocation::Command(command) => match self.import(&command).await? {
                Some(report) => Ok(Outcome::Report(Box::new(report))),
                None => Ok(Outcome::Skipped {
                    skipped: format!("{} is disabled", command.store),
                }),
            },
            Invocation::Queue(event) => Ok(Outcome::Queue(self.handle_queue(event).await)),
        }
    }

    /// Processes each message on its own; reports the failed ones so only they come back.
    pub async fn handle_queue(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in event.records {
            let message_id = message.message_id.clone().unwrap_or_default();
            if let Err(error) = self.handle_message(&message).await {
                tracing::error!(
                    message_id = %message_id,
                    retryable = error.is_retryable(),
                    error = %error,
                    "import request failed"
                );
                response.batch_item_failures.push(BatchItemFailure {
                    item_identifier: message_id,
                });
            }
        }
        response
    }

    async fn handle_message(&self, message: &SqsMessage) -> Result<(), FunctionError> {
        let message_id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        let command: ImportCommand =
            serde_json::from_str(body).map_err(|e| FunctionError::BadMessage {
                message_id,
                detail: e.to_string(),
            })?;
        self.import(&command).await.map(|_| ())
    }

    /// Runs one import request: store config → credential → mall client → core job.
    /// `None` when the store is disabled.
    pub async fn import(
        &self,
        command: &ImportCommand,
    ) -> Result<Option<ImportReport>, FunctionError> {
        let store = &command.store;
        let config = self
            .store
            .get_store_config(store)
            .await
            .map_err(|source| FunctionError::Config {
                store: store.clone(),
                source,
            })?
            .ok_or_else(|| FunctionError::UnknownStore {
                store: store.clone(),
                table: self.table.clone(),
            })?;
        if !config.enabled {
            tracing::info!(store = %store, "store disabled; skipping import");
            return Ok(None);
        }
        let secret = self
            .vault
            .get_secret(&config.secret_id)
            .await
            .map_err(|source| FunctionError::Secret {
                store: store.clone(),
                source,
            })?;
        let mall = ichigen_malls::connect(store, &secret, &self.endpoints, &self.client_settings)?;
        let ctx = ImportContext {
            config: &config,
            mall: mall.as_ref(),
            orders: self.store.as_ref(),
            checkpoints: self.store.as_ref(),
            clock: self.clock.as_ref(),
        };
        Ok(Some(run_import(&ctx, command).await?))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub &'static str);

/// JSON logs with the request id, as CloudWatch wants them; `RUST_LOG` sets the level.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // The runtime's invoke span carries `requestId`: keep it on every line.
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .with_target(false)
        .try_init();
}
