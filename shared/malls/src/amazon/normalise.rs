//! Amazon order (getOrder + getOrderItems) → unified [`Order`].
//!
//! - Money is `{"CurrencyCode":"JPY","Amount":"1980.00"}`: whole yen exactly; a fraction or
//!   another currency is a hold naming the field, never rounded.
//! - `ItemPrice` is the line total (unit × quantity, tax included for JP); the unit price is
//!   it divided by the quantity, which must divide it exactly.
//! - Totals [INF, the sandbox's generator uses the same formula]: `OrderTotal` = Σ ItemPrice +
//!   ShippingPrice + CODFee + GiftWrapPrice − PromotionDiscount − ShippingDiscount −
//!   CODFeeDiscount. Promotion
//!   and shipping discounts are coupons (seller-funded on Amazon); `PointsGranted` are points
//!   the buyer earns, not a discount, and are left out of the amounts.
//! - Gift wrap and gift message are on each item's `BuyerInfo`, which Amazon returns only
//!   under a restricted-data token naming `buyerInfo` for the items' path: a wrapping per
//!   wrapped line, the messages in the order's notes.
//! - Times are UTC (`…Z`); the unified order keeps instants, dates are JST.
//! - An item with `QuantityOrdered` 0 is one the seller cancelled [INF: v0 has no per-item
//!   cancelled flag]: its charges count, it is not a line.
//! - Status: `Pending` is awaiting payment (no address, no prices yet: no hold for those);
//!   `Canceled` is cancelled; `AFN` orders are fulfilled by Amazon: carrier `amazon`, and
//!   settled straight to shipped (nothing for the shop to ship).

use ichigen_core::hold::{Hold, HoldKind};
use ichigen_core::mall::NormaliseError;
use ichigen_core::order::{
    Address, Amounts, Buyer, Delivery, Destination, Gift, MallStatus, OrderLine, Payment,
    PaymentMethod, RawPayload, TimeSlot, Wrapping,
};
use ichigen_core::status::MallSync;
use ichigen_core::{JstInstant, MallId, Order, OrderId, OrderStatus, StatusEvent, StoreRef, Yen};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::reading::decimal_yen;

/// The carrier of orders Amazon ships itself (FBA).
pub const FBA_CARRIER: &str = "amazon";

/// Time slots the shop's carriers offer (JST hours), as the unified order names them.
const SLOTS: [&str; 7] = [
    "08-12", "12-14", "14-16", "16-18", "18-20", "19-21", "20-21",
];

