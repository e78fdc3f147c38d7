//! Amazon control endpoints under `/_control/amazon/...`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};

use super::state::{Inner, StateError, StoredOrder};
use super::types::{
    AmazonBuyerCancelRequest, AmazonCancelItemRequest, AmazonClock, AmazonGenerateOptions,
    AmazonGenerateResponse, AmazonInsertOrderRequest, AmazonLimits, AmazonOrderEventRequest,
    AmazonOrderIdsResponse, AmazonOrderKind, AmazonPiiDisclosure, AmazonRegisterSellerRequest,
    AmazonSellerResponse,
};
use super::{format_utc, generator, parse_utc};
use crate::AppState;
use crate::control_api::{ControlError, optional_json};

impl From<StateError> for ControlError {
    fn from(error: StateError) -> Self {
        match error {
            StateError::UnknownSeller(_) | StateError::UnknownOrder(_) => {
                ControlError::not_found(error.to_string())
            }
            StateError::Invalid(_) => ControlError::conflict(error.to_string()),
        }
    }
}

type Shared = State<Arc<AppState>>;

pub(crate) async fn register_seller(
    State(app): Shared,
    Json(request): Json<AmazonRegisterSellerRequest>,
) -> Result<Json<AmazonSellerResponse>, ControlError> {
    if [
        &request.seller_id,
        &request.client_id,
        &request.client_secret,
        &request.refresh_token,
    ]
    .iter()
    .any(|v| v.trim().is_empty())
    {
        return Err(ControlError::bad_request(
            "sellerId, clientId, clientSecret and refreshToken are required",
        ));
    }
    let mut inner = app.amazon.inner.lock().await;
    inner.register(
        &request.seller_id,
        &request.client_id,
        &request.client_secret,
        &request.refresh_token,
    );
    tracing::info!(seller_id = %request.seller_id, "amazon seller registered");
    Ok(Json(inner.describe(&request.seller_id)?))
}

