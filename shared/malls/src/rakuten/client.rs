//! HTTP calls to the RakutenPay Order API and the License Management API.
//!
//! Every call goes through [`MallHttp`] (token bucket + retries); this file only knows
//! Rakuten's paths, headers and what its status codes mean.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ichigen_core::ports::SecretValue;
use ichigen_core::{JstInstant, MallError, StoreRef};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{self, ErrorBody, LicenseExpiryResponse};
use crate::connect::ClientSettings;
use crate::http::{MallHttp, Reply, SendError};

/// The credential Rakuten names when it answers 401: the licenseKey is the part that
/// expires (serviceSecret does not).
const CREDENTIAL: &str = "licenseKey";

pub(crate) struct RakutenClient {
    store: StoreRef,
    http: MallHttp,
    base_url: String,
    /// `ESA base64(serviceSecret:licenseKey)`, marked sensitive so it never shows in debug
    /// output of requests.
    authorization: HeaderValue,
    license_key: SecretValue,
}

impl fmt::Debug for RakutenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RakutenClient")
            .field("store", &self.store)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl RakutenClient {
    pub(crate) fn new(
        store: StoreRef,
        service_secret: &SecretValue,
        license_key: SecretValue,
        base_url: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let token = BASE64.encode(format!(
            "{}:{}",
            service_secret.expose(),
            license_key.expose()
        ));
        // Base64 is always a valid header value; fall back to an empty (rejected) header
        // rather than panic if that ever changed.
        let mut authorization = HeaderValue::from_str(&format!("ESA {token}"))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        authorization.set_sensitive(true);
        Ok(Self {
            store,
            http: MallHttp::new(settings)?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            authorization,
            license_key,
        })
    }

    pub(crate) fn store(&self) -> &StoreRef {
        &self.store
    }

    /// `POST /es/2.0/order/<operation>/` with a JSON body; the answer parsed as `T`.
    pub(crate) async fn order_call<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &str,
        body: &B,
    ) -> Result<T, MallError> {
        let url = format!("{}/es/2.0/order/{operation}/", self.base_url);
        let body = serde_json::to_vec(body).map_err(|e| MallError::Rejected {
            store: self.store.clone(),
            operation: operation.to_owned(),
            detail: format!("request could not be encoded: {e}"),
        })?;
        let reply = self
            .http
            .send(&self.store, operation, || {
                self.http
                    .client()
                    .post(&url)
                    .header(AUTHORIZATION, self.authorization.clone())
                    .header(CONTENT_TYPE, "application/json; charset=utf-8")
                    .body(body.clone())
            })
            .await;
        let body = self.check(operation, reply)?;
        self.parse(operation, &body)
    }

    /// `GET /es/1.0/license-management/license-key/expiry-date?licenseKey=…`: when the
    /// store's licenseKey stops working.
    pub(crate) async fn license_key_expiry(&self) -> Result<JstInstant, MallError> {
        let operation = "licenseKeyExpiryDate";
        let url = format!(
            "{}/es/1.0/license-management/license-key/expiry-date",
            self.base_url
        );
        let reply = self
            .http
            .send(&self.store, operation, || {
                self.http
                    .client()
                    .get(&url)
                    .query(&[("licenseKey", self.license_key.expose())])
                    .header(AUTHORIZATION, self.authorization.clone())
            })
            .await;
        let body = self.check(operation, reply)?;
        let answer: LicenseExpiryResponse = self.parse(operation, &body)?;
        parse_expiry(&answer.expiry_date).ok_or_else(|| MallError::BadResponse {
            store: self.store.clone(),
            operation: operation.to_owned(),
            detail: format!(
                "expiryDate {:?} is not YYYY-MM-DDThh:mm:ss",
                answer.expiry_date
            ),
        })
    }

    /// Turns what the HTTP layer returned into a body to parse, or the error Rakuten meant.
    fn check(&self, operation: &str, reply: Result<Reply, SendError>) -> Result<String, MallError> {
        let store = self.store.clone();
        let operation = operation.to_owned();
        let reply = match reply {
            Ok(reply) => reply,
            Err(SendError::Exhausted { attempts, last }) => {
                return Err(MallError::Unavailable {
                    store,
                    operation,
                    attempts,
                    detail: last,
                });
            }
            Err(SendError::Invalid(detail)) => {
                return Err(MallError::Rejected {
                    store,
                    operation,
                    detail,
                });
            }
        };
        let status = reply.status;
        let gateway = wire::gateway_error(&reply.body);
        // ES04-01 (API not enabled) may come with any status, even 200: check it first.
        let refused_key = status == StatusCode::UNAUTHORIZED
            || gateway.as_ref().is_some_and(|(code, _)| {
                code == wire::GATEWAY_UNAUTHORISED || code == wire::GATEWAY_NOT_ENABLED
            });
        if refused_key {
            let (code, message) =
                gateway.unwrap_or_else(|| (message_codes(&reply.body), String::new()));
            tracing::error!(%store, operation, status = status.as_u16(), code = %code, "Rakuten refused the store's key");
            let label = match (code.is_empty(), message.is_empty()) {
                (true, _) => String::new(),
                (false, true) => format!(" {code}"),
                (false, false) => format!(" {code} ({message})"),
            };
            return Err(MallError::CredentialRejected {
                store,
                operation,
                credential: CREDENTIAL.into(),
                detail: format!(
                    "HTTP {}{label}: {}",
                    status.as_u16(),
                    wire::gateway_advice(&code)
                ),
            });
        }
        if status.is_success() {
            return Ok(reply.body);
        }
        let codes = message_codes(&reply.body);
        tracing::warn!(%store, operation, status = status.as_u16(), codes = %codes, "Rakuten refused the request");
        let codes = if codes.is_empty() {
            "no message codes".to_owned()
        } else {
            codes
        };
        if status.is_client_error() {
            Err(MallError::Rejected {
                store,
                operation,
                detail: format!("HTTP {}: {codes}", status.as_u16()),
            })
        } else {
            Err(MallError::BadResponse {
                store,
                operation,
                detail: format!("unexpected HTTP {}: {codes}", status.as_u16()),
            })
        }
    }

    fn parse<T: DeserializeOwned>(&self, operation: &str, body: &str) -> Result<T, MallError> {
        serde_json::from_str(body).map_err(|e| MallError::BadResponse {
            store: self.store.clone(),
            operation: operation.to_owned(),
            // Only the position: serde's message may quote a value from the body.
            detail: format!(
                "body is not the expected JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }
}

/// The message codes of an error body (`CODE (message), …`), or empty if it has none we can
/// read. Rakuten's order API uses `MessageModelList`; the 401 envelope is undocumented, so
/// any `code`-like string field is collected too (e.g. `GA0001`).
pub(crate) fn message_codes(body: &str) -> String {
    if let Ok(ErrorBody {
        messages: Some(messages),
    }) = serde_json::from_str::<ErrorBody>(body)
        && !messages.is_empty()
    {
        return messages
            .iter()
            .map(wire::MessageModel::describe)
            .collect::<Vec<_>>()
            .join(", ");
    }
    let mut codes = Vec::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        collect_codes(&value, 0, &mut codes);
    }
    codes.join(", ")
}

fn collect_codes(value: &serde_json::Value, depth: usize, out: &mut Vec<String>) {
    if depth > 4 || out.len() >= 10 {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key.to_ascii_lowercase().ends_with("code")
                    && let Some(code) = v.as_str()
                    && code.len() <= 64
                {
                    out.push(code.to_owned());
                } else {
                    collect_codes(v, depth + 1, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                collect_codes(v, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Rakuten's search windows: `YYYY-MM-DDThh:mm:ss+0900` (no colon in the offset; `Z` and
/// `+09:00` are refused with `ERROR_011`).
pub(crate) fn format_datetime(instant: JstInstant) -> String {
    format!("{}+0900", instant.civil().strftime("%Y-%m-%dT%H:%M:%S"))
}

/// The license API's `expiryDate` has no offset and means JST; an offset, if Rakuten ever
/// adds one, is honoured.
fn parse_expiry(text: &str) -> Option<JstInstant> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<JstInstant>() {
        return Some(instant);
    }
    let civil = text.parse::<jiff::civil::DateTime>().ok()?;
    JstInstant::from_jst_civil(civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_go_out_with_a_colonless_offset() {
        let at: JstInstant = "2025-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(format_datetime(at), "2025-03-01T09:00:00+0900");
    }

    #[test]
    fn expiry_is_jst_without_offset() {
        let at = parse_expiry("2025-06-29T23:59:59").unwrap();
        assert_eq!(at.to_string(), "2025-06-29T23:59:59+09:00");
        assert_eq!(parse_expiry("2025-06-29T23:59:59+09:00"), Some(at));
        assert_eq!(parse_expiry("tomorrow"), None);
    }

    #[test]
    fn error_codes_from_message_list_or_anything_code_like() {
        let body = r#"{"orderNumberList":null,"MessageModelList":[{"messageType":"ERROR","messageCode":"ORDER_EXT_API_SEARCH_ORDER_ERROR_011","message":"startDatetimeの書式が不正です。"}],"PaginationResponseModel":null}"#;
        assert_eq!(
            message_codes(body),
            "ORDER_EXT_API_SEARCH_ORDER_ERROR_011 (startDatetimeの書式が不正です。)"
        );
        assert_eq!(
            message_codes(r#"{"Errors":{"ErrorCode":"GA0001","ErrorMessage":"Un-Authorised"}}"#),
            "GA0001"
        );
        assert_eq!(message_codes("<html>Unauthorized</html>"), "");
    }

    fn client() -> RakutenClient {
        RakutenClient::new(
            StoreRef::new(ichigen_core::MallId::Rakuten, "s"),
            &SecretValue::new("SP1"),
            SecretValue::new("SL1"),
            "http://localhost/",
            &ClientSettings::default(),
        )
        .unwrap()
    }

    fn reply(status: u16, body: &str) -> Result<Reply, SendError> {
        Ok(Reply {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.to_owned(),
            headers: Default::default(),
        })
    }

    const ES01_01: &str =
        include_str!("../../tests/fixtures/rakuten/errors/es01_01_unauthorised.json");
    const ES04_01: &str =
        include_str!("../../tests/fixtures/rakuten/errors/es04_01_not_enabled.json");
    const SEARCH_400: &str =
        include_str!("../../tests/fixtures/rakuten/errors/search_order_400_error_009_011.json");

    #[test]
    fn es01_01_is_a_rejected_license_key() {
        let err = client()
            .check("searchOrder", reply(401, ES01_01))
            .unwrap_err();
        let MallError::CredentialRejected {
            credential, detail, ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(credential, "licenseKey");
        assert!(
            detail.starts_with("HTTP 401 ES01-01 (Un-Authorised): "),
            "{detail}"
        );
        assert!(
            detail.contains("90 days") && detail.contains("WEB APIサービス"),
            "{detail}"
        );
    }

    #[test]
    fn es04_01_asks_to_enable_the_order_api_whatever_the_status() {
        for status in [200, 400, 403] {
            let err = client()
                .check("getOrder", reply(status, ES04_01))
                .unwrap_err();
            assert!(err.is_credential(), "{status}: {err}");
            let text = err.to_string();
            assert!(
                text.contains("ES04-01")
                    && text.contains("楽天ペイ受注API")
                    && text.contains("RMS"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_400_with_message_codes_is_rejected_naming_them() {
        let err = client()
            .check("searchOrder", reply(400, SEARCH_400))
            .unwrap_err();
        assert!(matches!(err, MallError::Rejected { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("ORDER_EXT_API_SEARCH_ORDER_ERROR_009")
                && text.contains("ORDER_EXT_API_SEARCH_ORDER_ERROR_011"),
            "{text}"
        );
    }

    #[test]
    fn auth_header_is_esa_base64_and_hidden_from_debug() {
        let client = RakutenClient::new(
            StoreRef::new(ichigen_core::MallId::Rakuten, "s"),
            &SecretValue::new("SP1"),
            SecretValue::new("SL1"),
            "http://localhost/",
            &ClientSettings::default(),
        )
        .unwrap();
        assert_eq!(client.authorization.to_str().unwrap(), "ESA U1AxOlNMMQ==");
        assert!(client.authorization.is_sensitive());
        assert_eq!(client.base_url, "http://localhost");
        assert!(!format!("{client:?}").contains("U1Ax"));
    }
}
