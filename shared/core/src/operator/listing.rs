//! Listing and searching orders: from the table's time-ordered lists (one per store and
//! status, one per store for held orders), merged in one stable order (order time, then id),
//! paged with a cursor that is a position in that order.
//!
//! A position is `<ordered_at>#<order id>`, the same text the indexes sort by, so "after the
//! cursor" means the same thing to every list and to the merge: pages never repeat an order
//! and never skip one, whatever is imported meanwhile (a new order appears on the page its
//! time puts it on).

use std::collections::VecDeque;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::OperatorError;
use crate::hold::{Hold, HoldKind};
use crate::order::{MallId, Order, OrderId, StoreRef};
use crate::ports::{OrderIndex, OrderList, StoreConfigs};
use crate::status::OrderStatus;
use crate::time::JstInstant;

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: usize = 500;

/// Every status, for a listing that names none.
const ALL_STATUSES: [OrderStatus; 7] = [
    OrderStatus::Imported,
    OrderStatus::AwaitingPayment,
    OrderStatus::ReadyToShip,
    OrderStatus::Shipped,
    OrderStatus::Completed,
    OrderStatus::OnHold,
    OrderStatus::Cancelled,
];

/// The order's place in every list: order time, then id.
pub fn list_position(ordered_at: &JstInstant, id: &OrderId) -> String {
    format!("{ordered_at}#{id}")
}

/// What to list. Every filter is optional; `hold` lists only held orders (of that kind).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderFilter {
    pub store: Option<StoreRef>,
    pub mall: Option<MallId>,
    pub status: Option<OrderStatus>,
    /// Only orders with holds; of this kind when given.
    pub held: bool,
    pub hold_kind: Option<HoldKind>,
    /// Ordered at or after.
    pub from: Option<JstInstant>,
    /// Ordered before.
    pub to: Option<JstInstant>,
}

/// Where the next page starts: after this position. Opaque to callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    pub ordered_at: JstInstant,
    pub id: OrderId,
}

#[derive(Debug, thiserror::Error)]
#[error("cursor is not one this API issued: {0}")]
pub struct BadCursor(&'static str);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CursorBody {
    after: String,
}

impl OrderCursor {
    pub fn of(order: &Order) -> Self {
        Self {
            ordered_at: order.ordered_at,
            id: order.id.clone(),
        }
    }

    pub fn position(&self) -> String {
        list_position(&self.ordered_at, &self.id)
    }

    /// base64url of `{"after": <position>}`.
    pub fn encode(&self) -> String {
        let body = serde_json::json!({ "after": self.position() });
        URL_SAFE_NO_PAD.encode(body.to_string())
    }

    /// Reads a cursor back; anything this API did not issue (edited, truncated) is refused.
    pub fn decode(text: &str) -> Result<Self, BadCursor> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| BadCursor("not base64url"))?;
        let body: CursorBody =
            serde_json::from_slice(&bytes).map_err(|_| BadCursor("not a cursor body"))?;
        let (at, id) = body.after.split_once('#').ok_or(BadCursor("no position"))?;
        let ordered_at: JstInstant = at.parse().map_err(|_| BadCursor("no order time"))?;
        let id: OrderId = id.parse().map_err(|_| BadCursor("no order id"))?;
        let cursor = Self { ordered_at, id };
        // The canonical form only: a cursor re-encoded by hand reads differently.
        if cursor.position() != body.after || cursor.encode() != text {
            return Err(BadCursor("not in canonical form"));
        }
        Ok(cursor)
    }
}

/// One line as a picking list needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PickLine {
    pub sku: Option<String>,
    pub seller_sku: Option<String>,
    pub name: String,
    pub quantity: u32,
}

/// An order in a list: what a picking list and an operator's overview need, and no personal
/// data (names, addresses and phones are only in the one-order view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: OrderId,
    pub store: StoreRef,
    pub mall_order_id: String,
    pub ordered_at: JstInstant,
    pub status: OrderStatus,
    pub holds: Vec<Hold>,
    pub lines: Vec<PickLine>,
    pub carrier: Option<String>,
    pub desired_date: Option<Date>,
    pub time_slot: Option<String>,
    pub mall_sync: String,
    pub version: u64,
}

