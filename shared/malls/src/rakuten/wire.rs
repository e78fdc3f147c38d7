//! The RakutenPay Order API's JSON, as sent and received (`shared/malls/rakuten.md` §3).
//!
//! Response types are lenient (every field optional or defaulted): Rakuten sends `null` for
//! absent lists and pagination, and an unexpected field must not fail a whole batch. Order
//! details stay `serde_json::Value` so one malformed order is a held order, not a failed call.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `dateType` 1: search by order date (注文日).
pub const DATE_TYPE_ORDER_DATE: u8 = 1;
/// The largest page `searchOrder` serves.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// `sortColumn` 1 (order datetime, the only column), `sortDirection` 1 (ascending).
pub const SORT_BY_ORDER_DATE_ASC: SortModel = SortModel {
    sort_column: 1,
    sort_direction: 1,
};
/// The newest `getOrder` version rakuten.md lists (10: social gift).
pub const GET_ORDER_VERSION: u32 = 10;

/// `POST /es/2.0/order/searchOrder/`
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrderRequest {
    pub date_type: u8,
    /// `YYYY-MM-DDThh:mm:ss+0900`
    pub start_datetime: String,
    pub end_datetime: String,
    #[serde(rename = "PaginationRequestModel")]
    pub pagination: PaginationRequest,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationRequest {
    pub request_records_amount: u32,
    /// 1-based.
    pub request_page: u32,
    #[serde(rename = "SortModelList")]
    pub sort_model_list: Vec<SortModel>,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SortModel {
    pub sort_column: u8,
    pub sort_direction: u8,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrderResponse {
    #[serde(default)]
    pub order_number_list: Option<Vec<String>>,
    #[serde(rename = "MessageModelList", default)]
    pub messages: Option<Vec<MessageModel>>,
    /// `null` (all three fields) when nothing matched.
    #[serde(rename = "PaginationResponseModel", default)]
    pub pagination: Option<PaginationResponse>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationResponse {
    #[serde(default)]
    pub total_records_amount: Option<u64>,
    #[serde(default)]
    pub total_pages: Option<u64>,
    #[serde(default)]
    pub request_page: Option<u64>,
}

/// `POST /es/2.0/order/getOrder/` (≤100 numbers).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetOrderRequest<'a> {
    pub order_number_list: &'a [String],
    pub version: u32,
}

#[derive(Debug, Default, Deserialize)]
pub struct GetOrderResponse {
    #[serde(rename = "MessageModelList", default)]
    pub messages: Option<Vec<MessageModel>>,
    /// Kept as raw JSON: each element is one order's audit copy.
    #[serde(rename = "OrderModelList", default)]
    pub orders: Option<Vec<Value>>,
}

/// `POST /es/2.0/order/confirmOrder/` (≤100 numbers).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmOrderRequest<'a> {
    pub order_number_list: &'a [String],
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmOrderResponse {
    #[serde(rename = "MessageModelList", default)]
    pub messages: Option<Vec<MessageModel>>,
}

/// The `getPayment` version asked for (rakuten.md §3d: `{"orderNumber": …, "version": 4}`).
pub const GET_PAYMENT_VERSION: u32 = 4;

/// `POST /es/2.0/order/getPayment/`: one order's payment detail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentRequest<'a> {
    pub order_number: &'a str,
    pub version: u32,
}

/// getPayment's answer: `MessageModelList` and one `OrderModel` carrying `PaymentModelList`
/// (the shape of the jake SDK's `GetPaymentResponse`, [1S]).
#[derive(Debug, Default, Deserialize)]
pub struct GetPaymentResponse {
    #[serde(rename = "MessageModelList", default)]
    pub messages: Option<Vec<MessageModel>>,
    /// Kept as raw JSON: its `PaymentModelList` goes into the order's stored payload.
    #[serde(rename = "OrderModel", default)]
    pub order: Option<Value>,
}

/// `GET /es/1.0/license-management/license-key/expiry-date`: `YYYY-MM-DDThh:mm:ss`, JST,
/// no offset.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseExpiryResponse {
    pub expiry_date: String,
}

/// `{messageType, messageCode, message, orderNumber?}` (§9).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageModel {
    pub message_type: Option<String>,
    pub message_code: Option<String>,
    pub message: Option<String>,
    pub order_number: Option<String>,
}

impl MessageModel {
    pub fn code(&self) -> &str {
        self.message_code.as_deref().unwrap_or("")
    }

    pub fn is_error(&self) -> bool {
        self.message_type.as_deref() == Some("ERROR")
    }

    /// `CODE (message)`, for errors and hold reasons. Rakuten's texts are its own fixed
    /// sentences, never buyer data.
    pub fn describe(&self) -> String {
        match self.message.as_deref().filter(|m| !m.is_empty()) {
            Some(text) => format!("{} ({text})", self.code()),
            None => self.code().to_owned(),
        }
    }
}

