//! Amazon control API types (shared by the sandbox's handlers and [`crate::ControlClient`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /_control/amazon/sellers`: registers (or replaces) a seller and its LWA application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmazonRegisterSellerRequest {
    /// The merchant token (`A2EXAMPLEMERCH`).
    pub seller_id: String,
    /// `amzn1.application-oa2-client.…`
    pub client_id: String,
    pub client_secret: String,
    /// `Atzr|…`
    pub refresh_token: String,
}

/// A seller as the control API reports it (never the secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmazonSellerResponse {
    pub seller_id: String,
    pub order_count: usize,
    pub refresh_token_revoked: bool,
    /// LWA access tokens issued so far.
    pub access_tokens_issued: u64,
    /// Restricted-data tokens issued so far.
    pub restricted_data_tokens_issued: u64,
    /// Requests refused with 429 by the per-operation buckets, by operation name.
    pub throttled: BTreeMap<String, u64>,
    /// Requests admitted by the per-operation buckets, by operation name.
    pub admitted: BTreeMap<String, u64>,
    /// getOrders requests refused for their `LastUpdatedBefore`/`CreatedBefore` (too close to
    /// the sandbox clock, or an offset other than `Z`).
    pub rejected_list_requests: u64,
    /// The smallest gap seen between a getOrders `…Before` and the sandbox clock, in seconds
    /// (`None` before the first getOrders with a `…Before`).
    pub closest_before_gap_secs: Option<i64>,
}

/// Odd orders the generator makes (`AmazonGenerateOptions::kinds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AmazonOrderKind {
    /// Credit card, Unshipped, one or two lines.
    Standard,
    /// Cash on delivery (`PaymentMethod: COD`, a `CODFee`).
    Cod,
    /// Konbini (`PaymentMethod: CVS`), paid: Unshipped.
    Konbini,
    /// Konbini not paid yet: `Pending`, no address, items without prices.
    Pending,
    /// `IsGift: "true"` on its lines.
    Gift,
    /// Fulfilled by Amazon (`FulfillmentChannel: AFN`), Shipped.
    Fba,
    /// `Canceled`.
    Canceled,
    /// A promotion discount and points granted (`PointsGranted`).
    PromotionAndPoints,
    /// Scheduled delivery (`EarliestDeliveryDate`/`LatestDeliveryDate`, `ScheduledDelivery…`).
    Scheduled,
    /// More lines than one getOrderItems page holds (the sandbox pages items by 5 by default).
    ManyLines,
}

impl AmazonOrderKind {
    /// The mix the generator draws from when no kinds are given.
    pub const MIX: [AmazonOrderKind; 14] = [
        Self::Standard,
        Self::Standard,
        Self::Standard,
        Self::Standard,
        Self::Standard,
        Self::Cod,
        Self::Konbini,
        Self::Pending,
        Self::Gift,
        Self::Fba,
        Self::Canceled,
        Self::PromotionAndPoints,
        Self::Scheduled,
        Self::ManyLines,
    ];
}

/// `POST /_control/amazon/sellers/{sellerId}/orders/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AmazonGenerateOptions {
    pub count: u32,
    /// `None`: the sandbox seed.
    pub seed: Option<u64>,
    /// Kinds to cycle through in order; empty: drawn from [`AmazonOrderKind::MIX`].
    pub kinds: Vec<AmazonOrderKind>,
    /// Purchase (and last-update) times are spread over this many minutes, ending
    /// `ends_minutes_ago` before the sandbox clock.
    pub spread_minutes: u32,
    pub ends_minutes_ago: u32,
}

impl Default for AmazonGenerateOptions {
    fn default() -> Self {
        Self {
            count: 10,
            seed: None,
            kinds: Vec::new(),
            spread_minutes: 120,
            ends_minutes_ago: 10,
        }
    }
}

/// Answer of a generate call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmazonGenerateResponse {
    pub order_ids: Vec<String>,
    pub kinds: Vec<AmazonOrderKind>,
}

