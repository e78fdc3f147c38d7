//! Yahoo wire handlers and envelopes.
//!
//! Order APIs, in this order: access token (401 `invalid_token`), daily quota per application
//! id, 1 query/s per URL, public-key signature, content type, XML body, `SellerId`, then the
//! operation. Answers are UTF-8 XML with `Content-Type: application/xml; charset=UTF-8`.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::endpoints;
use super::state::{ChangeOutcome, SignatureProblem, TokenCheck, TokenGrant};
use super::xml::{self, Element};
use crate::AppState;
use crate::faults::InjectedFault;
use crate::time;

const XML_CONTENT_TYPE: &str = "application/xml; charset=UTF-8";

/// Fields that live in a group of `<OrderInfo>` (everything else is order-level or per item).
const GROUPS: [&str; 5] = ["Pay", "Ship", "Seller", "Buyer", "Detail"];

fn xml_response(status: StatusCode, element: &Element) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        element.to_xml()
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    response
}

/// The top-level error envelope: `<Error><Message/><Code/></Error>`.
fn error(status: StatusCode, message: &str, code: Option<&str>) -> Response {
    let mut body = Element::new("Error").with(Element::leaf("Message", message));
    if let Some(code) = code {
        body = body.with(Element::leaf("Code", code));
    }
    xml_response(status, &body)
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message, Some("sbx-od-400"))
}

/// Faults in Yahoo's shape: 500 system error, 503 maintenance, 429 busy.
pub(crate) fn fault_response(fault: InjectedFault) -> Response {
    let message = match fault {
        InjectedFault::InternalServerError => "System error.",
        InjectedFault::ServiceUnavailable | InjectedFault::Timeout => {
            "Service temporarily unavailable (maintenance)."
        }
        InjectedFault::TooManyRequests => "Too many requests (1 query per second per URL).",
    };
    error(fault.status(), message, None)
}

/// 401 with `WWW-Authenticate`, repeated in the body (the shape of the captured sample).
fn invalid_token(description: &str) -> Response {
    let challenge = format!(
        "Bearer realm=\"yahooapis.jp\", error=\"invalid_token\", error_description=\"{description}\""
    );
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        &format!("Please provide valid credentials. {challenge}"),
        None,
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then_some(token)
}

fn signature_headers(headers: &HeaderMap) -> (Option<Vec<u8>>, Option<u32>) {
    let signature = headers
        .get("x-sws-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| STANDARD.decode(v.trim()).ok());
    let version = headers
        .get("x-sws-signature-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    (signature, version)
}

/// Yahoo reports public-key failures as `px-04102` (what stores see when the public-key
/// authentication is missing or wrong); status 403 is a guess (README).
fn signature_refused(problem: SignatureProblem) -> Response {
    error(
        StatusCode::FORBIDDEN,
        &format!("Public key authentication failed: {}.", problem.describe()),
        Some("px-04102"),
    )
}

/// Lenient like the real server: the three content types seen in working clients.
fn acceptable_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        media.as_str(),
        "application/xml" | "text/xml" | "application/x-www-form-urlencoded"
    )
}

