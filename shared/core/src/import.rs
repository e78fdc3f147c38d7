//! The import job (受注取込): bring a store's orders from its mall into the order book.
//!
//! Three kinds of request share one pipeline (list → fetch → normalise → store → acknowledge):
//! - **differential**: the scheduled run. Lists the window from the checkpoint (minus an
//!   overlap, so a slow mall never leaves a gap) up to now, and advances the checkpoint only
//!   after every order in the window is stored;
//! - **range**: re-import a past window on request; the checkpoint is not touched;
//! - **orders**: targeted order numbers (from the mail trigger or an operator), either
//!   import-once or an explicit re-import (注文再取込) that refreshes the stored order from
//!   the mall and records what changed in its history.
//!
//! Import-once: an order is created with a conditional write, so a second import never
//! creates a second record and never overwrites what the shop changed. Odd data becomes holds
//! on the order (decided by the mall's normaliser); it never stops other orders.

use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::config::{ImportSettings, StoreConfig};
use crate::hold::Hold;
use crate::mall::{AckOutcome, ListedOrder, Mall, MallCapabilities, MallError, NormaliseError};
use crate::order::{HistoryEntry, Order, OrderId, RawPayload, StoreRef};
use crate::ports::{Checkpoint, CheckpointStore, Clock, OrderStore, StoreError};
use crate::status::{MallSync, OrderStatus, SyncState};
use crate::time::{JstInstant, TimeWindow};

/// How many orders are written to the store at once.
const STORE_CONCURRENCY: usize = 16;

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
}

/// An import request for one store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportCommand {
    pub store: StoreRef,
    #[serde(flatten)]
    pub request: ImportRequest,
}

