//! Deterministic generator of au PAY `<orderInfo>` elements (with their `<detail>` lines).
//!
//! Each order draws from its own ChaCha8 stream (seed, stream = serial), so an order depends
//! only on the seed, the shop, its serial and its time.
//!
//! Amounts (aupay.md §3a; the last line is the documented one, [1S] from production data, the
//! others are inferred from the field names and are what this generator writes):
//!
//! ```text
//! totalItemPrice          = itemPrice × unit                       (per line)
//! totalSalePrice          = Σ totalItemPrice
//! totalItemOptionPrice    = Σ itemOptionPrice × unit
//! totalGiftWrappingPrice  = Σ giftWrappingPrice
//! totalPrice              = totalSalePrice + totalItemOptionPrice + totalGiftWrappingPrice
//!                         + postagePrice + chargePrice
//! requestPrice            = totalPrice − couponTotalPrice − usePoint − useAuPointPrice
//! ```
//! Only the `bad_request_price` kind breaks it (requestPrice off by 1..3 yen).
//!
//! New orders start in `新規受付` with `paymentStatus` `N` (it turns `Y` only after shipment,
//! aupay.md §3d); what says "paid" is the settlement method (card, au PAY carrier billing) or
//! a `paymentDate` for prepayment methods.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{format_date, format_datetime};
use crate::time::DAY_SECS;
use crate::xml::Element;

/// Orders generated when neither `count` nor `orderDates` is given.
pub const DEFAULT_COUNT: usize = 10;
/// Upper bound for one generate call.
pub const MAX_COUNT: usize = 100_000;

/// Settlement names as au PAY writes them (aupay.md §5).
pub mod settlement {
    pub const CARD: &str = "クレジットカード決済";
    pub const AU_CARRIER: &str = "au PAY（auかんたん決済）";
    pub const KONBINI: &str = "au Wowma!コンビニ決済";
    pub const BANK_NET: &str = "銀行ネット決済";
    pub const ATM: &str = "ATM決済";
    pub const BANK_TRANSFER: &str = "銀行振込";
}

/// Shape of a generated order; each exercises one normaliser path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AupayOrderKind {
    /// Credit card, paid at order time, 1..3 lines, `itemCode` + `itemManagementId`.
    CardPaid,
    /// au PAY carrier billing (auかんたん決済), paid at order time.
    CarrierBilling,
    /// Konbini, not paid yet (no `paymentDate`).
    KonbiniUnpaid,
    /// Konbini, already paid (`paymentDate` set) by the time it is listed.
    KonbiniPaid,
    /// Bank net / ATM / bank transfer, not paid yet.
    BankUnpaid,
    /// A 管理ID with `M` and `T` in it (`-MT-2T`): part of the SKU, not a shipping code.
    ManagementIdMt,
    /// `itemOption` with several `key=value` pairs and a fee-type option surcharge.
    OptionSurcharge,
    /// Gift wrapping with its price, a gift message and a noshi.
    Gift,
    /// Store coupon, Ponta points and au points together.
    CouponsPoints,
    /// `deliveryRequestDay` and `deliveryRequestTime` set.
    DesiredDelivery,
    /// Emoji, half-width katakana, full-width letters and `&<>` in names and comments.
    OddText,
    /// `不正取引審査中`: au PAY is still screening it.
    Screening,
    /// A settlement name the project does not know.
    UnknownSettlement,
    /// `requestPrice` off by 1..3 yen.
    BadRequestPrice,
}

impl AupayOrderKind {
    pub const ALL: [AupayOrderKind; 14] = [
        Self::CardPaid,
        Self::CarrierBilling,
        Self::KonbiniUnpaid,
        Self::KonbiniPaid,
        Self::BankUnpaid,
        Self::ManagementIdMt,
        Self::OptionSurcharge,
        Self::Gift,
        Self::CouponsPoints,
        Self::DesiredDelivery,
        Self::OddText,
        Self::Screening,
        Self::UnknownSettlement,
        Self::BadRequestPrice,
    ];

    /// Mix used when no kinds are given: mostly card orders, every normal kind present, never
    /// the deliberately broken ones.
    fn default_mix(draw: u32) -> Self {
        match draw % 20 {
            0..=6 => Self::CardPaid,
            7 | 8 => Self::CarrierBilling,
            9 => Self::KonbiniUnpaid,
            10 => Self::KonbiniPaid,
            11 => Self::BankUnpaid,
            12 => Self::ManagementIdMt,
            13 => Self::OptionSurcharge,
            14 => Self::Gift,
            15 | 16 => Self::CouponsPoints,
            17 | 18 => Self::DesiredDelivery,
            _ => Self::OddText,
        }
    }

