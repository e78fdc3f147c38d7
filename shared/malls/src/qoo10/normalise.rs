//! Qoo10 cart → unified orders (one per carrier).
//!
//! The payload is a cart as the client assembles it (qoo10.md §4: a cart `packNo` is the
//! order, every row is one line `orderNo`):
//!
//! ```json
//! {"packNo": 540012345,
//!  "rows": [<GetShippingInfo_v2 or ByOrderNo_V2 rows, as received>],
//!  "claims": [<GetClaimInfo_V3 rows of this cart, as received>],
//!  "itemCarriers": {"<itemCode>": "<carrier of the item's shipping group>" | null}}
//! ```
//!
//! - Split by carrier: lines with different `DeliveryCompany` become `<cart>-1`, `<cart>-2` …
//!   ordered by each group's lowest line number (line numbers never change, so a re-import
//!   keeps ids and lines). One carrier: the order is `<cart>`.
//! - Unpaid rows carry no carrier: `itemCarriers` (the item lookup) gives it; a line whose
//!   carrier is unknown holds the cart unsplit, naming the item.
//! - Cancellations come only from claims (a row's own `claimStatus` or a claim row):
//!   キャンセル要請 (1, 2) holds the order, キャンセル完了 (3) and unpaid cancel (16) drop the line
//!   and say so in the history. A line in `RelatedOrder` that is neither returned nor claimed
//!   is a hold, never taken for a cancellation.
//! - Money is exact: `1480.0000` is 1480 yen; a fraction of a yen is an error naming the field.
//! - Dates are JST `YYYY-MM-DD HH:MM:SS`; an impossible date is a hold naming the field.

use std::collections::{BTreeMap, BTreeSet};

use ichigen_core::hold::{Hold, HoldKind};
use ichigen_core::mall::NormaliseError;
use ichigen_core::order::{
    Address, Amounts, Buyer, ChosenOption, Delivery, Destination, Gift, HistoryEntry, MallStatus,
    OperatorNote, Order, OrderId, OrderLine, Payment, PaymentMethod, RawPayload, TimeSlot,
};
use ichigen_core::status::{MallSync, OrderStatus, StatusEvent};
use ichigen_core::{JstInstant, MallId, StoreRef, Yen};
use jiff::civil::{Date, DateTime};
use serde_json::{Map, Value};

use super::client::field;
use crate::reading::{decimal_yen, quote, time_slot_text};

/// What the store decided about Qoo10's gaps (from its secret).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NormaliseSettings {
    /// Qoo10 rows carry no orderer address: fill it from the ship-to (the order gets an
    /// operator note saying so). Off: the buyer has no address.
    pub fill_buyer_address_from_ship_to: bool,
    /// Additional options (追加型オプション, no stock): their own lines (`true`) or kept on the
    /// line as options with a note (`false`).
    pub additional_options_as_lines: bool,
}

/// Who writes the operator note about a filled-in orderer address.
pub const IMPORT_AUTHOR: &str = "ichigen-import";

