//! Rakuten wire format: message codes, response envelopes and request validation.
//!
//! Codes marked "invented" in comments are not documented anywhere we could read; they
//! follow the `ORDER_EXT_API_<OP>_<TYPE>_<nnn>` pattern so clients treat them like real
//! ones, and are listed in the README.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::control::{AuthErrorShape, RakutenLimits};
use crate::faults::InjectedFault;
use crate::time::{self, DAY_SECS};

/// Exact response content type of the real API (no space before `charset`).
pub(crate) const CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// Most order numbers `getOrder` / `confirmOrder` take per call.
pub(crate) const MAX_ORDER_NUMBERS: usize = 100;

/// Highest `getOrder` version the sandbox accepts (the stored JSON is returned as-is).
pub(crate) const MAX_VERSION: i64 = 10;
/// Lowest `getOrder` version the real API still accepts: 1 and 2 are refused (one client's
/// dry run against the real API, 2026-07; the error code is not known, `ERROR_011` is used).
pub(crate) const MIN_VERSION: i64 = 3;

/// Which order-API operation a message belongs to (drives the code prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Search,
    Get,
    Confirm,
    /// getPayment (its code prefix is invented on the pattern of the others).
    Payment,
}

impl Op {
    fn prefix(self) -> &'static str {
        match self {
            Self::Search => "ORDER_EXT_API_SEARCH_ORDER",
            Self::Get => "ORDER_EXT_API_GET_ORDER",
            Self::Confirm => "ORDER_EXT_API_CONFIRM_ORDER",
            Self::Payment => "ORDER_EXT_API_GET_PAYMENT",
        }
    }

    /// `ORDER_EXT_API_<OP>_<suffix>`, e.g. `code("ERROR_009")`.
    pub(crate) fn code(self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix())
    }
}

/// `MessageModel` as the order API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageModel {
    pub(crate) message_type: &'static str,
    pub(crate) message_code: String,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) order_number: Option<String>,
}

impl MessageModel {
    pub(crate) fn info(code: String, message: impl Into<String>) -> Self {
        Self {
            message_type: "INFO",
            message_code: code,
            message: message.into(),
            order_number: None,
        }
    }

    pub(crate) fn error(code: String, message: impl Into<String>) -> Self {
        Self {
            message_type: "ERROR",
            message_code: code,
            message: message.into(),
            order_number: None,
        }
    }

    pub(crate) fn for_order(mut self, order_number: &str) -> Self {
        self.order_number = Some(order_number.to_owned());
        self
    }

    fn missing(op: Op, field: &str) -> Self {
        Self::error(
            op.code("ERROR_009"),
            format!("{field}の項目を指定して下さい。"),
        )
    }

    fn bad_format(op: Op, field: &str) -> Self {
        Self::error(op.code("ERROR_011"), format!("{field}の書式が不正です。"))
    }
}

/// JSON body with Rakuten's exact content type.
pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "response serialisation failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Body of an error that is not tied to one operation (415, 429, 5xx).
fn gateway_message(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({ "MessageModelList": [MessageModel::error(code.to_owned(), message)] }),
    )
}

/// 401 "Un-Authorised" in the configured envelope (`ES01-01` in `Results` by default, as in
/// the public samples).
pub(crate) fn unauthorised(shape: AuthErrorShape) -> Response {
    let body = match shape {
        AuthErrorShape::Results => {
            json!({ "Results": { "errorCode": "ES01-01", "message": "Un-Authorised" } })
        }
        AuthErrorShape::Errors => {
            json!({ "errors": [{ "code": "GA0001", "message": "Un-Authorised" }] })
        }
        AuthErrorShape::MessageModelList => json!({
            "MessageModelList": [MessageModel::error("GA0001".to_owned(), "Un-Authorised")]
        }),
    };
    json_response(StatusCode::UNAUTHORIZED, &body)
}

/// The gateway's answer when 楽天ペイ受注API is not enabled for the app: `ES04-01` in the
/// `Results` envelope (public samples). The HTTP status is not known (the one sample is a
/// test mock served with 200); 400 is used, matching its "Bad Request" message.
pub(crate) fn api_not_enabled() -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "Results": { "errorCode": "ES04-01", "message": "Bad Request" } }),
    )
}

/// 415 for a body that is not `application/json; charset=utf-8` (invented code).
pub(crate) fn unsupported_media_type() -> Response {
    gateway_message(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "SANDBOX_UNSUPPORTED_MEDIA_TYPE",
        "Content-Type must be application/json; charset=utf-8",
    )
}

