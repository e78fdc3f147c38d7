//! Yahoo! Shopping through the Store API (ShoppingWebService V1, `shared/malls/yahoo.md`).
//!
//! - Auth: YConnect v2 access token (1 hour) as `Authorization: Bearer`, refreshed from the
//!   store's refresh token and cached in memory; the public-key headers `X-sws-signature` /
//!   `X-sws-signature-version` on every order call.
//! - Listing: `orderList` by order time (`YYYYMMDDHHMMSS` JST), offset paging, checked against
//!   `TotalCount`.
//! - Details: `orderInfo`, one order per call, run a few at a time within the per-URL rate.
//! - Acknowledgement: `orderStatusChange` to 2 処理中 for new (unseen) orders, with the store's
//!   `IsPointFix`.
//! - Rate: 1 query/s per URL and 50,000 requests/day per application id; the day's calls are
//!   counted per store and the cap is a clear, non-retried error.

mod client;
pub mod normalise;
/// The XML element tree is shared with au PAY (`crate::xml`); re-exported for existing paths.
pub use crate::xml;

use std::collections::HashSet;

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use ichigen_core::mall::{
    AckOutcome, Acknowledgement, FetchOutcome, FetchedOrder, ListedOrder, MallCapabilities,
    NormaliseError, Normalised,
};
use ichigen_core::order::RawPayload;
use ichigen_core::ports::SecretValue;
use ichigen_core::{JstInstant, Mall, MallError, MallId, Order, StoreRef, TimeWindow};
use jiff::SignedDuration;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::Value;

use self::client::{Api, ErrorBody, YahooClient};
use self::xml::Element;
use crate::connect::{ClientSettings, ConnectError};
use crate::secret::SecretFields;

/// Yahoo's answers and our raw payloads are UTF-8 XML.
pub const CONTENT_TYPE: &str = "application/xml";
/// Production API base (the test environment is `https://test.circus.shopping.yahooapis.jp`).
pub const API_BASE: &str = "https://circus.shopping.yahooapis.jp";
/// Production YConnect base.
pub const AUTH_BASE: &str = "https://auth.login.yahoo.co.jp";
/// Requests per application id per day (yahoo.md §7).
pub const DEFAULT_DAILY_QUOTA: u64 = 50_000;
/// Orders per orderList page. The official page documents no upper limit; public clients use
/// up to 2,000, so 1,000 stays well inside what is known to work.
pub const PAGE_SIZE: u64 = 1_000;
/// orderInfo calls in flight at once. The per-URL token bucket still spaces them one second
/// apart; running a few at once only hides each call's latency, so the floor (1 order/s) is
/// reached even when Yahoo takes longer than a second to answer.
pub const CONCURRENCY: usize = 4;
/// Orders the import hands over per fetch/acknowledge call. Yahoo itself takes one order per
/// call; a batch is fetched with [`CONCURRENCY`] calls in flight. Small, because the import
/// acknowledges one batch while it fetches the next (two URLs, each 1 query/s): the first
/// fetch and the last acknowledgement are the only calls not overlapped. 20 gave 0.70× the
/// 1 order/s floor on 100 orders, 4 gives 0.91× (`scripts/bench.sh`).
pub const BATCH_SIZE: usize = 4;
/// No documented window limit; 30 days keeps one search's total (and so its paging) bounded.
pub const MAX_WINDOW_DAYS: i64 = 30;
/// No documented history limit; Store Creator Pro shows about two years of orders [INF].
pub const HISTORY_DAYS: i64 = 730;
/// The mall status new orders sit in until acknowledged (2 処理中, `IsSeen` false).
pub const IN_PROCESS: &str = "2";
/// Fields the import asks orderList for.
const LIST_FIELDS: &str = "OrderId,OrderTime,OrderStatus,IsSeen";
/// Fields the import asks orderInfo for: everything the normaliser reads.
pub const INFO_FIELDS: &str = "OrderId,Version,OrderTime,LastUpdateTime,OrderStatus,StoreStatus,\
CancelReason,CancelReasonDetail,IsSeen,IsActive,BuyerComments,PayStatus,SettleStatus,PayType,\
PayKind,PayMethod,PayMethodName,PayDate,PaymentTerm,BillFirstName,BillLastName,\
BillFirstNameKana,BillLastNameKana,BillZipCode,BillPrefecture,BillCity,BillAddress1,\
BillAddress2,BillPhoneNumber,BillMailAddress,ShipStatus,ShipMethod,ShipMethodName,\
ShipRequestDate,ShipRequestTime,ShipRequestTimeZoneCode,ShipCompanyCode,ShipInvoiceNumber1,\
ShipDate,ShipFirstName,ShipLastName,ShipFirstNameKana,ShipLastNameKana,ShipZipCode,\
ShipPrefecture,ShipCity,ShipAddress1,ShipAddress2,ShipPhoneNumber,GiftWrapType,\
GiftWrapMessage,GiftWrapPaperType,GiftWrapName,PayCharge,ShipCharge,GiftWrapCharge,Discount,\
Adjustments,TotalMallCouponDiscount,UsePoint,TotalPrice,SettleAmount,LineId,ItemId,Title,\
SubCode,Quantity,UnitPrice,ItemTaxRatio,CouponDiscount,ItemOption";

