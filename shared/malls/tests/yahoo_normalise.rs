//! The Yahoo normaliser on fixtures of orderInfo's shape (written for these tests; the
//! public samples hold no orderInfo answer).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::order::PaymentMethod;
use ichigen_core::{HoldKind, JstInstant, MallId, Order, OrderStatus, StoreRef};
use ichigen_malls::normalise_response;

fn store() -> StoreRef {
    StoreRef::new(MallId::Yahoo, "yahoo-a")
}

fn imported_at() -> JstInstant {
    "2025-03-02T10:00:00+09:00".parse().unwrap()
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/yahoo/{name}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn one(name: &str) -> Order {
    let mut orders = normalise_response(MallId::Yahoo, &store(), &fixture(name), imported_at())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(orders.len(), 1, "{name}");
    orders.remove(0).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn kinds(order: &Order) -> Vec<HoldKind> {
    order.holds.iter().map(|h| h.kind).collect()
}

#[test]
fn a_card_order_normalises_without_holds() {
    let order = one("order_info_card");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.id.as_str(), "yahoo:yahoo-a:fixture-store-10000001");
    assert_eq!(order.ordered_at.to_string(), "2025-03-01T09:12:44+09:00");
    assert_eq!(order.mall_status.code, "2");
    assert_eq!(order.mall_status.label, "処理中（未閲覧）");
    // Bill-to is the buyer, ship-to the destination.
    assert_eq!(order.buyer.name, "架空 花子");
    assert_eq!(order.buyer.kana.as_deref(), Some("カクウ ハナコ"));
    assert_eq!(order.buyer.email.as_deref(), Some("buyer@example.jp"));
    let buyer_address = order.buyer.address.as_ref().unwrap();
    assert_eq!(buyer_address.prefecture, "東京都");
    assert_eq!(buyer_address.street, "1-2-3 テストビル 4F");
    let destination = &order.destinations[0];
    assert_eq!(destination.recipient_name, "見本 一郎");
    assert_eq!(destination.address.postcode, "5300001");
    assert_eq!(destination.address.prefecture, "大阪府");
    // item:sub SKUs, and a line without a sub-code.
    let lines: Vec<_> = order.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].seller_sku.as_deref(), Some("tee-01:m-blk"));
    assert_eq!(lines[0].option_code.as_deref(), Some("m-blk"));
    assert_eq!(lines[0].options.len(), 2);
    assert_eq!(lines[0].options[0].name, "サイズ");
    assert_eq!(lines[0].tax_rate_percent, 10);
    assert_eq!(lines[1].seller_sku.as_deref(), Some("tea-03"));
    assert_eq!(lines[1].option_code, None);
    assert_eq!(lines[1].tax_rate_percent, 8);
    // Amounts.
    assert_eq!(order.amounts.goods, 6610);
    assert_eq!(order.amounts.shipping, 550);
    assert_eq!(order.amounts.total, 7160);
    assert_eq!(order.amounts.billed, 7160);
    // Paid by card on the day.
    assert_eq!(order.payment.method, PaymentMethod::CreditCard);
    assert_eq!(order.payment.mall_method_code, "payment_a1");
    assert_eq!(
        order.payment.paid_at.unwrap().to_string(),
        "2025-03-01T00:00:00+09:00"
    );
    assert_eq!(order.raw.content_type, "application/xml");
    assert!(order.raw.body.starts_with("<OrderInfo>"));
}

#[test]
fn coupons_and_points_by_who_pays_them() {
    let order = one("order_info_coupons_points");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    // Store: 200 on the line + 100 discount; Yahoo: 300.
    assert_eq!(order.amounts.coupons_shop_funded, 300);
    assert_eq!(order.amounts.coupons, 600);
    assert_eq!(order.amounts.points, 150);
    assert_eq!(order.amounts.billed, 6410);
    assert_eq!(order.amounts.expected_billed(), 6410);
}

