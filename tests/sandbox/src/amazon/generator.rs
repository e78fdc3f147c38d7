//! Seeded order generator: JP marketplace orders shaped as `ordersV0.json` defines them, with
//! the odd ones a shop meets (COD, konbini, Pending, gifts, FBA, cancellations, promotions and
//! points, scheduled delivery, many lines).
//!
//! Prices are tax-inclusive whole yen written the way Amazon writes money (`"1980.00"`);
//! `ItemPrice` is the line total (unit × quantity), `ItemTax` the tax inside it (§4). The
//! `OrderTotal` formula is [INF]: Σ (ItemPrice + ShippingPrice + CODFee − PromotionDiscount −
//! ShippingDiscount − CODFeeDiscount); the client checks the same formula.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::state::StoredOrder;
use super::types::AmazonOrderKind;
use super::{MARKETPLACE_JP, format_utc};

const PRODUCTS: [(&str, &str, &str, i64); 6] = [
    ("B0EXAMPLE1", "TEE-BK-M", "サンプルTシャツ ブラック M", 1980),
    ("B0EXAMPLE2", "TEE-WH-L", "サンプルTシャツ ホワイト L", 1980),
    ("B0EXAMPLE3", "MUG-01", "マグカップ 350ml 🍵", 1200),
    ("B0EXAMPLE4", "SOCKS-3P", "ソックス３足組（ﾌﾘｰｻｲｽﾞ）", 880),
    ("B0EXAMPLE5", "TOWEL-FACE", "今治フェイスタオル", 1650),
    ("B0EXAMPLE6", "GIFT-BOX", "ギフトボックス", 550),
];

const PLACES: [(&str, &str, &str); 4] = [
    ("東京都", "渋谷区", "150-0001"),
    ("大阪府", "大阪市北区", "530-0001"),
    ("北海道", "札幌市中央区", "060-0001"),
    ("福岡県", "福岡市博多区", "812-0011"),
];

fn money(yen: i64) -> Value {
    json!({"CurrencyCode": "JPY", "Amount": format!("{yen}.00")})
}

/// Tax inside a 10 %-inclusive price, rounded down.
fn inner_tax(yen: i64) -> i64 {
    yen * 10 / 110
}

/// A 3-7-7 order id, unique per `serial`.
fn order_id(rng: &mut ChaCha8Rng, serial: u64) -> String {
    format!(
        "503-{:07}-{:07}",
        rng.random_range(0..10_000_000_u64),
        serial % 10_000_000
    )
}

