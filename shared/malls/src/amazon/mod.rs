//! Amazon.co.jp through the Selling Partner API (Orders v0, `shared/malls/amazon.md`).
//!
//! - Auth: Login with Amazon refresh-token exchange (1-hour access token, cached) and
//!   `x-amz-access-token`; no SigV4. Personal data (buyer name, address) only under a
//!   restricted-data token minted per batch for the exact `getOrder` paths.
//! - Listing: `getOrders` by `LastUpdatedAfter`/`LastUpdatedBefore` in UTC, never closer than
//!   two minutes to now, `NextToken` paging (100 per page). Each listed order carries its
//!   `OrderStatus`, so an order stored as `Pending` that Amazon now lists as `Unshipped` is
//!   refreshed by the import (a status change, not a duplicate).
//! - Details: `getOrder` (under the RDT) and `getOrderItems` (own `NextToken`) per order; the
//!   raw payload is `{"order": Order, "orderItems": [OrderItem…]}`.
//! - Rates: each operation its own bucket with the documented rate and burst; the reported
//!   `x-amzn-RateLimit-Limit` is followed. Floor: getOrder and getOrderItems are 0.5/s each
//!   (burst 30), in parallel buckets, so 0.5 orders/s after the burst.
//! - Post-import: none (Amazon has no acknowledgement for seller-fulfilled orders).

mod client;
pub mod normalise;

use std::collections::HashMap;

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use ichigen_core::mall::{
    AckOutcome, Acknowledgement, FetchOutcome, FetchedOrder, ListedOrder, MallCapabilities,
    NormaliseError, Normalised,
};
use ichigen_core::order::RawPayload;
use ichigen_core::ports::SecretValue;
use ichigen_core::{JstInstant, Mall, MallError, MallId, Order, StoreRef, TimeWindow};
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};

use self::client::{AmazonClient, Answer, GET_ORDER, GET_ORDER_ITEMS, GET_ORDERS};
use crate::connect::{ClientSettings, ConnectError};
use crate::secret::SecretFields;

/// Raw payloads are JSON.
pub const CONTENT_TYPE: &str = "application/json";
/// SP-API's Far East endpoint (JP).
pub const API_BASE: &str = "https://sellingpartnerapi-fe.amazon.com";
/// Login with Amazon (the same host for every SP-API region, §1.1).
pub const AUTH_BASE: &str = "https://api.amazon.com";
/// Amazon.co.jp.
pub const MARKETPLACE_JP: &str = "A1VC38T7YXB528";
/// Amazon refuses a `…Before` closer than this to its clock (§3).
pub const LISTING_DELAY: SignedDuration = SignedDuration::from_mins(2);
/// Kept on top of [`LISTING_DELAY`] for clock skew between us and Amazon.
pub const CLOCK_SKEW_MARGIN: SignedDuration = SignedDuration::from_secs(60);
/// Orders per page (the maximum, §3).
pub const PAGE_SIZE: u32 = 100;
/// Orders per fetch batch: one restricted-data token (≤ 50 resources, two an order; 1/s
/// burst 10) covers a batch.
pub const BATCH_SIZE: usize = 10;
/// Orders fetched at once within a batch; the buckets still pace the calls, this only hides
/// each call's latency.
pub const CONCURRENCY: usize = 4;
/// No documented window limit; 30 days keeps one listing's paging bounded.
pub const MAX_WINDOW_DAYS: i64 = 30;
/// No documented history limit for getOrders [INF]; two years like the other malls.
pub const HISTORY_DAYS: i64 = 730;

/// The fields an Amazon store's secret must have.
const REQUIRED_SECRET_FIELDS: [&str; 3] = ["clientId", "clientSecret", "refreshToken"];

/// An Amazon store's credentials, read from its secret:
/// `{"clientId", "clientSecret", "refreshToken", "marketplaceId" (optional, default JP)}`.
pub struct AmazonCredentials {
    pub client_id: String,
    pub client_secret: SecretValue,
    pub refresh_token: SecretValue,
    pub marketplace_id: String,
}

impl std::fmt::Debug for AmazonCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonCredentials")
            .field("marketplace_id", &self.marketplace_id)
            .finish_non_exhaustive()
    }
}

impl AmazonCredentials {
    /// Reads the store's secret JSON. Errors name the field, never its value; every missing
    /// field is reported before any bad value.
    pub fn from_secret(store: &StoreRef, secret: &SecretValue) -> Result<Self, ConnectError> {
        let fields = SecretFields::parse(store, secret, &REQUIRED_SECRET_FIELDS)?;
        Ok(Self {
            client_id: fields.required_text("clientId")?,
            client_secret: SecretValue::new(fields.required_text("clientSecret")?),
            refresh_token: SecretValue::new(fields.required_text("refreshToken")?),
            marketplace_id: fields
                .text("marketplaceId")?
                .unwrap_or_else(|| MARKETPLACE_JP.to_owned()),
        })
    }
}

