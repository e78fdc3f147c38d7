//! SP-API wire handlers (Orders v0, Tokens 2021-03-01) and the LWA token endpoint.
//!
//! Every SP-API call: token (403 `Unauthorized` + `x-amzn-ErrorType`), the seller's bucket
//! for the operation (429 `QuotaExceeded`, no rate header), the input (400 `InvalidInput`),
//! then the answer with `x-amzn-RequestId` and `x-amzn-RateLimit-Limit`. Bodies are the
//! `{"payload":…}` / `{"errors":[{code,message,details}]}` envelopes of `ordersV0.json`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::state::{
    CREATE_RDT, GET_ORDER, GET_ORDER_ADDRESS, GET_ORDER_BUYER_INFO, GET_ORDER_ITEMS, GET_ORDERS,
    Inner, LwaOutcome, RestrictedResource, TokenGrant, TokenProblem, UsagePlan, fnv,
};
use super::{MARKETPLACE_JP, ORDERS_PATH, format_utc, parse_utc_strict};
use crate::AppState;
use crate::faults::InjectedFault;

const JSON: &str = "application/json";
/// The order statuses of `ordersV0.json`.
const STATUSES: [&str; 8] = [
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "InvoiceUnconfirmed",
    "Canceled",
    "Unfulfillable",
];
const INVALID_INPUT: &str =
    "The input you have submitted is not valid. Please check your input and try again.";

static REQUEST_SERIAL: AtomicU64 = AtomicU64::new(1);

fn request_id() -> String {
    let n = REQUEST_SERIAL.fetch_add(1, Ordering::Relaxed);
    let h = fnv(&n.to_le_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        n & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

fn json_response(status: StatusCode, body: &Value, rate: Option<String>) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-amzn-RequestId", v);
    }
    if let Some(rate) = rate
        && let Ok(v) = HeaderValue::from_str(&rate)
    {
        headers.insert("x-amzn-RateLimit-Limit", v);
    }
    response
}

fn errors(
    status: StatusCode,
    code: &str,
    message: &str,
    details: &str,
    rate: Option<String>,
) -> Response {
    json_response(
        status,
        &json!({"errors": [{"code": code, "message": message, "details": details}]}),
        rate,
    )
}

fn invalid_input(details: &str, rate: Option<String>) -> Response {
    errors(
        StatusCode::BAD_REQUEST,
        "InvalidInput",
        INVALID_INPUT,
        details,
        rate,
    )
}

/// 403 as Amazon answers a missing, revoked, expired or wrong token (§7, S29/S33/S34).
fn unauthorized(details: &str) -> Response {
    let mut response = errors(
        StatusCode::FORBIDDEN,
        "Unauthorized",
        "Access to requested resource is denied.",
        details,
        None,
    );
    response.headers_mut().insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static("AccessDeniedException"),
    );
    response
}

fn quota_exceeded() -> Response {
    errors(
        StatusCode::TOO_MANY_REQUESTS,
        "QuotaExceeded",
        "You exceeded your quota for the requested resource.",
        "",
        None,
    )
}

/// Injected faults in SP-API's shape.
pub(crate) fn fault_response(fault: InjectedFault) -> Response {
    match fault {
        InjectedFault::TooManyRequests => quota_exceeded(),
        InjectedFault::InternalServerError => errors(
            fault.status(),
            "InternalFailure",
            "We encountered an internal error. Please try again.",
            "",
            None,
        ),
        InjectedFault::ServiceUnavailable | InjectedFault::Timeout => errors(
            fault.status(),
            "ServiceUnavailable",
            "Service temporarily unavailable. Please try again.",
            "",
            None,
        ),
    }
}

/// Decodes `application/x-www-form-urlencoded` text (also query strings).
pub(crate) fn parse_form(text: &str) -> HashMap<String, String> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
                    match (hex(i + 1), hex(i + 2)) {
                        (Some(hi), Some(lo)) => {
                            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

// ----------------------------------------------------------------------------------------- LWA

/// `POST /auth/o2/token`: the `refresh_token` grant, form-encoded or JSON (§1.1).
pub(crate) async fn token(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let fields: HashMap<String, String> = if is_json {
        match serde_json::from_slice::<HashMap<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                .collect(),
            Err(_) => HashMap::new(),
        }
    } else {
        parse_form(&String::from_utf8_lossy(&body))
    };
    let lwa_error = |status: StatusCode, error: &str, description: &str| {
        json_response(
            status,
            &json!({"error_description": description, "error": error}),
            None,
        )
    };
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") != "refresh_token" {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    if get("refresh_token").is_empty() || get("client_id").is_empty() {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter : refresh_token",
        );
    }
    let mut inner = app.amazon.inner.lock().await;
    match inner.exchange_refresh_token(get("client_id"), get("client_secret"), get("refresh_token"))
    {
        LwaOutcome::Issued { access_token } => json_response(
            StatusCode::OK,
            &json!({
                "access_token": access_token,
                "refresh_token": get("refresh_token"),
                "token_type": "bearer",
                "expires_in": inner.limits.token_lifetime_secs,
            }),
            None,
        ),
        LwaOutcome::InvalidClient => lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        ),
        LwaOutcome::InvalidGrant => lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
        ),
    }
}

