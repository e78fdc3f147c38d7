//! The shop's single DynamoDB table: access patterns, keys, and the table definition.
//!
//! One table per shop (its name comes from `ICHIGEN_TABLE`). The access patterns come first;
//! the keys follow from them:
//!
//! | # | access pattern | how |
//! |---|---|---|
//! | 1 | get an order by id | `pk = ORDER#<order id>`, `sk = ORDER` |
//! | 2 | create an order once | PutItem with `attribute_not_exists(pk)` → `AlreadyExists` |
//! | 3 | update with an optimistic version | PutItem with `version = :expected` → `Conflict` |
//! | 4 | which of N ids exist (version, acknowledgement outstanding) | BatchGetItem of ≤100 keys projecting `pk, version, mall_sync_state` |
//! | 5 | orders of store Y in status X by time | GSI `by_store_status`: `gsi1pk = STORE#<store>#STATUS#<status>`, `gsi1sk = <ordered_at>#<order id>` |
//! | 6 | orders with holds per store | sparse GSI `with_holds`: `gsi2pk = HOLDS#<store>` only while holds exist, `gsi2sk = <ordered_at>#<order id>` |
//! | 7 | import checkpoint per store (and the open-orders run's, for a mall that lists its changes) | `pk = STORE#<store>`, `sk = CHECKPOINT#import` (`CHECKPOINT#follow`), conditional on the previous value |
//! | 8 | list and get store configs | `pk = CONFIG`, `sk = STORE#<store>` (one Query lists them all) |
//! | 9 | orders of store Y still owing the mall a write, oldest first | sparse GSI `mall_sync_owed`: `gsi3pk = SYNC#<store>` only while owed, `gsi3sk = <since>#<order id>`, projecting `mall_order_id` |
//! | 10 | a store's failed imports (quarantine) | `pk = STORE#<store>`, `sk = FAILED#<mall order id>` (Query `begins_with`) |
//! | 11 | a store's run status (last run, last success, last error) | `pk = STORE#<store>`, `sk = STATUS#import` |
//! | 12 | a SKU's stock level with its change sequence | `pk = STOCK#<sku>`, `sk = STOCK`; UpdateItem `SET quantity … ADD sequence 1` |
//! | 13 | a write's idempotency key and its answer, kept 24 h | `pk = IDEMPOTENCY#<key>`, `sk = IDEMPOTENCY`; claimed with `attribute_not_exists(pk)`, deleted by the table's TTL on `expires_at` |
//! | 14 | a page of orders after a cursor, by store and status or held, in time order | patterns 5 and 6 with `gsi1sk > :position` (or `gsi2sk`); the cursor is the last position returned |
//! | 15 | a page of store Y's orders whose mall write the mall refused for good, oldest failure first | GSI `mall_sync_owed` in a partition of its own: `gsi3pk = SYNCFAILED#<store>` only while refused, `gsi3sk = <failed at>#<order id>` (`> :position` after a cursor); each order then read by key (pattern 1) |
//! | 16 | one slot of a store's shared mall rate budget, claimed once | `pk = RATE#<store>`, `sk = SLOT#<lane>#<start ms>`; claimed with `attribute_not_exists(pk)`, deleted by the TTL on `expires_at` an hour later |
//!
//! `ordered_at` in sort keys is the RFC 3339 text of a [`JstInstant`], always `+09:00` with a
//! fixed width, so string order is time order.
//!
//! `by_store_status` and `with_holds` project the compressed order (`order_gz`) and the small
//! attributes, not the raw payload: list readers want whole orders but never the mall's
//! payload, and an index entry stays a few KB whatever the payload's size. `mall_sync_owed`
//! projects only the mall order id, which is all the acknowledgement sweep needs. Its
//! `SYNCFAILED#` partitions (pattern 15) reuse it rather than add an index: an order is owed
//! or refused, never both, so one `gsi3pk` serves; the failed list reads its few orders by
//! key instead of widening the projection of every owed entry.
//!
//! [`shop_table`] is the one definition of the table: [`create_table`] builds it locally and a
//! test holds `infra/template.yaml` to it.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use ichigen_core::ports::StoreError;
use ichigen_core::{JstInstant, OrderId, OrderStatus, StoreRef};

use crate::env::{self, EnvError};

/// Attribute names of the keys.
pub mod attr {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const GSI1PK: &str = "gsi1pk";
    pub const GSI1SK: &str = "gsi1sk";
    pub const GSI2PK: &str = "gsi2pk";
    pub const GSI2SK: &str = "gsi2sk";
    pub const GSI3PK: &str = "gsi3pk";
    pub const GSI3SK: &str = "gsi3sk";
}

