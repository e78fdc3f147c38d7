//! Store configs (access pattern 8 in [`crate::tables`]): `pk = CONFIG`, `sk = STORE#<store>`,
//! the [`StoreConfig`] as a map in `config`. One partition holds them all, so one Query lists
//! them (a shop has a handful of stores).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::ports::{StoreConfigs, StoreError};
use ichigen_core::{StoreConfig, StoreRef};

use crate::tables::{Item, ShopTable, attr, item_key, keys};

const CONFIG: &str = "config";

fn config_key(store: &StoreRef) -> Item {
    item_key(keys::CONFIG_PK.to_owned(), keys::config_sk(store))
}

fn config_from_item(mut item: Item) -> Result<StoreConfig, StoreError> {
    let key = match item.get(attr::SK) {
        Some(AttributeValue::S(sk)) => format!("{}/{sk}", keys::CONFIG_PK),
        _ => format!("{}/<missing sk>", keys::CONFIG_PK),
    };
    let Some(AttributeValue::M(map)) = item.remove(CONFIG) else {
        return Err(StoreError::Corrupt {
            key,
            detail: "missing the config map".into(),
        });
    };
    serde_dynamo::from_item(map).map_err(|e| StoreError::Corrupt {
        key,
        detail: e.to_string(),
    })
}

#[async_trait]
impl StoreConfigs for ShopTable {
    async fn get_store_config(&self, store: &StoreRef) -> Result<Option<StoreConfig>, StoreError> {
        let what = format!("the {store} config");
        self.get_item(config_key(store), &what)
            .await?
            .map(config_from_item)
            .transpose()
    }

    async fn put_store_config(&self, config: &StoreConfig) -> Result<(), StoreError> {
        let map: Item = serde_dynamo::to_item(config).map_err(|e| StoreError::Corrupt {
            key: format!("{}/{}", keys::CONFIG_PK, keys::config_sk(&config.store)),
            detail: format!("config does not convert to an item: {e}"),
        })?;
        let mut item = config_key(&config.store);
        item.insert(CONFIG.to_owned(), AttributeValue::M(map));
        self.put(item, &format!("the {} config", config.store))
            .await
    }

    async fn list_store_configs(&self) -> Result<Vec<StoreConfig>, StoreError> {
        self.query_prefix(
            keys::CONFIG_PK.to_owned(),
            keys::CONFIG_SK_PREFIX,
            "store configs",
        )
        .await?
        .into_iter()
        .map(config_from_item)
        .collect()
    }
}