// ------------------------------------------------------------------------------ shared checks

/// The token check and the bucket, in Amazon's order. `path` is the literal request path
/// (what a restricted-data token is compared with). A refusal is boxed: a `Response` is large.
fn authorise(
    inner: &mut Inner,
    headers: &HeaderMap,
    plan: UsagePlan,
    path: &str,
    restricted_only: bool,
) -> Result<TokenGrant, Box<Response>> {
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok());
    let grant = inner.check_token(token).map_err(|problem| {
        Box::new(unauthorized(match problem {
            TokenProblem::Missing => "",
            TokenProblem::UnknownOrRevoked | TokenProblem::Expired => {
                "The access token you provided is revoked, malformed or invalid."
            }
        }))
    })?;
    match &grant {
        TokenGrant::Access { .. } if restricted_only => return Err(Box::new(unauthorized(""))),
        TokenGrant::Restricted { resources, .. }
            if !resources
                .iter()
                .any(|r| r.method == "GET" && r.path == path) =>
        {
            // Literal comparison: a token minted for `/orders/v0/orders/` does not cover
            // `/orders/v0/orders` (S34).
            return Err(Box::new(unauthorized("")));
        }
        _ => {}
    }
    if inner.admit(grant.seller_id(), plan).is_err() {
        return Err(Box::new(quota_exceeded()));
    }
    Ok(grant)
}

/// Which data elements a grant carries for `path`.
fn elements(grant: &TokenGrant, path: &str) -> (bool, bool) {
    match grant {
        TokenGrant::Access { .. } => (false, false),
        TokenGrant::Restricted { resources, .. } => {
            let has = |e: &str| {
                resources
                    .iter()
                    .any(|r| r.path == path && r.data_elements.iter().any(|d| d == e))
            };
            (has("shippingAddress"), has("buyerInfo"))
        }
    }
}

fn valid_order_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && [3, 7, 7]
            .iter()
            .zip(&parts)
            .all(|(len, p)| p.len() == *len && p.bytes().all(|b| b.is_ascii_digit()))
}

fn encode_token(parts: &[String]) -> String {
    let text = parts.join("\n");
    let sum = fnv(text.as_bytes());
    URL_SAFE_NO_PAD.encode(format!("{text}\n{sum:016x}"))
}

fn decode_token(token: &str) -> Option<Vec<String>> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (body, sum) = text.rsplit_once('\n')?;
    (format!("{:016x}", fnv(body.as_bytes())) == sum)
        .then(|| body.split('\n').map(str::to_owned).collect())
}

// -------------------------------------------------------------------------------- getOrders

struct ListQuery {
    by_update: bool,
    after: i64,
    before: i64,
    statuses: Vec<String>,
    page_size: usize,
    offset: usize,
}

