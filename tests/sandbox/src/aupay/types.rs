//! Control-API request and response types of the au PAY sandbox (re-exported by
//! [`crate::control`]).

use serde::{Deserialize, Serialize};

pub use super::RequestDateFormat;
pub use super::generator::{AupayGenerateOptions, AupayOrderKind};

/// An API group (API区分) a key may lack the right to (aupay.md §1, [1S]): calling an API
/// of a denied group answers 401 / `0002` while the same key works for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AupayApiGroup {
    /// 受注情報取得: `searchTradeInfoListProc`, `searchTradeInfoProc`.
    TradeSearch,
    /// 受注情報更新: `updateTradeStsProc`.
    TradeUpdate,
}

/// `POST /_control/aupay/stores`: registers a store (or replaces its key and settings; the
/// orders stay). Several stores may belong to one shop, each with its own key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayRegisterStoreRequest {
    /// The numeric store id (`shopId`, up to 18 digits).
    pub shop_id: String,
    /// The API key issued in Wow!manager, sent as `Authorization: Bearer <key>`.
    pub api_key: String,
    /// `YYYY/MM/DD HH:MM` JST; default: 90 days from now (the key's documented lifetime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_expires_at: Option<String>,
    /// API groups this key has no right to.
    #[serde(default)]
    pub denied_api_groups: Vec<AupayApiGroup>,
    /// Whether the caller's source IP is registered (接続元IPアドレス). `false` makes every
    /// call answer like a bad key, the way clients report it.
    #[serde(default = "yes")]
    pub source_ip_registered: bool,
}

fn yes() -> bool {
    true
}

impl AupayRegisterStoreRequest {
    /// A store with a fresh 90-day key, every API group allowed, the IP registered.
    pub fn new(shop_id: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            shop_id: shop_id.into(),
            api_key: api_key.into(),
            key_expires_at: None,
            denied_api_groups: Vec::new(),
            source_ip_registered: true,
        }
    }
}

/// A store as the control API reports it (never echoes the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayStoreResponse {
    pub shop_id: String,
    /// `YYYY/MM/DD HH:MM` JST.
    pub key_expires_at: String,
    pub denied_api_groups: Vec<AupayApiGroup>,
    pub source_ip_registered: bool,
    pub order_count: usize,
}

/// Answer of `POST /_control/aupay/stores/{shopId}/orders/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayGenerateResponse {
    /// New order ids in generation order (= ascending `orderDate`).
    pub order_ids: Vec<String>,
    pub kinds: Vec<AupayOrderKind>,
}

/// `POST /_control/aupay/stores/{shopId}/orders`: stores one raw `<orderInfo>` element as the
/// list returns it. `orderDate` (`YYYY/MM/DD HH:MM`) indexes it for the date search when the
/// XML's own is unreadable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayInsertOrderRequest {
    pub xml: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayInsertOrderResponse {
    pub order_id: String,
}

/// `GET /_control/aupay/stores/{shopId}/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayOrderIdsResponse {
    pub order_ids: Vec<String>,
}

/// `POST …/orders/{orderId}/status`: the shop or au PAY moved the order (e.g. to
/// `キャンセル受付中` or `不正取引審査中`). Not recorded as a client write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupaySetStatusRequest {
    pub order_status: String,
}

/// `POST /_control/aupay/bad-gateway`: the next `count` mall requests (to `endpoint` only,
/// e.g. `aupay.updateTradeStsProc`, when given) answer au PAY's HTML 502 page (0 clears it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayBadGatewayRequest {
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The page's HTTP status: 502 by default; 200 models a gateway page passed through with
    /// a success status (a client sees only "not XML").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// How `resultCount` is filled (its meaning is disputed among clients; aupay.md §3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResultCountMeaning {
    /// Every match of the search (the notes' default).
    #[default]
    Total,
    /// The `orderInfo` elements on this page.
    Page,
}

/// au PAY knobs (`POST /_control/aupay/limits`); the body replaces all knobs, a missing field
/// goes back to its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AupayLimits {
    /// Per shop; `None` (default) = off: au PAY documents no limit. Over it, the HTML 502 page.
    pub requests_per_second_per_shop: Option<f64>,
    /// Largest `totalCount` (page size) accepted: 1,000 by default (what five clients send;
    /// whether the real cap is 500 is unknown).
    pub max_total_count: u32,
    /// The `startDate`/`endDate` shapes accepted (default: both).
    pub request_date_format: RequestDateFormat,
    pub result_count: ResultCountMeaning,
    /// Whether a payment moves an order waiting in `発送前入金待ち` on to `発送待ち` by itself
    /// (default `true`: production data shows paid orders in 発送待ち, aupay.md §3d). Who
    /// moves it is not public; `false` leaves it for the shop's `updateTradeStsProc`.
    pub payment_moves_status: bool,
    /// Orders whose `updateTradeStsProc` the sandbox refuses for good with a business error
    /// (an order locked by an edit in Wow!manager): a write refused by the mall.
    pub refuse_status_change: Vec<String>,
}

impl Default for AupayLimits {
    fn default() -> Self {
        Self {
            requests_per_second_per_shop: None,
            max_total_count: 1_000,
            request_date_format: RequestDateFormat::Either,
            result_count: ResultCountMeaning::Total,
            payment_moves_status: true,
            refuse_status_change: Vec::new(),
        }
    }
}

/// One order-API write the sandbox applied (`GET /_control/aupay/writes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AupayWriteRecord {
    /// `updateTradeStsProc`.
    pub operation: String,
    pub shop_id: String,
    pub order_id: String,
    /// The status before the write.
    pub from_status: String,
    /// The status written (Japanese name).
    pub order_status: String,
    /// `YYYY/MM/DD HH:MM` JST.
    pub at: String,
}
