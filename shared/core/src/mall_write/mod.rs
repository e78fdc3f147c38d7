//! Writes to the mall, performed in the background by the mall-writer.
//!
//! Today's write is the post-import acknowledgement (Rakuten `confirmOrder`, Yahoo
//! `orderStatusChange`, au PAY `updateTradeStsProc`, Qoo10 `SetSellerCheckYN_V2`) and the
//! next status a mall expects once an order is paid (au PAY 発送前入金待ち → 発送待ち); ship
//! dates, shipments and stock take the same road.
//!
//! How a write travels, and why it is never lost nor sent twice harmfully:
//! 1. Whoever owes the mall a write marks the order **pending** first (`MallSync`, stored with
//!    the order) and queues a [`MallWrite`] second, on a FIFO queue with one message group per
//!    order (an order's writes go in order, other orders pass). A message lost between the two
//!    steps is found again: each import run queues anew every write owed for longer than
//!    [`WRITE_AGAIN_AFTER`] ([`stuck_writes`]).
//! 2. The writer claims the message's write id as an idempotency key: the same message
//!    delivered twice (SQS is at-least-once) writes once. It re-reads the order and writes
//!    only what the order still owes, marked **in flight**.
//! 3. The mall's answer is recorded on the order (**done**, or **failed** with the mall's
//!    message) and in its write log (history entries [`MALL_WRITE`]); an answer saying the
//!    mall moved on (cancelled, cancel requested) changes our order. A failure worth retrying
//!    gives the claim back and the message returns to the queue (then to its dead-letter queue
//!    and an alarm); a final refusal waits for a person (the shop API's failed writes).
//! 4. A write the mall applied whose answer was lost (a crash, a timeout) is sent again when
//!    the claim's lease ends; every mall answers a repeated acknowledgement with "already
//!    done", recorded as not needed.

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt};

use serde::{Deserialize, Serialize};

use crate::hold::{Hold, HoldKind};
use crate::mall::{AckOutcome, Mall};
use crate::operator::writes::write_since;
use crate::order::{HistoryEntry, Order, OrderId, StoreRef};
use crate::ports::{
    Clock, IdempotencyClaim, IdempotencyStore, OrderStore, QueueFailure, StoreError, StoredAnswer,
    change_stored,
};
use crate::status::{StatusEvent, SyncState};
use crate::time::JstInstant;

/// How long a write may stay owed before the import run queues it again (its message may
/// have been lost). Longer than the writer's retries take, so a healthy queue never sees a
/// second message for the same write.
pub const WRITE_AGAIN_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

/// The idempotency fingerprint of every write claim (the key alone names the write).
const CLAIM_FINGERPRINT: &str = "mall-write";

/// One write the mall is owed for one order: the mall-writer queue's message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MallWrite {
    pub store: StoreRef,
    pub mall_order_id: String,
    /// The mall operation (`confirmOrder` …).
    pub operation: String,
    /// This write, made owed at one moment: the FIFO de-duplication id and the idempotency
    /// key. A write refused and retried by a person is a new write with a new id.
    pub write_id: String,
}

impl MallWrite {
    /// The write `order` owes the mall, if it owes one ichigen sends on its own.
    pub fn owed_by(order: &Order) -> Option<Self> {
        if !order.mall_sync.is_outstanding() {
            return None;
        }
        let operation = order.mall_sync.operation.clone()?;
        let since = write_since(order).timestamp().as_millisecond();
        Some(Self {
            store: order.store.clone(),
            mall_order_id: order.mall_order_id.clone(),
            write_id: format!("{}#{operation}#{since}", order.id),
            operation,
        })
    }

    pub fn order_id(&self) -> OrderId {
        OrderId::new(&self.store, &self.mall_order_id)
    }

    /// The FIFO message group: one per order.
    pub fn message_group(&self) -> String {
        self.order_id().to_string()
    }

    fn claim_key(&self) -> String {
        format!("mall-write#{}", self.write_id)
    }

    /// Whether the stored order still owes this write.
    fn is_owed_by(&self, order: &Order) -> bool {
        order.mall_sync.is_outstanding()
            && order.mall_sync.operation.as_deref() == Some(self.operation.as_str())
    }
}

/// Where mall writes are queued (the shop's mall-writer queue).
#[async_trait::async_trait]
pub trait MallWriteQueue: Send + Sync {
    async fn enqueue(&self, writes: &[MallWrite]) -> Result<(), QueueFailure>;
}

