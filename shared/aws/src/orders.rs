//! Orders in the shop table (access patterns 1–6 in [`crate::tables`]).
//!
//! An order item holds the order as a DynamoDB map (`order`) **without** its raw mall payload;
//! the payload is gzip-compressed into the binary `raw_gz` (+ `raw_content_type`), which keeps
//! an order far below DynamoDB's 400 KB item limit. Beside them sit the keys and a few small
//! top-level attributes (`version`, `status`, `store`, `mall_sync_state`) that conditions and
//! projections use without reading the map.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use ichigen_core::ports::{OrderStore, StoreError, StoredOrderSummary};
use ichigen_core::status::SyncState;
use ichigen_core::{Order, OrderId, OrderStatus, StoreRef};

use crate::tables::{
    BY_STORE_STATUS, Item, ShopTable, WITH_HOLDS, attr, item_key, keys, unavailable,
};

/// Non-key attribute names of an order item.
mod field {
    pub const ORDER: &str = "order";
    pub const RAW_GZ: &str = "raw_gz";
    pub const RAW_CONTENT_TYPE: &str = "raw_content_type";
    pub const VERSION: &str = "version";
    pub const STATUS: &str = "status";
    pub const STORE: &str = "store";
    pub const MALL_SYNC_STATE: &str = "mall_sync_state";
}

/// BatchGetItem takes at most 100 keys.
const BATCH_GET_MAX: usize = 100;
/// Retries of keys DynamoDB left unprocessed (throttling), with doubling pauses from 50 ms.
const UNPROCESSED_RETRIES: u32 = 8;

#[async_trait]
impl OrderStore for ShopTable {
    async fn create_order(&self, order: &Order) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", attr::PK);
        self.conditional_put(put, order, "create", || {
            StoreError::AlreadyExists(order.id.clone())
        })
        .await
    }

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.get_item(order_key(keys::order_pk(id)), &format!("order {id}"))
            .await?
            .map(order_from_item)
            .transpose()
    }

    async fn update_order(&self, order: &Order, expected_version: u64) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", field::VERSION)
            .expression_attribute_values(":expected", number(expected_version));
        self.conditional_put(put, order, "update", || StoreError::Conflict {
            what: format!("order {}", order.id),
            expected: expected_version.to_string(),
        })
        .await
    }

    async fn find_orders(
        &self,
        ids: &[OrderId],
    ) -> Result<HashMap<OrderId, StoredOrderSummary>, StoreError> {
        let mut seen = HashSet::new();
        let unique: Vec<&OrderId> = ids.iter().filter(|id| seen.insert(*id)).collect();
        let mut found = HashMap::new();
        for chunk in unique.chunks(BATCH_GET_MAX) {
            self.find_chunk(chunk, &mut found).await?;
        }
        Ok(found)
    }
}