fn error(cart: &str, field: &str, problem: impl Into<String>) -> NormaliseError {
    NormaliseError {
        mall: MallId::Qoo10,
        mall_order_id: cart.to_owned(),
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// A field as text: strings trimmed, numbers as written; empty and null are absent.
fn text(row: &Value, name: &str) -> Option<String> {
    match field(row, name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number field (line and cart numbers come as JSON integers or digit strings).
fn number(row: &Value, name: &str) -> Option<i64> {
    text(row, name)?.parse().ok()
}

fn yen(row: &Value, name: &str, path: &str, cart: &str) -> Result<Option<Yen>, NormaliseError> {
    match text(row, name) {
        None => Ok(None),
        Some(raw) => decimal_yen(&raw)
            .map(Some)
            .map_err(|problem| error(cart, path, problem)),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in JST; `None` when it is not that, or not a real date.
pub fn parse_datetime(raw: &str) -> Option<JstInstant> {
    let raw = raw.trim();
    if raw.len() != 19 || raw.as_bytes().get(10) != Some(&b' ') {
        return None;
    }
    let civil: DateTime = raw.replacen(' ', "T", 1).parse().ok()?;
    JstInstant::from_jst_civil(civil).ok()
}

/// Product code = seller item code joined to the seller option code with `-` (either may be
/// empty); warehouses accept only ASCII letters, digits, `-` and `_`.
pub fn product_code(seller_item_code: &str, option_code: &str) -> String {
    match (seller_item_code.is_empty(), option_code.is_empty()) {
        (_, true) => seller_item_code.to_owned(),
        (true, false) => option_code.to_owned(),
        (false, false) => format!("{seller_item_code}-{option_code}"),
    }
}

pub fn is_valid_product_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `PaymentMethod` is a free-text label (qoo10.md §8.1); the ones seen, mapped.
pub fn payment_method(label: &str) -> Option<PaymentMethod> {
    Some(match label {
        "クレジットカード" | "Credit Card" | "CreditCard" => PaymentMethod::CreditCard,
        "コンビニ決済" | "コンビニ" => PaymentMethod::Konbini,
        "銀行振込" | "銀行振り込み" => PaymentMethod::BankTransfer,
        "Pay-easy" | "ペイジー" => PaymentMethod::PayEasy,
        "後払い" | "あと払い" | "atone" => PaymentMethod::Deferred,
        "PayPay" | "楽天ペイ" | "d払い" | "au PAY" | "メルペイ" | "LINE Pay" | "PayPal"
        | "Apple Pay" | "Google Pay" | "携帯決済" => PaymentMethod::Wallet,
        "Qポイント" | "Qoo10ポイント" => PaymentMethod::Points,
        _ => return None,
    })
}

/// The status digit of `On request(2)` or `2`.
pub fn status_code(raw: &str) -> Option<u8> {
    let raw = raw.trim();
    let digits = raw
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once('('))
        .map_or(raw, |(_, d)| d);
    digits.parse().ok().filter(|s| (1..=5).contains(s))
}

pub fn status_label(code: u8) -> &'static str {
    match code {
        1 => "入金待ち",
        2 => "新規注文",
        3 => "配送準備",
        4 => "配送中",
        _ => "配送完了",
    }
}

/// What a claim says about a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClaimState {
    Requested,
    Cancelled,
}

fn claim_state(raw: &str) -> Option<ClaimState> {
    let code = status_digits(raw)?;
    match code {
        1 | 2 => Some(ClaimState::Requested),
        3 | 16 => Some(ClaimState::Cancelled),
        _ => None,
    }
}

/// `3`, `キャンセル完了(3)` or a bare label.
fn status_digits(raw: &str) -> Option<u8> {
    let raw = raw.trim();
    let digits = raw
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once('('))
        .map_or(raw, |(_, d)| d);
    if let Ok(n) = digits.parse() {
        return Some(n);
    }
    match raw {
        "キャンセル要請" => Some(1),
        "キャンセル中" => Some(2),
        "キャンセル完了" => Some(3),
        _ => None,
    }
}

/// A prefecture at the start of an address (`東京都渋谷区…` → `東京都`).
fn split_prefecture(address: &str) -> (String, String) {
    for len in [3, 4] {
        let head: String = address.chars().take(len).collect();
        if head.chars().count() == len
            && (head.ends_with('都')
                || head.ends_with('道')
                || head.ends_with('府')
                || head.ends_with('県'))
        {
            let rest: String = address.chars().skip(len).collect();
            return (head, rest);
        }
    }
    (String::new(), address.to_owned())
}

/// A phone, with Qoo10's empty placeholder `+81--` (country code only) treated as absent.
fn phone(row: &Value, names: &[&str]) -> Option<String> {
    names.iter().filter_map(|n| text(row, n)).find(|p| {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        digits.len() > 2
    })
}

/// One parsed line row.
struct Row<'a> {
    index: usize,
    value: &'a Value,
    order_no: i64,
    claim: Option<ClaimState>,
}

/// Collects holds while reading.
#[derive(Default)]
struct Holds(Vec<Hold>);

impl Holds {
    fn add(&mut self, kind: HoldKind, field: &str, message: impl Into<String>) {
        self.0
            .push(Hold::new(kind, Some(field.to_owned()), message.into()));
    }
}

/// Normalises one cart payload.
pub fn normalise_cart(
    store: &StoreRef,
    payload: &RawPayload,
    settings: &NormaliseSettings,
    imported_at: JstInstant,
) -> Result<Vec<Order>, NormaliseError> {
    let value: Value = serde_json::from_str(&payload.body)
        .map_err(|e| error("", "(payload)", format!("is not JSON ({:?})", e.classify())))?;
    let rows = field(&value, "rows")
        .and_then(Value::as_array)
        .filter(|rows| !rows.is_empty())
        .ok_or_else(|| {
            error(
                "",
                "rows",
                "is missing or empty: a cart needs its line rows",
            )
        })?;
    let cart = number(&value, "packNo")
        .or_else(|| rows.first().and_then(|r| number(r, "packNo")))
        .ok_or_else(|| error("", "packNo", "is missing or not a number"))?
        .to_string();

    // Lines, each once (the list and the by-number call may both return a line).
    let mut parsed: BTreeMap<i64, Row> = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        let order_no = number(row, "orderNo").ok_or_else(|| {
            error(
                &cart,
                &format!("rows[{index}].orderNo"),
                "is missing or not a number",
            )
        })?;
        if let Some(other) = number(row, "packNo")
            && other.to_string() != cart
        {
            return Err(error(
                &cart,
                &format!("rows[{index}].packNo"),
                format!("is {other}, another cart"),
            ));
        }
        let claim = text(row, "claimStatus").and_then(|c| claim_state(&c));
        parsed.entry(order_no).or_insert(Row {
            index,
            value: row,
            order_no,
            claim,
        });
    }
    // Claim rows: the only source of cancellations.
    let mut claim_reasons: BTreeMap<i64, String> = BTreeMap::new();
    for claim in field(&value, "claims")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(order_no), Some(state)) = (
            number(claim, "orderNo"),
            text(claim, "claimStatus").and_then(|c| claim_state(&c)),
        ) else {
            continue;
        };
        if let Some(row) = parsed.get_mut(&order_no) {
            // A completed cancellation outranks a request.
            if row.claim != Some(ClaimState::Cancelled) {
                row.claim = Some(state);
            }
        }
        if let Some(reason) = text(claim, "reason") {
            claim_reasons.insert(order_no, reason);
        }
    }

    let carriers = field(&value, "itemCarriers")
        .cloned()
        .unwrap_or(Value::Null);
    let mut cart_holds = Holds::default();
    // Lines RelatedOrder names that nobody returned or claimed: never taken as cancelled.
    let related: BTreeSet<i64> = parsed
        .values()
        .filter_map(|r| text(r.value, "RelatedOrder"))
        .flat_map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse::<i64>().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    for missing in related.iter().filter(|n| !parsed.contains_key(n)) {
        cart_holds.add(
            HoldKind::MalformedField,
            "RelatedOrder",
            format!(
                "line {missing} belongs to the cart but was neither returned nor claimed; \
                 check it in QSM (a missing line is not taken as cancelled)"
            ),
        );
    }

    // Each line's carrier: the row's, else the item's.
    let mut unknown_carrier = Vec::new();
    let mut carrier_of: BTreeMap<i64, String> = BTreeMap::new();
    for row in parsed.values() {
        let carrier = text(row.value, "DeliveryCompany").or_else(|| {
            let item = text(row.value, "itemCode")?;
            field(&carriers, &item)?
                .as_str()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        });
        match carrier {
            Some(c) => {
                carrier_of.insert(row.order_no, c);
            }
            None => unknown_carrier.push(row),
        }
    }
    let mut groups: Vec<Vec<&Row>> = if unknown_carrier.is_empty() {
        let mut by_carrier: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for row in parsed.values() {
            let carrier = carrier_of.get(&row.order_no).map_or("", String::as_str);
            by_carrier.entry(carrier).or_default().push(row);
        }
        let mut groups: Vec<Vec<&Row>> = by_carrier.into_values().collect();
        groups.sort_by_key(|g| g.first().map(|r| r.order_no));
        groups
    } else {
        for row in &unknown_carrier {
            let item = text(row.value, "itemCode").unwrap_or_default();
            cart_holds.add(
                HoldKind::MalformedField,
                &format!("rows[{}].DeliveryCompany", row.index),
                format!(
                    "line {} has no carrier and item {} has none configured on Qoo10; the cart \
                     is kept whole until its carriers are known",
                    row.order_no,
                    quote(&item)
                ),
            );
        }
        vec![parsed.values().collect()]
    };
    groups.retain(|g| !g.is_empty());
    let split = groups.len() > 1;

    let mut orders = Vec::with_capacity(groups.len());
    for (part, group) in groups.iter().enumerate() {
        let mall_order_id = if split {
            format!("{cart}-{}", part + 1)
        } else {
            cart.clone()
        };
        let id = if split {
            OrderId::split_part(store, &cart, part + 1)
        } else {
            OrderId::new(store, &cart)
        };
        let carrier = group
            .first()
            .and_then(|r| carrier_of.get(&r.order_no))
            .cloned();
        let holds = if part == 0 {
            std::mem::take(&mut cart_holds.0)
        } else {
            Vec::new()
        };
        orders.push(part_order(PartInput {
            store,
            cart: &cart,
            mall_order_id,
            id,
            rows: group,
            first_part: part == 0,
            all_rows: &parsed,
            carrier,
            claim_reasons: &claim_reasons,
            holds,
            settings,
            payload,
            imported_at,
        })?);
    }
    Ok(orders)
}

