//! One au PAY `<orderInfo>` → one unified [`Order`]. Pure: no I/O, no clock.
//!
//! Lenient and total like the other normalisers: a field that is present but unreadable
//! becomes a [`HoldKind::MalformedField`] hold naming the field (and, for non-personal fields,
//! the value); only an element with no `orderId` is a [`NormaliseError`]. A *missing* field is
//! taken as absent, not held: au PAY's answer has ~100 fields, the only public real-world
//! fixture carries ~10 of them, and nothing says which ones au PAY always sends.
//!
//! Decisions worth knowing (facts and their confidence in `shared/malls/aupay.md`):
//! - Times are `YYYY/MM/DD HH:MM` JST, date-only fields `YYYY/MM/DD`; an impossible date
//!   (31 November) is held naming the field, never rolled over.
//! - Amounts: the one documented formula is checked, `requestPrice = totalPrice −
//!   couponTotalPrice − usePoint − useAuPointPrice` (a mismatch is a hold naming every
//!   amount); it is skipped when `requestPrice` or `totalPrice` is absent. `couponTotalPrice`
//!   is the store's coupon; `usePoint` are Ponta points and `useAuPointPrice` au points (both
//!   the buyer's). Goods are `totalSalePrice` + `totalItemOptionPrice` (option surcharges).
//! - Payment method from `settlementName` (there is no code): unknown names are a
//!   [`HoldKind::UnknownPaymentMethod`] hold naming the name. Paid: never from `paymentStatus`
//!   (it turns `Y` only after shipment). A prepayment method (konbini, bank, ATM, Pay-easy …)
//!   is paid once `paymentDate` is set or au PAY moved the order past `発送前入金待ち`; card
//!   and carrier billing are paid at the order time unless the order waits for `与信待ち`.
//! - Statuses: `キャンセル` cancels; `キャンセル受付中` is a [`HoldKind::CancelRequested`]
//!   hold; screening and holding statuses (`不正取引審査中`, `審査保留`, `審査NG`, `与信待ち`,
//!   `保留`) and any status we do not know are [`HoldKind::MallStatus`] holds naming it, and
//!   so is a line whose `itemCancelStatus` is not `N` (a line au PAY cancelled).
//! - SKU: `itemCode` + `itemManagementId` (管理ID, the variant suffix) joined untouched; a
//!   管理ID with `M` or `T` in it is part of the SKU, never a shipping-method code.
//! - `itemOption` is `name=value&name=value`.
//! - Carrier: the shipping-method name (`deliveryName`) mapped by name (the store's mapping,
//!   else [`default_carrier`]); an unknown name stays unmapped, without a hold.
//! - The buyer is the `orderer*` person, the destination the `sender*` person (au PAY's
//!   "sender" is the ship-to).

use std::collections::BTreeMap;

use ichigen_core::hold::HoldKind;
use ichigen_core::mall::NormaliseError;
use ichigen_core::order::{
    Address, Amounts, Buyer, ChosenOption, Delivery, Destination, Gift, MallStatus, OrderLine,
    Payment, PaymentMethod, RawPayload, TimeSlot, Wrapping,
};
use ichigen_core::status::MallSync;
use ichigen_core::{JstInstant, MallId, Order, OrderId, OrderStatus, StatusEvent, StoreRef, Yen};
use jiff::civil::{Date, DateTime, Time};

use crate::reading::{self, DateForms, parse_yen, quote, text, time_slot_text};
use crate::xml::{self, Element};

/// Status names (aupay.md §4).
pub mod status {
    pub const NEW: &str = "新規受付";
    pub const AWAITING_PREPAYMENT: &str = "発送前入金待ち";
    pub const AWAITING_AUTHORISATION: &str = "与信待ち";
    pub const READY_TO_SHIP: &str = "発送待ち";
    pub const CANCELLED: &str = "キャンセル";
    pub const CANCEL_REQUESTED: &str = "キャンセル受付中";
    pub const COMPLETED: &str = "完了";
}