/// Rakuten rendering of injected faults and of the rate limiter (invented codes; clients
/// should key on the HTTP status).
pub(crate) fn fault_response(fault: InjectedFault) -> Response {
    let (code, message) = match fault {
        InjectedFault::InternalServerError => ("SANDBOX_INTERNAL_ERROR", "Internal Server Error"),
        InjectedFault::ServiceUnavailable => ("SANDBOX_SERVICE_UNAVAILABLE", "Service Unavailable"),
        InjectedFault::Timeout => ("SANDBOX_TIMEOUT", "Service Unavailable (timeout)"),
        InjectedFault::TooManyRequests => ("SANDBOX_TOO_MANY_REQUESTS", "Too Many Requests"),
    };
    let mut response = gateway_message(fault.status(), code, message);
    if fault == InjectedFault::TooManyRequests {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Accepts `application/json; charset=utf-8` with or without the space, any case.
pub(crate) fn is_json_utf8(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| v == "application/json;charset=utf-8")
}

/// Parses a body as a JSON object or answers 400 `ERROR_011`.
pub(crate) fn parse_body(
    op: Op,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, Vec<MessageModel>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(vec![MessageModel::bad_format(op, "リクエストボディ")]),
    }
}

// ---------------------------------------------------------------------------------------
// searchOrder

/// A validated searchOrder request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchQuery {
    /// 1..=6 (order, confirm, fix, shipping instruction, shipping report, payment fixed).
    pub(crate) date_type: usize,
    /// Inclusive window, epoch seconds.
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) progress: Option<Vec<i64>>,
    pub(crate) page_size: u64,
    /// 1-based.
    pub(crate) page: u64,
    pub(crate) descending: bool,
}

fn field_datetime(
    map: &serde_json::Map<String, Value>,
    name: &str,
    errors: &mut Vec<MessageModel>,
) -> Option<i64> {
    match map.get(name) {
        None | Some(Value::Null) => {
            errors.push(MessageModel::missing(Op::Search, name));
            None
        }
        // An empty string is its own error (issue 6 fact 11), not a format error.
        Some(Value::String(text)) if text.trim().is_empty() => {
            errors.push(MessageModel::error(
                Op::Search.code("ERROR_010"),
                format!("{name}の項目に値を指定して下さい。"),
            ));
            None
        }
        Some(value) => {
            let parsed = value.as_str().and_then(time::parse_rakuten_datetime);
            if parsed.is_none() {
                errors.push(MessageModel::bad_format(Op::Search, name));
            }
            parsed
        }
    }
}

fn positive_int(value: Option<&Value>, default: u64) -> Option<u64> {
    match value {
        None | Some(Value::Null) => Some(default),
        Some(v) => v.as_u64(),
    }
}

