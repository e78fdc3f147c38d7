//! Failed mall writes, as an operator sees them: the orders whose write to the mall (today the
//! post-import acknowledgement, e.g. Rakuten `confirmOrder`) the mall refused for good. They
//! wait for a person: listed with the mall's message, and retried one by one, which makes the
//! write owed again and queues it for the mall-writer ([`crate::mall_write`]).

use serde::{Deserialize, Serialize};

use super::listing::{MAX_PAGE_SIZE, OrderCursor, list_position, stores_in_scope};
use super::{OperatorError, OrderDesk, change_order, check_actor, history};
use crate::mall_write::{MallWrite, MallWriteQueue};
use crate::order::{Order, OrderId, StoreRef};
use crate::ports::{OrderIndex, StoreConfigs};
use crate::status::SyncState;
use crate::time::JstInstant;

/// History event of a refused mall write a person asked to send again.
pub const MALL_WRITE_RETRIED: &str = "mall_write_retried";

/// Since when the order's mall write is in its current state (the owed and failed indexes
/// sort by it): its last change, or the import for an order never written.
pub fn write_since(order: &Order) -> JstInstant {
    order.mall_sync.updated_at.unwrap_or(order.imported_at)
}

/// The order's place among its store's owed or failed writes: since when, then id. Same
/// text form as an order list position, so the same cursor serves.
pub fn mall_write_position(order: &Order) -> String {
    list_position(&write_since(order), &order.id)
}

/// A write's state in words, telling a failure ichigen retries on its own from a refusal.
pub fn describe(state: &SyncState) -> &'static str {
    match state {
        SyncState::Failed {
            retryable: true, ..
        } => "failed and is sent again on its own",
        other => other.as_str(),
    }
}

/// One refused write, with what an operator needs to decide (no personal data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedWrite {
    pub store: StoreRef,
    pub order_id: OrderId,
    pub mall_order_id: String,
    /// The mall operation that was refused (`confirmOrder` …).
    pub operation: Option<String>,
    /// The mall's message.
    pub message: String,
    pub attempts: u32,
    /// When the mall refused it.
    pub since: JstInstant,
}

impl FailedWrite {
    /// `None` for an order whose write is not (or no longer) refused for good.
    pub fn of(order: &Order) -> Option<Self> {
        let message = order.mall_sync.refused_for_good()?;
        Some(Self {
            store: order.store.clone(),
            order_id: order.id.clone(),
            mall_order_id: order.mall_order_id.clone(),
            operation: order.mall_sync.operation.clone(),
            message: message.to_owned(),
            attempts: order.mall_sync.attempts,
            since: write_since(order),
        })
    }

    fn cursor(&self) -> OrderCursor {
        OrderCursor {
            ordered_at: self.since,
            id: self.order_id.clone(),
        }
    }
}

/// One page of failed writes.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedWritePage {
    pub writes: Vec<FailedWrite>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<OrderCursor>,
}

/// Failed writes of one store (or every store), oldest failure first, after `cursor`, at most
/// `limit`. Each store's index partition is read once per page and the stores merged by
/// position, so pages neither repeat nor skip a write.
pub async fn failed_writes(
    index: &dyn OrderIndex,
    configs: &dyn StoreConfigs,
    store: Option<&StoreRef>,
    cursor: Option<&OrderCursor>,
    limit: usize,
) -> Result<FailedWritePage, OperatorError> {
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(OperatorError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let stores = stores_in_scope(configs, store, None).await?;
    let after = cursor.map(OrderCursor::position);
    let mut writes = Vec::new();
    let mut more = false;
    for store in &stores {
        let orders = index
            .failed_mall_writes(store, after.as_deref(), limit)
            .await?;
        // A full read may have left some behind in this store. (An order retried a moment
        // ago may still be read from the lagging index: it counts here, but is not listed.)
        more |= orders.len() >= limit;
        writes.extend(orders.iter().filter_map(FailedWrite::of));
    }
    writes.sort_by_key(|w| w.cursor().position());
    more |= writes.len() > limit;
    writes.truncate(limit);
    let next = if more {
        writes.last().map(FailedWrite::cursor)
    } else {
        None
    };
    Ok(FailedWritePage { writes, next })
}

/// Who asks for a refused write to be sent again.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryWrite {
    pub by: String,
}

/// Makes a refused write owed again (recorded in the history with who asked) and queues it
/// for the mall-writer. A write that is not refused for good is left alone:
/// [`OperatorError::WriteNotFailed`] with its state. When the queue refuses, the write stays
/// owed and the store's import run queues it again within
/// [`crate::mall_write::WRITE_AGAIN_AFTER`].
pub async fn retry_failed_write(
    desk: OrderDesk<'_>,
    writes: &dyn MallWriteQueue,
    id: &OrderId,
    request: &RetryWrite,
) -> Result<Order, OperatorError> {
    check_actor(&request.by)?;
    let order = change_order(desk, id, None, |order, now| {
        let Some(message) = order.mall_sync.refused_for_good().map(str::to_owned) else {
            return Err(OperatorError::WriteNotFailed {
                id: order.id.clone(),
                state: order.mall_sync.state.clone(),
            });
        };
        order.mall_sync.send_again(now);
        let operation = order
            .mall_sync
            .operation
            .clone()
            .unwrap_or_else(|| "the mall write".to_owned());
        order.history.push(history(
            now,
            MALL_WRITE_RETRIED,
            vec![format!(
                "{operation} refused by the mall ({message}) is sent again, asked by {}",
                request.by
            )],
        ));
        Ok(())
    })
    .await?;
    if let Some(write) = MallWrite::owed_by(&order)
        && let Err(e) = writes.enqueue(&[write]).await
    {
        tracing::warn!(order = %order.id, error = %e, "a retried write was not queued; the store's import run queues it");
    }
    Ok(order)
}
