//! Orders for tests: this crate's, and other crates' through the `testing` feature (their
//! dev-dependency on this crate turns it on). One builder, so a change to [`Order`] is made
//! once for every test that needs a stored order.

use crate::hold::{Hold, HoldKind};
use crate::order::Order;
use crate::status::OrderStatus;

/// A paid order of `store` (`rakuten:store-a`), ready to ship, ordered at `ordered_at`
/// (RFC 3339): one line (`S-1` → `SKU-1`, 2 × 1,000 yen), a buyer with contact data and a
/// raw payload naming the buyer (so tests can check neither leaks where it must not).
///
/// # Panics
/// When `store` or `ordered_at` does not read (a test's own mistake).
pub fn ready_order(store: &str, number: &str, ordered_at: &str) -> Order {
    let order = serde_json::json!({
        "id": format!("{store}:{number}"), "store": store,
        "mall_order_id": number, "ordered_at": ordered_at,
        "buyer": {"name": "山田 太郎", "kana": null, "email": "taro@example.jp", "phone": "0312345678", "address": null},
        "destinations": [{"mall_destination_id": null, "recipient_name": "山田 太郎",
            "recipient_kana": null, "phone": "0312345678",
            "address": {"postcode": "1000001", "prefecture": "東京都", "city": "千代田区", "street": "1-1"},
            "mall_carrier_code": null,
            "lines": [{"mall_line_id": "1", "mall_item_id": "item", "seller_sku": "S-1",
                "option_code": null, "sku": "SKU-1", "name": "お茶", "options": [],
                "quantity": 2, "unit_price": 1000, "option_surcharge": 0,
                "tax_rate_percent": 8, "gift_wrapped": false}]}],
        "amounts": {"goods":2000,"shipping":0,"cod_fee":0,"payment_fee":0,"gift_wrapping":0,
            "coupons":0,"coupons_shop_funded":0,"points":0,"total":2000,"billed":2000,"tax":null},
        "payment": {"method":"credit_card","mall_method_code":"1","mall_method_name":"card",
            "paid_at":null,"due_date":null},
        "delivery": {"mall_method_name":"宅配便","carrier":"yamato","desired_date":null,"time_slot":null},
        "gift": {"is_gift":false,"wrappings":[],"noshi":null}, "notes": null,
        "mall_status": {"code":"300","label":"発送待ち"}, "status": "ready_to_ship", "holds": [],
        "mall_sync": {"operation":null,"state":"idle","attempts":0,"updated_at":null},
        "history": [], "version": 1, "imported_at": ordered_at, "updated_at": ordered_at,
        "raw": {"content_type":"application/json","body":"{\"buyer\":\"山田 太郎\"}"}
    });
    match serde_json::from_value(order) {
        Ok(order) => order,
        Err(error) => panic!("a test order that does not read: {error}"),
    }
}

/// Orders of `store` by number, as an import stored them ([`ready_order`] each): what a mall
/// needs to acknowledge orders it knows by number alone.
pub fn numbered_orders(store: &str, numbers: &[String]) -> Vec<Order> {
    numbers
        .iter()
        .map(|n| ready_order(store, n, "2026-12-01T10:00:00+09:00"))
        .collect()
}

/// `order` on hold for each of `kinds` (the first line's SKU named as the field).
pub fn held(mut order: Order, kinds: &[HoldKind]) -> Order {
    order.status = OrderStatus::OnHold;
    order.holds = kinds
        .iter()
        .map(|kind| {
            Hold::new(
                *kind,
                Some("items[0].sku".to_owned()),
                "S-1 has no internal SKU",
            )
        })
        .collect();
    order
}
