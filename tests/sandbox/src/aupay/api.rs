//! au PAY wire handlers and envelopes.
//!
//! Every API, in this order: the HTML 502 countdown (load), `Authorization: Bearer <key>`
//! (401 / `0002` for a missing, unknown or expired key, an unregistered source IP or a key
//! without the right to the API group), the per-shop rate limit (HTML 502), the request's
//! shape, `shopId` (`CME0022` when it is not the key's store), then the operation. Answers are
//! UTF-8 XML rooted at `<response>` with `Content-Type: application/xml; charset=UTF-8`.

// A refused request's `Err` is the finished answer, built once per request: boxing it would
// only add an allocation.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::state::{AuthProblem, ChangeOutcome, STATUSES};
use super::types::{AupayApiGroup, ResultCountMeaning};
use super::{endpoints, parse_request_date};
use crate::AppState;
use crate::faults::InjectedFault;
use crate::time::{self, DAY_SECS};
use crate::xml::{self, Element};

const XML_CONTENT_TYPE: &str = "application/xml; charset=UTF-8";

/// The code au PAY answers a wrong `shopId` with (seen on the item API; aupay.md §2).
pub const WRONG_SHOP_CODE: &str = "CME0022";
/// The auth failure code (aupay.md §2, [V2]).
pub const AUTH_CODE: &str = "0002";

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

fn result(status: &str) -> Element {
    Element::new("result").with(Element::leaf("status", status))
}

/// The failure envelope: `<response><result><status>1</status><error><code/><message/>`.
fn failure(http: StatusCode, code: &str, message: &str) -> Response {
    let body = Element::new("response").with(
        result("1").with(
            Element::new("error")
                .with(Element::leaf("code", code))
                .with(Element::leaf("message", message)),
        ),
    );
    xml_response(http, &body)
}

/// HTTP 401, code `0002` 認証に失敗しました, whatever the cause.
fn auth_failed() -> Response {
    failure(StatusCode::UNAUTHORIZED, AUTH_CODE, "認証に失敗しました")
}

/// A request au PAY refuses with status 1 (HTTP 200; the codes of these cases are unknown,
/// so the sandbox's own `SBX…` codes stand in).
fn refused(code: &str, message: &str) -> Response {
    failure(StatusCode::OK, code, message)
}

fn missing(field: &str) -> Response {
    refused("SBX0001", &format!("[{field}]必須入力項目です"))
}

fn invalid(field: &str) -> Response {
    refused("SBX0002", &format!("[{field}]の値が不正です"))
}

/// The page a gateway in front of au PAY answers under load: HTML, not XML.
pub(crate) fn bad_gateway_page(status: StatusCode) -> Response {
    // A page passed through with a success status still reads "502 Bad Gateway".
    let shown = if status.is_success() {
        StatusCode::BAD_GATEWAY
    } else {
        status
    };
    let reason = shown.canonical_reason().unwrap_or("Bad Gateway");
    let code = shown.as_u16();
    (
        status,
        [(header::CONTENT_TYPE, "text/html")],
        format!(
            "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} \
             {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
        ),
    )
        .into_response()
}

/// Injected faults in au PAY's shape: the gateway's HTML page with the fault's status.
pub(crate) fn fault_response(fault: InjectedFault) -> Response {
    bad_gateway_page(fault.status())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let key = value.strip_prefix("Bearer ")?.trim();
    (!key.is_empty()).then_some(key)
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Load, key and rate checks; returns the key's shop id.
async fn guard(
    app: &AppState,
    endpoint: &'static str,
    group: AupayApiGroup,
    headers: &HeaderMap,
) -> Result<String, Response> {
    if let Some(status) = app.aupay.take_bad_gateway(endpoint).await {
        tracing::info!(endpoint, status, "answering the gateway's HTML page");
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return Err(bad_gateway_page(status));
    }
    let Some(key) = bearer(headers) else {
        return Err(auth_failed());
    };
    let shop_id = match app.aupay.authenticate(key, group, time::now_secs()).await {
        Ok(shop_id) => shop_id,
        Err(problem) => {
            // The cause is logged for the test's reader; the client sees only 0002.
            let problem: AuthProblem = problem;
            tracing::info!(endpoint, ?problem, "au PAY key refused");
            return Err(auth_failed());
        }
    };
    if !app.aupay.try_acquire(&shop_id).await {
        app.stats.count_rate_limited().await;
        return Err(bad_gateway_page(StatusCode::BAD_GATEWAY));
    }
    Ok(shop_id)
}

/// `shopId` must be present and be the key's store.
fn check_shop(given: Option<&str>, key_shop: &str) -> Result<(), Response> {
    match given.map(str::trim) {
        None | Some("") => Err(missing("shopId")),
        Some(shop) if shop == key_shop => Ok(()),
        Some(_) => Err(refused(
            WRONG_SHOP_CODE,
            "ショップIDが不正です。認証情報と一致しません",
        )),
    }
}

/// Reads requests' `application/x-www-form-urlencoded` GETs: the header is sent by every
/// client on reads (aupay.md §1, [V2]).
fn check_read_content_type(headers: &HeaderMap) -> Result<(), Response> {
    if media_type(headers) == "application/x-www-form-urlencoded" {
        Ok(())
    } else {
        Err(refused(
            "SBX0003",
            "Content-Type must be application/x-www-form-urlencoded",
        ))
    }
}

fn positive(params: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, Response> {
    match params.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| invalid(name)),
    }
}

