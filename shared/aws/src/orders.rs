//! Orders in the shop table (access patterns 1–6, 9 and 15 in [`crate::tables`]).
//!
//! An order item holds the order gzip-compressed as JSON in `order_gz` (**without** its raw
//! mall payload) and the raw payload gzip-compressed in `raw_gz` (+ `raw_content_type`): the
//! parts that grow (remarks, many lines, the payload) compress well, which keeps an order far
//! below DynamoDB's 400 KB item limit. Beside them sit the keys and a few small top-level
//! attributes (`version`, `status`, `store`, `mall_order_id`, `mall_sync_state`,
//! `mall_sync_owed`) that conditions and projections use without decompressing anything.
//!
//! The item's encoded size is checked before every write: an order that would still exceed
//! the limit gets [`StoreError::TooLarge`] (the import quarantines it), never a retry loop.
//! A `ValidationException` from DynamoDB is [`StoreError::Rejected`], for the same reason.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use ichigen_core::ports::{OrderStore, StoreError, StoredOrderSummary};
use ichigen_core::{JstInstant, Order, OrderId, OrderStatus, StoreRef};

use crate::tables::{
    BY_STORE_STATUS, ITEM_SIZE_LIMIT, Item, MALL_SYNC_OWED, ShopTable, WITH_HOLDS, attr, gunzip,
    gzip, item_key, item_size, keys, put_error, unavailable,
};

/// Non-key attribute names of an order item.
pub(crate) mod field {
    /// The order (without its raw payload) as gzip-compressed JSON.
    pub const ORDER_GZ: &str = "order_gz";
    /// The order as a DynamoDB map: items written before `order_gz` existed. Read only.
    pub const LEGACY_ORDER: &str = "order";
    pub const RAW_GZ: &str = "raw_gz";
    pub const RAW_CONTENT_TYPE: &str = "raw_content_type";
    pub const VERSION: &str = "version";
    pub const STATUS: &str = "status";
    pub const STORE: &str = "store";
    pub const MALL_ORDER_ID: &str = "mall_order_id";
    pub const MALL_SYNC_STATE: &str = "mall_sync_state";
    /// `true` while the order owes the mall a write ichigen sends on its own.
    pub const MALL_SYNC_OWED: &str = "mall_sync_owed";
    /// The mall's status code, so a listing can tell an order moved on the mall.
    pub const MALL_STATUS: &str = "mall_status";
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

    async fn orders_owing_mall_sync(
        &self,
        store: &StoreRef,
        owed_before: JstInstant,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        // `gsi3sk` is `<since>#<order id>`, `since` fixed-width RFC 3339: below the bare
        // instant's text means owed since before it.
        let before = SortBelow {
            attribute: attr::GSI3SK,
            value: owed_before.to_string(),
        };
        let items = self
            .query_items(
                MALL_SYNC_OWED,
                attr::GSI3PK,
                keys::sync_owed_pk(store),
                Some(before),
                limit,
            )
            .await?;
        items
            .into_iter()
            .map(|item| match item.get(field::MALL_ORDER_ID) {
                Some(AttributeValue::S(id)) => Ok(id.clone()),
                _ => Err(corrupt(
                    &keys::sync_owed_pk(store),
                    "an index entry without mall_order_id",
                )),
            })
            .collect()
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
        let bytes = item_size(&item);
        if bytes > ITEM_SIZE_LIMIT {
            return Err(StoreError::TooLarge {
                what: format!("order {} (compressed)", order.id),
                bytes,
                limit: ITEM_SIZE_LIMIT,
            });
        }
        let operation = || format!("PutItem ({action}) of order {}", order.id);
        match put.table_name(&self.name).set_item(Some(item)).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(on_condition_failed())
            }
            Err(e) => Err(put_error(operation(), e)),
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

    /// Orders from an index that projects `order_gz`. List reads carry no raw payload (it is
    /// not projected): `raw` comes back empty; [`OrderStore::get_order`] has it.
    async fn query_index(
        &self,
        index: &str,
        partition_attr: &str,
        partition: String,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.query_items(index, partition_attr, partition, None, limit)
            .await?
            .into_iter()
            .map(order_from_item)
            .collect()
    }

