//! A store's import run status (access pattern 11 in [`crate::tables`]):
//! `pk = STORE#<store>`, `sk = STATUS#import`, the status as JSON text. Written once per run,
//! read by the operator's views (`ichigen store list`) and the alarms' metrics.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::StoreRef;
use ichigen_core::ports::{StoreError, StoreRunStatus, StoreStatusStore};

use crate::tables::{ShopTable, item_key, keys};

const STATUS: &str = "status";

#[async_trait]
impl StoreStatusStore for ShopTable {
    async fn load_store_status(&self, store: &StoreRef) -> Result<StoreRunStatus, StoreError> {
        let key = item_key(keys::store_pk(store), keys::STATUS_IMPORT_SK);
        let Some(item) = self
            .get_item(key, &format!("the {store} run status"))
            .await?
        else {
            return Ok(StoreRunStatus::default());
        };
        match item.get(STATUS) {
            Some(AttributeValue::S(json)) => {
                serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
                    key: format!("{}/{}", keys::store_pk(store), keys::STATUS_IMPORT_SK),
                    detail: format!("run status does not read: {e}"),
                })
            }
            _ => Ok(StoreRunStatus::default()),
        }
    }

    async fn save_store_status(
        &self,
        store: &StoreRef,
        status: &StoreRunStatus,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(status).map_err(|e| StoreError::Corrupt {
            key: format!("{}/{}", keys::store_pk(store), keys::STATUS_IMPORT_SK),
            detail: format!("run status does not serialise: {e}"),
        })?;
        let mut item = item_key(keys::store_pk(store), keys::STATUS_IMPORT_SK);
        item.insert(STATUS.to_owned(), AttributeValue::S(json));
        self.put(item, &format!("the {store} run status")).await
    }
}
