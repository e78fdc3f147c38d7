//! One `getOrder` `OrderModel` → one unified [`Order`]. Pure: no I/O, no clock.
//!
//! Lenient and total. A field that is missing or of the wrong type becomes a
//! [`HoldKind::MalformedField`] hold (its JSON path, e.g.
//! `PackageModelList[0].ItemModelList[1].units`, and the value found) with a safe default, so
//! a person looks at the order instead of the import failing. Only a payload that is not an
//! object or has no text `orderNumber` is a [`NormaliseError`]: without it the order has no
//! identity to hold anything on.
//!
//! Hold messages name fields, amounts and codes, never buyer or recipient data: personal
//! fields are described by their JSON type only.
//!
//! Decisions worth knowing:
//! - Amounts of `-9999` are Rakuten's "not fixed yet": stored as 0 with an
//!   [`HoldKind::AmountNotFixed`] hold, and the totals checks are skipped (they would only
//!   repeat the same news as mismatches).
//! - A totals check that involves an unreadable amount (or a line whose price or quantity was
//!   unreadable) is skipped: the malformed-field hold already explains it.
//! - Payment codes 4/5/6 (shopping credit, auto loan, lease) are settled by a finance company
//!   after the order, so they count as [`PaymentMethod::Deferred`]; 3 (shop-selected 後払い)
//!   and 21 (Rakuten's common 後払い) likewise.
//! - Desired time slots: `shippingTerm` 1 (午前中) is `08-12`, and `h1h2` codes (`1214`,
//!   `1921`, `812`) are `h1-h2` when 7 ≤ h1 < h2 ≤ 24. Everything else (2 午後, 9 その他,
//!   anything unknown) is kept raw, unmapped, with an [`HoldKind::UnmappedTimeSlot`] hold:
//!   shop-specific mapping tables come later.

use ichigen_core::hold::{Hold, HoldKind};
use ichigen_core::mall::NormaliseError;
use ichigen_core::order::{
    Address, Amounts, Buyer, ChosenOption, Delivery, Destination, Gift, MallStatus, OrderLine,
    Payment, PaymentMethod, RawPayload, TimeSlot, Wrapping,
};
use ichigen_core::status::MallSync;
use ichigen_core::{JstInstant, MallId, Order, OrderId, OrderStatus, StatusEvent, StoreRef, Yen};
use jiff::civil::Date;
use serde_json::{Map, Value};

/// Rakuten's marker for an amount it has not fixed yet.
pub const NOT_FIXED: i64 = -9999;

type Object = Map<String, Value>;

/// Normalises a whole `getOrder` response (`{"OrderModelList": [...]}`): one result per
/// element. The outer error means the body is not such a response.
pub fn normalise_response(
    store: &StoreRef,
    body: &str,
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    let error = |field: &str, problem: String| NormaliseError {
        mall: MallId::Rakuten,
        mall_order_id: String::new(),
        field: field.to_owned(),
        problem,
    };
    let value: Value = serde_json::from_str(body).map_err(|e| {
        error(
            "(response)",
            format!(
                "is not JSON (error at line {} column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let list = match value.get("OrderModelList") {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(error(
                "OrderModelList",
                format!("must be a list, found {}", json_kind(other)),
            ));
        }
        None => return Err(error("OrderModelList", "is missing".into())),
    };
    Ok(list
        .iter()
        .map(|order| normalise_order(store, order, imported_at))
        .collect())
}

