//! The unified order: one shape for every mall's order.
//!
//! Money is integer yen. Times are [`JstInstant`]s. The mall's own payload is kept beside the
//! normalised data (`raw`) for audit and re-normalisation.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::hold::{Hold, HoldKind};
use crate::status::{IllegalTransition, MallSync, OrderStatus, StatusEvent, transition};
use crate::time::JstInstant;

/// Integer yen. Never a float: every mall bills in whole yen.
pub type Yen = i64;

/// The malls ichigen speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MallId {
    Rakuten,
    Yahoo,
    Amazon,
    Aupay,
    Qoo10,
}

impl MallId {
    pub const ALL: [MallId; 5] = [
        MallId::Rakuten,
        MallId::Yahoo,
        MallId::Amazon,
        MallId::Aupay,
        MallId::Qoo10,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MallId::Rakuten => "rakuten",
            MallId::Yahoo => "yahoo",
            MallId::Amazon => "amazon",
            MallId::Aupay => "aupay",
            MallId::Qoo10 => "qoo10",
        }
    }
}

impl fmt::Display for MallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown mall {0:?} (expected one of rakuten, yahoo, amazon, aupay, qoo10)")]
pub struct UnknownMall(pub String);

impl FromStr for MallId {
    type Err = UnknownMall;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MallId::ALL
            .into_iter()
            .find(|mall| mall.as_str() == s)
            .ok_or_else(|| UnknownMall(s.to_owned()))
    }
}

/// One store of the shop on one mall, e.g. `rakuten:store-a`. A shop may have several stores
/// on the same mall.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StoreRef {
    pub mall: MallId,
    pub store_id: String,
}

impl StoreRef {
    pub fn new(mall: MallId, store_id: impl Into<String>) -> Self {
        Self {
            mall,
            store_id: store_id.into(),
        }
    }
}

impl fmt::Display for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.mall, self.store_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BadStoreRef {
    #[error("store reference {0:?} is not of the form <mall>:<store-id>")]
    Shape(String),
    #[error(transparent)]
    Mall(#[from] UnknownMall),
}

impl FromStr for StoreRef {
    type Err = BadStoreRef;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mall, store_id) = s
            .split_once(':')
            .ok_or_else(|| BadStoreRef::Shape(s.to_owned()))?;
        let valid = !store_id.is_empty()
            && store_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(BadStoreRef::Shape(s.to_owned()));
        }
        Ok(Self::new(mall.parse()?, store_id))
    }
}

impl TryFrom<String> for StoreRef {
    type Error = BadStoreRef;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<StoreRef> for String {
    fn from(value: StoreRef) -> Self {
        value.to_string()
    }
}

/// Our stable, readable order id: `<mall>:<store>:<mall order id>[-<split>]`,
/// e.g. `rakuten:store-a:123456-20261122-0000000001`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(String);

impl OrderId {
    pub fn new(store: &StoreRef, mall_order_id: &str) -> Self {
        Self(format!("{store}:{mall_order_id}"))
    }

