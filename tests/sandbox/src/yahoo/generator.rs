//! Deterministic generator of Yahoo `orderInfo` `<OrderInfo>` elements.
//!
//! Each order draws from its own ChaCha8 stream (seed, stream = serial), so an order depends
//! only on the seed, the seller, its serial and its time.
//!
//! The amounts follow one formula, the one the sandbox README states and the project's
//! normaliser checks (no public real orderInfo answer exists to confirm it; see the README):
//!
//! ```text
//! TotalPrice = Σ(UnitPrice × Quantity) − Σ Item.CouponDiscount (store coupons)
//!            + ShipCharge + PayCharge + GiftWrapCharge
//!            − Discount (store discount) − TotalMallCouponDiscount (Yahoo coupons)
//!            − UsePoint + Adjustments
//! SettleAmount = TotalPrice
//! ```
//! Only the `bad_total` kind breaks it (TotalPrice off by 1..3 yen).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::xml::Element;
use super::{format_date, format_datetime};
use crate::time::DAY_SECS;

/// Orders generated when neither `count` nor `orderTimes` is given.
pub const DEFAULT_COUNT: usize = 10;
/// Upper bound for one generate call.
pub const MAX_COUNT: usize = 100_000;

/// Shape of a generated order; each exercises one normaliser path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YahooOrderKind {
    /// Credit card (`payment_a1`), paid, 1..3 lines, item:sub SKUs.
    Plain,
    /// Konbini (`payment_a6`/`a7`) or bank transfer (`payment_b1`), `PayStatus` 0.
    Unpaid,
    /// Cash on delivery (`payment_d1`) with a `PayCharge`.
    Cod,
    /// Gift wrap fee, wrap type and message.
    GiftWrap,
    /// Store coupon on a line, store discount, Yahoo coupon and used points together.
    CouponsPoints,
    /// Paid entirely with points (`payment_z1`).
    AllPoints,
    /// Lines at 8 % and 10 %, one without a `SubCode`.
    MixedTax,
    /// `ShipRequestDate`, `ShipRequestTime` and `ShipRequestTimeZoneCode` set.
    DesiredDelivery,
    /// Emoji, half-width katakana, full-width letters and `&<>` in names, notes and titles.
    OddText,
    /// `OrderStatus` 1 予約中 (a pre-order).
    Reservation,
    /// A `PayMethod` code the project does not know (`payment_x9`).
    UnknownPayMethod,
    /// `TotalPrice` off by 1..3 yen.
    BadTotal,
}

impl YahooOrderKind {
    pub const ALL: [YahooOrderKind; 12] = [
        Self::Plain,
        Self::Unpaid,
        Self::Cod,
        Self::GiftWrap,
        Self::CouponsPoints,
        Self::AllPoints,
        Self::MixedTax,
        Self::DesiredDelivery,
        Self::OddText,
        Self::Reservation,
        Self::UnknownPayMethod,
        Self::BadTotal,
    ];

    /// Mix used when no kinds are given: mostly plain orders, every normal kind present,
    /// never the deliberately broken ones.
    fn default_mix(draw: u32) -> Self {
        match draw % 20 {
            0..=7 => Self::Plain,
            8 => Self::Unpaid,
            9 => Self::Cod,
            10 => Self::GiftWrap,
            11 | 12 => Self::CouponsPoints,
            13 => Self::AllPoints,
            14 | 15 => Self::MixedTax,
            16 | 17 => Self::DesiredDelivery,
            18 => Self::OddText,
            _ => Self::Reservation,
        }
    }
}

/// Body of the generate call (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct YahooGenerateOptions {
    /// How many orders (default 10, or one per `orderTimes`).
    pub count: Option<usize>,
    /// Kinds to cycle through; default a realistic mix.
    pub kinds: Option<Vec<YahooOrderKind>>,
    /// Exact order times (`YYYY-MM-DDThh:mm:ss+09:00`), one per order.
    pub order_times: Option<Vec<String>>,
    /// Spread orders evenly over the last this-many days (default 7).
    pub days: Option<i64>,
    /// Seed; default the sandbox seed.
    pub seed: Option<u64>,
}

