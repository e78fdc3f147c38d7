//! Control API: request/response types (shared by the server handlers and the client) and
//! [`ControlClient`], a typed reqwest client for `/_control/...`.
//!
//! The control API is plain JSON without auth; it only exists in the sandbox.

use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::SandboxError;
pub use crate::amazon::types::*;
pub use crate::aupay::types::*;
pub use crate::faults::FaultConfig;
pub use crate::qoo10::types::*;
pub use crate::rakuten::generator::{GenerateOptions, OrderKind};
pub use crate::stats::Stats;
pub use crate::yahoo::types::*;

/// `POST /_control/rakuten/stores`: registers a store, or replaces its key ("renewal":
/// the old key stops working at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterStoreRequest {
    pub shop_id: String,
    pub service_secret: String,
    pub license_key: String,
    /// JST `YYYY-MM-DDThh:mm:ss` (or with `+0900`); default: 23:59:59 JST 90 days from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_expires_at: Option<String>,
}

impl RegisterStoreRequest {
    /// Store with the default 90-day key lifetime.
    pub fn new(
        shop_id: impl Into<String>,
        service_secret: impl Into<String>,
        license_key: impl Into<String>,
    ) -> Self {
        Self {
            shop_id: shop_id.into(),
            service_secret: service_secret.into(),
            license_key: license_key.into(),
            license_expires_at: None,
        }
    }
}

/// A store as the control API reports it (never echoes the secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreResponse {
    pub shop_id: String,
    /// JST `YYYY-MM-DDThh:mm:ss`, as the license API reports it.
    pub license_expires_at: String,
    /// Orders currently stored for the store.
    pub order_count: usize,
}

/// Answer of `POST /_control/rakuten/stores/{shopId}/orders/generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateOrdersResponse {
    /// New order numbers in generation order (= ascending `orderDatetime`).
    pub order_numbers: Vec<String>,
    /// Kind of each order, parallel to `order_numbers`.
    pub kinds: Vec<OrderKind>,
}

/// Body of `POST /_control/rakuten/stores/{shopId}/orders` in its wrapper form.
///
/// A bare OrderModel object (one with a top-level `orderNumber`) is accepted too. The
/// optional fields override the timestamps the sandbox indexes for `searchOrder`, so a
/// deliberately malformed order can still be found by a date search. Formats as on the
/// wire: `YYYY-MM-DDThh:mm:ss+0900`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertOrderRequest {
    /// The raw OrderModel JSON; must be an object with a string `orderNumber`.
    pub order: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_datetime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_order_cfm_datetime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_fix_datetime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_inst_datetime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_cmpl_rpt_datetime: Option<String>,
    /// dateType 6 (payment fixed) has no OrderModel field; this is the only way to set it
    /// besides moving the order to 700.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_fix_datetime: Option<String>,
}

impl InsertOrderRequest {
    /// Stores `order` as-is, indexed by its own timestamps.
    pub fn new(order: serde_json::Value) -> Self {
        Self {
            order,
            ..Self::default()
        }
    }
}

/// Answer of an order insert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertOrderResponse {
    pub order_number: String,
}

/// `GET /_control/rakuten/stores/{shopId}/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNumbersResponse {
    pub order_numbers: Vec<String>,
}

/// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetProgressRequest {
    pub order_progress: i64,
}

/// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/pay`: the buyer paid a
/// prepayment order. `paidAt` (`YYYY-MM-DDThh:mm:ss+0900`) defaults to now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RakutenPayRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
}

/// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/cancel-line`: one line
/// (`itemDetailId`) cancelled on the mall. `changeReason` (0 shop, 1 customer) and
/// `changeReasonDetail` (1 cancel, 8 out of stock …) default to 1 and 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLineRequest {
    pub item_detail_id: i64,
    #[serde(default = "one")]
    pub change_reason: i64,
    #[serde(default = "one")]
    pub change_reason_detail: i64,
}

impl CancelLineRequest {
    /// The customer cancelled this line (changeReason 1, changeReasonDetail 1).
    pub fn by_customer(item_detail_id: i64) -> Self {
        Self {
            item_detail_id,
            change_reason: 1,
            change_reason_detail: 1,
        }
    }
}

fn one() -> i64 {
    1
}

/// What the order API does with one stored order (`POST .../orders/{orderNumber}/fault`).
/// A replaced order (same number inserted again) keeps its fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderFault {
    /// Normal.
    #[default]
    None,
    /// searchOrder does not list it (the mall's search lag); getOrder still returns it.
    HiddenFromSearch,
    /// searchOrder lists it; getOrder does not return it and answers `INFO_102` for its
    /// number, as real Rakuten does for a number it cannot return.
    OmittedFromGetOrder,
    /// getOrder returns its element with `orderNumber: null`, so a client cannot tell which
    /// order it is.
    UnreadableInGetOrder,
}

/// Body of `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetOrderFaultRequest {
    pub fault: OrderFault,
}

/// Body of `POST /_control/lose-replies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoseRepliesRequest {
    /// A `Stats.requests` key, e.g. `"rakuten.confirmOrder"`.
    pub endpoint: String,
    pub count: u32,
}

/// Body of `POST /_control/rakuten/stores/{shopId}/reject-operation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectOperationRequest {
    /// `searchOrder`, `getOrder` or `confirmOrder`.
    pub operation: String,
}

