//! The au PAY normaliser on fixtures of the list answer's shape (our own values; the public
//! samples are not copied here).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::order::PaymentMethod;
use ichigen_core::{HoldKind, JstInstant, MallId, Order, OrderStatus, StoreRef};
use ichigen_malls::aupay::normalise::acknowledgement_target;
use ichigen_malls::normalise_response;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/aupay/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn store() -> StoreRef {
    StoreRef::new(MallId::Aupay, "au-a")
}

fn at() -> JstInstant {
    "2026-01-02T10:00:00+09:00".parse().unwrap()
}

fn orders(body: &str) -> Vec<Order> {
    normalise_response(MallId::Aupay, &store(), body, at())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Replaces the first `<name>…</name>` in `xml`.
fn with(xml: &str, name: &str, value: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open).unwrap();
    let end = xml[start..].find(&close).unwrap() + start + close.len();
    format!("{}{open}{value}{close}{}", &xml[..start], &xml[end..])
}

#[test]
fn a_konbini_order_with_options_gift_coupons_and_points() {
    let orders = orders(&fixture("list_two_orders.xml"));
    assert_eq!(orders.len(), 2);
    let order = &orders[0];
    assert_eq!(order.mall_order_id, "401234501");
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    // New Year 00:05 JST is 15:05 UTC on New Year's Eve.
    assert_eq!(
        order.ordered_at.timestamp().to_string(),
        "2025-12-31T15:05:00Z"
    );
    assert_eq!(order.buyer.name, "佐藤 太郎");
    let buyer_address = order.buyer.address.as_ref().unwrap();
    assert_eq!(buyer_address.prefecture, "大阪府");
    assert_eq!(buyer_address.street, "大阪市北区梅田2-4-9");
    let destination = &order.destinations[0];
    assert_eq!(destination.recipient_name, "佐藤 花子");
    assert_eq!(destination.address.prefecture, "神奈川県");
    assert_eq!(destination.address.postcode, "220-0012");

    let line = &destination.lines[0];
    assert_eq!(
        line.seller_sku.as_deref(),
        Some("tee01-MT-2T"),
        "管理ID untouched"
    );
    assert_eq!(line.option_code.as_deref(), Some("-MT-2T"));
    assert_eq!(line.mall_item_id, "tee01");
    assert_eq!(line.quantity, 2);
    assert_eq!(line.unit_price, 3300);
    assert_eq!(line.option_surcharge, 330);
    assert_eq!(line.tax_rate_percent, 10);
    assert!(line.gift_wrapped);
    let options: Vec<(&str, &str)> = line
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        options,
        [
            ("カラー", "黒"),
            ("サイズ", "L"),
            ("名入れ", "有料(+330円)")
        ]
    );

    let amounts = &order.amounts;
    assert_eq!(amounts.goods, 6600 + 660);
    assert_eq!(amounts.gift_wrapping, 330);
    assert_eq!(amounts.total, 7590);
    assert_eq!(amounts.coupons, 300);
    assert_eq!(amounts.coupons_shop_funded, 300);
    assert_eq!(amounts.points, 150, "Ponta 100 + au 50");
    assert_eq!(amounts.billed, 7140);

    assert_eq!(order.payment.method, PaymentMethod::Konbini);
    assert!(
        order.payment.awaits_payment(),
        "paymentStatus is never read"
    );
    assert_eq!(order.delivery.mall_method_name, "ゆうパック");
    assert_eq!(order.delivery.carrier.as_deref(), Some("japan_post"));
    assert_eq!(
        order.delivery.desired_date.unwrap().to_string(),
        "2026-01-06"
    );
    let slot = order.delivery.time_slot.as_ref().unwrap();
    assert_eq!(slot.mapped.as_deref(), Some("19-21"));
    assert!(order.gift.is_gift);
    assert_eq!(order.gift.wrappings[0].price, 330);
    assert_eq!(order.gift.noshi.as_deref(), Some("御年賀（佐藤）"));
    assert!(
        order
            .notes
            .as_deref()
            .unwrap()
            .contains("あけましておめでとう")
    );
    assert_eq!(order.mall_status.code, "新規受付");
    assert_eq!(acknowledgement_target(order), Some("発送前入金待ち"));
    assert!(order.raw.body.contains("<orderId>401234501</orderId>"));

    let card = &orders[1];
    assert!(card.holds.is_empty(), "{:?}", card.holds);
    assert_eq!(card.payment.method, PaymentMethod::CreditCard);
    assert_eq!(card.payment.paid_at, Some(card.ordered_at));
    assert_eq!(
        card.destinations[0].lines[0].seller_sku.as_deref(),
        Some("tea05")
    );
    assert_eq!(card.destinations[0].lines[0].tax_rate_percent, 8);
    assert_eq!(card.delivery.carrier.as_deref(), Some("yamato"));
    assert_eq!(acknowledgement_target(card), Some("発送待ち"));
}

