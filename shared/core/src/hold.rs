//! Holds: reasons an order needs a person before it may ship.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// The parts of the order do not add up to the total the mall reports.
    TotalsMismatch,
    /// The mall has not fixed an amount yet (Rakuten `-9999`).
    AmountNotFixed,
    /// A payment method we do not know how to treat.
    UnknownPaymentMethod,
    /// A field the mall sent that we could not read.
    MalformedField,
    /// A seller SKU with no internal SKU in the mapping table.
    UnmappedSku,
    /// A desired delivery time slot that maps to none of ours.
    UnmappedTimeSlot,
    /// A product code with characters a mall rejects.
    BadProductCode,
    /// The buyer asked to cancel; the mall has not cancelled yet.
    CancelRequested,
}

impl HoldKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            HoldKind::TotalsMismatch => "totals_mismatch",
            HoldKind::AmountNotFixed => "amount_not_fixed",
            HoldKind::UnknownPaymentMethod => "unknown_payment_method",
            HoldKind::MalformedField => "malformed_field",
            HoldKind::UnmappedSku => "unmapped_sku",
            HoldKind::UnmappedTimeSlot => "unmapped_time_slot",
            HoldKind::BadProductCode => "bad_product_code",
            HoldKind::CancelRequested => "cancel_requested",
        }
    }
}

impl fmt::Display for HoldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason, with the field and value it is about so an operator can act without digging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub kind: HoldKind,
    /// The mall field concerned (`totalPrice`, `PackageModelList[1].ItemModelList[0].units`).
    pub field: Option<String>,
    /// What is wrong, in a sentence; names values but never personal data.
    pub message: String,
}

impl Hold {
    pub fn new(
        kind: HoldKind,
        field: impl Into<Option<String>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({}): {}", self.kind, field, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}