fn list_answer(result_count: usize, orders: Vec<Element>) -> Response {
    let mut body = Element::new("response")
        .with(result("0"))
        .with(Element::leaf("resultCount", result_count.to_string()));
    body.children.extend(orders);
    xml_response(StatusCode::OK, &body)
}

/// `GET /wmshopapi/searchTradeInfoListProc`: full orders in a date window, offset paging.
pub(crate) async fn search_trade_info_list(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let endpoint = endpoints::SEARCH_TRADE_INFO_LIST;
    let shop_id = match guard(&app, endpoint, AupayApiGroup::TradeSearch, &headers).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    if let Err(response) = check_read_content_type(&headers) {
        return response;
    }
    if let Err(response) = check_shop(params.get("shopId").map(String::as_str), &shop_id) {
        return response;
    }
    let limits = app.aupay.limits().await;
    let date = |name: &str| -> Result<i64, Response> {
        let text = params
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(name))?;
        parse_request_date(text, limits.request_date_format).ok_or_else(|| invalid(name))
    };
    let (from, to) = match (date("startDate"), date("endDate")) {
        (Ok(from), Ok(to)) => (from, to + DAY_SECS - 1),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    if to < from {
        return invalid("endDate");
    }
    // dateType: 0 order date [V2]; 1..4 from one client's copy of the official table [1S].
    let date_field = match params.get("dateType").map(|v| v.trim()).unwrap_or("0") {
        "" | "0" => "orderDate",
        "1" => "shipDate",
        "2" => "paymentDate",
        "3" => "releaseDate",
        "4" => "shippingTimelimitDate",
        _ => return invalid("dateType"),
    };
    let page_size = match positive(&params, "totalCount", 10) {
        Ok(n) if n <= u64::from(limits.max_total_count) => n,
        Ok(_) => return invalid("totalCount"),
        Err(response) => return response,
    };
    let start = match positive(&params, "startCount", 1) {
        Ok(n) => n,
        Err(response) => return response,
    };
    let status = params
        .get("orderStatus")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let matches = app
        .aupay
        .search(&shop_id, date_field, from, to, status)
        .await;
    let total = matches.len();
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(usize::MAX);
    let page: Vec<Element> = matches.into_iter().skip(skip).take(take).collect();
    let count = match limits.result_count {
        ResultCountMeaning::Total => total,
        ResultCountMeaning::Page => page.len(),
    };
    list_answer(count, page)
}

/// `GET /wmshopapi/searchTradeInfoProc`: one order by `orderId`. An unknown order answers
/// status 0 with `resultCount` 0 and no `<orderInfo>` (the real answer is not public).
pub(crate) async fn search_trade_info(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let endpoint = endpoints::SEARCH_TRADE_INFO;
    let shop_id = match guard(&app, endpoint, AupayApiGroup::TradeSearch, &headers).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    if let Err(response) = check_read_content_type(&headers) {
        return response;
    }
    if let Err(response) = check_shop(params.get("shopId").map(String::as_str), &shop_id) {
        return response;
    }
    let Some(order_id) = params
        .get("orderId")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    else {
        return missing("orderId");
    };
    match app.aupay.find(&shop_id, order_id).await {
        Some(order) => list_answer(1, vec![order]),
        None => list_answer(0, Vec::new()),
    }
}

/// `POST /wmshopapi/updateTradeStsProc`: a flat `<request>` with `shopId`, `orderId` and the
/// Japanese `orderStatus` name. Fields are looked up only at `request/<field>`.
pub(crate) async fn update_trade_sts(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = endpoints::UPDATE_TRADE_STS;
    let shop_id = match guard(&app, endpoint, AupayApiGroup::TradeUpdate, &headers).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    if media_type(&headers) != "application/xml" {
        return refused("SBX0003", "Content-Type must be application/xml");
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return refused("SBX0004", "request is not UTF-8");
    };
    let request = match xml::parse(text) {
        Ok(request) if request.name == "request" => request,
        Ok(_) => return refused("SBX0004", "request root must be <request>"),
        Err(e) => return refused("SBX0004", &format!("request is not XML: {e}")),
    };
    if let Err(response) = check_shop(request.child_text("shopId"), &shop_id) {
        return response;
    }
    let Some(order_id) = request.child_text("orderId").filter(|v| !v.is_empty()) else {
        return missing("orderId");
    };
    let Some(status) = request.child_text("orderStatus").filter(|v| !v.is_empty()) else {
        return missing("orderStatus");
    };
    if !STATUSES.contains(&status) {
        return invalid("orderStatus");
    }
    match app
        .aupay
        .change_status(&shop_id, order_id, status, time::now_secs())
        .await
    {
        ChangeOutcome::Changed => {
            xml_response(StatusCode::OK, &Element::new("response").with(result("0")))
        }
        ChangeOutcome::Refused { code, message } => refused(code, &message),
    }
}