/// Statuses that mean the order may go its normal way.
const NORMAL: [&str; 7] = [
    "新規受付",
    "新規予約",
    "予約中",
    "発送前入金待ち",
    "発送待ち",
    "発送後入金待ち",
    "完了",
];

/// Statuses in which au PAY (or the shop, at au PAY) holds the order back.
const HELD_AT_MALL: [(&str, &str); 5] = [
    ("与信待ち", "waiting for the credit authorisation"),
    ("保留", "on hold at au PAY"),
    ("不正取引審査中", "under au PAY's fraud screening"),
    ("審査保留", "au PAY's screening is on hold"),
    (
        "審査NG",
        "au PAY's screening rejected it (expect a cancellation)",
    ),
];

/// Normalises a whole response file for the CLI: a `searchTradeInfoListProc` /
/// `searchTradeInfoProc` answer (`<response>`) or a bare `<orderInfo>`. The outer error means
/// the body is not such an answer (au PAY's error envelope included).
pub fn normalise_response(
    store: &StoreRef,
    body: &str,
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    let error = |problem: String| NormaliseError {
        mall: MallId::Aupay,
        mall_order_id: String::new(),
        field: "(response)".into(),
        problem,
    };
    let root = xml::parse(body).map_err(|e| error(format!("is not XML: {e}")))?;
    let orders: Vec<&Element> = match root.name.as_str() {
        "orderInfo" => vec![&root],
        "response" | "result" => {
            let result = if root.name == "result" {
                Some(&root)
            } else {
                root.child("result")
            };
            if result.and_then(|r| r.child_text("status")) == Some("1") {
                let error_element = result.and_then(|r| r.child("error"));
                let code = error_element
                    .and_then(|e| e.child_text("code"))
                    .unwrap_or("");
                let message = error_element
                    .and_then(|e| e.child_text("message"))
                    .unwrap_or("");
                let meaning = match code {
                    super::client::AUTH_FAILED => {
                        " (the API key was refused: expired, without the right, or IP not registered)"
                    }
                    super::client::WRONG_SHOP => " (the shopId is not the key's store)",
                    _ => "",
                };
                return Err(error(format!(
                    "is an au PAY error answer ({code}: {message}){meaning}, not orders"
                )));
            }
            root.children_named("orderInfo").collect()
        }
        other => {
            return Err(error(format!(
                "is not a searchTradeInfo answer (root element <{other}>)"
            )));
        }
    };
    if orders.is_empty() {
        return Err(error(format!(
            "holds no <orderInfo> (root <{}>)",
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
            normalise_order(store, order, raw, imported_at, &BTreeMap::new())
        })
        .collect())
}

/// Normalises one `<orderInfo>`; `raw` is kept on the order as received. `carriers` maps
/// shipping-method names to our carriers (the store's setting), before [`default_carrier`].
pub fn normalise_order(
    store: &StoreRef,
    order: &Element,
    raw: RawPayload,
    imported_at: JstInstant,
    carriers: &BTreeMap<String, String>,
) -> Result<Order, NormaliseError> {
    let id = reading::order_id(MallId::Aupay, order, "orderInfo", "orderId")?;

    let mut r = Reader::default();
    let ordered_at = match text(order, "orderDate") {
        Some(value) => r.instant("orderDate", &value).unwrap_or(imported_at),
        None => {
            r.malformed("orderDate", "is missing; the import time is used instead");
            imported_at
        }
    };

    let buyer = Buyer {
        name: text(order, "ordererName").unwrap_or_default(),
        kana: text(order, "ordererKana"),
        email: text(order, "mailAddress"),
        phone: text(order, "ordererPhoneNumber1").or_else(|| text(order, "ordererPhoneNumber2")),
        address: Some(address(order, "orderer")).filter(|a| *a != Address::default()),
    };

    let mut lines = Vec::new();
    let mut lines_sum: Option<Yen> = Some(0);
    let mut wrappings = Vec::new();
    let mut gift_messages = Vec::new();
    let mut noshi = None;
    for (index, detail) in order.children_named("detail").enumerate() {
        let (line, value) = line(&mut r, detail, index);
        lines_sum = lines_sum.zip(value).and_then(|(a, b)| a.checked_add(b));
        let wrap_price = r
            .yen(
                detail,
                "giftWrappingPrice",
                &format!("detail[{index}].giftWrappingPrice"),
            )
            .unwrap_or(0);
        if let Some(kind) = text(detail, "giftWrappingType") {
            wrappings.push(Wrapping {
                kind: "paper".into(),
                name: kind,
                price: wrap_price,
            });
        } else if wrap_price > 0 {
            wrappings.push(Wrapping {
                kind: "paper".into(),
                name: String::new(),
                price: wrap_price,
            });
        }
        if let Some(message) = text(detail, "giftMessage") {
            gift_messages.push(message);
        }
        if noshi.is_none()
            && let Some(kind) = text(detail, "noshiType")
        {
            let names: Vec<String> = (1..=3)
                .filter_map(|n| text(detail, &format!("noshiPresenterName{n}")))
                .collect();
            noshi = Some(if names.is_empty() {
                kind
            } else {
                format!("{kind}（{}）", names.join("・"))
            });
        }
        lines.push(line);
    }
    if lines.is_empty() {
        r.malformed("detail", "no <detail> lines in the order");
    }
    let delivery_name = text(order, "deliveryName").unwrap_or_default();
    let destination = Destination {
        mall_destination_id: None,
        recipient_name: text(order, "senderName").unwrap_or_default(),
        recipient_kana: text(order, "senderKana"),
        phone: text(order, "senderPhoneNumber1").or_else(|| text(order, "senderPhoneNumber2")),
        address: address(order, "sender"),
        mall_carrier_code: text(order, "shippingCarrier"),
        lines,
    };

    let status_name = text(order, "orderStatus").unwrap_or_default();
    let payment = payment(&mut r, order, &status_name, ordered_at);
    let amounts = amounts(&mut r, order, &payment, lines_sum);
    let gift = Gift {
        is_gift: !wrappings.is_empty() || !gift_messages.is_empty() || noshi.is_some(),
        wrappings,
        noshi,
    };
    let mut notes = text(order, "userComment");
    for message in gift_messages {
        let line = format!("[ギフトメッセージ] {message}");
        notes = Some(match notes {
            Some(n) => format!("{n}\n{line}"),
            None => line,
        });
    }
    let delivery = delivery(&mut r, order, delivery_name, carriers);

    if status_name.is_empty() {
        r.malformed("orderStatus", "is missing");
    } else if status_name == status::CANCEL_REQUESTED {
        r.hold(
            HoldKind::CancelRequested,
            "orderStatus",
            "cancellation requested (キャンセル受付中); au PAY has not cancelled yet",
        );
    } else if let Some((_, why)) = HELD_AT_MALL.iter().find(|(name, _)| *name == status_name) {
        r.hold(
            HoldKind::MallStatus,
            "orderStatus",
            format!("au PAY status {status_name}: {why}; do not ship until au PAY moves it on"),
        );
    } else if status_name != status::CANCELLED && !NORMAL.contains(&status_name.as_str()) {
        r.hold(
            HoldKind::MallStatus,
            "orderStatus",
            format!(
                "unknown au PAY status {} (a shop-defined status?); check it before shipping",
                quote(&status_name)
            ),
        );
    }

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
        mall_status: MallStatus {
            code: status_name.clone(),
            label: status_name.clone(),
        },
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
    if status_name == status::CANCELLED
        && let Err(e) = result.apply(StatusEvent::Cancelled)
    {
        tracing::error!(order = %result.id, error = %e, "could not mark a cancelled order");
    }
    result.holds = r.holds;
    Ok(result)
}

/// The status ichigen moves an order to, or `None` when au PAY expects nothing from the shop.
/// A new order (`新規受付`) goes to `発送前入金待ち` while a prepayment is unpaid, else to
/// `発送待ち`; an order waiting in `発送前入金待ち` whose payment has arrived (`paymentDate`)
/// goes on to `発送待ち`, unless au PAY moved it itself. Never for a cancelled order or an
/// unknown payment method (a person decides).
pub fn acknowledgement_target(order: &Order) -> Option<&'static str> {
    if order.status == OrderStatus::Cancelled || order.has_hold(HoldKind::UnknownPaymentMethod) {
        return None;
    }
    if order.mall_status.code == status::AWAITING_PREPAYMENT {
        return (!order.payment.awaits_payment()).then_some(status::READY_TO_SHIP);
    }
    if order.mall_status.code != status::NEW {
        return None;
    }
    Some(if order.payment.awaits_payment() {
        status::AWAITING_PREPAYMENT
    } else {
        status::READY_TO_SHIP
    })
}