/// The adapters one import run talks through.
pub struct ImportContext<'a> {
    pub config: &'a StoreConfig,
    pub mall: &'a dyn Mall,
    pub orders: &'a dyn OrderStore,
    pub checkpoints: &'a dyn CheckpointStore,
    pub clock: &'a dyn Clock,
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
    /// Ordered before the store's sync start: not imported.
    pub before_sync_start: usize,
    /// Created orders that carry holds, with the reasons.
    pub held: Vec<HeldOrder>,
    /// Orders that could not be imported, with why. The checkpoint does not pass them.
    pub failures: Vec<OrderFailure>,
    pub acknowledged: usize,
    pub acknowledgement_failures: Vec<OrderFailure>,
    /// Where the checkpoint moved to, if it moved.
    pub checkpoint_advanced_to: Option<JstInstant>,
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
    #[error(
        "{store}: {} of the orders could not be imported (first: order {}: {}); the checkpoint stays where it was",
        .report.failures.len(),
        .report.failures.first().map(|f| f.mall_order_id.as_str()).unwrap_or("?"),
        .report.failures.first().map(|f| f.error.as_str()).unwrap_or("?")
    )]
    Incomplete {
        store: StoreRef,
        report: Box<ImportReport>,
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
            ImportError::Incomplete { .. } => true,
            ImportError::WrongStore { .. } | ImportError::BadRange { .. } => false,
        }
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
    let mut run = Run::new(ctx);
    match &command.request {
        ImportRequest::Differential => run.differential().await?,
        ImportRequest::Range { from, to } => run.range(TimeWindow::new(*from, *to)).await?,
        ImportRequest::Orders {
            mall_order_ids,
            reimport,
        } => {
            let listed = mall_order_ids
                .iter()
                .map(|id| ListedOrder {
                    mall_order_id: id.clone(),
                    payload: None,
                })
                .collect();
            let mode = if *reimport {
                Mode::Reimport
            } else {
                Mode::ImportOnce
            };
            run.import_listed(listed, mode).await?;
        }
    }
    let mut report = run.report;
    report.created.sort();
    tracing::info!(
        store = %store,
        listed = report.listed,
        fetched = report.fetched,
        created = report.created.len(),
        already_imported = report.already_imported,
        reimported = report.reimported.len(),
        held = report.held.len(),
        failures = report.failures.len(),
        acknowledged = report.acknowledged,
        checkpoint = ?report.checkpoint_advanced_to.map(|c| c.to_string()),
        "import finished"
    );
    if report.failures.is_empty() {
        Ok(report)
    } else {
        Err(ImportError::Incomplete {
            store: store.clone(),
            report: Box::new(report),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    ImportOnce,
    Reimport,
}

/// One run's state: the context, the time it started, and what it has done so far.
struct Run<'a, 'c> {
    ctx: &'a ImportContext<'c>,
    now: JstInstant,
    report: ImportReport,
    /// An acknowledgement failed in a way worth retrying (the mall was unavailable).
    acknowledgements_to_retry: bool,
}

impl<'a, 'c> Run<'a, 'c> {
    fn new(ctx: &'a ImportContext<'c>) -> Self {
        let report = ImportReport {
            store: ctx.config.store.to_string(),
            ..ImportReport::default()
        };
        Self {
            ctx,
            now: ctx.clock.now(),
            report,
            acknowledgements_to_retry: false,
        }
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

    async fn differential(&mut self) -> Result<(), ImportError> {
        let previous = self
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
        self.import_window(window).await?;
        if !self.report.failures.is_empty() || self.acknowledgements_to_retry {
            // The next run re-lists this window: stored orders are skipped, and those whose
            // acknowledgement is outstanding are acknowledged then.
            return Ok(());
        }
        let end = window.end;
        let next = Checkpoint {
            imported_until: end,
            updated_at: self.now,
        };
        match self
            .ctx
            .checkpoints
            .save_checkpoint(self.store(), previous.as_ref(), &next)
            .await
        {
            Ok(()) => self.report.checkpoint_advanced_to = Some(end),
            // Another run (an overlapping schedule, a retry) moved it meanwhile; its window
            // and ours overlap and import-once makes that harmless. Leave its value.
            Err(StoreError::Conflict { .. }) => {
                tracing::warn!(store = %self.store(), "checkpoint moved by a concurrent run; kept its value");
            }
            Err(e) => return Err(self.store_error(e)),
        }
        Ok(())
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
        self.import_window(TimeWindow::new(start, end)).await
    }

    async fn import_window(&mut self, window: TimeWindow) -> Result<(), ImportError> {
        let caps = self.ctx.mall.capabilities();
        // Pieces share their boundary instant, so an order on it is listed twice;
        // `import_listed` keeps the first.
        let mut listed = Vec::new();
        for piece in window.split(caps.max_window) {
            self.report.windows.push(piece);
            listed.extend(self.ctx.mall.list_orders(piece).await?);
        }
        self.import_listed(listed, Mode::ImportOnce).await
    }

    async fn import_listed(
        &mut self,
        listed: Vec<ListedOrder>,
        mode: Mode,
    ) -> Result<(), ImportError> {
        let mut seen = HashSet::new();
        let listed: Vec<ListedOrder> = listed
            .into_iter()
            .filter(|l| seen.insert(l.mall_order_id.clone()))
            .collect();
        self.report.listed += listed.len();

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

        let mut to_import: Vec<ListedOrder> = Vec::new();
        let mut acknowledgements_owed: Vec<Owed> = Vec::new();
        for (order, id) in listed.into_iter().zip(&ids) {
            match (stored.get(id), mode) {
                (Some(summary), Mode::ImportOnce) => {
                    self.report.already_imported += 1;
                    // Stored by an earlier run that stopped before telling the mall.
                    if summary.acknowledgement_outstanding {
                        acknowledgements_owed.push(Owed::stored(order.mall_order_id));
                    }
                }
                _ => to_import.push(order),
            }
        }
        self.acknowledge(acknowledgements_owed).await?;

        // One batch at a time, to the end: memory stays bounded by a batch, and what a
        // batch stored is safe even if a later one fails.
        let batch_size = self.ctx.mall.capabilities().detail_batch_size.max(1);
        let mut to_import = to_import.into_iter().peekable();
        while to_import.peek().is_some() {
            let batch: Vec<ListedOrder> = to_import.by_ref().take(batch_size).collect();
            self.import_batch(batch, mode).await?;
        }
        Ok(())
    }

    /// Fetches (unless the list carried the payloads), normalises, stores and acknowledges
    /// one batch of orders.
    async fn import_batch(
        &mut self,
        batch: Vec<ListedOrder>,
        mode: Mode,
    ) -> Result<(), ImportError> {
        let mut payloads: Vec<RawPayload> = Vec::with_capacity(batch.len());
        let mut to_fetch: Vec<String> = Vec::new();
        for order in batch {
            match order.payload {
                Some(payload) => payloads.push(payload),
                None => to_fetch.push(order.mall_order_id),
            }
        }
        if !to_fetch.is_empty() {
            let outcome = self.ctx.mall.fetch_orders(&to_fetch).await?;
            self.report.fetched += outcome.orders.len();
            payloads.extend(outcome.orders.into_iter().map(|o| o.payload));
            for (mall_order_id, message) in outcome.missing {
                self.report.failures.push(OrderFailure {
                    mall_order_id,
                    error: format!("the mall did not return this order: {message}"),
                });
            }
        }

        let mut normalised: Vec<Order> = Vec::with_capacity(payloads.len());
        for payload in &payloads {
            match self.ctx.mall.normalise(payload, self.now) {
                Ok(n) => normalised.extend(n.orders),
                Err(e) => self.record_unreadable(e),
            }
        }
        drop(payloads);

        let mut owed = Vec::new();
        match mode {
            Mode::ImportOnce => {
                owed.extend(
                    self.create_all(normalised)
                        .await?
                        .into_iter()
                        .map(Owed::created),
                );
            }
            Mode::Reimport => {
                for fresh in normalised {
                    if let Some(created) = self.reimport(fresh).await? {
                        owed.push(Owed::created(created));
                    }
                }
            }
        }
        self.acknowledge(owed).await
    }

    fn record_unreadable(&mut self, error: NormaliseError) {
        self.report.failures.push(OrderFailure {
            mall_order_id: error.mall_order_id.clone(),
            error: error.to_string(),
        });
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

    /// Creates orders that are not stored yet; returns the created orders owed an
    /// acknowledgement.
    async fn create_all(&mut self, orders: Vec<Order>) -> Result<Vec<Order>, ImportError> {
        let sync_start = self.ctx.config.import.sync_start_at;
        let mut to_create = Vec::with_capacity(orders.len());
        for mut order in orders {
            if sync_start.is_some_and(|start| order.ordered_at < start) {
                self.report.before_sync_start += 1;
                continue;
            }
            self.prepare_new(&mut order);
            to_create.push(order);
        }
        let store = self.ctx.orders;
        let outcomes: Vec<(Order, bool)> = stream::iter(to_create)
            .map(|order| async move {
                match store.create_order(&order).await {
                    Ok(()) => Ok((order, true)),
                    Err(StoreError::AlreadyExists(_)) => Ok((order, false)),
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(STORE_CONCURRENCY)
            .try_collect()
            .await
            .map_err(|e| self.store_error(e))?;

        let mut owed = Vec::new();
        for (order, created) in outcomes {
            if !created {
                self.report.already_imported += 1;
                continue;
            }
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
        Ok(owed)
    }

    /// Explicit re-import: refresh the stored order from the mall, keep what is ours, and
    /// record what changed. An order not stored yet is simply imported.
    async fn reimport(&mut self, fresh: Order) -> Result<Option<Order>, ImportError> {
        // Two attempts: a concurrent writer may bump the version between read and write.
        for _ in 0..2 {
            let Some(stored) = self
                .ctx
                .orders
                .get_order(&fresh.id)
                .await
                .map_err(|e| self.store_error(e))?
            else {
                let owed = self.create_all(vec![fresh]).await?;
                return Ok(owed.into_iter().next());
            };
            let expected = stored.version;
            let refreshed = refresh_from_mall(stored, fresh.clone(), self.now);
            match self.ctx.orders.update_order(&refreshed, expected).await {
                Ok(()) => {
                    self.report.reimported.push(refreshed.id.clone());
                    return Ok(None);
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(self.store_error(e)),
            }
        }
        self.report.failures.push(OrderFailure {
            mall_order_id: fresh.mall_order_id,
            error: "the stored order kept changing during re-import; try again".into(),
        });
        Ok(None)
    }

    /// Sends the post-import acknowledgement (e.g. Rakuten `confirmOrder`) and records the
    /// outcome on each order. A failure here never undoes the import: the order shows the
    /// failed mall sync. When the mall was unavailable the checkpoint stays, so the next run
    /// lists these orders again and retries their acknowledgement; a rejection is final and
    /// left for a person.
    async fn acknowledge(&mut self, owed: Vec<Owed>) -> Result<(), ImportError> {
        let batch_size = self.ctx.mall.capabilities().detail_batch_size.max(1);
        let mut owed = owed.into_iter().peekable();
        while owed.peek().is_some() {
            let batch: Vec<Owed> = owed.by_ref().take(batch_size).collect();
            let ids: Vec<String> = batch.iter().map(|o| o.mall_order_id.clone()).collect();
            let mut states: HashMap<String, SyncState> = match self.ctx.mall.acknowledge(&ids).await
            {
                Ok(acks) => acks
                    .into_iter()
                    .map(|ack| {
                        let state = match ack.outcome {
                            AckOutcome::Accepted
                            | AckOutcome::NotNeeded { .. }
                            | AckOutcome::Cancelled { .. }
                            | AckOutcome::CancelRequested { .. } => SyncState::Done,
                            AckOutcome::Rejected { reason } => SyncState::Failed {
                                reason,
                                retryable: false,
                            },
                        };
                        (ack.mall_order_id, state)
                    })
                    .collect(),
                Err(e) => {
                    self.acknowledgements_to_retry |= e.is_retryable();
                    let reason = e.to_string();
                    ids.iter()
                        .map(|id| {
                            (
                                id.clone(),
                                SyncState::Failed {
                                    reason: reason.clone(),
                                    retryable: e.is_retryable(),
                                },
                            )
                        })
                        .collect()
                }
            };
            let outcomes: Vec<(Owed, SyncState)> = batch
                .into_iter()
                .map(|o| {
                    let state =
                        states
                            .remove(&o.mall_order_id)
                            .unwrap_or_else(|| SyncState::Failed {
                                reason: "the mall gave no answer for this order".to_owned(),
                                retryable: true,
                            });
                    (o, state)
                })
                .collect();
            for (o, state) in &outcomes {
                match state {
                    SyncState::Done => self.report.acknowledged += 1,
                    SyncState::Failed { reason, .. } => {
                        self.report.acknowledgement_failures.push(OrderFailure {
                            mall_order_id: o.mall_order_id.clone(),
                            error: reason.clone(),
                        })
                    }
                    _ => {}
                }
            }
            let this = &*self;
            stream::iter(outcomes)
                .map(|(o, state)| this.record_sync(o, state))
                .buffer_unordered(STORE_CONCURRENCY)
                .try_collect::<()>()
                .await?;
        }
        Ok(())
    }

    /// Records the acknowledgement's outcome on the order: from the copy this run stored when
    /// it has one (one write), else from a fresh read.
    async fn record_sync(&self, owed: Owed, state: SyncState) -> Result<(), ImportError> {
        let id = OrderId::new(self.store(), &owed.mall_order_id);
        let mut known = owed.stored_copy;
        for _ in 0..2 {
            let order = match known.take() {
                Some(order) => Some(order),
                None => self
                    .ctx
                    .orders
                    .get_order(&id)
                    .await
                    .map_err(|e| self.store_error(e))?,
            };
            let Some(mut order) = order else {
                return Ok(());
            };
            let expected = order.version;
            order.mall_sync.record_attempt(state.clone(), self.now);
            order.version += 1;
            order.updated_at = self.now;
            match self.ctx.orders.update_order(&order, expected).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(self.store_error(e)),
            }
        }
        tracing::warn!(order = %id, "mall sync state not recorded: the order kept changing");
        Ok(())
    }
}

/// An order owed the post-import acknowledgement.
struct Owed {
    mall_order_id: String,
    /// The order as this run stored it, when it did; saves a read when recording the outcome.
    stored_copy: Option<Order>,
}

impl Owed {
    fn created(order: Order) -> Self {
        Self {
            mall_order_id: order.mall_order_id.clone(),
            stored_copy: Some(order),
        }
    }

    fn stored(mall_order_id: String) -> Self {
        Self {
            mall_order_id,
            stored_copy: None,
        }
    }
}

fn sub(at: JstInstant, duration: jiff::SignedDuration) -> JstInstant {
    at.checked_sub(duration).unwrap_or(at)
}

/// The window a differential run lists: from the checkpoint minus the overlap (or the
/// first-run look-back) to now, never before the sync start or the mall's history limit, and
/// never closer to now than the mall allows. `None` when there is nothing to list yet.
pub fn differential_window(
    now: JstInstant,
    checkpoint: Option<&Checkpoint>,
    settings: &ImportSettings,
    caps: &MallCapabilities,
) -> Option<TimeWindow> {
    let end = sub(now, caps.listing_delay);
    let start = match checkpoint {
        Some(checkpoint) => sub(checkpoint.imported_until, settings.overlap),
        None => sub(now, settings.first_run_lookback),
    };
    let start = start.max(sub(now, caps.history_limit));
    let start = settings
        .sync_start_at
        .map_or(start, |sync_start| start.max(sync_start));
    (start < end).then(|| TimeWindow::new(start, end))
}

/// The stored order refreshed with the mall's current data. What is ours stays: the id,
/// the history, the mall sync state, the import time, and any status past shipment.
pub fn refresh_from_mall(stored: Order, fresh: Order, now: JstInstant) -> Order {
    let changes = describe_changes(&stored, &fresh);
    let status = if stored.status.is_before_shipment() {
        let mut settled = fresh.clone();
        if settled.status == OrderStatus::Imported && settled.settle_after_import().is_err() {
            stored.status
        } else {
            settled.status
        }
    } else {
        stored.status
    };
    let mut history = stored.history;
    history.push(HistoryEntry {
        at: now,
        event: "reimported".into(),
        changes,
    });
    Order {
        status,
        history,
        mall_sync: stored.mall_sync,
        imported_at: stored.imported_at,
        version: stored.version + 1,
        updated_at: now,
        ..fresh
    }
}

/// What differs between two versions of an order, in words an operator can read. Personal
/// data is named, never shown.
fn describe_changes(old: &Order, new: &Order) -> Vec<String> {
    let mut changes = Vec::new();
    let mut compare = |field: &str, before: String, after: String| {
        let shown = |value: String| {
            if value.is_empty() {
                "none".to_owned()
            } else {
                value
            }
        };
        if before != after {
            changes.push(format!("{field}: {} → {}", shown(before), shown(after)));
        }
    };
    compare(
        "mall_status",
        old.mall_status.code.clone(),
        new.mall_status.code.clone(),
    );
    let (a, b) = (&old.amounts, &new.amounts);
    for (field, before, after) in [
        ("amounts.goods", a.goods, b.goods),
        ("amounts.shipping", a.shipping, b.shipping),
        ("amounts.cod_fee", a.cod_fee, b.cod_fee),
        ("amounts.payment_fee", a.payment_fee, b.payment_fee),
        ("amounts.gift_wrapping", a.gift_wrapping, b.gift_wrapping),
        ("amounts.coupons", a.coupons, b.coupons),
        ("amounts.points", a.points, b.points),
        ("amounts.total", a.total, b.total),
        ("amounts.billed", a.billed, b.billed),
    ] {
        compare(field, before.to_string(), after.to_string());
    }
    compare(
        "payment.method",
        format!("{:?}", old.payment.method),
        format!("{:?}", new.payment.method),
    );
    compare(
        "destinations",
        old.destinations.len().to_string(),
        new.destinations.len().to_string(),
    );
    let quantities = |o: &Order| {
        o.lines()
            .map(|l| format!("{}×{}", l.mall_line_id, l.quantity))
            .collect::<Vec<_>>()
            .join(",")
    };
    compare("lines", quantities(old), quantities(new));
    compare(
        "delivery.desired_date",
        old.delivery
            .desired_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        new.delivery
            .desired_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let hold_kinds = |o: &Order| {
        o.holds
            .iter()
            .map(|h| h.kind.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    compare("holds", hold_kinds(old), hold_kinds(new));
    if old.buyer != new.buyer {
        changes.push("buyer details changed".into());
    }
    if old
        .destinations
        .iter()
        .map(|d| (&d.recipient_name, &d.address, &d.phone))
        .ne(new
            .destinations
            .iter()
            .map(|d| (&d.recipient_name, &d.address, &d.phone)))
    {
        changes.push("ship-to details changed".into());
    }
    if changes.is_empty() {
        changes.push("no changes".into());
    }
    changes
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::order::{
        Amounts, Buyer, Delivery, Gift, MallId, MallStatus, Payment, PaymentMethod,
    };

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
    fn later_runs_overlap_the_checkpoint() {
        let settings = ImportSettings::default();
        let checkpoint = Checkpoint {
            imported_until: at("2026-11-22T12:00:00+09:00"),
            updated_at: at("2026-11-22T12:00:01+09:00"),
        };
        let now = at("2026-11-22T12:03:00+09:00");
        let window = differential_window(now, Some(&checkpoint), &settings, &caps()).unwrap();
        // 12:03 covers 11:58–12:03: a 3-minute schedule with a 5-minute look-back.
        assert_eq!(
            window,
            TimeWindow::new(at("2026-11-22T11:58:00+09:00"), now)
        );
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

    fn order(billed: i64, status: OrderStatus) -> Order {
        let store = StoreRef::new(MallId::Rakuten, "store-a");
        let now = at("2026-11-22T10:00:00+09:00");
        Order {
            id: OrderId::new(&store, "1-20261122-1"),
            store,
            mall_order_id: "1-20261122-1".into(),
            ordered_at: now,
            buyer: Buyer {
                name: "山田 花子".into(),
                ..Buyer::default()
            },
            destinations: vec![],
            amounts: Amounts {
                total: billed,
                billed,
                ..Amounts::default()
            },
            payment: Payment {
                method: PaymentMethod::CreditCard,
                mall_method_code: "1".into(),
                mall_method_name: "クレジットカード".into(),
                paid_at: None,
                due_date: None,
            },
            delivery: Delivery::default(),
            gift: Gift::default(),
            notes: None,
            mall_status: MallStatus {
                code: "100".into(),
                label: "注文確認待ち".into(),
            },
            status,
            holds: vec![],
            mall_sync: MallSync::idle(),
            history: vec![],
            operator: Default::default(),
            version: 3,
            imported_at: now,
            updated_at: now,
            raw: RawPayload {
                content_type: "application/json".into(),
                body: "{}".into(),
            },
        }
    }

    #[test]
    fn reimport_refreshes_mall_data_and_keeps_ours() {
        let now = at("2026-11-23T10:00:00+09:00");
        let mut stored = order(3300, OrderStatus::ReadyToShip);
        stored.mall_sync = MallSync::pending("confirmOrder", stored.imported_at);
        let mut fresh = order(3200, OrderStatus::Imported);
        fresh.buyer.name = "山田 太郎".into();
        fresh.mall_status.code = "300".into();
        let refreshed = refresh_from_mall(stored.clone(), fresh, now);
        assert_eq!(refreshed.amounts.billed, 3200);
        assert_eq!(refreshed.version, 4);
        assert_eq!(refreshed.imported_at, stored.imported_at);
        assert_eq!(refreshed.mall_sync, stored.mall_sync);
        assert_eq!(refreshed.status, OrderStatus::ReadyToShip);
        let entry = refreshed.history.last().unwrap();
        assert_eq!(entry.event, "reimported");
        assert!(
            entry
                .changes
                .contains(&"amounts.billed: 3300 → 3200".to_string()),
            "{:?}",
            entry.changes
        );
        assert!(
            entry
                .changes
                .contains(&"mall_status: 100 → 300".to_string())
        );
        assert!(entry.changes.contains(&"buyer details changed".to_string()));
        assert!(
            entry
                .changes
                .iter()
                .all(|c| !c.contains("太郎") && !c.contains("花子"))
        );
    }

    #[test]
    fn reimport_never_moves_a_shipped_order_back() {
        let now = at("2026-11-23T10:00:00+09:00");
        let stored = order(3300, OrderStatus::Shipped);
        let refreshed = refresh_from_mall(stored, order(3300, OrderStatus::Imported), now);
        assert_eq!(refreshed.status, OrderStatus::Shipped);
        assert_eq!(
            refreshed.history.last().unwrap().changes,
            vec!["no changes".to_string()]
        );
    }

    #[test]
    fn commands_parse_from_schedule_and_queue_messages() {
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