/// Everything the writer needs for one store.
pub struct WriterContext<'a> {
    pub store: &'a StoreRef,
    pub mall: &'a dyn Mall,
    pub orders: &'a dyn OrderStore,
    pub claims: &'a dyn IdempotencyStore,
    pub clock: &'a dyn Clock,
}

/// One write that did not settle and goes back to the queue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WriteToRetry {
    pub write_id: String,
    pub mall_order_id: String,
    pub reason: String,
}

/// One write the mall refused for good.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RefusedWrite {
    pub mall_order_id: String,
    pub reason: String,
}

/// What one batch of writes did: counts for the log and the metrics, and the writes to
/// retry (their messages go back to the queue).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WriteReport {
    pub store: String,
    pub received: usize,
    /// The mall accepted the write.
    pub accepted: usize,
    /// The mall had moved on already (confirmed, shipped …): nothing to write.
    pub not_needed: usize,
    /// The mall said the order is cancelled: our order followed.
    pub cancelled_on_mall: Vec<OrderId>,
    /// The mall said the buyer asked to cancel: our order is held.
    pub cancel_requested_on_mall: Vec<OrderId>,
    /// Refused for good, with the mall's message: waits for a person.
    pub refused: Vec<RefusedWrite>,
    pub to_retry: Vec<WriteToRetry>,
    /// Delivered again after it was settled (the idempotency record answered).
    pub duplicates: usize,
    /// The order no longer owes the write (settled by another message, or gone).
    pub not_owed: usize,
}

impl WriteReport {
    pub fn summary(&self) -> String {
        format!(
            "{}: received {}, accepted {}, not needed {}, cancelled on the mall {}, cancel requested {}, refused {}, to retry {}, duplicates {}, not owed {}",
            self.store,
            self.received,
            self.accepted,
            self.not_needed,
            self.cancelled_on_mall.len(),
            self.cancel_requested_on_mall.len(),
            self.refused.len(),
            self.to_retry.len(),
            self.duplicates,
            self.not_owed,
        )
    }

    fn retry(&mut self, write: &MallWrite, reason: impl Into<String>) {
        self.to_retry.push(WriteToRetry {
            write_id: write.write_id.clone(),
            mall_order_id: write.mall_order_id.clone(),
            reason: reason.into(),
        });
    }
}

/// How many writes of a batch are claimed and recorded at once (each is a few DynamoDB
/// round trips; distinct orders, so they never race).
const WRITE_CONCURRENCY: usize = 10;

/// What the writer found before asking the mall.
enum Claimed {
    /// Owed: the order as stored, now in flight.
    Send(Box<Order>),
    /// Settled before (the idempotency record answered).
    Duplicate,
    /// The order no longer owes it, or is gone.
    NotOwed,
    Retry(String),
}