// ---------------------------------------------------------------------------------------------

/// au PAY's forms: `YYYY/MM/DD HH:MM` JST, dates `YYYY/MM/DD`.
pub(crate) struct AupayDates;

impl DateForms for AupayDates {
    const INSTANT: &'static str = "a possible date-time like 2026/08/05 20:13";
    const DATE: &'static str = "a possible date like 2026/08/06";
    fn instant(text: &str) -> Option<JstInstant> {
        parse_instant(text)
    }
    fn date(text: &str) -> Option<Date> {
        parse_date(text)
    }
}

type Reader = reading::Reader<AupayDates>;

fn number(value: &str, at: usize, len: usize) -> Option<i64> {
    let part = value.get(at..at + len)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// `YYYY/MM/DD`; an impossible date is `None`, never rolled over.
pub fn parse_date(value: &str) -> Option<Date> {
    let value = value.trim();
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'/' || b[7] != b'/' {
        return None;
    }
    Date::new(
        i16::try_from(number(value, 0, 4)?).ok()?,
        i8::try_from(number(value, 5, 2)?).ok()?,
        i8::try_from(number(value, 8, 2)?).ok()?,
    )
    .ok()
}

/// `YYYY/MM/DD HH:MM` or `YYYY/MM/DD HH:MM:SS`, JST.
pub fn parse_instant(value: &str) -> Option<JstInstant> {
    let value = value.trim();
    let b = value.as_bytes();
    if !(b.len() == 16 || b.len() == 19) || b.get(10) != Some(&b' ') || b.get(13) != Some(&b':') {
        return None;
    }
    let date = parse_date(value.get(0..10)?)?;
    let second = if b.len() == 19 {
        if b[16] != b':' {
            return None;
        }
        number(value, 17, 2)?
    } else {
        0
    };
    let time = Time::new(
        i8::try_from(number(value, 11, 2)?).ok()?,
        i8::try_from(number(value, 14, 2)?).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    JstInstant::from_jst_civil(DateTime::from_parts(date, time)).ok()
}

/// Splits au PAY's one-string address after its prefecture (都道府県 ends at the third or
/// fourth character).
fn address(order: &Element, prefix: &str) -> Address {
    let full = text(order, &format!("{prefix}Address")).unwrap_or_default();
    let chars: Vec<char> = full.chars().collect();
    let split = [2_usize, 3]
        .into_iter()
        .find(|&i| matches!(chars.get(i), Some('都' | '道' | '府' | '県')))
        .map(|i| i + 1);
    let (prefecture, street) = match split {
        Some(at) => (
            chars[..at].iter().collect::<String>(),
            chars[at..].iter().collect::<String>(),
        ),
        None => (String::new(), full.clone()),
    };
    Address {
        postcode: text(order, &format!("{prefix}ZipCode")).unwrap_or_default(),
        prefecture,
        city: String::new(),
        street: street.trim().to_owned(),
    }
}

/// `itemOption`: `name=value&name=value` (a piece without `=` is kept as a value).
pub fn parse_options(value: &str) -> Vec<ChosenOption> {
    value
        .split('&')
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((name, value)) => ChosenOption {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
            },
            None => ChosenOption {
                name: String::new(),
                value: piece.to_owned(),
            },
        })
        .collect()
}