pub(crate) async fn seller(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<AmazonSellerResponse>, ControlError> {
    Ok(Json(app.amazon.inner.lock().await.describe(&seller_id)?))
}

pub(crate) async fn revoke_refresh_token(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<AmazonSellerResponse>, ControlError> {
    let mut inner = app.amazon.inner.lock().await;
    inner.revoke_refresh_token(&seller_id)?;
    Ok(Json(inner.describe(&seller_id)?))
}

pub(crate) async fn expire_tokens(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<AmazonSellerResponse>, ControlError> {
    let mut inner = app.amazon.inner.lock().await;
    inner.expire_tokens(&seller_id)?;
    Ok(Json(inner.describe(&seller_id)?))
}

pub(crate) async fn generate(
    State(app): Shared,
    Path(seller_id): Path<String>,
    body: Bytes,
) -> Result<Json<AmazonGenerateResponse>, ControlError> {
    let options: AmazonGenerateOptions = optional_json(&body)?;
    if options.count > 20_000 {
        return Err(ControlError::bad_request("count must be at most 20000"));
    }
    let mut inner = app.amazon.inner.lock().await;
    let now = inner.now();
    let seed = options.seed.unwrap_or(app.seed);
    let seller = inner.seller_mut(&seller_id)?;
    let mut rng = generator::rng(seed ^ (seller.orders.len() as u64).rotate_left(32));
    let end = now - i64::from(options.ends_minutes_ago) * 60;
    let spread = i64::from(options.spread_minutes.max(1)) * 60;
    let count = i64::from(options.count.max(1));
    let mut response = AmazonGenerateResponse {
        order_ids: Vec::new(),
        kinds: Vec::new(),
    };
    for n in 0..i64::from(options.count) {
        let kind = if options.kinds.is_empty() {
            use rand::Rng;
            AmazonOrderKind::MIX[rng.random_range(0..AmazonOrderKind::MIX.len())]
        } else {
            options.kinds[n as usize % options.kinds.len()]
        };
        let purchased = end - spread + spread * n / count;
        let serial = seller.orders.len() as u64 + 1;
        let (id, order) = generator::generate(&mut rng, serial, kind, purchased);
        seller.orders.insert(id.clone(), order);
        response.order_ids.push(id);
        response.kinds.push(kind);
    }
    Ok(Json(response))
}

pub(crate) async fn insert_order(
    State(app): Shared,
    Path(seller_id): Path<String>,
    Json(request): Json<AmazonInsertOrderRequest>,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    let id = request
        .order
        .get("AmazonOrderId")
        .and_then(|v| v.as_str())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ControlError::bad_request("order.AmazonOrderId is required"))?
        .to_owned();
    for key in ["PurchaseDate", "LastUpdateDate"] {
        let at = request.order.get(key).and_then(|v| v.as_str());
        if at.and_then(parse_utc).is_none() {
            return Err(ControlError::bad_request(format!(
                "order.{key} must be a UTC date-time (…Z): the sandbox lists by it"
            )));
        }
    }
    let mut inner = app.amazon.inner.lock().await;
    inner.seller_mut(&seller_id)?.orders.insert(
        id.clone(),
        StoredOrder {
            order: request.order,
            items: request.items,
        },
    );
    Ok(Json(AmazonOrderIdsResponse {
        order_ids: vec![id],
    }))
}

pub(crate) async fn order_ids(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    let inner = app.amazon.inner.lock().await;
    Ok(Json(AmazonOrderIdsResponse {
        order_ids: inner.seller(&seller_id)?.orders.keys().cloned().collect(),
    }))
}

/// The `LastUpdateDate` a control call stamps: the `at` it names, or the sandbox clock.
fn event_time(inner: &Inner, at: Option<&str>) -> Result<i64, ControlError> {
    match at {
        Some(text) => parse_utc(text)
            .ok_or_else(|| ControlError::bad_request("at must be a UTC date-time (…Z)")),
        None => Ok(inner.now()),
    }
}

async fn order_event(
    app: Arc<AppState>,
    seller_id: &str,
    order_id: &str,
    body: &Bytes,
    from: &[&str],
    to: &str,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    let request: AmazonOrderEventRequest = optional_json(body)?;
    let mut inner = app.amazon.inner.lock().await;
    let at = event_time(&inner, request.at.as_deref())?;
    inner.set_status(seller_id, order_id, from, to, at)?;
    tracing::info!(order_id, to, at = %format_utc(at), "amazon order status set");
    Ok(Json(AmazonOrderIdsResponse {
        order_ids: vec![order_id.to_owned()],
    }))
}

/// Pending → Unshipped: the buyer paid (konbini) or the payment was authorised.
pub(crate) async fn pay(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    order_event(app, &seller_id, &order_id, &body, &["Pending"], "Unshipped").await
}

/// Any status before shipment → Canceled.
pub(crate) async fn cancel(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    order_event(
        app,
        &seller_id,
        &order_id,
        &body,
        &["PendingAvailability", "Pending", "Unshipped"],
        "Canceled",
    )
    .await
}

/// The buyer asks to cancel (`BuyerRequestedCancel` on every item); the status stays.
pub(crate) async fn buyer_cancel_request(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    let request: AmazonBuyerCancelRequest = optional_json(&body)?;
    let mut inner = app.amazon.inner.lock().await;
    let at = event_time(&inner, request.at.as_deref())?;
    inner.request_cancel(&seller_id, &order_id, &request.reason, at)?;
    tracing::info!(order_id, at = %format_utc(at), "amazon buyer cancel request");
    Ok(Json(AmazonOrderIdsResponse {
        order_ids: vec![order_id],
    }))
}

/// The seller cancels one item; the order keeps its status.
pub(crate) async fn cancel_item(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<AmazonOrderIdsResponse>, ControlError> {
    let request: AmazonCancelItemRequest = optional_json(&body)?;
    let mut inner = app.amazon.inner.lock().await;
    let at = event_time(&inner, request.at.as_deref())?;
    inner.cancel_item(&seller_id, &order_id, &request.order_item_id, at)?;
    tracing::info!(order_id, order_item_id = %request.order_item_id, "amazon item cancelled");
    Ok(Json(AmazonOrderIdsResponse {
        order_ids: vec![order_id],
    }))
}

pub(crate) async fn set_limits(
    State(app): Shared,
    body: Bytes,
) -> Result<Json<AmazonLimits>, ControlError> {
    let limits: AmazonLimits = optional_json(&body)?;
    if !limits.rate_scale.is_finite() || limits.rate_scale <= 0.0 {
        return Err(ControlError::bad_request(
            "rateScale must be a positive number",
        ));
    }
    let mut inner = app.amazon.inner.lock().await;
    inner.limits = limits.clone();
    Ok(Json(limits))
}

pub(crate) async fn limits(State(app): Shared) -> Json<AmazonLimits> {
    Json(app.amazon.inner.lock().await.limits.clone())
}

pub(crate) async fn set_clock(
    State(app): Shared,
    Json(clock): Json<AmazonClock>,
) -> Json<AmazonClock> {
    app.amazon.inner.lock().await.clock_offset_secs = clock.offset_secs;
    Json(clock)
}

pub(crate) async fn clock(State(app): Shared) -> Json<AmazonClock> {
    Json(AmazonClock {
        offset_secs: app.amazon.inner.lock().await.clock_offset_secs,
    })
}

pub(crate) async fn pii_log(State(app): Shared) -> Json<Vec<AmazonPiiDisclosure>> {
    Json(app.amazon.inner.lock().await.pii_log())
}