/// Validates a searchOrder body. All field errors are reported together, like the
/// documented sample (ERROR_009 and ERROR_011 in one answer).
pub(crate) fn parse_search(
    map: &serde_json::Map<String, Value>,
    limits: &RakutenLimits,
    now: i64,
) -> Result<SearchQuery, Vec<MessageModel>> {
    let op = Op::Search;
    let mut errors = Vec::new();
    let date_type = match map.get("dateType") {
        None | Some(Value::Null) => {
            errors.push(MessageModel::missing(op, "dateType"));
            None
        }
        Some(v) => match v.as_u64() {
            Some(n @ 1..=6) => usize::try_from(n).ok(),
            _ => {
                errors.push(MessageModel::bad_format(op, "dateType"));
                None
            }
        },
    };
    let start = field_datetime(map, "startDatetime", &mut errors);
    let end = field_datetime(map, "endDatetime", &mut errors);

    let progress = match map.get("orderProgressList") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let parsed: Option<Vec<i64>> = list.iter().map(Value::as_i64).collect();
            if parsed.is_none() {
                errors.push(MessageModel::bad_format(op, "orderProgressList"));
            }
            parsed
        }
        Some(_) => {
            errors.push(MessageModel::bad_format(op, "orderProgressList"));
            None
        }
    };

    let paging = match map.get("PaginationRequestModel") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(p),
        Some(_) => {
            errors.push(MessageModel::bad_format(op, "PaginationRequestModel"));
            None
        }
    };
    let page_size = positive_int(paging.and_then(|p| p.get("requestRecordsAmount")), 30);
    let page = positive_int(paging.and_then(|p| p.get("requestPage")), 1);
    match page_size {
        Some(n) if (1..=limits.max_page_size).contains(&n) => {}
        Some(_) | None => errors.push(MessageModel::error(
            op.code("ERROR_015"),
            format!(
                "requestRecordsAmountは1以上{}以下で指定して下さい。",
                limits.max_page_size
            ),
        )),
    }
    if !matches!(page, Some(1..)) {
        errors.push(MessageModel::error(
            op.code("ERROR_015"),
            "requestPageは1以上で指定して下さい。",
        ));
    }
    // Without a SortModelList Rakuten sorts newest first (issue 6 fact 11).
    let mut descending = true;
    match paging.and_then(|p| p.get("SortModelList")) {
        None | Some(Value::Null) => {}
        Some(Value::Array(sorts)) => {
            for sort in sorts {
                let column = sort.get("sortColumn").and_then(Value::as_i64);
                let direction = sort.get("sortDirection").and_then(Value::as_i64);
                match (column, direction) {
                    (Some(1), Some(1)) => descending = false,
                    (Some(1), Some(2)) => descending = true,
                    _ => errors.push(MessageModel::bad_format(op, "SortModelList")),
                }
            }
        }
        Some(_) => errors.push(MessageModel::bad_format(op, "SortModelList")),
    }

    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            errors.push(MessageModel::error(
                op.code("ERROR_012"),
                "endDatetimeはstartDatetime以降の日時を指定して下さい。",
            ));
        } else if end - start > i64::from(limits.max_window_days) * DAY_SECS {
            errors.push(MessageModel::error(
                op.code("ERROR_013"),
                format!(
                    "startDatetimeとendDatetimeの期間は{}日以内で指定して下さい。",
                    limits.max_window_days
                ),
            ));
        }
        if start < now - i64::from(limits.max_lookback_days) * DAY_SECS {
            errors.push(MessageModel::error(
                op.code("ERROR_014"),
                format!(
                    "startDatetimeは過去{}日以内の日時を指定して下さい。",
                    limits.max_lookback_days
                ),
            ));
        }
    }

    match (date_type, start, end, page_size, page) {
        (Some(date_type), Some(start), Some(end), Some(page_size), Some(page))
            if errors.is_empty() =>
        {
            Ok(SearchQuery {
                date_type,
                start,
                end,
                progress,
                page_size,
                page,
                descending,
            })
        }
        _ => Err(errors),
    }
}

/// Result of applying paging and the hit cap to the sorted matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchOutcome {
    /// Nothing matched: INFO_102 with null pagination.
    Empty,
    /// A page (possibly empty when past the end, or truncated at the hit cap).
    Page {
        numbers: Vec<String>,
        total: u64,
        total_pages: u64,
        page: u64,
    },
    /// The page starts past the hit cap and the search matched more than the cap (ERROR_016).
    BeyondCap { cap: u64 },
}

/// Cuts one page out of `matches` (already sorted), honouring the hit cap.
pub(crate) fn paginate(matches: Vec<String>, query: &SearchQuery, hit_cap: u64) -> SearchOutcome {
    let total = matches.len() as u64;
    if total == 0 {
        return SearchOutcome::Empty;
    }
    let total_pages = total.div_ceil(query.page_size);
    let offset = (query.page - 1).saturating_mul(query.page_size);
    if offset >= total.min(hit_cap) {
        // Past what can be fetched: an error when the search hit more than the cap (the
        // client must narrow the window), an empty page when it simply ran off the end.
        if total > hit_cap {
            return SearchOutcome::BeyondCap { cap: hit_cap };
        }
        return SearchOutcome::Page {
            numbers: Vec::new(),
            total,
            total_pages,
            page: query.page,
        };
    }
    let end = offset
        .saturating_add(query.page_size)
        .min(total)
        .min(hit_cap);
    let numbers = matches
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(end - offset).unwrap_or(0))
        .collect();
    SearchOutcome::Page {
        numbers,
        total,
        total_pages,
        page: query.page,
    }
}

/// 400 answer of searchOrder.
pub(crate) fn search_error(messages: Vec<MessageModel>) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "orderNumberList": null,
            "MessageModelList": messages,
            "PaginationResponseModel": null,
        }),
    )
}

