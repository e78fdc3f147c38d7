//! The port every mall adapter implements.
//!
//! Designed for all five malls from what is known of their APIs (`shared/malls/*.md`):
//! - Rakuten lists order numbers in a ≤63-day window (≤15,000 hits) and fetches details in
//!   batches of 100; confirming an order (`confirmOrder`) is the post-import step.
//! - Yahoo! lists by order time (XML), fetches one order per call, changes status after import.
//! - Amazon lists by last-update time in UTC (not later than now − 2 min), needs an LWA token
//!   exchange, fetches items per order, and has no post-import acknowledgement.
//! - au PAY Market returns full orders in its list (XML, date-only windows) and changes status
//!   by Japanese status name, one order per call.
//! - Qoo10 returns per-line rows in its list (≤90-day window, no paging), a cart (`packNo`) is
//!   the order, and carts may be split by carrier into several of our orders.
//!
//! So: `list_orders` may already carry the full payload ([`ListedOrder::payload`]); when it does
//! not, `fetch_orders` is called in batches of [`MallCapabilities::detail_batch_size`].
//! `normalise` may return several orders for one mall order (splits).

use async_trait::async_trait;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::order::{MallId, MallStatus, Order, RawPayload, StoreRef};
use crate::time::{JstInstant, TimeWindow};

/// What a mall can do, so jobs adapt without knowing which mall they talk to.
#[derive(Clone, Debug, PartialEq)]
pub struct MallCapabilities {
    /// The longest window one list call may span (Rakuten 63 days, Qoo10 90 days).
    pub max_window: SignedDuration,
    /// How far back the mall lets us list (Rakuten 730 days, Qoo10 ~90 days).
    pub history_limit: SignedDuration,
    /// How close to "now" a window may end (Amazon: 2 minutes before now).
    pub listing_delay: SignedDuration,
    /// How long after its order time an order may take to show up in the mall's list (the
    /// mall's search index lags). The differential overlap is never shorter than this.
    pub search_lag: SignedDuration,
    /// How many orders one detail call fetches (Rakuten 100; Yahoo, Amazon, au PAY 1).
    pub detail_batch_size: usize,
    /// The post-import acknowledgement the mall expects, if any.
    pub acknowledgement: Option<&'static str>,
    /// The list is by the time of the mall's last change to an order (Amazon's
    /// `LastUpdatedAfter`), not by order time: a payment or a cancellation lists the order
    /// again. The open-orders run then reads only the open orders listed since its own
    /// checkpoint, so its cost follows the changes, not the open orders. Such a mall has one
    /// of our orders per mall order (no splits): the run reads the listed ones by id.
    pub lists_changes: bool,
}

/// One order as the mall's list returned it.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedOrder {
    pub mall_order_id: String,
    /// Full payload when the list already carries it (au PAY, Qoo10); `None` means fetch.
    pub payload: Option<RawPayload>,
    /// The order's mall status code as the list reports it, where the list says (Amazon's
    /// `OrderStatus`, a payload-carrying list). An order already stored whose mall status is
    /// no longer this one is refreshed and the change recorded; `None`: the list does not say.
    /// A mall whose post-import acknowledgement itself moves the status (au PAY 新規受付 →
    /// 発送待ち, Rakuten 100 → 300) leaves it `None`: the stored status does not follow
    /// acknowledgements yet (the mall writer will), so every acknowledged order would look
    /// changed.
    pub mall_status: Option<String>,
}

impl ListedOrder {
    /// A listed order id, to be fetched.
    pub fn id(mall_order_id: impl Into<String>) -> Self {
        Self {
            mall_order_id: mall_order_id.into(),
            payload: None,
            mall_status: None,
        }
    }

    /// The mall status the list reported for this order.
    pub fn with_mall_status(mut self, code: impl Into<String>) -> Self {
        self.mall_status = Some(code.into());
        self
    }
}

/// One order's payload as fetched from the mall.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedOrder {
    pub mall_order_id: String,
    pub payload: RawPayload,
}

/// What `fetch_orders` returns: the payloads found, and ids the mall did not return.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FetchOutcome {
    pub orders: Vec<FetchedOrder>,
    /// Requested ids the mall did not return, with the mall's message.
    pub missing: Vec<(String, String)>,
}

/// The result of acknowledging one order to the mall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub mall_order_id: String,
    pub outcome: AckOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AckOutcome {
    Accepted,
    /// The mall already moved on (already confirmed, shipped …): nothing more to send.
    NotNeeded {
        reason: String,
    },
    /// The mall says the order is cancelled: nothing to send, and our order must follow.
    Cancelled {
        reason: String,
    },
    /// The mall says the buyer asked to cancel (not cancelled yet): our order is held.
    CancelRequested {
        reason: String,
    },
    /// The mall refused, for good: retrying the same write will not help.
    Rejected {
        reason: String,
    },
}