/// A Yahoo store's credentials and settings, read from its secret:
/// `{"sellerId", "clientId", "clientSecret", "refreshToken", "publicKey" (PEM),
/// "publicKeyVersion", "isPointFix" (optional, default false), "dailyQuota" (optional)}`.
pub struct YahooCredentials {
    pub seller_id: String,
    pub client_id: String,
    pub client_secret: SecretValue,
    pub refresh_token: SecretValue,
    pub public_key: RsaPublicKey,
    pub public_key_version: u32,
    /// `IsPointFix` sent with the post-import status change.
    pub is_point_fix: bool,
    /// Requests per day this store may use (default 50,000: one application id per store).
    pub daily_quota: Option<u64>,
}

impl std::fmt::Debug for YahooCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YahooCredentials")
            .field("seller_id", &self.seller_id)
            .field("public_key_version", &self.public_key_version)
            .field("is_point_fix", &self.is_point_fix)
            .finish_non_exhaustive()
    }
}

/// The fields a Yahoo store's secret must have (`isPointFix` and `dailyQuota` are optional).
const REQUIRED_SECRET_FIELDS: [&str; 6] = [
    "sellerId",
    "clientId",
    "clientSecret",
    "refreshToken",
    "publicKey",
    "publicKeyVersion",
];

impl YahooCredentials {
    /// Reads the store's secret JSON. Errors name the field, never its value.
    pub fn from_secret(store: &StoreRef, secret: &SecretValue) -> Result<Self, ConnectError> {
        let fields = SecretFields::parse(store, secret, &REQUIRED_SECRET_FIELDS)?;
        let seller_id = fields.required_text("sellerId")?;
        let client_id = fields.required_text("clientId")?;
        let client_secret = SecretValue::new(fields.required_text("clientSecret")?);
        let refresh_token = SecretValue::new(fields.required_text("refreshToken")?);
        let pem = fields.required_text("publicKey")?;
        let public_key = RsaPublicKey::from_public_key_pem(&pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(&pem))
            .map_err(|_| {
                fields.bad(
                    "publicKey",
                    "is not an RSA public key PEM (-----BEGIN PUBLIC KEY----- or \
                     -----BEGIN RSA PUBLIC KEY-----)",
                )
            })?;
        let public_key_version = match fields.get("publicKeyVersion") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| fields.bad("publicKeyVersion", "must be a whole number"))?;
        let is_point_fix = fields.flag("isPointFix")?.unwrap_or(false);
        let daily_quota = match fields.get("dailyQuota") {
            None => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| fields.bad("dailyQuota", "must be a positive whole number"))?,
            ),
            Some(other) => return Err(fields.wrong_kind("dailyQuota", "a number", other)),
        };
        Ok(Self {
            seller_id,
            client_id,
            client_secret,
            refresh_token,
            public_key,
            public_key_version,
            is_point_fix,
            daily_quota,
        })
    }
}

/// One Yahoo store, through its real API. Holds the store's token cache, rate buckets and
/// daily tally: build one per store and reuse it.
#[derive(Debug)]
pub struct YahooMall {
    client: YahooClient,
    /// Orders Yahoo accepted in an acknowledgement batch that then failed as a whole: the
    /// import asks for them again, and they are answered from here without a second write.
    settled: std::sync::Mutex<HashSet<String>>,
    is_point_fix: bool,
    page_size: u64,
}

impl YahooMall {
    /// `api_base` is [`API_BASE`] and `auth_base` [`AUTH_BASE`] in production.
    pub fn new(
        store: StoreRef,
        credentials: YahooCredentials,
        api_base: &str,
        auth_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let is_point_fix = credentials.is_point_fix;
        Ok(Self {
            client: YahooClient::new(store, credentials, api_base, auth_base, settings)?,
            settled: std::sync::Mutex::new(HashSet::new()),
            is_point_fix,
            page_size: PAGE_SIZE,
        })
    }