/// Normalises one `OrderModel`. See the module docs for the rules.
pub fn normalise_order(
    store: &StoreRef,
    payload: &Value,
    imported_at: JstInstant,
) -> Result<Order, NormaliseError> {
    let error = |id: &str, field: &str, problem: String| NormaliseError {
        mall: MallId::Rakuten,
        mall_order_id: id.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let Some(root) = payload.as_object() else {
        return Err(error(
            "",
            "(payload)",
            format!("must be a JSON object, found {}", json_kind(payload)),
        ));
    };
    let number = match root.get("orderNumber") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        Some(Value::String(_)) => return Err(error("", "orderNumber", "is empty".into())),
        None | Some(Value::Null) => return Err(error("", "orderNumber", "is missing".into())),
        Some(other) => {
            return Err(error(
                "",
                "orderNumber",
                format!("must be text, found {}", describe(other)),
            ));
        }
    };

    let mut r = Reader::default();
    let ordered_at = ordered_at(&mut r, root, imported_at);
    let buyer = buyer(&mut r, root);
    let (destinations, lines_reliable) = destinations(&mut r, root);
    let (amounts, gift) = amounts_and_gift(&mut r, root, &destinations, lines_reliable);
    let payment = payment(&mut r, root);
    let delivery = delivery(&mut r, root);
    let notes = r.text(root, "", "remarks", Need::Optional, Privacy::Personal);
    let gift = Gift {
        noshi: notes
            .as_deref()
            .and_then(noshi)
            .or_else(|| package_noshi(&mut r, root)),
        ..gift
    };
    let (mall_status, progress) = mall_status(&mut r, root);

    let mut order = Order {
        id: OrderId::new(store, &number),
        store: store.clone(),
        mall_order_id: number,
        ordered_at,
        buyer,
        destinations,
        amounts,
        payment,
        delivery,
        gift,
        notes: notes.filter(|n| !n.is_empty()),
        mall_status,
        status: OrderStatus::Imported,
        holds: Vec::new(),
        mall_sync: MallSync::idle(),
        history: Vec::new(),
        operator: Default::default(),
        version: 1,
        imported_at,
        updated_at: imported_at,
        raw: RawPayload::json(payload),
    };
    match progress {
        Some(900) => {
            // Imported → Cancelled is always legal; an error here would be a core bug.
            if let Err(e) = order.apply(StatusEvent::Cancelled) {
                tracing::error!(order = %order.id, error = %e, "could not mark a cancelled order");
            }
        }
        Some(800) => r.hold(
            HoldKind::CancelRequested,
            "orderProgress",
            "cancellation requested (orderProgress 800 キャンセル確定待ち); Rakuten has not cancelled yet",
        ),
        _ => {}
    }
    order.holds = r.holds;
    Ok(order)
}

// ---------------------------------------------------------------------------------------------
// Reading fields leniently

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    Optional,
}

/// Personal fields are described by type only in hold messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Privacy {
    Public,
    Personal,
}

/// An amount as read: its value, Rakuten's "not fixed yet", or unreadable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Amount {
    Yen(Yen),
    NotFixed,
    Unreadable,
}

impl Amount {
    fn value(self) -> Yen {
        match self {
            Amount::Yen(v) => v,
            Amount::NotFixed | Amount::Unreadable => 0,
        }
    }

    fn usable(self) -> Option<Yen> {
        match self {
            Amount::Yen(v) => Some(v),
            Amount::NotFixed | Amount::Unreadable => None,
        }
    }
}

/// Collects holds while fields are read.
#[derive(Default)]
struct Reader {
    holds: Vec<Hold>,
    not_fixed: bool,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Reader {
    fn hold(&mut self, kind: HoldKind, field: impl Into<String>, message: impl Into<String>) {
        self.holds
            .push(Hold::new(kind, Some(field.into()), message));
    }

    fn malformed(&mut self, field: String, expected: &str, found: &Value, privacy: Privacy) {
        // A value inside (or instead of) a person model is personal whatever its type: an
        // `OrdererModel` sent as text is a name and an address.
        let found = if privacy == Privacy::Personal || is_personal_field(&field) {
            json_kind(found).to_owned()
        } else {
            describe(found)
        };
        self.hold(
            HoldKind::MalformedField,
            field,
            format!("expected {expected}, found {found}"),
        );
    }

    fn missing(&mut self, field: String, expected: &str) {
        self.hold(
            HoldKind::MalformedField,
            field,
            format!("missing; expected {expected}"),
        );
    }

    /// The value at `key`, `None` if absent or `null` (a hold if required).
    fn get<'a>(
        &mut self,
        obj: &'a Object,
        parent: &str,
        key: &str,
        need: Need,
        expected: &str,
    ) -> Option<&'a Value> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if need == Need::Required {
                    self.missing(join(parent, key), expected);
                }
                None
            }
            Some(value) => Some(value),
        }
    }

    fn text(
        &mut self,
        obj: &Object,
        parent: &str,
        key: &str,
        need: Need,
        privacy: Privacy,
    ) -> Option<String> {
        let value = self.get(obj, parent, key, need, "text")?;
        match value {
            Value::String(s) => Some(s.clone()),
            other => {
                self.malformed(join(parent, key), "text", other, privacy);
                None
            }
        }
    }

    /// An identifier or code Rakuten may send as a number or as text; kept as text.
    fn code(&mut self, obj: &Object, parent: &str, key: &str, need: Need) -> Option<String> {
        let value = self.get(obj, parent, key, need, "a number or text")?;
        match value {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(_) if let Some(n) = as_whole(value) => Some(n.to_string()),
            other => {
                self.malformed(
                    join(parent, key),
                    "a number or text",
                    other,
                    Privacy::Public,
                );
                None
            }
        }
    }

    fn int(&mut self, obj: &Object, parent: &str, key: &str, need: Need) -> Option<i64> {
        let value = self.get(obj, parent, key, need, "a whole number")?;
        let whole = as_whole(value);
        if whole.is_none() {
            self.malformed(join(parent, key), "a whole number", value, Privacy::Public);
        }
        whole
    }

    /// A yen amount; `-9999` is "not fixed yet". Absent optional amounts are 0.
    fn amount(&mut self, obj: &Object, parent: &str, key: &str, need: Need) -> Amount {
        let Some(value) = self.get(obj, parent, key, need, "an amount in yen") else {
            return if need == Need::Required {
                Amount::Unreadable
            } else {
                Amount::Yen(0)
            };
        };
        match as_whole(value) {
            Some(NOT_FIXED) => {
                self.not_fixed = true;
                let field = join(parent, key);
                let message = format!(
                    "{field} is {NOT_FIXED}: Rakuten has not fixed this amount yet; 0 used"
                );
                self.hold(HoldKind::AmountNotFixed, field, message);
                Amount::NotFixed
            }
            Some(v) => Amount::Yen(v),
            None => {
                self.malformed(
                    join(parent, key),
                    "an amount in yen",
                    value,
                    Privacy::Public,
                );
                Amount::Unreadable
            }
        }
    }

    fn object<'a>(
        &mut self,
        obj: &'a Object,
        parent: &str,
        key: &str,
        need: Need,
    ) -> Option<&'a Object> {
        let value = self.get(obj, parent, key, need, "an object")?;
        match value {
            Value::Object(map) => Some(map),
            other => {
                self.malformed(join(parent, key), "an object", other, Privacy::Public);
                None
            }
        }
    }

    fn array<'a>(
        &mut self,
        obj: &'a Object,
        parent: &str,
        key: &str,
        need: Need,
    ) -> Option<&'a [Value]> {
        let value = self.get(obj, parent, key, need, "a list")?;
        match value {
            Value::Array(items) => Some(items),
            other => {
                self.malformed(join(parent, key), "a list", other, Privacy::Public);
                None
            }
        }
    }

    fn date(&mut self, obj: &Object, parent: &str, key: &str, need: Need) -> Option<Date> {
        let text = self.text(obj, parent, key, need, Privacy::Public)?;
        match text.trim().parse::<Date>() {
            Ok(date) => Some(date),
            Err(_) => {
                let field = join(parent, key);
                self.hold(
                    HoldKind::MalformedField,
                    field,
                    format!("expected a date like 2025-03-01, found {}", quote(&text)),
                );
                None
            }
        }
    }
}