#[test]
fn a_paid_konbini_order_goes_to_ready_to_ship() {
    let xml = with(&fixture("list_two_orders.xml"), "paymentDate", "2026/01/01");
    let order = &orders(&xml)[0];
    assert!(!order.payment.awaits_payment());
    assert_eq!(
        order.payment.paid_at.unwrap().timestamp().to_string(),
        "2025-12-31T15:00:00Z"
    );
    assert_eq!(acknowledgement_target(order), Some("発送待ち"));
}

#[test]
fn a_trimmed_order_like_the_public_fixture_has_no_false_hold() {
    let orders = orders(&fixture("trimmed_like_public_fixture.xml"));
    let order = &orders[0];
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    assert_eq!(order.mall_status.code, "発送待ち");
    assert_eq!(order.payment.method, PaymentMethod::Wallet);
    assert!(
        order.payment.paid_at.is_some(),
        "paymentStatus N is not 'unpaid'"
    );
    assert_eq!(order.amounts.total, 2980);
    assert_eq!(order.amounts.billed, 2980);
    assert_eq!(acknowledgement_target(order), None, "not new");
}

#[test]
fn the_wrong_shop_error_fragment_is_an_error_naming_the_code() {
    let error = normalise_response(
        MallId::Aupay,
        &store(),
        &fixture("error_wrong_shop_fragment.xml"),
        at(),
    )
    .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("CME0022"), "{text}");
    assert!(text.contains("shopId"), "{text}");
}

#[test]
fn request_price_off_is_a_hold_naming_every_amount() {
    let xml = with(&fixture("list_two_orders.xml"), "requestPrice", "7142");
    let order = &orders(&xml)[0];
    let hold = order
        .holds
        .iter()
        .find(|h| h.kind == HoldKind::TotalsMismatch)
        .unwrap();
    assert_eq!(hold.field.as_deref(), Some("requestPrice"));
    for amount in ["7142", "7590", "300", "100", "50", "7140"] {
        assert!(hold.message.contains(amount), "{}", hold.message);
    }
}

#[test]
fn impossible_dates_are_held_naming_the_field() {
    let base = fixture("list_two_orders.xml");
    let order = &orders(&with(&base, "orderDate", "2025/11/31 10:00"))[0];
    let hold = order
        .holds
        .iter()
        .find(|h| h.field.as_deref() == Some("orderDate"))
        .unwrap();
    assert_eq!(hold.kind, HoldKind::MalformedField);
    assert!(hold.message.contains("2025/11/31"), "{}", hold.message);
    let order = &orders(&with(&base, "deliveryRequestDay", "2026/02/30"))[0];
    assert!(
        order
            .holds
            .iter()
            .any(|h| h.field.as_deref() == Some("deliveryRequestDay")
                && h.kind == HoldKind::MalformedField)
    );
    assert_eq!(order.delivery.desired_date, None);
}

