//! Deterministic generator of Qoo10 carts as `GetShippingInfo_v2` rows (one row per line).
//!
//! Each cart draws from its own ChaCha8 stream (seed, stream = cart serial), so a cart depends
//! only on the seed, its serial and its time.
//!
//! Amounts follow the one formula the notes verify (qoo10.md §4, [Q6][Q3]) and the project's
//! normaliser checks: per line `total = orderPrice × orderQty − discount`. Cart-level amounts
//! are spread (I, see the README): `ShippingRate` sits on the first row of each carrier group,
//! `Cart_Discount_Seller` / `Cart_Discount_Qoo10` on the first row of the cart, 0 elsewhere.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::format_datetime;
use super::types::Qoo10Item;

/// Carts generated when `count` is not given.
pub const DEFAULT_COUNT: usize = 10;
/// Upper bound for one generate call.
pub const MAX_COUNT: usize = 20_000;

/// Shape of a generated cart; each exercises one normaliser path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qoo10OrderKind {
    /// Paid (新規注文), credit card, 1..3 lines with one carrier.
    Plain,
    /// Paid, three lines with three different carriers (one order per carrier).
    ThreeCarriers,
    /// Paid, two lines with two carriers.
    TwoCarriers,
    /// 入金待ち: konbini, no `PaymentDate`, no `DeliveryCompany` (taken from the item).
    Unpaid,
    /// 入金待ち with an item Qoo10 no longer knows (the item lookup answers −10001).
    UnpaidUnknownItem,
    /// A MOVE (fashion) item: empty `itemTitle`, colour and size in `option`.
    Move,
    /// An additional option (追加型オプション) priced into the line: `名前:値(+300円)`.
    AdditionalOption,
    /// Line discount, seller and Qoo10 cart discounts together.
    CartDiscounts,
    /// `hopeDate` with a date and a time range.
    DesiredDate,
    /// Emoji, half-width katakana and full-width letters in names and titles.
    OddText,
    /// A seller item code Qoo10 accepts but a warehouse cannot (full-width).
    BadProductCode,
}

impl Qoo10OrderKind {
    /// The mix drawn when no kinds are asked for: mostly plain.
    const MIX: [Qoo10OrderKind; 14] = [
        Self::Plain,
        Self::Plain,
        Self::Plain,
        Self::Plain,
        Self::ThreeCarriers,
        Self::TwoCarriers,
        Self::Unpaid,
        Self::Move,
        Self::AdditionalOption,
        Self::CartDiscounts,
        Self::DesiredDate,
        Self::OddText,
        Self::Plain,
        Self::Plain,
    ];
}

/// `POST /_control/qoo10/stores/{sellerId}/orders/generate`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Qoo10GenerateOptions {
    /// Carts to make (default 10).
    pub count: Option<usize>,
    /// Kinds, cycled; empty = a seeded mix.
    pub kinds: Vec<Qoo10OrderKind>,
    /// Seed; `None` = the sandbox seed.
    pub seed: Option<u64>,
    /// The carts' order times spread evenly over the last this many seconds (default 3600).
    pub spread_secs: Option<i64>,
}

/// The carriers generated carts use (names from qoo10.md §9.1).
pub const CARRIERS: [&str; 3] = ["ヤマト運輸", "佐川急便", "ゆうパック"];

struct CatalogItem {
    item_code: &'static str,
    seller_code: &'static str,
    title: &'static str,
    option_code: &'static str,
    option: &'static str,
    price: i64,
    carrier: usize,
}

const CATALOG: [CatalogItem; 6] = [
    CatalogItem {
        item_code: "1123456789",
        seller_code: "TEE-01",
        title: "サンプルTシャツ",
        option_code: "TEE-BK-M",
        option: "カラー:ブラック/サイズ:M",
        price: 2980,
        carrier: 0,
    },
    CatalogItem {
        item_code: "1123456790",
        seller_code: "MUG_02",
        title: "マグカップ 350ml",
        option_code: "",
        option: "",
        price: 1480,
        carrier: 0,
    },
    CatalogItem {
        item_code: "1123456791",
        seller_code: "RICE-5KG",
        title: "新米 5kg",
        option_code: "",
        option: "",
        price: 3200,
        carrier: 1,
    },
    CatalogItem {
        item_code: "1123456792",
        seller_code: "FRZ-GYOZA",
        title: "冷凍餃子 50個",
        option_code: "FRZ-50",
        option: "個数:50個",
        price: 2400,
        carrier: 2,
    },
    CatalogItem {
        item_code: "1123456793",
        seller_code: "SOCKS",
        title: "くつした 3足組",
        option_code: "SK-GR",
        option: "カラー:グレー",
        price: 990,
        carrier: 1,
    },
    CatalogItem {
        item_code: "1123456794",
        seller_code: "BOOK-A5",
        title: "ノート A5",
        option_code: "",
        option: "",
        price: 550,
        carrier: 2,
    },
];

