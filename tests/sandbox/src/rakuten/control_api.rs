//! Rakuten control endpoints under `/_control/rakuten/...`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::generator::GenerateOptions;
use super::state::StateError;
use crate::AppState;
use crate::control::{
    CancelLineRequest, GenerateOrdersResponse, InsertOrderRequest, InsertOrderResponse,
    OrderApiRequest, OrderNumbersResponse, RakutenLimits, RakutenPayRequest, RegisterStoreRequest,
    RejectOperationRequest, SetOrderFaultRequest, SetProgressRequest, StoreResponse, WriteRecord,
};
use crate::control_api::{ControlError, optional_json};
use crate::time;

impl From<StateError> for ControlError {
    fn from(error: StateError) -> Self {
        match error {
            StateError::UnknownStore(_) | StateError::UnknownOrder(_) => {
                ControlError::not_found(error.to_string())
            }
            StateError::Invalid(_) => ControlError::bad_request(error.to_string()),
            StateError::Conflict(_) => ControlError::conflict(error.to_string()),
        }
    }
}

type Shared = State<Arc<AppState>>;

fn valid_shop_id(shop_id: &str) -> bool {
    !shop_id.is_empty()
        && shop_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

pub(crate) async fn register_store(
    State(app): Shared,
    Json(request): Json<RegisterStoreRequest>,
) -> Result<Json<StoreResponse>, ControlError> {
    if !valid_shop_id(&request.shop_id) {
        return Err(ControlError::bad_request(
            "shopId must be non-empty ASCII letters, digits, '_' or '.'",
        ));
    }
    if request.service_secret.is_empty() || request.license_key.is_empty() {
        return Err(ControlError::bad_request(
            "serviceSecret and licenseKey are required",
        ));
    }
    if request.service_secret.contains(':') {
        return Err(ControlError::bad_request(
            "serviceSecret must not contain ':'",
        ));
    }
    let expires_at = match &request.license_expires_at {
        None => None,
        Some(s) => Some(time::parse_naive_jst(s).ok_or_else(|| {
            ControlError::bad_request("licenseExpiresAt must be YYYY-MM-DDThh:mm:ss (JST)")
        })?),
    };
    let store = app
        .rakuten
        .register(
            &request.shop_id,
            &request.service_secret,
            &request.license_key,
            expires_at,
            time::now_secs(),
        )
        .await?;
    // The shop id is not personal data; the key and secret are never logged.
    tracing::info!(shop_id = %store.shop_id, expires = %store.license_expires_at, "store registered");
    Ok(Json(store))
}

pub(crate) async fn expire_key(
    State(app): Shared,
    Path(shop_id): Path<String>,
) -> Result<Json<StoreResponse>, ControlError> {
    Ok(Json(
        app.rakuten.expire_key(&shop_id, time::now_secs()).await?,
    ))
}

pub(crate) async fn generate(
    State(app): Shared,
    Path(shop_id): Path<String>,
    body: Bytes,
) -> Result<Json<GenerateOrdersResponse>, ControlError> {
    let options: GenerateOptions = optional_json(&body)?;
    let generated = app
        .rakuten
        .generate(&shop_id, &options, app.seed, time::now_secs())
        .await?;
    tracing::info!(%shop_id, count = generated.len(), "orders generated");
    let (order_numbers, kinds) = generated.into_iter().unzip();
    Ok(Json(GenerateOrdersResponse {
        order_numbers,
        kinds,
    }))
}

/// Accepts a bare OrderModel (top-level `orderNumber`) or the `{ "order": {...}, ... }`
/// wrapper with index overrides.
pub(crate) async fn insert_order(
    State(app): Shared,
    Path(shop_id): Path<String>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<InsertOrderResponse>), ControlError> {
    let is_wrapper = body.get("orderNumber").is_none() && body.get("order").is_some();
    let request = if is_wrapper {
        serde_json::from_value::<InsertOrderRequest>(body)
            .map_err(|e| ControlError::bad_request(format!("invalid wrapper: {e}")))?
    } else {
        InsertOrderRequest::new(body)
    };
    let order_number = app.rakuten.insert(&shop_id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(InsertOrderResponse { order_number }),
    ))
}

pub(crate) async fn order_numbers(
    State(app): Shared,
    Path(shop_id): Path<String>,
) -> Result<Json<OrderNumbersResponse>, ControlError> {
    let order_numbers = app.rakuten.order_numbers(&shop_id).await?;
    Ok(Json(OrderNumbersResponse { order_numbers }))
}

