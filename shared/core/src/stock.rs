//! Stock levels the shop's warehouse reports per internal SKU; push-inventory sends each
//! change to every mall listing mapped to the SKU.

use serde::{Deserialize, Serialize};

use crate::operator::OperatorError;
use crate::ports::{Clock, StockLevel, StockStore};

/// The most SKUs one request sets.
pub const MAX_STOCK_BATCH: usize = 100;
/// Larger than any warehouse holds of one SKU; a bigger number is a typo.
pub const MAX_QUANTITY: u32 = 1_000_000;

/// One SKU's free stock as the warehouse counts it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StockUpdate {
    pub sku: String,
    pub quantity: u32,
}

/// SKUs are what malls accept in product codes: ASCII letters, digits, `-` and `_`.
pub fn check_sku(field: &str, sku: &str) -> Result<(), OperatorError> {
    let ok = !sku.is_empty()
        && sku.len() <= 64
        && sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(OperatorError::invalid(
            field,
            "must be 1 to 64 ASCII letters, digits, '-' or '_'",
        ))
    }
}

/// Sets one or more SKUs' stock; each change gets the SKU's next change sequence. The whole
/// batch is checked before anything is written.
pub async fn set_stock_levels(
    stock: &dyn StockStore,
    clock: &dyn Clock,
    updates: &[StockUpdate],
) -> Result<Vec<StockLevel>, OperatorError> {
    if updates.is_empty() || updates.len() > MAX_STOCK_BATCH {
        return Err(OperatorError::invalid(
            "levels",
            format!("must hold 1 to {MAX_STOCK_BATCH} SKUs"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, update) in updates.iter().enumerate() {
        check_sku(&format!("levels[{i}].sku"), &update.sku)?;
        if update.quantity > MAX_QUANTITY {
            return Err(OperatorError::invalid(
                format!("levels[{i}].quantity"),
                format!("must be at most {MAX_QUANTITY}"),
            ));
        }
        if !seen.insert(update.sku.as_str()) {
            return Err(OperatorError::invalid(
                format!("levels[{i}].sku"),
                format!("{} appears twice", update.sku),
            ));
        }
    }
    let now = clock.now();
    let mut levels = Vec::with_capacity(updates.len());
    for update in updates {
        levels.push(stock.set_stock(&update.sku, update.quantity, now).await?);
    }
    Ok(levels)
}
