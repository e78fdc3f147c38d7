//! How each store's imports are going, as an operator checks first when orders stop arriving.

use serde::{Deserialize, Serialize};

use super::OperatorError;
use crate::order::StoreRef;
use crate::ports::{CheckpointStore, Clock, StoreConfigs, StoreStatusStore};
use crate::time::JstInstant;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreOverview {
    pub store: StoreRef,
    pub enabled: bool,
    pub last_run_at: Option<JstInstant>,
    pub last_success_at: Option<JstInstant>,
    pub last_error: Option<String>,
    /// Every order up to this instant is imported.
    pub checkpoint: Option<JstInstant>,
    /// How far behind now the checkpoint is, in seconds.
    pub checkpoint_age_seconds: Option<i64>,
    /// The mall refused the store's credential on the last run.
    pub credential_rejected: bool,
    /// Days until the credential expires; filled by the credential watch once it exists.
    pub credential_days_left: Option<i64>,
}

/// Every store of the shop with its last run and checkpoint.
pub async fn store_overview(
    configs: &dyn StoreConfigs,
    statuses: &dyn StoreStatusStore,
    checkpoints: &dyn CheckpointStore,
    clock: &dyn Clock,
) -> Result<Vec<StoreOverview>, OperatorError> {
    let now = clock.now();
    let mut overview = Vec::new();
    for config in configs.list_store_configs().await? {
        let status = statuses.load_store_status(&config.store).await?;
        let checkpoint = checkpoints.load_checkpoint(&config.store).await?;
        overview.push(StoreOverview {
            enabled: config.enabled,
            last_run_at: status.last_run_at,
            last_success_at: status.last_success_at,
            last_error: status.last_error,
            checkpoint: checkpoint.as_ref().map(|c| c.imported_until),
            checkpoint_age_seconds: checkpoint
                .as_ref()
                .map(|c| now.duration_since(c.imported_until).as_secs()),
            credential_rejected: status.credential_rejected,
            credential_days_left: None,
            store: config.store,
        });
    }
    Ok(overview)
}