/// One `<detail>`: the line and its value (`itemPrice × unit`, `None` if unreadable).
fn line(r: &mut Reader, detail: &Element, index: usize) -> (OrderLine, Option<Yen>) {
    let path = |field: &str| format!("detail[{index}].{field}");
    let item_code = text(detail, "itemCode").unwrap_or_default();
    // The 管理ID is kept exactly as sent (`M`/`T` included): it is the variant, not a code.
    let management_id = detail
        .child("itemManagementId")
        .map(|e| e.text.trim().to_owned())
        .filter(|t| !t.is_empty());
    let seller_sku = (!item_code.is_empty())
        .then(|| format!("{item_code}{}", management_id.as_deref().unwrap_or("")));
    let quantity = match text(detail, "unit") {
        Some(q) => match q.parse::<u32>() {
            Ok(q) => Some(q),
            Err(_) => {
                r.malformed(&path("unit"), format!("is not a count: {}", quote(&q)));
                None
            }
        },
        None => None,
    };
    // A line au PAY cancelled or is cancelling (`itemCancelStatus` other than `N`; one client
    // reads the field, its values are not public): held, so it is not shipped with the rest.
    if let Some(status) = text(detail, "itemCancelStatus").filter(|s| s != "N") {
        r.hold(
            HoldKind::MallStatus,
            &path("itemCancelStatus"),
            format!(
                "itemCancelStatus {}: au PAY cancelled this line or is cancelling it; check \
                 the order before shipping",
                quote(&status)
            ),
        );
    }
    let unit_price = r.yen(detail, "itemPrice", &path("itemPrice"));
    let surcharge = r
        .yen(detail, "itemOptionPrice", &path("itemOptionPrice"))
        .unwrap_or(0);
    let tax_rate_percent = match text(detail, "taxRate") {
        None => 10,
        Some(t) => match t.trim_end_matches('%').parse::<u8>() {
            Ok(rate @ (0 | 8 | 10)) => rate,
            _ => {
                r.malformed(
                    &path("taxRate"),
                    format!("is not a tax rate (0, 8 or 10): {}", quote(&t)),
                );
                10
            }
        },
    };
    let value = unit_price
        .zip(quantity)
        .and_then(|(p, q)| p.checked_mul(Yen::from(q)));
    let wrapped = text(detail, "giftWrappingType").is_some()
        || detail
            .child_text("giftWrappingPrice")
            .and_then(parse_yen)
            .is_some_and(|p| p > 0);
    let line = OrderLine {
        mall_line_id: text(detail, "orderDetailId").unwrap_or_else(|| (index + 1).to_string()),
        mall_item_id: if item_code.is_empty() {
            text(detail, "lotnumber").unwrap_or_default()
        } else {
            item_code
        },
        seller_sku,
        option_code: management_id,
        sku: None,
        name: text(detail, "itemName").unwrap_or_default(),
        options: text(detail, "itemOption")
            .map(|o| parse_options(&o))
            .unwrap_or_default(),
        quantity: quantity.unwrap_or(0),
        unit_price: unit_price.unwrap_or(0),
        option_surcharge: surcharge,
        tax_rate_percent,
        gift_wrapped: wrapped,
    };
    (line, value)
}