/// Makes one order of `kind` purchased at `purchased` (epoch seconds).
pub(crate) fn generate(
    rng: &mut ChaCha8Rng,
    serial: u64,
    kind: AmazonOrderKind,
    purchased: i64,
) -> (String, StoredOrder) {
    use AmazonOrderKind as K;
    let id = order_id(rng, serial);
    let lines = match kind {
        K::ManyLines => 12,
        _ => rng.random_range(1..=2_usize),
    };
    let cod_fee = if kind == K::Cod { 330 } else { 0 };
    let window = delivery_window(purchased, serial);
    let mut items = Vec::new();
    let mut total: i64 = 0;
    for n in 0..lines {
        let (asin, sku, title, unit) = PRODUCTS[(serial as usize + n) % PRODUCTS.len()];
        let quantity: i64 = if kind == K::ManyLines {
            1
        } else {
            rng.random_range(1..=3)
        };
        let price = unit * quantity;
        let shipping = if n == 0 && price < 3000 { 500 } else { 0 };
        let promotion = if kind == K::PromotionAndPoints && n == 0 {
            200
        } else {
            0
        };
        // Gift wrapping the buyer paid for: on the item's BuyerInfo, which getOrderItems
        // only returns under a restricted-data token for `buyerInfo`.
        let gift_wrap = if kind == K::Gift && n == 0 { 330 } else { 0 };
        let mut item = json!({
            "ASIN": asin,
            "SellerSKU": sku,
            "OrderItemId": format!("{:014}", serial * 100 + n as u64),
            "Title": title,
            "QuantityOrdered": quantity,
            "QuantityShipped": if kind == K::Fba { quantity } else { 0 },
            "ProductInfo": {"NumberOfItems": "1"},
            "ItemPrice": money(price),
            "ItemTax": money(inner_tax(price)),
            "ShippingPrice": money(shipping),
            "ShippingTax": money(inner_tax(shipping)),
            "ShippingDiscount": money(0),
            "PromotionDiscount": money(promotion),
            "PromotionDiscountTax": money(inner_tax(promotion)),
            "IsGift": if kind == K::Gift { "true" } else { "false" },
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": false,
            "SerialNumberRequired": false,
            "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "false", "BuyerCancelReason": ""},
        });
        if let Some(fields) = item.as_object_mut() {
            if promotion > 0 {
                fields.insert("PromotionIds".into(), json!(["JP-SPRING-200"]));
            }
            if kind == K::PromotionAndPoints {
                let points = price / 100;
                fields.insert(
                    "PointsGranted".into(),
                    json!({"PointsNumber": points, "PointsMonetaryValue": money(points)}),
                );
            }
            if gift_wrap > 0 {
                fields.insert(
                    "BuyerInfo".into(),
                    json!({
                        "GiftWrapPrice": money(gift_wrap),
                        "GiftWrapTax": money(inner_tax(gift_wrap)),
                        "GiftMessageText": "お誕生日おめでとう",
                        "GiftWrapLevel": "Classic",
                    }),
                );
            }
            if n == 0 && cod_fee > 0 {
                fields.insert("CODFee".into(), money(cod_fee));
                fields.insert("CODFeeDiscount".into(), money(0));
            }
            if kind == K::Scheduled {
                fields.insert(
                    "ScheduledDeliveryStartDate".into(),
                    json!(format_utc(window.0)),
                );
                fields.insert(
                    "ScheduledDeliveryEndDate".into(),
                    json!(format_utc(window.1)),
                );
            }
        }
        total += price + shipping + gift_wrap - promotion + if n == 0 { cod_fee } else { 0 };
        items.push(item);
    }

    let (state, city, postcode) = PLACES[rng.random_range(0..PLACES.len())];
    let (status, payment_method, details): (&str, &str, Value) = match kind {
        K::Cod => ("Unshipped", "COD", json!(["COD"])),
        K::Konbini => ("Unshipped", "CVS", json!(["CVS"])),
        K::Pending => ("Pending", "CVS", json!(["CVS"])),
        K::Fba => ("Shipped", "Other", json!(["Standard"])),
        K::Canceled => ("Canceled", "Other", json!(["Standard"])),
        _ => ("Unshipped", "Other", json!(["Standard"])),
    };
    let shipped = i64::from(kind == K::Fba) * items.len() as i64;
    let last_update = purchased + rng.random_range(0..60);
    let mut order = json!({
        "AmazonOrderId": id,
        "PurchaseDate": format_utc(purchased),
        "LastUpdateDate": format_utc(last_update),
        "OrderStatus": status,
        "FulfillmentChannel": if kind == K::Fba { "AFN" } else { "MFN" },
        "SalesChannel": "Amazon.co.jp",
        "ShipServiceLevel": "Std JP Dom",
        "OrderTotal": money(total),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": items.len() as i64 - shipped,
        "PaymentMethod": payment_method,
        "PaymentMethodDetails": details,
        "MarketplaceId": MARKETPLACE_JP,
        "ShipmentServiceLevelCategory": if kind == K::Scheduled { "Scheduled" } else { "Standard" },
        "OrderType": "StandardOrder",
        "EarliestShipDate": format_utc(purchased + 86_400),
        "LatestShipDate": format_utc(purchased + 2 * 86_400),
        "IsBusinessOrder": false,
        "IsPrime": kind == K::Fba,
        "IsPremiumOrder": false,
        "IsGlobalExpressEnabled": false,
        "IsReplacementOrder": false,
        "IsSoldByAB": false,
        "IsISPU": false,
        "IsAccessPointOrder": false,
        "ShippingAddress": {
            "Name": format!("山田 太郎{}", serial % 100),
            "AddressLine1": "神南1-2-3",
            "AddressLine2": "サンプルビル４Ｆ",
            "City": city,
            "StateOrRegion": state,
            "PostalCode": postcode,
            "CountryCode": "JP",
            "Phone": "03-1234-5678",
            "AddressType": "Residential",
        },
        "BuyerInfo": {
            "BuyerEmail": format!("buyer{serial}@marketplace.amazon.co.jp"),
            "BuyerName": format!("山田 太郎{}", serial % 100),
        },
    });
    if let Some(fields) = order.as_object_mut() {
        if kind == K::Cod {
            fields.insert(
                "PaymentExecutionDetail".into(),
                json!([{"Payment": money(total), "PaymentMethod": "COD"}]),
            );
        }
        if kind == K::Scheduled {
            fields.insert("EarliestDeliveryDate".into(), json!(format_utc(window.0)));
            fields.insert("LatestDeliveryDate".into(), json!(format_utc(window.1)));
        }
    }
    (id, StoredOrder { order, items })
}

/// A scheduled-delivery window three days after the purchase, on one of the JST slots
/// Japanese carriers offer (Amazon shows them on the hour), as UTC epoch seconds.
fn delivery_window(purchased: i64, serial: u64) -> (i64, i64) {
    const JST: i64 = 9 * 3600;
    const SLOTS: [(i64, i64); 5] = [(8, 12), (14, 16), (16, 18), (18, 20), (19, 21)];
    let day = (purchased + 3 * 86_400 + JST).div_euclid(86_400) * 86_400 - JST;
    let (from, to) = SLOTS[serial as usize % SLOTS.len()];
    (day + from * 3600, day + to * 3600)
}

/// A seeded stream of orders.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