/// A whole number, whether JSON has it as an integer or as an integral float (`3300.0`).
fn as_whole(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Beyond ±2^53 a float no longer names one integer.
    (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i64)
}

/// How a JSON value's type reads in an error message.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Models and fields that carry buyer or recipient data (names, addresses, phones, e-mails,
/// free text the buyer wrote). Hold messages describe them by JSON type only.
const PERSONAL: [&str; 9] = [
    "OrdererModel",
    "SenderModel",
    "DeliveryCvsModel",
    "SocialGiftModel",
    "SettlementModel.card",
    "remarks",
    "noshi",
    "memo",
    "mailPlugSentence",
];

/// Whether a field path names personal data (see [`PERSONAL`]).
fn is_personal_field(path: &str) -> bool {
    PERSONAL.iter().any(|p| path.contains(p))
}

/// A short description of a non-personal value for hold messages.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("text {}", quote(s)),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        other => json_kind(other).to_owned(),
    }
}

/// `"value"`, cut to 40 characters so a hostile payload cannot flood the hold list.
fn quote(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

// ---------------------------------------------------------------------------------------------
// The order's parts

fn ordered_at(r: &mut Reader, root: &Object, imported_at: JstInstant) -> JstInstant {
    let Some(text) = r.text(root, "", "orderDatetime", Need::Required, Privacy::Public) else {
        return imported_at;
    };
    match text.trim().parse::<JstInstant>() {
        Ok(at) => at,
        Err(_) => {
            r.hold(
                HoldKind::MalformedField,
                "orderDatetime",
                format!(
                    "expected a date-time like 2025-03-01T10:15:00+0900, found {}; the import time is used instead",
                    quote(&text)
                ),
            );
            imported_at
        }
    }
}

/// `family first`, skipping empty parts.
fn full_name(family: Option<String>, first: Option<String>) -> Option<String> {
    let parts: Vec<String> = [family, first]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Joins the non-empty parts with `-` (phone numbers, postcodes).
fn dashed(parts: [Option<String>; 3]) -> Option<String> {
    let parts: Vec<String> = parts
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("-"))
}

/// Name, kana, phone and address of a person model (`OrdererModel`, `SenderModel`).
struct Person {
    name: String,
    kana: Option<String>,
    phone: Option<String>,
    address: Option<Address>,
}

fn person(r: &mut Reader, obj: &Object, path: &str) -> Person {
    let mut personal = |key: &str, need: Need| r.text(obj, path, key, need, Privacy::Personal);
    let family = personal("familyName", Need::Required);
    let first = personal("firstName", Need::Optional);
    let family_kana = personal("familyNameKana", Need::Optional);
    let first_kana = personal("firstNameKana", Need::Optional);
    let phone = dashed([
        personal("phoneNumber1", Need::Optional),
        personal("phoneNumber2", Need::Optional),
        personal("phoneNumber3", Need::Optional),
    ]);
    let postcode = dashed([
        personal("zipCode1", Need::Optional),
        personal("zipCode2", Need::Optional),
        None,
    ]);
    let prefecture = personal("prefecture", Need::Optional);
    let city = personal("city", Need::Optional);
    let street = personal("subAddress", Need::Optional);
    let address =
        (postcode.is_some() || prefecture.is_some() || city.is_some() || street.is_some()).then(
            || Address {
                postcode: postcode.unwrap_or_default(),
                prefecture: prefecture.unwrap_or_default(),
                city: city.unwrap_or_default(),
                street: street.unwrap_or_default(),
            },
        );
    Person {
        name: full_name(family, first).unwrap_or_default(),
        kana: full_name(family_kana, first_kana),
        phone,
        address,
    }
}

fn buyer(r: &mut Reader, root: &Object) -> Buyer {
    let Some(orderer) = r.object(root, "", "OrdererModel", Need::Required) else {
        return Buyer::default();
    };
    let person = person(r, orderer, "OrdererModel");
    let email = r.text(
        orderer,
        "OrdererModel",
        "emailAddress",
        Need::Optional,
        Privacy::Personal,
    );
    Buyer {
        name: person.name,
        kana: person.kana,
        email,
        phone: person.phone,
        address: person.address,
    }
}

/// The destinations, and whether every line's price and quantity could be read (else the
/// goods total is not checked against them).
fn destinations(r: &mut Reader, root: &Object) -> (Vec<Destination>, bool) {
    let mut reliable = true;
    let Some(packages) = r.array(root, "", "PackageModelList", Need::Required) else {
        return (Vec::new(), false);
    };
    if packages.is_empty() {
        r.hold(
            HoldKind::MalformedField,
            "PackageModelList",
            "empty: the order has no destination",
        );
    }
    let mut destinations = Vec::with_capacity(packages.len());
    for (i, package) in packages.iter().enumerate() {
        let path = format!("PackageModelList[{i}]");
        let Value::Object(package) = package else {
            r.malformed(path, "an object", package, Privacy::Public);
            reliable = false;
            continue;
        };
        let mall_destination_id = r.code(package, &path, "basketId", Need::Required);
        let mall_carrier_code =
            r.code(package, &path, "defaultDeliveryCompanyCode", Need::Optional);
        let sender_path = join(&path, "SenderModel");
        let recipient = r
            .object(package, &path, "SenderModel", Need::Required)
            .map(|sender| person(r, sender, &sender_path));
        let mut lines = Vec::new();
        match r.array(package, &path, "ItemModelList", Need::Required) {
            Some(items) => {
                for (j, item) in items.iter().enumerate() {
                    let item_path = format!("{path}.ItemModelList[{j}]");
                    let Value::Object(item) = item else {
                        r.malformed(item_path, "an object", item, Privacy::Public);
                        reliable = false;
                        continue;
                    };
                    let (line, line_reliable) = line(r, item, &item_path);
                    reliable &= line_reliable;
                    lines.push(line);
                }
            }
            None => reliable = false,
        }
        let (recipient_name, recipient_kana, phone, address) = match recipient {
            Some(p) => (p.name, p.kana, p.phone, p.address.unwrap_or_default()),
            None => Default::default(),
        };
        destinations.push(Destination {
            mall_destination_id,
            recipient_name,
            recipient_kana,
            phone,
            address,
            mall_carrier_code,
            lines,
        });
    }
    (destinations, reliable)
}

/// One `ItemModel`, and whether its price and quantity could be read.
fn line(r: &mut Reader, item: &Object, path: &str) -> (OrderLine, bool) {
    let mut reliable = true;
    let mall_line_id = r
        .code(item, path, "itemDetailId", Need::Required)
        .unwrap_or_default();
    let name = r
        .text(item, path, "itemName", Need::Required, Privacy::Public)
        .unwrap_or_default();
    let manage_number = r
        .text(item, path, "manageNumber", Need::Optional, Privacy::Public)
        .filter(|m| !m.is_empty());
    let item_id = r.code(item, path, "itemId", Need::Optional);
    let mall_item_id = match manage_number.or(item_id) {
        Some(id) => id,
        None => {
            r.missing(join(path, "manageNumber"), "text (or an itemId)");
            String::new()
        }
    };

    let mut seller_sku = None;
    let mut option_code = None;
    let mut options = Vec::new();
    if let Some(skus) = r.array(item, path, "SkuModelList", Need::Optional)
        && let Some(first) = skus.first()
    {
        let sku_path = format!("{path}.SkuModelList[0]");
        match first {
            Value::Object(sku) => {
                seller_sku = r.text(
                    sku,
                    &sku_path,
                    "merchantDefinedSkuId",
                    Need::Optional,
                    Privacy::Public,
                );
                option_code = r.text(sku, &sku_path, "variantId", Need::Optional, Privacy::Public);
                if let Some(info) =
                    r.text(sku, &sku_path, "skuInfo", Need::Optional, Privacy::Public)
                {
                    push_options(&mut options, &info);
                }
            }
            other => r.malformed(sku_path, "an object", other, Privacy::Public),
        }
    }
    if let Some(choice) = r.text(
        item,
        path,
        "selectedChoice",
        Need::Optional,
        Privacy::Public,
    ) {
        push_options(&mut options, &choice);
    }

    let quantity = match r.int(item, path, "units", Need::Required) {
        Some(units) if units >= 1 && units <= i64::from(u32::MAX) => units as u32,
        Some(units) => {
            r.hold(
                HoldKind::MalformedField,
                join(path, "units"),
                format!("expected a whole number ≥ 1, found the number {units}; 0 used"),
            );
            reliable = false;
            0
        }
        None => {
            reliable = false;
            0
        }
    };
    // priceTaxIncl (v3+) when present; older payloads only carry price.
    let price_key = match item.get("priceTaxIncl") {
        None | Some(Value::Null) => "price",
        Some(_) => "priceTaxIncl",
    };
    let unit_price = r.amount(item, path, price_key, Need::Required);
    reliable &= unit_price.usable().is_some();
    let tax_rate_percent = tax_rate(r, item, path);

    let line = OrderLine {
        mall_line_id,
        mall_item_id,
        seller_sku,
        option_code,
        sku: None,
        name,
        options,
        quantity,
        unit_price: unit_price.value(),
        option_surcharge: 0,
        tax_rate_percent,
        gift_wrapped: false,
    };
    (line, reliable)
}

/// `taxRate` is a fraction (`0.1`, `0.08`, `0`); we keep percent.
fn tax_rate(r: &mut Reader, item: &Object, path: &str) -> u8 {
    const DEFAULT: u8 = 10;
    let Some(value) = r.get(item, path, "taxRate", Need::Required, "a rate like 0.1") else {
        return DEFAULT;
    };
    match value.as_f64() {
        Some(rate) if (0.0..=1.0).contains(&rate) => (rate * 100.0).round() as u8,
        _ => {
            r.malformed(
                join(path, "taxRate"),
                "a rate between 0 and 1 like 0.1",
                value,
                Privacy::Public,
            );
            DEFAULT
        }
    }
}

/// Adds `名前:値` lines (half- or full-width colon) as chosen options; a line without a colon
/// becomes an option with an empty name. Duplicates (SKU info repeated in the choice text)
/// are kept once.
fn push_options(options: &mut Vec<ChosenOption>, text: &str) {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let option = match line.split_once([':', '：']) {
            Some((name, value)) => ChosenOption {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
            },
            None => ChosenOption {
                name: String::new(),
                value: line.to_owned(),
            },
        };
        if !options.contains(&option) {
            options.push(option);
        }
    }
}