/// Index names.
pub const BY_STORE_STATUS: &str = "by_store_status";
pub const WITH_HOLDS: &str = "with_holds";
pub const MALL_SYNC_OWED: &str = "mall_sync_owed";

/// DynamoDB's item size limit (400 KB).
pub const ITEM_SIZE_LIMIT: usize = 400 * 1024;

/// Key builders, one per access pattern.
pub mod keys {
    use super::*;

    pub const ORDER_SK: &str = "ORDER";
    pub const ORDER_PK_PREFIX: &str = "ORDER#";
    pub const CHECKPOINT_IMPORT_SK: &str = "CHECKPOINT#import";
    pub const CHECKPOINT_FOLLOW_SK: &str = "CHECKPOINT#follow";
    pub const FAILED_IMPORT_SK_PREFIX: &str = "FAILED#";
    pub const STATUS_IMPORT_SK: &str = "STATUS#import";
    pub const CONFIG_PK: &str = "CONFIG";
    pub const CONFIG_SK_PREFIX: &str = "STORE#";

    /// Pattern 1: an order's partition key.
    pub fn order_pk(id: &OrderId) -> String {
        format!("{ORDER_PK_PREFIX}{id}")
    }

    pub const STOCK_SK: &str = "STOCK";
    pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";

    /// Pattern 12: a SKU's stock item.
    pub fn stock_pk(sku: &str) -> String {
        format!("STOCK#{sku}")
    }

    /// Pattern 13: an idempotency key's item.
    pub fn idempotency_pk(key: &str) -> String {
        format!("IDEMPOTENCY#{key}")
    }

    /// Pattern 16: a store's rate slots.
    pub fn rate_pk(store: &StoreRef) -> String {
        format!("RATE#{store}")
    }

    /// Pattern 16: one slot of a lane.
    pub fn rate_slot_sk(lane: &str, start_ms: u64) -> String {
        format!("SLOT#{lane}#{start_ms}")
    }

    /// Pattern 5: the `by_store_status` partition.
    pub fn store_status_pk(store: &StoreRef, status: OrderStatus) -> String {
        format!("STORE#{store}#STATUS#{status}")
    }

    /// Pattern 6: the `with_holds` partition.
    pub fn holds_pk(store: &StoreRef) -> String {
        format!("HOLDS#{store}")
    }

    /// Patterns 5 and 6: time order, the id breaking ties (the order's list position, so
    /// a cursor is a key condition).
    pub fn time_sk(ordered_at: &JstInstant, id: &OrderId) -> String {
        ichigen_core::operator::list_position(ordered_at, id)
    }

    /// Pattern 9: the `mall_sync_owed` partition.
    pub fn sync_owed_pk(store: &StoreRef) -> String {
        format!("SYNC#{store}")
    }

    /// Patterns 9 and 15: `<since>#<order id>`, since when the write is in its state, so
    /// each partition is oldest first.
    pub fn sync_sk(order: &ichigen_core::Order) -> String {
        ichigen_core::operator::writes::mall_write_position(order)
    }

    /// Pattern 15: the `mall_sync_owed` partition of writes the mall refused for good.
    pub fn sync_failed_pk(store: &StoreRef) -> String {
        format!("SYNCFAILED#{store}")
    }

    /// Pattern 10: a failed import's sort key in the store's partition.
    pub fn failed_import_sk(mall_order_id: &str) -> String {
        format!("{FAILED_IMPORT_SK_PREFIX}{mall_order_id}")
    }

    /// Pattern 7: a store's own partition (its checkpoint lives there).
    pub fn store_pk(store: &StoreRef) -> String {
        format!("STORE#{store}")
    }

    /// Pattern 8: a store config's sort key.
    pub fn config_sk(store: &StoreRef) -> String {
        format!("{CONFIG_SK_PREFIX}{store}")
    }
}

/// The type of a key attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttributeType {
    S,
    N,
    B,
}