/// What normalising one mall order produced.
#[derive(Clone, Debug)]
pub struct Normalised {
    /// Usually one order; several when the mall order is split (Qoo10 carts by carrier).
    pub orders: Vec<Order>,
}

/// The payload could not be turned into an order at all (not even held): names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NormaliseError {
    pub mall: MallId,
    /// Empty when the payload has no readable order number.
    pub mall_order_id: String,
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for NormaliseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mall_order_id.is_empty() {
            write!(f, "{} order without a number", self.mall)?;
        } else {
            write!(f, "{} order {}", self.mall, self.mall_order_id)?;
        }
        write!(f, ": field {} {}", self.field, self.problem)
    }
}

/// Errors talking to a mall. Each names the mall, store and operation.
#[derive(Debug, thiserror::Error)]
pub enum MallError {
    /// The mall refused our credential: imports for this store cannot work until a person
    /// renews it. Not retried.
    #[error("{store}: {operation} — the mall rejected the credential ({credential}): {detail}")]
    CredentialRejected {
        store: StoreRef,
        operation: String,
        credential: String,
        detail: String,
    },
    /// The request itself is wrong (bad window, bad field). Not retried.
    #[error("{store}: {operation} — request rejected: {detail}")]
    Rejected {
        store: StoreRef,
        operation: String,
        detail: String,
    },
    /// Timeouts, 429, 5xx after the retry budget ran out. Worth retrying later.
    #[error("{store}: {operation} — mall unavailable after {attempts} attempts: {detail}")]
    Unavailable {
        store: StoreRef,
        operation: String,
        attempts: u32,
        detail: String,
    },
    /// The mall answered something we cannot read.
    #[error("{store}: {operation} — unreadable response: {detail}")]
    BadResponse {
        store: StoreRef,
        operation: String,
        detail: String,
    },
    /// A list came back shorter than the mall's own total, or with an error beside it: acting
    /// on it would skip orders. Worth retrying.
    #[error("{store}: {operation} — incomplete answer: {detail}")]
    Incomplete {
        store: StoreRef,
        operation: String,
        detail: String,
    },
}

impl MallError {
    /// Worth trying again later without a person doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            MallError::Unavailable { .. } | MallError::Incomplete { .. }
        )
    }

    /// The store's credential was refused: every call will fail until a person renews it.
    pub fn is_credential(&self) -> bool {
        matches!(self, MallError::CredentialRejected { .. })
    }
}

/// A mall store, through its real API.
#[async_trait]
pub trait Mall: Send + Sync {
    fn store(&self) -> &StoreRef;

    fn capabilities(&self) -> MallCapabilities;

    /// Orders created (or, where the mall supports it, changed) within `window`, inclusive.
    /// The window must be no longer than `max_window`; adapters deal with their own paging
    /// and hit caps.
    async fn list_orders(&self, window: TimeWindow) -> Result<Vec<ListedOrder>, MallError>;

    /// Full payloads for up to `detail_batch_size` orders.
    async fn fetch_orders(&self, mall_order_ids: &[String]) -> Result<FetchOutcome, MallError>;

    /// The number [`Self::fetch_orders`] takes to read a stored order again, in a process that
    /// never listed it: its order number, unless the mall cannot look an order up by that
    /// (Qoo10's cart number: only a line's number is looked up).
    fn refetch_id(&self, order: &Order) -> String {
        order.mall_order_id.clone()
    }

    /// Turns one payload into unified orders. Odd data becomes holds on the order; only a
    /// payload with no readable identity is an error. Never panics.
    fn normalise(
        &self,
        payload: &RawPayload,
        imported_at: JstInstant,
    ) -> Result<Normalised, NormaliseError>;

    /// The mall status an accepted acknowledgement leaves `order` in (Rakuten 100 → 300), so
    /// the stored status follows ichigen's own write and the open-orders sync does not take
    /// it for the mall's change. `None`: not known; the sync records whatever it finds.
    fn status_after_acknowledgement(&self, _order: &Order) -> Option<MallStatus> {
        None
    }

    /// Whether this freshly imported order still needs the post-import acknowledgement.
    fn needs_acknowledgement(&self, order: &Order) -> bool;

    /// Sends the post-import acknowledgement for these orders (≤ `detail_batch_size`), as
    /// stored: the mall-writer runs in its own process, so what the mall needs to write (au
    /// PAY's target status, Qoo10's line numbers) comes from the stored order, not from
    /// what an import process learnt.
    async fn acknowledge(&self, orders: &[Order]) -> Result<Vec<Acknowledgement>, MallError>;
}