/// `GET /orders/v0/orders`.
pub(crate) async fn get_orders(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut guard = app.amazon.inner.lock().await;
    let inner = &mut *guard;
    let grant = match authorise(inner, &headers, GET_ORDERS, ORDERS_PATH, false) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let seller_id = grant.seller_id().to_owned();
    let rate = Some(inner.rate_header(GET_ORDERS));
    let params = parse_form(query.as_deref().unwrap_or(""));
    let list = match read_list_query(inner, &seller_id, &params) {
        Ok(q) => q,
        Err(details) => {
            inner.note_rejected_list(&seller_id);
            return invalid_input(&details, rate);
        }
    };
    let (address_pii, buyer_pii) = elements(&grant, ORDERS_PATH);
    let Ok(seller) = inner.seller(&seller_id) else {
        return unauthorized("");
    };
    let mut matching: Vec<(i64, &String, &super::state::StoredOrder)> = seller
        .orders
        .iter()
        .map(|(id, o)| {
            (
                if list.by_update {
                    o.last_update()
                } else {
                    o.purchase()
                },
                id,
                o,
            )
        })
        .filter(|(t, _, o)| {
            *t >= list.after
                && *t <= list.before
                && (list.statuses.is_empty() || list.statuses.iter().any(|s| s == o.status()))
        })
        .collect();
    matching.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let page: Vec<Value> = matching
        .iter()
        .skip(list.offset)
        .take(list.page_size)
        .map(|(_, _, o)| o.render(address_pii, buyer_pii))
        .collect();
    let served: Vec<String> = matching
        .iter()
        .skip(list.offset)
        .take(list.page_size)
        .map(|(_, id, _)| (*id).clone())
        .collect();
    let more = matching.len() > list.offset + list.page_size;
    let mut payload = json!({"Orders": page});
    if let Some(fields) = payload.as_object_mut() {
        let key = if list.by_update {
            "LastUpdatedBefore"
        } else {
            "CreatedBefore"
        };
        fields.insert(key.into(), json!(format_utc(list.before)));
        if more {
            fields.insert(
                "NextToken".into(),
                json!(encode_token(&[
                    seller_id.clone(),
                    list.by_update.to_string(),
                    list.after.to_string(),
                    list.before.to_string(),
                    list.statuses.join(","),
                    list.page_size.to_string(),
                    (list.offset + list.page_size).to_string(),
                ])),
            );
        }
    }
    if address_pii || buyer_pii {
        for id in served {
            inner.log_pii("getOrders", &id, true);
        }
    }
    json_response(StatusCode::OK, &json!({"payload": payload}), rate)
}

