//! Control-API request and response types of the Yahoo sandbox (re-exported by
//! [`crate::control`]).

use serde::{Deserialize, Serialize};

pub use super::generator::{YahooGenerateOptions, YahooOrderKind};

/// `POST /_control/yahoo/stores`: registers a store (or replaces it: every old token, key and
/// order of that seller id is forgotten).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooRegisterStoreRequest {
    /// The store account (`SellerId`), e.g. `snbx-store` or `sample-store`.
    pub seller_id: String,
    /// The YConnect application id (also the daily quota's key).
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// The private half of the store's public key (PKCS#8 or PKCS#1 PEM); the test generates
    /// the pair and keeps the public half for the client. Empty: the sandbox generates a pair
    /// (1024 bits, quick even in debug builds) and answers with the public half, for callers
    /// without an RSA library (the local demo).
    #[serde(default)]
    pub private_key_pem: String,
    /// `X-sws-signature-version` the key answers to.
    pub key_version: u32,
}

/// A store as the control API reports it (never echoes secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooStoreResponse {
    pub seller_id: String,
    pub client_id: String,
    pub order_count: usize,
    /// Key versions registered, with whether each is revoked.
    pub keys: Vec<YahooKeyState>,
    /// Access tokens issued so far (refreshes).
    pub tokens_issued: u64,
    /// The public key (SPKI PEM) of a pair the sandbox generated at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_public_key_pem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooKeyState {
    pub version: u32,
    pub revoked: bool,
}

/// `POST /_control/yahoo/stores/{sellerId}/keys`: adds another key (Yahoo allows two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooAddKeyRequest {
    pub private_key_pem: String,
    pub key_version: u32,
}

/// Answer of `POST /_control/yahoo/stores/{sellerId}/orders/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooGenerateResponse {
    /// New order ids in generation order (= ascending `OrderTime`).
    pub order_ids: Vec<String>,
    pub kinds: Vec<YahooOrderKind>,
}

/// `POST /_control/yahoo/stores/{sellerId}/orders`: stores one raw `<OrderInfo>` element as
/// orderInfo returns it (groups `Pay`, `Ship`, `Detail`, repeated `Item`). `orderTime`
/// (`YYYY-MM-DDThh:mm:ss+09:00`) indexes it for orderList when the XML's own is unreadable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooInsertOrderRequest {
    pub xml: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooInsertOrderResponse {
    pub order_id: String,
}

/// `POST /_control/yahoo/stores/{sellerId}/orders/{orderId}/pay`: the buyer paid (or the
/// payment was undone): `PayStatus` 1 with `PayDate` now, or 0 without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooSetPayStatusRequest {
    pub pay_status: u8,
}

/// `POST /_control/yahoo/stores/{sellerId}/orders/{orderId}/status`: the shop (or Yahoo)
/// moved the order, e.g. to 4 キャンセル.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooSetOrderStatusRequest {
    pub order_status: u8,
}

/// `POST /_control/yahoo/stores/{sellerId}/orders/{orderId}/cancel-line`: the store
/// removed one line on Yahoo (注文内容変更).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooCancelLineRequest {
    /// The line's `LineId`.
    pub line_id: u32,
}

/// `GET /_control/yahoo/stores/{sellerId}/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooOrderIdsResponse {
    pub order_ids: Vec<String>,
}

/// Yahoo knobs (`POST /_control/yahoo/limits`); the body replaces all knobs, a missing field
/// goes back to its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct YahooLimits {
    /// Per URL and application id; `None` = off. Default 1.0 (the help text's 1 query/s).
    pub requests_per_second_per_url: Option<f64>,
    /// Requests per application id per JST day (default 50,000). Counted on every order-API
    /// request that got past the token check.
    pub daily_quota: u64,
    /// How far the signature's unix time may be from the sandbox clock, in seconds (default
    /// 600; Yahoo's own tolerance is not documented).
    pub signature_tolerance_secs: i64,
    /// Access-token lifetime in seconds (default 3,600).
    pub access_token_lifetime_secs: i64,
    /// Largest `Result` (page size) accepted (default 2,000; the official page says there is
    /// no upper limit, clients use 10..2,000).
    pub max_result: u64,
    /// Orders whose `orderStatusChange` the sandbox refuses for good, the way Yahoo refuses an
    /// order it holds for review (a business error, not a 5xx): a write refused by the mall.
    pub refuse_status_change: Vec<String>,
}

impl Default for YahooLimits {
    fn default() -> Self {
        Self {
            requests_per_second_per_url: Some(1.0),
            daily_quota: 50_000,
            signature_tolerance_secs: 600,
            access_token_lifetime_secs: 3_600,
            max_result: 2_000,
            refuse_status_change: Vec::new(),
        }
    }
}

/// One order-API write the sandbox applied (`GET /_control/yahoo/writes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooWriteRecord {
    /// `orderStatusChange`.
    pub operation: String,
    pub seller_id: String,
    pub order_id: String,
    pub order_status: u8,
    pub is_point_fix: bool,
    pub operation_user: Option<String>,
    /// `YYYY-MM-DDThh:mm:ss+09:00`.
    pub at: String,
}

/// `GET /_control/yahoo/quota`: requests counted today per application id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YahooQuotaResponse {
    pub day: String,
    pub used: std::collections::BTreeMap<String, u64>,
}