fn error(id: &str, field: &str, problem: impl Into<String>) -> NormaliseError {
    NormaliseError {
        mall: MallId::Amazon,
        mall_order_id: id.to_owned(),
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// For the CLI: one or more response bodies (a getOrder answer and its getOrderItems
/// answer(s), or our own raw payload `{"order","orderItems"}`) into orders, matched by
/// `AmazonOrderId`.
pub fn normalise_responses(
    store: &StoreRef,
    bodies: &[String],
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    let mut orders: Vec<Value> = Vec::new();
    let mut items: Vec<(String, Vec<Value>)> = Vec::new();
    for body in bodies {
        let value: Value = serde_json::from_str(body)
            .map_err(|e| error("", "(response)", format!("is not JSON ({e})")))?;
        if value.get("order").is_some() {
            orders.push(value.get("order").cloned().unwrap_or(Value::Null));
            let id = value["order"]["AmazonOrderId"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let list = value
                .get("orderItems")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            items.push((id, list));
            continue;
        }
        let Some(payload) = value.get("payload") else {
            return Err(error(
                "",
                "(response)",
                "has no payload: not a getOrder or getOrderItems answer",
            ));
        };
        if let Some(list) = payload.get("OrderItems").and_then(Value::as_array) {
            let id = payload["AmazonOrderId"].as_str().unwrap_or("").to_owned();
            match items.iter_mut().find(|(i, _)| *i == id) {
                Some((_, existing)) => existing.extend(list.iter().cloned()),
                None => items.push((id, list.clone())),
            }
        } else if let Some(list) = payload.get("Orders").and_then(Value::as_array) {
            orders.extend(list.iter().cloned());
        } else {
            orders.push(payload.clone());
        }
    }
    Ok(orders
        .into_iter()
        .map(|order| {
            let id = order["AmazonOrderId"].as_str().unwrap_or("");
            let lines = items
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, l)| l.clone())
                .unwrap_or_default();
            let raw = json!({"order": order, "orderItems": lines});
            normalise_order(store, &raw, RawPayload::json(&raw), imported_at)
        })
        .collect())
}

/// Normalises one raw payload `{"order": Order, "orderItems": [OrderItem…]}`.
pub fn normalise_order(
    store: &StoreRef,
    payload: &Value,
    raw: RawPayload,
    imported_at: JstInstant,
) -> Result<Order, NormaliseError> {
    let Some(order) = payload.get("order").filter(|o| o.is_object()) else {
        return Err(error("", "order", "is missing or not an object"));
    };
    let id = match order.get("AmazonOrderId") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
        Some(Value::String(_)) => return Err(error("", "AmazonOrderId", "is empty")),
        // An unknown id answers 200 with an empty payload: that is no order at all.
        None => return Err(error("", "AmazonOrderId", "is missing (an empty payload)")),
        Some(_) => return Err(error("", "AmazonOrderId", "is not text")),
    };
    let mut r = Reader::default();
    let status_code = text(order, "OrderStatus").unwrap_or_default();
    let pending = matches!(status_code.as_str(), "Pending" | "PendingAvailability");
    let ordered_at = match order.get("PurchaseDate").and_then(Value::as_str) {
        Some(t) => r.instant("PurchaseDate", t).unwrap_or(imported_at),
        None => {
            r.malformed(
                "PurchaseDate",
                "is missing; the import time is used instead",
            );
            imported_at
        }
    };

    let empty = Value::Null;
    let items: &[Value] = payload
        .get("orderItems")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if items.is_empty() {
        r.malformed("OrderItems", "no order items");
    }

    // Lines and the sums the totals check needs.
    let mut lines = Vec::new();
    let mut sums = Sums::default();
    let mut is_gift = false;
    let mut wrappings = Vec::new();
    let mut gift_messages = Vec::new();
    let mut scheduled: Option<(String, String)> = None;
    for (index, item) in items.iter().enumerate() {
        let path = |field: &str| format!("OrderItems[{index}].{field}");
        let quantity = item
            .get("QuantityOrdered")
            .and_then(Value::as_u64)
            .and_then(|q| u32::try_from(q).ok());
        if quantity.is_none() {
            r.malformed(&path("QuantityOrdered"), "is not a whole number");
        }
        let quantity = quantity.unwrap_or(0);
        let price = r.money(item, "ItemPrice", &path("ItemPrice"), pending);
        let tax = r.money(item, "ItemTax", &path("ItemTax"), true);
        let unit_price = match (price, quantity) {
            (Some(p), q) if q > 0 && p % Yen::from(q) == 0 => p / Yen::from(q),
            (Some(p), q) if q > 0 => {
                r.hold(
                    HoldKind::TotalsMismatch,
                    &path("ItemPrice"),
                    format!("the line total {p} yen does not divide into {q} equal units"),
                );
                p / Yen::from(q)
            }
            _ => 0,
        };
        let mut money = |key: &str| r.money(item, key, &path(key), true).unwrap_or(0);
        let shipping = money("ShippingPrice");
        let cod_fee = money("CODFee");
        let discounts = [
            money("PromotionDiscount"),
            money("ShippingDiscount"),
            money("CODFeeDiscount"),
        ];
        let shipping_tax = money("ShippingTax");
        sums.goods = sums.goods.saturating_add(price.unwrap_or(0));
        sums.shipping = sums.shipping.saturating_add(shipping);
        sums.cod_fee = sums.cod_fee.saturating_add(cod_fee);
        for discount in discounts {
            sums.coupons = sums.coupons.saturating_add(discount);
        }
        sums.tax = sums
            .tax
            .saturating_add(tax.unwrap_or(0))
            .saturating_add(shipping_tax);
        if let Some(points) = item.get("PointsGranted") {
            // Points the buyer earns: checked for shape only, not an amount of this order.
            let _ = r.money(
                points,
                "PointsMonetaryValue",
                &path("PointsGranted.PointsMonetaryValue"),
                true,
            );
        }
        // The item's BuyerInfo (only under a restricted-data token): gift wrap and message.
        let buyer_info = item.get("BuyerInfo").unwrap_or(&Value::Null);
        let wrap_price = r.money(
            buyer_info,
            "GiftWrapPrice",
            &path("BuyerInfo.GiftWrapPrice"),
            true,
        );
        let wrap_level = text(buyer_info, "GiftWrapLevel");
        let gift_wrapped = wrap_price.is_some_and(|p| p > 0) || wrap_level.is_some();
        if gift_wrapped {
            let price = wrap_price.unwrap_or(0);
            sums.gift_wrapping = sums.gift_wrapping.saturating_add(price);
            let wrap_tax = r
                .money(
                    buyer_info,
                    "GiftWrapTax",
                    &path("BuyerInfo.GiftWrapTax"),
                    true,
                )
                .unwrap_or(0);
            sums.tax = sums.tax.saturating_add(wrap_tax);
            wrappings.push(Wrapping {
                kind: "gift_wrap".into(),
                name: wrap_level.unwrap_or_else(|| "ギフト包装".into()),
                price,
            });
        }
        if let Some(message) = text(buyer_info, "GiftMessageText") {
            gift_messages.push(format!(
                "ギフトメッセージ ({}): {message}",
                text(item, "SellerSKU").unwrap_or_else(|| format!("line {}", index + 1))
            ));
        }
        match item.get("IsGift").and_then(Value::as_str) {
            Some("true") => is_gift = true,
            Some("false") | None => {}
            Some(other) => r.malformed(
                &path("IsGift"),
                format!("is not \"true\" or \"false\": {other:?}"),
            ),
        }
        if item["BuyerRequestedCancel"]["IsBuyerRequestedCancel"].as_str() == Some("true") {
            let reason = item["BuyerRequestedCancel"]["BuyerCancelReason"]
                .as_str()
                .unwrap_or("");
            r.hold(
                HoldKind::CancelRequested,
                &path("BuyerRequestedCancel"),
                format!("the buyer asked to cancel: {reason}"),
            );
        }
        if scheduled.is_none()
            && let (Some(start), Some(end)) = (
                text(item, "ScheduledDeliveryStartDate"),
                text(item, "ScheduledDeliveryEndDate"),
            )
        {
            scheduled = Some((start, end));
        }
        // An item with nothing ordered is one the seller cancelled (Orders v0 has no per-item
        // cancelled flag, amazon.md §2.2): its charges count above, it is not a line to ship.
        if item.get("QuantityOrdered").and_then(Value::as_u64) == Some(0) {
            continue;
        }
        lines.push(OrderLine {
            mall_line_id: text(item, "OrderItemId").unwrap_or_default(),
            mall_item_id: text(item, "ASIN").unwrap_or_default(),
            seller_sku: text(item, "SellerSKU"),
            option_code: None,
            sku: None,
            name: text(item, "Title").unwrap_or_default(),
            options: Vec::new(),
            quantity,
            unit_price,
            option_surcharge: 0,
            tax_rate_percent: tax_rate(price, tax),
            gift_wrapped,
        });
    }

    let address = order.get("ShippingAddress").unwrap_or(&empty);
    let street = ["AddressLine1", "AddressLine2", "AddressLine3"]
        .iter()
        .filter_map(|k| text(address, k))
        .collect::<Vec<_>>()
        .join(" ");
    let destination = Destination {
        mall_destination_id: None,
        recipient_name: text(address, "Name").unwrap_or_default(),
        recipient_kana: None,
        phone: text(address, "Phone"),
        address: Address {
            postcode: text(address, "PostalCode").unwrap_or_default(),
            prefecture: text(address, "StateOrRegion").unwrap_or_default(),
            city: text(address, "City").unwrap_or_default(),
            street,
        },
        mall_carrier_code: None,
        lines,
    };
    let buyer_info = order.get("BuyerInfo").unwrap_or(&empty);
    let buyer = Buyer {
        name: text(buyer_info, "BuyerName").unwrap_or_default(),
        kana: None,
        email: text(buyer_info, "BuyerEmail"),
        phone: None,
        address: None,
    };

    let amounts = amounts(&mut r, order, &sums, pending);
    let payment = payment(&mut r, order, pending, ordered_at);
    let afn = text(order, "FulfillmentChannel").as_deref() == Some("AFN");
    let delivery = delivery(&mut r, order, scheduled, afn);
    let mall_status = mall_status(&mut r, &status_code);

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
        gift: Gift {
            is_gift: is_gift || !wrappings.is_empty(),
            wrappings,
            noshi: None,
        },
        notes: (!gift_messages.is_empty()).then(|| gift_messages.join("\n")),
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
    result.holds = r.holds;
    let settle = |order: &mut Order, events: &[StatusEvent]| {
        for event in events {
            if let Err(e) = order.apply(*event) {
                tracing::error!(order = %order.id, error = %e, "could not place an Amazon order");
                return;
            }
        }
    };
    let clean = result.holds.is_empty();
    match status_code.as_str() {
        "Canceled" => settle(&mut result, &[StatusEvent::Cancelled]),
        // Not paid (or not authorised) yet, whatever the method: complete it when Amazon
        // lists it as Unshipped.
        "Pending" | "PendingAvailability" if clean => settle(
            &mut result,
            &[StatusEvent::Settle {
                has_holds: false,
                awaits_payment: true,
            }],
        ),
        "Unshipped" | "PartiallyShipped" | "Shipped" if afn && clean => settle(
            &mut result,
            &[
                StatusEvent::Settle {
                    has_holds: false,
                    awaits_payment: false,
                },
                StatusEvent::Shipped,
            ],
        ),
        _ => {}
    }
    Ok(result)
}