pub(crate) async fn order(
    State(app): Shared,
    Path((shop_id, order_number)): Path<(String, String)>,
) -> Result<Json<Value>, ControlError> {
    Ok(Json(app.rakuten.order(&shop_id, &order_number).await?))
}

pub(crate) async fn set_progress(
    State(app): Shared,
    Path((shop_id, order_number)): Path<(String, String)>,
    Json(request): Json<SetProgressRequest>,
) -> Result<Json<Value>, ControlError> {
    let order = app
        .rakuten
        .set_progress(
            &shop_id,
            &order_number,
            request.order_progress,
            time::now_secs(),
        )
        .await?;
    Ok(Json(order))
}

pub(crate) async fn pay(
    State(app): Shared,
    Path((shop_id, order_number)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let request: RakutenPayRequest = optional_json(&body)?;
    let at = match &request.paid_at {
        None => time::now_secs(),
        Some(text) => time::parse_rakuten_datetime(text)
            .ok_or_else(|| ControlError::bad_request("paidAt must be YYYY-MM-DDThh:mm:ss+0900"))?,
    };
    let order = app.rakuten.pay(&shop_id, &order_number, at).await?;
    tracing::info!(%shop_id, "order paid");
    Ok(Json(order))
}

pub(crate) async fn cancel_line(
    State(app): Shared,
    Path((shop_id, order_number)): Path<(String, String)>,
    Json(request): Json<CancelLineRequest>,
) -> Result<Json<Value>, ControlError> {
    let order = app
        .rakuten
        .cancel_line(&shop_id, &order_number, &request, time::now_secs())
        .await?;
    tracing::info!(%shop_id, item = request.item_detail_id, "line cancelled");
    Ok(Json(order))
}

pub(crate) async fn set_order_fault(
    State(app): Shared,
    Path((shop_id, order_number)): Path<(String, String)>,
    Json(request): Json<SetOrderFaultRequest>,
) -> Result<Json<SetOrderFaultRequest>, ControlError> {
    app.rakuten
        .set_order_fault(&shop_id, &order_number, request.fault)
        .await?;
    tracing::info!(%shop_id, fault = ?request.fault, "order fault set");
    Ok(Json(request))
}

/// The operations a store's key can lose mid-run.
const REJECTABLE: [&str; 4] = ["searchOrder", "getOrder", "confirmOrder", "getPayment"];

pub(crate) async fn reject_operation(
    State(app): Shared,
    Path(shop_id): Path<String>,
    Json(request): Json<RejectOperationRequest>,
) -> Result<Json<RejectOperationRequest>, ControlError> {
    if !REJECTABLE.contains(&request.operation.as_str()) {
        return Err(ControlError::bad_request(format!(
            "operation must be one of {}",
            REJECTABLE.join(", ")
        )));
    }
    app.rakuten
        .reject_operation(&shop_id, &request.operation)
        .await?;
    tracing::info!(%shop_id, operation = %request.operation, "operation now answers 401");
    Ok(Json(request))
}

pub(crate) async fn set_order_api(
    State(app): Shared,
    Path(shop_id): Path<String>,
    Json(request): Json<OrderApiRequest>,
) -> Result<Json<OrderApiRequest>, ControlError> {
    app.rakuten
        .set_order_api_enabled(&shop_id, request.enabled)
        .await?;
    tracing::info!(%shop_id, enabled = request.enabled, "order API switched");
    Ok(Json(request))
}

pub(crate) async fn fill_social_gift(
    State(app): Shared,
    Path((shop_id, order_number)): Path<(String, String)>,
) -> Result<Json<Value>, ControlError> {
    let order = app
        .rakuten
        .fill_social_gift(&shop_id, &order_number, time::now_secs())
        .await?;
    tracing::info!(%shop_id, "social gift recipient filled in");
    Ok(Json(order))
}

pub(crate) async fn set_limits(
    State(app): Shared,
    body: Bytes,
) -> Result<Json<RakutenLimits>, ControlError> {
    let limits: RakutenLimits = optional_json(&body)?;
    app.rakuten.set_limits(limits.clone()).await?;
    tracing::info!(?limits, "rakuten limits set");
    Ok(Json(limits))
}

pub(crate) async fn limits(State(app): Shared) -> Json<RakutenLimits> {
    Json(app.rakuten.limits().await)
}

pub(crate) async fn writes(State(app): Shared) -> Json<Vec<WriteRecord>> {
    Json(app.rakuten.writes().await)
}