/// Performs one store's writes: claims each, sends what is still owed in the mall's batch
/// size, and records every answer. Never fails as a whole: a write that could not be settled
/// is in [`WriteReport::to_retry`].
pub async fn perform_writes(ctx: &WriterContext<'_>, writes: Vec<MallWrite>) -> WriteReport {
    let mut report = WriteReport {
        store: ctx.store.to_string(),
        received: writes.len(),
        ..WriteReport::default()
    };
    // One write per order per batch: a second one for the same order (queued again while
    // the first was on its way) is not owed once the first is sent.
    let mut orders = HashSet::new();
    let mut unique = Vec::with_capacity(writes.len());
    for write in writes {
        if &write.store != ctx.store {
            // The handler groups by store: a mismatch is a bug, kept visible and retried.
            report.retry(&write, format!("sent to the writer of {}", ctx.store));
        } else if orders.insert(write.order_id()) {
            unique.push(write);
        } else {
            report.not_owed += 1;
        }
    }
    let claimed: Vec<(MallWrite, Claimed)> = stream::iter(unique)
        .map(|write| async move {
            let claimed = claim(ctx, &write).await;
            (write, claimed)
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    let mut to_send: Vec<(MallWrite, Order)> = Vec::new();
    for (write, claimed) in claimed {
        match claimed {
            Claimed::Send(order) => to_send.push((write, *order)),
            Claimed::Duplicate => report.duplicates += 1,
            Claimed::NotOwed => report.not_owed += 1,
            Claimed::Retry(reason) => report.retry(&write, reason),
        }
    }
    let batch_size = ctx.mall.capabilities().detail_batch_size.max(1);
    let mut to_send = to_send.into_iter().peekable();
    while to_send.peek().is_some() {
        let batch: Vec<(MallWrite, Order)> = to_send.by_ref().take(batch_size).collect();
        send_batch(ctx, batch, &mut report).await;
    }
    report
}

/// Claims the write's idempotency key and marks the order in flight, or says why not.
async fn claim(ctx: &WriterContext<'_>, write: &MallWrite) -> Claimed {
    let now = ctx.clock.now();
    let key = write.claim_key();
    match ctx.claims.claim(&key, CLAIM_FINGERPRINT, now).await {
        Ok(IdempotencyClaim::Claimed) => {}
        Ok(IdempotencyClaim::Answered(_) | IdempotencyClaim::OtherRequest) => {
            return Claimed::Duplicate;
        }
        Ok(IdempotencyClaim::InProgress) => {
            return Claimed::Retry("another delivery of this write is being sent".to_owned());
        }
        Err(e) => return Claimed::Retry(e.to_string()),
    }
    let id = write.order_id();
    let marked = change_stored(ctx.orders, &id, None, now, |order| {
        if !write.is_owed_by(order) {
            return false;
        }
        order.mall_sync.state = SyncState::InFlight;
        order.mall_sync.updated_at = Some(now);
        true
    })
    .await;
    match marked {
        Ok(Some((true, order))) => Claimed::Send(Box::new(order)),
        Ok(Some((false, _)) | None) => {
            settle_claim(ctx, write, "not owed any more").await;
            Claimed::NotOwed
        }
        Err(e) => {
            release_claim(ctx, write).await;
            Claimed::Retry(e.to_string())
        }
    }
}

/// Sends one batch (≤ the mall's batch size) and records each answer.
async fn send_batch(
    ctx: &WriterContext<'_>,
    batch: Vec<(MallWrite, Order)>,
    report: &mut WriteReport,
) {
    let ids: Vec<String> = batch.iter().map(|(w, _)| w.mall_order_id.clone()).collect();
    let orders: Vec<Order> = batch.iter().map(|(_, order)| order.clone()).collect();
    let mut answers: HashMap<String, Answer> = match ctx.mall.acknowledge(&orders).await {
        Ok(acks) => acks
            .into_iter()
            .map(|ack| (ack.mall_order_id, Answer::Mall(ack.outcome)))
            .collect(),
        Err(e) => {
            let retryable = e.is_retryable() || e.is_credential();
            if e.is_credential() {
                tracing::error!(store = %ctx.store, error = %e, "the mall refused the store's credential; writes wait for a renewed key");
            }
            ids.iter()
                .map(|id| {
                    let answer = Answer::Failed {
                        reason: e.to_string(),
                        retryable,
                    };
                    (id.clone(), answer)
                })
                .collect()
        }
    };
    let answered: Vec<(MallWrite, Order, Answer)> = batch
        .into_iter()
        .map(|(write, order)| {
            let answer = answers
                .remove(&write.mall_order_id)
                .unwrap_or(Answer::Failed {
                    reason: "the mall gave no answer for this order".to_owned(),
                    retryable: true,
                });
            (write, order, answer)
        })
        .collect();
    let recorded: Vec<(MallWrite, Recorded)> = stream::iter(answered)
        .map(|(write, order, answer)| async move {
            let recorded = record(ctx, &write, order, &answer).await;
            (write, recorded)
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    for (write, recorded) in recorded {
        match recorded {
            Recorded::Followed(Follow::Acknowledged { needed: true }) => report.accepted += 1,
            Recorded::Followed(Follow::Acknowledged { needed: false }) => report.not_needed += 1,
            Recorded::Followed(Follow::Cancelled(id)) => report.cancelled_on_mall.push(id),
            Recorded::Followed(Follow::CancelRequested(id)) => {
                report.cancel_requested_on_mall.push(id)
            }
            Recorded::Followed(Follow::Failed {
                reason,
                retryable: true,
                ..
            }) => report.retry(&write, reason),
            Recorded::Followed(Follow::Failed {
                mall_order_id,
                reason,
                retryable: false,
            }) => report.refused.push(RefusedWrite {
                mall_order_id,
                reason,
            }),
            Recorded::Gone => report.not_owed += 1,
            Recorded::Unrecorded(reason) => report.retry(&write, reason),
        }
    }
}

/// What recording one answer did.
enum Recorded {
    Followed(Follow),
    /// The order is gone.
    Gone,
    /// The mall answered but the order could not be updated.
    Unrecorded(String),
}

/// Records the mall's answer on the order and settles (or gives back) the claim.
async fn record(
    ctx: &WriterContext<'_>,
    write: &MallWrite,
    order: Order,
    answer: &Answer,
) -> Recorded {
    let now = ctx.clock.now();
    let mall = ctx.mall;
    let id = order.id.clone();
    let recorded = change_stored(ctx.orders, &id, Some(order), now, |order| {
        if matches!(answer, Answer::Mall(AckOutcome::Accepted))
            && let Some(status) = mall.status_after_acknowledgement(order)
        {
            order.mall_status = status;
        }
        apply_answer(order, answer, now)
    })
    .await;
    let follow = match recorded {
        Ok(Some((follow, _))) => follow,
        Ok(None) => {
            settle_claim(ctx, write, "the order is gone").await;
            return Recorded::Gone;
        }
        Err(e) => {
            // The mall has answered but the order could not be told: the claim is kept
            // until its lease ends, then the write goes again and the mall says it is done.
            return Recorded::Unrecorded(format!(
                "the mall answered but the order could not be updated: {e}"
            ));
        }
    };
    if matches!(
        follow,
        Follow::Failed {
            retryable: true,
            ..
        }
    ) {
        release_claim(ctx, write).await;
    } else {
        settle_claim(ctx, write, &answer.describe()).await;
    }
    Recorded::Followed(follow)
}

/// Records the claim as answered: a later delivery of the same message does nothing.
async fn settle_claim(ctx: &WriterContext<'_>, write: &MallWrite, answered: &str) {
    let answer = StoredAnswer {
        status: 200,
        body: answered.to_owned(),
    };
    let now = ctx.clock.now();
    if let Err(e) = ctx
        .claims
        .record_answer(&write.claim_key(), CLAIM_FINGERPRINT, &answer, now)
        .await
    {
        // The order is settled: a repeat finds it not owed and does nothing either.
        tracing::warn!(order = %write.order_id(), error = %e, "could not record a settled write's claim");
    }
}

/// Gives the claim back, so the queue's next delivery sends the write.
async fn release_claim(ctx: &WriterContext<'_>, write: &MallWrite) {
    if let Err(e) = ctx.claims.release(&write.claim_key()).await {
        // The claim's lease ends on its own; the next delivery after that sends it.
        tracing::warn!(order = %write.order_id(), error = %e, "could not give a write's claim back");
    }
}

/// Orders among `owed` (ids of orders owing a write for longer than [`WRITE_AGAIN_AFTER`])
/// whose write is queued again: read, since the owed index holds only the id.
pub async fn stuck_writes(
    orders: &dyn OrderStore,
    store: &StoreRef,
    owed: Vec<String>,
) -> Result<Vec<MallWrite>, StoreError> {
    let mut writes = Vec::with_capacity(owed.len());
    for mall_order_id in owed {
        if let Some(order) = orders
            .get_order(&OrderId::new(store, &mall_order_id))
            .await?
            && let Some(write) = MallWrite::owed_by(&order)
        {
            writes.push(write);
        }
    }
    Ok(writes)
}

/// `at - WRITE_AGAIN_AFTER`: writes owed since before this are queued again.
pub fn stuck_since(at: JstInstant) -> JstInstant {
    at.checked_sub(WRITE_AGAIN_AFTER).unwrap_or(at)
}

/// What the mall said to one write, or why it could not be asked.
#[derive(Clone, Debug)]
enum Answer {
    Mall(AckOutcome),
    Failed { reason: String, retryable: bool },
}

/// What recording an answer did, for the report.
#[derive(Clone, Debug)]
enum Follow {
    Acknowledged {
        /// `false`: the mall had moved on already.
        needed: bool,
    },
    Failed {
        mall_order_id: String,
        reason: String,
        retryable: bool,
    },
    Cancelled(OrderId),
    CancelRequested(OrderId),
}

/// Records the mall's answer on the order. The order follows the mall: a cancellation the
/// mall reports cancels it (or, once shipped, is left to a person in the history), a cancel
/// request holds it.
fn apply_answer(order: &mut Order, answer: &Answer, now: JstInstant) -> Follow {
    log_mall_write(order, answer, now);
    let record = |order: &mut Order, event: &str, change: String| {
        order.history.push(HistoryEntry {
            at: now,
            event: event.to_owned(),
            changes: vec![change],
        });
    };
    match answer {
        Answer::Mall(AckOutcome::Accepted) => {
            order.mall_sync.record_attempt(SyncState::Done, now);
            Follow::Acknowledged { needed: true }
        }
        Answer::Mall(AckOutcome::NotNeeded { .. }) => {
            order.mall_sync.record_attempt(SyncState::Done, now);
            Follow::Acknowledged { needed: false }
        }
        Answer::Mall(AckOutcome::Cancelled { reason }) => {
            order.mall_sync.record_attempt(SyncState::Done, now);
            let before = order.status;
            match order.apply(StatusEvent::Cancelled) {
                Ok(()) => record(
                    order,
                    "cancelled_on_mall",
                    format!("status: {before} → cancelled ({reason})"),
                ),
                Err(_) => {
                    // Shipped already: a person handles the refund or return, as when the
                    // open-orders sync finds it (`crate::follow`).
                    order.holds.push(Hold::new(
                        HoldKind::ChangedOnMall,
                        None,
                        format!(
                            "the mall cancelled this order after it was {before}: handle the refund or return ({reason})"
                        ),
                    ));
                    record(
                        order,
                        "cancelled_on_mall",
                        format!(
                            "the mall reports the order cancelled but it is {before}: a person must check ({reason})"
                        ),
                    )
                }
            }
            Follow::Cancelled(order.id.clone())
        }
        Answer::Mall(AckOutcome::CancelRequested { reason }) => {
            order.mall_sync.record_attempt(SyncState::Done, now);
            if !order.has_hold(HoldKind::CancelRequested) {
                let hold = Hold::new(
                    HoldKind::CancelRequested,
                    None,
                    format!("the buyer asked the mall to cancel ({reason})"),
                );
                let before = order.status;
                if order.status.is_before_shipment() {
                    if let Err(e) = order.place_hold(hold) {
                        tracing::error!(order = %order.id, error = %e, "could not hold an order with a cancel request");
                    }
                } else {
                    order.holds.push(hold);
                }
                record(
                    order,
                    "cancel_requested_on_mall",
                    format!(
                        "holds: + cancel_requested; status: {before} → {}",
                        order.status
                    ),
                );
            }
            Follow::CancelRequested(order.id.clone())
        }
        Answer::Mall(AckOutcome::Rejected { reason }) => {
            let state = SyncState::Failed {
                reason: reason.clone(),
                retryable: false,
            };
            order.mall_sync.record_attempt(state, now);
            Follow::Failed {
                mall_order_id: order.mall_order_id.clone(),
                reason: reason.clone(),
                retryable: false,
            }
        }
        Answer::Failed { reason, retryable } => {
            let state = SyncState::Failed {
                reason: reason.clone(),
                retryable: *retryable,
            };
            order.mall_sync.record_attempt(state, now);
            Follow::Failed {
                mall_order_id: order.mall_order_id.clone(),
                reason: reason.clone(),
                retryable: *retryable,
            }
        }
    }
}

/// History event of the write log: what ichigen sent the mall for this order and what the
/// mall answered.
pub const MALL_WRITE: &str = "mall_write";

impl Answer {
    /// The answer in words, as the write log and the idempotency record keep it.
    fn describe(&self) -> String {
        match self {
            Answer::Mall(AckOutcome::Accepted) => "accepted".to_owned(),
            Answer::Mall(AckOutcome::NotNeeded { reason }) => format!("not needed: {reason}"),
            Answer::Mall(AckOutcome::Cancelled { reason }) => {
                format!("the mall says the order is cancelled: {reason}")
            }
            Answer::Mall(AckOutcome::CancelRequested { reason }) => {
                format!("the mall says the buyer asked to cancel: {reason}")
            }
            Answer::Mall(AckOutcome::Rejected { reason }) => {
                format!("refused for good (waits for a person): {reason}")
            }
            Answer::Failed {
                reason,
                retryable: true,
            } => format!("not delivered (sent again): {reason}"),
            Answer::Failed {
                reason,
                retryable: false,
            } => format!("failed (waits for a person): {reason}"),
        }
    }
}

/// Adds the write and the mall's answer to the order's write log (its history). The same
/// answer again (the mall still unavailable, run after run) is not repeated: the log says
/// when it started, the sync state counts the attempts.
fn log_mall_write(order: &mut Order, answer: &Answer, now: JstInstant) {
    let operation = order
        .mall_sync
        .operation
        .clone()
        .unwrap_or_else(|| "acknowledgement".to_owned());
    let answered = answer.describe();
    let line = format!("{operation}: {answered}");
    let repeated = order
        .history
        .iter()
        .rev()
        .find(|entry| entry.event == MALL_WRITE)
        .is_some_and(|entry| entry.changes.first() == Some(&line));
    if !repeated {
        order.history.push(HistoryEntry {
            at: now,
            event: MALL_WRITE.to_owned(),
            changes: vec![line],
        });
    }
}