impl OrderSummary {
    pub fn of(order: &Order) -> Self {
        Self {
            id: order.id.clone(),
            store: order.store.clone(),
            mall_order_id: order.mall_order_id.clone(),
            ordered_at: order.ordered_at,
            status: order.status,
            holds: order.holds.clone(),
            lines: order
                .lines()
                .map(|l| PickLine {
                    sku: l.sku.clone(),
                    seller_sku: l.seller_sku.clone(),
                    name: l.name.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            carrier: order.delivery.carrier.clone(),
            desired_date: order.delivery.desired_date,
            time_slot: order
                .delivery
                .time_slot
                .as_ref()
                .map(|s| s.mapped.clone().unwrap_or_else(|| s.raw.clone())),
            mall_sync: order.mall_sync.state.as_str().to_owned(),
            version: order.version,
        }
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<OrderCursor>,
}

impl OrderFilter {
    fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| order.status == s)
            && (!self.held || !order.holds.is_empty())
            && self.hold_kind.is_none_or(|kind| order.has_hold(kind))
    }

    fn lists(&self, stores: &[StoreRef]) -> Vec<OrderList> {
        let held = self.held || self.hold_kind.is_some();
        stores
            .iter()
            .flat_map(|store| -> Vec<OrderList> {
                if held {
                    vec![OrderList::WithHolds(store.clone())]
                } else if let Some(status) = self.status {
                    vec![OrderList::InStatus(store.clone(), status)]
                } else {
                    ALL_STATUSES
                        .iter()
                        .map(|s| OrderList::InStatus(store.clone(), *s))
                        .collect()
                }
            })
            .collect()
    }
}

/// Lists orders matching `filter` after `cursor`, at most `limit`, in (order time, id)
/// order, across the shop's stores (or the one store named).
/// The stores a list covers: the one asked for (which must exist), or every store of the
/// shop (of one mall, when asked).
pub(crate) async fn stores_in_scope(
    configs: &dyn StoreConfigs,
    store: Option<&StoreRef>,
    mall: Option<MallId>,
) -> Result<Vec<StoreRef>, OperatorError> {
    match store {
        Some(store) => {
            if configs.get_store_config(store).await?.is_none() {
                return Err(OperatorError::UnknownStore(store.to_string()));
            }
            Ok(vec![store.clone()])
        }
        None => Ok(configs
            .list_store_configs()
            .await?
            .into_iter()
            .map(|c| c.store)
            .filter(|s| mall.is_none_or(|m| s.mall == m))
            .collect()),
    }
}

pub async fn list_orders(
    index: &dyn OrderIndex,
    configs: &dyn StoreConfigs,
    filter: &OrderFilter,
    cursor: Option<&OrderCursor>,
    limit: usize,
) -> Result<OrderPage, OperatorError> {
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(OperatorError::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        return Err(OperatorError::invalid("to", "must be after from"));
    }
    let stores = stores_in_scope(configs, filter.store.as_ref(), filter.mall).await?;
    if filter
        .mall
        .is_some_and(|m| stores.iter().any(|s| s.mall != m))
    {
        return Err(OperatorError::invalid("mall", "does not match the store"));
    }

    // Start after the cursor, or just before `from` (a position with the bare time sorts
    // before every order at that time).
    let start = match (cursor, filter.from) {
        (Some(c), Some(from)) if c.ordered_at < from => Some(from.to_string()),
        (Some(c), _) => Some(c.position()),
        (None, Some(from)) => Some(from.to_string()),
        (None, None) => None,
    };

    let lists = filter.lists(&stores);
    // Each list is read in chunks as the merge needs it: a page costs about `limit` reads
    // plus one chunk per list, however many lists there are.
    let chunk = (limit / lists.len().max(1) + 1).clamp(MIN_CHUNK, limit.max(MIN_CHUNK));
    let mut readers: Vec<ListReader> = lists
        .into_iter()
        .map(|list| ListReader {
            list,
            after: start.clone(),
            buffer: VecDeque::new(),
            exhausted: false,
        })
        .collect();
    let mut orders = Vec::new();
    while orders.len() < limit {
        let refills = readers
            .iter_mut()
            .filter(|r| r.buffer.is_empty() && !r.exhausted)
            .map(|r| r.refill(index, filter, chunk));
        for refill in futures::future::join_all(refills).await {
            refill?;
        }
        let next = readers
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.buffer.front().map(|(position, _)| (i, position)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i);
        let Some(i) = next else { break };
        if let Some((_, order)) = readers[i].buffer.pop_front() {
            orders.push(order);
        }
    }
    let more = readers.iter().any(|r| !r.buffer.is_empty() || !r.exhausted);
    let next = if more {
        orders.last().map(OrderCursor::of)
    } else {
        None
    };
    Ok(OrderPage { orders, next })
}

/// The smallest chunk one list is read in.
const MIN_CHUNK: usize = 10;

/// One list being merged: what was read and not yet taken, and where reading goes on.
struct ListReader {
    list: OrderList,
    after: Option<String>,
    buffer: VecDeque<(String, Order)>,
    exhausted: bool,
}

impl ListReader {
    /// Reads until a matching order is buffered or the list ends.
    async fn refill(
        &mut self,
        index: &dyn OrderIndex,
        filter: &OrderFilter,
        chunk: usize,
    ) -> Result<(), OperatorError> {
        while self.buffer.is_empty() && !self.exhausted {
            let batch = index
                .list_orders(&self.list, self.after.as_deref(), filter.to, chunk)
                .await?;
            self.exhausted = batch.len() < chunk;
            for order in batch {
                let position = list_position(&order.ordered_at, &order.id);
                self.after = Some(position.clone());
                if filter.matches(&order) {
                    self.buffer.push_back((position, order));
                }
            }
        }
        Ok(())
    }
}