/// Body of `POST /_control/rakuten/stores/{shopId}/order-api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderApiRequest {
    /// `false`: every order API call answers `ES04-01` (楽天ペイ受注API not enabled in RMS).
    pub enabled: bool,
}

/// Shape of the 401 body. The public samples show `Results`/`ES01-01` (the default); the
/// other two are kept for clients written against older guesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthErrorShape {
    /// `{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}` (default; the real
    /// envelope per the public samples).
    #[default]
    Results,
    /// `{"errors":[{"code":"GA0001","message":"Un-Authorised"}]}`.
    Errors,
    /// `{"MessageModelList":[{"messageType":"ERROR","messageCode":"GA0001","message":"Un-Authorised"}]}`.
    MessageModelList,
}

/// Rakuten knobs (`POST /_control/rakuten/limits`). The body replaces all knobs: a missing
/// field goes back to its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RakutenLimits {
    /// Per-store token bucket on the order API; `None` = off (default).
    pub requests_per_second: Option<f64>,
    /// Records past this position of a search can't be fetched (default 15,000).
    pub search_hit_cap: u64,
    /// Largest `requestRecordsAmount` (default 1,000).
    pub max_page_size: u64,
    /// Longest `startDatetime`..`endDatetime` window in days (default 63).
    pub max_window_days: u32,
    /// How far back `startDatetime` may be, in days (default 730).
    pub max_lookback_days: u32,
    /// Envelope of the 401 body.
    pub auth_error_shape: AuthErrorShape,
    /// `true`: the license expiry endpoint answers 401 for an expired key (what one operator
    /// observed); `false` (default): it still reports the past date.
    pub expiry_endpoint_rejects_expired_key: bool,
    /// `true`: confirmOrder refuses orders whose `postagePrice` is -9999 with
    /// `ERROR_105` (one client's comment); default `false`.
    pub confirm_rejects_unfixed_postage: bool,
    /// Page `n` (1-based) of every searchOrder answers 200 with that page's numbers left
    /// out and the same pagination totals: a short listing. `None` (default) = off.
    pub drop_search_page: Option<u32>,
}

impl Default for RakutenLimits {
    fn default() -> Self {
        Self {
            requests_per_second: None,
            search_hit_cap: 15_000,
            max_page_size: 1_000,
            max_window_days: 63,
            max_lookback_days: 730,
            auth_error_shape: AuthErrorShape::Results,
            expiry_endpoint_rejects_expired_key: false,
            confirm_rejects_unfixed_postage: false,
            drop_search_page: None,
        }
    }
}

/// One successful write through a mall API (`GET /_control/rakuten/writes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteRecord {
    /// API operation name, e.g. `"confirmOrder"`.
    pub operation: String,
    pub shop_id: String,
    /// Orders the call actually changed (rejected ones are left out).
    pub order_numbers: Vec<String>,
    /// `YYYY-MM-DDThh:mm:ss+0900`.
    pub at: String,
}