fn amounts_and_gift(
    r: &mut Reader,
    root: &Object,
    destinations: &[Destination],
    lines_reliable: bool,
) -> (Amounts, Gift) {
    let mut amount = |key: &str, need: Need| r.amount(root, "", key, need);
    let goods = amount("goodsPrice", Need::Required);
    let shipping = amount("postagePrice", Need::Required);
    let cod_fee = amount("deliveryPrice", Need::Required);
    let payment_fee = amount("paymentCharge", Need::Required);
    let total = amount("totalPrice", Need::Required);
    let billed = amount("requestPrice", Need::Required);
    let coupons = amount("couponAllTotalPrice", Need::Optional);
    let coupons_shop = amount("couponShopPrice", Need::Optional);
    let coupons_other = amount("couponOtherPrice", Need::Optional);
    let tax = match root.get("goodsTax") {
        None | Some(Value::Null) => None,
        Some(_) => r.amount(root, "", "goodsTax", Need::Optional).usable(),
    };
    let points = match r.object(root, "", "PointModel", Need::Optional) {
        Some(point) => r.amount(point, "PointModel", "usedPoint", Need::Optional),
        None => Amount::Yen(0),
    };

    let gift_flag = r.int(root, "", "giftCheckFlag", Need::Optional);
    let mut gift = Gift {
        is_gift: gift_flag == Some(1),
        ..Gift::default()
    };
    let mut wrapping_total = Amount::Yen(0);
    for (key, kind) in [("WrappingModel1", "paper"), ("WrappingModel2", "ribbon")] {
        let Some(model) = r.object(root, "", key, Need::Optional) else {
            continue;
        };
        if r.int(model, key, "deleteWrappingFlag", Need::Optional) == Some(1) {
            continue;
        }
        let price = r.amount(model, key, "price", Need::Optional);
        let name = r
            .text(model, key, "name", Need::Optional, Privacy::Public)
            .unwrap_or_default();
        wrapping_total = match (wrapping_total, price) {
            (Amount::Yen(a), Amount::Yen(b)) => Amount::Yen(a.saturating_add(b)),
            (Amount::Unreadable, _) | (_, Amount::Unreadable) => Amount::Unreadable,
            _ => Amount::NotFixed,
        };
        gift.wrappings.push(Wrapping {
            kind: kind.to_owned(),
            name,
            price: price.value(),
        });
    }

    let amounts = Amounts {
        goods: goods.value(),
        shipping: shipping.value(),
        cod_fee: cod_fee.value(),
        payment_fee: payment_fee.value(),
        gift_wrapping: wrapping_total.value(),
        coupons: coupons.value(),
        coupons_shop_funded: coupons_shop.value(),
        points: points.value(),
        total: total.value(),
        billed: billed.value(),
        tax,
    };

    if !r.not_fixed {
        check_totals(
            r,
            Parts {
                goods,
                shipping,
                cod_fee,
                payment_fee,
                wrapping: wrapping_total,
                total,
                billed,
                coupons,
                coupons_shop,
                coupons_other,
                points,
            },
            lines_reliable.then(|| {
                destinations
                    .iter()
                    .flat_map(|d| &d.lines)
                    .fold(0, |sum: Yen, l| {
                        sum.saturating_add(l.unit_price.saturating_mul(Yen::from(l.quantity)))
                    })
            }),
        );
    }
    (amounts, gift)
}