    /// A smaller orderList page (tests: to cross page boundaries with few orders).
    pub fn with_page_size(mut self, page_size: u64) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Requests this store sent today (JST), token refreshes and retries included: what the
    /// store used of the application's daily quota.
    pub fn calls_today(&self) -> u64 {
        self.client.calls_today()
    }

    fn store_ref(&self) -> &StoreRef {
        self.client.store()
    }

    fn list_request(&self, window: TimeWindow, start: u64) -> Element {
        let compact = |at: JstInstant| at.civil().strftime("%Y%m%d%H%M%S").to_string();
        Element::new("Req")
            .with(
                Element::new("Search")
                    .with(Element::leaf("Result", self.page_size.to_string()))
                    .with(Element::leaf("Start", start.to_string()))
                    .with(Element::leaf("Sort", "+order_time"))
                    .with(
                        Element::new("Condition")
                            .with(Element::leaf("OrderTimeFrom", compact(window.start)))
                            .with(Element::leaf("OrderTimeTo", compact(window.end))),
                    )
                    .with(Element::leaf("Field", LIST_FIELDS)),
            )
            .with(Element::leaf("SellerId", self.client.seller_id()))
    }

    fn incomplete(&self, detail: String) -> MallError {
        MallError::Incomplete {
            store: self.store_ref().clone(),
            operation: "orderList".into(),
            detail,
        }
    }

    /// Lists one window (≤ [`MAX_WINDOW_DAYS`]) page by page, checking every page against the
    /// first page's `TotalCount`.
    async fn list_window(
        &self,
        window: TimeWindow,
        out: &mut Vec<String>,
    ) -> Result<(), MallError> {
        let mut start = 1_u64;
        let mut total: Option<u64> = None;
        let mut listed = 0_u64;
        loop {
            let answer = self
                .client
                .call(Api::OrderList, &self.list_request(window, start))
                .await?;
            let search = self.search_of(&answer)?;
            let page_total = search
                .child_text("TotalCount")
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| MallError::BadResponse {
                    store: self.store_ref().clone(),
                    operation: "orderList".into(),
                    detail: "Search has no readable TotalCount".into(),
                })?;
            let expected = *total.get_or_insert(page_total);
            if page_total != expected {
                return Err(self.incomplete(format!(
                    "TotalCount changed from {expected} to {page_total} while paging {window}"
                )));
            }
            let mut on_page = 0_u64;
            for info in search.children_named("OrderInfo") {
                match info.child_text("OrderId").filter(|id| !id.is_empty()) {
                    Some(id) => out.push(id.to_owned()),
                    None => {
                        return Err(MallError::BadResponse {
                            store: self.store_ref().clone(),
                            operation: "orderList".into(),
                            detail: "an OrderInfo has no OrderId".into(),
                        });
                    }
                }
                on_page += 1;
            }
            listed += on_page;
            if listed >= expected || start.saturating_add(self.page_size) > expected {
                break;
            }
            if on_page == 0 {
                break;
            }
            start += self.page_size;
        }
        let expected = total.unwrap_or(0);
        if listed != expected {
            return Err(self.incomplete(format!(
                "orderList returned {listed} of the {expected} orders it counted in {window}"
            )));
        }
        tracing::info!(store = %self.store_ref(), %window, total = expected, calls_today = self.calls_today(), "listed window");
        Ok(())
    }

    /// `<Result><Status>OK</Status><Search>…` or the error it carries.
    fn search_of<'a>(&self, answer: &'a Element) -> Result<&'a Element, MallError> {
        let status = answer.child_text("Status").unwrap_or("");
        if status != "OK" {
            return Err(MallError::Rejected {
                store: self.store_ref().clone(),
                operation: "orderList".into(),
                detail: format!("Status {status:?}: {}", ErrorBody::of(answer).describe()),
            });
        }
        answer
            .child("Search")
            .ok_or_else(|| MallError::BadResponse {
                store: self.store_ref().clone(),
                operation: "orderList".into(),
                detail: "the answer has no Search element".into(),
            })
    }

    /// One orderInfo call: the order, or why Yahoo did not return it.
    async fn fetch_one(&self, order_id: &str) -> Result<Result<FetchedOrder, String>, MallError> {
        let request = Element::new("Req")
            .with(
                Element::new("Target")
                    .with(Element::leaf("OrderId", order_id))
                    .with(Element::leaf("Field", INFO_FIELDS)),
            )
            .with(Element::leaf("SellerId", self.client.seller_id()));
        let answer = self.client.call(Api::OrderInfo, &request).await?;
        let result = answer.child("Result").unwrap_or(&answer);
        if result.child_text("Status") != Some("OK") {
            return Ok(Err(ErrorBody::of(&answer).describe()));
        }
        let Some(info) = result.child("OrderInfo") else {
            return Ok(Err("orderInfo answered OK without an OrderInfo".into()));
        };
        if info.child_text("OrderId") != Some(order_id) {
            return Ok(Err(format!(
                "orderInfo returned another order ({:?})",
                info.child_text("OrderId").unwrap_or("")
            )));
        }
        Ok(Ok(FetchedOrder {
            mall_order_id: order_id.to_owned(),
            payload: RawPayload {
                content_type: CONTENT_TYPE.into(),
                body: info.to_xml(),
            },
        }))
    }

    async fn acknowledge_one(&self, order_id: &str) -> Result<AckOutcome, MallError> {
        let request = Element::new("Req")
            .with(
                Element::new("Target")
                    .with(Element::leaf("OrderId", order_id))
                    .with(Element::leaf("IsPointFix", self.is_point_fix.to_string()))
                    .with(Element::leaf("OperationUser", "ichigen")),
            )
            .with(Element::new("Order").with(Element::leaf("OrderStatus", IN_PROCESS)))
            .with(Element::leaf("SellerId", self.client.seller_id()));
        let answer = match self.client.call(Api::OrderStatusChange, &request).await {
            Ok(answer) => answer,
            // A refusal of this one order (400) is that order's outcome, not the batch's.
            Err(MallError::Rejected { detail, .. })
                if !detail.starts_with(client::QUOTA_PREFIX) =>
            {
                return Ok(AckOutcome::Rejected { reason: detail });
            }
            Err(error) => return Err(error),
        };
        let result = answer.child("Result").unwrap_or(&answer);
        if result.child_text("Status") == Some("OK") {
            return Ok(AckOutcome::Accepted);
        }
        Ok(ack_refusal(&ErrorBody::of(&answer)))
    }
}