/// What a `settlementName` is (aupay.md §5; names change with rebranding, so by substring).
pub fn payment_method(name: &str) -> Option<PaymentMethod> {
    let name = name.trim();
    let has = |part: &str| name.contains(part);
    if has("クレジット") {
        Some(PaymentMethod::CreditCard)
    } else if has("コンビニ") {
        Some(PaymentMethod::Konbini)
    } else if has("ATM") || has("Pay-easy") || has("ペイジー") {
        Some(PaymentMethod::PayEasy)
    } else if has("銀行") || has("郵便振替") || has("振込") {
        Some(PaymentMethod::BankTransfer)
    } else if has("代金引換") || has("代引") {
        Some(PaymentMethod::CashOnDelivery)
    } else if has("後払い") {
        Some(PaymentMethod::Deferred)
    } else if has("au PAY") || has("かんたん決済") || has("キャリア決済") || has("auウォレット")
    {
        Some(PaymentMethod::Wallet)
    } else if has("ポイント") {
        Some(PaymentMethod::Points)
    } else {
        None
    }
}

fn payment(r: &mut Reader, order: &Element, status_name: &str, ordered_at: JstInstant) -> Payment {
    let name = text(order, "settlementName").unwrap_or_default();
    let method = if name.is_empty() {
        r.hold(
            HoldKind::UnknownPaymentMethod,
            "settlementName",
            "no settlementName in the order",
        );
        PaymentMethod::Other
    } else {
        payment_method(&name).unwrap_or_else(|| {
            r.hold(
                HoldKind::UnknownPaymentMethod,
                "settlementName",
                format!(
                    "unknown settlement method {}; check how it is paid before shipping",
                    quote(&name)
                ),
            );
            PaymentMethod::Other
        })
    };
    let payment_date = text(order, "paymentDate").and_then(|d| r.date("paymentDate", &d));
    let at_midnight =
        |day: Date| JstInstant::from_jst_civil(day.to_datetime(Time::midnight())).ok();
    let paid_at = if method.is_prepayment() {
        match (payment_date, status_name) {
            (Some(day), _) => at_midnight(day).or(Some(ordered_at)),
            // au PAY moved it past waiting for the money.
            (None, "発送待ち" | "発送後入金待ち" | "完了") => Some(ordered_at),
            (None, _) => None,
        }
    } else if status_name == status::AWAITING_AUTHORISATION
        || status_name == "発送後入金待ち"
        || method == PaymentMethod::CashOnDelivery
        || method == PaymentMethod::Deferred
    {
        payment_date.and_then(at_midnight)
    } else {
        payment_date.and_then(at_midnight).or(Some(ordered_at))
    };
    Payment {
        method,
        mall_method_code: name.clone(),
        mall_method_name: name,
        paid_at,
        due_date: None,
    }
}

