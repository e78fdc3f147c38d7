//! One orderInfo `<OrderInfo>` → one unified [`Order`]. Pure: no I/O, no clock.
//!
//! Lenient and total like the Rakuten normaliser: a missing or unreadable field becomes a
//! [`HoldKind::MalformedField`] hold naming the field (and, for non-personal fields, the value)
//! with a safe default; only an element with no `OrderId` is a [`NormaliseError`]. Hold
//! messages never quote buyer or recipient data.
//!
//! Decisions worth knowing (facts and their confidence in `shared/malls/yahoo.md`):
//! - Amounts follow one formula, the one the sandbox README states. It is inferred from the
//!   field names (no real orderInfo answer is public), so a mismatch is a hold, never an error:
//!   `TotalPrice = Σ(UnitPrice × Quantity) − Σ Item.CouponDiscount + ShipCharge + PayCharge +
//!   GiftWrapCharge − Discount − TotalMallCouponDiscount − UsePoint + Adjustments`.
//! - Who pays: `Item.CouponDiscount` and `Discount` are the store's (shop-funded coupons);
//!   `TotalMallCouponDiscount` is Yahoo's; `UsePoint` is the buyer's points (Yahoo settles
//!   them with the store).
//! - `PayCharge` is the COD fee for `payment_d1` and a payment fee otherwise.
//! - `PayMethod` codes map by yahoo.md §5; store-defined `payment_e1`…`e15` are
//!   [`PaymentMethod::Other`] without a hold (the shop knows them); any other unknown code is
//!   a [`HoldKind::UnknownPaymentMethod`] hold naming it.
//! - Paid: `PayStatus` 1, at `PayDate` (00:00 JST of that day when it has no time), or at the
//!   order time when Yahoo gives no date.
//! - Desired slot: `ShipRequestTimeZoneCode` 101..105 (yahoo.md §6.1) wins over the free text
//!   `ShipRequestTime`; text like `14:00-16:00` or `午前中` maps too; anything else is held.
//! - SKUs: `ItemId:SubCode` (Yahoo's own item:sub form, as setStock takes it), or `ItemId`
//!   alone for a line without a sub-code.
//! - The buyer is the `Bill*` person, the destination the `Ship*` person.
//! - Gift wrap is order-level: every line is marked wrapped, the fee is the wrapping's price,
//!   and the wrap message is appended to the notes (the order has no other place for it).

use ichigen_core::hold::HoldKind;
use ichigen_core::mall::NormaliseError;
use ichigen_core::order::{
    Address, Amounts, Buyer, ChosenOption, Delivery, Destination, Gift, MallStatus, OrderLine,
    Payment, PaymentMethod, RawPayload, TimeSlot, Wrapping,
};
use ichigen_core::status::MallSync;
use ichigen_core::{JstInstant, MallId, Order, OrderId, OrderStatus, StatusEvent, StoreRef, Yen};
use jiff::civil::{Date, DateTime};

use super::xml::{self, Element};
use crate::reading::{self, DateForms, parse_yen, quote, text, time_slot_text};

