//! Failed imports, the quarantine (access pattern 10 in [`crate::tables`]): one item per
//! store and mall order id, `pk = STORE#<store>`, `sk = FAILED#<mall order id>`.
//!
//! The record is JSON text (`failed`), the mall's payload gzip-compressed beside it (`raw_gz`)
//! when there was one and it fits: a payload too large to keep is dropped, and the record says
//! so, rather than the quarantine itself failing on the item limit.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::StoreRef;
use ichigen_core::order::RawPayload;
use ichigen_core::ports::{FailedImport, FailedImportStore, StoreError};

use crate::tables::{
    ITEM_SIZE_LIMIT, Item, ShopTable, attr, gunzip, gzip, item_key, item_size, keys, unavailable,
};

const FAILED: &str = "failed";
const RAW_GZ: &str = "raw_gz";
const RAW_CONTENT_TYPE: &str = "raw_content_type";
/// Room left for the record itself when deciding whether the payload can be kept.
const RECORD_ROOM: usize = 16 * 1024;

#[async_trait]
impl FailedImportStore for ShopTable {
    async fn record_failed_import(&self, failed: &FailedImport) -> Result<(), StoreError> {
        let key_name = format!("failed import {}:{}", failed.store, failed.mall_order_id);
        let mut record = failed.clone();
        let mut item = item_key(
            keys::store_pk(&failed.store),
            keys::failed_import_sk(&failed.mall_order_id),
        );
        if let Some(raw) = &failed.raw {
            let raw_gz = gzip(raw.body.as_bytes()).map_err(|e| StoreError::Corrupt {
                key: key_name.clone(),
                detail: format!("raw payload does not compress: {e}"),
            })?;
            if raw_gz.len() + RECORD_ROOM <= ITEM_SIZE_LIMIT {
                item.insert(RAW_GZ.to_owned(), AttributeValue::B(Blob::new(raw_gz)));
                item.insert(
                    RAW_CONTENT_TYPE.to_owned(),
                    AttributeValue::S(raw.content_type.clone()),
                );
            } else {
                record.error.push_str(&format!(
                    " (the mall's payload, {} bytes compressed, is too large to keep)",
                    raw_gz.len()
                ));
            }
        }
        let json = serde_json::to_string(&record).map_err(|e| StoreError::Corrupt {
            key: key_name.clone(),
            detail: format!("record does not serialise: {e}"),
        })?;
        item.insert(FAILED.to_owned(), AttributeValue::S(json));
        if item_size(&item) > ITEM_SIZE_LIMIT {
            item.remove(RAW_GZ);
            item.remove(RAW_CONTENT_TYPE);
        }
        self.put(item, &format!("the {key_name}")).await
    }

    async fn failed_imports(&self, store: &StoreRef) -> Result<Vec<FailedImport>, StoreError> {
        let items = self
            .query_prefix(
                keys::store_pk(store),
                keys::FAILED_IMPORT_SK_PREFIX,
                &format!("the failed imports of {store}"),
            )
            .await?;
        let mut failed = items
            .into_iter()
            .map(failed_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        failed.sort_by_key(|f| f.first_seen);
        Ok(failed)
    }

    async fn clear_failed_import(
        &self,
        store: &StoreRef,
        mall_order_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(item_key(
                keys::store_pk(store),
                keys::failed_import_sk(mall_order_id),
            )))
            .send()
            .await
            .map_err(|e| {
                unavailable(
                    format!("DeleteItem of the failed import {store}:{mall_order_id}"),
                    e,
                )
            })?;
        Ok(())
    }
}

fn failed_from_item(mut item: Item) -> Result<FailedImport, StoreError> {
    let key = match (item.get(attr::PK), item.get(attr::SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => format!("{pk}/{sk}"),
        _ => "<failed import without keys>".to_owned(),
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        key: key.clone(),
        detail,
    };
    let Some(AttributeValue::S(json)) = item.remove(FAILED) else {
        return Err(corrupt("missing the failed-import record".into()));
    };
    let mut failed: FailedImport =
        serde_json::from_str(&json).map_err(|e| corrupt(format!("record does not read: {e}")))?;
    if let (Some(AttributeValue::B(raw_gz)), Some(AttributeValue::S(content_type))) =
        (item.remove(RAW_GZ), item.remove(RAW_CONTENT_TYPE))
    {
        let body = gunzip(raw_gz.as_ref())
            .map_err(|e| corrupt(format!("raw_gz is not gzip-compressed UTF-8: {e}")))?;
        failed.raw = Some(RawPayload { content_type, body });
    }
    Ok(failed)
}
