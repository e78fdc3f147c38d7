//! Control-API request and response types of the Qoo10 sandbox (re-exported by
//! [`crate::control`]).

use serde::{Deserialize, Serialize};

pub use super::generator::{Qoo10GenerateOptions, Qoo10OrderKind};

/// `POST /_control/qoo10/stores`: registers a seller (or replaces it: every certification key
/// and order of that seller id is forgotten).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10RegisterStoreRequest {
    /// The QSM seller id (`sellerID` in order rows).
    pub seller_id: String,
    /// The API key Qoo10 staff issue ("API ID"); sent as `GiosisCertificationKey` to
    /// `CertificationAPI.CreateCertificationKey`.
    pub api_key: String,
    /// QSM login (`user_id`) and password (`pwd`).
    pub user_id: String,
    pub password: String,
}

/// A seller as the control API reports it (never echoes secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10StoreResponse {
    pub seller_id: String,
    /// Order lines stored (cancelled ones included).
    pub line_count: usize,
    pub item_count: usize,
    /// Certification keys issued so far.
    pub keys_issued: u64,
}

/// `POST /_control/qoo10/stores/{sellerId}/items`: an item and its configured carrier (the
/// carrier of the item's shipping group, what an unpaid order's rows leave empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10Item {
    /// Qoo10's item number (`itemCode` in rows, `ItemCode` in item methods).
    pub item_code: String,
    /// 販売者商品コード.
    #[serde(default)]
    pub seller_code: String,
    #[serde(default)]
    pub title: String,
    /// Carrier name of the item's shipping group; empty = none configured.
    #[serde(default)]
    pub delivery_company: String,
}

/// `POST /_control/qoo10/stores/{sellerId}/orders`: raw v2 rows (one per line), as the list
/// would return them. Rows are stored as given; `orderNo`, `packNo`, `orderDate` are
/// required, `shippingStatus` defaults from `PaymentDate` (empty = 1, else 2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10InsertRowsRequest {
    pub rows: Vec<serde_json::Value>,
}

/// Answer of the insert and generate calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10CartsResponse {
    /// Carts (`packNo`) made, in order.
    pub pack_nos: Vec<i64>,
    /// Their lines (`orderNo`), cart by cart.
    pub order_nos: Vec<Vec<i64>>,
    /// Kind of each generated cart (empty for inserted rows).
    #[serde(default)]
    pub kinds: Vec<Qoo10OrderKind>,
}

/// `POST …/carts/{packNo}/claim` and `POST …/orders/{orderNo}/claim`: a claim as the buyer
/// or Qoo10 makes it. `claimStat` 1 キャンセル要請 (the line stays listed), 3 キャンセル完了
/// and 16 unpaid-order cancel (the line vanishes from the shipping lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10ClaimRequest {
    pub claim_stat: u8,
    #[serde(default)]
    pub reason: String,
}

/// Sandbox knobs (`POST /_control/qoo10/limits`). Facts the notes mark as one source or
/// inferred are configurable here, with the notes' default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Qoo10Limits {
    /// Calls per second per seller; `None` = unlimited. Qoo10 publishes no limit (I): over it,
    /// the sandbox answers HTTP 200 with `busyResultCode`, so the client's busy path is used.
    pub requests_per_second: Option<f64>,
    /// `ResultCode` of the busy answer (I: no source shows one).
    pub busy_result_code: i64,
    /// Longest search span in days (V for claims, I for shipping searches).
    pub max_search_days: i64,
    /// `ResultCode` of a span over `maxSearchDays` on GetShippingInfo_v2 (conflict: −10003 by
    /// the claim table, −10002 by one project's v3 table).
    pub shipping_span_error_code: i64,
    /// `ResultCode` of an unreadable date on GetShippingInfo_v2 (−10002 or −10001, same conflict).
    pub shipping_date_error_code: i64,
    /// What `ShippingStat` 0 or empty lists (conflict: guide EN 1–2, KR 1–3; default 1–3).
    pub status_zero_means: Vec<u8>,
    /// Rows one search returns at most, silently cut (I: no paging and no documented cap;
    /// `None` = all).
    pub max_rows: Option<usize>,
    /// Life of a certification key (V: one year).
    pub key_lifetime_secs: i64,
    /// Latest `EstShipDt` SetSellerCheckYN_V2 accepts, in days from today (1: an OMS manual).
    pub est_ship_max_days: i64,
    /// `shippingStatus` as `On request(2)` (V for v2) or the bare digit.
    pub long_status: bool,
}

impl Default for Qoo10Limits {
    fn default() -> Self {
        Self {
            requests_per_second: None,
            busy_result_code: -99999,
            max_search_days: 90,
            shipping_span_error_code: -10003,
            shipping_date_error_code: -10002,
            status_zero_means: vec![1, 2, 3],
            max_rows: None,
            key_lifetime_secs: 365 * 86_400,
            est_ship_max_days: 10,
            long_status: true,
        }
    }
}

/// One API call the sandbox answered (after auth), for tests to check what a client sent.
/// Secrets (`key`, `pwd`, `GiosisCertificationKey`) are never recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10CallRecord {
    /// `ShippingBasic.GetShippingInfo_v2` as the client spelled it.
    pub method: String,
    pub seller_id: String,
    /// Every parameter but the secrets, in the order sent.
    pub params: Vec<(String, String)>,
    /// The `ResultCode` (or `ErrorCode`) answered.
    pub result_code: i64,
}

/// A write a client made (SetSellerCheckYN_V2), applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Qoo10WriteRecord {
    pub method: String,
    pub seller_id: String,
    pub order_no: i64,
    /// `EstShipDt` as sent.
    pub est_ship_dt: String,
}