/// Normalises a whole response file for the CLI: an orderInfo answer (`<ResultSet>`), an
/// orderList answer (`<Result><Search>`, only the listed fields) or a bare `<OrderInfo>`.
/// The outer error means the body is not such an answer (Yahoo's `<Error>` included).
pub fn normalise_response(
    store: &StoreRef,
    body: &str,
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    let error = |problem: String| NormaliseError {
        mall: MallId::Yahoo,
        mall_order_id: String::new(),
        field: "(response)".into(),
        problem,
    };
    let root = xml::parse(body).map_err(|e| {
        let hint = if body.contains("\\\"") {
            " (it holds backslash-escaped quotes, so it is a saved copy, not the bytes Yahoo sent)"
        } else {
            ""
        };
        error(format!("is not XML: {e}{hint}"))
    })?;
    let orders: Vec<&Element> = match root.name.as_str() {
        "OrderInfo" => vec![&root],
        "ResultSet" => root
            .children_named("Result")
            .flat_map(|r| r.children_named("OrderInfo"))
            .collect(),
        "Result" => root
            .children_named("Search")
            .flat_map(|s| s.children_named("OrderInfo"))
            .collect(),
        "Error" => {
            let code = root.child_text("Code").unwrap_or("");
            let message = root.child_text("Message").unwrap_or("");
            return Err(error(format!(
                "is a Yahoo error answer ({}), not orders",
                [code, message]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(": ")
            )));
        }
        other => {
            return Err(error(format!(
                "is not an orderInfo or orderList answer (root element <{other}>)"
            )));
        }
    };
    if orders.is_empty() {
        let first = root.child("Result");
        let what = if first.is_some_and(|r| r.child("Count").is_some()) {
            Some("an orderCount answer")
        } else if first.is_some_and(|r| r.child("ItemCode").is_some()) {
            Some("a stock answer (getStock / setStock)")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(error(format!("is {what}, not orders")));
        }
        let status = root
            .child("Result")
            .and_then(|r| r.child_text("Status"))
            .or_else(|| root.child_text("Status"))
            .unwrap_or("");
        return Err(error(format!(
            "holds no <OrderInfo> (root <{}>, Status {status:?})",
            root.name
        )));
    }
    Ok(orders
        .into_iter()
        .map(|order| {
            let raw = RawPayload {
                content_type: super::CONTENT_TYPE.into(),
                body: order.to_xml(),
            };
            normalise_order(store, order, raw, imported_at)
        })
        .collect())
}

/// Normalises one `<OrderInfo>`; `raw` is kept on the order as received.
pub fn normalise_order(
    store: &StoreRef,
    order: &Element,
    raw: RawPayload,
    imported_at: JstInstant,
) -> Result<Order, NormaliseError> {
    let id = reading::order_id(MallId::Yahoo, order, "OrderInfo", "OrderId")?;

    let mut r = Reader::default();
    let empty = Element::default();
    let pay = order.child("Pay").unwrap_or(&empty);
    let ship = order.child("Ship").unwrap_or(&empty);
    let detail = order.child("Detail").unwrap_or(&empty);

    let ordered_at = match order.child_text("OrderTime") {
        Some(text) => r.instant("OrderTime", text).unwrap_or(imported_at),
        None => {
            r.malformed("OrderTime", "is missing; the import time is used instead");
            imported_at
        }
    };

    let buyer = Buyer {
        name: person_name(pay, "Bill"),
        kana: kana(pay, "Bill"),
        email: text(pay, "BillMailAddress"),
        phone: text(pay, "BillPhoneNumber"),
        address: Some(address(pay, "Bill")).filter(|a| *a != Address::default()),
    };

    let gift_type = text(ship, "GiftWrapType");
    let gift_message = text(ship, "GiftWrapMessage");
    let wrapped = gift_type.is_some() || gift_message.is_some();
    let mut lines = Vec::new();
    let mut lines_sum: Option<Yen> = Some(0);
    let mut store_coupons_on_lines: Yen = 0;
    for (index, item) in order.children_named("Item").enumerate() {
        let (line, value, coupon) = line(&mut r, item, index, wrapped);
        lines_sum = lines_sum.zip(value).and_then(|(a, b)| a.checked_add(b));
        store_coupons_on_lines = store_coupons_on_lines.saturating_add(coupon.unwrap_or(0));
        lines.push(line);
    }
    if lines.is_empty() {
        r.malformed("Item", "no <Item> lines in the order");
    }
    let destination = Destination {
        mall_destination_id: None,
        recipient_name: person_name(ship, "Ship"),
        recipient_kana: kana(ship, "Ship"),
        phone: text(ship, "ShipPhoneNumber"),
        address: address(ship, "Ship"),
        mall_carrier_code: text(ship, "ShipCompanyCode"),
        lines,
    };

    let payment = payment(&mut r, pay, ordered_at);
    let amounts = amounts(&mut r, detail, &payment, lines_sum, store_coupons_on_lines);

    let gift = Gift {
        is_gift: wrapped,
        wrappings: if wrapped {
            vec![Wrapping {
                kind: "paper".into(),
                name: [text(ship, "GiftWrapType"), text(ship, "GiftWrapPaperType")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
                price: amounts.gift_wrapping,
            }]
        } else {
            Vec::new()
        },
        noshi: None,
    };
    let mut notes = text(order, "BuyerComments");
    if let Some(message) = gift_message {
        let line = format!("[ギフトメッセージ] {message}");
        notes = Some(match notes {
            Some(n) => format!("{n}\n{line}"),
            None => line,
        });
    }

    let delivery = delivery(&mut r, ship);
    let (mall_status, status_code) = mall_status(&mut r, order);

    let mut result = Order {
        id: OrderId::new(store, &id),
        store: store.clone(),
        mall_order_id: id,
        ordered_at,
        buyer,
        destinations: vec![destination],
        amounts,
        payment,
        delivery,
        gift,
        notes,
        mall_status,
        status: OrderStatus::Imported,
        holds: Vec::new(),
        mall_sync: MallSync::idle(),
        history: Vec::new(),
        operator: Default::default(),
        version: 1,
        imported_at,
        updated_at: imported_at,
        raw,
    };
    if status_code == Some(4)
        && let Err(e) = result.apply(StatusEvent::Cancelled)
    {
        tracing::error!(order = %result.id, error = %e, "could not mark a cancelled order");
    }
    result.holds = r.holds;
    Ok(result)
}

// ---------------------------------------------------------------------------------------------

/// Yahoo's forms: `2025-03-01T09:12:44+09:00` (no offset means JST), dates `YYYY-MM-DD`.
pub(crate) struct YahooDates;

impl DateForms for YahooDates {
    const INSTANT: &'static str = "a date-time like 2025-03-01T09:12:44+09:00";
    const DATE: &'static str = "a possible date like 2025-03-01";
    fn instant(text: &str) -> Option<JstInstant> {
        parse_instant(text)
    }
    fn date(text: &str) -> Option<Date> {
        parse_date(text)
    }
}

type Reader = reading::Reader<YahooDates>;

/// `YYYY-MM-DDThh:mm:ss` with an offset (or none = JST), also with a space instead of `T`.
pub(crate) fn parse_instant(text: &str) -> Option<JstInstant> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<JstInstant>() {
        return Some(instant);
    }
    let civil: DateTime = text.replacen(' ', "T", 1).parse().ok()?;
    JstInstant::from_jst_civil(civil).ok()
}