/// SP-API's request time: `YYYY-MM-DDThh:mm:ssZ` (UTC; Amazon is strict about it).
fn utc(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One Amazon store, through SP-API. Holds the token cache and the operations' buckets:
/// build one per store and reuse it.
#[derive(Debug)]
pub struct AmazonMall {
    client: AmazonClient,
    marketplace_id: String,
}

impl AmazonMall {
    /// `api_base` is [`API_BASE`] and `auth_base` [`AUTH_BASE`] in production.
    pub fn new(
        store: StoreRef,
        credentials: AmazonCredentials,
        api_base: &str,
        auth_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let marketplace_id = credentials.marketplace_id.clone();
        Ok(Self {
            client: AmazonClient::new(store, credentials, api_base, auth_base, settings)?,
            marketplace_id,
        })
    }

    fn store_ref(&self) -> &StoreRef {
        self.client.store()
    }

    fn bad_response(&self, operation: &str, detail: String) -> MallError {
        MallError::BadResponse {
            store: self.store_ref().clone(),
            operation: operation.into(),
            detail,
        }
    }

    /// Lists one window by update time, page by page; `(id, OrderStatus)` in list order.
    async fn list_window(
        &self,
        window: TimeWindow,
        now: Timestamp,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), MallError> {
        let latest = now
            .checked_sub(LISTING_DELAY + CLOCK_SKEW_MARGIN)
            .unwrap_or(now);
        let after = window.start.timestamp();
        let before = window.end.timestamp().min(latest);
        if before <= after {
            return Ok(());
        }
        let first = vec![
            ("MarketplaceIds", self.marketplace_id.clone()),
            ("LastUpdatedAfter", utc(after)),
            ("LastUpdatedBefore", utc(before)),
            ("MaxResultsPerPage", PAGE_SIZE.to_string()),
        ];
        let mut query = first;
        let mut pages = 0_u32;
        loop {
            let answer = self
                .client
                .call(
                    GET_ORDERS,
                    Method::GET,
                    "/orders/v0/orders",
                    &query,
                    None,
                    None,
                )
                .await?;
            let Answer::Ok(value) = answer else {
                return Err(self.bad_response(GET_ORDERS.name, "HTTP 404".into()));
            };
            pages += 1;
            let payload = value.get("payload").ok_or_else(|| {
                self.bad_response(GET_ORDERS.name, "the answer has no payload".into())
            })?;
            let orders = payload
                .get("Orders")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    self.bad_response(GET_ORDERS.name, "payload has no Orders".into())
                })?;
            for order in orders {
                let id = order.get("AmazonOrderId").and_then(Value::as_str);
                let status = order.get("OrderStatus").and_then(Value::as_str);
                match (id, status) {
                    (Some(id), Some(status)) if !id.is_empty() => {
                        out.push((id.to_owned(), status.to_owned()));
                    }
                    _ => {
                        return Err(self.bad_response(
                            GET_ORDERS.name,
                            "an order has no AmazonOrderId or OrderStatus".into(),
                        ));
                    }
                }
            }
            match payload.get("NextToken").and_then(Value::as_str) {
                Some(token) if !token.is_empty() => {
                    query = vec![
                        ("MarketplaceIds", self.marketplace_id.clone()),
                        ("NextToken", token.to_owned()),
                    ];
                }
                _ => break,
            }
        }
        tracing::info!(store = %self.store_ref(), %window, pages, "listed window");
        Ok(())
    }

    /// getOrder (under `rdt`) and every getOrderItems page: the payload, or why not.
    async fn fetch_one(
        &self,
        order_id: &str,
        rdt: &reqwest::header::HeaderValue,
    ) -> Result<Result<FetchedOrder, String>, MallError> {
        let path = format!("/orders/v0/orders/{order_id}");
        let order = match self
            .client
            .call(GET_ORDER, Method::GET, &path, &[], None, Some(rdt))
            .await?
        {
            Answer::Ok(value) => value.get("payload").cloned().unwrap_or(Value::Null),
            Answer::NotFound(message) => return Ok(Err(message)),
        };
        // An unknown (or not visible) id is 200 with an empty payload (§4).
        if order.get("AmazonOrderId").and_then(Value::as_str) != Some(order_id) {
            return Ok(Err(
                "Amazon returned no order for this id (empty payload)".into()
            ));
        }
        let items_path = format!("{path}/orderItems");
        let mut items = Vec::new();
        let mut query: Vec<(&str, String)> = Vec::new();
        loop {
            let page = match self
                .client
                .call(
                    GET_ORDER_ITEMS,
                    Method::GET,
                    &items_path,
                    &query,
                    None,
                    Some(rdt),
                )
                .await?
            {
                Answer::Ok(value) => value.get("payload").cloned().unwrap_or(Value::Null),
                Answer::NotFound(message) => return Ok(Err(message)),
            };
            let list = page
                .get("OrderItems")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    self.bad_response(
                        GET_ORDER_ITEMS.name,
                        format!("order {order_id}: payload has no OrderItems"),
                    )
                })?;
            items.extend(list.iter().cloned());
            match page.get("NextToken").and_then(Value::as_str) {
                Some(token) if !token.is_empty() => query = vec![("NextToken", token.to_owned())],
                _ => break,
            }
        }
        Ok(Ok(FetchedOrder {
            mall_order_id: order_id.to_owned(),
            payload: RawPayload {
                content_type: CONTENT_TYPE.into(),
                body: json!({"order": order, "orderItems": items}).to_string(),
            },
        }))
    }
}

