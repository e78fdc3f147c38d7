//! Mall-independent control endpoints: reset, faults, stats. Mall-specific ones live in
//! each mall module (e.g. `rakuten::control_api`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;
use crate::control::LoseRepliesRequest;
use crate::faults::FaultConfig;
use crate::stats::Stats;

/// Error answer of a control endpoint: `{"error": "..."}` with the given status.
#[derive(Debug)]
pub(crate) struct ControlError {
    status: StatusCode,
    message: String,
}

impl ControlError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            message: message.into(),
        }
    }
}

/// Parses an optional JSON body; an empty body means "all defaults" (handy with curl).
/// Shared by every mall's control endpoints.
pub(crate) fn optional_json<T: serde::de::DeserializeOwned + Default>(
    body: &axum::body::Bytes,
) -> Result<T, ControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ControlError::bad_request(format!("invalid JSON body: {e}")))
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_control/reset", post(reset))
        .route("/_control/faults", post(set_faults).get(faults))
        .route("/_control/stats", get(stats))
        .route("/_control/lose-replies", post(lose_replies))
        .with_state(state)
}

async fn reset(State(app): State<Arc<AppState>>) -> Json<serde_json::Value> {
    app.reset().await;
    tracing::info!("sandbox reset");
    Json(json!({ "ok": true }))
}

async fn set_faults(
    State(app): State<Arc<AppState>>,
    Json(config): Json<FaultConfig>,
) -> Result<Json<FaultConfig>, ControlError> {
    config.validate().map_err(ControlError::bad_request)?;
    tracing::info!(?config, "faults set");
    app.faults.set(config.clone()).await;
    Ok(Json(config))
}

async fn lose_replies(
    State(app): State<Arc<AppState>>,
    Json(request): Json<LoseRepliesRequest>,
) -> Result<Json<LoseRepliesRequest>, ControlError> {
    // Every mall's endpoints, as their fault middleware names them.
    let known: Vec<&str> = crate::rakuten::endpoints::ALL
        .into_iter()
        .chain(crate::yahoo::endpoints::ALL)
        .chain(crate::aupay::endpoints::ALL)
        .chain(crate::qoo10::endpoints::ALL)
        .chain(crate::amazon::endpoints::ALL)
        .collect();
    if !known.contains(&request.endpoint.as_str()) {
        return Err(ControlError::bad_request(format!(
            "unknown endpoint {:?}; known: {}",
            request.endpoint,
            known.join(", ")
        )));
    }
    app.faults
        .lose_replies(&request.endpoint, request.count)
        .await;
    tracing::info!(endpoint = %request.endpoint, count = request.count, "replies will be lost");
    Ok(Json(request))
}

async fn faults(State(app): State<Arc<AppState>>) -> Json<FaultConfig> {
    Json(app.faults.get().await)
}

async fn stats(State(app): State<Arc<AppState>>) -> Json<Stats> {
    Json(app.stats.snapshot().await)
}
