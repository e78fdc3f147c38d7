//! Qoo10 control endpoints under `/_control/qoo10/...`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::generator::Qoo10GenerateOptions;
use super::state::StateError;
use super::types::{
    Qoo10CallRecord, Qoo10CartsResponse, Qoo10ClaimRequest, Qoo10InsertRowsRequest, Qoo10Item,
    Qoo10Limits, Qoo10RegisterStoreRequest, Qoo10StoreResponse, Qoo10WriteRecord,
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

pub(crate) async fn register_store(
    State(app): Shared,
    Json(request): Json<Qoo10RegisterStoreRequest>,
) -> Result<Json<Qoo10StoreResponse>, ControlError> {
    if request.seller_id.is_empty()
        || request.api_key.is_empty()
        || request.user_id.is_empty()
        || request.password.is_empty()
    {
        return Err(ControlError::bad_request(
            "sellerId, apiKey, userId and password are required",
        ));
    }
    let store = app.qoo10.register(&request).await?;
    tracing::info!(seller_id = %store.seller_id, "qoo10 seller registered");
    Ok(Json(store))
}

pub(crate) async fn store(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<Qoo10StoreResponse>, ControlError> {
    Ok(Json(app.qoo10.store(&seller_id).await?))
}

pub(crate) async fn expire_key(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<Qoo10StoreResponse>, ControlError> {
    Ok(Json(
        app.qoo10.expire_keys(&seller_id, time::now_secs()).await?,
    ))
}

#[derive(serde::Deserialize)]
pub(crate) struct PasswordRequest {
    password: String,
}

pub(crate) async fn change_password(
    State(app): Shared,
    Path(seller_id): Path<String>,
    Json(request): Json<PasswordRequest>,
) -> Result<Json<Qoo10StoreResponse>, ControlError> {
    Ok(Json(
        app.qoo10
            .change_password(&seller_id, &request.password)
            .await?,
    ))
}

pub(crate) async fn put_item(
    State(app): Shared,
    Path(seller_id): Path<String>,
    Json(item): Json<Qoo10Item>,
) -> Result<Json<Qoo10StoreResponse>, ControlError> {
    Ok(Json(app.qoo10.put_item(&seller_id, item).await?))
}

pub(crate) async fn insert_rows(
    State(app): Shared,
    Path(seller_id): Path<String>,
    Json(request): Json<Qoo10InsertRowsRequest>,
) -> Result<(StatusCode, Json<Qoo10CartsResponse>), ControlError> {
    let carts = app.qoo10.insert_rows(&seller_id, request.rows).await?;
    Ok((StatusCode::CREATED, Json(carts)))
}

pub(crate) async fn lines(
    State(app): Shared,
    Path(seller_id): Path<String>,
) -> Result<Json<Vec<Value>>, ControlError> {
    Ok(Json(app.qoo10.lines(&seller_id).await?))
}

pub(crate) async fn generate(
    State(app): Shared,
    Path(seller_id): Path<String>,
    body: Bytes,
) -> Result<Json<Qoo10CartsResponse>, ControlError> {
    let options: Qoo10GenerateOptions = optional_json(&body)?;
    let made = app
        .qoo10
        .generate(&seller_id, &options, app.seed, time::now_secs())
        .await?;
    tracing::info!(%seller_id, count = made.pack_nos.len(), "qoo10 carts generated");
    Ok(Json(made))
}

pub(crate) async fn pay_cart(
    State(app): Shared,
    Path((seller_id, pack_no)): Path<(String, i64)>,
) -> Result<Json<Vec<Value>>, ControlError> {
    Ok(Json(
        app.qoo10
            .pay_cart(&seller_id, pack_no, time::now_secs())
            .await?,
    ))
}

pub(crate) async fn claim_cart(
    State(app): Shared,
    Path((seller_id, pack_no)): Path<(String, i64)>,
    Json(request): Json<Qoo10ClaimRequest>,
) -> Result<Json<Vec<Value>>, ControlError> {
    Ok(Json(
        app.qoo10
            .claim(&seller_id, Some(pack_no), None, &request, time::now_secs())
            .await?,
    ))
}

pub(crate) async fn claim_line(
    State(app): Shared,
    Path((seller_id, order_no)): Path<(String, i64)>,
    Json(request): Json<Qoo10ClaimRequest>,
) -> Result<Json<Vec<Value>>, ControlError> {
    Ok(Json(
        app.qoo10
            .claim(&seller_id, None, Some(order_no), &request, time::now_secs())
            .await?,
    ))
}

pub(crate) async fn set_limits(
    State(app): Shared,
    body: Bytes,
) -> Result<Json<Qoo10Limits>, ControlError> {
    let limits: Qoo10Limits = optional_json(&body)?;
    app.qoo10.set_limits(limits.clone()).await?;
    tracing::info!(?limits, "qoo10 limits set");
    Ok(Json(limits))
}

pub(crate) async fn limits(State(app): Shared) -> Json<Qoo10Limits> {
    Json(app.qoo10.limits().await)
}

pub(crate) async fn calls(State(app): Shared) -> Json<Vec<Qoo10CallRecord>> {
    Json(app.qoo10.calls().await)
}

pub(crate) async fn writes(State(app): Shared) -> Json<Vec<Qoo10WriteRecord>> {
    Json(app.qoo10.writes().await)
}