#[test]
fn an_unpaid_konbini_order_awaits_payment_with_its_due_date() {
    let order = one("order_info_konbini_unpaid");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.payment.method, PaymentMethod::Konbini);
    assert_eq!(order.payment.paid_at, None);
    assert!(order.payment.awaits_payment());
    assert_eq!(order.payment.due_date.unwrap().to_string(), "2025-03-04");
}

#[test]
fn cod_fee_gift_wrap_and_the_desired_slot() {
    let order = one("order_info_cod_gift_delivery");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.payment.method, PaymentMethod::CashOnDelivery);
    assert_eq!(order.amounts.cod_fee, 330);
    assert_eq!(order.amounts.payment_fee, 0);
    assert_eq!(order.amounts.gift_wrapping, 330);
    assert!(order.gift.is_gift);
    assert_eq!(order.gift.wrappings[0].price, 330);
    assert_eq!(order.gift.wrappings[0].name, "包装紙 / ギフト用");
    assert!(order.lines().all(|l| l.gift_wrapped));
    assert_eq!(
        order.notes.as_deref(),
        Some("[ギフトメッセージ] お誕生日おめでとう")
    );
    assert_eq!(
        order.delivery.desired_date.unwrap().to_string(),
        "2025-03-05"
    );
    let slot = order.delivery.time_slot.as_ref().unwrap();
    assert_eq!(slot.raw, "105");
    assert_eq!(slot.mapped.as_deref(), Some("19-21"));
}

#[test]
fn odd_text_survives_untouched() {
    let order = one("order_info_odd_text");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(
        order.notes.as_deref(),
        Some("置き配希望 📦 ＯＫ & <玄関前>")
    );
    assert_eq!(order.buyer.name, "ｶｸｳ🌸 花子");
    assert_eq!(
        order.destinations[0].address.street,
        "9-8-7 ＡＢＣﾋﾞﾙ & <別館>"
    );
    assert_eq!(
        order.lines().next().unwrap().name,
        "コットンTシャツ 🎁 ﾊﾝｶｸ ＦＵＬＬ <限定>"
    );
}

#[test]
fn a_total_that_does_not_add_up_is_held_naming_the_amounts() {
    let order = one("order_info_bad_total");
    assert_eq!(kinds(&order), [HoldKind::TotalsMismatch]);
    let message = &order.holds[0].message;
    assert!(
        message.contains("TotalPrice 7162") && message.contains("7160"),
        "{message}"
    );
    assert_eq!(order.holds[0].field.as_deref(), Some("Detail.TotalPrice"));
}

#[test]
fn an_unknown_pay_method_is_held_naming_the_code() {
    let order = one("order_info_unknown_pay_method");
    assert_eq!(kinds(&order), [HoldKind::UnknownPaymentMethod]);
    assert!(order.holds[0].message.contains("payment_x9"));
    assert_eq!(order.payment.method, PaymentMethod::Other);
}

#[test]
fn an_impossible_date_and_an_unknown_slot_are_held_not_rolled_over() {
    let order = one("order_info_impossible_date");
    assert_eq!(
        kinds(&order),
        [HoldKind::MalformedField, HoldKind::UnmappedTimeSlot]
    );
    assert_eq!(
        order.holds[0].field.as_deref(),
        Some("Ship.ShipRequestDate")
    );
    assert!(order.holds[0].message.contains("2025-11-31"));
    assert_eq!(order.delivery.desired_date, None);
    assert!(order.holds[1].message.contains("199"));
}

#[test]
fn a_cancelled_order_is_cancelled() {
    let order = one("order_info_cancelled");
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.mall_status.label, "キャンセル");
}

#[test]
fn a_single_hit_order_list_parses_as_one_order() {
    let orders = normalise_response(
        MallId::Yahoo,
        &store(),
        &fixture("order_list_single_hit"),
        imported_at(),
    )
    .unwrap();
    assert_eq!(orders.len(), 1);
    let order = orders[0].as_ref().unwrap();
    assert_eq!(order.mall_order_id, "fixture-store-10000001");
    // A list row has no lines or amounts: that is held, not hidden.
    assert!(order.has_hold(HoldKind::MalformedField));
}