pub(crate) fn search_response(outcome: SearchOutcome) -> Response {
    let op = Op::Search;
    match outcome {
        SearchOutcome::Empty => json_response(
            StatusCode::OK,
            &json!({
                "orderNumberList": [],
                "MessageModelList": [MessageModel::info(op.code("INFO_102"), "注文検索結果が0件です。")],
                "PaginationResponseModel": {
                    "totalRecordsAmount": null,
                    "totalPages": null,
                    "requestPage": null,
                },
            }),
        ),
        SearchOutcome::Page {
            numbers,
            total,
            total_pages,
            page,
        } => json_response(
            StatusCode::OK,
            &json!({
                "orderNumberList": numbers,
                "MessageModelList": [MessageModel::info(op.code("INFO_101"), "注文検索に成功しました。")],
                "PaginationResponseModel": {
                    "totalRecordsAmount": total,
                    "totalPages": total_pages,
                    "requestPage": page,
                },
            }),
        ),
        SearchOutcome::BeyondCap { cap } => search_error(vec![MessageModel::error(
            op.code("ERROR_016"),
            format!("検索結果の{cap}件目以降は取得できません。検索条件を絞り込んで下さい。"),
        )]),
    }
}

// ---------------------------------------------------------------------------------------
// getOrder / confirmOrder

/// Reads `orderNumberList` (1..=100 strings); duplicates are dropped, order kept.
pub(crate) fn parse_order_numbers(
    op: Op,
    map: &serde_json::Map<String, Value>,
) -> Result<Vec<String>, MessageModel> {
    let list = match map.get("orderNumberList") {
        None | Some(Value::Null) => return Err(MessageModel::missing(op, "orderNumberList")),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(MessageModel::missing(op, "orderNumberList"));
        }
        Some(Value::Array(list)) => list,
        Some(_) => return Err(MessageModel::bad_format(op, "orderNumberList")),
    };
    if list.len() > MAX_ORDER_NUMBERS {
        return Err(MessageModel::error(
            op.code("ERROR_010"),
            format!("orderNumberListは{MAX_ORDER_NUMBERS}件以内で指定して下さい。"),
        ));
    }
    let mut numbers: Vec<String> = Vec::with_capacity(list.len());
    for value in list {
        let Some(number) = value.as_str() else {
            return Err(MessageModel::bad_format(op, "orderNumberList"));
        };
        if !numbers.iter().any(|n| n == number) {
            numbers.push(number.to_owned());
        }
    }
    Ok(numbers)
}

/// Validated getOrder request.
pub(crate) struct GetOrderQuery {
    pub(crate) numbers: Vec<String>,
    pub(crate) version: i64,
}

pub(crate) fn parse_get_order(
    map: &serde_json::Map<String, Value>,
) -> Result<GetOrderQuery, Vec<MessageModel>> {
    let op = Op::Get;
    let mut errors = Vec::new();
    let numbers = parse_order_numbers(op, map)
        .map_err(|e| errors.push(e))
        .ok();
    let version = match map.get("version") {
        None | Some(Value::Null) => {
            errors.push(MessageModel::missing(op, "version"));
            None
        }
        Some(v) => match v.as_i64() {
            Some(n @ MIN_VERSION..=MAX_VERSION) => Some(n),
            _ => {
                errors.push(MessageModel::bad_format(op, "version"));
                None
            }
        },
    };
    match (numbers, version) {
        (Some(numbers), Some(version)) if errors.is_empty() => {
            Ok(GetOrderQuery { numbers, version })
        }
        _ => Err(errors),
    }
}

/// 400 answer of getOrder / confirmOrder.
pub(crate) fn order_error(op: Op, messages: Vec<MessageModel>) -> Response {
    let body = match op {
        Op::Get => json!({ "MessageModelList": messages, "OrderModelList": null, "version": null }),
        Op::Payment => json!({ "MessageModelList": messages, "OrderModel": null }),
        Op::Search | Op::Confirm => json!({ "MessageModelList": messages }),
    };
    json_response(StatusCode::BAD_REQUEST, &body)
}

pub(crate) fn get_order_response(
    version: i64,
    found: Vec<Value>,
    missing: Vec<String>,
) -> Response {
    let op = Op::Get;
    // As in the public samples: INFO_101 only when something was found, and one INFO_102
    // (an INFO, not an ERROR) per number that cannot be returned.
    let mut messages = Vec::with_capacity(missing.len() + 1);
    if !found.is_empty() {
        messages.push(MessageModel::info(
            op.code("INFO_101"),
            format!("受注情報取得に成功しました。(取得件数{}件)", found.len()),
        ));
    }
    messages.extend(missing.iter().map(|number| {
        MessageModel::info(op.code("INFO_102"), "受注情報が取得できませんでした。")
            .for_order(number)
    }));
    json_response(
        StatusCode::OK,
        &json!({ "MessageModelList": messages, "OrderModelList": found, "version": version }),
    )
}