#[derive(Default)]
struct Sums {
    goods: Yen,
    shipping: Yen,
    cod_fee: Yen,
    gift_wrapping: Yen,
    coupons: Yen,
    tax: Yen,
}

/// Collects holds while reading.
#[derive(Default)]
struct Reader {
    holds: Vec<Hold>,
}

impl Reader {
    fn hold(&mut self, kind: HoldKind, field: &str, message: impl Into<String>) {
        self.holds
            .push(Hold::new(kind, Some(field.to_owned()), message.into()));
    }

    fn malformed(&mut self, field: &str, message: impl Into<String>) {
        self.hold(HoldKind::MalformedField, field, message);
    }

    /// A Money field as whole yen. Absent: `None`, held unless `optional`. A fraction or a
    /// currency other than JPY is held and `None`.
    fn money(&mut self, parent: &Value, key: &str, path: &str, optional: bool) -> Option<Yen> {
        let Some(money) = parent.get(key).filter(|v| !v.is_null()) else {
            if !optional {
                self.malformed(path, "is missing");
            }
            return None;
        };
        let currency = money.get("CurrencyCode").and_then(Value::as_str);
        if currency != Some("JPY") {
            self.malformed(
                &format!("{path}.CurrencyCode"),
                format!("is {:?}, not JPY", currency.unwrap_or("")),
            );
            return None;
        }
        let amount = money.get("Amount").and_then(Value::as_str).unwrap_or("");
        match decimal_yen(amount) {
            Ok(yen) => Some(yen),
            Err(problem) => {
                self.malformed(&format!("{path}.Amount"), problem);
                None
            }
        }
    }