struct PartInput<'a> {
    store: &'a StoreRef,
    cart: &'a str,
    mall_order_id: String,
    id: OrderId,
    rows: &'a [&'a Row<'a>],
    first_part: bool,
    all_rows: &'a BTreeMap<i64, Row<'a>>,
    carrier: Option<String>,
    claim_reasons: &'a BTreeMap<i64, String>,
    holds: Vec<Hold>,
    settings: &'a NormaliseSettings,
    payload: &'a RawPayload,
    imported_at: JstInstant,
}

fn part_order(input: PartInput<'_>) -> Result<Order, NormaliseError> {
    let cart = input.cart;
    let mut holds = Holds(input.holds);
    let first = input.rows.first().map(|r| r.value).unwrap_or(&Value::Null);
    let path = |row: &Row, name: &str| format!("rows[{}].{name}", row.index);

    let ordered_at = match text(first, "orderDate") {
        Some(raw) => parse_datetime(&raw).unwrap_or_else(|| {
            holds.add(
                HoldKind::MalformedField,
                "orderDate",
                format!(
                    "is not a date-time like 2025-06-03 14:22:10: {}",
                    quote(&raw)
                ),
            );
            input.imported_at
        }),
        None => {
            holds.add(
                HoldKind::MalformedField,
                "orderDate",
                "is missing; the import time is used",
            );
            input.imported_at
        }
    };
    let paid_at = match text(first, "PaymentDate") {
        None => None,
        Some(raw) => {
            let parsed = parse_datetime(&raw);
            if parsed.is_none() {
                holds.add(
                    HoldKind::MalformedField,
                    "PaymentDate",
                    format!(
                        "is not a date-time like 2025-06-03 14:25:41: {}",
                        quote(&raw)
                    ),
                );
            }
            parsed
        }
    };

    // Ship-to.
    let addr1 = text(first, "Addr1").unwrap_or_default();
    let (prefecture, city, street) = if addr1.is_empty() {
        (
            String::new(),
            String::new(),
            text(first, "shippingAddr").unwrap_or_default(),
        )
    } else {
        let (prefecture, city) = split_prefecture(&addr1);
        (prefecture, city, text(first, "Addr2").unwrap_or_default())
    };
    let ship_to = Address {
        postcode: text(first, "zipCode").unwrap_or_default(),
        prefecture,
        city,
        street,
    };
    let mut operator = ichigen_core::order::OperatorWork::default();
    let buyer_address = if input.settings.fill_buyer_address_from_ship_to {
        operator.notes.push(OperatorNote {
            at: input.imported_at,
            by: IMPORT_AUTHOR.into(),
            text: "注文者住所: Qoo10 は注文者の住所を返さないため、店舗設定により送付先住所で補完しました".into(),
        });
        Some(ship_to.clone())
    } else {
        None
    };
    let buyer = Buyer {
        name: text(first, "buyer").unwrap_or_default(),
        kana: text(first, "buyer_gata"),
        email: text(first, "buyerEmail"),
        phone: phone(first, &["buyerTel", "buyerMobile"]),
        address: buyer_address,
    };

    // Lines.
    let mut lines = Vec::new();
    let mut goods: Yen = 0;
    let mut shipping: Yen = 0;
    let mut shop_discounts: Yen = 0;
    let mut additional_notes = Vec::new();
    let mut cancelled = Vec::new();
    let mut requested = Vec::new();
    for row in input.rows {
        match row.claim {
            Some(ClaimState::Cancelled) => {
                let reason = input.claim_reasons.get(&row.order_no).cloned();
                cancelled.push(match reason {
                    Some(r) => format!("line {} cancelled on Qoo10 (claim: {r})", row.order_no),
                    None => format!("line {} cancelled on Qoo10 (claim)", row.order_no),
                });
                continue;
            }
            Some(ClaimState::Requested) => requested.push(row.order_no),
            None => {}
        }
        let value = row.value;
        let price = yen(value, "orderPrice", &path(row, "orderPrice"), cart)?;
        let qty_raw = text(value, "orderQty").unwrap_or_default();
        let quantity = qty_raw
            .parse::<u32>()
            .ok()
            .filter(|q| *q > 0)
            .unwrap_or_else(|| {
                holds.add(
                    HoldKind::MalformedField,
                    &path(row, "orderQty"),
                    format!("is not a positive quantity: {}", quote(&qty_raw)),
                );
                0
            });
        let discount = yen(value, "discount", &path(row, "discount"), cart)?.unwrap_or(0);
        let total = yen(value, "total", &path(row, "total"), cart)?;
        let unit_price = price.unwrap_or_else(|| {
            holds.add(
                HoldKind::MalformedField,
                &path(row, "orderPrice"),
                "is missing",
            );
            0
        });
        let line_goods = unit_price.saturating_mul(Yen::from(quantity));
        if let Some(total) = total
            && total != line_goods.saturating_sub(discount)
        {
            holds.add(
                HoldKind::TotalsMismatch,
                &path(row, "total"),
                format!(
                    "line {}: orderPrice {unit_price} × orderQty {quantity} − discount {discount} \
                     = {} but total is {total}",
                    row.order_no,
                    line_goods.saturating_sub(discount)
                ),
            );
        }
        goods = goods.saturating_add(line_goods);
        shop_discounts = shop_discounts.saturating_add(discount);
        let seller_discount =
            yen(value, "SellerDiscount", &path(row, "SellerDiscount"), cart)?.unwrap_or(0);
        shop_discounts = shop_discounts.saturating_add(seller_discount);
        shipping = shipping.saturating_add(
            yen(value, "ShippingRate", &path(row, "ShippingRate"), cart)?.unwrap_or(0),
        );

        let seller_item_code = text(value, "sellerItemCode").unwrap_or_default();
        let option_code = text(value, "optionCode").unwrap_or_default();
        let code = product_code(&seller_item_code, &option_code);
        if !is_valid_product_code(&code) {
            holds.add(
                HoldKind::BadProductCode,
                &path(row, "sellerItemCode"),
                format!(
                    "line {}: product code {} (sellerItemCode + optionCode) must be ASCII letters, \
                     digits, '-' or '_' and not empty",
                    row.order_no,
                    quote(&code)
                ),
            );
        }
        let option_text = text(value, "option").unwrap_or_default();
        let mut options = Vec::new();
        let mut extras = Vec::new();
        for part in option_text
            .split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (name, value) = part
                .split_once(':')
                .or_else(|| part.split_once('：'))
                .unwrap_or(("", part));
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            match additional_price(&value) {
                Some(Ok(price)) => extras.push((name, value, price)),
                Some(Err(problem)) => {
                    return Err(error(cart, &path(row, "option"), problem));
                }
                None => options.push(ChosenOption { name, value }),
            }
        }
        let title = text(value, "itemTitle").unwrap_or_default();
        let name = if title.is_empty() {
            // MOVE items come without a title: name them by code and chosen attributes.
            let attributes: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
            let built = [seller_item_code.as_str(), &attributes.join(" / ")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if built.is_empty() {
                holds.add(
                    HoldKind::MalformedField,
                    &path(row, "itemTitle"),
                    format!(
                        "line {} has no title, code or attributes to name it by",
                        row.order_no
                    ),
                );
            }
            built
        } else {
            title
        };
        let surcharge: Yen = extras
            .iter()
            .fold(0, |sum: Yen, (_, _, p)| sum.saturating_add(*p));
        let mut line = OrderLine {
            mall_line_id: row.order_no.to_string(),
            mall_item_id: text(value, "itemCode").unwrap_or_default(),
            seller_sku: Some(code).filter(|c| !c.is_empty()),
            option_code: Some(option_code).filter(|c| !c.is_empty()),
            sku: None,
            name,
            options,
            quantity,
            unit_price,
            option_surcharge: surcharge,
            // v2 rows carry no tax rate: 10 % (the standard rate) until the item says otherwise.
            tax_rate_percent: 10,
            gift_wrapped: false,
        };
        if input.settings.additional_options_as_lines {
            line.unit_price = line.unit_price.saturating_sub(surcharge);
            line.option_surcharge = 0;
            lines.push(line);
            for (k, (name, value, price)) in extras.into_iter().enumerate() {
                lines.push(OrderLine {
                    mall_line_id: format!("{}-opt{}", row.order_no, k + 1),
                    mall_item_id: text(row.value, "itemCode").unwrap_or_default(),
                    name: format!("{name}:{value}"),
                    quantity,
                    unit_price: price,
                    tax_rate_percent: 10,
                    ..OrderLine::default()
                });
            }
        } else {
            for (name, value, _) in extras {
                additional_notes.push(format!(
                    "[追加オプション] 注文 {}: {name}:{value} × {quantity}",
                    row.order_no
                ));
                line.options.push(ChosenOption { name, value });
            }
            lines.push(line);
        }
    }
    let destination = Destination {
        mall_destination_id: None,
        recipient_name: text(first, "receiver").unwrap_or_default(),
        recipient_kana: text(first, "receiver_gata"),
        phone: phone(first, &["receiverTel", "receiverMobile"]),
        address: ship_to,
        mall_carrier_code: input.carrier.clone(),
        lines,
    };

    // Cart-level discounts sit on the cart's first rows: counted on the first part only.
    let (mut cart_seller, mut cart_qoo10): (Yen, Yen) = (0, 0);
    if input.first_part {
        for row in input.all_rows.values() {
            cart_seller = cart_seller.saturating_add(
                yen(
                    row.value,
                    "Cart_Discount_Seller",
                    &path(row, "Cart_Discount_Seller"),
                    cart,
                )?
                .unwrap_or(0),
            );
            cart_qoo10 = cart_qoo10.saturating_add(
                yen(
                    row.value,
                    "Cart_Discount_Qoo10",
                    &path(row, "Cart_Discount_Qoo10"),
                    cart,
                )?
                .unwrap_or(0),
            );
        }
    }
    let coupons_shop_funded = shop_discounts.saturating_add(cart_seller);
    let total = goods.saturating_add(shipping);
    let amounts = Amounts {
        goods,
        shipping,
        coupons: coupons_shop_funded.saturating_add(cart_qoo10),
        coupons_shop_funded,
        total,
        billed: total
            .saturating_sub(coupons_shop_funded)
            .saturating_sub(cart_qoo10),
        ..Amounts::default()
    };

    let label = text(first, "PaymentMethod").unwrap_or_default();
    let method = payment_method(&label).unwrap_or_else(|| {
        holds.add(
            HoldKind::UnknownPaymentMethod,
            "PaymentMethod",
            format!("unknown payment method {}", quote(&label)),
        );
        PaymentMethod::Other
    });
    let payment = Payment {
        method,
        mall_method_code: label.clone(),
        mall_method_name: label,
        paid_at,
        due_date: None,
    };

    let mut delivery = Delivery {
        mall_method_name: text(first, "shippingWay").unwrap_or_default(),
        ..Delivery::default()
    };
    if let Some(hope) = text(first, "hopeDate") {
        for piece in hope.split_whitespace() {
            if piece.contains('~')
                || piece.contains('〜')
                || piece.contains('～')
                || piece == "午前中"
            {
                let mapped = time_slot_text(piece);
                if mapped.is_none() {
                    holds.add(
                        HoldKind::UnmappedTimeSlot,
                        "hopeDate",
                        format!("time range {} maps to none of ours", quote(piece)),
                    );
                }
                delivery.time_slot = Some(TimeSlot {
                    raw: piece.to_owned(),
                    mapped,
                });
            } else {
                match piece.parse::<Date>() {
                    Ok(date) if piece.len() == 10 => delivery.desired_date = Some(date),
                    _ => holds.add(
                        HoldKind::MalformedField,
                        "hopeDate",
                        format!("is not YYYY-MM-DD and/or HH:MM~HH:MM: {}", quote(&hope)),
                    ),
                }
            }
        }
    }

    let status_raw = text(first, "shippingStatus").unwrap_or_default();
    let mall_status = match status_code(&status_raw) {
        Some(code) => MallStatus {
            code: code.to_string(),
            label: status_label(code).into(),
        },
        None => {
            holds.add(
                HoldKind::MalformedField,
                "shippingStatus",
                format!("unknown shipping status {}", quote(&status_raw)),
            );
            MallStatus {
                code: status_raw.clone(),
                label: String::new(),
            }
        }
    };
    for order_no in &requested {
        holds.add(
            HoldKind::CancelRequested,
            "claimStatus",
            format!("the buyer asked to cancel line {order_no} (キャンセル要請); Qoo10 has not cancelled it yet"),
        );
    }

    let mut notes: Vec<String> = text(first, "ShippingMsg").into_iter().collect();
    notes.extend(additional_notes);
    let mut order = Order {
        id: input.id,
        store: input.store.clone(),
        mall_order_id: input.mall_order_id,
        ordered_at,
        buyer,
        destinations: vec![destination],
        amounts,
        payment,
        delivery,
        gift: Gift {
            is_gift: text(first, "Gift").is_some_and(|g| g.eq_ignore_ascii_case("Y")),
            ..Gift::default()
        },
        notes: (!notes.is_empty()).then(|| notes.join("\n")),
        mall_status,
        status: OrderStatus::Imported,
        holds: Vec::new(),
        mall_sync: MallSync::idle(),
        history: Vec::new(),
        operator,
        version: 1,
        imported_at: input.imported_at,
        updated_at: input.imported_at,
        raw: input.payload.clone(),
    };
    if !cancelled.is_empty() {
        order.history.push(HistoryEntry {
            at: input.imported_at,
            event: "lines cancelled on Qoo10".into(),
            changes: cancelled,
        });
    }
    if order.lines().next().is_none()
        && let Err(e) = order.apply(StatusEvent::Cancelled)
    {
        tracing::error!(order = %order.id, error = %e, "could not mark a cancelled order");
    }
    order.holds = holds.0;
    Ok(order)
}