// ---------------------------------------------------------------------------------------
// getPayment

/// `paymentStatus` codes the sandbox answers (jake SDK's PaymentModel, [1S]).
pub(crate) const PAYMENT_NONE: i64 = 30_000;
pub(crate) const PAYMENT_WAITING_PROCEDURE: i64 = 30_100;
/// 決済依頼: used for a prepayment the buyer has not made yet (guessed; no source says which
/// code an unpaid bank transfer shows).
pub(crate) const PAYMENT_REQUESTED: i64 = 30_500;
pub(crate) const PAYMENT_FIXED: i64 = 30_600;

/// Reads getPayment's `orderNumber` (required) and `version` (optional here: the notes send
/// 4, and no source says what a missing one does; a non-number is `ERROR_011`).
pub(crate) fn parse_get_payment(
    map: &serde_json::Map<String, Value>,
) -> Result<String, Vec<MessageModel>> {
    let op = Op::Payment;
    let mut errors = Vec::new();
    let number = match map.get("orderNumber") {
        None | Some(Value::Null) => {
            errors.push(MessageModel::missing(op, "orderNumber"));
            None
        }
        Some(Value::String(n)) if !n.is_empty() => Some(n.clone()),
        Some(Value::String(_)) => {
            errors.push(MessageModel::missing(op, "orderNumber"));
            None
        }
        Some(_) => {
            errors.push(MessageModel::bad_format(op, "orderNumber"));
            None
        }
    };
    if let Some(version) = map.get("version")
        && !version.is_null()
        && version.as_i64().is_none_or(|v| v < 1)
    {
        errors.push(MessageModel::bad_format(op, "version"));
    }
    match number {
        Some(number) if errors.is_empty() => Ok(number),
        _ => Err(errors),
    }
}

/// One `PaymentModel` for a stored order: paid (30600 with `paymentFixDatetime`) once the
/// control API paid it (or it reached 700); otherwise a prepayment waits for the buyer
/// (30500), a cancelled order has none (30000) and any other method waits for the shop's
/// settlement (30100).
pub(crate) fn payment_model(number: &str, order: &Value, paid_at: Option<i64>) -> Value {
    let method = order
        .pointer("/SettlementModel/settlementMethodCode")
        .and_then(Value::as_i64);
    let progress = order.get("orderProgress").and_then(Value::as_i64);
    let status = match (paid_at, progress, method) {
        (Some(_), ..) => PAYMENT_FIXED,
        (None, Some(900), _) => PAYMENT_NONE,
        (None, _, Some(9 | 13 | 14)) => PAYMENT_REQUESTED,
        _ => PAYMENT_WAITING_PROCEDURE,
    };
    let amount = order.get("requestPrice").cloned().unwrap_or(Value::Null);
    let charge = order.get("paymentCharge").cloned().unwrap_or(json!(0));
    json!({
        "orderPaymentNumber": format!("{number}-1"),
        "paymentMethod": method,
        "paymentAmount": amount,
        "paymentCharge": charge,
        "paymentStatus": status,
        "paymentReqDatetime": order.get("orderDatetime").cloned().unwrap_or(Value::Null),
        "paymentProcReqDatetime": null,
        "paymentProcCmplDatetime": null,
        "paymentProcNgDatetime": null,
        "paymentFixDatetime": paid_at.map(time::format_rakuten_datetime),
        "paymentNgDatetime": null,
        "paymentCancelNgDatetime": null,
        "paymentProcCancelCmplDatetime": null,
        "paymentProcCancelNgDate": null,
        "paymentCancelFixDatetime": null,
        "paymentCancelCmplDatetime": null,
        "payExpectDate": null,
        "minusPayExpectDate": null,
        "paymentOrganizationLinkageNumberList": [],
        "PaymentCardModel": null,
        "PaymentBankModel": null,
        "PaymentMultiModel": null,
        "PaymentPayAfterModel": null,
        "PaymentPaypalModel": null,
        "AdditionalFeeModelList": [],
        "RefundModelList": [],
    })
}

