//! Stock levels per SKU (access pattern 12 in [`crate::tables`]): one item per SKU whose
//! `sequence` grows by one with every change, in the same UpdateItem, so push-inventory can
//! ask "what changed since the sequence I pushed".

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use ichigen_core::JstInstant;
use ichigen_core::ports::{StockLevel, StockStore, StoreError};

use crate::tables::{Item, ShopTable, item_key, keys, put_error};

mod field {
    pub const SKU: &str = "sku";
    pub const QUANTITY: &str = "quantity";
    pub const SEQUENCE: &str = "sequence";
    pub const UPDATED_AT: &str = "updated_at";
}

fn level_from_item(item: &Item) -> Result<StockLevel, StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt {
        key: "STOCK item".to_owned(),
        detail: detail.to_owned(),
    };
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    let number = |name: &str| match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
        _ => None,
    };
    Ok(StockLevel {
        sku: text(field::SKU).ok_or_else(|| corrupt("missing sku"))?,
        quantity: number(field::QUANTITY)
            .and_then(|q| u32::try_from(q).ok())
            .ok_or_else(|| corrupt("missing quantity"))?,
        sequence: number(field::SEQUENCE).ok_or_else(|| corrupt("missing sequence"))?,
        updated_at: text(field::UPDATED_AT)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| corrupt("missing updated_at"))?,
    })
}

#[async_trait]
impl StockStore for ShopTable {
    async fn set_stock(
        &self,
        sku: &str,
        quantity: u32,
        at: JstInstant,
    ) -> Result<StockLevel, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(item_key(keys::stock_pk(sku), keys::STOCK_SK)))
            .update_expression("SET #sku = :sku, #q = :q, #at = :at ADD #seq :one")
            .expression_attribute_names("#sku", field::SKU)
            .expression_attribute_names("#q", field::QUANTITY)
            .expression_attribute_names("#at", field::UPDATED_AT)
            .expression_attribute_names("#seq", field::SEQUENCE)
            .expression_attribute_values(":sku", AttributeValue::S(sku.to_owned()))
            .expression_attribute_values(":q", AttributeValue::N(quantity.to_string()))
            .expression_attribute_values(":at", AttributeValue::S(at.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| put_error(format!("UpdateItem of stock {sku}"), e))?;
        level_from_item(&out.attributes.unwrap_or_default())
    }

    async fn get_stock(&self, sku: &str) -> Result<Option<StockLevel>, StoreError> {
        self.get_item(
            item_key(keys::stock_pk(sku), keys::STOCK_SK),
            &format!("stock {sku}"),
        )
        .await?
        .map(|item| level_from_item(&item))
        .transpose()
    }
}
