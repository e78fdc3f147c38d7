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
//! | 7 | import checkpoint per store | `pk = STORE#<store>`, `sk = CHECKPOINT#import`, conditional on the previous value |
//! | 8 | list and get store configs | `pk = CONFIG`, `sk = STORE#<store>` (one Query lists them all) |
//!
//! `ordered_at` in sort keys is the RFC 3339 text of a [`JstInstant`], always `+09:00` with a
//! fixed width, so string order is time order.
//!
//! Both GSIs project ALL attributes: their readers (the operator's and warehouse's lists) want
//! whole orders, and with the raw payload gzip-compressed an order item stays a few KB, so a
//! second round trip to fetch each order would cost more than the duplicated storage.
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
    KeyType, Projection, ProjectionType, ScalarAttributeType,
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
}

/// Index names.
pub const BY_STORE_STATUS: &str = "by_store_status";
pub const WITH_HOLDS: &str = "with_holds";

/// Key builders, one per access pattern.
pub mod keys {
    use super::*;

    pub const ORDER_SK: &str = "ORDER";
    pub const ORDER_PK_PREFIX: &str = "ORDER#";
    pub const CHECKPOINT_IMPORT_SK: &str = "CHECKPOINT#import";
    pub const CONFIG_PK: &str = "CONFIG";
    pub const CONFIG_SK_PREFIX: &str = "STORE#";

    /// Pattern 1: an order's partition key.
    pub fn order_pk(id: &OrderId) -> String {
        format!("{ORDER_PK_PREFIX}{id}")
    }

    /// Pattern 5: the `by_store_status` partition.
    pub fn store_status_pk(store: &StoreRef, status: OrderStatus) -> String {
        format!("STORE#{store}#STATUS#{status}")
    }

    /// Pattern 6: the `with_holds` partition.
    pub fn holds_pk(store: &StoreRef) -> String {
        format!("HOLDS#{store}")
    }

    /// Patterns 5 and 6: time order, the id breaking ties.
    pub fn time_sk(ordered_at: &JstInstant, id: &OrderId) -> String {
        format!("{ordered_at}#{id}")
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
            s(attr::PK),
            s(attr::SK),
        ],
        key: key(attr::PK, attr::SK),
        indexes: vec![
            IndexDef {
                name: BY_STORE_STATUS.to_owned(),
                key: key(attr::GSI1PK, attr::GSI1SK),
                projection: ProjectionDef::All,
            },
            IndexDef {
                name: WITH_HOLDS.to_owned(),
                key: key(attr::GSI2PK, attr::GSI2SK),
                projection: ProjectionDef::All,
            },
        ],
        billing_mode: "PAY_PER_REQUEST".to_owned(),
    }
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
}

/// A DynamoDB item (or key) as the SDK takes it.
pub(crate) type Item = std::collections::HashMap<String, AttributeValue>;

/// The primary key of an item.
pub(crate) fn item_key(pk: String, sk: impl Into<String>) -> Item {
    Item::from([
        (attr::PK.to_owned(), AttributeValue::S(pk)),
        (attr::SK.to_owned(), AttributeValue::S(sk.into())),
    ])
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
