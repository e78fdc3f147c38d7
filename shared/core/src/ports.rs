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
    /// The item would be larger than the store takes (DynamoDB: 400 KB), even compressed.
    #[error("{what} is {bytes} bytes stored, over the {limit}-byte item limit")]
    TooLarge {
        what: String,
        bytes: usize,
        limit: usize,
    },
    /// The store refused this one item for good (DynamoDB `ValidationException`); the same
    /// write will fail again, so it is not retried.
    #[error("{operation} was refused: {detail}")]
    Rejected { operation: String, detail: String },
}

impl StoreError {
    /// A failure of one item that retrying cannot fix: quarantine the item, go on with the rest.
    pub fn is_permanent_for_item(&self) -> bool {
        matches!(
            self,
            StoreError::TooLarge { .. } | StoreError::Rejected { .. } | StoreError::Corrupt { .. }
        )
    }
}

/// What the import needs to know about an order that is already stored, without loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrderSummary {
    pub version: u64,
    /// The post-import acknowledgement to the mall has not been confirmed yet.
    pub acknowledgement_outstanding: bool,
    /// The mall status code stored with the order (`None` for orders stored before it was).
    pub mall_status: Option<String>,
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

    /// Mall order ids of the store's orders that still owe the mall a write ichigen sends on
    /// its own (`MallSync::is_outstanding`) and have since before `owed_before`, oldest
    /// first, at most `limit`.
    async fn orders_owing_mall_sync(
        &self,
        store: &StoreRef,
        owed_before: JstInstant,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
}

/// How many times a change is tried again on a fresh read when another writer got there first.
const CHANGE_ATTEMPTS: usize = 3;

/// Applies `change` to the stored order (`known`, when the caller holds a fresh copy, saves a
/// read) and writes it under an optimistic version check, reading it again when another
/// writer got there first. Returns what `change` returned and the order as stored; `None`
/// when the order is gone or kept changing.
pub async fn change_stored<T>(
    orders: &dyn OrderStore,
    id: &OrderId,
    mut known: Option<Order>,
    now: JstInstant,
    change: impl Fn(&mut Order) -> T,
) -> Result<Option<(T, Order)>, StoreError> {
    for _ in 0..CHANGE_ATTEMPTS {
        let order = match known.take() {
            Some(order) => Some(order),
            None => orders.get_order(id).await?,
        };
        let Some(mut order) = order else {
            return Ok(None);
        };
        let expected = order.version;
        let result = change(&mut order);
        order.version += 1;
        order.updated_at = now;
        match orders.update_order(&order, expected).await {
            Ok(()) => return Ok(Some((result, order))),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    tracing::warn!(order = %id, "change not recorded: the order kept changing");
    Ok(None)
}

/// Which step of the import an order failed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStep {
    /// The mall listed the order but did not return it.
    Fetch,
    /// The mall's payload could not be read as an order.
    Normalise,
    /// The order could not be stored (too large, refused).
    Store,
}

impl ImportStep {
    pub fn as_str(&self) -> &'static str {
        match self {
            ImportStep::Fetch => "fetch",
            ImportStep::Normalise => "normalise",
            ImportStep::Store => "store",
        }
    }
}

/// An order the mall listed that could not be imported (the quarantine). It no longer holds
/// the store back: the checkpoint moves on, later runs retry it with backoff, and an operator
/// sees it and can ask for it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedImport {
    pub store: StoreRef,
    pub mall_order_id: String,
    pub step: ImportStep,
    /// Why, naming the field or the mall's message; never personal data.
    pub error: String,
    pub first_seen: JstInstant,
    pub last_seen: JstInstant,
    /// Import attempts so far, the first included.
    pub attempts: u32,
    /// When a run retries it on its own; `None` once automatic retries are used up (an
    /// operator's `orders` request still retries it).
    pub next_attempt_at: Option<JstInstant>,
    /// The mall's payload, when one was received (kept for diagnosis and re-normalisation).
    #[serde(skip)]
    pub raw: Option<crate::order::RawPayload>,
}

#[async_trait]
pub trait FailedImportStore: Send + Sync {
    /// Records a new failure, or a further attempt of a known one (keeping `first_seen`).
    async fn record_failed_import(&self, failed: &FailedImport) -> Result<(), StoreError>;

    /// The store's quarantined orders, oldest first.
    async fn failed_imports(&self, store: &StoreRef) -> Result<Vec<FailedImport>, StoreError>;

    /// Forgets a quarantined order (it was imported after all). Idempotent.
    async fn clear_failed_import(
        &self,
        store: &StoreRef,
        mall_order_id: &str,
    ) -> Result<(), StoreError>;
}

