//! Deterministic generator of realistic Rakuten `getOrder` (version 7) OrderModel JSON.
//!
//! Every order draws from its own ChaCha8 stream (`seed`, stream = order serial), so an order
//! depends only on the seed, the shop, its serial and its timestamp: the same inputs always
//! give byte-identical JSON, and generating more orders never changes earlier ones.
//!
//! Amount invariants kept by every kind except `bad_total` and `unfixed_postage` (checked by
//! [`check_amount_invariants`]):
//! - `goodsPrice = Σ priceTaxIncl × units` over all packages and items
//! - `totalPrice = goodsPrice + postagePrice + deliveryPrice + paymentCharge
//!   + WrappingModel1.price + WrappingModel2.price` (absent wrapping = 0)
//! - `couponAllTotalPrice = couponShopPrice + couponOtherPrice`
//! - `requestPrice = totalPrice − PointModel.usedPoint − couponAllTotalPrice`

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::time::{self, DAY_SECS};

/// Amount Rakuten reports while a value is not fixed yet.
pub const UNFIXED: i64 = -9999;
/// Orders generated when neither `count` nor `orderDatetimes` is given.
pub const DEFAULT_COUNT: usize = 10;
/// Upper bound for one generate call (keeps a typo from eating the machine's memory).
pub const MAX_COUNT: usize = 100_000;
/// Default spread when `from` is missing: this many days before `to`.
pub const DEFAULT_SPAN_DAYS: i64 = 7;

/// Shape of a generated order (each exercises one normaliser path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// Credit card (code 1), one package, 1–3 items.
    Plain,
    /// 2–3 packages, each with a different SenderModel.
    MultiDestination,
    /// Shop and Rakuten coupons plus used points.
    CouponPoints,
    /// WrappingModel1 (sometimes 2), `giftCheckFlag` 1, noshi remarks.
    GiftWrap,
    /// Konbini prepay (code 14) with a payment due date.
    KonbiniUnpaid,
    /// Bank transfer (code 9) with a payment due date.
    BankTransfer,
    /// Cash on delivery (code 2) with a `deliveryPrice` fee.
    Cod,
    /// Emoji, half-width katakana and full-width digits/letters in names, address, remarks.
    EmojiText,
    /// `totalPrice` off by 1–3 yen; every other field is what a correct order would carry.
    BadTotal,
    /// `postagePrice`, `totalPrice`, `requestPrice` (and package/tax totals) are -9999.
    UnfixedPostage,
    /// `deliveryDate` and a `shippingTerm` time slot set.
    DesiredDelivery,
    /// Tax-exclusive items (`includeTaxFlag` 0): `price` without tax, `priceTaxIncl` with it;
    /// the tax is in `totalPrice` but not in `goodsPrice`.
    TaxExclusive,
    /// A social gift (v10 `SocialGiftModel`) whose recipient has not entered their details:
    /// `inputFlag` 0 and Rakuten's placeholder `SenderModel` (`入力待ち`, zip 999-9999).
    SocialGiftWaiting,
    /// A social gift after the recipient entered their details (`inputFlag` 1).
    SocialGiftFilled,
}

impl OrderKind {
    /// Every kind, in documentation order.
    pub const ALL: [OrderKind; 14] = [
        Self::Plain,
        Self::MultiDestination,
        Self::CouponPoints,
        Self::GiftWrap,
        Self::KonbiniUnpaid,
        Self::BankTransfer,
        Self::Cod,
        Self::EmojiText,
        Self::BadTotal,
        Self::UnfixedPostage,
        Self::DesiredDelivery,
        Self::TaxExclusive,
        Self::SocialGiftWaiting,
        Self::SocialGiftFilled,
    ];

    /// Whether orders of this kind satisfy the amount invariants.
    pub fn keeps_amount_invariants(self) -> bool {
        !matches!(self, Self::BadTotal | Self::UnfixedPostage)
    }
}

/// Generator options (body of `POST /_control/rakuten/stores/{shopId}/orders/generate`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateOptions {
    /// Number of orders (default 10, max 100,000); ignored with `order_datetimes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// RNG seed; default = the sandbox seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Earliest `orderDatetime` (`+0900` form); default `to` − 7 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Latest `orderDatetime`; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// One order per timestamp, exactly these `orderDatetime`s (boundary tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_datetimes: Option<Vec<String>>,
    /// Kinds to cycle through; default a fixed mix (~70 % plain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<OrderKind>>,
}

impl GenerateOptions {
    /// `count` orders spread over `[from, to]`.
    pub fn spread(count: usize, from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            count: Some(count),
            from: Some(from.into()),
            to: Some(to.into()),
            ..Self::default()
        }
    }
}

/// Why options were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("{field} must be YYYY-MM-DDThh:mm:ss+0900, got {value:?}")]
    BadDatetime { field: &'static str, value: String },
    #[error("from must not be after to")]
    Inverted,
    #[error("count must be at most {MAX_COUNT}")]
    TooMany,
    #[error("kinds must not be empty")]
    NoKinds,
}

/// One generated order.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedOrder {
    pub order_number: String,
    pub kind: OrderKind,
    /// The OrderModel JSON as `getOrder` returns it.
    pub json: Value,
}

fn parse_option(field: &'static str, value: &str) -> Result<i64, GenerateError> {
    time::parse_rakuten_datetime(value).ok_or_else(|| GenerateError::BadDatetime {
        field,
        value: value.to_owned(),
    })
}

