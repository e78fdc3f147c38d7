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

use crate::reading::quote;
use crate::secret::json_kind;

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
    // Error answers are said to be errors, never read as "no orders".
    if let Some((code, message)) = super::wire::gateway_error(body) {
        return Err(error(
            "Results.errorCode",
            format!(
                "is {code} ({message}): an error answer, not orders; {}",
                super::wire::gateway_advice(&code)
            ),
        ));
    }
    let messages: Vec<super::wire::MessageModel> = value
        .get("MessageModelList")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default();
    let call_errors = super::wire::call_errors(&messages);
    if !call_errors.is_empty() {
        let codes: Vec<String> = call_errors.iter().map(|m| m.describe()).collect();
        return Err(error(
            "MessageModelList",
            format!(
                "carries {}: Rakuten refused the call; this is an error, not an empty result",
                codes.join(", ")
            ),
        ));
    }
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
    // Numbers getOrder could not return (INFO_102 per number, beside an empty or shorter
    // list) are reported per number.
    let not_returned = messages
        .iter()
        .filter(|m| m.order_number.is_some() && m.code() != GET_ORDER_OK)
        .filter_map(|m| {
            let number = m.order_number.clone()?;
            Some(Err(NormaliseError {
                mall: MallId::Rakuten,
                mall_order_id: number,
                field: "(order)".into(),
                problem: format!("was not returned by getOrder: {}", m.describe()),
            }))
        });
    Ok(list
        .iter()
        .map(|order| normalise_order(store, order, imported_at))
        .chain(not_returned)
        .collect())
}

/// getOrder's success message.
const GET_ORDER_OK: &str = "ORDER_EXT_API_GET_ORDER_INFO_101";

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
    let (destinations, line_money) = destinations(&mut r, root);
    let (amounts, gift) = amounts_and_gift(&mut r, root, line_money);
    let mut payment = payment(&mut r, root);
    payment.paid_at = paid_at(&mut r, root);
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

/// What the lines add up to in Rakuten's own terms, for the totals checks; `None` when a
/// line's price, quantity or tax could not be read (the check is then skipped: the
/// malformed-field hold already explains it).
#[derive(Clone, Copy, Debug, Default)]
struct LineMoney {
    /// Σ `price` × `units`: what `goodsPrice` counts (tax-exclusive items without their tax).
    listed: Option<Yen>,
    /// Σ (`priceTaxIncl` − `price`) × `units` over tax-exclusive items (`includeTaxFlag` 0):
    /// the tax `totalPrice` adds on top of `goodsPrice`.
    exclusive_tax: Option<Yen>,
}

impl LineMoney {
    fn add(self, other: LineMoney) -> LineMoney {
        LineMoney {
            listed: self
                .listed
                .zip(other.listed)
                .map(|(a, b)| a.saturating_add(b)),
            exclusive_tax: self
                .exclusive_tax
                .zip(other.exclusive_tax)
                .map(|(a, b)| a.saturating_add(b)),
        }
    }

    fn unknown() -> LineMoney {
        LineMoney {
            listed: None,
            exclusive_tax: None,
        }
    }

    fn zero() -> LineMoney {
        LineMoney {
            listed: Some(0),
            exclusive_tax: Some(0),
        }
    }
}

/// Rakuten's placeholder in `SenderModel` while a social gift's recipient has not entered
/// their details (`入力待ち`, zip `999`-`9999`).
const GIFT_PLACEHOLDER: &str = "入力待ち";

