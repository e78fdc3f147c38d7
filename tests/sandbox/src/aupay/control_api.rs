//! au PAY control endpoints under `/_control/aupay/...`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::generator::AupayGenerateOptions;
use super::state::StateError;
use super::types::{
    AupayBadGatewayRequest, AupayGenerateResponse, AupayInsertOrderRequest,
    AupayInsertOrderResponse, AupayLimits, AupayOrderIdsResponse, AupayRegisterStoreRequest,
    AupaySetStatusRequest, AupayStoreResponse, AupayWriteRecord,
};
use crate::AppState;
use crate::control_api::{ControlError, optional_json};
use crate::time;
use crate::xml::Element;

impl From<StateError> for ControlError {
    fn from(error: StateError) -> Self {
        match error {
            StateError::UnknownStore(_) | StateError::UnknownOrder(_) => {
                ControlError::not_found(error.to_string())
            }
            StateError::Invalid(_) => ControlError::bad_request(error.to_string()),
        }
    }
}

type Shared = State<Arc<AppState>>;

/// au PAY store ids are numbers of up to 18 digits.
fn valid_shop_id(shop_id: &str) -> bool {
    !shop_id.is_empty() && shop_id.len() <= 18 && shop_id.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) async fn register_store(
    State(app): Shared,
    Json(request): Json<AupayRegisterStoreRequest>,
) -> Result<Json<AupayStoreResponse>, ControlError> {
    if !valid_shop_id(&request.shop_id) {
        return Err(ControlError::bad_request("shopId must be 1 to 18 digits"));
    }
    if request.api_key.trim().is_empty() {
        return Err(ControlError::bad_request("apiKey is required"));
    }
    let store = app
        .aupay
        .register(
            &request.shop_id,
            request.api_key.trim(),
            request.key_expires_at.as_deref(),
            request.denied_api_groups,
            request.source_ip_registered,
            time::now_secs(),
        )
        .await?;
    tracing::info!(shop_id = %store.shop_id, "au PAY store registered");
    Ok(Json(store))
}

pub(crate) async fn store(
    State(app): Shared,
    Path(shop_id): Path<String>,
) -> Result<Json<AupayStoreResponse>, ControlError> {
    Ok(Json(app.aupay.store(&shop_id).await?))
}

pub(crate) async fn expire_key(
    State(app): Shared,
    Path(shop_id): Path<String>,
) -> Result<Json<AupayStoreResponse>, ControlError> {
    Ok(Json(
        app.aupay.expire_key(&shop_id, time::now_secs()).await?,
    ))
}

pub(crate) async fn generate(
    State(app): Shared,
    Path(shop_id): Path<String>,
    body: Bytes,
) -> Result<Json<AupayGenerateResponse>, ControlError> {
    let options: AupayGenerateOptions = optional_json(&body)?;
    let made = app
        .aupay
        .generate(&shop_id, &options, app.seed, time::now_secs())
        .await?;
    tracing::info!(%shop_id, count = made.len(), "au PAY orders generated");
    let (order_ids, kinds) = made.into_iter().unzip();
    Ok(Json(AupayGenerateResponse { order_ids, kinds }))
}

pub(crate) async fn insert_order(
    State(app): Shared,
    Path(shop_id): Path<String>,
    Json(request): Json<AupayInsertOrderRequest>,
) -> Result<(StatusCode, Json<AupayInsertOrderResponse>), ControlError> {
    let order_id = app
        .aupay
        .insert(&shop_id, &request.xml, request.order_date.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AupayInsertOrderResponse { order_id }),
    ))
}

pub(crate) async fn order_ids(
    State(app): Shared,
    Path(shop_id): Path<String>,
) -> Result<Json<AupayOrderIdsResponse>, ControlError> {
    Ok(Json(AupayOrderIdsResponse {
        order_ids: app.aupay.order_ids(&shop_id).await?,
    }))
}

fn xml_answer(element: &Element) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
        element.to_xml(),
    )
        .into_response()
}

/// The stored `<orderInfo>`, as XML.
pub(crate) async fn order(
    State(app): Shared,
    Path((shop_id, order_id)): Path<(String, String)>,
) -> Result<Response, ControlError> {
    Ok(xml_answer(&app.aupay.order(&shop_id, &order_id).await?))
}

pub(crate) async fn pay(
    State(app): Shared,
    Path((shop_id, order_id)): Path<(String, String)>,
) -> Result<Response, ControlError> {
    let order = app.aupay.pay(&shop_id, &order_id, time::now_secs()).await?;
    Ok(xml_answer(&order))
}

/// Body of the cancel call: no body (or no ids) cancels the whole order.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct CancelRequest {
    order_detail_ids: Vec<String>,
}

pub(crate) async fn cancel(
    State(app): Shared,
    Path((shop_id, order_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ControlError> {
    // `null` (what a bodiless typed call sends) cancels the whole order too.
    let request: Option<CancelRequest> = optional_json(&body)?;
    let ids = request.map(|r| r.order_detail_ids).unwrap_or_default();
    let order = if ids.is_empty() {
        app.aupay.cancel(&shop_id, &order_id).await?
    } else {
        app.aupay.cancel_lines(&shop_id, &order_id, &ids).await?
    };
    Ok(xml_answer(&order))
}

pub(crate) async fn set_status(
    State(app): Shared,
    Path((shop_id, order_id)): Path<(String, String)>,
    Json(request): Json<AupaySetStatusRequest>,
) -> Result<Response, ControlError> {
    let order = app
        .aupay
        .set_status(&shop_id, &order_id, &request.order_status)
        .await?;
    Ok(xml_answer(&order))
}

pub(crate) async fn set_limits(
    State(app): Shared,
    body: Bytes,
) -> Result<Json<AupayLimits>, ControlError> {
    let limits: AupayLimits = optional_json(&body)?;
    app.aupay.set_limits(limits.clone()).await?;
    tracing::info!(?limits, "au PAY limits set");
    Ok(Json(limits))
}

pub(crate) async fn limits(State(app): Shared) -> Json<AupayLimits> {
    Json(app.aupay.limits().await)
}

pub(crate) async fn bad_gateway(
    State(app): Shared,
    Json(request): Json<AupayBadGatewayRequest>,
) -> Result<Json<AupayBadGatewayRequest>, ControlError> {
    if let Some(endpoint) = &request.endpoint
        && !super::endpoints::ALL.contains(&endpoint.as_str())
    {
        return Err(ControlError::bad_request(format!(
            "unknown endpoint {endpoint:?}; known: {}",
            super::endpoints::ALL.join(", ")
        )));
    }
    let status = request.status.unwrap_or(502);
    if !(200..=599).contains(&status) {
        return Err(ControlError::bad_request("status must be an HTTP status"));
    }
    app.aupay
        .set_bad_gateway(request.count, request.endpoint.clone(), status)
        .await;
    tracing::info!(count = request.count, endpoint = ?request.endpoint, "au PAY HTML 502 pages set");
    Ok(Json(request))
}

pub(crate) async fn writes(State(app): Shared) -> Json<Vec<AupayWriteRecord>> {
    Json(app.aupay.writes().await)
}