/// `POST /_control/amazon/sellers/{sellerId}/orders`: one raw order (an SP-API `Order`
/// object with PII parts included) and its items (SP-API `OrderItem` objects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmazonInsertOrderRequest {
    pub order: serde_json::Value,
    pub items: Vec<serde_json::Value>,
}

/// `GET /_control/amazon/sellers/{sellerId}/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmazonOrderIdsResponse {
    pub order_ids: Vec<String>,
}

/// Body of the pay / cancel / ship control calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AmazonOrderEventRequest {
    /// The `LastUpdateDate` to stamp (`YYYY-MM-DDThh:mm:ssZ`); default: the sandbox clock.
    pub at: Option<String>,
}

/// `POST …/orders/{orderId}/buyer-cancel-request`: the buyer asks Amazon to cancel the
/// order. SP-API shows it on each `OrderItem` as `BuyerRequestedCancel:
/// {IsBuyerRequestedCancel: "true", BuyerCancelReason}` (amazon.md §4); the order keeps its
/// status until the seller cancels it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AmazonBuyerCancelRequest {
    /// `BuyerCancelReason` as the buyer gave it.
    pub reason: String,
    /// The `LastUpdateDate` to stamp (`YYYY-MM-DDThh:mm:ssZ`); default: the sandbox clock.
    pub at: Option<String>,
}

/// `POST …/orders/{orderId}/cancel-item`: the seller cancelled one item of the order
/// (shown as `QuantityOrdered` 0, see the state's `cancel_item`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AmazonCancelItemRequest {
    /// The item's `OrderItemId`.
    pub order_item_id: String,
    /// The `LastUpdateDate` to stamp (`YYYY-MM-DDThh:mm:ssZ`); default: the sandbox clock.
    pub at: Option<String>,
}

/// `POST /_control/amazon/clock`: moves the sandbox clock (the 2-minute rule, token expiry,
/// new `LastUpdateDate`s) by `offset_secs` from the real clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AmazonClock {
    pub offset_secs: i64,
}

/// Amazon knobs (`POST /_control/amazon/limits`); the body replaces all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AmazonLimits {
    /// The per-operation token buckets (rates and bursts of amazon.md §7); default on.
    pub rate_limits: bool,
    /// Multiplies every documented rate (not the bursts), and the `x-amzn-RateLimit-Limit`
    /// header with it: tests run the real shape faster. Default 1.0.
    pub rate_scale: f64,
    /// How close to the sandbox clock a `…Before` may be, in seconds (default 120).
    pub before_min_gap_secs: i64,
    /// `true`: times with an offset other than `Z` are accepted. The notes (§8) say the real
    /// API accepts offsets; the issue says it rejects `+09:00`; default `false` (strict).
    pub accept_offsets: bool,
    /// Lines per getOrderItems page (the model gives no number; default 5 so paging shows).
    pub items_page_size: usize,
    /// `true`: getOrder for an unknown id answers 404 (the model) instead of 200 with an
    /// empty payload (what Amazon really does, §4). Default `false`.
    pub unknown_order_404: bool,
    /// Lifetime of LWA access tokens and restricted-data tokens, seconds (default 3600).
    pub token_lifetime_secs: i64,
}

impl Default for AmazonLimits {
    fn default() -> Self {
        Self {
            rate_limits: true,
            rate_scale: 1.0,
            before_min_gap_secs: 120,
            accept_offsets: false,
            items_page_size: 5,
            unknown_order_404: false,
            token_lifetime_secs: 3600,
        }
    }
}

/// One disclosure of personal data (`GET /_control/amazon/pii-log`): which operation served
/// buyer name / address, and under which token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmazonPiiDisclosure {
    pub operation: String,
    pub order_id: String,
    /// Always `true` unless the sandbox itself is broken: PII is only ever served under a
    /// restricted-data token minted for the exact path.
    pub under_restricted_data_token: bool,
}
