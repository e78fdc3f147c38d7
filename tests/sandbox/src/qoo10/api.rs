//! Qoo10 wire handlers: one URL, both calling styles, the JSON envelope.
//!
//! Order of checks: method known, key (header `GiosisCertificationKey`, or `key` /
//! `CertificationKey` parameter), per-seller rate, then the method's own parameters. Every
//! answer is HTTP 200 with a JSON body, errors included (qoo10.md §3, V); only injected
//! faults (the Cloudflare front) answer with an HTTP error and an HTML page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::parse_search_date;
use super::state::{KeyCheck, Refusal};
use super::types::Qoo10CallRecord;
use crate::AppState;
use crate::faults::InjectedFault;
use crate::time::{self, DAY_SECS};

/// Parameters that carry secrets: never recorded.
const SECRET_PARAMS: [&str; 3] = ["key", "pwd", "certificationkey"];

fn json_response(body: &Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn success(result: Value) -> Value {
    json!({"ResultObject": result, "ResultCode": 0, "ResultMsg": "SUCCESS"})
}

fn refusal(code: i64, message: &str) -> Value {
    json!({"ResultCode": code, "ResultMsg": message})
}

/// Faults as the Cloudflare front in front of api.qoo10.jp shows them: an HTML page with the
/// HTTP status (qoo10.md §1: Cloudflare, 1 source; the page text is ours).
pub(crate) fn fault_response(fault: InjectedFault) -> Response {
    let (code, title) = match fault {
        InjectedFault::InternalServerError => (500, "Internal server error"),
        InjectedFault::ServiceUnavailable => (503, "Service unavailable"),
        InjectedFault::Timeout => (504, "Gateway time-out"),
        InjectedFault::TooManyRequests => (
            429,
            "Access denied | api.qoo10.jp used Cloudflare to restrict access",
        ),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>api.qoo10.jp | {code}: {title}</title></head>\n\
         <body><div id=\"cf-error-details\"><h1>Error {code}</h1><h2>{title}</h2>\
         <p>Cloudflare Ray ID: 0000000000000000</p></div></body></html>\n"
    );
    let mut response = (fault.status(), body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    response
}

/// A form or query string as pairs (percent-decoding with `+` as space), `None` if not UTF-8.
fn pairs(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(bytes).ok()?;
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

/// One call's parameters, query and form body together; names are matched without case.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn recorded(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| !SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
            .cloned()
            .collect()
    }
}

pub(crate) async fn path_style(
    State(app): State<Arc<AppState>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    handle(app, Some(method), headers, query, body).await
}

pub(crate) async fn query_style(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    handle(app, None, headers, query, body).await
}

/// The methods this sandbox serves, by their lower-case name (QAPI matches names without
/// case, qoo10.md §1, 1 source).
const METHODS: [&str; 6] = [
    "certificationapi.createcertificationkey",
    "shippingbasic.getshippinginfo_v2",
    "shippingbasic.getshippingandclaiminfobyorderno_v2",
    "shippingbasic.getclaiminfo_v3",
    "itemslookup.getitemdetailinfo",
    "shippingbasic.setsellercheckyn_v2",
];

async fn handle(
    app: Arc<AppState>,
    path_method: Option<String>,
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let mut all = query
        .as_deref()
        .and_then(|q| pairs(q.as_bytes()))
        .unwrap_or_default();
    match pairs(&body) {
        Some(form) => all.extend(form),
        None => {
            return json_response(&refusal(-10101, "Processing Error - the body is not UTF-8"));
        }
    }
    let params = Params(all);
    let method = path_method
        .or_else(|| params.get("method").map(str::to_owned))
        .unwrap_or_default();
    let lower = method.to_ascii_lowercase();
    if !METHODS.contains(&lower.as_str()) {
        // Qoo10 answers an unknown method with text naming it (exact body unknown: I).
        let name = method.rsplit('.').next().unwrap_or("");
        return json_response(&refusal(-90001, &format!("Can't find method Info {name}")));
    }
    let key = headers
        .get("GiosisCertificationKey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| params.get("key").map(str::to_owned))
        .or_else(|| params.get("CertificationKey").map(str::to_owned))
        .unwrap_or_default();
    let now = time::now_secs();
    let state = &app.qoo10;

    if lower == METHODS[0] {
        let user_id = params
            .get("user_id")
            .or_else(|| params.get("userId"))
            .unwrap_or("");
        let pwd = params.get("pwd").unwrap_or("");
        let (seller, answer) = match state.create_key(&key, user_id, pwd, now).await {
            Ok((seller, sak)) => (
                seller,
                json!({"ResultObject": sak, "ResultCode": 0, "ResultMsg": "成功"}),
            ),
            Err(r) if r.code == -90001 => (
                String::new(),
                json!({"ErrorCode": r.code, "ErrorMsg": r.message}),
            ),
            Err(r) => (String::new(), refusal(r.code, &r.message)),
        };
        return record(&app, &method, &seller, &params, answer).await;
    }

    let seller = match state.check_key(&key, now).await {
        KeyCheck::Valid(seller) => seller,
        KeyCheck::Unknown => {
            // The second envelope: rejected before the method runs (qoo10.md §3, V).
            let answer = json!({"ErrorCode": -90001, "ErrorMsg": "存在しないAPIです。"});
            return record(&app, &method, "", &params, answer).await;
        }
        KeyCheck::Expired => {
            let answer = refusal(
                -90004,
                "Seller authorization key is expired. Use a new key.",
            );
            return record(&app, &method, "", &params, answer).await;
        }
    };
    if !state.try_acquire(&seller).await {
        app.stats.count_rate_limited().await;
        let limits = state.limits().await;
        let answer = refusal(
            limits.busy_result_code,
            "Too many requests. Please try again later.",
        );
        return record(&app, &method, &seller, &params, answer).await;
    }
    let answer = match lower.as_str() {
        "shippingbasic.getshippinginfo_v2" => shipping_info(&app, &seller, &params).await,
        "shippingbasic.getshippingandclaiminfobyorderno_v2" => {
            by_order_no(&app, &seller, &params).await
        }
        "shippingbasic.getclaiminfo_v3" => claim_info(&app, &seller, &params).await,
        "itemslookup.getitemdetailinfo" => item_detail(&app, &seller, &params).await,
        _ => seller_check(&app, &seller, &params, now).await,
    };
    record(&app, &method, &seller, &params, answer).await
}

async fn record(
    app: &AppState,
    method: &str,
    seller: &str,
    params: &Params,
    answer: Value,
) -> Response {
    let result_code = answer
        .get("ResultCode")
        .or_else(|| answer.get("ErrorCode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    app.qoo10
        .record_call(Qoo10CallRecord {
            method: method.to_owned(),
            seller_id: seller.to_owned(),
            params: params.recorded(),
            result_code,
        })
        .await;
    json_response(&answer)
}

/// A search window: both dates readable and the span within the limit.
fn window(
    params: &Params,
    max_days: i64,
    date_error: i64,
    span_error: i64,
) -> Result<(i64, i64), Refusal> {
    let start = params.get("search_Sdate").unwrap_or("");
    let end = params.get("search_Edate").unwrap_or("");
    let (Some(start), Some(end)) = (
        parse_search_date(start, false),
        parse_search_date(end, true),
    ) else {
        return Err(Refusal::new(date_error, "Search Date Error"));
    };
    if end < start {
        return Err(Refusal::new(date_error, "Search Date Error"));
    }
    if end - start > max_days * DAY_SECS {
        return Err(Refusal::new(
            span_error,
            "Searching period exceeds to 90 days.",
        ));
    }
    Ok((start, end))
}

async fn shipping_info(app: &AppState, seller: &str, params: &Params) -> Value {
    let limits = app.qoo10.limits().await;
    let (start, end) = match window(
        params,
        limits.max_search_days,
        limits.shipping_date_error_code,
        limits.shipping_span_error_code,
    ) {
        Ok(w) => w,
        Err(r) => return refusal(r.code, &r.message),
    };
    let statuses: Vec<u8> = match params.get("ShippingStat").map(str::trim) {
        None | Some("") | Some("0") => limits.status_zero_means.clone(),
        Some(s) => match s.parse::<u8>() {
            Ok(n @ 1..=5) => vec![n],
            // I: the code for a bad status is −10003 in one project's v3 table.
            _ => return refusal(-10003, "Invalid shipping status."),
        },
    };
    let condition = match params.get("search_condition").map(str::trim) {
        None | Some("") => 1,
        Some(c) => match c.parse::<u8>() {
            Ok(n @ 1..=4) => n,
            _ => return refusal(-10004, "Invalid search condition."),
        },
    };
    let rows = app
        .qoo10
        .shipping_search(seller, &statuses, start, end, condition)
        .await;
    // No hits: ResultObject is `[]` here (`null` is also seen, qoo10.md §3).
    success(Value::Array(rows))
}

async fn by_order_no(app: &AppState, seller: &str, params: &Params) -> Value {
    let raw = params.get("OrderNo").unwrap_or("").trim();
    let Some(order_no) = raw
        .parse::<i64>()
        .ok()
        .filter(|_| !raw.is_empty() && raw.len() <= 10 && raw.bytes().all(|b| b.is_ascii_digit()))
    else {
        return refusal(-10002, "Order number format error.");
    };
    match app.qoo10.by_order_no(seller, order_no).await {
        // Always an array, even for the one line asked for (qoo10.md §6, V).
        Some(row) => success(Value::Array(vec![row])),
        None => refusal(-10003, "Order number not found."),
    }
}

async fn claim_info(app: &AppState, seller: &str, params: &Params) -> Value {
    let limits = app.qoo10.limits().await;
    // Claims: −10002 bad date, −10003 over 90 days (qoo10.md §8.2, V).
    let (start, end) = match window(params, limits.max_search_days, -10002, -10003) {
        Ok(w) => w,
        Err(r) => return refusal(r.code, &r.message),
    };
    let stat = match params.get("ClaimStat").map(str::trim) {
        None | Some("") | Some("0") => None,
        Some(s) => match s.parse::<u8>() {
            Ok(n) if matches!(n, 1..=6 | 11..=16) => Some(n),
            _ => return refusal(-10004, "Invalid claim status."),
        },
    };
    let condition = params
        .get("search_condition")
        .and_then(|c| c.trim().parse::<u8>().ok())
        .filter(|c| (1..=3).contains(c))
        .unwrap_or(1);
    success(Value::Array(
        app.qoo10
            .claim_search(seller, stat, start, end, condition)
            .await,
    ))
}

/// `ItemsLookup.GetItemDetailInfo`: the item with its shipping group's carrier. The output
/// fields are not in the notes (I): `ItemCode`, `SellerCode`, `ItemTitle`, `DeliveryCompany`.
async fn item_detail(app: &AppState, seller: &str, params: &Params) -> Value {
    let code = params.get("ItemCode").unwrap_or("").trim();
    match app.qoo10.item(seller, code).await {
        Some(item) => success(json!([{
            "ItemCode": item.item_code,
            "SellerCode": item.seller_code,
            "ItemTitle": item.title,
            "DeliveryCompany": item.delivery_company,
        }])),
        None => refusal(-10001, "Not exists item info."),
    }
}

async fn seller_check(app: &AppState, seller: &str, params: &Params, now: i64) -> Value {
    let Some(order_no) = params
        .get("OrderNo")
        .and_then(|o| o.trim().parse::<i64>().ok())
    else {
        return refusal(-10001, "Not exists order.");
    };
    let est = params.get("EstShipDt").unwrap_or("").trim();
    match app.qoo10.seller_check(seller, order_no, est, now).await {
        Ok(()) => json!({"ResultCode": 0, "ResultMsg": "SUCCESS"}),
        Err(r) => refusal(r.code, &r.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_match_without_case_and_hide_secrets() {
        let params =
            Params(pairs(b"key=S5b&ShippingStat=2&search_sdate=20250101&pwd=x%21").unwrap());
        assert_eq!(params.get("search_Sdate"), Some("20250101"));
        let recorded = params.recorded();
        assert_eq!(recorded.len(), 2);
        assert!(recorded.iter().all(|(k, _)| k != "key" && k != "pwd"));
    }
}
