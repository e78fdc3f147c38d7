//! The import job (受注取込): bring a store's orders from its mall into the order book.
//!
//! Four kinds of request share one pipeline (list → fetch → normalise → store → queue the
//! mall's acknowledgement for the mall-writer, [`crate::mall_write`]):
//! - **differential**: the scheduled run. Lists from the checkpoint (minus an overlap wide
//!   enough for the mall's search lag) up to now, window by window, and advances the
//!   checkpoint after each window is stored. With no checkpoint it starts at the store's sync
//!   start (within the mall's history limit);
//! - **range**: re-import a past window on request, a bounded span per message; the
//!   checkpoint is not touched;
//! - **orders**: targeted order numbers (from the mail trigger or an operator), either
//!   import-once or an explicit re-import (注文再取込, see [`merge`]);
//! - **open orders**: the scheduled sync. The store's open orders are read from the mall again
//!   and the order book follows what changed there (paid, cancelled, lines cancelled, a
//!   cancel request made or withdrawn; see [`crate::follow`]). It goes through the store's
//!   queue and mall client like an import, so both share one rate budget.
//!
//! What keeps a store moving:
//! - **Import-once**: an order is created with a conditional write, so a second import never
//!   creates a second record and never overwrites what the shop changed. Where the mall's
//!   list reports each order's status (Amazon lists by update time), a stored order listed
//!   with another status is followed the same way ([`crate::follow`]).
//! - **Quarantine**: an order that cannot be imported (the mall does not return it, its
//!   payload is unreadable, the store refuses it) is recorded as a [`FailedImport`] and the
//!   run goes on; later differential runs retry it with backoff, an `orders` request retries
//!   it at once, and it is cleared when it imports.
//! - **Acknowledgements owed are never lost**: a created order is stored owing its
//!   acknowledgement (pending) before the write is queued; every run first queues again the
//!   writes owed for longer than [`crate::mall_write::WRITE_AGAIN_AFTER`] (a lost message, a
//!   write that kept failing). The mall-writer sends them and records the answers.
//! - **Bounded runs**: the job stops cleanly at a batch boundary when the caller's deadline
//!   nears, and a long range is split; what is left is returned as
//!   [`ImportReport::unfinished`] for the caller to queue.

pub mod merge;
mod quarantine;

use std::collections::{BTreeSet, HashMap, HashSet};

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

pub use self::merge::refresh_from_mall;
use crate::config::{ImportSettings, StoreConfig};
use crate::follow::{MallChange, follow_mall};
use crate::hold::Hold;
use crate::mall::{ListedOrder, Mall, MallCapabilities, MallError};
use crate::mall_write::{MallWrite, MallWriteQueue, stuck_since, stuck_writes};
use crate::order::{Order, OrderId, RawPayload, StoreRef};
use crate::ports::{
    Checkpoint, CheckpointStore, Clock, FailedImport, FailedImportStore, ImportStep, OrderIndex,
    OrderList, OrderStore, StoreError, StoredOrderSummary,
};
use crate::status::{MallSync, OrderStatus, SyncState};
use crate::time::{JstInstant, TimeWindow};

/// How many orders are written to the store at once.
const STORE_CONCURRENCY: usize = 16;
/// How many writes owed for long one run queues again at most (the rest: next run).
const STUCK_WRITES_PER_RUN: usize = 1_000;
/// How many quarantined orders one differential run retries at most.
const QUARANTINE_RETRIES_PER_RUN: usize = 100;
/// How many open orders one [`ImportRequest::OpenOrders`] run reads at most.
const OPEN_ORDERS_PER_RUN: usize = 10_000;
/// Open orders read from the index per page.
const OPEN_ORDERS_PAGE: usize = 500;
/// The statuses the open-orders run follows: before shipment, not cancelled.
const OPEN: [OrderStatus; 3] = [
    OrderStatus::AwaitingPayment,
    OrderStatus::OnHold,
    OrderStatus::ReadyToShip,
];
/// The longest span of a range re-import handled by one message; the rest is queued.
pub const RANGE_SPAN_PER_MESSAGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// What to import. Arrives as the schedule's input or as an SQS message body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImportRequest {
    /// The scheduled differential run.
    Differential,
    /// Re-import a past window (by order time). Never moves the checkpoint.
    Range { from: JstInstant, to: JstInstant },
    /// These order numbers; `reimport` refreshes orders already stored (注文再取込).
    Orders {
        mall_order_ids: Vec<String>,
        #[serde(default)]
        reimport: bool,
    },
    /// Read the store's open orders (awaiting payment, ready to ship, on hold) from the mall
    /// again and follow what changed there: payments, cancellations, cancel requests
    /// ([`crate::follow`]). `only`: these numbers (the rest of an unfinished run, as
    /// [`Mall::refetch_id`] gave them).
    OpenOrders {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        only: Vec<String>,
    },
}

/// An import request for one store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportCommand {
    pub store: StoreRef,
    #[serde(flatten)]
    pub request: ImportRequest,
    /// When the sender asked (the schedule puts its scheduled time here). It makes two
    /// otherwise identical messages distinct, so the FIFO queue's de-duplication does not
    /// drop the second; the import itself ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

impl ImportCommand {
    pub fn new(store: StoreRef, request: ImportRequest) -> Self {
        Self {
            store,
            request,
            sent_at: None,
        }
    }
}

/// The adapters one import run talks through.
pub struct ImportContext<'a> {
    pub config: &'a StoreConfig,
    pub mall: &'a dyn Mall,
    pub orders: &'a dyn OrderStore,
    pub checkpoints: &'a dyn CheckpointStore,
    pub failed_imports: &'a dyn FailedImportStore,
    /// Where the store's open orders are found for [`ImportRequest::OpenOrders`].
    pub index: &'a dyn OrderIndex,
    /// Where the mall writes an import owes go (the mall-writer's queue).
    pub writes: &'a dyn MallWriteQueue,
    pub clock: &'a dyn Clock,
    /// Stop at the next batch boundary once this instant has passed (the function's remaining
    /// time less a margin). The first batch always runs, so every run makes progress.
    pub deadline: Option<std::time::Instant>,
}

