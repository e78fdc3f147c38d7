//! Amazon normaliser: own fixtures with the shape of SP-API answers, and the public samples
//! beside the repository (`shared/malls/samples/amazon`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::order::{PaymentMethod, RawPayload};
use ichigen_core::{HoldKind, JstInstant, MallId, OrderStatus, StoreRef};
use ichigen_malls::amazon::normalise::{FBA_CARRIER, normalise_order, normalise_responses};
use serde_json::Value;

fn store() -> StoreRef {
    StoreRef::new(MallId::Amazon, "store-a")
}

fn at() -> JstInstant {
    "2025-06-02T12:00:00+09:00".parse().unwrap()
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/amazon/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn normalise(name: &str) -> ichigen_core::Order {
    let doc = fixture(name);
    normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap()
}

fn sample(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/malls/samples/amazon/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn cod_order_with_two_tax_rates() {
    let order = normalise("cod_two_lines");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.mall_order_id, "503-1111111-2222222");
    assert_eq!(order.ordered_at.to_string(), "2025-06-01T11:14:09+09:00");
    assert_eq!(order.payment.method, PaymentMethod::CashOnDelivery);
    assert_eq!(order.payment.paid_at, None);
    let a = &order.amounts;
    assert_eq!(
        (a.goods, a.shipping, a.cod_fee, a.coupons, a.points),
        (5560, 500, 330, 200, 0)
    );
    assert_eq!((a.total, a.billed, a.tax), (6390, 6190, Some(523)));
    let lines: Vec<_> = order.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].mall_item_id, "B0EXAMPLE1");
    assert_eq!(lines[0].seller_sku.as_deref(), Some("TEE-BK-M"));
    assert_eq!(lines[0].mall_line_id, "51234567890123");
    assert_eq!(
        (
            lines[0].quantity,
            lines[0].unit_price,
            lines[0].tax_rate_percent
        ),
        (2, 1980, 10)
    );
    assert_eq!(lines[1].tax_rate_percent, 8);
    let d = &order.destinations[0];
    assert_eq!(d.recipient_name, "山田 花子");
    assert_eq!(d.address.prefecture, "東京都");
    assert_eq!(d.address.street, "神南1-2-3 ｻﾝﾌﾟﾙﾋﾞﾙ４Ｆ 🏢");
    assert_eq!(order.buyer.name, "山田 花子");
    assert_eq!(order.mall_status.code, "Unshipped");
    assert_eq!(order.status, OrderStatus::Imported, "the import settles it");
}

#[test]
fn pending_konbini_awaits_payment_without_holds() {
    let order = normalise("pending_konbini");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert_eq!(order.payment.method, PaymentMethod::Konbini);
    assert!(order.payment.awaits_payment());
    assert_eq!(order.amounts.billed, 0);
    assert_eq!(order.destinations[0].address.postcode, "");
    assert_eq!(order.mall_status.code, "Pending");
}

#[test]
fn paid_konbini_is_settled_by_the_import() {
    let mut doc = fixture("pending_konbini");
    doc["order"]["OrderStatus"] = "Unshipped".into();
    doc["order"]["OrderTotal"] = serde_json::json!({"CurrencyCode": "JPY", "Amount": "1200.00"});
    doc["orderItems"][0]["ItemPrice"] =
        serde_json::json!({"CurrencyCode": "JPY", "Amount": "1200.00"});
    let order = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.status, OrderStatus::Imported);
    assert!(order.payment.paid_at.is_some());
    assert_eq!(order.amounts.billed, 1200);
}

#[test]
fn fba_gift_with_scheduled_delivery() {
    let order = normalise("fba_gift_scheduled");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(
        order.status,
        OrderStatus::Shipped,
        "Amazon ships FBA orders"
    );
    assert_eq!(order.delivery.carrier.as_deref(), Some(FBA_CARRIER));
    assert!(order.gift.is_gift);
    assert_eq!(
        order.delivery.desired_date.unwrap().to_string(),
        "2025-06-04"
    );
    let slot = order.delivery.time_slot.unwrap();
    assert_eq!(
        (slot.raw.as_str(), slot.mapped.as_deref()),
        ("08:00-12:00", Some("08-12"))
    );
    assert_eq!(order.payment.method, PaymentMethod::CreditCard);
}

#[test]
fn a_window_off_the_hour_is_held_not_mapped() {
    let mut doc = fixture("fba_gift_scheduled");
    doc["orderItems"][0]["ScheduledDeliveryStartDate"] = "2025-06-03T23:30:00Z".into();
    doc["orderItems"][0]["ScheduledDeliveryEndDate"] = "2025-06-04T03:30:00Z".into();
    let order = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    let slot = order.delivery.time_slot.as_ref().unwrap();
    assert_eq!(
        (slot.raw.as_str(), slot.mapped.as_deref()),
        ("08:30-12:30", None)
    );
    assert!(
        order.has_hold(HoldKind::UnmappedTimeSlot),
        "{:?}",
        order.holds
    );
}

