//! The time-ordered order lists (access patterns 5, 6 and 15 in [`crate::tables`]) as the
//! [`OrderIndex`] port: one Query of one index partition per page, never a Scan.
//!
//! Index sort keys are list positions (`<ordered_at>#<order id>`,
//! [`ichigen_core::operator::list_position`]), so "after a position" is a key condition, and
//! a page of any list continues exactly where the caller's cursor stopped.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::order::RawPayload;
use ichigen_core::ports::{OrderIndex, OrderList, OrderStore, StoreError};
use ichigen_core::{JstInstant, Order, OrderId, StoreRef};

use crate::orders::order_from_item;
use crate::tables::{
    BY_STORE_STATUS, Item, MALL_SYNC_OWED, ShopTable, WITH_HOLDS, attr, keys, unavailable,
};

/// The index, its key attributes and the partition of one list.
fn list_partition(list: &OrderList) -> (&'static str, &'static str, &'static str, String) {
    match list {
        OrderList::InStatus(store, status) => (
            BY_STORE_STATUS,
            attr::GSI1PK,
            attr::GSI1SK,
            keys::store_status_pk(store, *status),
        ),
        OrderList::WithHolds(store) => (
            WITH_HOLDS,
            attr::GSI2PK,
            attr::GSI2SK,
            keys::holds_pk(store),
        ),
    }
}

#[async_trait]
impl OrderIndex for ShopTable {
    async fn list_orders(
        &self,
        list: &OrderList,
        after: Option<&str>,
        until: Option<JstInstant>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let (index, partition_attr, sort_attr, partition) = list_partition(list);
        self.query_list(
            index,
            (partition_attr, sort_attr),
            &partition,
            after,
            until,
            limit,
        )
        .await?
        .into_iter()
        .map(order_from_item)
        .collect()
    }

    async fn failed_mall_writes(
        &self,
        store: &StoreRef,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let partition = keys::sync_failed_pk(store);
        let entries = self
            .query_list(
                MALL_SYNC_OWED,
                (attr::GSI3PK, attr::GSI3SK),
                &partition,
                after,
                None,
                limit,
            )
            .await?;
        // The index projects only the mall order id (all the acknowledgement sweep needs):
        // each failed order is read by its key. Refused writes are few, and a page is small.
        let mut orders = Vec::with_capacity(entries.len());
        for entry in entries {
            let id = match entry.get(attr::PK) {
                Some(AttributeValue::S(pk)) => pk
                    .strip_prefix(keys::ORDER_PK_PREFIX)
                    .and_then(|id| id.parse::<OrderId>().ok()),
                _ => None,
            }
            .ok_or_else(|| StoreError::Corrupt {
                key: partition.clone(),
                detail: "an index entry without an order key".to_owned(),
            })?;
            // An order gone meanwhile is skipped; one retried meanwhile (the index lags the
            // table a little) is returned as it is now, and the caller leaves it out.
            if let Some(mut order) = self.get_order(&id).await? {
                order.raw = RawPayload {
                    content_type: String::new(),
                    body: String::new(),
                };
                orders.push(order);
            }
        }
        Ok(orders)
    }
}

impl ShopTable {
    /// Index entries of one list partition in sort-key order, strictly after `after`, before
    /// `until` (a position starting with the bare time sorts before every order at or after
    /// it), at most `limit`.
    async fn query_list(
        &self,
        index: &str,
        (partition_attr, sort_attr): (&str, &str),
        partition: &str,
        after: Option<&str>,
        until: Option<JstInstant>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let until = until.map(|u| u.to_string());
        let operation = || format!("Query {index} for {partition}");
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let page = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
            let mut query = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(index)
                .expression_attribute_names("#p", partition_attr)
                .expression_attribute_values(":p", AttributeValue::S(partition.to_owned()))
                .scan_index_forward(true)
                .limit(page)
                .set_exclusive_start_key(start.take());
            query = match after {
                Some(after) => query
                    .key_condition_expression("#p = :p AND #s > :after")
                    .expression_attribute_names("#s", sort_attr)
                    .expression_attribute_values(":after", AttributeValue::S(after.to_owned())),
                None => query.key_condition_expression("#p = :p"),
            };
            let out = query
                .send()
                .await
                .map_err(|e| unavailable(operation(), e))?;
            for item in out.items.unwrap_or_default() {
                let position = match item.get(sort_attr) {
                    Some(AttributeValue::S(position)) => position.clone(),
                    _ => {
                        return Err(StoreError::Corrupt {
                            key: partition.to_owned(),
                            detail: format!("an index entry without {sort_attr}"),
                        });
                    }
                };
                if until
                    .as_ref()
                    .is_some_and(|u| position.as_str() >= u.as_str())
                {
                    return Ok(items);
                }
                items.push(item);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }
}