#[test]
fn error_answers_are_not_orders() {
    for (name, expected) in [
        ("error_expired_token", "invalid_token"),
        ("error_invalid_parameter", "st-02101"),
    ] {
        let error =
            normalise_response(MallId::Yahoo, &store(), &fixture(name), imported_at()).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("Yahoo error answer") && text.contains(expected),
            "{text}"
        );
    }
    let error =
        normalise_response(MallId::Yahoo, &store(), "{\"json\": true}", imported_at()).unwrap_err();
    assert!(error.to_string().contains("not XML"), "{error}");
}

#[test]
fn hold_messages_never_quote_personal_data() {
    let broken = fixture("order_info_card")
        .replace("<Quantity>2</Quantity>", "<Quantity>two 架空</Quantity>")
        .replace(
            "<OrderTime>2025-03-01T09:12:44+09:00</OrderTime>",
            "<OrderTime>soon</OrderTime>",
        );
    let order = normalise_response(MallId::Yahoo, &store(), &broken, imported_at())
        .unwrap()
        .remove(0)
        .unwrap();
    assert!(order.has_hold(HoldKind::MalformedField));
    for hold in &order.holds {
        for personal in ["花子", "見本", "buyer@example.jp", "0300000000"] {
            assert!(!hold.message.contains(personal), "{hold}");
        }
    }
}

/// The card fixture with `extra` more lines (a zero-price gift among them) and totals that
/// follow Yahoo's formula.
fn with_many_lines(extra: usize) -> String {
    let card = fixture("order_info_card");
    let mut items = String::new();
    for n in 0..extra {
        let price = if n == 0 { 0 } else { 100 + n };
        items.push_str(&format!(
            "<Item><LineId>{line}</LineId><ItemId>bulk-{n:02}</ItemId><Title>まとめ買い {n}</Title>\
             <SubCode></SubCode><Quantity>1</Quantity><UnitPrice>{price}</UnitPrice>\
             <ItemTaxRatio>10</ItemTaxRatio><CouponDiscount>0</CouponDiscount></Item>\n",
            line = n + 3,
        ));
    }
    let added: usize = (1..extra).map(|n| 100 + n).sum();
    let total = 7160 + added;
    card.replace("</OrderInfo>", &format!("{items}</OrderInfo>"))
        .replace(
            "<TotalPrice>7160</TotalPrice>",
            &format!("<TotalPrice>{total}</TotalPrice>"),
        )
        .replace(
            "<SettleAmount>7160</SettleAmount>",
            &format!("<SettleAmount>{total}</SettleAmount>"),
        )
}

#[test]
fn many_lines_and_a_zero_price_line_normalise_without_holds() {
    let body = with_many_lines(60);
    let mut orders = normalise_response(MallId::Yahoo, &store(), &body, imported_at()).unwrap();
    let order = orders.remove(0).unwrap();
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    let lines: Vec<_> = order.lines().collect();
    assert_eq!(lines.len(), 62);
    let free = lines.iter().find(|l| l.mall_item_id == "bulk-00").unwrap();
    assert_eq!(free.unit_price, 0);
    assert_eq!(
        free.seller_sku.as_deref(),
        Some("bulk-00"),
        "no sub-code: the item id"
    );
    let added: i64 = (1..60).map(|n| 100 + n).sum();
    assert_eq!(order.amounts.goods, 2 * 2980 + 650 + added);
}

#[test]
fn a_total_off_by_one_yen_among_many_lines_is_held() {
    let body = with_many_lines(60).replacen(
        "<UnitPrice>101</UnitPrice>",
        "<UnitPrice>102</UnitPrice>",
        1,
    );
    let mut orders = normalise_response(MallId::Yahoo, &store(), &body, imported_at()).unwrap();
    let order = orders.remove(0).unwrap();
    assert!(
        kinds(&order).contains(&HoldKind::TotalsMismatch),
        "{:?}",
        order.holds
    );
}