/// What a run did. Holds no personal data, so it can be logged and printed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub store: String,
    pub windows: Vec<TimeWindow>,
    /// Distinct orders the mall listed (or that were requested).
    pub listed: usize,
    /// Order payloads fetched from the mall.
    pub fetched: usize,
    pub created: Vec<OrderId>,
    /// Listed again but already stored: left as they are.
    pub already_imported: usize,
    /// Refreshed from the mall on an explicit re-import.
    pub reimported: Vec<OrderId>,
    /// Stored orders the mall changed (its list showed another status, or an open order read
    /// again differed): followed, the change in their history.
    pub changed_on_mall: Vec<OrderId>,
    /// Of those: paid on the mall, now ready to ship (or still held for another reason).
    pub paid_on_mall: Vec<OrderId>,
    /// Of those: some lines cancelled on the mall, the order re-totalled.
    pub lines_cancelled_on_mall: Vec<OrderId>,
    /// Of those: a cancel request withdrawn, its hold released.
    pub cancel_withdrawn_on_mall: Vec<OrderId>,
    /// Of those: changed in a way ichigen does not apply on its own (held for a person).
    pub not_applied_on_mall: Vec<OrderId>,
    /// Open orders read again that had not changed on the mall (not written).
    pub unchanged_on_mall: usize,
    /// An open-orders run that read only the open orders the mall listed as changed
    /// ([`MallCapabilities::lists_changes`]).
    pub followed_by_listing: bool,
    /// Ordered before the store's sync start: not imported.
    pub before_sync_start: usize,
    /// Created orders that carry holds, with the reasons.
    pub held: Vec<HeldOrder>,
    /// Orders that could not be imported by this run: recorded as failed imports, retried later.
    pub quarantined: Vec<OrderFailure>,
    /// Failed imports this run imported after all.
    pub recovered: Vec<String>,
    /// Failed imports this run retried on its own (backoff due).
    pub quarantine_retried: usize,
    /// Orders waiting in the store's quarantine when the run ended.
    pub quarantine_size: usize,
    /// Acknowledgements queued for the mall-writer (created orders, followed orders whose
    /// mall expects its next status).
    pub writes_queued: usize,
    /// Writes owed for long, queued again.
    pub writes_queued_again: usize,
    /// Writes the queue refused: their orders stay owed, queued again by a later run.
    pub writes_not_queued: usize,
    /// Orders the mall's data showed cancelled: our order was cancelled to follow (or, once
    /// shipped, held for a person). Cancellations the mall reports in answer to a write are
    /// the mall-writer's ([`crate::mall_write::WriteReport`]).
    pub cancelled_on_mall: Vec<OrderId>,
    /// Orders the mall showed with a cancel request: our order was held.
    pub cancel_requested_on_mall: Vec<OrderId>,
    /// Where the checkpoint moved to, if it moved.
    pub checkpoint_advanced_to: Option<JstInstant>,
    /// What is left when the run stopped early (deadline) or a range was longer than one
    /// message takes: the caller queues it as the next request.
    pub unfinished: Option<ImportRequest>,
}