    /// The id of part `part` (1-based) of an order split by carrier.
    pub fn split_part(store: &StoreRef, mall_order_id: &str, part: usize) -> Self {
        Self(format!("{store}:{mall_order_id}-{part}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The store part of the id.
    pub fn store(&self) -> Option<StoreRef> {
        let mut parts = self.0.splitn(3, ':');
        let (mall, store) = (parts.next()?, parts.next()?);
        format!("{mall}:{store}").parse().ok()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("order id {0:?} is not of the form <mall>:<store-id>:<mall order id>")]
pub struct BadOrderId(pub String);

impl FromStr for OrderId {
    type Err = BadOrderId;

    /// Reads an id a caller typed: a known mall, a valid store id and a mall order number of
    /// printable ASCII without `#` (the list positions' separator).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadOrderId(s.to_owned());
        let mut parts = s.splitn(3, ':');
        let (Some(mall), Some(store), Some(number)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        format!("{mall}:{store}")
            .parse::<StoreRef>()
            .map_err(|_| bad())?;
        let number_ok = !number.is_empty()
            && number.len() <= 100
            && number.chars().all(|c| c.is_ascii_graphic() && c != '#');
        if !number_ok {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The unified order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub store: StoreRef,
    /// The mall's own order number (for a split order: the number the mall knows).
    pub mall_order_id: String,
    pub ordered_at: JstInstant,
    pub buyer: Buyer,
    /// One or more ship-to destinations, each with its lines.
    pub destinations: Vec<Destination>,
    pub amounts: Amounts,
    pub payment: Payment,
    pub delivery: Delivery,
    pub gift: Gift,
    /// The buyer's free-text remarks (備考).
    pub notes: Option<String>,
    pub mall_status: MallStatus,
    pub status: OrderStatus,
    pub holds: Vec<Hold>,
    /// What ichigen still has to tell the mall about this order.
    pub mall_sync: MallSync,
    pub history: Vec<HistoryEntry>,
    /// What people did to the order in ichigen (notes, edits); a re-import keeps it.
    #[serde(default)]
    pub operator: OperatorWork,
    /// Optimistic-concurrency version; 1 when created, bumped by every stored change.
    pub version: u64,
    pub imported_at: JstInstant,
    pub updated_at: JstInstant,
    /// The mall's payload this order was built from.
    pub raw: RawPayload,
}

impl Order {
    pub fn lines(&self) -> impl Iterator<Item = &OrderLine> {
        self.destinations.iter().flat_map(|d| d.lines.iter())
    }

    pub fn has_hold(&self, kind: HoldKind) -> bool {
        self.holds.iter().any(|h| h.kind == kind)
    }

    /// Applies a status event through the status machine.
    pub fn apply(&mut self, event: StatusEvent) -> Result<(), IllegalTransition> {
        self.status = transition(self.status, event)?;
        Ok(())
    }

    /// Places a freshly imported order by its holds and payment state.
    pub fn settle_after_import(&mut self) -> Result<(), IllegalTransition> {
        self.apply(StatusEvent::Settle {
            has_holds: !self.holds.is_empty(),
            awaits_payment: self.payment.awaits_payment(),
        })
    }

    /// Adds a hold; an order before shipment goes on hold.
    pub fn place_hold(&mut self, hold: Hold) -> Result<(), IllegalTransition> {
        if self.status != OrderStatus::Imported {
            self.apply(StatusEvent::Hold)?;
        }
        self.holds.push(hold);
        Ok(())
    }
}

/// The mall's raw payload, as received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawPayload {
    /// `application/json`, `application/xml` …
    pub content_type: String,
    pub body: String,
}

impl RawPayload {
    pub fn json(value: &serde_json::Value) -> Self {
        Self {
            content_type: "application/json".into(),
            body: value.to_string(),
        }
    }
}

/// The buyer (注文者). Personal data: never logged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Buyer {
    pub name: String,
    pub kana: Option<String>,
    /// Often masked by the mall (Rakuten relays mail through its own addresses).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub postcode: String,
    pub prefecture: String,
    pub city: String,
    pub street: String,
}

/// One ship-to destination (送付先) with the lines going there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    /// The mall's id for this destination (Rakuten `basketId`), needed for shipment write-back.
    pub mall_destination_id: Option<String>,
    pub recipient_name: String,
    pub recipient_kana: Option<String>,
    pub phone: Option<String>,
    pub address: Address,
    /// The carrier the buyer chose or the mall defaulted to, as the mall's code.
    pub mall_carrier_code: Option<String>,
    pub lines: Vec<OrderLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The mall's id for the line (Rakuten `itemDetailId`, Amazon `OrderItemId`, Qoo10 `orderNo`).
    pub mall_line_id: String,
    /// The mall's item id (Rakuten `manageNumber`/`itemId`, Amazon ASIN …).
    pub mall_item_id: String,
    /// The seller's SKU as registered on the mall.
    pub seller_sku: Option<String>,
    /// The mall's option/variant code.
    pub option_code: Option<String>,
    /// Our internal SKU, once resolved through the SKU mapping table (対応表).
    pub sku: Option<String>,
    pub name: String,
    /// Chosen options as the buyer saw them (`サイズ:M`).
    pub options: Vec<ChosenOption>,
    pub quantity: u32,
    /// Unit price including tax and option surcharges.
    pub unit_price: Yen,
    pub option_surcharge: Yen,
    /// Consumption-tax rate in percent (10, 8, 0).
    pub tax_rate_percent: u8,
    pub gift_wrapped: bool,
}

impl OrderLine {
    pub fn line_total(&self) -> Yen {
        self.unit_price * Yen::from(self.quantity)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChosenOption {
    pub name: String,
    pub value: String,
}

/// The order's amounts, all in yen, tax included. An amount the mall has not fixed yet is 0
/// here and the order carries an [`HoldKind::AmountNotFixed`] hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Amounts {
    /// Σ unit price × quantity.
    pub goods: Yen,
    pub shipping: Yen,
    /// Cash-on-delivery fee (代引手数料).
    pub cod_fee: Yen,
    /// Other payment fees.
    pub payment_fee: Yen,
    pub gift_wrapping: Yen,
    /// Coupons (shop-funded and mall-funded together).
    pub coupons: Yen,
    pub coupons_shop_funded: Yen,
    pub points: Yen,
    /// goods + shipping + fees + wrapping.
    pub total: Yen,
    /// What the buyer is billed: total − coupons − points.
    pub billed: Yen,
    pub tax: Option<Yen>,
}

impl Amounts {
    /// The amount the parts add up to, to compare with what the mall says is the total.
    pub fn expected_total(&self) -> Yen {
        self.goods + self.shipping + self.cod_fee + self.payment_fee + self.gift_wrapping
    }

    pub fn expected_billed(&self) -> Yen {
        self.total - self.coupons - self.points
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    CreditCard,
    CashOnDelivery,
    /// Convenience-store prepayment.
    Konbini,
    BankTransfer,
    PayEasy,
    /// Pay later (後払い), collected by the mall or a provider.
    Deferred,
    /// Paid entirely with points.
    Points,
    /// Wallets and other instant methods (Apple Pay, PayPal, PayPay, carrier billing …).
    Wallet,
    Invoice,
    Other,
}

impl PaymentMethod {
    /// Methods where the buyer pays after ordering and before we may ship.
    pub fn is_prepayment(&self) -> bool {
        matches!(
            self,
            PaymentMethod::Konbini | PaymentMethod::BankTransfer | PaymentMethod::PayEasy
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub method: PaymentMethod,
    /// The mall's code for the method, as received.
    pub mall_method_code: String,
    /// The mall's name for the method, as received.
    pub mall_method_name: String,
    pub paid_at: Option<JstInstant>,
    /// The last day a prepayment may be made.
    pub due_date: Option<Date>,
}

impl Payment {
    pub fn awaits_payment(&self) -> bool {
        self.method.is_prepayment() && self.paid_at.is_none()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The mall's shipping-method name (宅配便, メール便 …).
    pub mall_method_name: String,
    /// Our carrier, once mapped from the mall's method.
    pub carrier: Option<String>,
    pub desired_date: Option<Date>,
    pub time_slot: Option<TimeSlot>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeSlot {
    /// The mall's value as received (Rakuten `shippingTerm` `1214`, a text like `午前中` …).
    pub raw: String,
    /// Our slot (`08-12`, `12-14` …), once mapped; unmapped slots are held.
    pub mapped: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gift {
    pub is_gift: bool,
    pub wrappings: Vec<Wrapping>,
    /// のし (noshi) request, as the buyer wrote it.
    pub noshi: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wrapping {
    /// `paper` or `ribbon` (Rakuten wrapping title 1 / 2).
    pub kind: String,
    pub name: String,
    pub price: Yen,
}

/// The mall's own status, kept beside ours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MallStatus {
    /// The mall's code as received (`100`, `新規受付`, `Unshipped` …).
    pub code: String,
    /// Human label (`注文確認待ち`).
    pub label: String,
}

/// What people did to an order in ichigen. The mall never sees it and a re-import from the
/// mall never undoes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OperatorWork {
    /// Notes people wrote (the buyer's own remarks are [`Order::notes`]).
    #[serde(default)]
    pub notes: Vec<OperatorNote>,
    /// Fields a person edited (`destinations`, `delivery.desired_date` …): a re-import keeps
    /// the stored value of each.
    #[serde(default)]
    pub edited_fields: BTreeSet<String>,
    /// Shipments the warehouse reported (the write-back job tells the mall).
    #[serde(default)]
    pub shipments: Vec<ShipmentReport>,
}

/// A shipment the shop's warehouse reported for this order (or this part of a split order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShipmentReport {
    /// Our carrier name (`yamato`, `sagawa`, `japanpost` …); the write-back maps it per mall.
    pub carrier: String,
    /// One or more; Qoo10 takes only the first.
    pub tracking_numbers: Vec<String>,
    pub shipped_on: Date,
    pub reported_at: JstInstant,
    pub reported_by: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperatorNote {
    pub at: JstInstant,
    /// Who wrote it (an operator's name or a system's id).
    pub by: String,
    pub text: String,
}

/// An entry in the order's history: re-imports and other changes an operator should see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: JstInstant,
    pub event: String,
    /// What changed, in words (`amounts.billed: 3300 → 3200`). Never personal data.
    pub changes: Vec<String>,
}
