//! The time-ordered order lists (access patterns 5 and 6 in [`crate::tables`]) as the
//! [`OrderIndex`] port: one Query of one index partition per page, never a Scan.
//!
//! Index sort keys are list positions (`<ordered_at>#<order id>`,
//! [`ichigen_core::operator::list_position`]), so "after a position" is a key condition, and
//! a page of any list continues exactly where the caller's cursor stopped.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::JstInstant;
use ichigen_core::Order;
use ichigen_core::ports::{OrderIndex, OrderList, StoreError};

use crate::orders::order_from_item;
use crate::tables::{BY_STORE_STATUS, ShopTable, WITH_HOLDS, attr, keys, unavailable};

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
        // A position starting with the bare `until` time sorts before every order at or
        // after it.
        let until = until.map(|u| u.to_string());
        let operation = || format!("Query {index} for {partition}");
        let mut orders = Vec::new();
        let mut start = None;
        while orders.len() < limit {
            let page = i32::try_from(limit - orders.len()).unwrap_or(i32::MAX);
            let mut query = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(index)
                .expression_attribute_names("#p", partition_attr)
                .expression_attribute_values(":p", AttributeValue::S(partition.clone()))
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
                            key: partition.clone(),
                            detail: format!("an index entry without {sort_attr}"),
                        });
                    }
                };
                if until
                    .as_ref()
                    .is_some_and(|u| position.as_str() >= u.as_str())
                {
                    return Ok(orders);
                }
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
}
