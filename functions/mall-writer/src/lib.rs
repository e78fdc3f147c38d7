//! The mall-writer Lambda: thin wiring from the mall-write queue to
//! [`ichigen_core::mall_write::perform_writes`].
//!
//! The queue is FIFO with one message group per order (see [`ichigen_core::mall_write`]). A
//! batch (≤ 10 messages) is split by store; each store's writes go through that store's mall
//! client, built from its secret and kept across invocations. A write that did not settle
//! (the mall unavailable, its credential refused, DynamoDB busy) is reported as a batch item
//! failure, with every later message of the same order, so SQS brings it back after the
//! visibility timeout and, after five receives, parks it in the dead-letter queue (alarmed);
//! the order stays owed meanwhile and the store's import run queues it again later. A
//! message that is not a write is logged and dropped: nothing can ever perform it.

use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use ichigen_aws::metrics::{RunMetrics, name};
use ichigen_aws::{SecretsManagerVault, ShopTable};
use ichigen_core::StoreRef;
use ichigen_core::mall_write::{MallWrite, WriteReport, WriterContext, perform_writes};
use ichigen_core::ports::{Clock, SystemClock, Vault};
use ichigen_malls::{ClientSettings, MallAccess, MallEndpoints, StoreMalls};

pub use ichigen_aws::logging::init_logging;

/// The function's adapters, built once per Lambda instance.
pub struct App {
    pub table: String,
    pub shop_id: String,
    pub store: Arc<ShopTable>,
    pub vault: Arc<dyn Vault>,
    pub clock: Arc<dyn Clock>,
    pub endpoints: MallEndpoints,
    pub client_settings: ClientSettings,
    malls: StoreMalls,
}

/// What one batch did: the answer for SQS, and a report per store.
#[derive(Debug, Default)]
pub struct Handled {
    pub response: SqsBatchResponse,
    pub reports: Vec<WriteReport>,
    /// Messages that were not a write (dropped).
    pub bad_messages: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub &'static str);

impl App {
    /// Builds the adapters from the environment: `ICHIGEN_TABLE`, `ICHIGEN_SHOP_ID`, the AWS
    /// SDK's own variables and the mall client settings.
    pub async fn from_env() -> Result<Self, MissingEnv> {
        let table = std::env::var("ICHIGEN_TABLE").map_err(|_| MissingEnv("ICHIGEN_TABLE"))?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let mut app = Self::new(
            &sdk,
            table,
            MallEndpoints::from_env(),
            ClientSettings::from_env(),
        );
        app.shop_id = std::env::var("ICHIGEN_SHOP_ID").unwrap_or_else(|_| "local".to_owned());
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
            endpoints,
            client_settings,
            malls: StoreMalls::default(),
        }
    }

    /// Performs a batch of writes; reports the messages SQS must bring back.
    pub async fn handle(&self, event: SqsEvent) -> Handled {
        let mut handled = Handled::default();
        // Messages in order, each with its write (or none: not a write).
        let mut messages: Vec<(String, Option<MallWrite>)> = Vec::new();
        for message in event.records {
            let id = message.message_id.clone().unwrap_or_default();
            let body = message.body.as_deref().unwrap_or_default();
            match serde_json::from_str::<MallWrite>(body) {
                Ok(write) => messages.push((id, Some(write))),
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "dropped a queue message that is not a mall write");
                    handled.bad_messages += 1;
                    messages.push((id, None));
                }
            }
        }
        let mut stores: Vec<StoreRef> = Vec::new();
        for write in messages.iter().filter_map(|(_, w)| w.as_ref()) {
            if !stores.contains(&write.store) {
                stores.push(write.store.clone());
            }
        }
        let mut to_retry: Vec<String> = Vec::new();
        for store in stores {
            let writes: Vec<MallWrite> = messages
                .iter()
                .filter_map(|(_, w)| w.as_ref().filter(|w| w.store == store).cloned())
                .collect();
            match self.perform(&store, writes.clone()).await {
                Some(report) => {
                    to_retry.extend(report.to_retry.iter().map(|r| r.write_id.clone()));
                    handled.reports.push(report);
                }
                None => to_retry.extend(writes.into_iter().map(|w| w.write_id)),
            }
        }
        // FIFO: a message brought back holds back every later one of its order.
        let mut held_orders: Vec<String> = Vec::new();
        for (message_id, write) in messages {
            let Some(write) = write else { continue };
            let group = write.message_group();
            if to_retry.contains(&write.write_id) || held_orders.contains(&group) {
                handled.response.batch_item_failures.push(BatchItemFailure {
                    item_identifier: message_id,
                });
                held_orders.push(group);
            }
        }
        handled
    }

    /// One store's writes; `None` when its mall client could not be had (all brought back).
    async fn perform(&self, store: &StoreRef, writes: Vec<MallWrite>) -> Option<WriteReport> {
        let found = match self
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
            .await
        {
            Ok(Some(found)) => found,
            Ok(None) => {
                // Disabled: the writes stay owed on their orders; the import run queues them
                // again once the store is enabled.
                tracing::info!(store = %store, writes = writes.len(), "store disabled; its mall writes wait");
                return Some(WriteReport {
                    store: store.to_string(),
                    received: writes.len(),
                    ..WriteReport::default()
                });
            }
            Err(e) => {
                tracing::error!(store = %store, error = %e, retryable = e.is_retryable(), "mall writes not sent");
                return None;
            }
        };
        let _turn = found.mall.turn.lock().await;
        let ctx = WriterContext {
            store,
            mall: found.mall.mall.as_ref(),
            orders: self.store.as_ref(),
            claims: self.store.as_ref(),
            clock: self.clock.as_ref(),
        };
        let report = perform_writes(&ctx, writes).await;
        tracing::info!(store = %store, summary = %report.summary(), "mall writes done");
        let mut metrics = RunMetrics::default();
        metrics.count(
            name::ACKNOWLEDGEMENT_FAILURES,
            report.refused.len() + report.to_retry.len(),
        );
        metrics.publish(&self.shop_id, &store.to_string(), self.clock.now());
        Some(report)
    }
}