impl ImportReport {
    /// One line of counts for logs and errors; no order ids beyond the first failure.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{}: listed {}, created {}, already imported {}, re-imported {}, changed on the mall {} (paid {}, cancelled {}, lines cancelled {}), held {}, quarantined {}, recovered {}, mall writes queued {}, not queued {}",
            self.store,
            self.listed,
            self.created.len(),
            self.already_imported,
            self.reimported.len(),
            self.changed_on_mall.len(),
            self.paid_on_mall.len(),
            self.cancelled_on_mall.len(),
            self.lines_cancelled_on_mall.len(),
            self.held.len(),
            self.quarantined.len(),
            self.recovered.len(),
            self.writes_queued + self.writes_queued_again,
            self.writes_not_queued,
        );
        if let Some(first) = self.quarantined.first() {
            text.push_str(&format!(
                "; first quarantined: order {}: {}",
                first.mall_order_id, first.error
            ));
        }
        if self.followed_by_listing {
            text.push_str("; only the open orders the mall listed as changed were read");
        }
        if self.unfinished.is_some() {
            text.push_str("; unfinished (continued by the next request)");
        }
        text
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldOrder {
    pub order_id: OrderId,
    pub holds: Vec<Hold>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrderFailure {
    pub mall_order_id: String,
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Mall(#[from] MallError),
    #[error("{store}: {source}")]
    Store {
        store: StoreRef,
        #[source]
        source: StoreError,
    },
    #[error("{store}: the request names store {requested}, which this run was not set up for")]
    WrongStore {
        store: StoreRef,
        requested: StoreRef,
    },
    #[error("{store}: range {window} is invalid: {reason}")]
    BadRange {
        store: StoreRef,
        window: TimeWindow,
        reason: String,
    },
}

impl ImportError {
    /// Worth retrying without a person doing anything (an SQS redelivery, the next schedule).
    pub fn is_retryable(&self) -> bool {
        match self {
            ImportError::Mall(e) => e.is_retryable(),
            ImportError::Store { source, .. } => {
                matches!(
                    source,
                    StoreError::Unavailable { .. } | StoreError::Conflict { .. }
                )
            }
            ImportError::WrongStore { .. } | ImportError::BadRange { .. } => false,
        }
    }

    /// The mall refused the store's credential: a person must renew it.
    pub fn is_credential(&self) -> bool {
        matches!(self, ImportError::Mall(e) if e.is_credential())
    }
}

/// Runs one import request for the context's store.
pub async fn run_import(
    ctx: &ImportContext<'_>,
    command: &ImportCommand,
) -> Result<ImportReport, ImportError> {
    let store = &ctx.config.store;
    if &command.store != store || ctx.mall.store() != store {
        return Err(ImportError::WrongStore {
            store: store.clone(),
            requested: command.store.clone(),
        });
    }
    let mut run = Run::new(ctx).await?;
    run.queue_stuck_writes().await?;
    match &command.request {
        ImportRequest::Differential => {
            run.retry_quarantined().await?;
            run.differential().await?;
        }
        ImportRequest::Range { from, to } => run.range(TimeWindow::new(*from, *to)).await?,
        ImportRequest::Orders {
            mall_order_ids,
            reimport,
        } => {
            let listed = mall_order_ids
                .iter()
                .map(|id| ListedOrder::id(id.clone()))
                .collect();
            let mode = if *reimport {
                Mode::Reimport
            } else {
                Mode::ImportOnce
            };
            if let Some(rest) = run.import_listed(listed, mode).await? {
                run.report.unfinished = Some(ImportRequest::Orders {
                    mall_order_ids: rest,
                    reimport: *reimport,
                });
            }
        }
        ImportRequest::OpenOrders { only } => run.follow_open_orders(only).await?,
    }
    let quarantine_size = run.quarantine.len();
    let mut report = run.report;
    report.quarantine_size = quarantine_size;
    report.created.sort();
    tracing::info!(
        store = %store,
        listed = report.listed,
        fetched = report.fetched,
        created = report.created.len(),
        already_imported = report.already_imported,
        reimported = report.reimported.len(),
        held = report.held.len(),
        quarantined = report.quarantined.len(),
        recovered = report.recovered.len(),
        writes_queued = report.writes_queued,
        writes_queued_again = report.writes_queued_again,
        writes_not_queued = report.writes_not_queued,
        changed_on_mall = report.changed_on_mall.len(),
        paid_on_mall = report.paid_on_mall.len(),
        cancelled_on_mall = report.cancelled_on_mall.len(),
        lines_cancelled_on_mall = report.lines_cancelled_on_mall.len(),
        unchanged_on_mall = report.unchanged_on_mall,
        unfinished = report.unfinished.is_some(),
        checkpoint = ?report.checkpoint_advanced_to.map(|c| c.to_string()),
        "import finished"
    );
    Ok(report)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// New orders are created; stored ones are left alone unless the list shows their mall
    /// status moved ([`Mode::FollowMall`]).
    ImportOnce,
    /// Explicit re-import: every order refreshed from the mall.
    Reimport,
    /// Stored orders the mall changed: followed ([`crate::follow::follow_mall`]); an
    /// unchanged one is not written.
    FollowMall,
}

/// One run's state: the context, the time it started, and what it has done so far.
struct Run<'a, 'c> {
    ctx: &'a ImportContext<'c>,
    now: JstInstant,
    report: ImportReport,
    /// The store's failed imports as they stood when the run started, by mall order id.
    quarantine: HashMap<String, FailedImport>,
    batches_done: usize,
    /// Stored orders already read by this run (the open-orders list), so following them does
    /// not read each again; taken once, then read from the store.
    known: HashMap<OrderId, Order>,
    /// Orders this run has followed already. One fetch can bring several orders (a Qoo10
    /// cart split by carrier comes back whole through any of its parts): each is followed,
    /// and counted, once.
    followed: HashSet<OrderId>,
}

impl<'a, 'c> Run<'a, 'c> {
    async fn new(ctx: &'a ImportContext<'c>) -> Result<Self, ImportError> {
        let store = &ctx.config.store;
        let quarantine = ctx
            .failed_imports
            .failed_imports(store)
            .await
            .map_err(|source| ImportError::Store {
                store: store.clone(),
                source,
            })?
            .into_iter()
            .map(|f| (f.mall_order_id.clone(), f))
            .collect();
        Ok(Self {
            ctx,
            now: ctx.clock.now(),
            report: ImportReport {
                store: store.to_string(),
                ..ImportReport::default()
            },
            quarantine,
            batches_done: 0,
            known: HashMap::new(),
            followed: HashSet::new(),
        })
    }

    fn store(&self) -> &StoreRef {
        &self.ctx.config.store
    }

    fn store_error(&self, source: StoreError) -> ImportError {
        ImportError::Store {
            store: self.store().clone(),
            source,
        }
    }

    /// Past the deadline, and at least one batch done (so every run makes progress).
    fn out_of_time(&self) -> bool {
        self.batches_done > 0
            && self
                .ctx
                .deadline
                .is_some_and(|deadline| std::time::Instant::now() >= deadline)
    }

    async fn differential(&mut self) -> Result<(), ImportError> {
        let mut previous = self
            .ctx
            .checkpoints
            .load_checkpoint(self.store())
            .await
            .map_err(|e| self.store_error(e))?;
        let caps = self.ctx.mall.capabilities();
        let Some(window) =
            differential_window(self.now, previous.as_ref(), &self.ctx.config.import, &caps)
        else {
            tracing::info!(store = %self.store(), "nothing to import yet (sync start is in the future)");
            return Ok(());
        };
        for piece in window.split(caps.max_window) {
            if !self.import_piece(piece).await? {
                self.report.unfinished = Some(ImportRequest::Differential);
                return Ok(());
            }
            previous = self.advance_checkpoint(previous, piece.end).await?;
        }
        Ok(())
    }

    /// Lists one window piece and imports what it lists. `false` when the deadline stopped
    /// the run before the piece was done (the caller says what is left).
    async fn import_piece(&mut self, piece: TimeWindow) -> Result<bool, ImportError> {
        if self.out_of_time() {
            return Ok(false);
        }
        self.report.windows.push(piece);
        let listed = self.ctx.mall.list_orders(piece).await?;
        let rest = self.import_listed(listed, Mode::ImportOnce).await?;
        Ok(rest.is_none())
    }

    /// Moves the checkpoint to `to` (every order up to it is stored or quarantined). Another
    /// run may have moved it meanwhile: the later of the two wins.
    async fn advance_checkpoint(
        &mut self,
        previous: Option<Checkpoint>,
        to: JstInstant,
    ) -> Result<Option<Checkpoint>, ImportError> {
        let next = Checkpoint {
            imported_until: to,
            updated_at: self.now,
        };
        let mut expected = previous;
        for _ in 0..2 {
            match self
                .ctx
                .checkpoints
                .save_checkpoint(self.store(), expected.as_ref(), &next)
                .await
            {
                Ok(()) => {
                    self.report.checkpoint_advanced_to = Some(to);
                    return Ok(Some(next));
                }
                Err(StoreError::Conflict { .. }) => {
                    expected = self
                        .ctx
                        .checkpoints
                        .load_checkpoint(self.store())
                        .await
                        .map_err(|e| self.store_error(e))?;
                    if expected
                        .as_ref()
                        .is_some_and(|c| c.imported_until >= next.imported_until)
                    {
                        tracing::info!(store = %self.store(), "checkpoint already moved further by a concurrent run");
                        return Ok(expected);
                    }
                }
                Err(e) => return Err(self.store_error(e)),
            }
        }
        tracing::warn!(store = %self.store(), "checkpoint kept changing; left for the next run");
        Ok(expected)
    }

    async fn range(&mut self, window: TimeWindow) -> Result<(), ImportError> {
        let caps = self.ctx.mall.capabilities();
        let bad = |reason: String| ImportError::BadRange {
            store: self.ctx.config.store.clone(),
            window,
            reason,
        };
        if window.start >= window.end {
            return Err(bad("the start must be before the end".into()));
        }
        let oldest = sub(self.now, caps.history_limit);
        if window.start < oldest {
            return Err(bad(format!(
                "the mall keeps orders for {} days; the earliest start now is {oldest}",
                caps.history_limit.as_hours() / 24
            )));
        }
        let end = window.end.min(sub(self.now, caps.listing_delay));
        let start = self
            .ctx
            .config
            .import
            .sync_start_at
            .map_or(window.start, |s| window.start.max(s));
        if start >= end {
            return Ok(());
        }
        // One message handles one bounded span; the rest goes back on the queue.
        let span = caps.max_window.min(RANGE_SPAN_PER_MESSAGE);
        let this_span_end = add(start, span).min(end);
        if this_span_end < end {
            self.report.unfinished = Some(ImportRequest::Range {
                from: this_span_end,
                to: end,
            });
        }
        for piece in TimeWindow::new(start, this_span_end).split(caps.max_window) {
            if !self.import_piece(piece).await? {
                self.report.unfinished = Some(ImportRequest::Range {
                    from: piece.start,
                    to: end,
                });
                return Ok(());
            }
        }
        Ok(())
    }

    /// Retries quarantined orders whose backoff is due, as an import-once of their ids.
    async fn retry_quarantined(&mut self) -> Result<(), ImportError> {
        let now = self.now;
        let mut due: Vec<&FailedImport> = self
            .quarantine
            .values()
            .filter(|f| f.next_attempt_at.is_some_and(|at| at <= now))
            .collect();
        due.sort_by_key(|f| f.next_attempt_at);
        let listed: Vec<ListedOrder> = due
            .into_iter()
            .take(QUARANTINE_RETRIES_PER_RUN)
            .map(|f| ListedOrder::id(f.mall_order_id.clone()))
            .collect();
        if listed.is_empty() {
            return Ok(());
        }
        self.report.quarantine_retried = listed.len();
        tracing::info!(store = %self.store(), retrying = listed.len(), "retrying quarantined orders");
        // What this does not finish, the next run retries.
        self.import_listed(listed, Mode::ImportOnce).await?;
        // These count as retries, not as listings of the window.
        self.report.listed -= self.report.quarantine_retried;
        Ok(())
    }

    /// Imports listed orders batch by batch. Returns the ids not reached when the deadline
    /// stopped it.
    async fn import_listed(
        &mut self,
        listed: Vec<ListedOrder>,
        mode: Mode,
    ) -> Result<Option<Vec<String>>, ImportError> {
        let mut seen = HashSet::new();
        let listed: Vec<ListedOrder> = listed
            .into_iter()
            .filter(|l| seen.insert(l.mall_order_id.clone()))
            .collect();
        self.report.listed += listed.len();

        let mut to_import: Vec<ListedOrder> = Vec::new();
        let mut changed_on_mall: Vec<ListedOrder> = Vec::new();
        if mode != Mode::ImportOnce {
            to_import = listed;
        } else {
            let ids: Vec<OrderId> = listed
                .iter()
                .map(|l| OrderId::new(self.store(), &l.mall_order_id))
                .collect();
            let stored = self
                .ctx
                .orders
                .find_orders(&ids)
                .await
                .map_err(|e| self.store_error(e))?;
            for (order, id) in listed.into_iter().zip(&ids) {
                match stored.get(id) {
                    Some(summary) if moved_on_mall(&order, summary) => changed_on_mall.push(order),
                    Some(_) => {
                        self.report.already_imported += 1;
                        self.clear_quarantine(&order.mall_order_id).await?;
                    }
                    None => to_import.push(order),
                }
            }
        }
        // The mall's own changes first: they are few, and a continuation after the deadline
        // only imports new orders (a change left behind is seen by the next listing).
        if !changed_on_mall.is_empty()
            && let Some(mut rest) = self.in_batches(changed_on_mall, Mode::FollowMall).await?
        {
            rest.extend(to_import.into_iter().map(|l| l.mall_order_id));
            return Ok(Some(rest));
        }
        self.in_batches(to_import, mode).await
    }

    /// Imports listed orders batch by batch; the ids left when the deadline nears.
    async fn in_batches(
        &mut self,
        to_import: Vec<ListedOrder>,
        mode: Mode,
    ) -> Result<Option<Vec<String>>, ImportError> {
        // One batch at a time, to the end: memory stays bounded by one batch, and what a
        // batch stored is safe even if a later one fails.
        let batch_size = self.ctx.mall.capabilities().detail_batch_size.max(1);
        let mut to_import = to_import.into_iter().peekable();
        while to_import.peek().is_some() {
            if self.out_of_time() {
                let rest = to_import.map(|l| l.mall_order_id).collect();
                tracing::info!(store = %self.store(), "deadline near: stopping at a batch boundary");
                return Ok(Some(rest));
            }
            let batch: Vec<ListedOrder> = to_import.by_ref().take(batch_size).collect();
            let fetched = fetch_batch(self.ctx.mall, batch).await?;
            let owed = self.store_batch(fetched, mode).await?;
            self.queue_writes(&owed).await;
            self.batches_done += 1;
        }
        Ok(None)
    }

    /// Normalises and stores a fetched batch; what cannot be imported is quarantined.
    /// Returns the created orders that owe the mall its acknowledgement.
    async fn store_batch(
        &mut self,
        fetched: FetchedBatch,
        mode: Mode,
    ) -> Result<Vec<Order>, ImportError> {
        self.report.fetched += fetched.fetched;
        for (mall_order_id, message) in fetched.missing {
            let error = format!("the mall did not return this order: {message}");
            self.quarantine(&mall_order_id, ImportStep::Fetch, error, None)
                .await?;
        }

        let mut normalised: Vec<(Order, RawPayload)> = Vec::with_capacity(fetched.payloads.len());
        for (mall_order_id, payload) in fetched.payloads {
            match self.ctx.mall.normalise(&payload, self.now) {
                Ok(n) => normalised.extend(n.orders.into_iter().map(|o| (o, payload.clone()))),
                Err(e) => {
                    self.quarantine(
                        &mall_order_id,
                        ImportStep::Normalise,
                        e.to_string(),
                        Some(payload),
                    )
                    .await?
                }
            }
        }

        match mode {
            Mode::ImportOnce => self.create_all(normalised).await,
            Mode::Reimport | Mode::FollowMall => {
                let mut owed = Vec::new();
                for (fresh, payload) in normalised {
                    if mode == Mode::FollowMall && !self.followed.insert(fresh.id.clone()) {
                        continue;
                    }
                    if let Some(created) = self.reimport(fresh, payload, mode).await? {
                        owed.push(created);
                    }
                }
                Ok(owed)
            }
        }
    }

    /// Records an order that could not be imported; the run goes on without it.
    async fn quarantine(
        &mut self,
        mall_order_id: &str,
        step: ImportStep,
        error: String,
        raw: Option<RawPayload>,
    ) -> Result<(), ImportError> {
        let failed = quarantine::record(
            self.quarantine.get(mall_order_id),
            self.store(),
            mall_order_id,
            step,
            error,
            raw,
            self.now,
        );
        tracing::warn!(
            store = %self.store(),
            order = mall_order_id,
            step = step.as_str(),
            attempts = failed.attempts,
            "order quarantined: it could not be imported"
        );
        self.ctx
            .failed_imports
            .record_failed_import(&failed)
            .await
            .map_err(|e| self.store_error(e))?;
        self.report.quarantined.push(OrderFailure {
            mall_order_id: mall_order_id.to_owned(),
            error: failed.error.clone(),
        });
        self.quarantine.insert(mall_order_id.to_owned(), failed);
        Ok(())
    }

    /// Forgets a quarantined order that is now stored.
    async fn clear_quarantine(&mut self, mall_order_id: &str) -> Result<(), ImportError> {
        if self.quarantine.remove(mall_order_id).is_none() {
            return Ok(());
        }
        self.ctx
            .failed_imports
            .clear_failed_import(self.store(), mall_order_id)
            .await
            .map_err(|e| self.store_error(e))?;
        self.report.recovered.push(mall_order_id.to_owned());
        Ok(())
    }

    /// Prepares a freshly normalised order for its first write.
    fn prepare_new(&self, order: &mut Order) {
        if order.status == OrderStatus::Imported {
            // Only `Imported` can settle; the normaliser never leaves another state that
            // `settle` would reject, so an error here is a bug worth surfacing in the order.
            if let Err(e) = order.settle_after_import() {
                tracing::error!(order = %order.id, error = %e, "could not settle imported order");
            }
        }
        if let Some(operation) = self.ctx.mall.capabilities().acknowledgement
            && self.ctx.mall.needs_acknowledgement(order)
        {
            order.mall_sync = MallSync::pending(operation, self.now);
        }
    }

    /// Whether the mall now expects its own next status for a followed order (au PAY: a paid
    /// order still in 発送前入金待ち goes to 発送待ち; Qoo10: a cart paid after import is
    /// confirmed); if so the order owes it from now, queued with this run's writes.
    /// A write the mall refused for good is not sent again on its own: it waits for a person.
    fn owes_next_status(&self, order: &mut Order) -> bool {
        let idle = matches!(order.mall_sync.state, SyncState::Idle | SyncState::Done);
        let Some(operation) = self.ctx.mall.capabilities().acknowledgement else {
            return false;
        };
        if !idle
            || order.status == OrderStatus::Cancelled
            || !self.ctx.mall.needs_acknowledgement(order)
        {
            return false;
        }
        order.mall_sync = MallSync::pending(operation, self.now);
        true
    }

    /// Creates orders that are not stored yet; returns the created orders owed an
    /// acknowledgement. An order the store refuses for good is quarantined; the store being
    /// unavailable ends the run (what was stored stays; the rerun skips it).
    async fn create_all(
        &mut self,
        orders: Vec<(Order, RawPayload)>,
    ) -> Result<Vec<Order>, ImportError> {
        let sync_start = self.ctx.config.import.sync_start_at;
        let mut to_create = Vec::with_capacity(orders.len());
        for (mut order, payload) in orders {
            if sync_start.is_some_and(|start| order.ordered_at < start) {
                self.report.before_sync_start += 1;
                continue;
            }
            self.prepare_new(&mut order);
            to_create.push((order, payload));
        }
        let store = self.ctx.orders;
        let outcomes: Vec<(Order, RawPayload, Result<(), StoreError>)> = stream::iter(to_create)
            .map(|(order, payload)| async move {
                let result = store.create_order(&order).await;
                (order, payload, result)
            })
            .buffer_unordered(STORE_CONCURRENCY)
            .collect()
            .await;

        let mut owed = Vec::new();
        let mut unavailable = None;
        for (order, payload, result) in outcomes {
            match result {
                Ok(()) => {}
                Err(StoreError::AlreadyExists(_)) => {
                    self.report.already_imported += 1;
                    self.clear_quarantine(&order.mall_order_id).await?;
                    continue;
                }
                Err(e) if e.is_permanent_for_item() => {
                    let error = format!("the order could not be stored: {e}");
                    self.quarantine(
                        &order.mall_order_id,
                        ImportStep::Store,
                        error,
                        Some(payload),
                    )
                    .await?;
                    continue;
                }
                Err(e) => {
                    unavailable.get_or_insert(e);
                    continue;
                }
            }
            self.clear_quarantine(&order.mall_order_id).await?;
            if !order.holds.is_empty() {
                self.report.held.push(HeldOrder {
                    order_id: order.id.clone(),
                    holds: order.holds.clone(),
                });
            }
            self.report.created.push(order.id.clone());
            if order.mall_sync.state == SyncState::Pending {
                owed.push(order);
            }
        }
        if let Some(e) = unavailable {
            // Queue what was stored before giving up, so the mall hears of it now.
            self.queue_writes(&owed).await;
            return Err(self.store_error(e));
        }
        Ok(owed)
    }

    /// Explicit re-import: refresh the stored order from the mall, keep what is ours, and
    /// record what changed. An order not stored yet is simply imported.
    async fn reimport(
        &mut self,
        fresh: Order,
        payload: RawPayload,
        mode: Mode,
    ) -> Result<Option<Order>, ImportError> {
        // Two attempts: a concurrent writer may bump the version between read and write.
        for _ in 0..2 {
            let stored = match self.known.remove(&fresh.id) {
                Some(known) => Some(known),
                None => self
                    .ctx
                    .orders
                    .get_order(&fresh.id)
                    .await
                    .map_err(|e| self.store_error(e))?,
            };
            let Some(stored) = stored else {
                let owed = self.create_all(vec![(fresh, payload)]).await?;
                return Ok(owed.into_iter().next());
            };
            let expected = stored.version;
            let (mut refreshed, changes) = if mode == Mode::FollowMall {
                match follow_mall(&stored, fresh.clone(), self.now) {
                    Some(followed) => (followed.order, followed.changes),
                    None => {
                        self.report.unchanged_on_mall += 1;
                        self.clear_quarantine(&fresh.mall_order_id).await?;
                        return Ok(None);
                    }
                }
            } else {
                (
                    refresh_from_mall(stored, fresh.clone(), self.now),
                    Vec::new(),
                )
            };
            let owes = mode == Mode::FollowMall && self.owes_next_status(&mut refreshed);
            match self.ctx.orders.update_order(&refreshed, expected).await {
                Ok(()) => {
                    if mode == Mode::FollowMall {
                        self.report_followed(&refreshed.id, &changes);
                    } else {
                        self.report.reimported.push(refreshed.id.clone());
                    }
                    self.clear_quarantine(&refreshed.mall_order_id).await?;
                    return Ok(owes.then_some(refreshed));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) if e.is_permanent_for_item() => {
                    let error = format!("the refreshed order could not be stored: {e}");
                    self.quarantine(
                        &fresh.mall_order_id,
                        ImportStep::Store,
                        error,
                        Some(payload),
                    )
                    .await?;
                    return Ok(None);
                }
                Err(e) => return Err(self.store_error(e)),
            }
        }
        let error = "the stored order kept changing during re-import; try again".to_owned();
        self.quarantine(
            &fresh.mall_order_id,
            ImportStep::Store,
            error,
            Some(payload),
        )
        .await?;
        Ok(None)
    }

    /// Reads the store's open orders from the mall again and follows what changed there.
    /// Orders are read in the mall's batch sizes through the store's one mall client (its
    /// rate budget is the import's). What the deadline leaves is the next request.
    async fn follow_open_orders(&mut self, only: &[String]) -> Result<(), ImportError> {
        if only.is_empty() && self.ctx.mall.capabilities().lists_changes {
            return self.follow_listed_changes().await;
        }
        let numbers = if only.is_empty() {
            self.open_order_numbers().await?
        } else {
            only.to_vec()
        };
        let listed = numbers.into_iter().map(ListedOrder::id).collect();
        if let Some(rest) = self.import_listed(listed, Mode::FollowMall).await? {
            self.report.unfinished = Some(ImportRequest::OpenOrders { only: rest });
        }
        Ok(())
    }

    /// For a mall that lists its changes ([`MallCapabilities::lists_changes`]): reads again only
    /// the open orders the mall listed since the run's own checkpoint, over the differential's
    /// window (`[checkpoint − overlap, now − listing delay]`), then moves the checkpoint to the
    /// window's end. The first run (no checkpoint yet) reads every open order.
    async fn follow_listed_changes(&mut self) -> Result<(), ImportError> {
        let previous = self
            .ctx
            .checkpoints
            .load_follow_checkpoint(self.store())
            .await
            .map_err(|e| self.store_error(e))?;
        let caps = self.ctx.mall.capabilities();
        let end = sub(self.now, caps.listing_delay);
        let numbers = if previous.is_some() {
            let window =
                differential_window(self.now, previous.as_ref(), &self.ctx.config.import, &caps);
            let mut changed = BTreeSet::new();
            for piece in window.iter().flat_map(|w| w.split(caps.max_window)) {
                self.report.windows.push(piece);
                let listed = self.ctx.mall.list_orders(piece).await?;
                changed.extend(listed.into_iter().map(|l| l.mall_order_id));
            }
            self.report.followed_by_listing = true;
            self.open_among(changed).await?
        } else {
            self.open_order_numbers().await?
        };
        let listed = numbers.into_iter().map(ListedOrder::id).collect();
        if let Some(rest) = self.import_listed(listed, Mode::FollowMall).await? {
            // The rest is read by the continuation: the window is covered either way.
            self.report.unfinished = Some(ImportRequest::OpenOrders { only: rest });
        }
        let next = Checkpoint {
            imported_until: previous.as_ref().map_or(end, |p| p.imported_until.max(end)),
            updated_at: self.now,
        };
        match self
            .ctx
            .checkpoints
            .save_follow_checkpoint(self.store(), previous.as_ref(), &next)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict { .. }) => {
                tracing::info!(store = %self.store(), "open-orders checkpoint moved by a concurrent run");
                Ok(())
            }
            Err(e) => Err(self.store_error(e)),
        }
    }

    /// The numbers that fetch again those of `mall_order_ids` that are stored and open, each
    /// read by its id: a run's reads of our table follow the mall's changes, not the store's
    /// open orders. A mall that lists changes has one of our orders per mall order
    /// ([`MallCapabilities::lists_changes`]); an id not stored yet is the differential's.
    async fn open_among(
        &mut self,
        mall_order_ids: BTreeSet<String>,
    ) -> Result<Vec<String>, ImportError> {
        let mut numbers = Vec::new();
        for mall_order_id in mall_order_ids {
            if numbers.len() >= OPEN_ORDERS_PER_RUN {
                break;
            }
            let id = OrderId::new(self.store(), &mall_order_id);
            let stored = self
                .ctx
                .orders
                .get_order(&id)
                .await
                .map_err(|e| self.store_error(e))?;
            let Some(order) = stored.filter(|o| OPEN.contains(&o.status)) else {
                continue;
            };
            numbers.push(self.ctx.mall.refetch_id(&order));
            self.known.insert(order.id.clone(), order);
        }
        Ok(numbers)
    }

    /// The numbers that fetch the store's open orders again ([`Mall::refetch_id`]), oldest
    /// first, at most [`OPEN_ORDERS_PER_RUN`] (a split order once).
    async fn open_order_numbers(&mut self) -> Result<Vec<String>, ImportError> {
        let mut seen = HashSet::new();
        let mut numbers = Vec::new();
        for status in OPEN {
            let list = OrderList::InStatus(self.store().clone(), status);
            let mut after: Option<String> = None;
            loop {
                let page = self
                    .ctx
                    .index
                    .list_orders(&list, after.as_deref(), None, OPEN_ORDERS_PAGE)
                    .await
                    .map_err(|e| self.store_error(e))?;
                let full = page.len() == OPEN_ORDERS_PAGE;
                after = page
                    .last()
                    .map(|o| crate::operator::list_position(&o.ordered_at, &o.id));
                for order in page {
                    if numbers.len() >= OPEN_ORDERS_PER_RUN {
                        return Ok(numbers);
                    }
                    if seen.insert(order.mall_order_id.clone()) {
                        numbers.push(self.ctx.mall.refetch_id(&order));
                    }
                    // The list's copy lacks only the raw payload, which following replaces.
                    self.known.insert(order.id.clone(), order);
                }
                if !full {
                    break;
                }
            }
        }
        Ok(numbers)
    }

    /// Counts a followed order in the report by what the mall changed.
    fn report_followed(&mut self, id: &OrderId, changes: &[MallChange]) {
        let report = &mut self.report;
        report.changed_on_mall.push(id.clone());
        for change in changes {
            let list = match change {
                MallChange::Paid => &mut report.paid_on_mall,
                MallChange::Cancelled | MallChange::CancelledAfterShipment => {
                    &mut report.cancelled_on_mall
                }
                MallChange::LinesCancelled(_) => &mut report.lines_cancelled_on_mall,
                MallChange::CancelRequested => &mut report.cancel_requested_on_mall,
                MallChange::CancelWithdrawn => &mut report.cancel_withdrawn_on_mall,
                MallChange::NotApplied(_) => &mut report.not_applied_on_mall,
                MallChange::Refreshed => continue,
            };
            if !list.contains(id) {
                list.push(id.clone());
            }
        }
    }

    /// Queues again the writes owed for longer than [`crate::mall_write::WRITE_AGAIN_AFTER`]: their message was
    /// lost, or they kept failing past the queue's retries. A run never leaves one behind.
    async fn queue_stuck_writes(&mut self) -> Result<(), ImportError> {
        if self.ctx.mall.capabilities().acknowledgement.is_none() {
            return Ok(());
        }
        let owed = self
            .ctx
            .orders
            .orders_owing_mall_sync(self.store(), stuck_since(self.now), STUCK_WRITES_PER_RUN)
            .await
            .map_err(|e| self.store_error(e))?;
        if owed.is_empty() {
            return Ok(());
        }
        let writes = stuck_writes(self.ctx.orders, self.store(), owed)
            .await
            .map_err(|e| self.store_error(e))?;
        tracing::info!(store = %self.store(), writes = writes.len(), "queueing again mall writes owed for long");
        match self.ctx.writes.enqueue(&writes).await {
            Ok(()) => self.report.writes_queued_again += writes.len(),
            Err(e) => {
                tracing::warn!(store = %self.store(), error = %e, "could not queue again the writes owed for long; the next run tries");
                self.report.writes_not_queued += writes.len();
            }
        }
        Ok(())
    }

    /// Queues the writes these orders owe (stored pending, so a refused queue loses nothing:
    /// a later run queues them again).
    async fn queue_writes(&mut self, orders: &[Order]) {
        let writes: Vec<MallWrite> = orders.iter().filter_map(MallWrite::owed_by).collect();
        if writes.is_empty() {
            return;
        }
        match self.ctx.writes.enqueue(&writes).await {
            Ok(()) => self.report.writes_queued += writes.len(),
            Err(e) => {
                tracing::warn!(store = %self.store(), error = %e, "mall writes not queued; a later run queues them again");
                self.report.writes_not_queued += writes.len();
            }
        }
    }
}