/// The daily quota ends a list or fetch for good (a final error: the run stops, nothing is
/// retried until a later run). Acknowledgements are different: the import records a final
/// error on each order as "a person must look", and would never send them again. The quota
/// resets at midnight JST, so for acknowledgements it is reported as retryable: the import
/// keeps its checkpoint and a later run (not an immediate retry) acknowledges them.
fn quota_for_acknowledgement(error: MallError) -> MallError {
    match error {
        MallError::Rejected {
            store,
            operation,
            detail,
        } if detail.starts_with(client::QUOTA_PREFIX) => MallError::Unavailable {
            store,
            operation,
            attempts: 1,
            detail: format!("{detail}; the acknowledgement is sent by a later run"),
        },
        other => other,
    }
}

/// What a refused status change means. Yahoo's codes for these cases are not documented;
/// the message is read for the two cases that matter (yahoo.md §3c; sandbox README).
fn ack_refusal(error: &ErrorBody) -> AckOutcome {
    let message = error.message.to_ascii_lowercase();
    if message.contains("cancel") || error.message.contains("キャンセル") {
        AckOutcome::Cancelled {
            reason: format!("Yahoo says the order is cancelled: {}", error.describe()),
        }
    } else if message.contains("complete") || error.message.contains("完了") {
        AckOutcome::NotNeeded {
            reason: format!("the order already moved on: {}", error.describe()),
        }
    } else {
        AckOutcome::Rejected {
            reason: error.describe(),
        }
    }
}

#[async_trait]
impl Mall for YahooMall {
    fn store(&self) -> &StoreRef {
        self.store_ref()
    }

    fn capabilities(&self) -> MallCapabilities {
        MallCapabilities {
            max_window: SignedDuration::from_hours(24 * MAX_WINDOW_DAYS),
            history_limit: SignedDuration::from_hours(24 * HISTORY_DAYS),
            listing_delay: SignedDuration::ZERO,
            // Undocumented; a few minutes of overlap costs one more page at most.
            search_lag: SignedDuration::from_mins(5),
            detail_batch_size: BATCH_SIZE,
            acknowledgement: Some("orderStatusChange"),
            lists_changes: false,
        }
    }

    async fn list_orders(&self, window: TimeWindow) -> Result<Vec<ListedOrder>, MallError> {
        let mut ids = Vec::new();
        for piece in window.split(SignedDuration::from_hours(24 * MAX_WINDOW_DAYS)) {
            self.list_window(piece, &mut ids).await?;
        }
        let mut seen = HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        Ok(ids.into_iter().map(ListedOrder::id).collect())
    }