/// The items generated carts refer to, with their configured carriers (registered on the
/// seller by every generate call).
pub fn catalog_items() -> Vec<Qoo10Item> {
    CATALOG
        .iter()
        .map(|c| Qoo10Item {
            item_code: c.item_code.into(),
            seller_code: c.seller_code.into(),
            title: c.title.into(),
            delivery_company: CARRIERS[c.carrier].into(),
        })
        .collect()
}

/// One generated cart: its rows (without `RelatedOrder` and `shippingStatus`, which the
/// state fills) and its kind.
pub struct GeneratedCart {
    pub kind: Qoo10OrderKind,
    pub rows: Vec<Map<String, Value>>,
}

/// Picks the kind of cart `serial`.
pub fn kind_for(
    options: &Qoo10GenerateOptions,
    rng: &mut ChaCha8Rng,
    index: usize,
) -> Qoo10OrderKind {
    if options.kinds.is_empty() {
        Qoo10OrderKind::MIX[rng.random_range(0..Qoo10OrderKind::MIX.len())]
    } else {
        options.kinds[index % options.kinds.len()]
    }
}

/// Builds cart `pack_no` with lines numbered from `first_order_no`, ordered at `at`.
pub fn cart(
    seed: u64,
    kind: Qoo10OrderKind,
    seller_id: &str,
    pack_no: i64,
    first_order_no: i64,
    at: i64,
) -> GeneratedCart {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::try_from(pack_no).unwrap_or(0));
    use Qoo10OrderKind as K;
    // Which catalog items the cart holds.
    let picks: Vec<usize> = match kind {
        K::ThreeCarriers => vec![0, 2, 3],
        K::TwoCarriers => vec![1, 4],
        K::Move => vec![0],
        _ => {
            let carrier = rng.random_range(0..CARRIERS.len());
            let same: Vec<usize> = (0..CATALOG.len())
                .filter(|i| CATALOG[*i].carrier == carrier)
                .collect();
            let n = rng.random_range(1..=same.len());
            same.into_iter().take(n).collect()
        }
    };
    let unpaid = matches!(kind, K::Unpaid | K::UnpaidUnknownItem);
    let paid_at = (!unpaid).then(|| at + rng.random_range(30..600));
    let (buyer, kana) = if kind == K::OddText {
        ("𠮷田 ﾊﾅｺ😀", "ﾖｼﾀﾞ ﾊﾅｺ")
    } else {
        ("山田 花子", "ヤマダ ハナコ")
    };
    let mut rows = Vec::new();
    let mut carriers_seen = Vec::new();
    for (index, pick) in picks.iter().enumerate() {
        let item = &CATALOG[*pick];
        let order_no = first_order_no + i64::try_from(index).unwrap_or(0);
        let qty: i64 = rng.random_range(1..=3);
        let mut price = item.price;
        let mut option = item.option.to_owned();
        let mut title = item.title.to_owned();
        let mut item_code = item.item_code.to_owned();
        let mut seller_code = item.seller_code.to_owned();
        match kind {
            K::Move => {
                title.clear();
                option = "カラー:ブラック/サイズ:M".into();
            }
            K::AdditionalOption if index == 0 => {
                let extra = 300;
                price += extra;
                option = if option.is_empty() {
                    format!("ギフト包装:あり(+{extra}円)")
                } else {
                    format!("{option}/ギフト包装:あり(+{extra}円)")
                };
            }
            K::OddText => title = format!("{title} ＤＸ🎁 ｾｯﾄ"),
            K::BadProductCode if index == 0 => seller_code = "ＴＥＥ－０１".into(),
            K::UnpaidUnknownItem if index == 0 => item_code = "1999999999".into(),
            _ => {}
        }
        let discount = if kind == K::CartDiscounts && index == 0 {
            100
        } else {
            0
        };
        let total = price * qty - discount;
        let carrier = CARRIERS[item.carrier];
        let first_of_carrier = !carriers_seen.contains(&carrier);
        if first_of_carrier {
            carriers_seen.push(carrier);
        }
        let shipping = if first_of_carrier && carrier == "ヤマト運輸" {
            550
        } else {
            0
        };
        let (cart_seller, cart_qoo10) = if kind == K::CartDiscounts && index == 0 {
            (200, 150)
        } else {
            (0, 0)
        };
        let hope = if kind == K::DesiredDate {
            crate::qoo10::format_date(at + 5 * crate::time::DAY_SECS) + " 14:00~16:00"
        } else {
            String::new()
        };
        let row = json!({
            "sellerID": seller_id,
            "orderNo": order_no,
            "packNo": pack_no,
            "orderDate": format_datetime(at),
            "PaymentDate": paid_at.map(format_datetime).unwrap_or_default(),
            "EstShippingDate": "",
            "ShippingDate": "",
            "DeliveredDate": "",
            "buyer": buyer,
            "buyer_gata": kana,
            "buyerTel": "+81-3-0000-0000",
            "buyerMobile": if index % 2 == 0 { "+81-90-0000-0000" } else { "+81--" },
            "buyerEmail": "buyer@example.invalid",
            "itemCode": item_code,
            "sellerItemCode": seller_code,
            "itemTitle": title,
            "option": option,
            "optionCode": item.option_code,
            "orderPrice": price,
            "orderQty": qty,
            "discount": discount,
            "total": total,
            "receiver": buyer,
            "receiver_gata": kana,
            "shippingCountry": "JP",
            "zipCode": "150-0001",
            "shippingAddr": "東京都渋谷区神宮前1-2-3 サンプルビル101",
            "Addr1": "東京都渋谷区神宮前",
            "Addr2": "1-2-3 サンプルビル101",
            "receiverTel": "+81-3-0000-0000",
            "receiverMobile": "+81-90-0000-0000",
            "hopeDate": hope,
            "ShippingMsg": if kind == K::OddText { "置き配希望🙏" } else { "" },
            "PaymentMethod": if unpaid { "コンビニ決済" } else { "クレジットカード" },
            "SellerDiscount": 0,
            "Cart_Discount_Seller": cart_seller,
            "Cart_Discount_Qoo10": cart_qoo10,
            "Currency": "JPY",
            "ShippingRate": shipping,
            "shippingRateType": if shipping > 0 { "Charge" } else { "Free" },
            "DeliveryCompany": if unpaid { "" } else { carrier },
            "TrackingNo": "",
            "PackingNo": "",
            "SellerDeliveryNo": "",
            "VoucherCode": "",
            "Gift": "N",
            "SettlePrice": total - total / 10,
            "OverseaConsignment": "N",
            "cod_price": 0,
            "branchName": "",
        });
        if let Value::Object(map) = row {
            rows.push(map);
        }
    }
    GeneratedCart { kind, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carts_depend_only_on_seed_serial_and_time() {
        let a = cart(
            7,
            Qoo10OrderKind::Plain,
            "s",
            540_000_001,
            1_088_000_001,
            1_750_000_000,
        );
        let b = cart(
            7,
            Qoo10OrderKind::Plain,
            "s",
            540_000_001,
            1_088_000_001,
            1_750_000_000,
        );
        assert_eq!(a.rows, b.rows);
        let three = cart(
            7,
            Qoo10OrderKind::ThreeCarriers,
            "s",
            540_000_002,
            1_088_000_010,
            1_750_000_000,
        );
        let carriers: std::collections::BTreeSet<_> = three
            .rows
            .iter()
            .map(|r| r["DeliveryCompany"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(carriers.len(), 3);
        for row in a.rows.iter().chain(&three.rows) {
            let price = row["orderPrice"].as_i64().unwrap_or(0);
            let qty = row["orderQty"].as_i64().unwrap_or(0);
            let discount = row["discount"].as_i64().unwrap_or(0);
            assert_eq!(
                row["total"].as_i64(),
                Some(price * qty - discount),
                "total = price × qty − discount"
            );
        }
    }
}
