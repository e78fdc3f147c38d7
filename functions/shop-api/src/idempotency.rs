//! `Idempotency-Key` on writes: a retried POST, PUT or PATCH gets the first answer again and
//! does nothing twice. The key and its answer are kept for 24 hours in the shop table
//! ([`ichigen_aws::idempotency`]).
//!
//! A write that failed on our side (5xx) gives its key back, so the client's retry acts; any
//! other answer (2xx, and 4xx, which a retry would only repeat) is what every retry gets.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ichigen_core::ports::{IdempotencyClaim, IdempotencyStore, StoredAnswer};

use crate::App;
use crate::problem::{PROBLEM_JSON, Problem};

pub const HEADER: &str = "idempotency-key";
/// Marks an answer that was stored by an earlier request with the same key.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// The largest request body a write takes (a stock batch of 100 SKUs is a few KB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// FNV-1a: a stable, short digest of the request, so a key reused for another request is
/// recognised without storing the body (which may hold a ship-to address).
fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn check_key(value: Option<&HeaderValue>) -> Result<String, Problem> {
    let field = "Idempotency-Key";
    let value = value.ok_or_else(|| {
        Problem::invalid(
            field,
            "writes need an Idempotency-Key header (a fresh UUID per intended change)",
        )
    })?;
    let key = value
        .to_str()
        .ok()
        .filter(|k| (8..=128).contains(&k.len()))
        .filter(|k| {
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        })
        .ok_or_else(|| {
            Problem::invalid(
                field,
                "must be 8 to 128 ASCII letters, digits, '-', '_', '.' or ':'",
            )
        })?;
    Ok(key.to_owned())
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        PROBLEM_JSON
    };
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

/// The middleware: reads are passed through; writes are claimed, done once, and answered.
pub async fn idempotent(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if !matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    ) {
        return next.run(request).await;
    }
    match once(&app, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn once(app: &App, request: Request, next: Next) -> Result<Response, Response> {
    let reject = |p: Problem| p.into_response();
    let key = check_key(request.headers().get(HEADER)).map_err(reject)?;
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "The request body is too large",
            format!("bodies of writes are at most {MAX_BODY_BYTES} bytes"),
        )
        .into_response()
    })?;
    let uri = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|original| original.0.clone())
        .unwrap_or_else(|| parts.uri.clone());
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let fingerprint = format!("{} {target} {:016x}", parts.method, digest(&bytes));
    let now = app.clock.now();
    let claim = app
        .table
        .claim(&key, &fingerprint, now)
        .await
        .map_err(|e| reject(e.into()))?;
    match claim {
        IdempotencyClaim::Claimed => {}
        IdempotencyClaim::Answered(answer) => return Ok(replay(answer)),
        IdempotencyClaim::InProgress => {
            return Err(reject(Problem {
                field: Some("Idempotency-Key".to_owned()),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency-key-in-use",
                    "A request with this key is still being handled",
                    "retry in a moment; the first request's answer will be given",
                )
            }));
        }
        IdempotencyClaim::OtherRequest => {
            return Err(reject(Problem {
                field: Some("Idempotency-Key".to_owned()),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency-key-reused",
                    "The key was used for another request",
                    "use a fresh key for each intended change",
                )
            }));
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be read back");
            let _ = app.table.release(&key).await;
            return Err(reject(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the answer could not be written",
            )));
        }
    };
    if parts.status.is_server_error() {
        if let Err(e) = app.table.release(&key).await {
            tracing::warn!(error = %e, "an idempotency key could not be given back");
        }
    } else {
        let answer = StoredAnswer {
            status: parts.status.as_u16(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        if let Err(e) = app
            .table
            .record_answer(&key, &fingerprint, &answer, now)
            .await
        {
            // The change is done; a retry will be told the key is in use until it expires.
            tracing::warn!(error = %e, "an idempotency answer could not be stored");
        }
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_stable_and_tells_bodies_apart() {
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(digest(b"{\"quantity\":1}"), digest(b"{\"quantity\":2}"));
    }

    #[test]
    fn a_key_must_be_present_and_plain() {
        assert!(check_key(None).is_err());
        assert!(check_key(Some(&HeaderValue::from_static("short"))).is_err());
        assert!(check_key(Some(&HeaderValue::from_static("has space in it"))).is_err());
        assert!(check_key(Some(&HeaderValue::from_static("0b6e8d3c-1f7a-4c1e"))).is_ok());
    }
}