/// One generated order, with the time the store indexes it under.
#[derive(Debug, Clone)]
pub(crate) struct GeneratedOrder {
    pub(crate) order_id: String,
    pub(crate) order_time: i64,
    pub(crate) element: Element,
}

struct Line {
    item_id: String,
    sub_code: Option<String>,
    title: String,
    options: Vec<(String, String)>,
    quantity: i64,
    unit_price: i64,
    tax_ratio: i64,
    coupon_discount: i64,
}

/// Every number of a generated order's `<Detail>`.
#[derive(Default)]
struct Money {
    ship_charge: i64,
    pay_charge: i64,
    gift_wrap_charge: i64,
    discount: i64,
    mall_coupon: i64,
    use_point: i64,
    adjustments: i64,
}

const SURNAMES: [&str; 6] = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤"];
const GIVEN: [&str; 6] = ["太郎", "花子", "一郎", "美咲", "健", "さくら"];
const PREFS: [(&str, &str); 5] = [
    ("東京都", "千代田区"),
    ("大阪府", "大阪市北区"),
    ("北海道", "札幌市中央区"),
    ("福岡県", "福岡市博多区"),
    ("沖縄県", "那覇市"),
];
const ITEMS: [(&str, &str, i64, i64); 6] = [
    ("tee-01", "コットンTシャツ", 2980, 10),
    ("mug-02", "マグカップ 350ml", 1650, 10),
    ("tea-03", "緑茶ティーバッグ 20包", 864, 8),
    ("sock-04", "ウールソックス", 1210, 10),
    ("rice-05", "新米 5kg", 3240, 8),
    ("bag-06", "キャンバストート", 4400, 10),
];