impl AttributeType {
    pub fn as_str(&self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttributeDef {
    pub name: String,
    pub kind: AttributeType,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDef {
    pub partition: String,
    pub sort: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectionDef {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDef {
    pub name: String,
    pub key: KeyDef,
    pub projection: ProjectionDef,
}

/// A table as data, so the code and the SAM template can be held to one definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDefinition {
    /// Key attributes of the table and its indexes, sorted by name.
    pub attributes: Vec<AttributeDef>,
    pub key: KeyDef,
    pub indexes: Vec<IndexDef>,
    /// `PAY_PER_REQUEST`: a shop's traffic is bursty and small.
    pub billing_mode: String,
    /// The attribute DynamoDB's TTL deletes items by (epoch seconds).
    pub time_to_live_attribute: Option<String>,
}

/// The shop table: see the module documentation for why each key exists.
pub fn shop_table() -> TableDefinition {
    let s = |name: &str| AttributeDef {
        name: name.to_owned(),
        kind: AttributeType::S,
    };
    let key = |partition: &str, sort: &str| KeyDef {
        partition: partition.to_owned(),
        sort: Some(sort.to_owned()),
    };
    TableDefinition {
        attributes: vec![
            s(attr::GSI1PK),
            s(attr::GSI1SK),
            s(attr::GSI2PK),
            s(attr::GSI2SK),
            s(attr::GSI3PK),
            s(attr::GSI3SK),
            s(attr::PK),
            s(attr::SK),
        ],
        key: key(attr::PK, attr::SK),
        indexes: vec![
            IndexDef {
                name: BY_STORE_STATUS.to_owned(),
                key: key(attr::GSI1PK, attr::GSI1SK),
                projection: ProjectionDef::Include(order_list_attributes()),
            },
            IndexDef {
                name: WITH_HOLDS.to_owned(),
                key: key(attr::GSI2PK, attr::GSI2SK),
                projection: ProjectionDef::Include(order_list_attributes()),
            },
            IndexDef {
                name: MALL_SYNC_OWED.to_owned(),
                key: key(attr::GSI3PK, attr::GSI3SK),
                projection: ProjectionDef::Include(vec![
                    crate::orders::field::MALL_ORDER_ID.to_owned(),
                ]),
            },
        ],
        billing_mode: "PAY_PER_REQUEST".to_owned(),
        // Idempotency records (pattern 13) expire after a day.
        time_to_live_attribute: Some(crate::idempotency::EXPIRES_AT.to_owned()),
    }
}

/// What the order lists project: the compressed order and the small attributes, not the raw
/// payload.
fn order_list_attributes() -> Vec<String> {
    use crate::orders::field;
    [
        field::ORDER_GZ,
        field::VERSION,
        field::STATUS,
        field::STORE,
        field::MALL_ORDER_ID,
        field::MALL_SYNC_STATE,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table definition for {table} is invalid: {detail}")]
    Definition { table: String, detail: String },
    #[error("creating table {table} failed: {detail}")]
    Create { table: String, detail: String },
    #[error("table {table} did not become ACTIVE: {detail}")]
    NotActive { table: String, detail: String },
}

/// How long [`create_table`] waits for ACTIVE (AWS takes seconds; the emulator none).
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates the table unless it exists, then waits until it is ACTIVE.
///
/// An existing table is accepted as it is; its definition is not compared.
pub async fn create_table(
    client: &Client,
    name: &str,
    definition: &TableDefinition,
) -> Result<(), TableError> {
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| TableError::Definition {
        table: name.to_owned(),
        detail: e.to_string(),
    };
    let key_schema = |key: &KeyDef| -> Result<Vec<KeySchemaElement>, TableError> {
        let mut schema = vec![
            KeySchemaElement::builder()
                .attribute_name(&key.partition)
                .key_type(KeyType::Hash)
                .build()
                .map_err(invalid)?,
        ];
        if let Some(sort) = &key.sort {
            schema.push(
                KeySchemaElement::builder()
                    .attribute_name(sort)
                    .key_type(KeyType::Range)
                    .build()
                    .map_err(invalid)?,
            );
        }
        Ok(schema)
    };
    let attributes = definition
        .attributes
        .iter()
        .map(|a| {
            let kind = match a.kind {
                AttributeType::S => ScalarAttributeType::S,
                AttributeType::N => ScalarAttributeType::N,
                AttributeType::B => ScalarAttributeType::B,
            };
            AttributeDefinition::builder()
                .attribute_name(&a.name)
                .attribute_type(kind)
                .build()
                .map_err(invalid)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = definition
        .indexes
        .iter()
        .map(|index| {
            let projection = match &index.projection {
                ProjectionDef::All => Projection::builder().projection_type(ProjectionType::All),
                ProjectionDef::KeysOnly => {
                    Projection::builder().projection_type(ProjectionType::KeysOnly)
                }
                ProjectionDef::Include(names) => Projection::builder()
                    .projection_type(ProjectionType::Include)
                    .set_non_key_attributes(Some(names.clone())),
            };
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_schema(&index.key)?))
                .projection(projection.build())
                .build()
                .map_err(invalid)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let created = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&definition.key)?))
        .set_global_secondary_indexes(Some(indexes))
        .billing_mode(BillingMode::from(definition.billing_mode.as_str()))
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(e) => {
            return Err(TableError::Create {
                table: name.to_owned(),
                detail: DisplayErrorContext(&e).to_string(),
            });
        }
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(ACTIVE_TIMEOUT)
        .await
        .map_err(|e| TableError::NotActive {
            table: name.to_owned(),
            detail: DisplayErrorContext(&e).to_string(),
        })?;
    if let Some(attribute) = &definition.time_to_live_attribute {
        enable_time_to_live(client, name, attribute).await?;
    }
    Ok(())
}

/// Turns on TTL for `attribute`; a table that has it already is left as it is.
async fn enable_time_to_live(
    client: &Client,
    name: &str,
    attribute: &str,
) -> Result<(), TableError> {
    let create_error = |detail: String| TableError::Create {
        table: name.to_owned(),
        detail,
    };
    let current = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| create_error(DisplayErrorContext(&e).to_string()))?;
    let enabled = current.time_to_live_description.is_some_and(|d| {
        d.attribute_name() == Some(attribute)
            && matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if enabled {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(|e| create_error(e.to_string()))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| create_error(DisplayErrorContext(&e).to_string()))?;
    Ok(())
}

/// The shop's table. Implements the order, checkpoint and store-config ports (in
/// [`crate::orders`], [`crate::checkpoints`] and [`crate::store_configs`]).
#[derive(Clone, Debug)]
pub struct ShopTable {
    pub(crate) client: Client,
    pub(crate) name: String,
}

impl ShopTable {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The table named by `ICHIGEN_TABLE`.
    pub fn from_env(sdk: &SdkConfig) -> Result<Self, EnvError> {
        let name = env::required(env::TABLE_VAR, "the shop's DynamoDB table")?;
        Ok(Self::new(Client::new(sdk), name))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A strongly consistent read of one item (orders, checkpoints and configs are all read
    /// right after a conditional write elsewhere may have changed them).
    pub(crate) async fn get_item(&self, key: Item, what: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(format!("GetItem of {what}"), e))?;
        Ok(out.item)
    }

    /// Every item of partition `pk` whose sort key starts with `sk_prefix` (strongly
    /// consistent, all pages): a store's failed imports, the shop's store configs.
    pub(crate) async fn query_prefix(
        &self,
        pk: String,
        sk_prefix: &str,
        what: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_names("#sk", attr::SK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":prefix", AttributeValue::S(sk_prefix.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(format!("Query of {what}"), e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Writes an item unconditionally (the last writer wins: configs, run status, failed
    /// imports).
    pub(crate) async fn put(&self, item: Item, what: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| put_error(format!("PutItem of {what}"), e))?;
        Ok(())
    }
}

/// A DynamoDB item (or key) as the SDK takes it.
pub type Item = std::collections::HashMap<String, AttributeValue>;

/// The primary key of an item.
pub(crate) fn item_key(pk: String, sk: impl Into<String>) -> Item {
    Item::from([
        (attr::PK.to_owned(), AttributeValue::S(pk)),
        (attr::SK.to_owned(), AttributeValue::S(sk.into())),
    ])
}

/// A failed write as a [`StoreError`]: DynamoDB's `ValidationException` (an item it will never
/// take) is [`StoreError::Rejected`], anything else [`StoreError::Unavailable`].
pub(crate) fn put_error<E>(
    operation: String,
    err: aws_sdk_dynamodb::error::SdkError<E>,
) -> StoreError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
{
    let validation = err
        .as_service_error()
        .is_some_and(|e| e.code() == Some("ValidationException"));
    if validation {
        let detail = err
            .as_service_error()
            .and_then(|e| e.message())
            .unwrap_or("ValidationException")
            .to_owned();
        return StoreError::Rejected { operation, detail };
    }
    unavailable(operation, err)
}

/// The size DynamoDB counts for an item: attribute names plus values (numbers counted as
/// their text, a slight over-estimate; maps and lists with their 3-byte overhead).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) | AttributeValue::Ns(v) => v.iter().map(String::len).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::M(m) => 3 + item_size(m) + m.len(),
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        _ => 0,
    }
}

pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

pub(crate) fn gunzip(bytes: &[u8]) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text)?;
    Ok(text)
}

/// An SDK failure as a [`StoreError`], naming the operation but never an item's contents.
pub(crate) fn unavailable<E>(operation: impl Into<String>, err: E) -> StoreError
where
    E: std::error::Error,
{
    StoreError::Unavailable {
        operation: operation.into(),
        detail: DisplayErrorContext(&err).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_japanese_text() {
        let text = "注文者：山田 太郎 🎁";
        assert_eq!(gunzip(&gzip(text.as_bytes()).unwrap()).unwrap(), text);
    }

    #[test]
    fn item_size_counts_names_and_values() {
        let item = Item::from([
            ("pk".to_owned(), AttributeValue::S("ORDER#1".into())),
            ("n".to_owned(), AttributeValue::N("42".into())),
            (
                "b".to_owned(),
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![0; 10])),
            ),
        ]);
        assert_eq!(item_size(&item), 2 + 7 + 1 + 2 + 1 + 10);
    }
}