/// The amounts as read, for the totals checks.
struct Parts {
    goods: Amount,
    shipping: Amount,
    cod_fee: Amount,
    payment_fee: Amount,
    wrapping: Amount,
    total: Amount,
    billed: Amount,
    coupons: Amount,
    coupons_shop: Amount,
    coupons_other: Amount,
    points: Amount,
}

/// The invariants Rakuten's amounts keep. Each check runs only when all its amounts were
/// readable; each failure is one hold giving both numbers. Sums saturate: a hostile payload
/// must not overflow.
fn check_totals(r: &mut Reader, p: Parts, lines_sum: Option<Yen>) {
    let mut mismatch =
        |field: &str, message: String| r.hold(HoldKind::TotalsMismatch, field, message);
    if let (Some(goods), Some(lines)) = (p.goods.usable(), lines_sum)
        && goods != lines
    {
        mismatch(
            "goodsPrice",
            format!(
                "goodsPrice is {goods} but the lines add up to {lines} (unit price × quantity)"
            ),
        );
    }
    if let (Some(total), Some(goods), Some(shipping), Some(cod), Some(fee), Some(wrapping)) = (
        p.total.usable(),
        p.goods.usable(),
        p.shipping.usable(),
        p.cod_fee.usable(),
        p.payment_fee.usable(),
        p.wrapping.usable(),
    ) {
        let parts = [goods, shipping, cod, fee, wrapping]
            .into_iter()
            .fold(0, Yen::saturating_add);
        if total != parts {
            mismatch(
                "totalPrice",
                format!(
                    "totalPrice is {total} but goods {goods} + postage {shipping} + COD fee {cod} + \
                     payment charge {fee} + wrapping {wrapping} = {parts}"
                ),
            );
        }
    }
    if let (Some(all), Some(shop), Some(other)) = (
        p.coupons.usable(),
        p.coupons_shop.usable(),
        p.coupons_other.usable(),
    ) {
        let parts = shop.saturating_add(other);
        if all != parts {
            mismatch(
                "couponAllTotalPrice",
                format!(
                    "couponAllTotalPrice is {all} but shop coupons {shop} + other coupons {other} = {parts}"
                ),
            );
        }
    }
    if let (Some(billed), Some(total), Some(coupons), Some(points)) = (
        p.billed.usable(),
        p.total.usable(),
        p.coupons.usable(),
        p.points.usable(),
    ) {
        let expected = total.saturating_sub(coupons).saturating_sub(points);
        if billed != expected {
            mismatch(
                "requestPrice",
                format!(
                    "requestPrice is {billed} but totalPrice {total} − coupons {coupons} − points {points} = {expected}"
                ),
            );
        }
    }
}