#[test]
fn gift_wrap_and_message_from_the_items_buyer_info() {
    let order = normalise("gift_wrapped");
    assert!(
        order.holds.is_empty(),
        "wrap is in OrderTotal: {:?}",
        order.holds
    );
    assert!(order.gift.is_gift);
    assert_eq!(order.amounts.gift_wrapping, 300);
    assert_eq!(order.amounts.total, 2980 + 480 + 500 + 300);
    let wrapping = &order.gift.wrappings[0];
    assert_eq!((wrapping.name.as_str(), wrapping.price), ("Classic", 300));
    let wrapped: Vec<bool> = order.lines().map(|l| l.gift_wrapped).collect();
    assert_eq!(wrapped, [true, false], "only the wrapped line");
    assert_eq!(
        order.notes.as_deref(),
        Some("ギフトメッセージ (TEA-SET): いつもありがとう 🎁")
    );
    assert_eq!(order.amounts.tax, Some(220 + 43 + 27));

    // Without the wrap in OrderTotal the totals do not add up, and the hold says so.
    let mut doc = fixture("gift_wrapped");
    doc["order"]["OrderTotal"]["Amount"] = "3960.00".into();
    let held = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    let hold = held
        .holds
        .iter()
        .find(|h| h.kind == HoldKind::TotalsMismatch)
        .expect("a totals hold");
    assert!(hold.message.contains("gift wrap 300"), "{}", hold.message);
}

#[test]
fn fractions_and_totals_are_held_naming_the_field() {
    let order = normalise("bad_amounts");
    let fields: Vec<_> = order
        .holds
        .iter()
        .map(|h| (h.kind, h.field.clone().unwrap_or_default()))
        .collect();
    assert!(
        fields.contains(&(
            HoldKind::MalformedField,
            "OrderItems[0].ItemPrice.Amount".into()
        )),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(k, f)| *k == HoldKind::TotalsMismatch && f == "OrderTotal"),
        "{fields:?}"
    );
}

#[test]
fn cancelled_and_unknown_codes() {
    let mut doc = fixture("cod_two_lines");
    doc["order"]["OrderStatus"] = "Canceled".into();
    let order = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);

    doc["order"]["OrderStatus"] = "Teleported".into();
    doc["order"]["PaymentMethod"] = "Barter".into();
    let order = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    let kinds: Vec<_> = order.holds.iter().map(|h| h.kind).collect();
    assert!(kinds.contains(&HoldKind::UnknownPaymentMethod));
    assert!(order.holds.iter().any(|h| h.message.contains("Teleported")));
}

#[test]
fn real_sandbox_sample_reads_with_only_true_holds() {
    // Amazon's own static-sandbox order: a US order in USD whose buyer asked to cancel. For a
    // JP shop the currency is a real problem, and so is the cancel request; nothing else is.
    let bodies = [
        sample("amzn-models-sandbox-getOrder-200.json"),
        sample("amzn-models-sandbox-getOrderItems-200.json"),
    ];
    let results = normalise_responses(&store(), &bodies, at()).unwrap();
    assert_eq!(results.len(), 1);
    let order = results.into_iter().next().unwrap().unwrap();
    assert_eq!(order.mall_order_id, "902-1845936-5435065");
    assert_eq!(order.lines().count(), 1);
    assert_eq!(
        order.lines().next().unwrap().seller_sku.as_deref(),
        Some("NABetaASINB00551Q3CS")
    );
    for hold in &order.holds {
        let field = hold.field.clone().unwrap_or_default();
        let explained = field.ends_with("CurrencyCode")
            || (hold.kind == HoldKind::CancelRequested && field.contains("BuyerRequestedCancel"));
        assert!(explained, "unexplained hold {hold}");
    }
    assert!(
        order
            .holds
            .iter()
            .any(|h| h.kind == HoldKind::CancelRequested)
    );
    assert_eq!(
        order.payment.method,
        PaymentMethod::CreditCard,
        "Other + Standard"
    );
}

#[test]
fn unknown_order_id_sample_is_no_order() {
    let bodies = [sample("spapi-models2939-getOrder-unknown-id-200.json")];
    let results = normalise_responses(&store(), &bodies, at()).unwrap();
    let error = results.into_iter().next().unwrap().unwrap_err();
    assert_eq!(error.field, "AmazonOrderId");
}

#[test]
fn an_item_with_nothing_ordered_is_a_cancelled_line_whose_charges_still_count() {
    let mut doc = fixture("cod_two_lines");
    let yen = |money: &Value| -> i64 {
        money["Amount"]
            .as_str()
            .unwrap()
            .strip_suffix(".00")
            .unwrap()
            .parse()
            .unwrap()
    };
    let item = &mut doc["orderItems"][1];
    let taken_off = yen(&item["ItemPrice"]) - yen(&item["PromotionDiscount"]);
    item["QuantityOrdered"] = 0.into();
    for key in [
        "ItemPrice",
        "ItemTax",
        "PromotionDiscount",
        "PromotionDiscountTax",
    ] {
        if item.get(key).is_some() {
            item[key]["Amount"] = "0.00".into();
        }
    }
    let total = yen(&doc["order"]["OrderTotal"]) - taken_off;
    doc["order"]["OrderTotal"]["Amount"] = format!("{total}.00").into();
    doc["order"]["PaymentExecutionDetail"][0]["Payment"]["Amount"] = format!("{total}.00").into();

    let order = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    let lines: Vec<_> = order.lines().map(|l| l.mall_line_id.as_str()).collect();
    assert_eq!(
        lines,
        ["51234567890123"],
        "the cancelled item is not a line"
    );
    assert_eq!(order.amounts.billed, total);

    // A quantity that is not a number is malformed, not a cancelled line.
    doc["orderItems"][1]["QuantityOrdered"] = "two".into();
    let order = normalise_order(&store(), &doc, RawPayload::json(&doc), at()).unwrap();
    assert!(
        order
            .holds
            .iter()
            .any(|h| h.field.as_deref() == Some("OrderItems[1].QuantityOrdered")),
        "{:?}",
        order.holds
    );
}
