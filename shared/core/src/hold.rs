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
    /// A person put the order on hold.
    Manual,
    /// A gift whose recipient has not entered the delivery address yet (Rakuten social gift):
    /// the mall's placeholder address must never be shipped to.
    AwaitingRecipientAddress,
    /// The mall's own status says not to ship yet: still screening (fraud, credit), on hold
    /// at the mall, or a status we do not know (au PAY's 不正取引審査中, 与信待ち …).
    MallStatus,
    /// The mall changed the order in a way ichigen does not follow on its own (a new payment
    /// method, lines added, a cancellation after shipment): a person decides.
    ChangedOnMall,
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
            HoldKind::Manual => "manual",
            HoldKind::AwaitingRecipientAddress => "awaiting_recipient_address",
            HoldKind::MallStatus => "mall_status",
            HoldKind::ChangedOnMall => "changed_on_mall",
        }
    }
}

impl fmt::Display for HoldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who put a hold on an order. A re-import refreshes the holds the import found from the
/// mall's data, but never removes one a person set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldSource {
    /// Found in the mall's data by the import (the normaliser or the mall's answers).
    #[default]
    Import,
    /// Set by a person (operator, warehouse).
    Operator,
}

/// A reason, with the field and value it is about so an operator can act without digging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub kind: HoldKind,
    /// The mall field concerned (`totalPrice`, `PackageModelList[1].ItemModelList[0].units`).
    pub field: Option<String>,
    /// What is wrong, in a sentence; names values but never personal data.
    pub message: String,
    #[serde(default)]
    pub source: HoldSource,
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
            source: HoldSource::Import,
        }
    }

    /// A hold a person set, with their reason.
    pub fn by_operator(message: impl Into<String>) -> Self {
        Self {
            source: HoldSource::Operator,
            ..Self::new(HoldKind::Manual, None, message)
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