/// Typed client for the control API of a running sandbox (in-process or a separate binary).
#[derive(Debug, Clone)]
pub struct ControlClient {
    base_url: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// `base_url` like `http://127.0.0.1:40123` (a trailing slash is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        // The sandbox is always local: never route it through an environment proxy.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { base_url, http }
    }

    /// The sandbox base URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, segments: &[&str]) -> Result<Url, SandboxError> {
        let mut url = Url::parse(&self.base_url).map_err(|e| SandboxError::Url(format!("{e}")))?;
        url.path_segments_mut()
            .map_err(|()| SandboxError::Url(self.base_url.clone()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
    ) -> Result<R, SandboxError> {
        let mut request = self.http.request(method, self.url(segments)?);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(SandboxError::Control {
                status: status.as_u16(),
                body,
            });
        }
        Ok(response.json().await?)
    }

    async fn get<R: DeserializeOwned>(&self, segments: &[&str]) -> Result<R, SandboxError> {
        self.call::<(), R>(Method::GET, segments, None).await
    }

    async fn post<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<R, SandboxError> {
        self.call(Method::POST, segments, Some(body)).await
    }

    /// `POST /_control/reset`: forget stores, orders, writes, stats, faults and limits.
    pub async fn reset(&self) -> Result<(), SandboxError> {
        let _: serde_json::Value = self.post(&["_control", "reset"], &()).await?;
        Ok(())
    }

    /// `POST /_control/faults`: replace the fault settings (restarts the fault stream).
    pub async fn set_faults(&self, faults: &FaultConfig) -> Result<FaultConfig, SandboxError> {
        self.post(&["_control", "faults"], faults).await
    }

    /// `GET /_control/faults`.
    pub async fn faults(&self) -> Result<FaultConfig, SandboxError> {
        self.get(&["_control", "faults"]).await
    }

    /// `GET /_control/stats`.
    pub async fn stats(&self) -> Result<Stats, SandboxError> {
        self.get(&["_control", "stats"]).await
    }

    /// `POST /_control/rakuten/stores`.
    pub async fn rakuten_register_store(
        &self,
        store: &RegisterStoreRequest,
    ) -> Result<StoreResponse, SandboxError> {
        self.post(&["_control", "rakuten", "stores"], store).await
    }

    /// `POST /_control/rakuten/stores/{shopId}/expire-key`: the key now gets 401.
    pub async fn rakuten_expire_key(&self, shop_id: &str) -> Result<StoreResponse, SandboxError> {
        self.post(
            &["_control", "rakuten", "stores", shop_id, "expire-key"],
            &(),
        )
        .await
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders/generate`.
    pub async fn rakuten_generate_orders(
        &self,
        shop_id: &str,
        options: &GenerateOptions,
    ) -> Result<GenerateOrdersResponse, SandboxError> {
        let path = [
            "_control", "rakuten", "stores", shop_id, "orders", "generate",
        ];
        self.post(&path, options).await
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders` (insert or replace one raw order).
    pub async fn rakuten_insert_order(
        &self,
        shop_id: &str,
        order: &InsertOrderRequest,
    ) -> Result<InsertOrderResponse, SandboxError> {
        let path = ["_control", "rakuten", "stores", shop_id, "orders"];
        self.post(&path, order).await
    }

    /// `GET /_control/rakuten/stores/{shopId}/orders`: all order numbers of the store.
    pub async fn rakuten_order_numbers(
        &self,
        shop_id: &str,
    ) -> Result<OrderNumbersResponse, SandboxError> {
        self.get(&["_control", "rakuten", "stores", shop_id, "orders"])
            .await
    }

    /// `GET /_control/rakuten/stores/{shopId}/orders/{orderNumber}`: the stored JSON.
    pub async fn rakuten_order(
        &self,
        shop_id: &str,
        order_number: &str,
    ) -> Result<serde_json::Value, SandboxError> {
        let path = [
            "_control",
            "rakuten",
            "stores",
            shop_id,
            "orders",
            order_number,
        ];
        self.get(&path).await
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/progress`; returns the
    /// updated order JSON.
    pub async fn rakuten_set_progress(
        &self,
        shop_id: &str,
        order_number: &str,
        order_progress: i64,
    ) -> Result<serde_json::Value, SandboxError> {
        let path = [
            "_control",
            "rakuten",
            "stores",
            shop_id,
            "orders",
            order_number,
            "progress",
        ];
        self.post(&path, &SetProgressRequest { order_progress })
            .await
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/pay`: the buyer paid
    /// (bank transfer or konbini) at `paid_at` (`YYYY-MM-DDThh:mm:ss+0900`, default now);
    /// getPayment answers 30600 決済確定 from then on. Returns the order JSON.
    pub async fn rakuten_pay(
        &self,
        shop_id: &str,
        order_number: &str,
        paid_at: Option<&str>,
    ) -> Result<serde_json::Value, SandboxError> {
        let path = [
            "_control",
            "rakuten",
            "stores",
            shop_id,
            "orders",
            order_number,
            "pay",
        ];
        let request = RakutenPayRequest {
            paid_at: paid_at.map(str::to_owned),
        };
        self.post(&path, &request).await
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/cancel-line`: the line
    /// with this `itemDetailId` is cancelled on the mall (removed, totals recomputed, a
    /// `ChangeReasonModelList` entry added). Returns the updated order JSON.
    pub async fn rakuten_cancel_line(
        &self,
        shop_id: &str,
        order_number: &str,
        item_detail_id: i64,
    ) -> Result<serde_json::Value, SandboxError> {
        let path = [
            "_control",
            "rakuten",
            "stores",
            shop_id,
            "orders",
            order_number,
            "cancel-line",
        ];
        self.post(&path, &CancelLineRequest::by_customer(item_detail_id))
            .await
    }

    /// `POST /_control/rakuten/limits`: replace all Rakuten knobs.
    pub async fn rakuten_set_limits(
        &self,
        limits: &RakutenLimits,
    ) -> Result<RakutenLimits, SandboxError> {
        self.post(&["_control", "rakuten", "limits"], limits).await
    }

    /// `GET /_control/rakuten/limits`.
    pub async fn rakuten_limits(&self) -> Result<RakutenLimits, SandboxError> {
        self.get(&["_control", "rakuten", "limits"]).await
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/fault`: how the order
    /// API treats this order from now on (see [`OrderFault`]).
    pub async fn rakuten_set_order_fault(
        &self,
        shop_id: &str,
        order_number: &str,
        fault: OrderFault,
    ) -> Result<(), SandboxError> {
        let path = [
            "_control",
            "rakuten",
            "stores",
            shop_id,
            "orders",
            order_number,
            "fault",
        ];
        let _: serde_json::Value = self.post(&path, &SetOrderFaultRequest { fault }).await?;
        Ok(())
    }

    /// `POST /_control/lose-replies`: the next `count` requests to `endpoint` (e.g.
    /// `"rakuten.confirmOrder"`) are fully applied, then answered 504 with an HTML body.
    pub async fn lose_replies(&self, endpoint: &str, count: u32) -> Result<(), SandboxError> {
        let request = LoseRepliesRequest {
            endpoint: endpoint.to_owned(),
            count,
        };
        let _: serde_json::Value = self.post(&["_control", "lose-replies"], &request).await?;
        Ok(())
    }

    /// `POST /_control/rakuten/stores/{shopId}/reject-operation`: from now on `operation`
    /// answers 401 `ES01-01` for this store, until the store is registered again (a
    /// renewed key). A key lapsing mid-run.
    pub async fn rakuten_reject_operation(
        &self,
        shop_id: &str,
        operation: &str,
    ) -> Result<(), SandboxError> {
        let path = ["_control", "rakuten", "stores", shop_id, "reject-operation"];
        let request = RejectOperationRequest {
            operation: operation.to_owned(),
        };
        let _: serde_json::Value = self.post(&path, &request).await?;
        Ok(())
    }

    /// `POST /_control/rakuten/stores/{shopId}/order-api`: with `false`, every order API call
    /// of the store answers the gateway's `ES04-01` (the shop has not enabled 楽天ペイ受注API
    /// for the app in RMS) until switched back on.
    pub async fn rakuten_set_order_api_enabled(
        &self,
        shop_id: &str,
        enabled: bool,
    ) -> Result<(), SandboxError> {
        let path = ["_control", "rakuten", "stores", shop_id, "order-api"];
        let _: serde_json::Value = self.post(&path, &OrderApiRequest { enabled }).await?;
        Ok(())
    }

    /// `POST /_control/rakuten/stores/{shopId}/orders/{orderNumber}/social-gift/fill`: the
    /// recipient of a waiting social gift enters their details; returns the updated order.
    pub async fn rakuten_fill_social_gift(
        &self,
        shop_id: &str,
        order_number: &str,
    ) -> Result<serde_json::Value, SandboxError> {
        let path = [
            "_control",
            "rakuten",
            "stores",
            shop_id,
            "orders",
            order_number,
            "social-gift",
            "fill",
        ];
        self.post(&path, &()).await
    }

    /// `GET /_control/rakuten/writes`: successful writes, oldest first.
    pub async fn rakuten_writes(&self) -> Result<Vec<WriteRecord>, SandboxError> {
        self.get(&["_control", "rakuten", "writes"]).await
    }

    async fn get_text(&self, segments: &[&str]) -> Result<String, SandboxError> {
        let response = self.http.get(self.url(segments)?).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(SandboxError::Control {
                status: status.as_u16(),
                body,
            });
        }
        Ok(body)
    }

    async fn post_text<B: Serialize + ?Sized>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<String, SandboxError> {
        let response = self
            .http
            .post(self.url(segments)?)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(SandboxError::Control {
                status: status.as_u16(),
                body,
            });
        }
        Ok(body)
    }

    /// `POST /_control/amazon/sellers`: registers (or replaces) an Amazon seller.
    pub async fn amazon_register_seller(
        &self,
        seller: &AmazonRegisterSellerRequest,
    ) -> Result<AmazonSellerResponse, SandboxError> {
        self.post(&["_control", "amazon", "sellers"], seller).await
    }

    /// `GET /_control/amazon/sellers/{sellerId}`: counters (tokens, buckets, rejected lists).
    pub async fn amazon_seller(
        &self,
        seller_id: &str,
    ) -> Result<AmazonSellerResponse, SandboxError> {
        self.get(&["_control", "amazon", "sellers", seller_id])
            .await
    }

    /// `POST /_control/amazon/sellers/{sellerId}/revoke-refresh-token`: LWA answers
    /// `invalid_grant` from now on, and the tokens already issued stop working.
    pub async fn amazon_revoke_refresh_token(
        &self,
        seller_id: &str,
    ) -> Result<AmazonSellerResponse, SandboxError> {
        self.post(
            &[
                "_control",
                "amazon",
                "sellers",
                seller_id,
                "revoke-refresh-token",
            ],
            &(),
        )
        .await
    }

    /// `POST /_control/amazon/sellers/{sellerId}/expire-tokens`: every access and
    /// restricted-data token issued so far expires now.
    pub async fn amazon_expire_tokens(
        &self,
        seller_id: &str,
    ) -> Result<AmazonSellerResponse, SandboxError> {
        self.post(
            &["_control", "amazon", "sellers", seller_id, "expire-tokens"],
            &(),
        )
        .await
    }

    /// `POST /_control/amazon/sellers/{sellerId}/orders/generate`.
    pub async fn amazon_generate_orders(
        &self,
        seller_id: &str,
        options: &AmazonGenerateOptions,
    ) -> Result<AmazonGenerateResponse, SandboxError> {
        self.post(
            &[
                "_control", "amazon", "sellers", seller_id, "orders", "generate",
            ],
            options,
        )
        .await
    }

    /// `POST /_control/amazon/sellers/{sellerId}/orders`: one raw order and its items.
    pub async fn amazon_insert_order(
        &self,
        seller_id: &str,
        order: &AmazonInsertOrderRequest,
    ) -> Result<AmazonOrderIdsResponse, SandboxError> {
        self.post(
            &["_control", "amazon", "sellers", seller_id, "orders"],
            order,
        )
        .await
    }

    /// `GET /_control/amazon/sellers/{sellerId}/orders`.
    pub async fn amazon_order_ids(
        &self,
        seller_id: &str,
    ) -> Result<AmazonOrderIdsResponse, SandboxError> {
        self.get(&["_control", "amazon", "sellers", seller_id, "orders"])
            .await
    }

    /// `POST …/orders/{orderId}/pay`: Pending → Unshipped, `LastUpdateDate` = `at` or now.
    pub async fn amazon_pay(
        &self,
        seller_id: &str,
        order_id: &str,
        event: &AmazonOrderEventRequest,
    ) -> Result<AmazonOrderIdsResponse, SandboxError> {
        self.post(
            &[
                "_control", "amazon", "sellers", seller_id, "orders", order_id, "pay",
            ],
            event,
        )
        .await
    }

    /// `POST …/orders/{orderId}/cancel`: → Canceled.
    pub async fn amazon_cancel(
        &self,
        seller_id: &str,
        order_id: &str,
        event: &AmazonOrderEventRequest,
    ) -> Result<AmazonOrderIdsResponse, SandboxError> {
        self.post(
            &[
                "_control", "amazon", "sellers", seller_id, "orders", order_id, "cancel",
            ],
            event,
        )
        .await
    }

    /// `POST …/orders/{orderId}/cancel-item`: the seller cancels one item (`QuantityOrdered`
    /// 0, its price off the total); the order keeps its status.
    pub async fn amazon_cancel_item(
        &self,
        seller_id: &str,
        order_id: &str,
        request: &AmazonCancelItemRequest,
    ) -> Result<AmazonOrderIdsResponse, SandboxError> {
        self.post(
            &[
                "_control",
                "amazon",
                "sellers",
                seller_id,
                "orders",
                order_id,
                "cancel-item",
            ],
            request,
        )
        .await
    }

    /// `POST …/orders/{orderId}/buyer-cancel-request`: the buyer asks to cancel; every item
    /// carries `BuyerRequestedCancel`, the status stays.
    pub async fn amazon_buyer_cancel_request(
        &self,
        seller_id: &str,
        order_id: &str,
        request: &AmazonBuyerCancelRequest,
    ) -> Result<AmazonOrderIdsResponse, SandboxError> {
        self.post(
            &[
                "_control",
                "amazon",
                "sellers",
                seller_id,
                "orders",
                order_id,
                "buyer-cancel-request",
            ],
            request,
        )
        .await
    }

    /// `POST /_control/amazon/limits`: replace all Amazon knobs.
    pub async fn amazon_set_limits(
        &self,
        limits: &AmazonLimits,
    ) -> Result<AmazonLimits, SandboxError> {
        self.post(&["_control", "amazon", "limits"], limits).await
    }

    /// `POST /_control/amazon/clock`: the sandbox clock's offset from the real one.
    pub async fn amazon_set_clock(&self, clock: &AmazonClock) -> Result<AmazonClock, SandboxError> {
        self.post(&["_control", "amazon", "clock"], clock).await
    }

    /// `GET /_control/amazon/pii-log`: every response that carried buyer name or address.
    pub async fn amazon_pii_log(&self) -> Result<Vec<AmazonPiiDisclosure>, SandboxError> {
        self.get(&["_control", "amazon", "pii-log"]).await
    }

    /// `POST /_control/yahoo/stores`: registers (or replaces) a Yahoo store.
    pub async fn yahoo_register_store(
        &self,
        store: &YahooRegisterStoreRequest,
    ) -> Result<YahooStoreResponse, SandboxError> {
        self.post(&["_control", "yahoo", "stores"], store).await
    }

    /// `GET /_control/yahoo/stores/{sellerId}`.
    pub async fn yahoo_store(&self, seller_id: &str) -> Result<YahooStoreResponse, SandboxError> {
        self.get(&["_control", "yahoo", "stores", seller_id]).await
    }

    /// `POST /_control/yahoo/stores/{sellerId}/keys`: adds a public key version.
    pub async fn yahoo_add_key(
        &self,
        seller_id: &str,
        key: &YahooAddKeyRequest,
    ) -> Result<YahooStoreResponse, SandboxError> {
        self.post(&["_control", "yahoo", "stores", seller_id, "keys"], key)
            .await
    }

    /// `POST /_control/yahoo/stores/{sellerId}/keys/{version}/revoke`.
    pub async fn yahoo_revoke_key(
        &self,
        seller_id: &str,
        version: u32,
    ) -> Result<YahooStoreResponse, SandboxError> {
        let version = version.to_string();
        let path = [
            "_control", "yahoo", "stores", seller_id, "keys", &version, "revoke",
        ];
        self.post(&path, &()).await
    }

    /// `POST /_control/yahoo/stores/{sellerId}/expire-token`: every access token issued so
    /// far now answers 401 `expired token`.
    pub async fn yahoo_expire_token(
        &self,
        seller_id: &str,
    ) -> Result<YahooStoreResponse, SandboxError> {
        self.post(
            &["_control", "yahoo", "stores", seller_id, "expire-token"],
            &(),
        )
        .await
    }

    /// `POST /_control/yahoo/stores/{sellerId}/revoke-refresh-token`: refreshing now answers
    /// `invalid_grant`.
    pub async fn yahoo_revoke_refresh_token(
        &self,
        seller_id: &str,
    ) -> Result<YahooStoreResponse, SandboxError> {
        let path = [
            "_control",
            "yahoo",
            "stores",
            seller_id,
            "revoke-refresh-token",
        ];
        self.post(&path, &()).await
    }

    /// `POST /_control/yahoo/stores/{sellerId}/orders/generate`.
    pub async fn yahoo_generate_orders(
        &self,
        seller_id: &str,
        options: &YahooGenerateOptions,
    ) -> Result<YahooGenerateResponse, SandboxError> {
        let path = [
            "_control", "yahoo", "stores", seller_id, "orders", "generate",
        ];
        self.post(&path, options).await
    }

    /// `POST /_control/yahoo/stores/{sellerId}/orders`: one raw `<OrderInfo>`.
    pub async fn yahoo_insert_order(
        &self,
        seller_id: &str,
        order: &YahooInsertOrderRequest,
    ) -> Result<YahooInsertOrderResponse, SandboxError> {
        self.post(&["_control", "yahoo", "stores", seller_id, "orders"], order)
            .await
    }

    /// `GET /_control/yahoo/stores/{sellerId}/orders`.
    pub async fn yahoo_order_ids(
        &self,
        seller_id: &str,
    ) -> Result<YahooOrderIdsResponse, SandboxError> {
        self.get(&["_control", "yahoo", "stores", seller_id, "orders"])
            .await
    }

    /// `GET /_control/yahoo/stores/{sellerId}/orders/{orderId}`: the stored `<OrderInfo>` XML.
    pub async fn yahoo_order(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<String, SandboxError> {
        self.get_text(&["_control", "yahoo", "stores", seller_id, "orders", order_id])
            .await
    }

    /// `POST …/orders/{orderId}/pay`: sets `PayStatus` (1 = paid today); returns the XML.
    pub async fn yahoo_set_pay_status(
        &self,
        seller_id: &str,
        order_id: &str,
        pay_status: u8,
    ) -> Result<String, SandboxError> {
        let path = [
            "_control", "yahoo", "stores", seller_id, "orders", order_id, "pay",
        ];
        self.post_text(&path, &YahooSetPayStatusRequest { pay_status })
            .await
    }

    /// `POST …/orders/{orderId}/status`: sets `OrderStatus` as the shop or Yahoo would.
    pub async fn yahoo_set_order_status(
        &self,
        seller_id: &str,
        order_id: &str,
        order_status: u8,
    ) -> Result<String, SandboxError> {
        let path = [
            "_control", "yahoo", "stores", seller_id, "orders", order_id, "status",
        ];
        self.post_text(&path, &YahooSetOrderStatusRequest { order_status })
            .await
    }

    /// `POST …/orders/{orderId}/cancel-line`: the store removes one line on Yahoo; the
    /// totals drop by its cost.
    pub async fn yahoo_cancel_line(
        &self,
        seller_id: &str,
        order_id: &str,
        line_id: u32,
    ) -> Result<String, SandboxError> {
        let path = [
            "_control",
            "yahoo",
            "stores",
            seller_id,
            "orders",
            order_id,
            "cancel-line",
        ];
        self.post_text(&path, &YahooCancelLineRequest { line_id })
            .await
    }

    /// `POST /_control/yahoo/limits`: replace all Yahoo knobs.
    pub async fn yahoo_set_limits(
        &self,
        limits: &YahooLimits,
    ) -> Result<YahooLimits, SandboxError> {
        self.post(&["_control", "yahoo", "limits"], limits).await
    }

    /// `GET /_control/yahoo/limits`.
    pub async fn yahoo_limits(&self) -> Result<YahooLimits, SandboxError> {
        self.get(&["_control", "yahoo", "limits"]).await
    }

    /// `GET /_control/yahoo/quota`: today's requests per application id.
    pub async fn yahoo_quota(&self) -> Result<YahooQuotaResponse, SandboxError> {
        self.get(&["_control", "yahoo", "quota"]).await
    }

    /// `GET /_control/yahoo/writes`: applied order-API writes, oldest first.
    pub async fn yahoo_writes(&self) -> Result<Vec<YahooWriteRecord>, SandboxError> {
        self.get(&["_control", "yahoo", "writes"]).await
    }
    /// `POST /_control/aupay/stores`: registers a store or replaces its key and settings.
    pub async fn aupay_register_store(
        &self,
        store: &AupayRegisterStoreRequest,
    ) -> Result<AupayStoreResponse, SandboxError> {
        self.post(&["_control", "aupay", "stores"], store).await
    }

    /// `GET /_control/aupay/stores/{shopId}`.
    pub async fn aupay_store(&self, shop_id: &str) -> Result<AupayStoreResponse, SandboxError> {
        self.get(&["_control", "aupay", "stores", shop_id]).await
    }

    /// `POST /_control/aupay/stores/{shopId}/expire-key`: the key's 90 days are over; every
    /// call with it now answers 401 / `0002`.
    pub async fn aupay_expire_key(
        &self,
        shop_id: &str,
    ) -> Result<AupayStoreResponse, SandboxError> {
        self.post(&["_control", "aupay", "stores", shop_id, "expire-key"], &())
            .await
    }

    /// `POST /_control/aupay/stores/{shopId}/orders/generate`.
    pub async fn aupay_generate_orders(
        &self,
        shop_id: &str,
        options: &AupayGenerateOptions,
    ) -> Result<AupayGenerateResponse, SandboxError> {
        let path = ["_control", "aupay", "stores", shop_id, "orders", "generate"];
        self.post(&path, options).await
    }

    /// `POST /_control/aupay/stores/{shopId}/orders`: one raw `<orderInfo>`.
    pub async fn aupay_insert_order(
        &self,
        shop_id: &str,
        order: &AupayInsertOrderRequest,
    ) -> Result<AupayInsertOrderResponse, SandboxError> {
        self.post(&["_control", "aupay", "stores", shop_id, "orders"], order)
            .await
    }

    /// `GET /_control/aupay/stores/{shopId}/orders`.
    pub async fn aupay_order_ids(
        &self,
        shop_id: &str,
    ) -> Result<AupayOrderIdsResponse, SandboxError> {
        self.get(&["_control", "aupay", "stores", shop_id, "orders"])
            .await
    }

    /// `GET /_control/aupay/stores/{shopId}/orders/{orderId}`: the stored `<orderInfo>` XML.
    pub async fn aupay_order(&self, shop_id: &str, order_id: &str) -> Result<String, SandboxError> {
        self.get_text(&["_control", "aupay", "stores", shop_id, "orders", order_id])
            .await
    }

    /// `POST …/orders/{orderId}/pay`: the buyer paid today (`paymentDate`); an order in
    /// 発送前入金待ち moves to 発送待ち. Returns the XML.
    pub async fn aupay_pay(&self, shop_id: &str, order_id: &str) -> Result<String, SandboxError> {
        let path = [
            "_control", "aupay", "stores", shop_id, "orders", order_id, "pay",
        ];
        self.post_text(&path, &()).await
    }

    /// `POST …/orders/{orderId}/cancel`: au PAY cancelled the whole order. Returns the XML.
    pub async fn aupay_cancel(
        &self,
        shop_id: &str,
        order_id: &str,
    ) -> Result<String, SandboxError> {
        let path = [
            "_control", "aupay", "stores", shop_id, "orders", order_id, "cancel",
        ];
        self.post_text(&path, &()).await
    }

    /// `POST …/orders/{orderId}/cancel` `{"orderDetailIds": […]}`: au PAY cancelled these
    /// lines (`itemCancelStatus` Y); the order keeps its status. Returns the XML.
    pub async fn aupay_cancel_lines(
        &self,
        shop_id: &str,
        order_id: &str,
        order_detail_ids: &[&str],
    ) -> Result<String, SandboxError> {
        let path = [
            "_control", "aupay", "stores", shop_id, "orders", order_id, "cancel",
        ];
        let body = serde_json::json!({ "orderDetailIds": order_detail_ids });
        self.post_text(&path, &body).await
    }

    /// `POST …/orders/{orderId}/status`: the shop or au PAY moved the order (not recorded as
    /// a client write), e.g. to キャンセル受付中 (a cancellation request).
    pub async fn aupay_set_status(
        &self,
        shop_id: &str,
        order_id: &str,
        order_status: &str,
    ) -> Result<String, SandboxError> {
        let path = [
            "_control", "aupay", "stores", shop_id, "orders", order_id, "status",
        ];
        let body = AupaySetStatusRequest {
            order_status: order_status.to_owned(),
        };
        self.post_text(&path, &body).await
    }

    /// `POST /_control/aupay/limits`: replace all au PAY knobs.
    pub async fn aupay_set_limits(
        &self,
        limits: &AupayLimits,
    ) -> Result<AupayLimits, SandboxError> {
        self.post(&["_control", "aupay", "limits"], limits).await
    }

    /// `GET /_control/aupay/limits`.
    pub async fn aupay_limits(&self) -> Result<AupayLimits, SandboxError> {
        self.get(&["_control", "aupay", "limits"]).await
    }

    /// `POST /_control/aupay/bad-gateway`: the next `count` au PAY requests get the HTML 502
    /// page (load), before any other check.
    pub async fn aupay_bad_gateway(&self, count: u32) -> Result<(), SandboxError> {
        let request = AupayBadGatewayRequest {
            count,
            endpoint: None,
            status: None,
        };
        let _: AupayBadGatewayRequest = self
            .post(&["_control", "aupay", "bad-gateway"], &request)
            .await?;
        Ok(())
    }

    /// Like [`Self::aupay_bad_gateway`], for one endpoint only (e.g. `aupay.updateTradeStsProc`):
    /// a 502 in the middle of a run.
    pub async fn aupay_bad_gateway_on(
        &self,
        endpoint: &str,
        count: u32,
    ) -> Result<(), SandboxError> {
        let request = AupayBadGatewayRequest {
            count,
            endpoint: Some(endpoint.to_owned()),
            status: None,
        };
        let _: AupayBadGatewayRequest = self
            .post(&["_control", "aupay", "bad-gateway"], &request)
            .await?;
        Ok(())
    }

    /// `POST /_control/aupay/bad-gateway` in full: `count` pages, for one endpoint or all,
    /// with the given HTTP status (200 = a page passed through as a success).
    pub async fn aupay_set_bad_gateway(
        &self,
        request: &AupayBadGatewayRequest,
    ) -> Result<AupayBadGatewayRequest, SandboxError> {
        self.post(&["_control", "aupay", "bad-gateway"], request)
            .await
    }

    /// `GET /_control/aupay/writes`: applied order-API writes, oldest first.
    pub async fn aupay_writes(&self) -> Result<Vec<AupayWriteRecord>, SandboxError> {
        self.get(&["_control", "aupay", "writes"]).await
    }

    /// `POST /_control/qoo10/stores`: registers (or replaces) a Qoo10 seller.
    pub async fn qoo10_register_store(
        &self,
        store: &Qoo10RegisterStoreRequest,
    ) -> Result<Qoo10StoreResponse, SandboxError> {
        self.post(&["_control", "qoo10", "stores"], store).await
    }

    /// `GET /_control/qoo10/stores/{sellerId}`.
    pub async fn qoo10_store(&self, seller_id: &str) -> Result<Qoo10StoreResponse, SandboxError> {
        self.get(&["_control", "qoo10", "stores", seller_id]).await
    }

    /// `POST /_control/qoo10/stores/{sellerId}/expire-key`: every certification key issued so
    /// far is past its expiry (`ResultCode -90004`).
    pub async fn qoo10_expire_key(
        &self,
        seller_id: &str,
    ) -> Result<Qoo10StoreResponse, SandboxError> {
        self.post(
            &["_control", "qoo10", "stores", seller_id, "expire-key"],
            &(),
        )
        .await
    }

    /// `POST /_control/qoo10/stores/{sellerId}/password`: a new QSM password; every
    /// certification key stops working and the old password no longer issues one.
    pub async fn qoo10_change_password(
        &self,
        seller_id: &str,
        password: &str,
    ) -> Result<Qoo10StoreResponse, SandboxError> {
        let body = serde_json::json!({ "password": password });
        self.post(
            &["_control", "qoo10", "stores", seller_id, "password"],
            &body,
        )
        .await
    }

    /// `POST /_control/qoo10/stores/{sellerId}/items`: adds or replaces an item.
    pub async fn qoo10_put_item(
        &self,
        seller_id: &str,
        item: &Qoo10Item,
    ) -> Result<Qoo10StoreResponse, SandboxError> {
        self.post(&["_control", "qoo10", "stores", seller_id, "items"], item)
            .await
    }

    /// `POST /_control/qoo10/stores/{sellerId}/orders`: raw v2 rows.
    pub async fn qoo10_insert_rows(
        &self,
        seller_id: &str,
        rows: &Qoo10InsertRowsRequest,
    ) -> Result<Qoo10CartsResponse, SandboxError> {
        self.post(&["_control", "qoo10", "stores", seller_id, "orders"], rows)
            .await
    }

    /// `GET /_control/qoo10/stores/{sellerId}/orders`: every line as the by-order-number
    /// call shows it.
    pub async fn qoo10_lines(
        &self,
        seller_id: &str,
    ) -> Result<Vec<serde_json::Value>, SandboxError> {
        self.get(&["_control", "qoo10", "stores", seller_id, "orders"])
            .await
    }

    /// `POST /_control/qoo10/stores/{sellerId}/orders/generate`.
    pub async fn qoo10_generate_orders(
        &self,
        seller_id: &str,
        options: &Qoo10GenerateOptions,
    ) -> Result<Qoo10CartsResponse, SandboxError> {
        let path = [
            "_control", "qoo10", "stores", seller_id, "orders", "generate",
        ];
        self.post(&path, options).await
    }

    /// `POST …/carts/{packNo}/pay`: the buyer pays an unpaid cart.
    pub async fn qoo10_pay_cart(
        &self,
        seller_id: &str,
        pack_no: i64,
    ) -> Result<Vec<serde_json::Value>, SandboxError> {
        let pack_no = pack_no.to_string();
        let path = [
            "_control", "qoo10", "stores", seller_id, "carts", &pack_no, "pay",
        ];
        self.post(&path, &()).await
    }

    /// `POST …/carts/{packNo}/claim`: a claim on every line of the cart.
    pub async fn qoo10_claim_cart(
        &self,
        seller_id: &str,
        pack_no: i64,
        claim: &Qoo10ClaimRequest,
    ) -> Result<Vec<serde_json::Value>, SandboxError> {
        let pack_no = pack_no.to_string();
        let path = [
            "_control", "qoo10", "stores", seller_id, "carts", &pack_no, "claim",
        ];
        self.post(&path, claim).await
    }

    /// `POST …/orders/{orderNo}/claim`: a claim on one line.
    pub async fn qoo10_claim_line(
        &self,
        seller_id: &str,
        order_no: i64,
        claim: &Qoo10ClaimRequest,
    ) -> Result<Vec<serde_json::Value>, SandboxError> {
        let order_no = order_no.to_string();
        let path = [
            "_control", "qoo10", "stores", seller_id, "orders", &order_no, "claim",
        ];
        self.post(&path, claim).await
    }

    /// `POST /_control/qoo10/limits`: replace all Qoo10 knobs.
    pub async fn qoo10_set_limits(
        &self,
        limits: &Qoo10Limits,
    ) -> Result<Qoo10Limits, SandboxError> {
        self.post(&["_control", "qoo10", "limits"], limits).await
    }

    /// `GET /_control/qoo10/calls`: every answered API call, oldest first, secrets left out.
    pub async fn qoo10_calls(&self) -> Result<Vec<Qoo10CallRecord>, SandboxError> {
        self.get(&["_control", "qoo10", "calls"]).await
    }

    /// `GET /_control/qoo10/writes`: applied seller confirmations, oldest first.
    pub async fn qoo10_writes(&self) -> Result<Vec<Qoo10WriteRecord>, SandboxError> {
        self.get(&["_control", "qoo10", "writes"]).await
    }
}