/// The list shows a mall status other than the one stored with the order.
fn moved_on_mall(listed: &ListedOrder, stored: &StoredOrderSummary) -> bool {
    match (&listed.mall_status, &stored.mall_status) {
        (Some(now), Some(before)) => now != before,
        _ => false,
    }
}

/// A batch's payloads: fetched from the mall, or carried by the list.
struct FetchedBatch {
    payloads: Vec<(String, RawPayload)>,
    /// Orders the mall listed but did not return, with its message.
    missing: Vec<(String, String)>,
    /// How many payloads came from a detail call.
    fetched: usize,
}

/// Fetches what the list did not carry.
async fn fetch_batch(mall: &dyn Mall, batch: Vec<ListedOrder>) -> Result<FetchedBatch, MallError> {
    let mut payloads: Vec<(String, RawPayload)> = Vec::with_capacity(batch.len());
    let mut to_fetch: Vec<String> = Vec::new();
    for order in batch {
        match order.payload {
            Some(payload) => payloads.push((order.mall_order_id, payload)),
            None => to_fetch.push(order.mall_order_id),
        }
    }
    let mut batch = FetchedBatch {
        payloads,
        missing: Vec::new(),
        fetched: 0,
    };
    if !to_fetch.is_empty() {
        let outcome = mall.fetch_orders(&to_fetch).await?;
        batch.fetched = outcome.orders.len();
        batch.payloads.extend(
            outcome
                .orders
                .into_iter()
                .map(|o| (o.mall_order_id, o.payload)),
        );
        batch.missing = outcome.missing;
    }
    Ok(batch)
}