fn amounts(r: &mut Reader, order: &Element, payment: &Payment, lines_sum: Option<Yen>) -> Amounts {
    let mut read = |field: &str| r.yen(order, field, field);
    let sale = read("totalSalePrice");
    let options = read("totalItemOptionPrice");
    let wrapping = read("totalGiftWrappingPrice");
    let postage = read("postagePrice");
    let charge = read("chargePrice");
    let total_price = read("totalPrice");
    let coupon = read("couponTotalPrice");
    let ponta = read("usePoint");
    let au_points = read("useAuPointPrice");
    let request_price = read("requestPrice");
    let goods = sale
        .or(lines_sum)
        .unwrap_or(0)
        .saturating_add(options.unwrap_or(0));
    let charge_value = charge.unwrap_or(0);
    let (cod_fee, payment_fee) = if payment.method == PaymentMethod::CashOnDelivery {
        (charge_value, 0)
    } else {
        (0, charge_value)
    };
    let computed_total = goods
        .saturating_add(wrapping.unwrap_or(0))
        .saturating_add(postage.unwrap_or(0))
        .saturating_add(charge_value);
    let total = total_price.unwrap_or(computed_total);
    let coupons = coupon.unwrap_or(0);
    let points = ponta.unwrap_or(0).saturating_add(au_points.unwrap_or(0));
    let expected = total.saturating_sub(coupons).saturating_sub(points);
    if let (Some(billed), Some(total)) = (request_price, total_price)
        && billed != expected
    {
        r.hold(
            HoldKind::TotalsMismatch,
            "requestPrice",
            format!(
                "requestPrice {billed} ≠ totalPrice {total} − couponTotalPrice {coupons} − \
                 usePoint {} − useAuPointPrice {} = {expected}",
                ponta.unwrap_or(0),
                au_points.unwrap_or(0),
            ),
        );
    }
    Amounts {
        goods,
        shipping: postage.unwrap_or(0),
        cod_fee,
        payment_fee,
        gift_wrapping: wrapping.unwrap_or(0),
        coupons,
        coupons_shop_funded: coupons,
        points,
        total,
        billed: request_price.unwrap_or(expected),
        tax: None,
    }
}