/// `あり(+300円)` → 300; `None` when the value carries no price (a plain option).
fn additional_price(value: &str) -> Option<Result<Yen, String>> {
    let inner = value.strip_suffix("円)")?;
    let (_, amount) = inner.rsplit_once("(+")?;
    Some(decimal_yen(amount).map_err(|p| format!("additional option {}: {p}", quote(value))))
}

/// For the CLI: a cart payload as the client builds it, or a raw GetShippingInfo_v2 /
/// GetShippingAndClaimInfoByOrderNo_V2 answer (rows grouped into carts by `packNo`).
pub fn normalise_response(
    store: &StoreRef,
    body: &str,
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        error(
            "",
            "(response)",
            format!("is not JSON ({:?})", e.classify()),
        )
    })?;
    let settings = NormaliseSettings::default();
    if field(&value, "rows").is_some() {
        let payload = RawPayload::json(&value);
        return Ok(
            match normalise_cart(store, &payload, &settings, imported_at) {
                Ok(orders) => orders.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            },
        );
    }
    if let Some(code) = field(&value, "ErrorCode") {
        return Err(error(
            "",
            "ErrorCode",
            format!("the answer is an error envelope ({code})"),
        ));
    }
    let result_code = field(&value, "ResultCode").and_then(|c| match c {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    if result_code != Some(0) {
        return Err(error(
            "",
            "ResultCode",
            format!("is {result_code:?}, not a success (0)"),
        ));
    }
    let rows = match field(&value, "ResultObject") {
        Some(Value::Array(rows)) => rows.clone(),
        Some(Value::Object(row)) => vec![Value::Object(row.clone())],
        _ => Vec::new(),
    };
    let mut carts: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for row in rows {
        let cart = number(&row, "packNo")
            .map(|n| n.to_string())
            .unwrap_or_default();
        carts.entry(cart).or_default().push(row);
    }
    let mut results = Vec::new();
    for (cart, rows) in carts {
        let mut body = Map::new();
        if let Ok(n) = cart.parse::<i64>() {
            body.insert("packNo".into(), n.into());
        }
        body.insert("rows".into(), Value::Array(rows));
        let payload = RawPayload::json(&Value::Object(body));
        match normalise_cart(store, &payload, &settings, imported_at) {
            Ok(orders) => results.extend(orders.into_iter().map(Ok)),
            Err(e) => results.push(Err(e)),
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_codes() {
        assert_eq!(product_code("TEE-01", "BK_M"), "TEE-01-BK_M");
        assert_eq!(product_code("TEE-01", ""), "TEE-01");
        assert!(is_valid_product_code("TEE-01-BK_M"));
        for bad in ["", "ＴＥＥ－０１", "TEE 01", "TEE😀", "TEE/01"] {
            assert!(!is_valid_product_code(bad), "{bad}");
        }
    }

    #[test]
    fn statuses_dates_and_slots() {
        assert_eq!(status_code("On request(2)"), Some(2));
        assert_eq!(status_code("2"), Some(2));
        assert_eq!(status_code("On request(7)"), None);
        assert!(parse_datetime("2025-06-03 14:22:10").is_some());
        assert!(
            parse_datetime("2025-11-31 14:22:10").is_none(),
            "31 November"
        );
        assert!(parse_datetime("2025/06/03 14:22:10").is_none());
        assert_eq!(time_slot_text("14:00~16:00").as_deref(), Some("14-16"));
        assert_eq!(time_slot_text("夕方").as_deref(), None);
        assert_eq!(claim_state("3"), Some(ClaimState::Cancelled));
        assert_eq!(claim_state("キャンセル要請"), Some(ClaimState::Requested));
        assert_eq!(
            split_prefecture("東京都渋谷区神宮前"),
            ("東京都".into(), "渋谷区神宮前".into())
        );
        assert_eq!(
            split_prefecture("神奈川県横浜市"),
            ("神奈川県".into(), "横浜市".into())
        );
    }
}
