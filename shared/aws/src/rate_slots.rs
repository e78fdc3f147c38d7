//! The slots of each store's shared mall rate budget (access pattern 16 in [`crate::tables`]).
//!
//! A slot is claimed with a conditional put (`attribute_not_exists(pk)`): one write per mall
//! request, none read. The item carries `expires_at` an hour after the slot, so the table's
//! TTL deletes it; a slot in the past is never claimed again, so a late deletion is harmless.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::StoreRef;
use ichigen_core::ports::{RateSlots, StoreError};

use crate::idempotency::EXPIRES_AT;
use crate::tables::{ShopTable, attr, item_key, keys, put_error};

/// How long a slot's item stays before the TTL may delete it.
const KEEP_FOR_SECS: u64 = 3600;

#[async_trait]
impl RateSlots for ShopTable {
    async fn claim_slot(
        &self,
        store: &StoreRef,
        lane: &str,
        start_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut item = item_key(keys::rate_pk(store), keys::rate_slot_sk(lane, start_ms));
        item.insert(
            EXPIRES_AT.to_owned(),
            AttributeValue::N((start_ms / 1000 + KEEP_FOR_SECS).to_string()),
        );
        let put = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", attr::PK)
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(put_error(format!("PutItem of a rate slot of {store}"), e)),
        }
    }
}