/// Our carrier for a shipping-method name, by what the name says (ゆうパック → Japan Post …).
/// The store's own mapping (secret field `shippingMethodCarriers`) is consulted first.
pub fn default_carrier(name: &str) -> Option<&'static str> {
    let has = |part: &str| name.contains(part);
    if has("ゆうパック")
        || has("ゆうパケット")
        || has("ゆうメール")
        || has("日本郵便")
        || has("クリックポスト")
    {
        Some("japan_post")
    } else if has("ネコポス") || has("宅急便") || has("ヤマト") || has("クロネコ") {
        Some("yamato")
    } else if has("佐川") || has("飛脚") {
        Some("sagawa")
    } else if has("西濃") {
        Some("seino")
    } else if has("福山") {
        Some("fukuyama")
    } else {
        None
    }
}

fn delivery(
    r: &mut Reader,
    order: &Element,
    method_name: String,
    carriers: &BTreeMap<String, String>,
) -> Delivery {
    let desired_date =
        text(order, "deliveryRequestDay").and_then(|d| r.date("deliveryRequestDay", &d));
    let time_slot = text(order, "deliveryRequestTime")
        .filter(|t| t != "指定なし")
        .map(|raw| {
            let mapped = time_slot_text(&raw);
            if mapped.is_none() {
                r.hold(
                    HoldKind::UnmappedTimeSlot,
                    "deliveryRequestTime",
                    format!("desired time {} maps to no slot", quote(&raw)),
                );
            }
            TimeSlot { raw, mapped }
        });
    let carrier = carriers
        .get(&method_name)
        .cloned()
        .or_else(|| default_carrier(&method_name).map(str::to_owned));
    Delivery {
        mall_method_name: method_name,
        carrier,
        desired_date,
        time_slot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_never_rolled_over() {
        assert_eq!(parse_date("2026/08/06"), Date::new(2026, 8, 6).ok());
        assert_eq!(parse_date("2025/11/31"), None);
        assert_eq!(parse_date("2026-08-06"), None);
        let at = parse_instant("2026/01/01 00:05").unwrap();
        assert_eq!(at.timestamp().to_string(), "2025-12-31T15:05:00Z");
        assert_eq!(
            parse_instant("2026/01/01 00:05:30").map(|a| a.timestamp().to_string()),
            Some("2025-12-31T15:05:30Z".into())
        );
        assert_eq!(parse_instant("2025/02/29 10:00"), None);
        assert_eq!(parse_instant("2026/01/01T00:05"), None);
    }

    #[test]
    fn settlement_names() {
        assert_eq!(
            payment_method("クレジットカード決済"),
            Some(PaymentMethod::CreditCard)
        );
        assert_eq!(
            payment_method("au PAY（auかんたん決済）"),
            Some(PaymentMethod::Wallet)
        );
        assert_eq!(
            payment_method("au Wowma!コンビニ決済"),
            Some(PaymentMethod::Konbini)
        );
        assert_eq!(payment_method("ATM決済"), Some(PaymentMethod::PayEasy));
        assert_eq!(
            payment_method("銀行ネット決済"),
            Some(PaymentMethod::BankTransfer)
        );
        assert_eq!(
            payment_method("郵便振替"),
            Some(PaymentMethod::BankTransfer)
        );
        assert_eq!(
            payment_method("じぶん銀行決済"),
            Some(PaymentMethod::BankTransfer)
        );
        assert_eq!(payment_method("ほげほげペイ"), None);
    }

    #[test]
    fn options_slots_and_carriers() {
        let options = parse_options("カラー=黒&サイズ=L&名入れ");
        assert_eq!(options.len(), 3);
        assert_eq!(options[1].name, "サイズ");
        assert_eq!(options[1].value, "L");
        assert_eq!(options[2].value, "名入れ");
        assert_eq!(time_slot_text("14:00～16:00").as_deref(), Some("14-16"));
        assert_eq!(time_slot_text("午前中").as_deref(), Some("08-12"));
        assert_eq!(time_slot_text("夜"), None);
        assert_eq!(default_carrier("ゆうパック"), Some("japan_post"));
        assert_eq!(default_carrier("ネコポス"), Some("yamato"));
        assert_eq!(default_carrier("宅配便"), None);
    }
}