/// Rakuten's `settlementMethodCode` (rakuten.md §5) as our method; `None` for codes we do
/// not know.
pub fn payment_method(code: i64) -> Option<PaymentMethod> {
    use PaymentMethod::*;
    Some(match code {
        1 => CreditCard,
        2 => CashOnDelivery,
        // 3/21 後払い; 4 shopping credit/loan, 5 auto loan, 6 lease: a finance company pays
        // the shop after the order, the buyer pays it later.
        3 | 4 | 5 | 6 | 21 => Deferred,
        7 => Invoice,
        8 => Points,
        9 => BankTransfer,
        // Apple Pay, Alipay, PayPal, Alipay (支付宝).
        12 | 16 | 17 | 27 => Wallet,
        // Seven-Eleven; Lawson/FamilyMart/post-office ATM (prepaid).
        13 | 14 => Konbini,
        _ => return None,
    })
}

fn payment(r: &mut Reader, root: &Object) -> Payment {
    let mut payment = Payment {
        method: PaymentMethod::Other,
        mall_method_code: String::new(),
        mall_method_name: String::new(),
        paid_at: None,
        due_date: None,
    };
    if let Some(settlement) = r.object(root, "", "SettlementModel", Need::Required) {
        let path = "SettlementModel";
        let code = r.code(settlement, path, "settlementMethodCode", Need::Required);
        let name = r.text(
            settlement,
            path,
            "settlementMethod",
            Need::Optional,
            Privacy::Public,
        );
        payment.mall_method_code = code.clone().unwrap_or_default();
        payment.mall_method_name = name.clone().unwrap_or_default();
        if let Some(code) = code {
            match code.parse::<i64>().ok().and_then(payment_method) {
                Some(method) => payment.method = method,
                None => r.hold(
                    HoldKind::UnknownPaymentMethod,
                    "SettlementModel.settlementMethodCode",
                    format!(
                        "settlement method code {code} ({}) is not one ichigen knows",
                        quote(name.as_deref().unwrap_or("no name"))
                    ),
                ),
            }
        }
    }
    if let Some(due_dates) = r.array(root, "", "DueDateModelList", Need::Optional) {
        for (i, entry) in due_dates.iter().enumerate() {
            let path = format!("DueDateModelList[{i}]");
            let Value::Object(entry) = entry else {
                r.malformed(path, "an object", entry, Privacy::Public);
                continue;
            };
            if r.int(entry, &path, "dueDateType", Need::Required) == Some(0) {
                payment.due_date = r.date(entry, &path, "dueDate", Need::Required);
                break;
            }
        }
    }
    payment
}