    async fn fetch_orders(&self, mall_order_ids: &[String]) -> Result<FetchOutcome, MallError> {
        // The first error (the daily quota, a lapsed credential) stops the batch: no new call
        // starts after it.
        let results: Vec<_> = stream::iter(mall_order_ids.iter().cloned())
            .map(|id| async move { self.fetch_one(&id).await.map(|result| (id, result)) })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut outcome = FetchOutcome::default();
        for (id, result) in results {
            match result {
                Ok(order) => outcome.orders.push(order),
                Err(message) => outcome.missing.push((id, message)),
            }
        }
        tracing::info!(store = %self.store_ref(), requested = mall_order_ids.len(), returned = outcome.orders.len(), calls_today = self.calls_today(), "fetched orders");
        Ok(outcome)
    }

    fn normalise(
        &self,
        payload: &RawPayload,
        imported_at: JstInstant,
    ) -> Result<Normalised, NormaliseError> {
        let element = xml::parse(&payload.body).map_err(|e| NormaliseError {
            mall: MallId::Yahoo,
            mall_order_id: String::new(),
            field: "(payload)".into(),
            problem: format!("is not XML ({e})"),
        })?;
        let order =
            normalise::normalise_order(self.store_ref(), &element, payload.clone(), imported_at)?;
        Ok(Normalised {
            orders: vec![order],
        })
    }

    /// New orders: 2 処理中 and not yet seen. Pre-orders (1 予約中) stay as the shop left them.
    fn needs_acknowledgement(&self, order: &Order) -> bool {
        order.mall_status.code == IN_PROCESS
            && xml::parse(&order.raw.body)
                .map(|raw| raw.child_text("IsSeen") != Some("true"))
                .unwrap_or(false)
    }

    async fn acknowledge(&self, orders: &[Order]) -> Result<Vec<Acknowledgement>, MallError> {
        let mall_order_ids: &[String] = &orders
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>();
        let mut acknowledgements = Vec::with_capacity(mall_order_ids.len());
        let mut to_send = Vec::with_capacity(mall_order_ids.len());
        {
            let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
            for id in mall_order_ids {
                if settled.remove(id) {
                    acknowledgements.push(Acknowledgement {
                        mall_order_id: id.clone(),
                        outcome: AckOutcome::Accepted,
                    });
                } else {
                    to_send.push(id.clone());
                }
            }
        }
        // After an error no new call starts (the daily quota, a lapsed credential), but the
        // calls already in flight are waited for: Yahoo may have applied them, and an answer
        // dropped here would send the same write again on the next run.
        let stopped = std::sync::atomic::AtomicBool::new(false);
        let stopped = &stopped;
        let mut answers = stream::iter(to_send)
            .map(|id| async move {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    return None;
                }
                Some(self.acknowledge_one(&id).await.map(|outcome| (id, outcome)))
            })
            .buffered(CONCURRENCY);
        let mut failure = None;
        while let Some(answer) = answers.next().await {
            match answer {
                Some(Ok((id, outcome))) => acknowledgements.push(Acknowledgement {
                    mall_order_id: id,
                    outcome,
                }),
                Some(Err(error)) => {
                    stopped.store(true, std::sync::atomic::Ordering::SeqCst);
                    failure.get_or_insert(error);
                }
                None => {}
            }
        }
        if let Some(error) = failure {
            // The import will ask again for the whole batch: remember what Yahoo already
            // accepted, so the next call does not send it twice.
            let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
            for ack in &acknowledgements {
                if ack.outcome == AckOutcome::Accepted {
                    settled.insert(ack.mall_order_id.clone());
                }
            }
            return Err(quota_for_acknowledgement(error));
        }
        let accepted = acknowledgements
            .iter()
            .filter(|a| a.outcome == AckOutcome::Accepted)
            .count();
        tracing::info!(store = %self.store_ref(), requested = mall_order_ids.len(), accepted, calls_today = self.calls_today(), "acknowledged orders");
        Ok(acknowledgements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_outcomes() {
        let error = |message: &str| ErrorBody {
            code: "x".into(),
            message: message.into(),
        };
        assert!(matches!(
            ack_refusal(&error("the order is cancelled (OrderStatus 4)")),
            AckOutcome::Cancelled { .. }
        ));
        assert!(matches!(
            ack_refusal(&error("the order is completed")),
            AckOutcome::NotNeeded { .. }
        ));
        assert!(matches!(
            ack_refusal(&error("something else")),
            AckOutcome::Rejected { reason } if reason == "x (something else)"
        ));
    }
}
