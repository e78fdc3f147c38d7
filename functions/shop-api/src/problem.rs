//! RFC 9457 problem answers: every error the API gives is `application/problem+json` with a
//! `type`, `title`, `status`, `detail` and, where one field is at fault, the `field`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ichigen_core::OrderStatus;
use ichigen_core::operator::OperatorError;
use ichigen_core::ports::StoreError;
use ichigen_core::status::SyncState;
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Problem types are URNs: stable names a client can match on, needing no web page.
const TYPE_PREFIX: &str = "urn:ichigen:problem:";

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// An illegal transition: the order's status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<OrderStatus>,
    /// A stale version: the order's version now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// A mall write that cannot be retried: where it stands now (`pending`, `done` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_sync_state: Option<SyncStateName>,
}

/// A mall write's state by name: one byte, where the state itself carries the mall's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStateName {
    Idle,
    Pending,
    InFlight,
    Done,
    Failed,
}

impl From<&SyncState> for SyncStateName {
    fn from(state: &SyncState) -> Self {
        match state {
            SyncState::Idle => SyncStateName::Idle,
            SyncState::Pending => SyncStateName::Pending,
            SyncState::InFlight => SyncStateName::InFlight,
            SyncState::Done => SyncStateName::Done,
            SyncState::Failed { .. } => SyncStateName::Failed,
        }
    }
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: format!("{TYPE_PREFIX}{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            current_status: None,
            current_version: None,
            current_sync_state: None,
        }
    }

    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid-input",
                "The request has an invalid field",
                detail,
            )
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_string(&self).unwrap_or_else(|_| {
            format!(r#"{{"type":"{TYPE_PREFIX}internal","title":"Internal error","status":500,"detail":"the problem could not be written"}}"#)
        });
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable { .. } | StoreError::Conflict { .. } => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage-unavailable",
                "Storage is busy or unavailable; retry",
                error.to_string(),
            ),
            StoreError::AlreadyExists(_)
            | StoreError::Corrupt { .. }
            | StoreError::TooLarge { .. }
            | StoreError::Rejected { .. } => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage-refused",
                "Stored data could not be read or written",
                error.to_string(),
            ),
        }
    }
}

impl From<OperatorError> for Problem {
    fn from(error: OperatorError) -> Self {
        let detail = error.to_string();
        match error {
            OperatorError::OrderNotFound(_) => Problem::new(
                StatusCode::NOT_FOUND,
                "order-not-found",
                "No such order",
                detail,
            ),
            OperatorError::UnknownStore(_) => Problem {
                field: Some("store".to_owned()),
                ..Problem::new(
                    StatusCode::NOT_FOUND,
                    "store-not-found",
                    "No such store",
                    detail,
                )
            },
            OperatorError::FailedImportNotFound { .. } => Problem::new(
                StatusCode::NOT_FOUND,
                "failed-import-not-found",
                "No such failed import",
                detail,
            ),
            OperatorError::StaleVersion { current, .. } => Problem {
                field: Some("version".to_owned()),
                current_version: Some(current),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "stale-version",
                    "The order changed since it was read",
                    detail,
                )
            },
            OperatorError::NotAllowed { current, .. } => Problem {
                current_status: Some(current),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "illegal-transition",
                    "Not possible in the order's status",
                    detail,
                )
            },
            OperatorError::WriteNotFailed { state, .. } => Problem {
                current_sync_state: Some(SyncStateName::from(&state)),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "write-not-failed",
                    "The order's mall write is not refused",
                    detail,
                )
            },
            OperatorError::NoSuchHold { .. } => Problem {
                field: Some("kind".to_owned()),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "no-such-hold",
                    "The order has no such hold",
                    detail,
                )
            },
            OperatorError::Invalid { field, detail } => Problem::invalid(field, detail),
            OperatorError::Store(e) => e.into(),
            OperatorError::Queue(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "queue-unavailable",
                "The import queue is unavailable; retry",
                detail,
            ),
        }
    }
}