/// Generates orders with serials `first_serial..`; `now` (epoch seconds) is only used for
/// the default window. Pure: same arguments, same output.
pub fn generate_orders(
    shop_id: &str,
    first_serial: u64,
    options: &GenerateOptions,
    default_seed: u64,
    now: i64,
) -> Result<Vec<GeneratedOrder>, GenerateError> {
    if options.kinds.as_ref().is_some_and(Vec::is_empty) {
        return Err(GenerateError::NoKinds);
    }
    let seed = options.seed.unwrap_or(default_seed);
    let fixed: Option<Vec<i64>> = match &options.order_datetimes {
        Some(list) => Some(
            list.iter()
                .map(|s| parse_option("orderDatetimes", s))
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    let count = fixed
        .as_ref()
        .map_or(options.count.unwrap_or(DEFAULT_COUNT), Vec::len);
    if count > MAX_COUNT {
        return Err(GenerateError::TooMany);
    }
    let to = match &options.to {
        Some(s) => parse_option("to", s)?,
        None => now,
    };
    let from = match &options.from {
        Some(s) => parse_option("from", s)?,
        None => to - DEFAULT_SPAN_DAYS * DAY_SECS,
    };
    if fixed.is_none() && from > to {
        return Err(GenerateError::Inverted);
    }
    // Width of each order's time slot; the order lands at a random second inside it, so
    // timestamps rise with the serial and stay within [from, to].
    let slot = (to - from) as f64 / count.max(1) as f64;

    let mut orders = Vec::with_capacity(count);
    for index in 0..count {
        let serial = first_serial + index as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(serial);
        let jitter: f64 = rng.random();
        let at = match &fixed {
            Some(list) => list.get(index).copied().unwrap_or(from),
            None => (from + (slot * (index as f64 + jitter)).floor() as i64).min(to),
        };
        let kind = match &options.kinds {
            Some(kinds) => kinds
                .get(index % kinds.len())
                .copied()
                .unwrap_or(OrderKind::Plain),
            None => default_kind(&mut rng),
        };
        let order_number = format!("{shop_id}-{}-{serial:010}", time::compact_date(at));
        let json = build_order(&mut rng, &order_number, serial, kind, at);
        orders.push(GeneratedOrder {
            order_number,
            kind,
            json,
        });
    }
    Ok(orders)
}

/// The kinds the default mix draws from: the first eleven kinds. Kinds added later
/// (`tax_exclusive`, `social_gift_waiting`, `social_gift_filled`) are generated only when
/// asked for in `kinds`, so a seed keeps giving the same kinds it always gave (seeded tests
/// elsewhere count on them).
const DEFAULT_MIX: &[OrderKind] = &[
    OrderKind::Plain,
    OrderKind::MultiDestination,
    OrderKind::CouponPoints,
    OrderKind::GiftWrap,
    OrderKind::KonbiniUnpaid,
    OrderKind::BankTransfer,
    OrderKind::Cod,
    OrderKind::EmojiText,
    OrderKind::BadTotal,
    OrderKind::UnfixedPostage,
    OrderKind::DesiredDelivery,
];

/// ~70 % plain, the rest spread evenly over the odd kinds of [`DEFAULT_MIX`].
fn default_kind(rng: &mut ChaCha8Rng) -> OrderKind {
    if rng.random_bool(0.7) {
        OrderKind::Plain
    } else {
        let odd = &DEFAULT_MIX[1..];
        odd[rng.random_range(0..odd.len())]
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

// ---------------------------------------------------------------------------------------
// Fake people and places. All invented; nothing here is a real customer.

/// (kanji, katakana, half-width katakana)
const FAMILY_NAMES: [(&str, &str, &str); 15] = [
    ("佐藤", "サトウ", "ｻﾄｳ"),
    ("鈴木", "スズキ", "ｽｽﾞｷ"),
    ("高橋", "タカハシ", "ﾀｶﾊｼ"),
    ("田中", "タナカ", "ﾀﾅｶ"),
    ("伊藤", "イトウ", "ｲﾄｳ"),
    ("渡辺", "ワタナベ", "ﾜﾀﾅﾍﾞ"),
    ("山本", "ヤマモト", "ﾔﾏﾓﾄ"),
    ("中村", "ナカムラ", "ﾅｶﾑﾗ"),
    ("小林", "コバヤシ", "ｺﾊﾞﾔｼ"),
    ("加藤", "カトウ", "ｶﾄｳ"),
    ("吉田", "ヨシダ", "ﾖｼﾀﾞ"),
    ("山田", "ヤマダ", "ﾔﾏﾀﾞ"),
    ("佐々木", "ササキ", "ｻｻｷ"),
    ("斎藤", "サイトウ", "ｻｲﾄｳ"),
    ("髙橋", "タカハシ", "ﾀｶﾊｼ"),
];

const FIRST_NAMES: [(&str, &str, &str); 12] = [
    ("花子", "ハナコ", "ﾊﾅｺ"),
    ("太郎", "タロウ", "ﾀﾛｳ"),
    ("陽菜", "ヒナ", "ﾋﾅ"),
    ("蓮", "レン", "ﾚﾝ"),
    ("結衣", "ユイ", "ﾕｲ"),
    ("大翔", "ヒロト", "ﾋﾛﾄ"),
    ("美咲", "ミサキ", "ﾐｻｷ"),
    ("翔太", "ショウタ", "ｼｮｳﾀ"),
    ("さくら", "サクラ", "ｻｸﾗ"),
    ("健一", "ケンイチ", "ｹﾝｲﾁ"),
    ("由美子", "ユミコ", "ﾕﾐｺ"),
    ("誠", "マコト", "ﾏｺﾄ"),
];

const EMOJI: [&str; 6] = ["🌸", "😊", "🎁", "✨", "💕", "🐱"];

struct Place {
    zip1: &'static str,
    zip2: &'static str,
    prefecture: &'static str,
    city: &'static str,
    street: &'static str,
    area_code: &'static str,
    /// Hokkaido/Okinawa: higher postage.
    remote: bool,
}

const PLACES: [Place; 10] = [
    Place {
        zip1: "150",
        zip2: "0001",
        prefecture: "東京都",
        city: "渋谷区",
        street: "神宮前",
        area_code: "03",
        remote: false,
    },
    Place {
        zip1: "530",
        zip2: "0001",
        prefecture: "大阪府",
        city: "大阪市北区",
        street: "梅田",
        area_code: "06",
        remote: false,
    },
    Place {
        zip1: "460",
        zip2: "0008",
        prefecture: "愛知県",
        city: "名古屋市中区",
        street: "栄",
        area_code: "052",
        remote: false,
    },
    Place {
        zip1: "060",
        zip2: "0001",
        prefecture: "北海道",
        city: "札幌市中央区",
        street: "北一条西",
        area_code: "011",
        remote: true,
    },
    Place {
        zip1: "812",
        zip2: "0011",
        prefecture: "福岡県",
        city: "福岡市博多区",
        street: "博多駅前",
        area_code: "092",
        remote: false,
    },
    Place {
        zip1: "980",
        zip2: "0021",
        prefecture: "宮城県",
        city: "仙台市青葉区",
        street: "中央",
        area_code: "022",
        remote: false,
    },
    Place {
        zip1: "900",
        zip2: "0015",
        prefecture: "沖縄県",
        city: "那覇市",
        street: "久茂地",
        area_code: "098",
        remote: true,
    },
    Place {
        zip1: "231",
        zip2: "0023",
        prefecture: "神奈川県",
        city: "横浜市中区",
        street: "山下町",
        area_code: "045",
        remote: false,
    },
    Place {
        zip1: "600",
        zip2: "8216",
        prefecture: "京都府",
        city: "京都市下京区",
        street: "東塩小路町",
        area_code: "075",
        remote: false,
    },
    Place {
        zip1: "730",
        zip2: "0011",
        prefecture: "広島県",
        city: "広島市中区",
        street: "基町",
        area_code: "082",
        remote: false,
    },
];

const BUILDINGS: [&str; 4] = [
    "メゾン桜",
    "グランドハイツ",
    "コーポ青葉",
    "サンライズマンション",
];

struct Person {
    family: String,
    first: String,
    family_kana: String,
    first_kana: String,
    place: &'static Place,
    sub_address: String,
    phone: [String; 3],
}

/// ASCII digits, letters, '-' and ' ' to their full-width forms (what some buyers type).
fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | 'a'..='z' | '-' => {
                char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap_or(c)
            }
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

fn digits(rng: &mut ChaCha8Rng, len: u32) -> String {
    let n = rng.random_range(0..10_u32.pow(len));
    format!("{n:0width$}", width = len as usize)
}

fn person(rng: &mut ChaCha8Rng, odd_text: bool) -> Person {
    let family = pick(rng, &FAMILY_NAMES);
    let first = pick(rng, &FIRST_NAMES);
    let place = pick(rng, &PLACES);
    let block = format!(
        "{}-{}-{}",
        rng.random_range(1..=5),
        rng.random_range(1..=30),
        rng.random_range(1..=20)
    );
    let building = if rng.random_bool(0.4) {
        format!(
            " {}{}",
            pick(rng, &BUILDINGS),
            rng.random_range(1..=9) * 100 + rng.random_range(1..=8)
        )
    } else {
        String::new()
    };
    let phone = if rng.random_bool(0.7) {
        [
            pick(rng, &["090", "080", "070"]).to_string(),
            digits(rng, 4),
            digits(rng, 4),
        ]
    } else {
        let middle = if place.area_code.len() == 2 { 4 } else { 3 };
        [
            place.area_code.to_owned(),
            digits(rng, middle),
            digits(rng, 4),
        ]
    };
    if odd_text {
        let emoji = pick(rng, &EMOJI);
        Person {
            family: family.0.to_owned(),
            first: format!("{}{emoji}", first.0),
            family_kana: family.2.to_owned(),
            first_kana: first.2.to_owned(),
            place,
            sub_address: format!(
                "{}{}{}",
                place.street,
                to_full_width(&block),
                to_full_width(" ABCビル 4F")
            ),
            phone,
        }
    } else {
        Person {
            family: family.0.to_owned(),
            first: first.0.to_owned(),
            family_kana: family.1.to_owned(),
            first_kana: first.1.to_owned(),
            place,
            sub_address: format!("{}{block}{building}", place.street),
            phone,
        }
    }
}

fn address_json(p: &Person) -> serde_json::Map<String, Value> {
    let Value::Object(map) = json!({
        "zipCode1": p.place.zip1,
        "zipCode2": p.place.zip2,
        "prefecture": p.place.prefecture,
        "city": p.place.city,
        "subAddress": p.sub_address,
        "familyName": p.family,
        "firstName": p.first,
        "familyNameKana": p.family_kana,
        "firstNameKana": p.first_kana,
        "phoneNumber1": p.phone[0],
        "phoneNumber2": p.phone[1],
        "phoneNumber3": p.phone[2],
    }) else {
        return serde_json::Map::new();
    };
    map
}

fn orderer_json(rng: &mut ChaCha8Rng, p: &Person) -> Value {
    let mut map = address_json(p);
    // Rakuten hands shops a masked relay address, never the buyer's own.
    let masked: u64 = rng.random();
    map.insert(
        "emailAddress".into(),
        json!(format!("{masked:016x}@fw.rakuten.ne.jp")),
    );
    map.insert("sex".into(), json!(pick(rng, &["男", "女"])));
    map.insert("birthYear".into(), json!(rng.random_range(1950..=2005)));
    map.insert("birthMonth".into(), json!(rng.random_range(1..=12)));
    map.insert("birthDay".into(), json!(rng.random_range(1..=28)));
    Value::Object(map)
}

fn sender_json(p: &Person) -> Value {
    let mut map = address_json(p);
    map.insert("isolatedIslandFlag".into(), json!(0));
    Value::Object(map)
}

// ---------------------------------------------------------------------------------------
// Catalogue.

struct Product {
    manage_number: &'static str,
    name: &'static str,
    item_id: i64,
    /// Percent: 10 (standard) or 8 (reduced rate, food).
    tax_percent: i64,
    /// (variant suffix, skuInfo, unit price tax included)
    variants: &'static [(&'static str, &'static str, i64)],
}

const PRODUCTS: [Product; 10] = [
    Product {
        manage_number: "tee-01",
        name: "オーガニックコットン Tシャツ",
        item_id: 10_000_010,
        tax_percent: 10,
        variants: &[
            ("m-blk", "サイズ:M\nカラー:ブラック", 3300),
            ("l-wht", "サイズ:L\nカラー:ホワイト", 3300),
            ("s-nvy", "サイズ:S\nカラー:ネイビー", 3300),
        ],
    },
    Product {
        manage_number: "mug-02",
        name: "波佐見焼 マグカップ 330ml",
        item_id: 10_000_021,
        tax_percent: 10,
        variants: &[("ai", "カラー:藍", 2420), ("shiro", "カラー:白磁", 2420)],
    },
    Product {
        manage_number: "towel-03",
        name: "今治タオル フェイスタオル 2枚セット",
        item_id: 10_000_032,
        tax_percent: 10,
        variants: &[
            ("gry", "カラー:グレー", 1980),
            ("pnk", "カラー:ピンク", 1980),
        ],
    },
    Product {
        manage_number: "juice-04",
        name: "国産 りんごジュース 1L×6本",
        item_id: 10_000_043,
        tax_percent: 8,
        variants: &[("std", "内容量:1L×6本", 4320)],
    },
    Product {
        manage_number: "tea-05",
        name: "有機 緑茶 ティーバッグ 50包",
        item_id: 10_000_054,
        tax_percent: 8,
        variants: &[("std", "", 1296)],
    },
    Product {
        manage_number: "rice-06",
        name: "新米 コシヒカリ 令和7年産",
        item_id: 10_000_065,
        tax_percent: 8,
        variants: &[("5kg", "内容量:5kg", 3980), ("10kg", "内容量:10kg", 7480)],
    },
    Product {
        manage_number: "sock-07",
        name: "くつ下 3足組 23-25cm",
        item_id: 10_000_076,
        tax_percent: 10,
        variants: &[("std", "サイズ:23-25cm", 1100)],
    },
    Product {
        manage_number: "bag-08",
        name: "帆布 トートバッグ A4",
        item_id: 10_000_087,
        tax_percent: 10,
        variants: &[
            ("nat", "カラー:生成り", 5478),
            ("blk", "カラー:ブラック", 5478),
        ],
    },
    Product {
        manage_number: "sweets-09",
        name: "北海道 チーズケーキ 5号 (冷凍)",
        item_id: 10_000_098,
        tax_percent: 8,
        variants: &[("std", "", 3240)],
    },
    Product {
        manage_number: "cable-10",
        name: "USB Type-C ケーブル",
        item_id: 10_000_109,
        tax_percent: 10,
        variants: &[("1m", "長さ:1m", 980), ("2m", "長さ:2m", 1280)],
    },
];

struct Line {
    json: Value,
    /// priceTaxIncl × units
    amount: i64,
    /// price × units: what goodsPrice counts (without tax for tax-exclusive items)
    listed: i64,
    tax_percent: i64,
}

/// Tax contained in a tax-included amount, rounded down (per line, as shops usually do).
fn included_tax(amount: i64, percent: i64) -> i64 {
    amount * percent / (100 + percent)
}

fn tax_rate_json(percent: i64) -> Value {
    if percent == 8 {
        json!(0.08)
    } else {
        json!(0.1)
    }
}

fn item_lines(
    rng: &mut ChaCha8Rng,
    serial: u64,
    package: usize,
    gift: bool,
    tax_exclusive: bool,
) -> Vec<Line> {
    let count = *pick(rng, &[1_usize, 1, 1, 2, 2, 3]);
    let mut used: Vec<usize> = Vec::with_capacity(count);
    let mut lines = Vec::with_capacity(count);
    while lines.len() < count {
        let index = rng.random_range(0..PRODUCTS.len());
        if used.contains(&index) {
            continue;
        }
        used.push(index);
        let product = &PRODUCTS[index];
        let (suffix, sku_info, catalogue_price) = *pick(rng, product.variants);
        // A tax-exclusive shop lists the price without tax; Rakuten adds the tax per unit
        // (rounded down) in priceTaxIncl.
        let (price, price_tax_incl) = if tax_exclusive {
            let without = catalogue_price * 100 / (100 + product.tax_percent);
            (without, without + without * product.tax_percent / 100)
        } else {
            (catalogue_price, catalogue_price)
        };
        let units = *pick(rng, &[1_i64, 1, 1, 1, 2, 2, 3]);
        let variant_id = format!("{}-{suffix}", product.manage_number);
        let selected_choice = if gift {
            Value::from("ラッピング:希望する")
        } else if rng.random_bool(0.3) {
            Value::from("ラッピング:希望しない")
        } else {
            Value::Null
        };
        let detail_id = 70_000_000 + serial * 64 + (package as u64) * 8 + lines.len() as u64;
        lines.push(Line {
            json: json!({
                "itemDetailId": detail_id,
                "itemName": product.name,
                "itemId": product.item_id,
                "itemNumber": product.manage_number,
                "manageNumber": product.manage_number,
                "price": price,
                "units": units,
                "includePostageFlag": 0,
                "includeTaxFlag": i64::from(!tax_exclusive),
                "includeCashOnDeliveryPostageFlag": 0,
                "selectedChoice": selected_choice,
                "pointRate": 1,
                "pointType": 0,
                "inventoryType": 2,
                "delvdateInfo": "1～2日以内に発送予定（店舗休業日を除く）",
                "restoreInventoryFlag": 0,
                "dealFlag": 0,
                "drugFlag": 0,
                "deleteItemFlag": 0,
                "taxRate": tax_rate_json(product.tax_percent),
                "priceTaxIncl": price_tax_incl,
                "isSingleItemShipping": 0,
                "SkuModelList": [{
                    "variantId": variant_id,
                    "merchantDefinedSkuId": variant_id.to_uppercase(),
                    "skuInfo": sku_info,
                }],
            }),
            amount: price_tax_incl * units,
            listed: price * units,
            tax_percent: product.tax_percent,
        });
    }
    lines
}

// ---------------------------------------------------------------------------------------
// One order.

struct Settlement {
    code: i64,
    name: &'static str,
    rpay: i64,
}

fn settlement_for(kind: OrderKind) -> Settlement {
    match kind {
        OrderKind::Cod => Settlement {
            code: 2,
            name: "代金引換",
            rpay: 0,
        },
        OrderKind::BankTransfer => Settlement {
            code: 9,
            name: "銀行振込",
            rpay: 1,
        },
        OrderKind::KonbiniUnpaid => Settlement {
            code: 14,
            name: "ファミリーマート、ローソン等（前払）",
            rpay: 1,
        },
        _ => Settlement {
            code: 1,
            name: "クレジットカード",
            rpay: 1,
        },
    }
}

fn settlement_json(rng: &mut ChaCha8Rng, s: &Settlement, at: i64) -> Value {
    if s.code == 1 {
        let year =
            time::format_date(at)[..4].parse::<i64>().unwrap_or(2025) + rng.random_range(1..=5);
        json!({
            "settlementMethodCode": s.code,
            "settlementMethod": s.name,
            "rpaySettlementFlag": s.rpay,
            "cardName": pick(rng, &["VISA", "MasterCard", "JCB", "AMEX"]),
            "cardNumber": format!("XXXX-XXXX-XXXX-{}", digits(rng, 4)),
            "cardOwner": null,
            "cardYm": format!("{year}-{:02}", rng.random_range(1..=12)),
            "cardPayType": 0,
            "cardInstallmentDesc": null,
        })
    } else {
        json!({
            "settlementMethodCode": s.code,
            "settlementMethod": s.name,
            "rpaySettlementFlag": s.rpay,
            "cardName": null,
            "cardNumber": null,
            "cardOwner": null,
            "cardYm": null,
            "cardPayType": null,
            "cardInstallmentDesc": null,
        })
    }
}

/// Free shipping from 3,980 yen per destination (the usual Rakuten line), else a flat rate.
fn postage_for(goods: i64, remote: bool) -> i64 {
    match (goods >= 3_980, remote) {
        (true, _) => 0,
        (false, false) => 690,
        (false, true) => 1_320,
    }
}

fn cod_fee(amount: i64) -> i64 {
    match amount {
        a if a < 10_000 => 330,
        a if a < 30_000 => 440,
        _ => 660,
    }
}

const TIME_SLOTS: [(i64, &str); 8] = [
    (1, "午前中"),
    (2, "午後"),
    (9, "その他"),
    (1214, "12時-14時"),
    (1416, "14時-16時"),
    (1618, "16時-18時"),
    (1820, "18時-20時"),
    (1921, "19時-21時"),
];

struct Coupon {
    json: Value,
    price: i64,
    shop: bool,
}

fn coupons(rng: &mut ChaCha8Rng, goods: i64, item_id: i64, at: i64) -> Vec<Coupon> {
    let expiry = time::format_date(at + 30 * DAY_SECS);
    let mut list = Vec::new();
    let shop_price = (*pick(rng, &[100_i64, 200, 300, 500])).min(goods / 2);
    if shop_price > 0 {
        list.push(Coupon {
            json: json!({
                "couponCode": format!("SHOP-{}", digits(rng, 6)),
                "itemId": item_id,
                "couponName": format!("ショップ限定 {shop_price}円OFFクーポン"),
                "couponSummary": format!("{shop_price}円OFF"),
                "couponCapital": "ショップ",
                "couponCapitalCode": 1,
                "expiryDate": expiry,
                "couponPrice": shop_price,
                "couponUnit": 1,
                "couponTotalPrice": shop_price,
            }),
            price: shop_price,
            shop: true,
        });
    }
    let other_price = (*pick(rng, &[0_i64, 100, 300])).min(goods / 2 - shop_price);
    if other_price > 0 {
        list.push(Coupon {
            json: json!({
                "couponCode": format!("RKTN-{}", digits(rng, 6)),
                "itemId": 0,
                "couponName": format!("楽天市場 {other_price}円OFFクーポン"),
                "couponSummary": format!("{other_price}円OFF"),
                "couponCapital": "楽天",
                "couponCapitalCode": 2,
                "expiryDate": expiry,
                "couponPrice": other_price,
                "couponUnit": 1,
                "couponTotalPrice": other_price,
            }),
            price: other_price,
            shop: false,
        });
    }
    list
}

fn wrapping(title: i64, name: &str, price: i64) -> Value {
    json!({
        "title": title,
        "name": name,
        "price": price,
        "includeTaxFlag": 1,
        "deleteWrappingFlag": 0,
        "taxRate": 0.1,
    })
}

fn build_order(
    rng: &mut ChaCha8Rng,
    order_number: &str,
    serial: u64,
    kind: OrderKind,
    at: i64,
) -> Value {
    let odd_text = kind == OrderKind::EmojiText;
    let gift = kind == OrderKind::GiftWrap;
    let unfixed = kind == OrderKind::UnfixedPostage;
    let tax_exclusive = kind == OrderKind::TaxExclusive;
    let social_gift = matches!(
        kind,
        OrderKind::SocialGiftWaiting | OrderKind::SocialGiftFilled
    );
    let orderer = person(rng, odd_text);

    // Packages: one per destination.
    let package_count = if kind == OrderKind::MultiDestination {
        rng.random_range(2..=3)
    } else {
        1
    };
    let mut packages = Vec::with_capacity(package_count);
    let mut goods = 0_i64;
    let mut postage = 0_i64;
    let mut goods_by_rate = [0_i64; 2]; // [10 %, 8 %]
    // Tax of tax-exclusive items (外税): on top of goodsPrice, inside totalPrice.
    let mut exclusive_tax = 0_i64;
    let mut listed_goods = 0_i64;
    let mut first_item_id = 0_i64;
    let mut destinations: Vec<String> = Vec::new();
    for index in 0..package_count {
        // Gifts and extra destinations ship to someone else; plain orders mostly to the buyer.
        let recipient = if index > 0 || gift || social_gift || rng.random_bool(0.15) {
            let mut other = person(rng, odd_text);
            while destinations.contains(&other.sub_address)
                || other.sub_address == orderer.sub_address
            {
                other = person(rng, odd_text);
            }
            other
        } else {
            person_clone(&orderer)
        };
        destinations.push(recipient.sub_address.clone());
        let lines = item_lines(rng, serial, index, gift, tax_exclusive);
        let package_goods: i64 = lines.iter().map(|l| l.amount).sum();
        let package_listed: i64 = lines.iter().map(|l| l.listed).sum();
        let package_tax = package_goods - package_listed;
        for line in &lines {
            let slot = usize::from(line.tax_percent == 8);
            goods_by_rate[slot] += line.amount;
        }
        if first_item_id == 0 {
            first_item_id = lines
                .first()
                .and_then(|l| l.json.get("itemId"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
        }
        let package_postage = if unfixed {
            UNFIXED
        } else {
            postage_for(package_goods, recipient.place.remote)
        };
        if !unfixed {
            postage += package_postage;
        }
        goods += package_goods;
        listed_goods += package_listed;
        exclusive_tax += package_tax;
        packages.push((
            recipient,
            lines,
            package_listed,
            package_tax,
            package_postage,
        ));
    }
    let postage = if unfixed { UNFIXED } else { postage };

    let settlement = settlement_for(kind);
    let wrapping1 = gift.then(|| (330_i64, wrapping(1, "ギフト包装（有料）", 330)));
    let wrapping2 = (gift && rng.random_bool(0.5)).then(|| (110_i64, wrapping(2, "リボン", 110)));
    let wrap_total = wrapping1.as_ref().map_or(0, |w| w.0) + wrapping2.as_ref().map_or(0, |w| w.0);
    let payment_charge = 0_i64;
    let delivery_price = if kind == OrderKind::Cod {
        cod_fee(goods + postage + wrap_total)
    } else {
        0
    };
    // Rakuten's formulas (official getOrder field table, confirmed by the public samples):
    // goodsPrice = Σ price × units + wrapping; totalPrice = goodsPrice + postage + the tax of
    // tax-exclusive items (no COD fee, no payment charge); requestPrice = totalPrice +
    // deliveryPrice + paymentCharge + additionalFeeOccurAmountToUser − coupons − points.
    let goods_price = listed_goods + wrap_total;
    let total = if unfixed {
        UNFIXED
    } else {
        goods_price + postage + exclusive_tax
    };

    let coupon_list = if kind == OrderKind::CouponPoints {
        coupons(rng, goods, first_item_id, at)
    } else {
        Vec::new()
    };
    let coupon_shop: i64 = coupon_list.iter().filter(|c| c.shop).map(|c| c.price).sum();
    let coupon_other: i64 = coupon_list
        .iter()
        .filter(|c| !c.shop)
        .map(|c| c.price)
        .sum();
    let coupon_all = coupon_shop + coupon_other;
    let payable = if unfixed {
        goods
    } else {
        total + delivery_price + payment_charge
    } - coupon_all;
    let used_point = match kind {
        OrderKind::CouponPoints => rng.random_range(1..=30_i64.min(payable / 100).max(1)) * 100,
        _ if rng.random_bool(0.2) => rng.random_range(1..=500_i64.min(payable / 4).max(1)),
        _ => 0,
    }
    .min(payable.max(0));
    let request = if unfixed {
        UNFIXED
    } else {
        total + delivery_price + payment_charge - used_point - coupon_all
    };
    let reported_total = if kind == OrderKind::BadTotal {
        let delta = *pick(rng, &[-3_i64, -2, -1, 1, 2, 3]);
        total + delta
    } else {
        total
    };

    // Desired delivery date and time slot.
    let (delivery_date, shipping_term, slot_label) = if kind == OrderKind::DesiredDelivery {
        let day = at + rng.random_range(3..=7) * DAY_SECS;
        let (term, label) = *pick(rng, &TIME_SLOTS);
        (Some(day), term, label)
    } else {
        (None, 0, "")
    };

    let remarks = remarks_for(rng, kind, &orderer, delivery_date, slot_label);
    let due_dates = match kind {
        OrderKind::KonbiniUnpaid => {
            json!([{ "dueDateType": 0, "dueDate": time::format_date(at + 3 * DAY_SECS) }])
        }
        OrderKind::BankTransfer => {
            json!([{ "dueDateType": 0, "dueDate": time::format_date(at + 7 * DAY_SECS) }])
        }
        _ => json!([]),
    };
    let tax_summary = tax_summary(
        goods_by_rate,
        postage + delivery_price + payment_charge + wrap_total,
        coupon_all,
        used_point,
        unfixed,
    );
    let several = package_count > 1;
    let equal_sender = packages
        .first()
        .is_some_and(|(p, ..)| p.sub_address == orderer.sub_address && !several);
    let noshi = gift.then_some("御祝");
    let package_json: Vec<Value> = packages
        .into_iter()
        .enumerate()
        .map(
            |(index, (recipient, lines, package_listed, package_tax, package_postage))| {
                let package_delivery = if index == 0 { delivery_price } else { 0 };
                // Order-level wrapping is counted in the first package, so the packages add
                // up to the order's goodsPrice.
                let package_goods = package_listed + if index == 0 { wrap_total } else { 0 };
                // v2+: the package total has no COD fee (only version 1 put it in).
                let package_total = if unfixed {
                    UNFIXED
                } else {
                    package_goods + package_postage + package_tax
                };
                let (sender, social) = if social_gift {
                    social_gift_json(rng, &recipient, kind == OrderKind::SocialGiftFilled, at)
                } else {
                    (sender_json(&recipient), Value::Null)
                };
                json!({
                    "basketId": 50_000_000 + serial * 4 + index as u64,
                    "postagePrice": package_postage,
                    "postageTaxRate": 0.1,
                    "deliveryPrice": package_delivery,
                    "deliveryTaxRate": 0.1,
                    "goodsTax": package_tax,
                    "goodsPrice": package_goods,
                    "totalPrice": package_total,
                    "noshi": noshi,
                    "packageDeleteFlag": 0,
                    "SenderModel": sender,
                    "ItemModelList": lines.into_iter().map(|l| l.json).collect::<Vec<_>>(),
                    "ShippingModelList": [],
                    "DeliveryCvsModel": null,
                    "defaultDeliveryCompanyCode": pick(rng, &["1001", "1001", "1002", "1003"]),
                    "dropOffFlag": 0,
                    "dropOffLocation": null,
                    "SocialGiftModel": social,
                })
            },
        )
        .collect();

    json!({
        "orderNumber": order_number,
        "orderProgress": 100,
        "subStatusId": null,
        "subStatusName": null,
        "orderDatetime": time::format_rakuten_datetime(at),
        "shopOrderCfmDatetime": null,
        "orderFixDatetime": null,
        "shippingInstDatetime": null,
        "shippingCmplRptDatetime": null,
        "cancelDueDate": null,
        "deliveryDate": delivery_date.map(time::format_date),
        "shippingTerm": shipping_term,
        "remarks": remarks,
        "giftCheckFlag": i64::from(gift),
        "socialGiftFlag": i64::from(social_gift),
        "severalSenderFlag": i64::from(several),
        "equalSenderFlag": i64::from(equal_sender),
        "isolatedIslandFlag": 0,
        "rakutenMemberFlag": 1,
        "carrierCode": 0,
        "emailCarrierCode": 0,
        "orderType": 1,
        "reserveNumber": null,
        "reserveDeliveryCount": null,
        "cautionDisplayType": 0,
        "cautionDisplayDetailType": null,
        "rakutenConfirmFlag": 0,
        "goodsPrice": goods_price,
        "goodsTax": exclusive_tax,
        "postagePrice": postage,
        "deliveryPrice": delivery_price,
        "paymentCharge": payment_charge,
        "paymentChargeTaxRate": 0.1,
        "totalPrice": reported_total,
        "requestPrice": request,
        "couponAllTotalPrice": coupon_all,
        "couponShopPrice": coupon_shop,
        "couponOtherPrice": coupon_other,
        "additionalFeeOccurAmountToUser": 0,
        "additionalFeeOccurAmountToShop": 0,
        "asurakuFlag": 0,
        "drugFlag": 0,
        "dealFlag": 0,
        "membershipType": 0,
        "memo": null,
        "operator": null,
        "mailPlugSentence": null,
        "modifyFlag": 0,
        "receiptIssueCount": 0,
        "receiptIssueHistoryList": [],
        "OrdererModel": orderer_json(rng, &orderer),
        "SettlementModel": settlement_json(rng, &settlement, at),
        "DeliveryModel": {
            "deliveryName": if kind == OrderKind::Cod { "宅配便（代金引換）" } else { "宅配便" },
            "deliveryClass": 0,
        },
        "PointModel": { "usedPoint": used_point },
        "WrappingModel1": wrapping1.map(|w| w.1),
        "WrappingModel2": wrapping2.map(|w| w.1),
        "PackageModelList": package_json,
        "CouponModelList": coupon_list.into_iter().map(|c| c.json).collect::<Vec<_>>(),
        "ChangeReasonModelList": [],
        "TaxSummaryModelList": tax_summary,
        "DueDateModelList": due_dates,
    })
}

/// Rakuten's placeholder recipient while a social gift waits for input.
const GIFT_PLACEHOLDER: &str = "入力待ち";

/// `SenderModel` and `SocialGiftModel` of a social-gift package: the placeholder while the
/// recipient has not entered their details, the recipient once they have.
fn social_gift_json(
    rng: &mut ChaCha8Rng,
    recipient: &Person,
    filled: bool,
    at: i64,
) -> (Value, Value) {
    let masked: u64 = rng.random();
    let mut gift = json!({
        "sgMngNumber": format!("SG{}", digits(rng, 9)),
        "inputDueDate": time::format_date(at + 7 * DAY_SECS),
        "inputFlag": 0,
        "inputCompDatetime": null,
        "receiverEmailAddress": format!("{masked:016x}@fw.rakuten.ne.jp"),
    });
    if filled {
        gift["inputFlag"] = json!(1);
        gift["inputCompDatetime"] = json!(time::format_rakuten_datetime(at + DAY_SECS));
        (sender_json(recipient), gift)
    } else {
        (placeholder_sender(), gift)
    }
}

/// The `SenderModel` Rakuten sends while a social gift's recipient has not entered their
/// details.
fn placeholder_sender() -> Value {
    json!({
        "zipCode1": "999",
        "zipCode2": "9999",
        "prefecture": GIFT_PLACEHOLDER,
        "city": GIFT_PLACEHOLDER,
        "subAddress": GIFT_PLACEHOLDER,
        "familyName": GIFT_PLACEHOLDER,
        "firstName": "",
        "familyNameKana": "",
        "firstNameKana": "",
        "phoneNumber1": "999",
        "phoneNumber2": "9999",
        "phoneNumber3": "9999",
        "isolatedIslandFlag": 0,
    })
}

/// The recipient fills in a waiting social gift: every package whose `SocialGiftModel` has
/// `inputFlag` 0 gets a (deterministic, invented) recipient, `inputFlag` 1 and
/// `inputCompDatetime` = `now`. Returns how many packages changed.
pub fn fill_social_gift(order: &mut Value, now: i64) -> usize {
    let seed = order
        .get("orderNumber")
        .and_then(Value::as_str)
        .map_or(0, |n| {
            n.bytes()
                .fold(0_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let Some(packages) = order
        .get_mut("PackageModelList")
        .and_then(Value::as_array_mut)
    else {
        return 0;
    };
    let mut filled = 0;
    for package in packages {
        let waiting = package
            .pointer("/SocialGiftModel/inputFlag")
            .and_then(Value::as_i64)
            == Some(0);
        if !waiting {
            continue;
        }
        package["SenderModel"] = sender_json(&person(&mut rng, false));
        package["SocialGiftModel"]["inputFlag"] = json!(1);
        package["SocialGiftModel"]["inputCompDatetime"] = json!(time::format_rakuten_datetime(now));
        filled += 1;
    }
    filled
}

fn person_clone(p: &Person) -> Person {
    Person {
        family: p.family.clone(),
        first: p.first.clone(),
        family_kana: p.family_kana.clone(),
        first_kana: p.first_kana.clone(),
        place: p.place,
        sub_address: p.sub_address.clone(),
        phone: p.phone.clone(),
    }
}

fn remarks_for(
    rng: &mut ChaCha8Rng,
    kind: OrderKind,
    orderer: &Person,
    delivery_date: Option<i64>,
    slot_label: &str,
) -> String {
    match kind {
        OrderKind::DesiredDelivery => {
            let day = delivery_date.unwrap_or(0);
            format!(
                "[配送日時指定:]\n{}({}) {slot_label}",
                time::format_date(day),
                time::weekday_ja(day)
            )
        }
        OrderKind::GiftWrap => format!(
            "[のし:]\n表書き：御祝\n名入れ：{}\n[ギフト包装:]\n希望する\n[メッセージカード:]\nお誕生日おめでとうございます。",
            orderer.family
        ),
        OrderKind::EmojiText => format!(
            "プレゼント用です{} よろしくお願いします{} ｶﾞｲｿｳ ﾌﾖｳ ｢至急｣ でお願いします",
            pick(rng, &EMOJI),
            pick(rng, &EMOJI)
        ),
        _ => (*pick(
            rng,
            &[
                "",
                "",
                "",
                "よろしくお願いします。",
                "[配送日時指定:]\n指定なし",
                "不在の場合は宅配ボックスへお願いします。",
            ],
        ))
        .to_owned(),
    }
}

/// One entry per tax rate in use. Fees and wrapping are 10 %; coupons and points are
/// charged to the 10 % group first. The groups add up to the order's true totals.
fn tax_summary(
    goods_by_rate: [i64; 2],
    fees_10: i64,
    coupon_all: i64,
    used_point: i64,
    unfixed: bool,
) -> Value {
    let mut coupon_left = coupon_all;
    let mut points_left = used_point;
    let groups = [
        (10_i64, goods_by_rate[0] + fees_10.max(0)),
        (8, goods_by_rate[1]),
    ];
    let mut out = Vec::new();
    for (percent, group_total) in groups {
        if group_total <= 0 && !(unfixed && percent == 10) {
            continue;
        }
        let coupon = coupon_left.min(group_total);
        coupon_left -= coupon;
        let point = points_left.min(group_total - coupon);
        points_left -= point;
        let req = group_total - coupon - point;
        let (total_json, req_json, req_tax_json) = if unfixed && percent == 10 {
            (json!(UNFIXED), json!(UNFIXED), json!(UNFIXED))
        } else {
            (
                json!(group_total),
                json!(req),
                json!(included_tax(req, percent)),
            )
        };
        out.push(json!({
            "taxRate": tax_rate_json(percent),
            "reqPrice": req_json,
            "reqPriceTax": req_tax_json,
            "totalPrice": total_json,
            "paymentCharge": 0,
            "couponPrice": coupon,
            "point": point,
        }));
    }
    Value::Array(out)
}

// ---------------------------------------------------------------------------------------
// Lines cancelled after the order: totals again

/// Recomputes an order's amounts after its lines changed, with the formulas of
/// [`build_order`]: per package `goodsPrice`, `goodsTax`, `totalPrice`; the order's
/// `goodsPrice`, `goodsTax`, `totalPrice`, `requestPrice` and `TaxSummaryModelList`.
/// Postage, the COD fee, coupons and the payment charge stay what they were (nothing says
/// Rakuten recomputes them on a change); points are lowered only if they would exceed what
/// is left to pay. Unfixed (-9999) totals stay unfixed.
pub fn recompute_totals(order: &mut Value) {
    let wrap = amount(order, "/WrappingModel1/price").unwrap_or(0)
        + amount(order, "/WrappingModel2/price").unwrap_or(0);
    let mut listed_all = 0_i64;
    let mut tax_all = 0_i64;
    let mut goods_by_rate = [0_i64; 2];
    if let Some(packages) = order
        .get_mut("PackageModelList")
        .and_then(Value::as_array_mut)
    {
        for (index, package) in packages.iter_mut().enumerate() {
            let mut listed = 0_i64;
            let mut tax = 0_i64;
            for item in package
                .get("ItemModelList")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let units = amount(item, "/units").unwrap_or(0);
                let price = amount(item, "/price").unwrap_or(0);
                let with_tax = amount(item, "/priceTaxIncl").unwrap_or(price);
                listed += price * units;
                if item.get("includeTaxFlag").and_then(Value::as_i64) == Some(0) {
                    tax += (with_tax - price) * units;
                }
                let eight = item.get("taxRate").and_then(Value::as_f64) == Some(0.08);
                goods_by_rate[usize::from(eight)] += with_tax * units;
            }
            let goods = listed + if index == 0 { wrap } else { 0 };
            let postage = amount(package, "/postagePrice").unwrap_or(0);
            if let Some(map) = package.as_object_mut() {
                map.insert("goodsPrice".into(), json!(goods));
                map.insert("goodsTax".into(), json!(tax));
                if postage != UNFIXED {
                    map.insert("totalPrice".into(), json!(goods + postage + tax));
                }
            }
            listed_all += listed;
            tax_all += tax;
        }
    }
    let postage = amount(order, "/postagePrice").unwrap_or(0);
    let delivery = amount(order, "/deliveryPrice").unwrap_or(0);
    let charge = amount(order, "/paymentCharge").unwrap_or(0);
    let buyer_fee = amount(order, "/additionalFeeOccurAmountToUser").unwrap_or(0);
    let coupon_all = amount(order, "/couponAllTotalPrice").unwrap_or(0);
    let used_point = amount(order, "/PointModel/usedPoint").unwrap_or(0);
    let goods = listed_all + wrap;
    let unfixed = postage == UNFIXED;
    let Some(map) = order.as_object_mut() else {
        return;
    };
    map.insert("goodsPrice".into(), json!(goods));
    map.insert("goodsTax".into(), json!(tax_all));
    if unfixed {
        return;
    }
    let total = goods + postage + tax_all;
    let payable = total + delivery + charge + buyer_fee - coupon_all;
    let points = used_point.min(payable.max(0));
    map.insert("totalPrice".into(), json!(total));
    map.insert("requestPrice".into(), json!(payable - points));
    if points != used_point
        && let Some(point_model) = map.get_mut("PointModel").and_then(Value::as_object_mut)
    {
        point_model.insert("usedPoint".into(), json!(points));
    }
    map.insert(
        "TaxSummaryModelList".into(),
        tax_summary(
            goods_by_rate,
            postage + delivery + charge + wrap,
            coupon_all,
            points,
            false,
        ),
    );
}

// ---------------------------------------------------------------------------------------
// Invariant check (shared with tests and, if useful, the project's own tests).

fn amount(order: &Value, pointer: &str) -> Result<i64, String> {
    match order.pointer(pointer) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| format!("{pointer} is not an integer")),
    }
}

/// Checks Rakuten's four amount formulas (README "Amount invariants"); `Err` names the first
/// broken one. A `-9999` (unfixed) amount is reported as broken too.
pub fn check_amount_invariants(order: &Value) -> Result<(), String> {
    let packages = order
        .get("PackageModelList")
        .and_then(Value::as_array)
        .ok_or("PackageModelList missing")?;
    let mut listed = 0_i64;
    let mut exclusive_tax = 0_i64;
    for package in packages {
        let items = package
            .get("ItemModelList")
            .and_then(Value::as_array)
            .ok_or("ItemModelList missing")?;
        for item in items {
            let units = amount(item, "/units")?;
            let price = amount(item, "/price")?;
            listed += price * units;
            if item.get("includeTaxFlag").and_then(Value::as_i64) == Some(0) {
                exclusive_tax += (amount(item, "/priceTaxIncl")? - price) * units;
            }
        }
    }
    let goods = amount(order, "/goodsPrice")?;
    let postage = amount(order, "/postagePrice")?;
    let delivery = amount(order, "/deliveryPrice")?;
    let charge = amount(order, "/paymentCharge")?;
    let buyer_fee = amount(order, "/additionalFeeOccurAmountToUser")?;
    let wrap1 = amount(order, "/WrappingModel1/price")?;
    let wrap2 = amount(order, "/WrappingModel2/price")?;
    let total = amount(order, "/totalPrice")?;
    let request = amount(order, "/requestPrice")?;
    let coupon_all = amount(order, "/couponAllTotalPrice")?;
    let coupon_shop = amount(order, "/couponShopPrice")?;
    let coupon_other = amount(order, "/couponOtherPrice")?;
    let used_point = amount(order, "/PointModel/usedPoint")?;
    if [goods, postage, delivery, charge, total, request].contains(&UNFIXED) {
        return Err("an amount is unfixed (-9999)".into());
    }
    let expected_goods = listed + wrap1 + wrap2;
    if goods != expected_goods {
        return Err(format!(
            "goodsPrice {goods} != Σ price×units {listed} + wrapping {}",
            wrap1 + wrap2
        ));
    }
    let expected_total = goods + postage + exclusive_tax;
    if total != expected_total {
        return Err(format!(
            "totalPrice {total} != goodsPrice {goods} + postagePrice {postage} + tax of \
             tax-exclusive items {exclusive_tax}"
        ));
    }
    if coupon_all != coupon_shop + coupon_other {
        return Err(format!(
            "couponAllTotalPrice {coupon_all} != {coupon_shop} + {coupon_other}"
        ));
    }
    let expected_request = total + delivery + charge + buyer_fee - used_point - coupon_all;
    if request != expected_request {
        return Err(format!(
            "requestPrice {request} != totalPrice {total} + deliveryPrice {delivery} + \
             paymentCharge {charge} + additionalFeeOccurAmountToUser {buyer_fee} − usedPoint \
             {used_point} − couponAllTotalPrice {coupon_all}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_740_791_700; // 2025-03-01T10:15:00+0900

    fn options(kinds: Option<Vec<OrderKind>>, count: usize) -> GenerateOptions {
        GenerateOptions {
            count: Some(count),
            kinds,
            from: Some("2025-02-01T00:00:00+0900".into()),
            to: Some("2025-03-01T00:00:00+0900".into()),
            ..GenerateOptions::default()
        }
    }

    #[test]
    fn same_seed_same_orders() {
        let a = generate_orders("998877", 1, &options(None, 50), 42, NOW).unwrap();
        let b = generate_orders("998877", 1, &options(None, 50), 42, NOW).unwrap();
        assert_eq!(a, b);
        let c = generate_orders("998877", 1, &options(None, 50), 43, NOW).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn every_kind_keeps_or_breaks_invariants_as_documented() {
        let kinds = OrderKind::ALL.to_vec();
        let orders = generate_orders("998877", 1, &options(Some(kinds), 220), 7, NOW).unwrap();
        for order in &orders {
            let result = check_amount_invariants(&order.json);
            if order.kind.keeps_amount_invariants() {
                assert!(
                    result.is_ok(),
                    "{:?} {}: {result:?}",
                    order.kind,
                    order.order_number
                );
            } else {
                assert!(
                    result.is_err(),
                    "{:?} should break an invariant",
                    order.kind
                );
            }
        }
    }

    #[test]
    fn numbers_dates_and_spread() {
        let orders = generate_orders("998877", 101, &options(None, 30), 1, NOW).unwrap();
        let from = time::parse_rakuten_datetime("2025-02-01T00:00:00+0900").unwrap();
        let to = time::parse_rakuten_datetime("2025-03-01T00:00:00+0900").unwrap();
        let mut last = from;
        for (i, order) in orders.iter().enumerate() {
            let at = order.json["orderDatetime"].as_str().unwrap();
            let secs = time::parse_rakuten_datetime(at).unwrap();
            assert!(secs >= last && secs <= to);
            last = secs;
            let expected = format!("998877-{}-{:010}", time::compact_date(secs), 101 + i);
            assert_eq!(order.order_number, expected);
            assert_eq!(order.json["orderNumber"], expected.as_str());
        }
    }

    #[test]
    fn default_mix_is_mostly_plain() {
        let orders = generate_orders("1", 1, &options(None, 1000), 3, NOW).unwrap();
        let plain = orders.iter().filter(|o| o.kind == OrderKind::Plain).count();
        assert!((600..=800).contains(&plain), "{plain}");
        for kind in OrderKind::ALL {
            assert_eq!(
                orders.iter().any(|o| o.kind == kind),
                DEFAULT_MIX.contains(&kind),
                "{kind:?}: in the default mix exactly when listed in DEFAULT_MIX"
            );
        }
    }

    #[test]
    fn full_width_conversion() {
        assert_eq!(to_full_width("1-2 AB"), "１－２　ＡＢ");
    }
}
