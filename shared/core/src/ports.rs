//! Narrow ports the jobs talk through. Each has one real adapter (`ichigen-aws`); tests
//! run the same adapters against the AWS emulator.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::StoreConfig;
use crate::order::{Order, OrderId, StoreRef};
use crate::time::JstInstant;

/// Storage failures. `Conflict` is expected under concurrency and handled by callers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("order {0} already exists")]
    AlreadyExists(OrderId),
    #[error("{what} changed since it was read (expected version {expected})")]
    Conflict { what: String, expected: String },
    #[error("stored item {key} is unreadable: {detail}")]
    Corrupt { key: String, detail: String },
    #[error("storage unavailable during {operation}: {detail}")]
    Unavailable { operation: String, detail: String },
}

/// What the import needs to know about an order that is already stored, without loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrderSummary {
    pub version: u64,
    /// The post-import acknowledgement to the mall has not been confirmed yet.
    pub acknowledgement_outstanding: bool,
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores a new order; [`StoreError::AlreadyExists`] if one with its id is stored.
    async fn create_order(&self, order: &Order) -> Result<(), StoreError>;

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;

    /// Replaces the stored order if its stored version is still `expected_version`;
    /// the caller sets `order.version` to the new version.
    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<(), StoreError>;

    /// Which of these orders are stored already (one round trip per ≤100 ids).
    async fn find_orders(
        &self,
        ids: &[OrderId],
    ) -> Result<HashMap<OrderId, StoredOrderSummary>, StoreError>;
}

/// How far a store's differential import has safely got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Every order up to this instant (on the mall's clock) is stored.
    pub imported_until: JstInstant,
    pub updated_at: JstInstant,
}

#[async_trait]
pub trait CheckpointStore: Send + Sync {
    async fn load_checkpoint(&self, store: &StoreRef) -> Result<Option<Checkpoint>, StoreError>;

    /// Saves `next` only if the stored checkpoint is still `previous` (a concurrent run may
    /// have moved it): [`StoreError::Conflict`] otherwise.
    async fn save_checkpoint(
        &self,
        store: &StoreRef,
        previous: Option<&Checkpoint>,
        next: &Checkpoint,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait StoreConfigs: Send + Sync {
    async fn get_store_config(&self, store: &StoreRef) -> Result<Option<StoreConfig>, StoreError>;
    async fn put_store_config(&self, config: &StoreConfig) -> Result<(), StoreError>;
    async fn list_store_configs(&self) -> Result<Vec<StoreConfig>, StoreError>;
}

/// A secret's value. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; call only where it is handed to the mall client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("secret {secret_id} not found")]
    NotFound { secret_id: String },
    #[error("secret {secret_id} unavailable: {detail}")]
    Unavailable { secret_id: String, detail: String },
}

/// Where mall credentials live (Secrets Manager).
#[async_trait]
pub trait Vault: Send + Sync {
    async fn get_secret(&self, secret_id: &str) -> Result<SecretValue, VaultError>;
}

/// The time. A port so tests can pin it.
pub trait Clock: Send + Sync {
    fn now(&self) -> JstInstant;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> JstInstant {
        JstInstant::from_timestamp(jiff::Timestamp::now())
    }
}

/// A clock that says what it is told (tests, and replaying a window).
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<JstInstant>);

impl FixedClock {
    pub fn new(at: JstInstant) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: JstInstant) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> JstInstant {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}