/// How a store's imports are going: what an operator (and the alarms) look at first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreRunStatus {
    pub last_run_at: Option<JstInstant>,
    /// The last run that ended without an error.
    pub last_success_at: Option<JstInstant>,
    /// The last run's error, if it failed (no personal data, no secrets).
    pub last_error: Option<String>,
    /// The last error was the mall refusing the store's credential: a person must renew it.
    #[serde(default)]
    pub credential_rejected: bool,
}

#[async_trait]
pub trait StoreStatusStore: Send + Sync {
    async fn load_store_status(&self, store: &StoreRef) -> Result<StoreRunStatus, StoreError>;
    async fn save_store_status(
        &self,
        store: &StoreRef,
        status: &StoreRunStatus,
    ) -> Result<(), StoreError>;
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

    /// How far the store's open-orders run has read the mall's list of changed orders (a mall
    /// whose list is by update time, [`crate::MallCapabilities::lists_changes`]);
    /// `imported_until` is the end of the last window read.
    async fn load_follow_checkpoint(
        &self,
        store: &StoreRef,
    ) -> Result<Option<Checkpoint>, StoreError>;

    /// Saves the open-orders run's checkpoint, as [`CheckpointStore::save_checkpoint`] does.
    async fn save_follow_checkpoint(
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

/// One time-ordered list of orders the table keeps an index for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OrderList {
    /// The store's orders in one status.
    InStatus(StoreRef, crate::status::OrderStatus),
    /// The store's orders that carry holds.
    WithHolds(StoreRef),
}

/// Reads the time-ordered order lists (never a scan).
#[async_trait]
pub trait OrderIndex: Send + Sync {
    /// Orders of `list` in list order whose position ([`crate::operator::list_position`]) is
    /// strictly after `after`, ordered before `until` (exclusive), at most `limit`. The
    /// orders come without their raw payload.
    async fn list_orders(
        &self,
        list: &OrderList,
        after: Option<&str>,
        until: Option<JstInstant>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;

    /// The store's orders whose mall write was refused for good, oldest failure first: by
    /// [`crate::operator::writes::mall_write_position`], strictly after `after`, at most
    /// `limit`, without their raw payload. The index may lag the table: an order retried
    /// a moment ago can still be in the answer, as it is now (callers check its state); a
    /// short answer means the list has ended.
    async fn failed_mall_writes(
        &self,
        store: &StoreRef,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
}

#[derive(Debug, thiserror::Error)]
#[error("queueing {count} message(s) failed: {detail}")]
pub struct QueueFailure {
    pub count: usize,
    pub detail: String,
}

/// Where import requests go (the store's import queue, which import-orders reads).
#[async_trait]
pub trait ImportRequests: Send + Sync {
    async fn enqueue(&self, commands: &[crate::import::ImportCommand]) -> Result<(), QueueFailure>;
}

/// The free stock of one SKU after a change, with its change sequence (push-inventory sends
/// what changed since the sequence it last pushed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub sku: String,
    pub quantity: u32,
    pub sequence: u64,
    pub updated_at: JstInstant,
}

#[async_trait]
pub trait StockStore: Send + Sync {
    /// Sets the SKU's free stock and bumps its change sequence.
    async fn set_stock(
        &self,
        sku: &str,
        quantity: u32,
        at: JstInstant,
    ) -> Result<StockLevel, StoreError>;

    async fn get_stock(&self, sku: &str) -> Result<Option<StockLevel>, StoreError>;
}

/// The answer to a write, kept under its idempotency key so a retry gets it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}

/// What claiming an idempotency key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First use: act, then record the answer.
    Claimed,
    /// Done before: answer this, do nothing.
    Answered(StoredAnswer),
    /// Another request with this key is still being handled (or died before answering).
    InProgress,
    /// The key was used for a different request.
    OtherRequest,
}

/// Idempotency keys of writes and their answers, kept for a day.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for the request described by `fingerprint` (method, path and body).
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: JstInstant,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Records the answer of a claimed key.
    async fn record_answer(
        &self,
        key: &str,
        fingerprint: &str,
        answer: &StoredAnswer,
        now: JstInstant,
    ) -> Result<(), StoreError>;

    /// Gives a claimed key back (the write failed in a way a retry may fix).
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}

/// The time slots of a store's calls to its mall, shared by every process that calls the mall
/// for that store (the import and the mall-writer), so that together they stay within the
/// store's one rate budget. A slot is a window of the store's request interval starting at
/// `start_ms` (Unix epoch milliseconds); whoever claims it first may send one request in it.
/// A `lane` is one rate limit of the mall (Rakuten has one per store; Yahoo one per URL).
#[async_trait]
pub trait RateSlots: Send + Sync {
    /// Claims the slot starting at `start_ms` in `store`'s `lane`: `false` when another
    /// process holds it.
    async fn claim_slot(
        &self,
        store: &StoreRef,
        lane: &str,
        start_ms: u64,
    ) -> Result<bool, StoreError>;
}