fn delivery(r: &mut Reader, root: &Object) -> Delivery {
    let mall_method_name = r
        .object(root, "", "DeliveryModel", Need::Required)
        .and_then(|model| {
            r.text(
                model,
                "DeliveryModel",
                "deliveryName",
                Need::Required,
                Privacy::Public,
            )
        })
        .unwrap_or_default();
    let desired_date = r.date(root, "", "deliveryDate", Need::Optional);
    let time_slot = match r.code(root, "", "shippingTerm", Need::Optional) {
        None => None,
        Some(raw) if raw == "0" => None,
        Some(raw) => {
            let mapped = time_slot(&raw);
            if mapped.is_none() {
                r.hold(
                    HoldKind::UnmappedTimeSlot,
                    "shippingTerm",
                    format!(
                        "desired time slot {} maps to none of ours; map it before printing labels",
                        quote(&raw)
                    ),
                );
            }
            Some(TimeSlot { raw, mapped })
        }
    };
    Delivery {
        mall_method_name,
        carrier: None,
        desired_date,
        time_slot,
    }
}

/// Rakuten's `shippingTerm` as our `HH-HH` slot: `1` (午前中) is `08-12`; `h1h2` (e.g. `1214`,
/// `812`) is `h1-h2` when 7 ≤ h1 < h2 ≤ 24. Others (2 午後, 9 その他) need the shop's table.
pub fn time_slot(raw: &str) -> Option<String> {
    let code: u32 = raw.trim().parse().ok()?;
    if code == 1 {
        return Some("08-12".into());
    }
    if !(100..=9999).contains(&code) {
        return None;
    }
    let (from, to) = (code / 100, code % 100);
    (7 <= from && from < to && to <= 24).then(|| format!("{from:02}-{to:02}"))
}

/// The first package's `noshi` field, for orders whose remarks do not mention one.
fn package_noshi(r: &mut Reader, root: &Object) -> Option<String> {
    let packages = root.get("PackageModelList")?.as_array()?;
    packages.iter().enumerate().find_map(|(i, package)| {
        let path = format!("PackageModelList[{i}]");
        r.text(
            package.as_object()?,
            &path,
            "noshi",
            Need::Optional,
            Privacy::Personal,
        )
        .filter(|n| !n.trim().is_empty())
    })
}