impl ShopTable {
    /// Writes the order's item with the put's condition; a failed condition becomes
    /// `on_condition_failed()`, anything else `Unavailable` naming the order.
    async fn conditional_put(
        &self,
        put: PutItemFluentBuilder,
        order: &Order,
        action: &str,
        on_condition_failed: impl FnOnce() -> StoreError,
    ) -> Result<(), StoreError> {
        let item = order_item(order)?;
        match put.table_name(&self.name).set_item(Some(item)).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(on_condition_failed())
            }
            Err(e) => Err(unavailable(
                format!("PutItem ({action}) of order {}", order.id),
                e,
            )),
        }
    }

    /// Orders of `store` in `status`, oldest first (access pattern 5), at most `limit`.
    pub async fn orders_by_status(
        &self,
        store: &StoreRef,
        status: OrderStatus,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let partition = keys::store_status_pk(store, status);
        self.query_index(BY_STORE_STATUS, attr::GSI1PK, partition, limit)
            .await
    }

    /// Orders of `store` that carry holds, oldest first (access pattern 6), at most `limit`.
    pub async fn orders_with_holds(
        &self,
        store: &StoreRef,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.query_index(WITH_HOLDS, attr::GSI2PK, keys::holds_pk(store), limit)
            .await
    }

    async fn query_index(
        &self,
        index: &str,
        partition_attr: &str,
        partition: String,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let operation = || format!("Query {index} for {partition}");
        let mut orders = Vec::new();
        let mut start = None;
        while orders.len() < limit {
            let page = i32::try_from(limit - orders.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(index)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", partition_attr)
                .expression_attribute_values(":p", AttributeValue::S(partition.clone()))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(operation(), e))?;
            for item in out.items.unwrap_or_default() {
                orders.push(order_from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        orders.truncate(limit);
        Ok(orders)
    }

    /// One BatchGetItem of ≤100 keys, retrying what DynamoDB leaves unprocessed.
    async fn find_chunk(
        &self,
        ids: &[&OrderId],
        found: &mut HashMap<OrderId, StoredOrderSummary>,
    ) -> Result<(), StoreError> {
        let by_pk: HashMap<String, &OrderId> =
            ids.iter().map(|id| (keys::order_pk(id), *id)).collect();
        let keys = by_pk.keys().map(|pk| order_key(pk.clone())).collect();
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .projection_expression("#pk, #version, #sync")
            .expression_attribute_names("#pk", attr::PK)
            .expression_attribute_names("#version", field::VERSION)
            .expression_attribute_names("#sync", field::MALL_SYNC_STATE)
            .build()
            .map_err(|e| unavailable("BatchGetItem of orders", e))?;

        let mut pending = Some(request);
        let mut attempt = 0;
        while let Some(request) = pending.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.name, request)
                .send()
                .await
                .map_err(|e| unavailable(format!("BatchGetItem of {} orders", ids.len()), e))?;
            let items = out
                .responses
                .and_then(|mut r| r.remove(&self.name))
                .unwrap_or_default();
            for item in items {
                let (pk, summary) = summary_from_item(&item)?;
                if let Some(id) = by_pk.get(&pk) {
                    found.insert((*id).clone(), summary);
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.name))
                .filter(|k| !k.keys().is_empty());
            if let Some(left) = &pending {
                attempt += 1;
                if attempt > UNPROCESSED_RETRIES {
                    return Err(StoreError::Unavailable {
                        operation: "BatchGetItem of orders".into(),
                        detail: format!(
                            "{} keys still unprocessed after {UNPROCESSED_RETRIES} retries",
                            left.keys().len()
                        ),
                    });
                }
                tracing::debug!(
                    attempt,
                    unprocessed = left.keys().len(),
                    "retrying BatchGetItem"
                );
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
            }
        }
        Ok(())
    }
}

fn order_key(pk: String) -> Item {
    item_key(pk, keys::ORDER_SK)
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn text(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The top-level `mall_sync_state`: the state's name, so a projection can answer "is the
/// acknowledgement outstanding" without the order map.
fn sync_state_name(state: &SyncState) -> &'static str {
    match state {
        SyncState::Idle => "idle",
        SyncState::Pending => "pending",
        SyncState::InFlight => "in_flight",
        SyncState::Done => "done",
        SyncState::Failed { .. } => "failed",
    }
}

/// Mirrors [`ichigen_core::status::MallSync::is_outstanding`] on the stored state name.
fn outstanding(state_name: &str) -> Option<bool> {
    match state_name {
        "pending" | "in_flight" | "failed" => Some(true),
        "idle" | "done" => Some(false),
        _ => None,
    }
}

fn corrupt(key: &str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        detail: detail.into(),
    }
}

/// The order as a table item.
pub(crate) fn order_item(order: &Order) -> Result<Item, StoreError> {
    let pk = keys::order_pk(&order.id);
    let mut body: Item = serde_dynamo::to_item(order)
        .map_err(|e| corrupt(&pk, format!("order does not convert to an item: {e}")))?;
    body.remove("raw");
    let raw_gz = gzip(order.raw.body.as_bytes())
        .map_err(|e| corrupt(&pk, format!("raw payload does not compress: {e}")))?;

    let time_sk = keys::time_sk(&order.ordered_at, &order.id);
    let mut item = HashMap::from([
        (attr::PK.to_owned(), text(pk)),
        (attr::SK.to_owned(), text(keys::ORDER_SK)),
        (field::VERSION.to_owned(), number(order.version)),
        (field::STATUS.to_owned(), text(order.status.as_str())),
        (field::STORE.to_owned(), text(order.store.to_string())),
        (
            field::MALL_SYNC_STATE.to_owned(),
            text(sync_state_name(&order.mall_sync.state)),
        ),
        (
            attr::GSI1PK.to_owned(),
            text(keys::store_status_pk(&order.store, order.status)),
        ),
        (attr::GSI1SK.to_owned(), text(time_sk.clone())),
        (field::ORDER.to_owned(), AttributeValue::M(body)),
        (
            field::RAW_GZ.to_owned(),
            AttributeValue::B(Blob::new(raw_gz)),
        ),
        (
            field::RAW_CONTENT_TYPE.to_owned(),
            text(order.raw.content_type.clone()),
        ),
    ]);
    // Sparse: only orders with holds appear in `with_holds`.
    if !order.holds.is_empty() {
        item.insert(attr::GSI2PK.to_owned(), text(keys::holds_pk(&order.store)));
        item.insert(attr::GSI2SK.to_owned(), text(time_sk));
    }
    Ok(item)
}