/// Rakuten's gateway answers every order API call with this envelope when the key is refused
/// (`ES01-01`, HTTP 401) or the API function is not enabled for the app (`ES04-01`):
/// `{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}` (public samples).
#[derive(Debug, Default, Deserialize)]
pub struct GatewayError {
    #[serde(rename = "Results", default)]
    pub results: Option<GatewayResults>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayResults {
    pub error_code: Option<String>,
    pub message: Option<String>,
}

/// Bad or expired key (`serviceSecret`/`licenseKey`).
pub const GATEWAY_UNAUTHORISED: &str = "ES01-01";
/// The API function (楽天ペイ受注API) is not enabled for the app in RMS.
pub const GATEWAY_NOT_ENABLED: &str = "ES04-01";

/// The gateway's `(errorCode, message)`, if `body` is its envelope.
pub fn gateway_error(body: &str) -> Option<(String, String)> {
    let results = serde_json::from_str::<GatewayError>(body).ok()?.results?;
    let code = results.error_code.filter(|c| !c.is_empty())?;
    Some((code, results.message.unwrap_or_default()))
}

/// What the shop has to do about a gateway error code, for error messages.
pub fn gateway_advice(code: &str) -> &'static str {
    match code {
        GATEWAY_UNAUTHORISED => {
            "Rakuten rejected the licenseKey. licenseKeys expire 90 days after issue; issue a \
             new one in RMS (店舗様向け情報・サービス → WEB APIサービス) and update this store's \
             secret"
        }
        GATEWAY_NOT_ENABLED => {
            "the licenseKey is valid but the order API is not enabled for it: enable \
             楽天ペイ受注API (rpay.order.searchOrder / getOrder / confirmOrder) for the app in RMS \
             (WEB APIサービス → 利用設定), then retry"
        }
        _ => "Rakuten's gateway refused the call",
    }
}

/// The `ERROR` messages of a body that speak for the whole call (no `orderNumber`): a
/// refused call (`ERROR_009` …), never "no orders".
pub fn call_errors(messages: &[MessageModel]) -> Vec<&MessageModel> {
    messages
        .iter()
        .filter(|m| m.is_error() && m.order_number.is_none())
        .collect()
}

/// The body of an error answer: `MessageModelList` (order API) or anything else with codes.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "MessageModelList", default)]
    pub messages: Option<Vec<MessageModel>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_request_matches_the_documented_shape() {
        let request = SearchOrderRequest {
            date_type: DATE_TYPE_ORDER_DATE,
            start_datetime: "2025-03-01T00:00:00+0900".into(),
            end_datetime: "2025-03-02T00:00:00+0900".into(),
            pagination: PaginationRequest {
                request_records_amount: MAX_PAGE_SIZE,
                request_page: 1,
                sort_model_list: vec![SORT_BY_ORDER_DATE_ASC],
            },
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "dateType": 1,
                "startDatetime": "2025-03-01T00:00:00+0900",
                "endDatetime": "2025-03-02T00:00:00+0900",
                "PaginationRequestModel": {
                    "requestRecordsAmount": 1000,
                    "requestPage": 1,
                    "SortModelList": [{ "sortColumn": 1, "sortDirection": 1 }]
                }
            })
        );
    }

    #[test]
    fn an_empty_search_may_have_an_object_of_nulls() {
        // What the real API sends (public sample so100): the object is there, its fields null.
        let body =
            include_str!("../../tests/fixtures/rakuten/errors/search_order_empty_info_102.json");
        let response: SearchOrderResponse = serde_json::from_str(body).unwrap();
        let pagination = response.pagination.unwrap();
        assert_eq!(pagination.total_records_amount, None);
        assert_eq!(pagination.total_pages, None);
    }

    #[test]
    fn gateway_errors_and_call_errors() {
        let es01 = include_str!("../../tests/fixtures/rakuten/errors/es01_01_unauthorised.json");
        assert_eq!(
            gateway_error(es01),
            Some(("ES01-01".to_owned(), "Un-Authorised".to_owned()))
        );
        assert_eq!(gateway_error(r#"{"MessageModelList":[]}"#), None);
        assert_eq!(gateway_error("<html>504</html>"), None);
        let info = include_str!("../../tests/fixtures/rakuten/errors/get_order_info_102.json");
        let response: GetOrderResponse = serde_json::from_str(info).unwrap();
        assert!(
            call_errors(&response.messages.unwrap()).is_empty(),
            "INFO_102 is per number"
        );
        let error = include_str!("../../tests/fixtures/rakuten/errors/get_order_error_009.json");
        let response: GetOrderResponse = serde_json::from_str(error).unwrap();
        let messages = response.messages.unwrap();
        let errors = call_errors(&messages);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code(), "ORDER_EXT_API_GET_ORDER_ERROR_009");
    }

    #[test]
    fn empty_search_has_null_pagination() {
        let body = r#"{"orderNumberList":[],"MessageModelList":[{"messageType":"INFO","messageCode":"ORDER_EXT_API_SEARCH_ORDER_INFO_102","message":"注文検索結果が0件です。"}],"PaginationResponseModel":null}"#;
        let response: SearchOrderResponse = serde_json::from_str(body).unwrap();
        assert!(response.pagination.is_none());
        assert_eq!(response.order_number_list, Some(vec![]));
    }
}