fn read_list_query(
    inner: &mut Inner,
    seller_id: &str,
    params: &HashMap<String, String>,
) -> Result<ListQuery, String> {
    if let Some(token) = params.get("NextToken") {
        // The filters come from the token; the ones beside it are ignored (§3).
        let parts = decode_token(token)
            .filter(|p| p.len() == 7 && p[0] == seller_id)
            .ok_or("Invalid NextToken: we could not decode your NextToken.")?;
        let num = |i: usize| {
            parts[i]
                .parse::<i64>()
                .map_err(|_| "Invalid NextToken".to_owned())
        };
        return Ok(ListQuery {
            by_update: parts[1] == "true",
            after: num(2)?,
            before: num(3)?,
            statuses: parts[4]
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            page_size: usize::try_from(num(5)?).map_err(|_| "Invalid NextToken")?,
            offset: usize::try_from(num(6)?).map_err(|_| "Invalid NextToken")?,
        });
    }
    let marketplaces = params
        .get("MarketplaceIds")
        .ok_or("MarketplaceIds is required.")?;
    if !marketplaces.split(',').any(|m| m == MARKETPLACE_JP) {
        return Err(format!(
            "MarketplaceIds must include {MARKETPLACE_JP} for this seller."
        ));
    }
    let created = params.contains_key("CreatedAfter") || params.contains_key("CreatedBefore");
    let updated =
        params.contains_key("LastUpdatedAfter") || params.contains_key("LastUpdatedBefore");
    if created && updated {
        return Err("CreatedAfter/CreatedBefore cannot be combined with LastUpdatedAfter/LastUpdatedBefore.".into());
    }
    let (after_key, before_key) = if updated {
        ("LastUpdatedAfter", "LastUpdatedBefore")
    } else {
        ("CreatedAfter", "CreatedBefore")
    };
    let accept_offsets = inner.limits.accept_offsets;
    let time = |key: &str| -> Result<Option<i64>, String> {
        params
            .get(key)
            .map(|text| {
                parse_utc_strict(text, accept_offsets).ok_or_else(|| {
                    format!("{key} must be an ISO 8601 date-time in UTC (…Z): {text:?}")
                })
            })
            .transpose()
    };
    let after =
        time(after_key)?.ok_or("Exactly one of CreatedAfter or LastUpdatedAfter is required.")?;
    let now = inner.now();
    let min_gap = inner.limits.before_min_gap_secs;
    let before = match params.get(before_key) {
        None => now - min_gap,
        Some(_) => {
            let before = time(before_key)?.unwrap_or(now);
            let gap = now - before;
            let too_close = gap < min_gap;
            inner.note_before_gap(seller_id, gap, false);
            if too_close {
                return Err(format!(
                    "{before_key} must be at least 2 minutes before the current time."
                ));
            }
            if before < after {
                return Err(format!("{before_key} must be after {after_key}."));
            }
            before
        }
    };
    if after > now - min_gap {
        return Err(format!(
            "{after_key} must be at least 2 minutes before the current time."
        ));
    }
    let statuses: Vec<String> = params
        .get("OrderStatuses")
        .map(|s| {
            s.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(format!("{bad} is not a valid OrderStatuses value."));
    }
    let page_size = match params.get("MaxResultsPerPage") {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or("MaxResultsPerPage must be between 1 and 100.")?,
    };
    Ok(ListQuery {
        by_update: updated,
        after,
        before,
        statuses,
        page_size,
        offset: 0,
    })
}

// -------------------------------------------------------------------- getOrder and its parts

/// `GET /orders/v0/orders/{orderId}`.
pub(crate) async fn get_order(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    let path = format!("{ORDERS_PATH}/{order_id}");
    let mut guard = app.amazon.inner.lock().await;
    let inner = &mut *guard;
    let grant = match authorise(inner, &headers, GET_ORDER, &path, false) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let rate = Some(inner.rate_header(GET_ORDER));
    if !valid_order_id(&order_id) {
        return invalid_input("Invalid AmazonOrderId.", rate);
    }
    let (address_pii, buyer_pii) = elements(&grant, &path);
    let rendered = inner
        .seller(grant.seller_id())
        .ok()
        .and_then(|s| s.orders.get(&order_id))
        .map(|o| o.render(address_pii, buyer_pii));
    match rendered {
        Some(order) => {
            if address_pii || buyer_pii {
                inner.log_pii("getOrder", &order_id, true);
            }
            json_response(StatusCode::OK, &json!({"payload": order}), rate)
        }
        None if inner.limits.unknown_order_404 => errors(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The resource specified does not exist.",
            "",
            rate,
        ),
        // What Amazon really answers for a well-formed unknown id (§4, S30).
        None => json_response(StatusCode::OK, &json!({"payload": {}}), rate),
    }
}

/// `GET /orders/v0/orders/{orderId}/orderItems[?NextToken=…]`.
pub(crate) async fn get_order_items(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let path = format!("{ORDERS_PATH}/{order_id}/orderItems");
    let mut guard = app.amazon.inner.lock().await;
    let inner = &mut *guard;
    let grant = match authorise(inner, &headers, GET_ORDER_ITEMS, &path, false) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let rate = Some(inner.rate_header(GET_ORDER_ITEMS));
    if !valid_order_id(&order_id) {
        return invalid_input("Invalid AmazonOrderId.", rate);
    }
    let page_size = inner.limits.items_page_size.max(1);
    let params = parse_form(query.as_deref().unwrap_or(""));
    let offset = match params.get("NextToken") {
        None => 0,
        Some(token) => match decode_token(token)
            .filter(|p| p.len() == 3 && p[0] == "items" && p[1] == order_id)
            .and_then(|p| p[2].parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => {
                return invalid_input(
                    "Invalid NextToken: we could not decode your NextToken.",
                    rate,
                );
            }
        },
    };
    let Some(order) = inner
        .seller(grant.seller_id())
        .ok()
        .and_then(|s| s.orders.get(&order_id))
    else {
        return errors(
            StatusCode::NOT_FOUND,
            "InvalidInput",
            "Invalid AmazonOrderId.",
            "",
            rate,
        );
    };
    let (_, buyer_pii) = elements(&grant, &path);
    let items = order.render_items(buyer_pii);
    let page: Vec<Value> = items.iter().skip(offset).take(page_size).cloned().collect();
    if page.iter().any(|item| item.get("BuyerInfo").is_some()) {
        inner.log_pii("getOrderItems", &order_id, true);
    }
    let mut payload = json!({"AmazonOrderId": order_id, "OrderItems": page});
    if items.len() > offset + page_size
        && let Some(fields) = payload.as_object_mut()
    {
        fields.insert(
            "NextToken".into(),
            json!(encode_token(&[
                "items".into(),
                order_id.clone(),
                (offset + page_size).to_string()
            ])),
        );
    }
    json_response(StatusCode::OK, &json!({"payload": payload}), rate)
}

/// `GET /orders/v0/orders/{orderId}/address` (restricted).
pub(crate) async fn get_order_address(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    restricted_part(app, headers, order_id, "address", GET_ORDER_ADDRESS).await
}

/// `GET /orders/v0/orders/{orderId}/buyerInfo` (restricted).
pub(crate) async fn get_order_buyer_info(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    restricted_part(app, headers, order_id, "buyerInfo", GET_ORDER_BUYER_INFO).await
}

async fn restricted_part(
    app: Arc<AppState>,
    headers: HeaderMap,
    order_id: String,
    part: &str,
    plan: UsagePlan,
) -> Response {
    let path = format!("{ORDERS_PATH}/{order_id}/{part}");
    let mut guard = app.amazon.inner.lock().await;
    let inner = &mut *guard;
    let grant = match authorise(inner, &headers, plan, &path, true) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let rate = Some(inner.rate_header(plan));
    let Some(order) = inner
        .seller(grant.seller_id())
        .ok()
        .and_then(|s| s.orders.get(&order_id))
    else {
        return errors(
            StatusCode::NOT_FOUND,
            "InvalidInput",
            "Invalid AmazonOrderId.",
            "",
            rate,
        );
    };
    let full = order.render(true, true);
    let payload = if part == "address" {
        let mut p = json!({"AmazonOrderId": order_id});
        if let (Some(fields), Some(address)) = (p.as_object_mut(), full.get("ShippingAddress")) {
            fields.insert("ShippingAddress".into(), address.clone());
        }
        p
    } else {
        let mut p = json!({"AmazonOrderId": order_id});
        if let (Some(fields), Some(Value::Object(info))) =
            (p.as_object_mut(), full.get("BuyerInfo"))
        {
            for (k, v) in info {
                fields.insert(k.clone(), v.clone());
            }
        }
        p
    };
    inner.log_pii(plan.operation, &order_id, true);
    json_response(StatusCode::OK, &json!({"payload": payload}), rate)
}

// ------------------------------------------------------------------ createRestrictedDataToken

/// `POST /tokens/2021-03-01/restrictedDataToken`.
pub(crate) async fn create_restricted_data_token(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut guard = app.amazon.inner.lock().await;
    let inner = &mut *guard;
    let grant = match authorise(inner, &headers, CREATE_RDT, "", false) {
        Ok(TokenGrant::Restricted { .. }) => return unauthorized(""),
        Ok(g) => g,
        Err(r) => return *r,
    };
    let rate = Some(inner.rate_header(CREATE_RDT));
    let invalid = |details: &str| {
        errors(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Request is missing or has invalid parameters",
            details,
            rate.clone(),
        )
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The body is not JSON.");
    };
    let Some(list) = request.get("restrictedResources").and_then(Value::as_array) else {
        return invalid("restrictedResources is required.");
    };
    if list.is_empty() || list.len() > 50 {
        return invalid("restrictedResources must hold 1 to 50 resources.");
    }
    let mut resources = Vec::new();
    for resource in list {
        let method = resource.get("method").and_then(Value::as_str).unwrap_or("");
        let path = resource.get("path").and_then(Value::as_str).unwrap_or("");
        if !["GET", "PUT", "POST", "DELETE"].contains(&method) {
            return invalid("method must be GET, PUT, POST or DELETE.");
        }
        if !path.starts_with('/') {
            return invalid("path must start with '/'.");
        }
        let mut data_elements = Vec::new();
        if let Some(elements) = resource.get("dataElements") {
            let Some(elements) = elements.as_array() else {
                return invalid("dataElements must be a list.");
            };
            for e in elements {
                match e.as_str() {
                    Some(e @ ("buyerInfo" | "shippingAddress" | "buyerTaxInformation")) => {
                        data_elements.push(e.to_owned());
                    }
                    _ => {
                        return invalid(
                            "dataElements must be buyerInfo, shippingAddress or buyerTaxInformation.",
                        );
                    }
                }
            }
        }
        // Minted as asked, trailing slash or not: it is the later call that fails (S34).
        resources.push(RestrictedResource {
            method: method.to_owned(),
            path: path.to_owned(),
            data_elements,
        });
    }
    let seller_id = grant.seller_id().to_owned();
    let token = inner.issue_rdt(&seller_id, resources);
    json_response(
        StatusCode::OK,
        &json!({"restrictedDataToken": token, "expiresIn": inner.limits.token_lifetime_secs}),
        rate,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_detect_tampering() {
        let token = encode_token(&["a".into(), "b".into()]);
        assert_eq!(
            decode_token(&token),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        let mut bad = token.clone();
        bad.insert(3, 'x');
        assert_eq!(decode_token(&bad), None);
    }

    #[test]
    fn order_ids_are_3_7_7() {
        assert!(valid_order_id("503-1234567-7654321"));
        assert!(!valid_order_id("503-123456-7654321"));
        assert!(!valid_order_id("TEST_CASE_200"));
    }

    #[test]
    fn forms_decode() {
        let f = parse_form("a=1%7C2&b=x+y&c");
        assert_eq!(f["a"], "1|2");
        assert_eq!(f["b"], "x y");
        assert_eq!(f["c"], "");
    }
}