    /// Whether this kind is paid by a prepayment method that has not been paid yet.
    pub fn awaits_prepayment(self) -> bool {
        matches!(self, Self::KonbiniUnpaid | Self::BankUnpaid)
    }
}

/// Body of the generate call (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AupayGenerateOptions {
    /// How many orders (default 10, or one per `orderDates`).
    pub count: Option<usize>,
    /// Kinds to cycle through; default a realistic mix.
    pub kinds: Option<Vec<AupayOrderKind>>,
    /// Exact order times (`YYYY/MM/DD HH:MM`), one per order.
    pub order_dates: Option<Vec<String>>,
    /// Spread orders evenly over the last this-many days (default 7).
    pub days: Option<i64>,
    /// Seed; default the sandbox seed.
    pub seed: Option<u64>,
}

pub(crate) fn kind_for(options: &AupayGenerateOptions, index: usize, draw: u32) -> AupayOrderKind {
    match options.kinds.as_deref() {
        Some(kinds) if !kinds.is_empty() => kinds[index % kinds.len()],
        _ => AupayOrderKind::default_mix(draw),
    }
}

/// A stable number per shop, so two stores of one shop never share order ids.
fn shop_number(shop_id: &str) -> u64 {
    shop_id
        .bytes()
        .fold(17_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 90
        + 10
}

/// au PAY order ids are numeric (9 digits in the samples).
pub(crate) fn order_id(shop_id: &str, serial: u64) -> String {
    format!("{}{:07}", shop_number(shop_id), serial % 10_000_000)
}

const ITEMS: [(&str, &str, i64); 6] = [
    ("tee01", "オーガニックTシャツ", 3300),
    ("mug02", "波佐見焼マグカップ", 2420),
    ("tow03", "今治タオル フェイス", 1650),
    ("soc04", "リネンソックス", 990),
    ("tea05", "八女茶 100g", 1296),
    ("bag06", "帆布トートバッグ", 5500),
];

const NAMES: [(&str, &str); 4] = [
    ("山田 花子", "ヤマダ ハナコ"),
    ("佐藤 太郎", "サトウ タロウ"),
    ("鈴木 一郎", "スズキ イチロウ"),
    ("高橋 美咲", "タカハシ ミサキ"),
];

const ADDRESSES: [(&str, &str); 3] = [
    ("150-0001", "東京都渋谷区神宮前1-2-3"),
    ("530-0001", "大阪府大阪市北区梅田2-4-9 梅田ビル10F"),
    ("060-0005", "北海道札幌市中央区北五条西3-1"),
];

/// One generated order: its id and the `<orderInfo>` element.
pub(crate) struct GeneratedOrder {
    pub(crate) order_id: String,
    pub(crate) element: Element,
}

/// Builds one order placed at `at` (epoch seconds).
pub(crate) fn generate_one(
    seed: u64,
    shop_id: &str,
    serial: u64,
    at: i64,
    kind: AupayOrderKind,
) -> GeneratedOrder {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00a0_0a00);
    rng.set_stream(serial);
    let id = order_id(shop_id, serial);
    let (buyer, kana) = NAMES[rng.random_range(0..NAMES.len())];
    let (zip, address) = ADDRESSES[rng.random_range(0..ADDRESSES.len())];
    let odd = kind == AupayOrderKind::OddText;
    let buyer = if odd {
        "ﾔﾏﾀﾞ 😀 Ｔａｒｏ & <Co>"
    } else {
        buyer
    };

    let line_count = if kind == AupayOrderKind::OptionSurcharge {
        2
    } else {
        rng.random_range(1..=3_usize)
    };
    let mut details = Vec::new();
    let (mut sale, mut options_total, mut wrapping_total, mut units) = (0_i64, 0_i64, 0_i64, 0_i64);
    for line in 0..line_count {
        let (code, name, price) = ITEMS[(serial as usize + line) % ITEMS.len()];
        let unit = rng.random_range(1..=3_i64);
        let management_id = match (kind, line) {
            (AupayOrderKind::ManagementIdMt, 0) => "-MT-2T".to_owned(),
            _ => ["-m-blk", "-l-nvy", ""][rng.random_range(0..3_usize)].to_owned(),
        };
        let (option, option_price) = match (kind, line) {
            (AupayOrderKind::OptionSurcharge, 0) => ("カラー=黒&サイズ=L&名入れ=有料(+330円)", 330),
            (AupayOrderKind::OptionSurcharge, _) => ("カラー=白", 0),
            _ if management_id.contains("blk") => ("カラー=黒", 0),
            _ => ("", 0),
        };
        let wrapping = if kind == AupayOrderKind::Gift && line == 0 {
            330
        } else {
            0
        };
        let before = price
            + if kind == AupayOrderKind::CouponsPoints {
                100
            } else {
                0
            };
        sale += price * unit;
        options_total += option_price * unit;
        wrapping_total += wrapping;
        units += unit;
        let mut detail = Element::new("detail")
            .with(Element::leaf(
                "orderDetailId",
                format!("{id}{:02}", line + 1),
            ))
            .with(Element::leaf("itemManagementId", &management_id))
            .with(Element::leaf("itemCode", code))
            .with(Element::leaf("lotnumber", format!("3000{:08}", line + 1)))
            .with(Element::leaf(
                "itemName",
                if odd {
                    format!("{name} 🎁 ﾃｽﾄ & <限定>")
                } else {
                    name.to_owned()
                },
            ))
            .with(Element::leaf("itemOption", option))
            .with(Element::leaf("itemOptionPrice", option_price.to_string()))
            .with(Element::leaf("giftWrappingPrice", wrapping.to_string()))
            .with(Element::leaf("itemCancelStatus", "N"))
            .with(Element::leaf("beforeDiscount", before.to_string()))
            .with(Element::leaf("discount", (before - price).to_string()))
            .with(Element::leaf("itemPrice", price.to_string()))
            .with(Element::leaf("unit", unit.to_string()))
            .with(Element::leaf("totalItemPrice", (price * unit).to_string()))
            .with(Element::leaf("taxType", "1"))
            .with(Element::leaf(
                "taxRate",
                if code == "tea05" { "8" } else { "10" },
            ))
            .with(Element::leaf("shippingDayDispText", "1～2日で発送"))
            .with(Element::leaf(
                "shippingTimelimitDate",
                format_date(at + 3 * DAY_SECS),
            ));
        if wrapping > 0 {
            detail = detail
                .with(Element::leaf("giftWrappingType", "包装紙（花柄）"))
                .with(Element::leaf("giftMessage", "お誕生日おめでとう"))
                .with(Element::leaf("noshiType", "御祝"))
                .with(Element::leaf("noshiPresenterName1", "山田"));
        }
        details.push(detail);
    }
    let (settlement_name, status, payment_date) = match kind {
        AupayOrderKind::CarrierBilling => (settlement::AU_CARRIER, "新規受付", None),
        AupayOrderKind::KonbiniUnpaid => (settlement::KONBINI, "新規受付", None),
        AupayOrderKind::KonbiniPaid => (settlement::KONBINI, "新規受付", Some(format_date(at))),
        AupayOrderKind::BankUnpaid => (
            [
                settlement::BANK_NET,
                settlement::ATM,
                settlement::BANK_TRANSFER,
            ][rng.random_range(0..3_usize)],
            "新規受付",
            None,
        ),
        AupayOrderKind::Screening => (settlement::CARD, "不正取引審査中", None),
        AupayOrderKind::UnknownSettlement => ("ほげほげペイ", "新規受付", None),
        _ => (settlement::CARD, "新規受付", None),
    };
    let postage = if sale >= 5000 { 0 } else { 660 };
    let charge = 0;
    let total = sale + options_total + wrapping_total + postage + charge;
    let (coupon, ponta, au_points) = if kind == AupayOrderKind::CouponsPoints {
        (300.min(total), 100.min(total - 300).max(0), 50)
    } else {
        (0, 0, 0)
    };
    let au_points = au_points.min(total - coupon - ponta).max(0);
    let mut request = total - coupon - ponta - au_points;
    if kind == AupayOrderKind::BadRequestPrice {
        request += rng.random_range(1..=3_i64);
    }
    let (delivery_day, delivery_time) = if kind == AupayOrderKind::DesiredDelivery {
        (
            format_date(at + 5 * DAY_SECS),
            ["午前中", "14:00～16:00", "19:00～21:00"][rng.random_range(0..3_usize)].to_owned(),
        )
    } else {
        (String::new(), String::new())
    };
    let delivery_name = ["宅配便", "ゆうパック", "ネコポス"][rng.random_range(0..3_usize)];
    let mut order = Element::new("orderInfo")
        .with(Element::leaf("orderId", &id))
        .with(Element::leaf("orderDate", format_datetime(at)))
        .with(Element::leaf("sellMethodSegment", "1"))
        .with(Element::leaf(
            "siteAndDevice",
            "au PAY マーケット(SP(アプリ))",
        ))
        .with(Element::leaf("crossBorderEcTradeKbn", "N"))
        .with(Element::leaf(
            "mailAddress",
            format!("buyer{serial}@example.jp"),
        ))
        .with(Element::leaf("ordererName", buyer))
        .with(Element::leaf("ordererKana", kana))
        .with(Element::leaf("ordererZipCode", zip))
        .with(Element::leaf("ordererAddress", address))
        .with(Element::leaf("ordererPhoneNumber1", "03-1234-5678"))
        .with(Element::leaf("senderName", buyer))
        .with(Element::leaf("senderKana", kana))
        .with(Element::leaf("senderZipCode", zip))
        .with(Element::leaf("senderAddress", address))
        .with(Element::leaf("senderPhoneNumber1", "03-1234-5678"))
        .with(Element::leaf(
            "userComment",
            if odd {
                "置き配希望 🙏 ｵﾈｶﾞｲｼﾏｽ & <玄関>"
            } else {
                ""
            },
        ))
        .with(Element::leaf("settlementName", settlement_name))
        .with(Element::leaf("orderStatus", status))
        .with(Element::leaf(
            "authorizationStatus",
            if settlement_name == settlement::CARD {
                "Y"
            } else {
                "N"
            },
        ))
        .with(Element::leaf("paymentStatus", "N"))
        .with(Element::leaf(
            "paymentDate",
            payment_date.unwrap_or_default(),
        ))
        .with(Element::leaf("shipStatus", "N"))
        .with(Element::leaf("cancelStatus", "N"))
        .with(Element::leaf("totalSalePrice", sale.to_string()))
        .with(Element::leaf("totalSaleUnit", units.to_string()))
        .with(Element::leaf("postagePrice", postage.to_string()))
        .with(Element::leaf("chargePrice", charge.to_string()))
        .with(Element::leaf(
            "totalItemOptionPrice",
            options_total.to_string(),
        ))
        .with(Element::leaf(
            "totalGiftWrappingPrice",
            wrapping_total.to_string(),
        ))
        .with(Element::leaf("totalPrice", total.to_string()))
        .with(Element::leaf("couponTotalPrice", coupon.to_string()))
        .with(Element::leaf("usePoint", ponta.to_string()))
        .with(Element::leaf("useAuPointPrice", au_points.to_string()))
        .with(Element::leaf("useAuPoint", au_points.to_string()))
        .with(Element::leaf("requestPrice", request.to_string()))
        .with(Element::leaf("deliveryName", delivery_name))
        .with(Element::leaf("deliveryMethodId", "1"))
        .with(Element::leaf("deliveryRequestDay", delivery_day))
        .with(Element::leaf("deliveryRequestTime", delivery_time));
    order.children.extend(details);
    GeneratedOrder {
        order_id: id,
        element: order,
    }
}