/// A date as `YYYY-MM-DD`, `YYYYMMDD` or `YYYY/MM/DD`, or the date of a datetime. An
/// impossible date (31 November) is `None`, never rolled over.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    if text.len() >= 19
        && let Some(instant) = parse_instant(text)
    {
        return Some(instant.date());
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let separators_ok = match text.len() {
        8 => digits.len() == 8,
        10 => {
            digits.len() == 8
                && matches!(
                    (text.as_bytes().get(4), text.as_bytes().get(7)),
                    (Some(b'-'), Some(b'-')) | (Some(b'/'), Some(b'/'))
                )
        }
        _ => false,
    };
    if !separators_ok {
        return None;
    }
    let year: i16 = digits.get(0..4)?.parse().ok()?;
    let month: i8 = digits.get(4..6)?.parse().ok()?;
    let day: i8 = digits.get(6..8)?.parse().ok()?;
    Date::new(year, month, day).ok()
}

fn person_name(group: &Element, prefix: &str) -> String {
    let last = text(group, &format!("{prefix}LastName"));
    let first = text(group, &format!("{prefix}FirstName"));
    [last, first]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn kana(group: &Element, prefix: &str) -> Option<String> {
    let name = [
        text(group, &format!("{prefix}LastNameKana")),
        text(group, &format!("{prefix}FirstNameKana")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Some(name).filter(|n| !n.is_empty())
}

fn address(group: &Element, prefix: &str) -> Address {
    let street = [
        text(group, &format!("{prefix}Address1")),
        text(group, &format!("{prefix}Address2")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Address {
        postcode: text(group, &format!("{prefix}ZipCode")).unwrap_or_default(),
        prefecture: text(group, &format!("{prefix}Prefecture")).unwrap_or_default(),
        city: text(group, &format!("{prefix}City")).unwrap_or_default(),
        street,
    }
}

/// One `<Item>`: the line, its value (`None` if price or quantity was unreadable) and its
/// store coupon.
fn line(
    r: &mut Reader,
    item: &Element,
    index: usize,
    wrapped: bool,
) -> (OrderLine, Option<Yen>, Option<Yen>) {
    let path = |field: &str| format!("Item[{index}].{field}");
    let item_id = text(item, "ItemId").unwrap_or_default();
    if item_id.is_empty() {
        r.malformed(&path("ItemId"), "is missing");
    }
    let sub_code = text(item, "SubCode");
    let seller_sku = match (&sub_code, item_id.is_empty()) {
        (_, true) => None,
        (Some(sub), false) => Some(format!("{item_id}:{sub}")),
        (None, false) => Some(item_id.clone()),
    };
    let quantity = match item.child_text("Quantity") {
        Some(q) => match q.parse::<u32>() {
            Ok(q) => Some(q),
            Err(_) => {
                r.malformed(&path("Quantity"), format!("is not a count: {}", quote(q)));
                None
            }
        },
        None => {
            r.malformed(&path("Quantity"), "is missing");
            None
        }
    };
    let unit_price = r.yen(item, "UnitPrice", &path("UnitPrice"));
    if item.child_text("UnitPrice").is_none_or(str::is_empty) {
        r.malformed(&path("UnitPrice"), "is missing");
    }
    let coupon = r.yen(item, "CouponDiscount", &path("CouponDiscount"));
    let tax_rate_percent = match item.child_text("ItemTaxRatio").filter(|t| !t.is_empty()) {
        None => {
            r.malformed(&path("ItemTaxRatio"), "is missing; 10 % assumed");
            10
        }
        Some(t) => match tax_rate(t) {
            Some(rate) => rate,
            None => {
                r.malformed(
                    &path("ItemTaxRatio"),
                    format!("is not a tax rate (0, 8 or 10): {}", quote(t)),
                );
                10
            }
        },
    };
    let mut options = Vec::new();
    let mut surcharge: Yen = 0;
    for option in item.children_named("ItemOption") {
        let name = text(option, "Name").unwrap_or_default();
        let value = text(option, "Value").unwrap_or_default();
        if let Some(price) = option.child_text("Price").and_then(parse_yen) {
            surcharge = surcharge.saturating_add(price);
        }
        if !name.is_empty() || !value.is_empty() {
            options.push(ChosenOption { name, value });
        }
    }
    let value = unit_price
        .zip(quantity)
        .and_then(|(p, q)| p.checked_mul(Yen::from(q)));
    if unit_price.is_some() && quantity.is_some() && value.is_none() {
        r.malformed(&path("UnitPrice"), "times Quantity is out of range");
    }
    let line = OrderLine {
        mall_line_id: text(item, "LineId").unwrap_or_else(|| (index + 1).to_string()),
        mall_item_id: item_id,
        seller_sku,
        option_code: sub_code,
        sku: None,
        name: text(item, "Title").unwrap_or_default(),
        options,
        quantity: quantity.unwrap_or(0),
        unit_price: unit_price.unwrap_or(0),
        option_surcharge: surcharge,
        tax_rate_percent,
        gift_wrapped: wrapped,
    };
    (line, value, coupon)
}

/// `10`, `8`, `0`, also `10%` or a fraction `0.1`.
fn tax_rate(text: &str) -> Option<u8> {
    let text = text.trim().trim_end_matches('%');
    if let Ok(rate) = text.parse::<u8>() {
        return matches!(rate, 0 | 8 | 10).then_some(rate);
    }
    match text {
        "0.1" | "0.10" => Some(10),
        "0.08" => Some(8),
        "0.0" => Some(0),
        _ => None,
    }
}

/// What a `PayMethod` code is (yahoo.md §5); `None` = unknown.
pub fn payment_method(code: &str) -> Option<PaymentMethod> {
    let number = |prefix: &str| -> Option<u32> { code.strip_prefix(prefix)?.parse().ok() };
    if let Some(n) = number("payment_a") {
        return match n {
            1 => Some(PaymentMethod::CreditCard),
            6 | 7 => Some(PaymentMethod::Konbini),
            8..=11 | 16 | 17 => Some(PaymentMethod::Wallet),
            15 => Some(PaymentMethod::PayEasy),
            18 | 19 => Some(PaymentMethod::Deferred),
            _ => None,
        };
    }
    if let Some(n) = number("payment_b") {
        return (1..=6).contains(&n).then_some(PaymentMethod::BankTransfer);
    }
    if let Some(n) = number("payment_e") {
        return (1..=15).contains(&n).then_some(PaymentMethod::Other);
    }
    match code {
        // ゆうちょ prepay, and 現金書留 (cash by registered mail before shipping).
        "payment_c1" | "payment_c3" => Some(PaymentMethod::BankTransfer),
        "payment_c2" => Some(PaymentMethod::Deferred),
        "payment_d1" => Some(PaymentMethod::CashOnDelivery),
        "payment_h1" => Some(PaymentMethod::Other),
        "payment_z1" => Some(PaymentMethod::Points),
        "payment_z4" => Some(PaymentMethod::Wallet),
        _ => None,
    }
}

pub(crate) const COD: &str = "payment_d1";

fn payment(r: &mut Reader, pay: &Element, ordered_at: JstInstant) -> Payment {
    let code = text(pay, "PayMethod").unwrap_or_default();
    let method = if code.is_empty() {
        r.hold(
            HoldKind::UnknownPaymentMethod,
            "PayMethod",
            "no PayMethod in the order",
        );
        PaymentMethod::Other
    } else {
        payment_method(&code).unwrap_or_else(|| {
            r.hold(
                HoldKind::UnknownPaymentMethod,
                "PayMethod",
                format!(
                    "unknown payment method code {} ({}); check how it is paid before shipping",
                    quote(&code),
                    text(pay, "PayMethodName").unwrap_or_else(|| "no name".into())
                ),
            );
            PaymentMethod::Other
        })
    };
    let paid_at = match pay.child_text("PayStatus").unwrap_or("") {
        "1" => match pay.child_text("PayDate").filter(|d| !d.is_empty()) {
            None => Some(ordered_at),
            Some(date) => {
                if let Some(at) = parse_instant(date).filter(|_| date.len() >= 19) {
                    Some(at)
                } else if let Some(day) = parse_date(date) {
                    JstInstant::from_jst_civil(day.to_datetime(jiff::civil::Time::midnight())).ok()
                } else {
                    r.malformed(
                        "PayDate",
                        format!("is not a date like 2025-03-01: {}", quote(date)),
                    );
                    Some(ordered_at)
                }
            }
        },
        "0" | "" => None,
        other => {
            r.malformed(
                "PayStatus",
                format!("is not 0 (awaiting) or 1 (paid): {}", quote(other)),
            );
            None
        }
    };
    let due_date = pay
        .child_text("PaymentTerm")
        .filter(|t| !t.is_empty())
        .and_then(|t| {
            let date = parse_date(t);
            if date.is_none() {
                r.malformed("PaymentTerm", format!("is not a date: {}", quote(t)));
            }
            date
        });
    Payment {
        method,
        mall_method_name: text(pay, "PayMethodName").unwrap_or_default(),
        mall_method_code: code,
        paid_at,
        due_date,
    }
}

fn amounts(
    r: &mut Reader,
    detail: &Element,
    payment: &Payment,
    lines_sum: Option<Yen>,
    coupons_on_lines: Yen,
) -> Amounts {
    let mut read = |field: &str| r.yen(detail, field, &format!("Detail.{field}"));
    let ship = read("ShipCharge");
    let pay_charge = read("PayCharge");
    let wrap = read("GiftWrapCharge");
    let discount = read("Discount");
    let mall_coupon = read("TotalMallCouponDiscount");
    let points = read("UsePoint");
    let adjustments = read("Adjustments");
    let total_price = read("TotalPrice");
    let unreadable_detail = detail
        .children
        .iter()
        .any(|c| !c.text.trim().is_empty() && parse_yen(&c.text).is_none() && is_amount(&c.name));
    let charge = pay_charge.unwrap_or(0);
    let (cod_fee, payment_fee) = if payment.mall_method_code == COD {
        (charge, 0)
    } else {
        (0, charge)
    };
    let shop_coupons = coupons_on_lines.saturating_add(discount.unwrap_or(0));
    let coupons = shop_coupons.saturating_add(mall_coupon.unwrap_or(0));
    let goods = lines_sum.unwrap_or(0);
    let total = goods
        .saturating_add(ship.unwrap_or(0))
        .saturating_add(cod_fee)
        .saturating_add(payment_fee)
        .saturating_add(wrap.unwrap_or(0));
    let expected = total
        .saturating_sub(coupons)
        .saturating_sub(points.unwrap_or(0))
        .saturating_add(adjustments.unwrap_or(0));
    match total_price {
        None if detail.child_text("TotalPrice").is_none_or(str::is_empty) => {
            r.malformed("Detail.TotalPrice", "is missing");
        }
        None => {}
        Some(billed) if lines_sum.is_some() && !unreadable_detail && billed != expected => {
            r.hold(
                HoldKind::TotalsMismatch,
                "Detail.TotalPrice",
                format!(
                    "TotalPrice {billed} ≠ goods {goods} − store coupons {shop_coupons} − Yahoo \
                     coupons {} + shipping {} + fee {charge} + gift wrap {} − points {} + \
                     adjustments {} = {expected}",
                    mall_coupon.unwrap_or(0),
                    ship.unwrap_or(0),
                    wrap.unwrap_or(0),
                    points.unwrap_or(0),
                    adjustments.unwrap_or(0),
                ),
            );
        }
        Some(_) => {}
    }
    Amounts {
        goods,
        shipping: ship.unwrap_or(0),
        cod_fee,
        payment_fee,
        gift_wrapping: wrap.unwrap_or(0),
        coupons,
        coupons_shop_funded: shop_coupons,
        points: points.unwrap_or(0),
        total,
        billed: total_price.unwrap_or(expected),
        tax: None,
    }
}

fn is_amount(name: &str) -> bool {
    matches!(
        name,
        "ShipCharge"
            | "PayCharge"
            | "GiftWrapCharge"
            | "Discount"
            | "TotalMallCouponDiscount"
            | "UsePoint"
            | "Adjustments"
            | "TotalPrice"
    )
}

/// `ShipRequestTimeZoneCode` (yahoo.md §6.1) → our slot.
pub fn time_zone_code(code: &str) -> Option<&'static str> {
    match code.trim() {
        "101" => Some("08-12"),
        "102" => Some("14-16"),
        "103" => Some("16-18"),
        "104" => Some("18-20"),
        "105" => Some("19-21"),
        _ => None,
    }
}

fn delivery(r: &mut Reader, ship: &Element) -> Delivery {
    let desired_date = ship
        .child_text("ShipRequestDate")
        .filter(|t| !t.is_empty())
        .and_then(|t| {
            let date = parse_date(t);
            if date.is_none() {
                r.malformed(
                    "Ship.ShipRequestDate",
                    format!("is not a date (or an impossible one): {}", quote(t)),
                );
            }
            date
        });
    let code = text(ship, "ShipRequestTimeZoneCode");
    let words = text(ship, "ShipRequestTime");
    let time_slot = match (code, words) {
        (None, None) => None,
        (Some(code), words) => {
            let mapped = time_zone_code(&code)
                .map(str::to_owned)
                .or_else(|| words.as_deref().and_then(time_slot_text));
            if mapped.is_none() {
                r.hold(
                    HoldKind::UnmappedTimeSlot,
                    "Ship.ShipRequestTimeZoneCode",
                    format!("time zone code {} maps to no slot", quote(&code)),
                );
            }
            Some(TimeSlot { raw: code, mapped })
        }
        (None, Some(words)) => {
            let mapped = time_slot_text(&words);
            if mapped.is_none() {
                r.hold(
                    HoldKind::UnmappedTimeSlot,
                    "Ship.ShipRequestTime",
                    format!("desired time {} maps to no slot", quote(&words)),
                );
            }
            Some(TimeSlot { raw: words, mapped })
        }
    };
    Delivery {
        mall_method_name: text(ship, "ShipMethodName")
            .or_else(|| text(ship, "ShipMethod"))
            .unwrap_or_default(),
        carrier: None,
        desired_date,
        time_slot,
    }
}

/// `OrderStatus` labels (yahoo.md §4).
pub fn status_label(code: u8) -> Option<&'static str> {
    match code {
        0 => Some("未入力"),
        1 => Some("予約中"),
        2 => Some("処理中"),
        3 => Some("保留"),
        4 => Some("キャンセル"),
        5 => Some("完了"),
        8 => Some("繰上げ同意待ち"),
        _ => None,
    }
}

fn mall_status(r: &mut Reader, order: &Element) -> (MallStatus, Option<u8>) {
    let raw = order.child_text("OrderStatus").unwrap_or("").to_owned();
    let code = raw.parse::<u8>().ok();
    let label = match code.and_then(status_label) {
        Some(label) => label.to_owned(),
        None => {
            r.malformed(
                "OrderStatus",
                format!("is not a known Yahoo order status: {}", quote(&raw)),
            );
            "unknown".to_owned()
        }
    };
    let seen = order.child_text("IsSeen") == Some("true");
    let label = if code == Some(2) && !seen {
        format!("{label}（未閲覧）")
    } else {
        label
    };
    (MallStatus { code: raw, label }, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_never_rolled_over() {
        assert_eq!(parse_date("2025-03-01"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("20250301"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("2025/03/01"), Date::new(2025, 3, 1).ok());
        assert_eq!(parse_date("2025-11-31"), None);
        assert_eq!(parse_date("2025-3-1"), None);
        assert_eq!(
            parse_date("2025-03-01T23:59:59+09:00"),
            Date::new(2025, 3, 1).ok()
        );
    }

    #[test]
    fn instants_keep_the_offset_and_default_to_jst() {
        let a = parse_instant("2025-03-01T09:12:44+09:00").unwrap();
        assert_eq!(a.to_string(), "2025-03-01T09:12:44+09:00");
        assert_eq!(parse_instant("2025-03-01 09:12:44"), Some(a));
        assert_eq!(parse_instant("2025-03-01T00:12:44Z"), Some(a));
        assert_eq!(parse_instant("yesterday"), None);
    }

    #[test]
    fn payment_codes() {
        assert_eq!(
            payment_method("payment_a1"),
            Some(PaymentMethod::CreditCard)
        );
        assert_eq!(payment_method("payment_a7"), Some(PaymentMethod::Konbini));
        assert_eq!(
            payment_method("payment_b6"),
            Some(PaymentMethod::BankTransfer)
        );
        assert_eq!(payment_method("payment_b7"), None);
        assert_eq!(
            payment_method("payment_d1"),
            Some(PaymentMethod::CashOnDelivery)
        );
        assert_eq!(payment_method("payment_e15"), Some(PaymentMethod::Other));
        assert_eq!(payment_method("payment_z1"), Some(PaymentMethod::Points));
        assert_eq!(payment_method("payment_a99"), None);
        assert_eq!(payment_method("cash"), None);
    }

    #[test]
    fn time_slots() {
        assert_eq!(time_zone_code("101"), Some("08-12"));
        assert_eq!(time_zone_code("105"), Some("19-21"));
        assert_eq!(time_zone_code("106"), None);
        assert_eq!(time_slot_text("14:00-16:00").as_deref(), Some("14-16"));
        assert_eq!(time_slot_text("19時～21時").as_deref(), Some("19-21"));
        assert_eq!(time_slot_text("午前中").as_deref(), Some("08-12"));
        assert_eq!(time_slot_text("夕方").as_deref(), None);
        assert_eq!(time_slot_text("16-14"), None);
    }

    #[test]
    fn tax_rates() {
        assert_eq!(tax_rate("10"), Some(10));
        assert_eq!(tax_rate("8"), Some(8));
        assert_eq!(tax_rate("0.08"), Some(8));
        assert_eq!(tax_rate("5"), None);
    }
}
