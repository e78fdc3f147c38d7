//! Checkpoints (access pattern 7 in [`crate::tables`]): per store, one item for the import
//! (`pk = STORE#<store>`, `sk = CHECKPOINT#import`) and one for the open-orders run of a mall
//! that lists its changes (`sk = CHECKPOINT#follow`).
//!
//! Saving is conditional on the value the caller read, so two runs of the same store (a
//! schedule overlapping a slow run, a redelivered message) cannot move it backwards.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::StoreRef;
use ichigen_core::ports::{Checkpoint, CheckpointStore, StoreError};

use crate::tables::{Item, ShopTable, attr, item_key, keys, unavailable};

const IMPORTED_UNTIL: &str = "imported_until";
const UPDATED_AT: &str = "updated_at";
const STORE: &str = "store";

/// Which of a store's checkpoints.
#[derive(Clone, Copy)]
enum Kind {
    Import,
    Follow,
}

impl Kind {
    fn sort_key(self) -> &'static str {
        match self {
            Kind::Import => keys::CHECKPOINT_IMPORT_SK,
            Kind::Follow => keys::CHECKPOINT_FOLLOW_SK,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Import => "import",
            Kind::Follow => "open-orders",
        }
    }
}

fn checkpoint_key(store: &StoreRef, kind: Kind) -> Item {
    item_key(keys::store_pk(store), kind.sort_key())
}

fn key_name(store: &StoreRef, kind: Kind) -> String {
    format!("{}/{}", keys::store_pk(store), kind.sort_key())
}

#[async_trait]
impl CheckpointStore for ShopTable {
    async fn load_checkpoint(&self, store: &StoreRef) -> Result<Option<Checkpoint>, StoreError> {
        self.load(store, Kind::Import).await
    }

    async fn save_checkpoint(
        &self,
        store: &StoreRef,
        previous: Option<&Checkpoint>,
        next: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.save(store, Kind::Import, previous, next).await
    }

    async fn load_follow_checkpoint(
        &self,
        store: &StoreRef,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.load(store, Kind::Follow).await
    }

    async fn save_follow_checkpoint(
        &self,
        store: &StoreRef,
        previous: Option<&Checkpoint>,
        next: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.save(store, Kind::Follow, previous, next).await
    }
}

impl ShopTable {
    async fn load(&self, store: &StoreRef, kind: Kind) -> Result<Option<Checkpoint>, StoreError> {
        let what = format!("the {store} {} checkpoint", kind.name());
        let Some(item) = self.get_item(checkpoint_key(store, kind), &what).await? else {
            return Ok(None);
        };
        let instant = |name: &str| match item.get(name) {
            Some(AttributeValue::S(text)) => text.parse().map_err(|e| StoreError::Corrupt {
                key: key_name(store, kind),
                detail: format!("{name} is not an RFC 3339 instant: {e}"),
            }),
            _ => Err(StoreError::Corrupt {
                key: key_name(store, kind),
                detail: format!("missing {name}"),
            }),
        };
        Ok(Some(Checkpoint {
            imported_until: instant(IMPORTED_UNTIL)?,
            updated_at: instant(UPDATED_AT)?,
        }))
    }

    async fn save(
        &self,
        store: &StoreRef,
        kind: Kind,
        previous: Option<&Checkpoint>,
        next: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut item = checkpoint_key(store, kind);
        item.insert(STORE.to_owned(), AttributeValue::S(store.to_string()));
        item.insert(
            IMPORTED_UNTIL.to_owned(),
            AttributeValue::S(next.imported_until.to_string()),
        );
        item.insert(
            UPDATED_AT.to_owned(),
            AttributeValue::S(next.updated_at.to_string()),
        );
        let put = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item));
        // Instants are stored as their canonical JST text, so string equality is instant equality.
        let put = match previous {
            None => put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", attr::PK),
            Some(previous) => put
                .condition_expression("#until = :previous")
                .expression_attribute_names("#until", IMPORTED_UNTIL)
                .expression_attribute_values(
                    ":previous",
                    AttributeValue::S(previous.imported_until.to_string()),
                ),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict {
                    what: format!("{} checkpoint of {store}", kind.name()),
                    expected: previous
                        .map_or_else(|| "none".to_owned(), |p| p.imported_until.to_string()),
                })
            }
            Err(e) => Err(unavailable(
                format!("PutItem of the {store} {} checkpoint", kind.name()),
                e,
            )),
        }
    }
}