/// Whether this package is a social gift (ソーシャルギフト) whose recipient has not entered
/// their address yet: `SocialGiftModel.inputFlag` 0, or a `SenderModel` that is Rakuten's
/// placeholder (older versions do not send `SocialGiftModel`). Returns the input due date
/// when Rakuten gives one.
fn awaiting_gift_recipient(package: &Object) -> Option<Option<String>> {
    let gift = package.get("SocialGiftModel").and_then(Value::as_object);
    let due = gift
        .and_then(|g| g.get("inputDueDate"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if gift
        .and_then(|g| g.get("inputFlag"))
        .and_then(as_whole)
        .is_some_and(|flag| flag == 0)
    {
        return Some(due);
    }
    let sender = package.get("SenderModel").and_then(Value::as_object)?;
    let text = |key: &str| sender.get(key).and_then(Value::as_str).map(str::trim);
    let placeholder = ["prefecture", "city", "subAddress", "familyName"]
        .iter()
        .any(|key| text(key) == Some(GIFT_PLACEHOLDER))
        || (text("zipCode1") == Some("999") && text("zipCode2") == Some("9999"));
    placeholder.then_some(due)
}

/// The destinations, and what their lines add up to (see [`LineMoney`]).
fn destinations(r: &mut Reader, root: &Object) -> (Vec<Destination>, LineMoney) {
    let mut money = LineMoney::zero();
    let Some(packages) = r.array(root, "", "PackageModelList", Need::Required) else {
        return (Vec::new(), LineMoney::unknown());
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
            money = LineMoney::unknown();
            continue;
        };
        let mall_destination_id = r.code(package, &path, "basketId", Need::Required);
        let mall_carrier_code =
            r.code(package, &path, "defaultDeliveryCompanyCode", Need::Optional);
        let sender_path = join(&path, "SenderModel");
        let recipient = match awaiting_gift_recipient(package) {
            Some(due) => {
                // Never ship to the placeholder: the destination stays empty and held until
                // the recipient fills it in (a later getOrder brings the real address).
                let due = due.map_or(String::new(), |d| format!("; input due {}", quote(&d)));
                r.hold(
                    HoldKind::AwaitingRecipientAddress,
                    sender_path.clone(),
                    format!(
                        "waiting for the gift recipient's address: a social gift (ソーシャルギフト) \
                         whose recipient has not entered their details yet{due}. SenderModel holds \
                         Rakuten's placeholder ({GIFT_PLACEHOLDER}), which is not used; the order \
                         is read again once the recipient fills it in"
                    ),
                );
                None
            }
            None => r
                .object(package, &path, "SenderModel", Need::Required)
                .map(|sender| person(r, sender, &sender_path)),
        };
        let mut lines = Vec::new();
        match r.array(package, &path, "ItemModelList", Need::Required) {
            Some(items) => {
                for (j, item) in items.iter().enumerate() {
                    let item_path = format!("{path}.ItemModelList[{j}]");
                    let Value::Object(item) = item else {
                        r.malformed(item_path, "an object", item, Privacy::Public);
                        money = LineMoney::unknown();
                        continue;
                    };
                    let (line, line_money) = line(r, item, &item_path);
                    money = money.add(line_money);
                    lines.push(line);
                }
            }
            None => money = LineMoney::unknown(),
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
    (destinations, money)
}

/// One `ItemModel`, and what it adds to the totals (see [`LineMoney`]).
fn line(r: &mut Reader, item: &Object, path: &str) -> (OrderLine, LineMoney) {
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
    // `price` is what goodsPrice counts: without tax for a tax-exclusive item
    // (`includeTaxFlag` 0). `priceTaxIncl` (v3+) is the price with tax; older payloads lack
    // it, and then a tax-exclusive item's tax is only known from the order's `goodsTax`.
    let price = r.amount(item, path, "price", Need::Required);
    let with_tax = match item.get("priceTaxIncl") {
        None | Some(Value::Null) => None,
        Some(_) => Some(r.amount(item, path, "priceTaxIncl", Need::Optional)),
    };
    let flag = r.int(item, path, "includeTaxFlag", Need::Optional);
    let exclusive = match (flag, price, with_tax) {
        (Some(flag), _, _) => flag == 0,
        // No flag: a priceTaxIncl above price can only mean the price is without tax.
        (None, Amount::Yen(p), Some(Amount::Yen(t))) => t > p,
        _ => false,
    };
    let unit_price = match with_tax {
        Some(Amount::Yen(t)) => Amount::Yen(t),
        _ => price,
    };
    reliable &= price.usable().is_some() && unit_price.usable().is_some();
    let units = Yen::from(quantity);
    let money = LineMoney {
        listed: price
            .usable()
            .filter(|_| reliable)
            .map(|p| p.saturating_mul(units)),
        exclusive_tax: match (exclusive, price, with_tax) {
            (false, _, _) => Some(0),
            (true, Amount::Yen(p), Some(Amount::Yen(t))) => {
                Some(t.saturating_sub(p).saturating_mul(units))
            }
            (true, _, _) => None,
        }
        .filter(|_| reliable),
    };
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
    (line, money)
}

/// `taxRate` is a fraction (`0.1`, `0.08`, `0`); we keep percent. Payloads before v3 (2019)
/// have no `taxRate`: the standard 10 % is assumed, without a hold (it is not wrong data).
fn tax_rate(r: &mut Reader, item: &Object, path: &str) -> u8 {
    const DEFAULT: u8 = 10;
    let Some(value) = r.get(item, path, "taxRate", Need::Optional, "a rate like 0.1") else {
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

/// Reads the amounts and the wrapping, checks them with Rakuten's own formulas (see
/// [`check_totals`]) and maps them onto the unified amounts:
/// - `goods` is the items with their tax (Σ `priceTaxIncl` × `units`): `goodsPrice` without
///   wrapping, plus the tax of tax-exclusive items;
/// - `cod_fee` is `deliveryPrice`; `payment_fee` is `paymentCharge` plus
///   `additionalFeeOccurAmountToUser` (both billed on top of `totalPrice`);
/// - `total` is what the buyer's order comes to before coupons and points:
///   `totalPrice` + `deliveryPrice` + `paymentCharge` + `additionalFeeOccurAmountToUser`, so
///   the unified `total = goods + shipping + fees + wrapping` and `billed = total − coupons −
///   points` hold whenever Rakuten's own formulas hold; `billed` is `requestPrice`.
fn amounts_and_gift(r: &mut Reader, root: &Object, lines: LineMoney) -> (Amounts, Gift) {
    let mut amount = |key: &str, need: Need| r.amount(root, "", key, need);
    let goods = amount("goodsPrice", Need::Required);
    let shipping = amount("postagePrice", Need::Required);
    // Absent in some older payloads (paymentCharge before v2): absent means none.
    let cod_fee = amount("deliveryPrice", Need::Optional);
    let payment_fee = amount("paymentCharge", Need::Optional);
    let buyer_fee = amount("additionalFeeOccurAmountToUser", Need::Optional);
    let total = amount("totalPrice", Need::Required);
    let billed = amount("requestPrice", Need::Required);
    let coupons = amount("couponAllTotalPrice", Need::Optional);
    let coupons_shop = amount("couponShopPrice", Need::Optional);
    let coupons_other = amount("couponOtherPrice", Need::Optional);
    let goods_tax = match root.get("goodsTax") {
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
    // The tax of tax-exclusive wrapping (`includeTaxFlag` 0, `taxPrice`), which like an
    // item's tax is on top of goodsPrice. [inferred: no sample has tax-exclusive wrapping]
    let mut wrapping_tax: Option<Yen> = Some(0);
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
        if r.int(model, key, "includeTaxFlag", Need::Optional) == Some(0) {
            let tax = r.amount(model, key, "taxPrice", Need::Optional).usable();
            wrapping_tax = wrapping_tax.zip(tax).map(|(a, b)| a.saturating_add(b));
        }
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
    // The tax totalPrice adds to goodsPrice: from the lines when every tax-exclusive line
    // has its priceTaxIncl, else Rakuten's own goodsTax (外税合計, older payloads) — but only
    // when the lines themselves were readable (an unreadable line already has its hold).
    let legacy_tax = goods_tax;
    let goods_tax = goods_tax.filter(|_| lines.listed.is_some());
    let exclusive_tax = lines
        .exclusive_tax
        .zip(wrapping_tax)
        .map(|(a, b)| a.saturating_add(b))
        .or(goods_tax);

    let extra_fees = payment_fee.value().saturating_add(buyer_fee.value());
    let amounts = Amounts {
        goods: goods
            .value()
            .saturating_sub(wrapping_total.value())
            .saturating_add(lines.exclusive_tax.or(goods_tax).unwrap_or(0)),
        shipping: shipping.value(),
        cod_fee: cod_fee.value(),
        payment_fee: extra_fees,
        gift_wrapping: wrapping_total
            .value()
            .saturating_add(wrapping_tax.unwrap_or(0)),
        coupons: coupons.value(),
        coupons_shop_funded: coupons_shop.value(),
        points: points.value(),
        total: total
            .value()
            .saturating_add(cod_fee.value())
            .saturating_add(extra_fees),
        billed: billed.value(),
        tax: tax_summary(root).or(legacy_tax),
    };

    if !r.not_fixed {
        check_totals(
            r,
            Parts {
                goods,
                shipping,
                cod_fee,
                payment_fee,
                buyer_fee,
                wrapping: wrapping_total,
                total,
                billed,
                coupons,
                coupons_shop,
                coupons_other,
                points,
            },
            lines.listed,
            exclusive_tax,
        );
    }
    (amounts, gift)
}

/// The tax in the billed amount: Σ `TaxSummaryModelList[].reqPriceTax` (v3+), when every
/// entry has a fixed one.
fn tax_summary(root: &Object) -> Option<Yen> {
    let list = root.get("TaxSummaryModelList")?.as_array()?;
    if list.is_empty() {
        return None;
    }
    list.iter().try_fold(0, |sum: Yen, entry| {
        let tax = entry.get("reqPriceTax").and_then(as_whole)?;
        (tax != NOT_FIXED).then(|| sum.saturating_add(tax))
    })
}

/// The amounts as read, for the totals checks.
struct Parts {
    goods: Amount,
    shipping: Amount,
    cod_fee: Amount,
    payment_fee: Amount,
    buyer_fee: Amount,
    wrapping: Amount,
    total: Amount,
    billed: Amount,
    coupons: Amount,
    coupons_shop: Amount,
    coupons_other: Amount,
    points: Amount,
}

/// One term of a formula: its name, its sign and its amount (`None` if unreadable).
type Term<'a> = (&'a str, i8, Option<Yen>);

/// Checks `field` (read as `actual`) against `terms`; a mismatch is one hold naming the
/// formula, every amount and the difference. Skipped when any amount is unreadable.
fn check(r: &mut Reader, field: &str, actual: Option<Yen>, terms: &[Term<'_>]) {
    let Some(actual) = actual else { return };
    let Some(values) = terms
        .iter()
        .map(|(_, _, v)| *v)
        .collect::<Option<Vec<Yen>>>()
    else {
        return;
    };
    let expected = terms
        .iter()
        .zip(&values)
        .fold(0, |sum: Yen, ((_, sign, _), v)| {
            if *sign < 0 {
                sum.saturating_sub(*v)
            } else {
                sum.saturating_add(*v)
            }
        });
    if actual == expected {
        return;
    }
    let render = |with_values: bool| {
        terms
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(i, ((name, sign, _), v))| {
                let op = match (i, *sign < 0) {
                    (0, false) => "",
                    (0, true) => "− ",
                    (_, false) => " + ",
                    (_, true) => " − ",
                };
                if with_values {
                    format!("{op}{v}")
                } else {
                    format!("{op}{name}")
                }
            })
            .collect::<String>()
    };
    let difference = actual.saturating_sub(expected);
    r.hold(
        HoldKind::TotalsMismatch,
        field,
        format!(
            "{field} {actual} does not match {field} = {} = {} = {expected} (difference {difference:+})",
            render(false),
            render(true)
        ),
    );
}

/// Rakuten's own formulas (the official getOrder field table, confirmed by the public
/// samples in `shared/malls/samples/rakuten/`):
/// 1. `goodsPrice = Σ price × units + wrapping` (`price` is without tax for a tax-exclusive
///    item, so its tax is not in goodsPrice);
/// 2. `totalPrice = goodsPrice + postagePrice + tax of tax-exclusive items` (the COD fee and
///    payment charge are **not** in totalPrice; wrapping is already in goodsPrice);
/// 3. `couponAllTotalPrice = couponShopPrice + couponOtherPrice`;
/// 4. `requestPrice = totalPrice + deliveryPrice + paymentCharge +
///    additionalFeeOccurAmountToUser − couponAllTotalPrice − usedPoint`.
///
/// Each check runs only when all its amounts were readable. Sums saturate: a hostile payload
/// must not overflow.
fn check_totals(r: &mut Reader, p: Parts, lines_listed: Option<Yen>, exclusive_tax: Option<Yen>) {
    check(
        r,
        "goodsPrice",
        p.goods.usable(),
        &[
            ("Σ price × units", 1, lines_listed),
            ("wrapping", 1, p.wrapping.usable()),
        ],
    );
    check(
        r,
        "totalPrice",
        p.total.usable(),
        &[
            ("goodsPrice", 1, p.goods.usable()),
            ("postagePrice", 1, p.shipping.usable()),
            ("tax of tax-exclusive items", 1, exclusive_tax),
        ],
    );
    check(
        r,
        "couponAllTotalPrice",
        p.coupons.usable(),
        &[
            ("couponShopPrice", 1, p.coupons_shop.usable()),
            ("couponOtherPrice", 1, p.coupons_other.usable()),
        ],
    );
    check(
        r,
        "requestPrice",
        p.billed.usable(),
        &[
            ("totalPrice", 1, p.total.usable()),
            ("deliveryPrice", 1, p.cod_fee.usable()),
            ("paymentCharge", 1, p.payment_fee.usable()),
            ("additionalFeeOccurAmountToUser", 1, p.buyer_fee.usable()),
            ("couponAllTotalPrice", -1, p.coupons.usable()),
            ("usedPoint", -1, p.points.usable()),
        ],
    );
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

/// The `settlementMethod` names of rakuten.md §5, for payloads without
/// `settlementMethodCode` (getOrder without a version, before 2019). Codes 3 and 14 have had
/// other labels; only the exact names seen are listed.
pub(crate) fn payment_code_by_name(name: &str) -> Option<i64> {
    Some(match name.trim() {
        "クレジットカード" => 1,
        "代金引換" => 2,
        "ショッピングクレジット／ローン" => 4,
        "オートローン" => 5,
        "リース" => 6,
        "請求書払い" => 7,
        "ポイント" => 8,
        "銀行振込" => 9,
        "Apple Pay" => 12,
        "セブンイレブン（前払）" => 13,
        "ローソン、郵便局ATM等（前払）" | "ファミリーマート、ローソン等（前払）" => {
            14
        }
        "Alipay" => 16,
        "PayPal" => 17,
        "後払い決済" => 21,
        "Alipay（支付宝）" => 27,
        _ => return None,
    })
}

/// Payment method and due date. `SettlementModel` may be `null` and older payloads have no
/// `settlementMethodCode`: neither is a hold (the method is then read from the name, or left
/// as `other`). Only a code or name ichigen does not know is held.
fn payment(r: &mut Reader, root: &Object) -> Payment {
    let mut payment = Payment {
        method: PaymentMethod::Other,
        mall_method_code: String::new(),
        mall_method_name: String::new(),
        paid_at: None,
        due_date: None,
    };
    if let Some(settlement) = r.object(root, "", "SettlementModel", Need::Optional) {
        let path = "SettlementModel";
        let code = r.code(settlement, path, "settlementMethodCode", Need::Optional);
        let name = r.text(
            settlement,
            path,
            "settlementMethod",
            Need::Optional,
            Privacy::Public,
        );
        let code = code.or_else(|| {
            name.as_deref()
                .and_then(payment_code_by_name)
                .map(|c| c.to_string())
        });
        payment.mall_method_code = code.clone().unwrap_or_default();
        payment.mall_method_name = name.clone().unwrap_or_default();
        let method = code
            .as_deref()
            .and_then(|c| c.parse::<i64>().ok())
            .and_then(payment_method);
        match (method, code, name) {
            (Some(method), _, _) => payment.method = method,
            (None, Some(code), name) => r.hold(
                HoldKind::UnknownPaymentMethod,
                "SettlementModel.settlementMethodCode",
                format!(
                    "settlement method code {code} ({}) is not one ichigen knows",
                    quote(name.as_deref().unwrap_or("no name"))
                ),
            ),
            (None, None, Some(name)) if !name.trim().is_empty() => r.hold(
                HoldKind::UnknownPaymentMethod,
                "SettlementModel.settlementMethod",
                format!(
                    "settlement method {} (no settlementMethodCode) is not one ichigen knows",
                    quote(&name)
                ),
            ),
            (None, None, _) => {}
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

/// Where the client puts `getPayment`'s answer inside the stored `OrderModel` (getOrder
/// itself carries no payment status): `{"fetchedAt": "…+09:00", "PaymentModelList": […]}`.
/// The name is ichigen's, not Rakuten's, so a reader of the raw payload can tell the two
/// apart.
pub const PAYMENT_KEY: &str = "ichigenGetPayment";

/// `paymentStatus` 30600 決済確定 and 30610 決済確定（取消NG）: the money is in (jake SDK's
/// PaymentModel, [1S]).
pub const PAYMENT_FIXED: [i64; 2] = [30_600, 30_610];

/// When the order was paid, from getPayment's answer ([`PAYMENT_KEY`]) and nothing else: a
/// fixed payment's `paymentFixDatetime` (or `paymentCancelNgDatetime` for 30610), else the
/// time the client asked. `None` without that answer or without a fixed payment.
fn paid_at(r: &mut Reader, root: &Object) -> Option<JstInstant> {
    let answer = r.object(root, "", PAYMENT_KEY, Need::Optional)?;
    let payments = r.array(answer, PAYMENT_KEY, "PaymentModelList", Need::Optional)?;
    let mut fixed_at: Option<Option<JstInstant>> = None;
    for (i, entry) in payments.iter().enumerate() {
        let path = format!("{PAYMENT_KEY}.PaymentModelList[{i}]");
        let Value::Object(entry) = entry else {
            r.malformed(path, "an object", entry, Privacy::Public);
            continue;
        };
        let Some(status) = r.int(entry, &path, "paymentStatus", Need::Required) else {
            continue;
        };
        if !PAYMENT_FIXED.contains(&status) {
            continue;
        }
        let stamp = ["paymentFixDatetime", "paymentCancelNgDatetime"]
            .into_iter()
            .find_map(|key| instant(r, entry, &path, key));
        fixed_at = Some(match (fixed_at.flatten(), stamp) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        });
    }
    let fixed_at = fixed_at?;
    fixed_at.or_else(|| instant(r, answer, PAYMENT_KEY, "fetchedAt"))
}

/// An optional date-time field (`…+0900` or `…+09:00`); a malformed one is held.
fn instant(r: &mut Reader, obj: &Object, parent: &str, key: &str) -> Option<JstInstant> {
    let text = r.text(obj, parent, key, Need::Optional, Privacy::Public)?;
    match text.trim().parse::<JstInstant>() {
        Ok(at) => Some(at),
        Err(_) => {
            r.hold(
                HoldKind::MalformedField,
                join(parent, key),
                format!(
                    "expected a date-time like 2025-03-01T10:15:00+0900, found {}",
                    quote(&text)
                ),
            );
            None
        }
    }
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
