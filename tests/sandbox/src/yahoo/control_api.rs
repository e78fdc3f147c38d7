//! Yahoo control endpoints under `/_control/yahoo/...`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::generator::YahooGenerateOptions;
use super::state::StateError;
use super::types::{
    YahooAddKeyRequest, YahooCancelLineRequest, YahooGenerateResponse, YahooInsertOrderRequest,
    YahooInsertOrderResponse, YahooLimits, YahooOrderIdsResponse, YahooQuotaResponse,
    YahooRegisterStoreRequest, YahooSetOrderStatusRequest, YahooSetPayStatusRequest,
    YahooStoreResponse, YahooWriteRecord,
};
use crate::AppState;
use crate::control_api::{ControlError, optional_json};
use crate::time;

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

/// Yahoo seller ids: lower-case letters, digits, `-` and `_` (the setStock rule).
fn valid_seller_id(seller_id: &str) -> bool {
    !seller_id.is_empty()
        && seller_id.len() <= 128
        && seller_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

pub(crate) async fn register_store(
    State(app): Shared,
    Json(request): Json<YahooRegisterStoreRequest>,
) -> Result<Json<YahooStoreResponse>, ControlError> {
    if !valid_seller_id(&request.seller_id) {
        return Err(ControlError::bad_request(
            "sellerId must be lower-case letters, digits, '-' or '_'",
        ));
    }
    if request.client_id.is_empty()
        || request.client_secret.is_empty()
        || request.refresh_token.is_empty()
    {
        return Err(ControlError::bad_request(
            "clientId, clientSecret and refreshToken are required",
        ));
    }
    let store = app
        .yahoo
        .register(
            &request.seller_id,
            &request.client_id,
            &request.client_secret,
            &request.refresh_token,
            &request.private_key_pem,
            request.key_version,
        )
        .await?;
    tracing::info!(seller_id = %store.seller_id, "yahoo store registered");
    Ok(Json(store))
}

pub(crate) async fn store(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<YahooStoreResponse>, ControlError> {
    Ok(Json(app.yahoo.store(&seller_id).await?))
}

pub(crate) async fn add_key(
    State(app): Shared,
    Path(seller_id): Path<String>,
    Json(request): Json<YahooAddKeyRequest>,
) -> Result<Json<YahooStoreResponse>, ControlError> {
    Ok(Json(
        app.yahoo
            .add_key(&seller_id, &request.private_key_pem, request.key_version)
            .await?,
    ))
}

pub(crate) async fn revoke_key(
    State(app): Shared,
    Path((seller_id, version)): Path<(String, u32)>,
) -> Result<Json<YahooStoreResponse>, ControlError> {
    Ok(Json(app.yahoo.revoke_key(&seller_id, version).await?))
}

pub(crate) async fn expire_token(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<YahooStoreResponse>, ControlError> {
    Ok(Json(
        app.yahoo
            .expire_tokens(&seller_id, time::now_secs())
            .await?,
    ))
}

pub(crate) async fn revoke_refresh_token(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<YahooStoreResponse>, ControlError> {
    Ok(Json(app.yahoo.revoke_refresh_token(&seller_id).await?))
}

pub(crate) async fn generate(
    State(app): Shared,
    Path(seller_id): Path<String>,
    body: Bytes,
) -> Result<Json<YahooGenerateResponse>, ControlError> {
    let options: YahooGenerateOptions = optional_json(&body)?;
    let made = app
        .yahoo
        .generate(&seller_id, &options, app.seed, time::now_secs())
        .await?;
    tracing::info!(%seller_id, count = made.len(), "yahoo orders generated");
    let (order_ids, kinds) = made.into_iter().unzip();
    Ok(Json(YahooGenerateResponse { order_ids, kinds }))
}

pub(crate) async fn insert_order(
    State(app): Shared,
    Path(seller_id): Path<String>,
    Json(request): Json<YahooInsertOrderRequest>,
) -> Result<(StatusCode, Json<YahooInsertOrderResponse>), ControlError> {
    let order_id = app
        .yahoo
        .insert(&seller_id, &request.xml, request.order_time.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(YahooInsertOrderResponse { order_id }),
    ))
}

pub(crate) async fn order_ids(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<YahooOrderIdsResponse>, ControlError> {
    Ok(Json(YahooOrderIdsResponse {
        order_ids: app.yahoo.order_ids(&seller_id).await?,
    }))
}

fn xml_answer(element: &super::xml::Element) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
        element.to_xml(),
    )
        .into_response()
}

/// The stored `<OrderInfo>` with every field, as XML.
pub(crate) async fn order(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
) -> Result<Response, ControlError> {
    Ok(xml_answer(&app.yahoo.order(&seller_id, &order_id).await?))
}

pub(crate) async fn set_pay_status(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    Json(request): Json<YahooSetPayStatusRequest>,
) -> Result<Response, ControlError> {
    let order = app
        .yahoo
        .set_pay_status(&seller_id, &order_id, request.pay_status, time::now_secs())
        .await?;
    Ok(xml_answer(&order))
}

pub(crate) async fn set_order_status(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    Json(request): Json<YahooSetOrderStatusRequest>,
) -> Result<Response, ControlError> {
    let order = app
        .yahoo
        .set_order_status(
            &seller_id,
            &order_id,
            request.order_status,
            time::now_secs(),
        )
        .await?;
    Ok(xml_answer(&order))
}

pub(crate) async fn cancel_line(
    State(app): Shared,
    Path((seller_id, order_id)): Path<(String, String)>,
    Json(request): Json<YahooCancelLineRequest>,
) -> Result<Response, ControlError> {
    let order = app
        .yahoo
        .cancel_line(&seller_id, &order_id, request.line_id, time::now_secs())
        .await?;
    Ok(xml_answer(&order))
}

pub(crate) async fn set_limits(
    State(app): Shared,
    body: Bytes,
) -> Result<Json<YahooLimits>, ControlError> {
    let limits: YahooLimits = optional_json(&body)?;
    app.yahoo.set_limits(limits.clone()).await?;
    tracing::info!(?limits, "yahoo limits set");
    Ok(Json(limits))
}

pub(crate) async fn limits(State(app): Shared) -> Json<YahooLimits> {
    Json(app.yahoo.limits().await)
}

pub(crate) async fn quota(State(app): Shared) -> Json<YahooQuotaResponse> {
    Json(app.yahoo.quota(time::now_secs()).await)
}

pub(crate) async fn writes(State(app): Shared) -> Json<Vec<YahooWriteRecord>> {
    Json(app.yahoo.writes().await)
}