/// Generates one order.
pub(crate) fn generate_one(
    seed: u64,
    seller_id: &str,
    serial: u64,
    order_time: i64,
    kind: YahooOrderKind,
) -> GeneratedOrder {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(serial);
    let order_id = format!("{seller_id}-{}", 10_000_000 + serial);

    let line_count = match kind {
        YahooOrderKind::MixedTax => 3,
        _ => rng.random_range(1..=3),
    };
    let mut lines = Vec::new();
    for i in 0..line_count {
        let (item_id, title, price, tax) = ITEMS[rng.random_range(0..ITEMS.len())];
        let tax_ratio = match (kind, i) {
            (YahooOrderKind::MixedTax, 0) => 8,
            (YahooOrderKind::MixedTax, 1) => 10,
            _ => tax,
        };
        let no_sub = kind == YahooOrderKind::MixedTax && i == 2 || rng.random_range(0..6) == 0;
        let (sub_code, options) = if no_sub {
            (None, Vec::new())
        } else {
            let colour = ["blk", "wht", "nvy"][rng.random_range(0..3)];
            let size = ["s", "m", "l"][rng.random_range(0..3)];
            (
                Some(format!("{size}-{colour}")),
                vec![
                    ("サイズ".to_owned(), size.to_uppercase()),
                    (
                        "カラー".to_owned(),
                        match colour {
                            "blk" => "ブラック",
                            "wht" => "ホワイト",
                            _ => "ネイビー",
                        }
                        .to_owned(),
                    ),
                ],
            )
        };
        let title = if kind == YahooOrderKind::OddText && i == 0 {
            format!("{title} 🎁 ﾊﾝｶｸ ＦＵＬＬ <限定> & 特価")
        } else {
            title.to_owned()
        };
        lines.push(Line {
            item_id: item_id.to_owned(),
            sub_code,
            title,
            options,
            quantity: rng.random_range(1..=3),
            unit_price: price,
            tax_ratio,
            coupon_discount: 0,
        });
    }

    let mut money = Money {
        ship_charge: [0, 550, 880][rng.random_range(0..3)],
        ..Money::default()
    };
    let (pay_method, pay_name, pay_kind, paid) = match kind {
        YahooOrderKind::Unpaid => match rng.random_range(0..3) {
            0 => ("payment_a6", "セブン-イレブン決済", "5", false),
            1 => ("payment_a7", "コンビニ決済", "5", false),
            _ => ("payment_b1", "銀行振込", "3", false),
        },
        YahooOrderKind::Cod => ("payment_d1", "商品代引", "4", false),
        YahooOrderKind::AllPoints => ("payment_z1", "全額ポイント払い", "7", true),
        YahooOrderKind::UnknownPayMethod => ("payment_x9", "新しい支払い方法", "7", true),
        _ => match rng.random_range(0..4) {
            0 => ("payment_a17", "PayPay残高等", "6", true),
            _ => ("payment_a1", "クレジットカード決済", "0", true),
        },
    };
    if kind == YahooOrderKind::Cod {
        money.pay_charge = 330;
    }
    if kind == YahooOrderKind::GiftWrap {
        money.gift_wrap_charge = 330;
    }
    let goods: i64 = lines.iter().map(|l| l.unit_price * l.quantity).sum();
    if kind == YahooOrderKind::CouponsPoints {
        if let Some(first) = lines.first_mut() {
            first.coupon_discount = 200;
        }
        money.discount = 100;
        money.mall_coupon = 300;
        money.use_point = rng.random_range(1..=5) * 50;
    }
    if kind == YahooOrderKind::AllPoints {
        let before_points = goods + money.ship_charge;
        money.use_point = before_points;
    }
    let coupons_on_lines: i64 = lines.iter().map(|l| l.coupon_discount).sum();
    let mut total =
        goods - coupons_on_lines + money.ship_charge + money.pay_charge + money.gift_wrap_charge
            - money.discount
            - money.mall_coupon
            - money.use_point
            + money.adjustments;
    let settle = total;
    if kind == YahooOrderKind::BadTotal {
        total += rng.random_range(1..=3);
    }

    let odd = kind == YahooOrderKind::OddText;
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let given = GIVEN[rng.random_range(0..GIVEN.len())];
    let (pref, city) = PREFS[rng.random_range(0..PREFS.len())];
    let bill_last = if odd { "ﾔﾏﾀﾞ🌸" } else { surname };
    let ship_other = rng.random_range(0..4) == 0;
    let (ship_last, ship_first) = if ship_other {
        (
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            GIVEN[rng.random_range(0..GIVEN.len())],
        )
    } else {
        (bill_last, given)
    };
    let zip = format!(
        "{:03}{:04}",
        rng.random_range(100..999),
        rng.random_range(0..9999)
    );
    let street = if odd {
        "１－２－３ ＡＢＣﾋﾞﾙ ４０５号 & <別館>".to_owned()
    } else {
        format!(
            "{}-{}-{}",
            rng.random_range(1..9),
            rng.random_range(1..30),
            rng.random_range(1..20)
        )
    };
    let phone = format!("090{:08}", rng.random_range(0..99_999_999));

    let order_status = if kind == YahooOrderKind::Reservation {
        "1"
    } else {
        "2"
    };
    let mut root = Element::new("OrderInfo")
        .with(Element::leaf("OrderId", &order_id))
        .with(Element::leaf("Version", "1"))
        .with(Element::leaf("OrderTime", format_datetime(order_time)))
        .with(Element::leaf("LastUpdateTime", format_datetime(order_time)))
        .with(Element::leaf("OrderStatus", order_status))
        .with(Element::leaf("StoreStatus", ""))
        .with(Element::leaf("IsSeen", "false"))
        .with(Element::leaf("IsActive", "true"))
        .with(Element::leaf(
            "BuyerComments",
            if odd {
                "置き配希望 📦 ＯＫ & <玄関前>"
            } else {
                ""
            },
        ));

    let mut pay = Element::new("Pay")
        .with(Element::leaf("PayStatus", if paid { "1" } else { "0" }))
        .with(Element::leaf("SettleStatus", if paid { "6" } else { "1" }))
        .with(Element::leaf(
            "PayType",
            if kind == YahooOrderKind::Cod {
                "0"
            } else {
                "1"
            },
        ))
        .with(Element::leaf("PayKind", pay_kind))
        .with(Element::leaf("PayMethod", pay_method))
        .with(Element::leaf("PayMethodName", pay_name))
        .with(Element::leaf(
            "PayDate",
            if paid {
                format_date(order_time)
            } else {
                String::new()
            },
        ));
    if !paid && kind == YahooOrderKind::Unpaid {
        pay = pay.with(Element::leaf(
            "PaymentTerm",
            format_datetime(order_time + 3 * DAY_SECS),
        ));
    }
    pay = pay
        .with(Element::leaf("BillFirstName", given))
        .with(Element::leaf("BillLastName", bill_last))
        .with(Element::leaf("BillZipCode", &zip))
        .with(Element::leaf("BillPrefecture", pref))
        .with(Element::leaf("BillCity", city))
        .with(Element::leaf("BillAddress1", &street))
        .with(Element::leaf("BillAddress2", ""))
        .with(Element::leaf("BillPhoneNumber", &phone))
        .with(Element::leaf(
            "BillMailAddress",
            format!("buyer{serial}@example.jp"),
        ));
    root = root.with(pay);

    let mut ship = Element::new("Ship")
        .with(Element::leaf(
            "ShipStatus",
            if paid || kind == YahooOrderKind::Cod {
                "1"
            } else {
                "0"
            },
        ))
        .with(Element::leaf("ShipMethod", "postage1"))
        .with(Element::leaf("ShipMethodName", "宅配便"));
    if kind == YahooOrderKind::DesiredDelivery {
        let code = 101 + rng.random_range(0..5_u32);
        let label = match code {
            101 => "午前中",
            102 => "14:00-16:00",
            103 => "16:00-18:00",
            104 => "18:00-20:00",
            _ => "19:00-21:00",
        };
        ship = ship
            .with(Element::leaf(
                "ShipRequestDate",
                format_date(order_time + 4 * DAY_SECS),
            ))
            .with(Element::leaf("ShipRequestTime", label))
            .with(Element::leaf("ShipRequestTimeZoneCode", code.to_string()));
    }
    if kind == YahooOrderKind::GiftWrap {
        ship = ship
            .with(Element::leaf("GiftWrapType", "包装紙"))
            .with(Element::leaf("GiftWrapMessage", "お誕生日おめでとう"))
            .with(Element::leaf("GiftWrapPaperType", "ギフト用"))
            .with(Element::leaf("GiftWrapName", "ご自宅用でない"));
    }
    ship = ship
        .with(Element::leaf("ShipFirstName", ship_first))
        .with(Element::leaf("ShipLastName", ship_last))
        .with(Element::leaf("ShipZipCode", &zip))
        .with(Element::leaf("ShipPrefecture", pref))
        .with(Element::leaf("ShipCity", city))
        .with(Element::leaf("ShipAddress1", &street))
        .with(Element::leaf("ShipAddress2", ""))
        .with(Element::leaf("ShipPhoneNumber", &phone));
    root = root.with(ship);

    root = root.with(
        Element::new("Detail")
            .with(Element::leaf("PayCharge", money.pay_charge.to_string()))
            .with(Element::leaf("ShipCharge", money.ship_charge.to_string()))
            .with(Element::leaf(
                "GiftWrapCharge",
                money.gift_wrap_charge.to_string(),
            ))
            .with(Element::leaf("Discount", money.discount.to_string()))
            .with(Element::leaf("Adjustments", money.adjustments.to_string()))
            .with(Element::leaf(
                "TotalMallCouponDiscount",
                money.mall_coupon.to_string(),
            ))
            .with(Element::leaf("UsePoint", money.use_point.to_string()))
            .with(Element::leaf("TotalPrice", total.to_string()))
            .with(Element::leaf("SettleAmount", settle.to_string())),
    );

    for (index, line) in lines.iter().enumerate() {
        let mut item = Element::new("Item")
            .with(Element::leaf("LineId", (index + 1).to_string()))
            .with(Element::leaf("ItemId", &line.item_id))
            .with(Element::leaf("Title", &line.title))
            .with(Element::leaf(
                "SubCode",
                line.sub_code.clone().unwrap_or_default(),
            ))
            .with(Element::leaf("Quantity", line.quantity.to_string()))
            .with(Element::leaf("UnitPrice", line.unit_price.to_string()))
            .with(Element::leaf("ItemTaxRatio", line.tax_ratio.to_string()))
            .with(Element::leaf(
                "CouponDiscount",
                line.coupon_discount.to_string(),
            ));
        for (name, value) in &line.options {
            item = item.with(
                Element::new("ItemOption")
                    .with(Element::leaf("Name", name))
                    .with(Element::leaf("Value", value)),
            );
        }
        root = root.with(item);
    }

    GeneratedOrder {
        order_id,
        order_time,
        element: root,
    }
}