/// The order back from a table item (from the table or a GSI projecting ALL).
pub(crate) fn order_from_item(mut item: Item) -> Result<Order, StoreError> {
    let key = match item.get(attr::PK) {
        Some(AttributeValue::S(pk)) => pk.clone(),
        _ => return Err(corrupt("<order item without pk>", "missing pk")),
    };
    let Some(AttributeValue::M(mut body)) = item.remove(field::ORDER) else {
        return Err(corrupt(&key, "missing the order map"));
    };
    let Some(AttributeValue::B(raw_gz)) = item.remove(field::RAW_GZ) else {
        return Err(corrupt(&key, "missing raw_gz"));
    };
    let Some(AttributeValue::S(content_type)) = item.remove(field::RAW_CONTENT_TYPE) else {
        return Err(corrupt(&key, "missing raw_content_type"));
    };
    let raw_body = gunzip(raw_gz.as_ref())
        .map_err(|e| corrupt(&key, format!("raw_gz is not gzip-compressed UTF-8: {e}")))?;
    body.insert(
        "raw".to_owned(),
        AttributeValue::M(HashMap::from([
            ("content_type".to_owned(), text(content_type)),
            ("body".to_owned(), text(raw_body)),
        ])),
    );
    let order: Order = serde_dynamo::from_item(body)
        .map_err(|e| corrupt(&key, format!("order map does not read back: {e}")))?;
    if keys::order_pk(&order.id) != key {
        return Err(corrupt(&key, format!("holds order {} instead", order.id)));
    }
    Ok(order)
}

/// `(pk, summary)` from an item projected to `pk, version, mall_sync_state`.
fn summary_from_item(item: &Item) -> Result<(String, StoredOrderSummary), StoreError> {
    let Some(AttributeValue::S(pk)) = item.get(attr::PK) else {
        return Err(corrupt("<order item without pk>", "missing pk"));
    };
    let version = match item.get(field::VERSION) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| corrupt(pk, "missing or non-integer version"))?;
    let acknowledgement_outstanding = match item.get(field::MALL_SYNC_STATE) {
        Some(AttributeValue::S(state)) => outstanding(state),
        _ => None,
    }
    .ok_or_else(|| corrupt(pk, "missing or unknown mall_sync_state"))?;
    Ok((
        pk.clone(),
        StoredOrderSummary {
            version,
            acknowledgement_outstanding,
        },
    ))
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn gunzip(bytes: &[u8]) -> std::io::Result<String> {
    let mut text = String::new();
    GzDecoder::new(bytes).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ichigen_core::status::MallSync;

    #[test]
    fn outstanding_mirrors_the_core() {
        let states = [
            SyncState::Idle,
            SyncState::Pending,
            SyncState::InFlight,
            SyncState::Done,
            SyncState::Failed {
                reason: "x".into(),
                retryable: false,
            },
        ];
        for state in states {
            let sync = MallSync {
                operation: None,
                state,
                attempts: 0,
                updated_at: None,
            };
            assert_eq!(
                outstanding(sync_state_name(&sync.state)),
                Some(sync.is_outstanding())
            );
        }
    }

    #[test]
    fn gzip_round_trips_japanese_text() {
        let text = "注文者：山田 太郎 🎁";
        assert_eq!(gunzip(&gzip(text.as_bytes()).unwrap()).unwrap(), text);
    }
}