fn sub(at: JstInstant, duration: jiff::SignedDuration) -> JstInstant {
    at.checked_sub(duration).unwrap_or(at)
}

fn add(at: JstInstant, duration: jiff::SignedDuration) -> JstInstant {
    at.checked_add(duration).unwrap_or(at)
}

/// The window a differential run lists: from the checkpoint minus the overlap (widened to the
/// mall's search lag) up to now. With no checkpoint: from the store's sync start, or without
/// one the first-run look-back. Never before the sync start or the mall's history limit, and
/// never closer to now than the mall allows. `None` when there is nothing to list yet.
pub fn differential_window(
    now: JstInstant,
    checkpoint: Option<&Checkpoint>,
    settings: &ImportSettings,
    caps: &MallCapabilities,
) -> Option<TimeWindow> {
    let end = sub(now, caps.listing_delay);
    let start = match (checkpoint, settings.sync_start_at) {
        (Some(checkpoint), _) => sub(
            checkpoint.imported_until,
            settings.effective_overlap(caps.search_lag),
        ),
        (None, Some(sync_start)) => sync_start,
        (None, None) => sub(now, settings.first_run_lookback),
    };
    let start = start.max(sub(now, caps.history_limit));
    let start = settings
        .sync_start_at
        .map_or(start, |sync_start| start.max(sync_start));
    (start < end).then(|| TimeWindow::new(start, end))
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    fn at(s: &str) -> JstInstant {
        s.parse().unwrap()
    }

    fn caps() -> MallCapabilities {
        MallCapabilities {
            max_window: SignedDuration::from_hours(24 * 63),
            history_limit: SignedDuration::from_hours(24 * 730),
            listing_delay: SignedDuration::ZERO,
            search_lag: SignedDuration::ZERO,
            detail_batch_size: 100,
            acknowledgement: Some("confirmOrder"),
            lists_changes: false,
        }
    }

    #[test]
    fn first_run_looks_back_from_now() {
        let settings = ImportSettings::default();
        let now = at("2026-11-22T12:00:00+09:00");
        let window = differential_window(now, None, &settings, &caps()).unwrap();
        assert_eq!(
            window,
            TimeWindow::new(at("2026-11-21T12:00:00+09:00"), now)
        );
    }

    #[test]
    fn first_run_starts_at_an_older_sync_start() {
        let settings = ImportSettings {
            sync_start_at: Some(at("2026-11-12T12:00:00+09:00")),
            ..ImportSettings::default()
        };
        let now = at("2026-11-22T12:00:00+09:00");
        let window = differential_window(now, None, &settings, &caps()).unwrap();
        assert_eq!(window.start, at("2026-11-12T12:00:00+09:00"));
        // …but never before the mall's history limit.
        let mut short = caps();
        short.history_limit = SignedDuration::from_hours(24 * 5);
        let window = differential_window(now, None, &settings, &short).unwrap();
        assert_eq!(window.start, at("2026-11-17T12:00:00+09:00"));
    }

    #[test]
    fn later_runs_overlap_the_checkpoint_by_at_least_the_search_lag() {
        let mut settings = ImportSettings::default();
        let checkpoint = Checkpoint {
            imported_until: at("2026-11-22T12:00:00+09:00"),
            updated_at: at("2026-11-22T12:00:01+09:00"),
        };
        let now = at("2026-11-22T12:03:00+09:00");
        let window = differential_window(now, Some(&checkpoint), &settings, &caps()).unwrap();
        // The default overlap: 30 minutes.
        assert_eq!(
            window,
            TimeWindow::new(at("2026-11-22T11:30:00+09:00"), now)
        );
        settings.overlap = SignedDuration::from_mins(2);
        let mut lagging = caps();
        lagging.search_lag = SignedDuration::from_mins(45);
        let window = differential_window(now, Some(&checkpoint), &settings, &lagging).unwrap();
        assert_eq!(window.start, at("2026-11-22T11:15:00+09:00"));
        // A store's own figure wins over the mall's.
        settings.search_lag = Some(SignedDuration::from_mins(60));
        let window = differential_window(now, Some(&checkpoint), &settings, &lagging).unwrap();
        assert_eq!(window.start, at("2026-11-22T11:00:00+09:00"));
    }

    #[test]
    fn sync_start_bounds_the_window_and_a_future_one_means_nothing_to_do() {
        let mut settings = ImportSettings::default();
        let now = at("2026-11-22T12:00:00+09:00");
        settings.sync_start_at = Some(at("2026-11-22T09:00:00+09:00"));
        let window = differential_window(now, None, &settings, &caps()).unwrap();
        assert_eq!(window.start, at("2026-11-22T09:00:00+09:00"));
        settings.sync_start_at = Some(at("2026-11-23T00:00:00+09:00"));
        assert_eq!(differential_window(now, None, &settings, &caps()), None);
    }

    #[test]
    fn window_ends_before_now_by_the_listing_delay_and_respects_history() {
        let mut caps = caps();
        caps.listing_delay = SignedDuration::from_mins(2);
        caps.history_limit = SignedDuration::from_hours(24 * 90);
        let settings = ImportSettings {
            first_run_lookback: SignedDuration::from_hours(24 * 365),
            ..ImportSettings::default()
        };
        let now = at("2026-11-22T12:00:00+09:00");
        let window = differential_window(now, None, &settings, &caps).unwrap();
        assert_eq!(window.end, at("2026-11-22T11:58:00+09:00"));
        assert_eq!(window.start, at("2026-08-24T12:00:00+09:00"));
    }

    #[test]
    fn summary_is_counts_and_the_first_failure() {
        let report = ImportReport {
            store: "rakuten:s".into(),
            listed: 3,
            quarantined: vec![OrderFailure {
                mall_order_id: "1".into(),
                error: "gone".into(),
            }],
            ..ImportReport::default()
        };
        let text = report.summary();
        assert!(text.starts_with("rakuten:s: listed 3, created 0"), "{text}");
        assert!(text.ends_with("first quarantined: order 1: gone"), "{text}");
    }

    #[test]
    fn commands_parse_from_schedule_and_queue_messages() {
        let scheduled: ImportCommand = serde_json::from_str(
            r#"{"type":"differential","store":"rakuten:store-a","sent_at":"2026-11-22T01:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(scheduled.request, ImportRequest::Differential);
        assert_eq!(scheduled.sent_at.as_deref(), Some("2026-11-22T01:00:00Z"));
        let scheduled: ImportCommand =
            serde_json::from_str(r#"{"type":"differential","store":"rakuten:store-a"}"#).unwrap();
        assert_eq!(scheduled.request, ImportRequest::Differential);
        let targeted: ImportCommand = serde_json::from_str(
            r#"{"type":"orders","store":"rakuten:store-a","mall_order_ids":["1-2-3"],"reimport":true}"#,
        )
        .unwrap();
        assert_eq!(
            targeted.request,
            ImportRequest::Orders {
                mall_order_ids: vec!["1-2-3".into()],
                reimport: true
            }
        );
        let bad =
            serde_json::from_str::<ImportCommand>(r#"{"type":"differential","store":"ebay:x"}"#);
        assert!(bad.unwrap_err().to_string().contains("unknown mall"));
    }
}