/// The noshi request from the remarks: the text after `のし` on its line (`のし：御祝`), or, for
/// RMS's section layout (`[のし:]` then lines until the next `[…:]` header), those lines.
fn noshi(remarks: &str) -> Option<String> {
    const OPEN: [char; 4] = ['[', '【', '「', '('];
    const CLOSE: [char; 5] = [']', '】', '」', ')', '）'];
    let (_, after) = remarks.split_once("のし")?;
    let mut lines = after.lines();
    let first = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches([':', '：', '=', '＝'])
        .trim_start_matches(CLOSE)
        .trim()
        .trim_end_matches(CLOSE)
        .trim();
    if !first.is_empty() {
        return Some(first.to_owned());
    }
    let section: Vec<&str> = lines
        .map(str::trim)
        .take_while(|line| !(line.starts_with(OPEN) && line.ends_with(CLOSE)))
        .filter(|line| !line.is_empty())
        .collect();
    (!section.is_empty()).then(|| section.join("\n"))
}

/// `orderProgress` (rakuten.md §4).
pub fn status_label(progress: i64) -> Option<&'static str> {
    Some(match progress {
        100 => "注文確認待ち",
        200 => "楽天処理中",
        300 => "発送待ち",
        400 => "変更確定待ち",
        500 => "発送済",
        600 => "支払手続き中",
        700 => "支払手続き済",
        800 => "キャンセル確定待ち",
        900 => "キャンセル確定",
        _ => return None,
    })
}

fn mall_status(r: &mut Reader, root: &Object) -> (MallStatus, Option<i64>) {
    let Some(code) = r.code(root, "", "orderProgress", Need::Required) else {
        return (
            MallStatus {
                code: String::new(),
                label: String::new(),
            },
            None,
        );
    };
    let progress = code.parse::<i64>().ok();
    let label = progress.and_then(status_label);
    if label.is_none() {
        r.hold(
            HoldKind::MalformedField,
            "orderProgress",
            format!(
                "orderProgress {} is not a Rakuten status ichigen knows",
                quote(&code)
            ),
        );
    }
    let known = label.is_some();
    let label = label.unwrap_or_default().to_owned();
    (MallStatus { code, label }, progress.filter(|_| known))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_slots() {
        assert_eq!(time_slot("1").as_deref(), Some("08-12"));
        assert_eq!(time_slot("1214").as_deref(), Some("12-14"));
        assert_eq!(time_slot("1921").as_deref(), Some("19-21"));
        assert_eq!(time_slot("812").as_deref(), Some("08-12"));
        assert_eq!(time_slot("2024").as_deref(), Some("20-24"));
        for unmapped in [
            "2", "9", "1412", "0612", "2025", "1212", "abc", "-1", "12345",
        ] {
            assert_eq!(time_slot(unmapped), None, "{unmapped}");
        }
    }

    #[test]
    fn noshi_text() {
        assert_eq!(noshi("のし：御祝\n午前中希望").as_deref(), Some("御祝"));
        assert_eq!(noshi("[のし:内祝い 山本]").as_deref(), Some("内祝い 山本"));
        assert_eq!(noshi("よろしくお願いします"), None);
        assert_eq!(noshi("のし"), None);
        assert_eq!(
            noshi("[のし:]\n表書き：御祝\n名入れ：山田\n[ギフト包装:]\n希望する").as_deref(),
            Some("表書き：御祝\n名入れ：山田")
        );
        assert_eq!(noshi("[のし:]\n[ギフト包装:]\n希望する"), None);
    }

    #[test]
    fn options_from_lines() {
        let mut options = Vec::new();
        push_options(&mut options, "サイズ:M\r\nカラー：ブラック\n\n刻印なし");
        push_options(&mut options, "サイズ:M");
        let pairs: Vec<_> = options
            .iter()
            .map(|o| (o.name.as_str(), o.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("サイズ", "M"), ("カラー", "ブラック"), ("", "刻印なし")]
        );
    }

    #[test]
    fn every_known_payment_code_maps() {
        for code in [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 16, 17, 21, 27] {
            assert!(payment_method(code).is_some(), "{code}");
        }
        assert_eq!(payment_method(14), Some(PaymentMethod::Konbini));
        assert_eq!(payment_method(99), None);
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(as_whole(&serde_json::json!(3300)), Some(3300));
        assert_eq!(as_whole(&serde_json::json!(3300.0)), Some(3300));
        assert_eq!(as_whole(&serde_json::json!(0.5)), None);
        assert_eq!(as_whole(&serde_json::json!(1e300)), None);
        assert_eq!(as_whole(&serde_json::json!("3300")), None);
    }
}
