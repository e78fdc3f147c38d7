//! Rakuten wire handlers. Each one: authenticate, rate-limit, check the content type,
//! validate, call the state, render. Validation and rendering live in `wire`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::state::Auth;
use super::wire::{self, Op};
use crate::AppState;
use crate::control::AuthErrorShape;
use crate::faults::InjectedFault;
use crate::time;

/// `serviceSecret` and `licenseKey` from `Authorization: ESA base64(secret:key)`.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("ESA ")?.trim();
    let decoded = String::from_utf8(STANDARD.decode(token).ok()?).ok()?;
    let (secret, key) = decoded.split_once(':')?;
    Some((secret.to_owned(), key.to_owned()))
}

/// Checks the credentials; answers 401 for missing, unknown and (unless
/// `allow_expired`) expired keys.
async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    allow_expired: bool,
) -> Result<(String, String, i64), Response> {
    let shape = app.rakuten.limits().await.auth_error_shape;
    let Some((secret, key)) = credentials(headers) else {
        return Err(wire::unauthorised(shape));
    };
    match app
        .rakuten
        .authenticate(&secret, &key, time::now_secs())
        .await
    {
        Auth::Valid {
            shop_id,
            expires_at,
        } => Ok((shop_id, key, expires_at)),
        Auth::Expired {
            shop_id,
            expires_at,
        } if allow_expired => Ok((shop_id, key, expires_at)),
        Auth::Expired { shop_id, .. } => {
            tracing::info!(%shop_id, "expired license key rejected");
            Err(wire::unauthorised(shape))
        }
        Auth::Unknown => Err(wire::unauthorised(shape)),
    }
}

/// Auth (including operations refused through the control API), then the per-store rate
/// limit, then the content type; returns the shop id.
async fn guard_order_api(
    app: &AppState,
    headers: &HeaderMap,
    operation: &str,
) -> Result<String, Response> {
    let (shop_id, _, _) = authenticate(app, headers, false).await?;
    if app.rakuten.is_rejected(&shop_id, operation).await {
        tracing::info!(%shop_id, operation, "operation refused (key lapsed mid-run)");
        return Err(wire::unauthorised(AuthErrorShape::Results));
    }
    if !app.rakuten.order_api_enabled(&shop_id).await {
        tracing::info!(%shop_id, operation, "order API not enabled for the store");
        return Err(wire::api_not_enabled());
    }
    if !app.rakuten.try_acquire(&shop_id).await {
        app.stats.count_rate_limited().await;
        return Err(wire::fault_response(InjectedFault::TooManyRequests));
    }
    if !wire::is_json_utf8(headers.get(header::CONTENT_TYPE)) {
        return Err(wire::unsupported_media_type());
    }
    Ok(shop_id)
}

/// `POST /es/2.0/order/searchOrder/`
pub(crate) async fn search_order(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shop_id = match guard_order_api(&app, &headers, "searchOrder").await {
        Ok(shop_id) => shop_id,
        Err(response) => return response,
    };
    let limits = app.rakuten.limits().await;
    let query = match wire::parse_body(Op::Search, &body)
        .and_then(|map| wire::parse_search(&map, &limits, time::now_secs()))
    {
        Ok(query) => query,
        Err(messages) => return wire::search_error(messages),
    };
    let matches = app.rakuten.search(&shop_id, &query).await;
    let mut outcome = wire::paginate(matches, &query, limits.search_hit_cap);
    if let wire::SearchOutcome::Page { numbers, page, .. } = &mut outcome
        && limits.drop_search_page.map(u64::from) == Some(*page)
    {
        tracing::info!(%shop_id, page, dropped = numbers.len(), "search page dropped");
        numbers.clear();
    }
    wire::search_response(outcome)
}

/// `POST /es/2.0/order/getOrder/`
pub(crate) async fn get_order(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shop_id = match guard_order_api(&app, &headers, "getOrder").await {
        Ok(shop_id) => shop_id,
        Err(response) => return response,
    };
    let query = match wire::parse_body(Op::Get, &body).and_then(|map| wire::parse_get_order(&map)) {
        Ok(query) => query,
        Err(messages) => return wire::order_error(Op::Get, messages),
    };
    let (found, missing) = app.rakuten.get_orders(&shop_id, &query.numbers).await;
    wire::get_order_response(query.version, found, missing)
}

/// `POST /es/2.0/order/confirmOrder/`
pub(crate) async fn confirm_order(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shop_id = match guard_order_api(&app, &headers, "confirmOrder").await {
        Ok(shop_id) => shop_id,
        Err(response) => return response,
    };
    let numbers = match wire::parse_body(Op::Confirm, &body)
        .and_then(|map| wire::parse_order_numbers(Op::Confirm, &map).map_err(|m| vec![m]))
    {
        Ok(numbers) => numbers,
        Err(messages) => return wire::order_error(Op::Confirm, messages),
    };
    let results = app
        .rakuten
        .confirm(&shop_id, &numbers, time::now_secs())
        .await;
    wire::confirm_response(&results)
}

/// `POST /es/2.0/order/getPayment/`
pub(crate) async fn get_payment(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shop_id = match guard_order_api(&app, &headers, "getPayment").await {
        Ok(shop_id) => shop_id,
        Err(response) => return response,
    };
    let number =
        match wire::parse_body(Op::Payment, &body).and_then(|map| wire::parse_get_payment(&map)) {
            Ok(number) => number,
            Err(messages) => return wire::order_error(Op::Payment, messages),
        };
    let found = app.rakuten.payment(&shop_id, &number).await;
    wire::get_payment_response(&number, found)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExpiryQuery {
    license_key: Option<String>,
}

/// `GET /es/1.0/license-management/license-key/expiry-date?licenseKey=...`
pub(crate) async fn license_expiry(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<ExpiryQuery>,
) -> Response {
    let allow_expired = !app
        .rakuten
        .limits()
        .await
        .expiry_endpoint_rejects_expired_key;
    let (_, key, expires_at) = match authenticate(&app, &headers, allow_expired).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match query.license_key {
        None => wire::license_bad_request("licenseKey is required"),
        Some(asked) if asked != key => {
            wire::unauthorised(app.rakuten.limits().await.auth_error_shape)
        }
        Some(_) => wire::expiry_response(expires_at),
    }
}