/// Checks the documented `requestPrice` formula on an `<orderInfo>`; `None` if a number is
/// missing. Used by the sandbox's own tests.
#[cfg(test)]
pub(crate) fn request_price_matches(order: &Element) -> Option<bool> {
    let num = |name: &str| -> Option<i64> { order.child_text(name)?.parse().ok() };
    Some(
        num("requestPrice")?
            == num("totalPrice")?
                - num("couponTotalPrice")?
                - num("usePoint")?
                - num("useAuPointPrice")?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_order() {
        for kind in AupayOrderKind::ALL {
            let a = generate_one(7, "12345678", 3, 1_740_000_000, kind);
            let b = generate_one(7, "12345678", 3, 1_740_000_000, kind);
            assert_eq!(a.element, b.element, "{kind:?}");
            let c = generate_one(8, "12345678", 3, 1_740_000_000, kind);
            assert_eq!(a.order_id, c.order_id);
        }
    }

    #[test]
    fn amounts_follow_the_formula_except_the_broken_kind() {
        for kind in AupayOrderKind::ALL {
            for serial in 0..20 {
                let order = generate_one(1, "12345678", serial, 1_740_000_000, kind).element;
                let ok = request_price_matches(&order).unwrap();
                assert_eq!(ok, kind != AupayOrderKind::BadRequestPrice, "{kind:?}");
                let num = |name: &str| order.child_text(name).unwrap().parse::<i64>().unwrap();
                let lines: i64 = order
                    .children_named("detail")
                    .map(|d| {
                        d.child_text("itemPrice").unwrap().parse::<i64>().unwrap()
                            * d.child_text("unit").unwrap().parse::<i64>().unwrap()
                    })
                    .sum();
                assert_eq!(num("totalSalePrice"), lines);
                assert_eq!(
                    num("totalPrice"),
                    lines
                        + num("totalItemOptionPrice")
                        + num("totalGiftWrappingPrice")
                        + num("postagePrice")
                        + num("chargePrice")
                );
            }
        }
    }

    #[test]
    fn two_stores_never_share_order_ids() {
        assert_ne!(order_id("12345678", 1), order_id("12345679", 1));
    }
}