/// getPayment's answer: INFO_101 with `OrderModel {orderNumber, PaymentModelList}`, or
/// (unknown order) INFO_102 naming the order and `OrderModel: null`, as getOrder does.
pub(crate) fn get_payment_response(number: &str, found: Option<(Value, Option<i64>)>) -> Response {
    let op = Op::Payment;
    let body = match found {
        Some((order, paid_at)) => json!({
            "MessageModelList": [MessageModel::info(op.code("INFO_101"), "支払情報取得に成功しました。")],
            "OrderModel": {
                "orderNumber": number,
                "PaymentModelList": [payment_model(number, &order, paid_at)],
            },
        }),
        None => json!({
            "MessageModelList": [
                MessageModel::info(op.code("INFO_102"), "支払情報が取得できませんでした。")
                    .for_order(number)
            ],
            "OrderModel": null,
        }),
    };
    json_response(StatusCode::OK, &body)
}

/// Per-order result of confirmOrder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfirmResult {
    Confirmed,
    NotFound,
    Cancelled,
    WrongStatus,
    PostageUnfixed,
}

impl ConfirmResult {
    fn message(self) -> MessageModel {
        let op = Op::Confirm;
        match self {
            Self::Confirmed => MessageModel::info(op.code("INFO_101"), "注文確認に成功しました。"),
            Self::NotFound => MessageModel::error(
                op.code("ERROR_101"),
                "指定された受注番号の受注情報が存在しません。",
            ),
            Self::Cancelled => MessageModel::error(
                op.code("ERROR_102"),
                "キャンセル済みの注文のため注文確認できません。",
            ),
            Self::WrongStatus => MessageModel::error(
                op.code("ERROR_103"),
                "注文確認待ち以外のステータスのため注文確認できません。",
            ),
            Self::PostageUnfixed => MessageModel::error(
                op.code("ERROR_105"),
                "送料が確定していないため注文確認できません。",
            ),
        }
    }
}

pub(crate) fn confirm_response(results: &[(String, ConfirmResult)]) -> Response {
    let messages: Vec<MessageModel> = results
        .iter()
        .map(|(number, result)| result.message().for_order(number))
        .collect();
    json_response(StatusCode::OK, &json!({ "MessageModelList": messages }))
}

// ---------------------------------------------------------------------------------------
// License management API

pub(crate) fn expiry_response(expires_at: i64) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "expiryDate": time::format_naive_jst(expires_at) }),
    )
}

/// 400 of the license API (its family uses the `errors` envelope; code invented).
pub(crate) fn license_bad_request(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "errors": [{ "code": "SANDBOX_BAD_REQUEST", "message": message }] }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(page_size: u64, page: u64) -> SearchQuery {
        SearchQuery {
            date_type: 1,
            start: 0,
            end: 0,
            progress: None,
            page_size,
            page,
            descending: false,
        }
    }

    fn numbers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("o{i:03}")).collect()
    }

    #[test]
    fn content_type_spellings() {
        for ok in [
            "application/json; charset=utf-8",
            "application/json;charset=utf-8",
            "Application/JSON; Charset=UTF-8",
        ] {
            assert!(is_json_utf8(Some(&HeaderValue::from_static(ok))), "{ok}");
        }
        for bad in [
            "application/json",
            "text/plain; charset=utf-8",
            "application/json; charset=shift_jis",
        ] {
            assert!(!is_json_utf8(Some(&HeaderValue::from_static(bad))), "{bad}");
        }
        assert!(!is_json_utf8(None));
    }

    #[test]
    fn paging_and_cap() {
        assert_eq!(
            paginate(Vec::new(), &query(30, 1), 15_000),
            SearchOutcome::Empty
        );
        let SearchOutcome::Page {
            numbers: page,
            total,
            total_pages,
            ..
        } = paginate(numbers(25), &query(10, 3), 15_000)
        else {
            panic!("expected a page");
        };
        assert_eq!((page.len(), total, total_pages), (5, 25, 3));
        // Straddling the cap: truncated.
        let SearchOutcome::Page { numbers: page, .. } = paginate(numbers(25), &query(10, 2), 15)
        else {
            panic!("expected a page");
        };
        assert_eq!(page, numbers(15)[10..].to_vec());
        for page in [3, 4, 100] {
            assert_eq!(
                paginate(numbers(25), &query(10, page), 15),
                SearchOutcome::BeyondCap { cap: 15 }
            );
        }
        // Past the end: empty page, not an error.
        let SearchOutcome::Page { numbers: page, .. } = paginate(numbers(5), &query(10, 4), 15)
        else {
            panic!("expected a page");
        };
        assert!(page.is_empty());
    }
}