    async fn query_items(
        &self,
        index: &str,
        partition_attr: &str,
        partition: String,
        below: Option<SortBelow>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let operation = || format!("Query {index} for {partition}");
        let mut condition = "#p = :p";
        let mut names = HashMap::from([("#p".to_owned(), partition_attr.to_owned())]);
        let mut values = HashMap::from([(":p".to_owned(), AttributeValue::S(partition.clone()))]);
        if let Some(below) = below {
            condition = "#p = :p AND #s < :s";
            names.insert("#s".to_owned(), below.attribute.to_owned());
            values.insert(":s".to_owned(), AttributeValue::S(below.value));
        }
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let page = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(index)
                .key_condition_expression(condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(operation(), e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(items)
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
            .projection_expression("#pk, #version, #owed, #mall_status")
            .expression_attribute_names("#pk", attr::PK)
            .expression_attribute_names("#version", field::VERSION)
            .expression_attribute_names("#owed", field::MALL_SYNC_OWED)
            .expression_attribute_names("#mall_status", field::MALL_STATUS)
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

fn corrupt(key: &str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        detail: detail.into(),
    }
}

/// The order as a table item.
pub(crate) fn order_item(order: &Order) -> Result<Item, StoreError> {
    let pk = keys::order_pk(&order.id);
    let mut body = serde_json::to_value(order)
        .map_err(|e| corrupt(&pk, format!("order does not serialise: {e}")))?;
    if let Some(map) = body.as_object_mut() {
        map.remove("raw");
    }
    let order_gz = gzip(body.to_string().as_bytes())
        .map_err(|e| corrupt(&pk, format!("order does not compress: {e}")))?;
    let raw_gz = gzip(order.raw.body.as_bytes())
        .map_err(|e| corrupt(&pk, format!("raw payload does not compress: {e}")))?;

    let time_sk = keys::time_sk(&order.ordered_at, &order.id);
    let owed = order.mall_sync.is_outstanding();
    let mut item = HashMap::from([
        (attr::PK.to_owned(), text(pk)),
        (attr::SK.to_owned(), text(keys::ORDER_SK)),
        (field::VERSION.to_owned(), number(order.version)),
        (field::STATUS.to_owned(), text(order.status.as_str())),
        (field::STORE.to_owned(), text(order.store.to_string())),
        (
            field::MALL_ORDER_ID.to_owned(),
            text(order.mall_order_id.clone()),
        ),
        (
            field::MALL_SYNC_STATE.to_owned(),
            text(order.mall_sync.state.as_str()),
        ),
        (field::MALL_SYNC_OWED.to_owned(), AttributeValue::Bool(owed)),
        (
            field::MALL_STATUS.to_owned(),
            text(order.mall_status.code.clone()),
        ),
        (
            attr::GSI1PK.to_owned(),
            text(keys::store_status_pk(&order.store, order.status)),
        ),
        (attr::GSI1SK.to_owned(), text(time_sk.clone())),
        (
            field::ORDER_GZ.to_owned(),
            AttributeValue::B(Blob::new(order_gz)),
        ),
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
    // Sparse: only orders owing the mall a write appear in `mall_sync_owed`, and beside them,
    // in a partition of their own, orders whose write the mall refused for good.
    let sync_partition = if owed {
        Some(keys::sync_owed_pk(&order.store))
    } else if order.mall_sync.refused_for_good().is_some() {
        Some(keys::sync_failed_pk(&order.store))
    } else {
        None
    };
    if let Some(partition) = sync_partition {
        item.insert(attr::GSI3PK.to_owned(), text(partition));
        item.insert(attr::GSI3SK.to_owned(), text(keys::sync_sk(order)));
    }
    Ok(item)
}

/// The order back from a table item, or from an index entry projecting `order_gz` (whose
/// raw payload is then empty).
pub(crate) fn order_from_item(mut item: Item) -> Result<Order, StoreError> {
    let key = match item.get(attr::PK) {
        Some(AttributeValue::S(pk)) => pk.clone(),
        _ => return Err(corrupt("<order item without pk>", "missing pk")),
    };
    let raw = match (
        item.remove(field::RAW_GZ),
        item.remove(field::RAW_CONTENT_TYPE),
    ) {
        (Some(AttributeValue::B(raw_gz)), Some(AttributeValue::S(content_type))) => {
            let body = gunzip(raw_gz.as_ref())
                .map_err(|e| corrupt(&key, format!("raw_gz is not gzip-compressed UTF-8: {e}")))?;
            serde_json::json!({"content_type": content_type, "body": body})
        }
        _ => serde_json::json!({"content_type": "", "body": ""}),
    };
    let order: Order = match (
        item.remove(field::ORDER_GZ),
        item.remove(field::LEGACY_ORDER),
    ) {
        (Some(AttributeValue::B(order_gz)), _) => {
            let text = gunzip(order_gz.as_ref()).map_err(|e| {
                corrupt(&key, format!("order_gz is not gzip-compressed UTF-8: {e}"))
            })?;
            let mut body: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| corrupt(&key, format!("order_gz is not JSON: {e}")))?;
            if let Some(map) = body.as_object_mut() {
                map.insert("raw".to_owned(), raw);
            }
            serde_json::from_value(body)
                .map_err(|e| corrupt(&key, format!("order does not read back: {e}")))?
        }
        (None, Some(AttributeValue::M(mut body))) => {
            let raw: Item = serde_dynamo::to_item(raw)
                .map_err(|e| corrupt(&key, format!("raw payload: {e}")))?;
            body.insert("raw".to_owned(), AttributeValue::M(raw));
            serde_dynamo::from_item(body)
                .map_err(|e| corrupt(&key, format!("order map does not read back: {e}")))?
        }
        _ => return Err(corrupt(&key, "missing order_gz")),
    };
    if keys::order_pk(&order.id) != key {
        return Err(corrupt(&key, format!("holds order {} instead", order.id)));
    }
    Ok(order)
}

/// `(pk, summary)` from an item projected to `pk, version, mall_sync_owed, mall_status`.
fn summary_from_item(item: &Item) -> Result<(String, StoredOrderSummary), StoreError> {
    let Some(AttributeValue::S(pk)) = item.get(attr::PK) else {
        return Err(corrupt("<order item without pk>", "missing pk"));
    };
    let version = match item.get(field::VERSION) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| corrupt(pk, "missing or non-integer version"))?;
    let acknowledgement_outstanding = match item.get(field::MALL_SYNC_OWED) {
        Some(AttributeValue::Bool(owed)) => *owed,
        // Items written before `mall_sync_owed` existed: read as not owed; the next write
        // of the order adds it.
        _ => false,
    };
    let mall_status = match item.get(field::MALL_STATUS) {
        Some(AttributeValue::S(code)) => Some(code.clone()),
        // Written before the attribute existed: unknown, so never taken for a change.
        _ => None,
    };
    Ok((
        pk.clone(),
        StoredOrderSummary {
            version,
            acknowledgement_outstanding,
            mall_status,
        },
    ))
}

/// A sort-key upper bound (exclusive) for a Query.
struct SortBelow {
    attribute: &'static str,
    value: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ichigen_core::status::SyncState;

    #[test]
    fn owed_orders_carry_the_sparse_index_key_and_others_do_not() {
        let mut order: Order = serde_json::from_value(serde_json::json!({
            "id": "rakuten:s:1", "store": "rakuten:s", "mall_order_id": "1",
            "ordered_at": "2026-11-22T10:00:00+09:00",
            "buyer": {"name": "x", "kana": null, "email": null, "phone": null, "address": null},
            "destinations": [], "amounts": {"goods":0,"shipping":0,"cod_fee":0,"payment_fee":0,"gift_wrapping":0,"coupons":0,"coupons_shop_funded":0,"points":0,"total":0,"billed":0,"tax":null},
            "payment": {"method":"credit_card","mall_method_code":"1","mall_method_name":"card","paid_at":null,"due_date":null},
            "delivery": {"mall_method_name":"","carrier":null,"desired_date":null,"time_slot":null},
            "gift": {"is_gift":false,"wrappings":[],"noshi":null}, "notes": null,
            "mall_status": {"code":"100","label":""}, "status": "ready_to_ship", "holds": [],
            "mall_sync": {"operation":"confirmOrder","state":"pending","attempts":0,"updated_at":null},
            "history": [], "version": 1, "imported_at": "2026-11-22T10:00:00+09:00",
            "updated_at": "2026-11-22T10:00:00+09:00", "raw": {"content_type":"application/json","body":"{}"}
        }))
        .unwrap();
        order.mall_sync.state = SyncState::Failed {
            reason: "503".into(),
            retryable: true,
        };
        let item = order_item(&order).unwrap();
        assert!(item.contains_key(attr::GSI3PK));
        assert_eq!(item[field::MALL_SYNC_OWED], AttributeValue::Bool(true));
        order.mall_sync.state = SyncState::Failed {
            reason: "ERROR_105".into(),
            retryable: false,
        };
        let item = order_item(&order).unwrap();
        assert_eq!(
            item[attr::GSI3PK],
            text("SYNCFAILED#rakuten:s"),
            "refused for good"
        );
        assert_eq!(item[field::MALL_SYNC_OWED], AttributeValue::Bool(false));
        assert_eq!(order_from_item(item).unwrap(), order);
        order.mall_sync.state = SyncState::Done;
        let item = order_item(&order).unwrap();
        assert!(
            !item.contains_key(attr::GSI3PK),
            "nothing owed, nothing failed"
        );
    }
}