#[test]
fn unknown_codes_and_mall_statuses_become_holds_naming_them() {
    let base = fixture("list_two_orders.xml");
    let order = &orders(&with(&base, "settlementName", "ほげほげペイ"))[0];
    let hold = order
        .holds
        .iter()
        .find(|h| h.kind == HoldKind::UnknownPaymentMethod)
        .unwrap();
    assert!(hold.message.contains("ほげほげペイ"));
    assert_eq!(acknowledgement_target(order), None, "a person decides");

    for (status, kind) in [
        ("不正取引審査中", HoldKind::MallStatus),
        ("審査保留", HoldKind::MallStatus),
        ("審査NG", HoldKind::MallStatus),
        ("与信待ち", HoldKind::MallStatus),
        ("発送待ち（ギフト）", HoldKind::MallStatus),
        ("キャンセル受付中", HoldKind::CancelRequested),
    ] {
        let order = &orders(&with(&base, "orderStatus", status))[0];
        let hold = order.holds.iter().find(|h| h.kind == kind).unwrap();
        assert!(hold.message.contains(status), "{}", hold.message);
        assert_eq!(acknowledgement_target(order), None);
    }
    let cancelled = &orders(&with(&base, "orderStatus", "キャンセル"))[0];
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(cancelled.holds.is_empty(), "{:?}", cancelled.holds);
}

#[test]
fn odd_text_survives_and_personal_data_stays_out_of_holds() {
    let base = fixture("list_two_orders.xml");
    let xml = with(
        &with(&base, "ordererName", "ﾔﾏﾀﾞ 😀 Ｔａｒｏ &amp; &lt;Co&gt;"),
        "unit",
        "two",
    );
    let order = &orders(&xml)[0];
    assert_eq!(order.buyer.name, "ﾔﾏﾀﾞ 😀 Ｔａｒｏ & <Co>");
    let hold = order
        .holds
        .iter()
        .find(|h| h.field.as_deref() == Some("detail[0].unit"))
        .unwrap();
    assert!(!hold.message.contains("ﾔﾏﾀﾞ"));
}

#[test]
fn an_order_without_an_id_is_an_error() {
    let xml = with(&fixture("list_two_orders.xml"), "orderId", "");
    let results = normalise_response(MallId::Aupay, &store(), &xml, at()).unwrap();
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(error.field, "orderId");
    assert!(results[1].is_ok());
}

#[test]
fn many_lines_and_a_zero_price_line_add_up() {
    let base = fixture("list_two_orders.xml");
    let start = base.find("<orderInfo>").unwrap();
    let end = base.find("</orderInfo>").unwrap() + "</orderInfo>".len();
    let mut lines = String::new();
    for n in 0..60 {
        let price = if n == 0 { 0 } else { 100 };
        lines.push_str(&format!(
            "<detail><orderDetailId>{n}</orderDetailId><itemCode>item{n:02}</itemCode><itemManagementId>-T{n}</itemManagementId><itemName>おまけ {n}</itemName><itemPrice>{price}</itemPrice><unit>1</unit></detail>"
        ));
    }
    let order = format!(
        "<orderInfo><orderId>401234599</orderId><orderDate>2026/01/01 09:00</orderDate><settlementName>クレジットカード決済</settlementName><orderStatus>新規受付</orderStatus><totalSalePrice>5900</totalSalePrice><postagePrice>0</postagePrice><totalPrice>5900</totalPrice><couponTotalPrice>0</couponTotalPrice><usePoint>0</usePoint><useAuPointPrice>0</useAuPointPrice><requestPrice>5900</requestPrice>{lines}</orderInfo>"
    );
    let xml = format!("{}{order}{}", &base[..start], &base[end..]);
    let orders = orders(&xml);
    let order = orders
        .iter()
        .find(|o| o.mall_order_id == "401234599")
        .unwrap();
    assert!(order.holds.is_empty(), "{:?}", order.holds);
    let lines = &order.destinations[0].lines;
    assert_eq!(lines.len(), 60);
    assert_eq!(lines[0].unit_price, 0);
    assert_eq!(lines[7].seller_sku.as_deref(), Some("item07-T7"));
    assert_eq!(
        lines.iter().map(|l| l.line_total()).sum::<i64>(),
        order.amounts.goods
    );
}

#[test]
fn a_line_au_pay_cancelled_is_held_naming_the_line() {
    let xml = with(&fixture("list_two_orders.xml"), "itemCancelStatus", "Y");
    let order = &orders(&xml)[0];
    let hold = order
        .holds
        .iter()
        .find(|h| h.field.as_deref() == Some("detail[0].itemCancelStatus"))
        .unwrap();
    assert_eq!(hold.kind, HoldKind::MallStatus);
    assert!(hold.message.contains("\"Y\""), "{}", hold.message);
}