/// The kind of the `index`-th order of a generate call.
pub(crate) fn kind_for(options: &YahooGenerateOptions, index: usize, draw: u32) -> YahooOrderKind {
    match options.kinds.as_deref() {
        Some(kinds) if !kinds.is_empty() => kinds[index % kinds.len()],
        _ => YahooOrderKind::default_mix(draw),
    }
}

/// Checks the sandbox's TotalPrice formula on an `<OrderInfo>`; `None` if a number is
/// missing. Used by the sandbox's own tests.
#[cfg(test)]
pub(crate) fn total_price_matches(order: &Element) -> Option<bool> {
    let detail = order.child("Detail")?;
    let num = |e: &Element, name: &str| -> Option<i64> { e.child_text(name)?.parse().ok() };
    let mut expected = 0;
    for item in order.children_named("Item") {
        expected += num(item, "UnitPrice")? * num(item, "Quantity")?;
        expected -= num(item, "CouponDiscount").unwrap_or(0);
    }
    expected +=
        num(detail, "ShipCharge")? + num(detail, "PayCharge")? + num(detail, "GiftWrapCharge")?;
    expected -= num(detail, "Discount")?
        + num(detail, "TotalMallCouponDiscount")?
        + num(detail, "UsePoint")?;
    expected += num(detail, "Adjustments").unwrap_or(0);
    Some(expected == num(detail, "TotalPrice")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_order() {
        let a = generate_one(7, "snbx-a", 3, 1_740_000_000, YahooOrderKind::CouponsPoints);
        let b = generate_one(7, "snbx-a", 3, 1_740_000_000, YahooOrderKind::CouponsPoints);
        assert_eq!(a.element, b.element);
        assert_eq!(a.order_id, "snbx-a-10000003");
    }

    #[test]
    fn every_kind_but_bad_total_keeps_the_formula() {
        for serial in 0..40 {
            for kind in YahooOrderKind::ALL {
                let order = generate_one(1, "s", serial, 1_740_000_000, kind);
                let holds = total_price_matches(&order.element).unwrap();
                assert_eq!(holds, kind != YahooOrderKind::BadTotal, "{kind:?} {serial}");
            }
        }
    }

    #[test]
    fn mixed_tax_has_both_rates_and_a_line_without_sub_code() {
        let order = generate_one(1, "s", 1, 1_740_000_000, YahooOrderKind::MixedTax);
        let items: Vec<_> = order.element.children_named("Item").collect();
        let rates: Vec<_> = items
            .iter()
            .map(|i| i.child_text("ItemTaxRatio").unwrap())
            .collect();
        assert!(rates.contains(&"8") && rates.contains(&"10"));
        assert!(items.iter().any(|i| i.child_text("SubCode") == Some("")));
    }
}