#[async_trait]
impl Mall for AmazonMall {
    fn store(&self) -> &StoreRef {
        self.store_ref()
    }

    fn capabilities(&self) -> MallCapabilities {
        MallCapabilities {
            max_window: SignedDuration::from_hours(24 * MAX_WINDOW_DAYS),
            history_limit: SignedDuration::from_hours(24 * HISTORY_DAYS),
            listing_delay: LISTING_DELAY + CLOCK_SKEW_MARGIN,
            // Undocumented; orders already stored with the same status cost nothing.
            search_lag: SignedDuration::from_mins(10),
            detail_batch_size: BATCH_SIZE,
            acknowledgement: None,
            // getOrders by LastUpdatedAfter: a payment or a cancellation lists the order again.
            lists_changes: true,
        }
    }

    async fn list_orders(&self, window: TimeWindow) -> Result<Vec<ListedOrder>, MallError> {
        let now = Timestamp::now();
        let mut listed = Vec::new();
        for piece in window.split(SignedDuration::from_hours(24 * MAX_WINDOW_DAYS)) {
            self.list_window(piece, now, &mut listed).await?;
        }
        // An order updated twice may show in two pieces: the later status wins.
        let mut position: HashMap<String, usize> = HashMap::new();
        let mut orders: Vec<ListedOrder> = Vec::new();
        for (id, status) in listed {
            match position.get(&id) {
                Some(&at) => orders[at] = ListedOrder::id(id).with_mall_status(status),
                None => {
                    position.insert(id.clone(), orders.len());
                    orders.push(ListedOrder::id(id).with_mall_status(status));
                }
            }
        }
        Ok(orders)
    }

    async fn fetch_orders(&self, mall_order_ids: &[String]) -> Result<FetchOutcome, MallError> {
        // Each order's buyer and address, and its items' buyer info (gift wrap and message):
        // two resources an order, so one token covers 25 orders (a token names at most 50).
        const ORDER_ELEMENTS: &[&str] = &["buyerInfo", "shippingAddress"];
        const ITEM_ELEMENTS: &[&str] = &["buyerInfo"];
        const ORDERS_PER_TOKEN: usize = 25;
        let mut outcome = FetchOutcome::default();
        for ids in mall_order_ids.chunks(ORDERS_PER_TOKEN) {
            let resources: Vec<(String, &[&str])> = ids
                .iter()
                .flat_map(|id| {
                    [
                        (format!("/orders/v0/orders/{id}"), ORDER_ELEMENTS),
                        (format!("/orders/v0/orders/{id}/orderItems"), ITEM_ELEMENTS),
                    ]
                })
                .collect();
            let rdt = self.client.restricted_data_token(&resources).await?;
            let rdt = &rdt;
            let results: Vec<_> = stream::iter(ids.iter().cloned())
                .map(|id| async move { self.fetch_one(&id, rdt).await.map(|r| (id, r)) })
                .buffered(CONCURRENCY)
                .try_collect()
                .await?;
            for (id, result) in results {
                match result {
                    Ok(order) => outcome.orders.push(order),
                    Err(message) => outcome.missing.push((id, message)),
                }
            }
        }
        tracing::info!(store = %self.store_ref(), requested = mall_order_ids.len(), returned = outcome.orders.len(), "fetched orders");
        Ok(outcome)
    }

    fn normalise(
        &self,
        payload: &RawPayload,
        imported_at: JstInstant,
    ) -> Result<Normalised, NormaliseError> {
        let value: Value = serde_json::from_str(&payload.body).map_err(|e| NormaliseError {
            mall: MallId::Amazon,
            mall_order_id: String::new(),
            field: "(payload)".into(),
            problem: format!("is not JSON ({e})"),
        })?;
        let order =
            normalise::normalise_order(self.store_ref(), &value, payload.clone(), imported_at)?;
        Ok(Normalised {
            orders: vec![order],
        })
    }

    /// Amazon has no post-import acknowledgement.
    fn needs_acknowledgement(&self, _order: &Order) -> bool {
        false
    }

    async fn acknowledge(&self, orders: &[Order]) -> Result<Vec<Acknowledgement>, MallError> {
        let mall_order_ids: &[String] = &orders
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>();
        Ok(mall_order_ids
            .iter()
            .map(|id| Acknowledgement {
                mall_order_id: id.clone(),
                outcome: AckOutcome::NotNeeded {
                    reason: "Amazon has no post-import acknowledgement".into(),
                },
            })
            .collect())
    }
}