    fn instant(&mut self, field: &str, text: &str) -> Option<JstInstant> {
        let parsed = parse_instant(text);
        if parsed.is_none() {
            self.malformed(field, format!("is not an ISO 8601 date-time: {text:?}"));
        }
        parsed
    }
}

fn text(parent: &Value, key: &str) -> Option<String> {
    parent
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// An ISO 8601 instant with its offset (Amazon answers in UTC, `…Z`).
pub fn parse_instant(text: &str) -> Option<JstInstant> {
    text.trim()
        .parse::<Timestamp>()
        .ok()
        .map(JstInstant::from_timestamp)
}

/// 10 or 8 from the tax inside a tax-inclusive price; 10 (the standard rate) when unknown.
fn tax_rate(price: Option<Yen>, tax: Option<Yen>) -> u8 {
    match (price, tax) {
        (Some(p), Some(t)) if p > t && t > 0 => {
            let (p, t) = (i128::from(p), i128::from(t));
            let net = p - t;
            // The rate whose tax is closest to what Amazon computed.
            if (net * 8 / 100 - t).abs() < (net * 10 / 100 - t).abs() {
                8
            } else {
                10
            }
        }
        _ => 10,
    }
}

fn amounts(r: &mut Reader, order: &Value, sums: &Sums, pending: bool) -> Amounts {
    // Gift wrap is charged to the buyer, so it is in OrderTotal [INF: amazon.md gives no
    // formula; the sandbox's generator uses the same one].
    let total = sums
        .goods
        .saturating_add(sums.shipping)
        .saturating_add(sums.cod_fee)
        .saturating_add(sums.gift_wrapping);
    let billed = r.money(order, "OrderTotal", "OrderTotal", pending);
    let expected = total.saturating_sub(sums.coupons);
    if let Some(billed) = billed
        && billed != expected
    {
        r.hold(
            HoldKind::TotalsMismatch,
            "OrderTotal",
            format!(
                "OrderTotal {billed} yen is not goods {} + shipping {} + COD fee {} + gift wrap {} − discounts {} = {expected} yen",
                sums.goods, sums.shipping, sums.cod_fee, sums.gift_wrapping, sums.coupons
            ),
        );
    }
    Amounts {
        goods: sums.goods,
        shipping: sums.shipping,
        cod_fee: sums.cod_fee,
        payment_fee: 0,
        gift_wrapping: sums.gift_wrapping,
        coupons: sums.coupons,
        coupons_shop_funded: sums.coupons,
        points: 0,
        total,
        billed: billed.unwrap_or(expected),
        tax: (!pending).then_some(sums.tax),
    }
}

/// `PaymentMethod` tells COD and CVS apart; `PaymentMethodDetails` the rest (§2.1).
fn payment(r: &mut Reader, order: &Value, pending: bool, ordered_at: JstInstant) -> Payment {
    let code = text(order, "PaymentMethod").unwrap_or_default();
    let details: Vec<String> = order
        .get("PaymentMethodDetails")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let from_details = || -> Option<PaymentMethod> {
        details.iter().find_map(|d| match d.as_str() {
            "Standard" | "CreditCard" => Some(PaymentMethod::CreditCard),
            "COD" => Some(PaymentMethod::CashOnDelivery),
            "CVS" | "ConvenienceStore" => Some(PaymentMethod::Konbini),
            "PointsAccount" | "GiftCertificate" => Some(PaymentMethod::Points),
            "Invoice" => Some(PaymentMethod::Invoice),
            _ => None,
        })
    };
    let method = match code.as_str() {
        "COD" => Some(PaymentMethod::CashOnDelivery),
        "CVS" => Some(PaymentMethod::Konbini),
        "Other" | "" => from_details(),
        _ => None,
    };
    let method = method.unwrap_or_else(|| {
        // Pending orders may not say yet how they will be paid.
        if !(pending && code.is_empty() && details.is_empty()) {
            r.hold(
                HoldKind::UnknownPaymentMethod,
                "PaymentMethod",
                format!(
                    "unknown payment method {code:?} (details {}); check how it is paid before shipping",
                    details.join(",")
                ),
            );
        }
        PaymentMethod::Other
    });
    let paid_at = match method {
        _ if pending => None,
        PaymentMethod::CashOnDelivery => None,
        // A konbini order that reached Unshipped was paid by its last update at the latest.
        PaymentMethod::Konbini => order
            .get("LastUpdateDate")
            .and_then(Value::as_str)
            .and_then(parse_instant)
            .or(Some(ordered_at)),
        _ => Some(ordered_at),
    };
    Payment {
        method,
        mall_method_code: code,
        mall_method_name: details.join(","),
        paid_at,
        due_date: None,
    }
}

fn delivery(
    r: &mut Reader,
    order: &Value,
    scheduled: Option<(String, String)>,
    afn: bool,
) -> Delivery {
    let level = text(order, "ShipmentServiceLevelCategory").unwrap_or_default();
    let window = scheduled.or_else(|| {
        (level == "Scheduled")
            .then(|| {
                Some((
                    text(order, "EarliestDeliveryDate")?,
                    text(order, "LatestDeliveryDate")?,
                ))
            })
            .flatten()
    });
    let (desired_date, time_slot) = match window {
        Some((start, end)) => match (parse_instant(&start), parse_instant(&end)) {
            (Some(s), Some(e)) => {
                let raw = format!(
                    "{}-{}",
                    s.civil().strftime("%H:%M"),
                    e.civil().strftime("%H:%M")
                );
                // Our slots are on the hour: 08:30-12:30 is none of them.
                let on_the_hour = s.civil().minute() == 0 && e.civil().minute() == 0;
                let mapped = format!("{:02}-{:02}", s.civil().hour(), e.civil().hour());
                let mapped = (on_the_hour && SLOTS.contains(&mapped.as_str())).then_some(mapped);
                if mapped.is_none() {
                    r.hold(
                        HoldKind::UnmappedTimeSlot,
                        "ScheduledDeliveryStartDate",
                        format!("the scheduled delivery window {raw} (JST) is none of our slots"),
                    );
                }
                (Some(s.date()), Some(TimeSlot { raw, mapped }))
            }
            _ => {
                r.malformed(
                    "ScheduledDeliveryStartDate",
                    format!("is not an ISO 8601 date-time window: {start:?} – {end:?}"),
                );
                (None, None)
            }
        },
        None => (None, None),
    };
    let mut name = [level, text(order, "ShipServiceLevel").unwrap_or_default()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    if afn {
        name = format!("FBA (Amazon ships) {name}").trim().to_owned();
    }
    Delivery {
        mall_method_name: name,
        carrier: afn.then(|| FBA_CARRIER.to_owned()),
        desired_date,
        time_slot,
    }
}

/// Amazon's order statuses (§2) and their labels; an unknown one is held.
fn mall_status(r: &mut Reader, code: &str) -> MallStatus {
    let label = match code {
        "PendingAvailability" => "予約注文（支払い前）",
        "Pending" => "支払い待ち",
        "Unshipped" => "未出荷",
        "PartiallyShipped" => "一部出荷済み",
        "Shipped" => "出荷済み",
        "InvoiceUnconfirmed" => "請求書未確認",
        "Canceled" => "キャンセル",
        "Unfulfillable" => "出荷不可",
        _ => {
            r.malformed("OrderStatus", format!("unknown order status {code:?}"));
            ""
        }
    };
    MallStatus {
        code: code.to_owned(),
        label: label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_utc() {
        let at = parse_instant("2025-06-01T02:14:09Z").unwrap();
        assert_eq!(at.civil().to_string(), "2025-06-01T11:14:09");
        assert_eq!(parse_instant("2025-11-31T00:00:00Z"), None);
    }

    #[test]
    fn tax_rates() {
        assert_eq!(tax_rate(Some(1100), Some(100)), 10);
        assert_eq!(tax_rate(Some(1080), Some(80)), 8);
        assert_eq!(tax_rate(None, None), 10);
    }
}
