//! The Qoo10 normaliser never panics: mutated cart payloads (fields dropped, values replaced by
//! odd ones of any JSON type, rows duplicated, bytes cut) either normalise (with holds) or are
//! refused with an error naming the field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::order::RawPayload;
use ichigen_core::{JstInstant, MallId, StoreRef};
use ichigen_malls::qoo10::normalise::{NormaliseSettings, normalise_cart};
use proptest::prelude::*;
use serde_json::{Value, json};

fn row(order_no: i64, carrier: &str) -> Value {
    json!({"shippingStatus": "On request(2)", "sellerID": "s", "orderNo": order_no,
        "packNo": 540012345, "orderDate": "2025-06-03 14:22:10", "PaymentDate": "2025-06-03 14:25:41",
        "buyer": "山田 花子", "buyer_gata": "ヤマダ ハナコ", "buyerTel": "+81-3-0000-0000",
        "buyerMobile": "+81--", "buyerEmail": "b@example.invalid", "itemCode": "1123456789",
        "sellerItemCode": "TEE-01", "itemTitle": "", "option": "カラー:黒/サイズ:M/包装:あり(+300円)",
        "optionCode": "BK-M", "orderPrice": "3280.0000", "orderQty": 2, "discount": 100,
        "total": 6460, "receiver": "山田 花子", "receiver_gata": "ヤマダ ハナコ", "zipCode": "150-0001",
        "shippingAddr": "東京都渋谷区神宮前1-2-3", "Addr1": "東京都渋谷区神宮前", "Addr2": "1-2-3",
        "receiverTel": "+81-3-0000-0000", "hopeDate": "2025-06-10 14:00~16:00", "ShippingMsg": "",
        "PaymentMethod": "クレジットカード", "SellerDiscount": 0, "Cart_Discount_Seller": 50,
        "Cart_Discount_Qoo10": 20, "ShippingRate": 550, "RelatedOrder": "1088812345,1088812346,1088812347",
        "DeliveryCompany": carrier, "Gift": "N", "claimStatus": ""})
}

fn base() -> Value {
    json!({"packNo": 540012345,
        "rows": [row(1088812345, "ヤマト運輸"), row(1088812346, "佐川急便"), row(1088812347, "")],
        "claims": [{"claimStatus": "1", "orderNo": 1088812346, "packNo": 540012345, "reason": "x"}],
        "itemCarriers": {"1123456789": "ゆうパック"}})
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!("1480.5000")),
        Just(json!("99999999999999999999")),
        Just(json!(9_223_372_036_854_775_807_i64)),
        Just(json!("2025-02-30 25:61:61")),
        Just(json!("On request(9)")),
        Just(json!("キャンセル完了")),
        Just(json!("3")),
        Just(json!([1, 2])),
        Just(json!({"a": 1})),
        Just(json!("😀ﾊﾝｶｸ１２３/:(+円)")),
        "[0-9]{0,12}".prop_map(Value::String),
        "\\PC{0,16}".prop_map(Value::String),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    DropField(usize, usize),
    SetField(usize, usize, Value),
    DuplicateRow(usize),
    SetTop(usize, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..4usize, 0..50usize).prop_map(|(r, f)| Mutation::DropField(r, f)),
        (0..4usize, 0..50usize, odd_value()).prop_map(|(r, f, v)| Mutation::SetField(r, f, v)),
        (0..4usize).prop_map(Mutation::DuplicateRow),
        (0..4usize, odd_value()).prop_map(|(k, v)| Mutation::SetTop(k, v)),
    ]
}

fn apply(payload: &mut Value, mutation: &Mutation) {
    let rows = payload["rows"].as_array_mut().unwrap();
    let n = rows.len();
    match mutation {
        Mutation::DropField(r, f) => {
            if let Some(obj) = rows[r % n].as_object_mut() {
                let key = obj.keys().nth(f % obj.len().max(1)).cloned();
                if let Some(key) = key {
                    obj.remove(&key);
                }
            }
        }
        Mutation::SetField(r, f, v) => {
            if let Some(obj) = rows[r % n].as_object_mut() {
                let key = obj.keys().nth(f % obj.len().max(1)).cloned();
                if let Some(key) = key {
                    obj.insert(key, v.clone());
                }
            }
        }
        Mutation::DuplicateRow(r) => {
            let copy = rows[r % n].clone();
            rows.push(copy);
        }
        Mutation::SetTop(k, v) => {
            let key = ["packNo", "claims", "itemCarriers", "rows"][k % 4];
            payload[key] = v.clone();
        }
    }
}

fn imported_at() -> JstInstant {
    "2025-06-04T00:00:00+09:00".parse().unwrap()
}

#[test]
fn the_base_cart_normalises_into_three_parts() {
    let store = StoreRef::new(MallId::Qoo10, "q1");
    let orders = normalise_cart(
        &store,
        &RawPayload::json(&base()),
        &NormaliseSettings::default(),
        imported_at(),
    )
    .unwrap();
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[0].mall_order_id, "540012345-1");
    assert!(
        orders[1]
            .holds
            .iter()
            .any(|h| h.kind == ichigen_core::HoldKind::CancelRequested)
    );
    // 3280 × 2 − 100 = 6460 per line; shipping 550 on each part's row; cart discounts on part 1.
    assert_eq!(orders[0].amounts.goods, 6560);
    assert_eq!(orders[0].amounts.coupons_shop_funded, 100 + 3 * 50);
    assert_eq!(orders[0].amounts.coupons, 100 + 3 * 50 + 3 * 20);
    assert_eq!(orders[0].lines().next().unwrap().name, "TEE-01 黒 / M");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn mutated_carts_never_panic(mutations in prop::collection::vec(mutation(), 1..6), cut in any::<Option<u16>>()) {
        let store = StoreRef::new(MallId::Qoo10, "q1");
        let mut payload = base();
        for m in &mutations {
            if payload["rows"].is_array() {
                apply(&mut payload, m);
            }
        }
        let mut body = payload.to_string();
        if let Some(cut) = cut.filter(|c| c % 4 == 0) {
            let at = usize::from(cut) % body.len().max(1);
            let at = (0..=at).rev().find(|i| body.is_char_boundary(*i)).unwrap_or(0);
            body.truncate(at);
        }
        let raw = RawPayload { content_type: "application/json".into(), body };
        for settings in [NormaliseSettings::default(), NormaliseSettings { fill_buyer_address_from_ship_to: true, additional_options_as_lines: true }] {
            match normalise_cart(&store, &raw, &settings, imported_at()) {
                Ok(orders) => {
                    prop_assert!(!orders.is_empty());
                    for order in orders {
                        // The import keys orders by mall order id: it must give the order's id.
                        let id = ichigen_core::OrderId::new(&store, &order.mall_order_id);
                        prop_assert_eq!(&order.id, &id);
                    }
                }
                Err(e) => prop_assert!(!e.field.is_empty(), "{e}"),
            }
        }
        let _ = ichigen_malls::normalise_response(MallId::Qoo10, &store, &raw.body, imported_at());
    }
}