/// Everything before the operation; returns the seller id and the parsed `<Req>`.
async fn guard(
    app: &AppState,
    endpoint: &'static str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, Element), Response> {
    let now = time::now_secs();
    let Some(token) = bearer(headers) else {
        return Err(invalid_token("access token is missing"));
    };
    let (token_seller, client_id) = match app.yahoo.check_token(token, now).await {
        TokenCheck::Valid {
            seller_id,
            client_id,
        } => (seller_id, client_id),
        TokenCheck::Expired => return Err(invalid_token("expired token")),
        TokenCheck::Unknown => return Err(invalid_token("invalid token")),
    };
    if !app.yahoo.count_quota(&client_id, now).await {
        tracing::info!(endpoint, "daily quota exceeded");
        return Err(error(
            StatusCode::FORBIDDEN,
            "Your application has exceeded the number of requests per day (50,000 per application id). Add another application id or try again tomorrow.",
            Some("sbx-quota"),
        ));
    }
    if !app.yahoo.try_acquire(&client_id, endpoint).await {
        app.stats.count_rate_limited().await;
        return Err(fault_response(InjectedFault::TooManyRequests));
    }
    let (signature, version) = signature_headers(headers);
    if let Err(problem) = app
        .yahoo
        .verify_signature(&token_seller, signature.as_deref(), version, now)
        .await
    {
        tracing::info!(endpoint, ?problem, "public-key signature refused");
        return Err(signature_refused(problem));
    }
    if !acceptable_content_type(headers) {
        return Err(bad_request(
            "Content-Type must be application/xml (text/xml and form-urlencoded are tolerated).",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad_request("request is not UTF-8"))?;
    let request = xml::parse(text).map_err(|e| bad_request(&format!("request is not XML: {e}")))?;
    if request.name != "Req" {
        return Err(bad_request("request root must be <Req>"));
    }
    let seller = request.child_text("SellerId").unwrap_or("");
    if seller.is_empty() {
        return Err(bad_request("SellerId is required."));
    }
    if seller != token_seller {
        return Err(error(
            StatusCode::FORBIDDEN,
            "SellerId does not match the authorized store account.",
            Some("sbx-od-403"),
        ));
    }
    Ok((token_seller, request))
}

fn field_set(text: &str) -> HashSet<String> {
    text.split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

/// orderList's flat `<OrderInfo>`: requested fields found at order level or in a group.
fn flat_order(order: &Element, fields: &HashSet<String>) -> Element {
    let mut out = Element::new("OrderInfo");
    for child in &order.children {
        if GROUPS.contains(&child.name.as_str()) {
            for leaf in &child.children {
                if fields.contains(&leaf.name) {
                    out.children.push(Element::leaf(&leaf.name, &leaf.text));
                }
            }
        } else if child.name != "Item" && fields.contains(&child.name) {
            out.children.push(Element::leaf(&child.name, &child.text));
        }
    }
    out
}

/// orderInfo's `<OrderInfo>`: the requested fields in their groups, items repeated.
fn grouped_order(order: &Element, fields: &HashSet<String>) -> Element {
    let keep = |element: &Element| -> Element {
        let mut out = Element::new(&element.name);
        out.attributes = element.attributes.clone();
        for child in &element.children {
            if fields.contains(&child.name) {
                out.children.push(child.clone());
            }
        }
        out
    };
    let mut out = Element::new("OrderInfo");
    for child in &order.children {
        if GROUPS.contains(&child.name.as_str()) || child.name == "Item" {
            let kept = keep(child);
            if !kept.children.is_empty() {
                out.children.push(kept);
            }
        } else if fields.contains(&child.name) {
            out.children.push(child.clone());
        }
    }
    out
}

fn result_set(result: Element) -> Element {
    let mut set = Element::new("ResultSet").with(result);
    set.attributes = vec![
        ("totalResultsAvailable".into(), "1".into()),
        ("totalResultsReturned".into(), "1".into()),
        ("firstResultPosition".into(), "1".into()),
    ];
    set
}

fn ng(code: &str, message: &str) -> Response {
    let result = Element::new("Result")
        .with(Element::leaf("Status", "NG"))
        .with(
            Element::new("Error")
                .with(Element::leaf("Code", code))
                .with(Element::leaf("Message", message)),
        );
    xml_response(StatusCode::OK, &result_set(result))
}

/// A positive integer field, or the message to refuse the request with.
fn number(request: &Element, name: &str, default: u64) -> Result<u64, String> {
    match request.child_text(name) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("{name} must be a positive integer.")),
    }
}

/// `POST /ShoppingWebService/V1/orderList`
pub(crate) async fn order_list(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (seller_id, request) = match guard(&app, endpoints::ORDER_LIST, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let limits = app.yahoo.limits().await;
    let Some(search) = request.child("Search") else {
        return bad_request("Search is required.");
    };
    let Some(fields) = search.child_text("Field").filter(|f| !f.is_empty()) else {
        return bad_request("Field is required.");
    };
    let fields = field_set(fields);
    let result = match number(search, "Result", 10) {
        Ok(n) if n <= limits.max_result => n,
        Ok(_) => return bad_request(&format!("Result must be ≤ {}.", limits.max_result)),
        Err(message) => return bad_request(&message),
    };
    let start = match number(search, "Start", 1) {
        Ok(n) => n,
        Err(message) => return bad_request(&message),
    };
    let newest_first = match search.child_text("Sort").unwrap_or("+order_time") {
        "" | "+order_time" => false,
        "-order_time" => true,
        _ => return bad_request("Sort must be +order_time or -order_time."),
    };
    let condition = search.child("Condition").cloned().unwrap_or_default();
    let time_of = |name: &str| -> Result<Option<i64>, String> {
        match condition.child_text(name) {
            None | Some("") => Ok(None),
            Some(text) => super::parse_compact(text)
                .map(Some)
                .ok_or_else(|| format!("{name} must be YYYYMMDDHHMMSS.")),
        }
    };
    let (from, to, exact) = match (
        time_of("OrderTimeFrom"),
        time_of("OrderTimeTo"),
        time_of("OrderTime"),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(message), _, _) | (_, Err(message), _) | (_, _, Err(message)) => {
            return bad_request(&message);
        }
    };
    let order_id = condition
        .child_text("OrderId")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if order_id.is_none() && from.is_none() && to.is_none() && exact.is_none() {
        return bad_request("One of OrderId, OrderTime or OrderTimeFrom/OrderTimeTo is required.");
    }
    let statuses: Option<HashSet<String>> = condition
        .child_text("OrderStatus")
        .filter(|s| !s.is_empty())
        .map(field_set);
    let is_seen = condition
        .child_text("IsSeen")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let matches = app
        .yahoo
        .search(
            &seller_id,
            |order, at| {
                if let Some(id) = &order_id
                    && order.child_text("OrderId") != Some(id.as_str())
                {
                    return false;
                }
                if from.is_some() || to.is_some() || exact.is_some() {
                    let Some(at) = at else { return false };
                    if from.is_some_and(|f| at < f)
                        || to.is_some_and(|t| at > t)
                        || exact.is_some_and(|e| at != e)
                    {
                        return false;
                    }
                }
                if let Some(statuses) = &statuses
                    && !order
                        .child_text("OrderStatus")
                        .is_some_and(|s| statuses.contains(s))
                {
                    return false;
                }
                if let Some(seen) = &is_seen
                    && order.child_text("IsSeen").unwrap_or("false") != seen
                {
                    return false;
                }
                true
            },
            newest_first,
        )
        .await;
    let total = matches.len();
    let mut search = Element::new("Search").with(Element::leaf("TotalCount", total.to_string()));
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(result).unwrap_or(usize::MAX);
    for order in matches.iter().skip(skip).take(take) {
        search.children.push(flat_order(order, &fields));
    }
    let body = Element::new("Result")
        .with(Element::leaf("Status", "OK"))
        .with(search);
    let mut response = xml_response(StatusCode::OK, &body);
    response.headers_mut().insert(
        "x-sws-authorize-status",
        HeaderValue::from_static("authorized"),
    );
    response
}

/// `POST /ShoppingWebService/V1/orderInfo` (one order per call).
pub(crate) async fn order_info(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (seller_id, request) = match guard(&app, endpoints::ORDER_INFO, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(target) = request.child("Target") else {
        return bad_request("Target is required.");
    };
    let Some(order_id) = target.child_text("OrderId").filter(|s| !s.is_empty()) else {
        return bad_request("OrderId is required.");
    };
    let Some(fields) = target.child_text("Field").filter(|f| !f.is_empty()) else {
        return bad_request("Field is required.");
    };
    let fields = field_set(fields);
    let Some(order) = app.yahoo.find(&seller_id, order_id).await else {
        return ng("sbx-od-404", &format!("OrderId({order_id}) is not found."));
    };
    let result = Element::new("Result")
        .with(Element::leaf("Status", "OK"))
        .with(grouped_order(&order, &fields));
    xml_response(StatusCode::OK, &result_set(result))
}

/// `POST /ShoppingWebService/V1/orderStatusChange`
pub(crate) async fn order_status_change(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (seller_id, request) =
        match guard(&app, endpoints::ORDER_STATUS_CHANGE, &headers, &body).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let Some(target) = request.child("Target") else {
        return bad_request("Target is required.");
    };
    let Some(order_id) = target.child_text("OrderId").filter(|s| !s.is_empty()) else {
        return bad_request("OrderId is required.");
    };
    let is_point_fix = match target.child_text("IsPointFix") {
        Some("true") => true,
        Some("false") => false,
        _ => return bad_request("IsPointFix is required (true or false)."),
    };
    let status: u8 = match request
        .child("Order")
        .and_then(|o| o.child_text("OrderStatus"))
        .and_then(|s| s.parse().ok())
    {
        Some(s @ 1..=5) => s,
        _ => return bad_request("Order/OrderStatus must be 1..5."),
    };
    if status == 4
        && request
            .child("Order")
            .and_then(|o| o.child_text("CancelReason"))
            .is_none_or(str::is_empty)
    {
        return bad_request("CancelReason is required to cancel an order.");
    }
    let user = target
        .child_text("OperationUser")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    match app
        .yahoo
        .change_status(
            &seller_id,
            order_id,
            status,
            is_point_fix,
            user,
            time::now_secs(),
        )
        .await
    {
        ChangeOutcome::Changed => xml_response(
            StatusCode::OK,
            &result_set(Element::new("Result").with(Element::leaf("Status", "OK"))),
        ),
        ChangeOutcome::Refused(code, message) => ng(code, &message),
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /yconnect/v2/token` (`grant_type=refresh_token`, client auth by Basic).
pub(crate) async fn token(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = match serde_urlencoded_pairs(&body) {
        Some(form) => form,
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "body is not a form",
            );
        }
    };
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some((client_id, client_secret)) = basic(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is required",
        );
    };
    if get("grant_type") != Some("refresh_token") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only refresh_token is supported by the sandbox",
        );
    }
    let Some(refresh_token) = get("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is required",
        );
    };
    let now = time::now_secs();
    match app
        .yahoo
        .grant(&client_id, &client_secret, refresh_token, now, app.seed)
        .await
    {
        TokenGrant::Issued {
            access_token,
            expires_in,
        } => {
            tracing::info!("access token issued");
            axum::Json(json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": expires_in,
            }))
            .into_response()
        }
        TokenGrant::InvalidClient => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        TokenGrant::InvalidGrant(description) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
        }
    }
}

/// A form body as pairs (percent-decoding with `+` as space), `None` if not UTF-8.
fn serde_urlencoded_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let decode = |s: &str| -> Option<String> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = s.get(i + 1..i + 3)?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).ok()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}
