//! A store's mall client as a function keeps it: found from the store's configuration and
//! secret, built once and kept while the secret is unchanged, so the store's token bucket
//! (its mall rate budget inside this process) spans invocations. Import and the mall-writer
//! both take their clients from here.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use ichigen_core::ports::{SecretValue, StoreConfigs, StoreError, Vault, VaultError};
use ichigen_core::{Mall, StoreConfig, StoreRef};
use tokio::sync::Mutex;

use crate::connect::{ClientSettings, ConnectError, MallEndpoints, connect};

/// Why a store's mall client could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StoreMallError {
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
}

impl StoreMallError {
    /// Worth retrying without a person doing anything (DynamoDB or Secrets Manager busy).
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreMallError::Config { .. } => true,
            StoreMallError::Secret { source, .. } => {
                matches!(source, VaultError::Unavailable { .. })
            }
            StoreMallError::UnknownStore { .. } | StoreMallError::Connect(_) => false,
        }
    }
}

/// One store's mall client.
pub struct StoreMall {
    /// A hash of the secret's value: a renewed key builds a new client.
    fingerprint: u64,
    pub mall: Arc<dyn Mall>,
    /// Runs of one store inside this process take turns (the queues already serialise them
    /// across instances).
    pub turn: Mutex<()>,
}

/// The store's configuration and its mall client.
pub struct ConfiguredStore {
    pub config: StoreConfig,
    pub mall: Arc<StoreMall>,
}

/// The mall clients of one process, one per store.
#[derive(Default)]
pub struct StoreMalls {
    clients: Mutex<HashMap<StoreRef, Arc<StoreMall>>>,
}

/// Where the malls are and how their clients behave: given with each lookup, used when a
/// client is built.
#[derive(Clone, Copy)]
pub struct MallAccess<'a> {
    pub endpoints: &'a MallEndpoints,
    pub settings: &'a ClientSettings,
}

impl StoreMalls {
    /// The store's configuration, and its mall client unless the store is disabled (`None`).
    /// `table` names where the configuration was looked for, for the error.
    pub async fn for_store(
        &self,
        configs: &dyn StoreConfigs,
        vault: &dyn Vault,
        table: &str,
        store: &StoreRef,
        access: MallAccess<'_>,
    ) -> Result<Option<ConfiguredStore>, StoreMallError> {
        let config = configs
            .get_store_config(store)
            .await
            .map_err(|source| StoreMallError::Config {
                store: store.clone(),
                source,
            })?
            .ok_or_else(|| StoreMallError::UnknownStore {
                store: store.clone(),
                table: table.to_owned(),
            })?;
        if !config.enabled {
            return Ok(None);
        }
        let secret = vault
            .get_secret(&config.secret_id)
            .await
            .map_err(|source| StoreMallError::Secret {
                store: store.clone(),
                source,
            })?;
        let mall = self.client(store, &secret, access).await?;
        Ok(Some(ConfiguredStore { config, mall }))
    }

    /// The store's mall client: the kept one while the secret is unchanged.
    pub async fn client(
        &self,
        store: &StoreRef,
        secret: &SecretValue,
        access: MallAccess<'_>,
    ) -> Result<Arc<StoreMall>, ConnectError> {
        let fingerprint = {
            let mut hasher = DefaultHasher::new();
            secret.expose().hash(&mut hasher);
            hasher.finish()
        };
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(store)
            && client.fingerprint == fingerprint
        {
            return Ok(client.clone());
        }
        let mall = connect(store, secret, access.endpoints, access.settings)?;
        let client = Arc::new(StoreMall {
            fingerprint,
            mall: Arc::from(mall),
            turn: Mutex::new(()),
        });
        clients.insert(store.clone(), client.clone());
        Ok(client)
    }
}
