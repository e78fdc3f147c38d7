//! Idempotency keys of the shop API's writes (access pattern 13 in [`crate::tables`]).
//!
//! The first request with a key claims it with a conditional put (`attribute_not_exists`),
//! acts, and records its answer on the same item; a retry finds the item and gets the stored
//! answer, so it never acts twice. The item carries `expires_at` (epoch seconds, 24 hours
//! after the claim), the table's TTL attribute: DynamoDB deletes it some time after that, and
//! until it does an expired item counts as absent.
//!
//! A claim without an answer is a lease of [`CLAIM_LEASE`]: a request that died before
//! answering (a timeout, a crash) does not block its key for a day; a retry after the lease
//! acts again (the order's version, the status machine and import-once make that safe).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use ichigen_core::JstInstant;
use ichigen_core::ports::{IdempotencyClaim, IdempotencyStore, StoreError, StoredAnswer};

use crate::tables::{Item, ShopTable, item_key, keys, put_error, unavailable};

/// How long a key and its answer are kept.
pub const KEEP_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// How long an unanswered claim holds its key: longer than the function's timeout (29 s).
pub const CLAIM_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// The table's TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";

mod field {
    pub const FINGERPRINT: &str = "fingerprint";
    pub const CLAIMED_AT: &str = "claimed_at";
    pub const ANSWER_STATUS: &str = "answer_status";
    pub const ANSWER_BODY: &str = "answer_body";
}

fn epoch(at: JstInstant) -> i64 {
    at.timestamp().as_second()
}

fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

fn key(idempotency_key: &str) -> Item {
    item_key(keys::idempotency_pk(idempotency_key), keys::IDEMPOTENCY_SK)
}

/// What a stored claim says to a new request with the same key.
fn claim_from_item(item: &Item, fingerprint: &str) -> IdempotencyClaim {
    if text(item, field::FINGERPRINT).as_deref() != Some(fingerprint) {
        return IdempotencyClaim::OtherRequest;
    }
    let status = match item.get(field::ANSWER_STATUS) {
        Some(AttributeValue::N(n)) => n.parse::<u16>().ok(),
        _ => None,
    };
    match (status, text(item, field::ANSWER_BODY)) {
        (Some(status), Some(body)) => IdempotencyClaim::Answered(StoredAnswer { status, body }),
        _ => IdempotencyClaim::InProgress,
    }
}

#[async_trait]
impl IdempotencyStore for ShopTable {
    async fn claim(
        &self,
        idempotency_key: &str,
        fingerprint: &str,
        now: JstInstant,
    ) -> Result<IdempotencyClaim, StoreError> {
        let expires_at = now
            .checked_add(KEEP_FOR)
            .map(epoch)
            .unwrap_or_else(|_| epoch(now));
        let mut item = key(idempotency_key);
        item.insert(
            field::FINGERPRINT.to_owned(),
            AttributeValue::S(fingerprint.to_owned()),
        );
        item.insert(
            EXPIRES_AT.to_owned(),
            AttributeValue::N(expires_at.to_string()),
        );
        item.insert(
            field::CLAIMED_AT.to_owned(),
            AttributeValue::N(epoch(now).to_string()),
        );
        let lease_start = now
            .checked_sub(CLAIM_LEASE)
            .map(epoch)
            .unwrap_or_else(|_| epoch(now));
        let put = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(#pk) OR #exp < :now \
                 OR (attribute_not_exists(#answer) AND #claimed < :lease_start)",
            )
            .expression_attribute_names("#pk", crate::tables::attr::PK)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_names("#answer", field::ANSWER_STATUS)
            .expression_attribute_names("#claimed", field::CLAIMED_AT)
            .expression_attribute_values(":now", AttributeValue::N(epoch(now).to_string()))
            .expression_attribute_values(":lease_start", AttributeValue::N(lease_start.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(IdempotencyClaim::Claimed),
            Err(e) => {
                let existing = e.as_service_error().and_then(|e| match e {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                        Some(c.item.clone().unwrap_or_default())
                    }
                    _ => None,
                });
                match existing {
                    Some(item) => Ok(claim_from_item(&item, fingerprint)),
                    None => Err(put_error("PutItem of an idempotency key".to_owned(), e)),
                }
            }
        }
    }

    async fn record_answer(
        &self,
        idempotency_key: &str,
        fingerprint: &str,
        answer: &StoredAnswer,
        _now: JstInstant,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key(idempotency_key)))
            .update_expression("SET #status = :status, #body = :body")
            .condition_expression("#fp = :fp")
            .expression_attribute_names("#status", field::ANSWER_STATUS)
            .expression_attribute_names("#body", field::ANSWER_BODY)
            .expression_attribute_names("#fp", field::FINGERPRINT)
            .expression_attribute_values(":status", AttributeValue::N(answer.status.to_string()))
            .expression_attribute_values(":body", AttributeValue::S(answer.body.clone()))
            .expression_attribute_values(":fp", AttributeValue::S(fingerprint.to_owned()))
            .send()
            .await
            .map_err(|e| put_error("UpdateItem of an idempotency answer".to_owned(), e))?;
        Ok(())
    }

    async fn release(&self, idempotency_key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key(idempotency_key)))
            .send()
            .await
            .map_err(|e| unavailable("DeleteItem of an idempotency key", e))?;
        Ok(())
    }
}
