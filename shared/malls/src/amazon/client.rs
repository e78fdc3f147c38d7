//! HTTP calls to SP-API (Orders v0, Tokens 2021-03-01) and the Login with Amazon token
//! endpoint.
//!
//! - Auth: the LWA `refresh_token` grant gives a 1-hour access token, sent as
//!   `x-amz-access-token`; it is cached until [`TOKEN_MARGIN`] before expiry and fetched
//!   again once when a call answers 403 (revoked or expired server-side). No SigV4 (§1).
//! - Restricted data: `createRestrictedDataToken` for exact paths (no trailing slash) and
//!   data elements; the RDT replaces the access token on those calls.
//! - Rates: one [`MallHttp`] per operation, each paced with the operation's documented rate
//!   and burst (amazon.md §7); when an answer's `x-amzn-RateLimit-Limit` names another rate
//!   (a seller granted more, or less), the operation's bucket follows it. 429 `QuotaExceeded`,
//!   5xx and HTML error pages are retried with backoff by [`MallHttp`].

use std::fmt;
use std::time::{Duration, Instant};

use ichigen_core::ports::SecretValue;
use ichigen_core::{MallError, StoreRef};
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use super::AmazonCredentials;
use crate::connect::ClientSettings;
use crate::http::{MallHttp, Reply, SendError};

/// Refresh the access token this long before LWA says it expires (the Java SDK's 60 s).
pub(crate) const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Credential names used in errors (the secret's field names).
pub(crate) const REFRESH_TOKEN: &str = "refreshToken (LWA)";
pub(crate) const CLIENT: &str = "clientId/clientSecret (LWA)";
pub(crate) const ACCESS: &str = "LWA access token (the app's authorisation)";
pub(crate) const RESTRICTED: &str = "restricted-data token (the app's PII role)";

/// An SP-API operation with its documented usage plan (rate per second, burst).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Operation {
    pub name: &'static str,
    pub rate: f64,
    pub burst: u32,
}

pub(crate) const GET_ORDERS: Operation = Operation {
    name: "getOrders",
    rate: 0.0167,
    burst: 20,
};
pub(crate) const GET_ORDER: Operation = Operation {
    name: "getOrder",
    rate: 0.5,
    burst: 30,
};
pub(crate) const GET_ORDER_ITEMS: Operation = Operation {
    name: "getOrderItems",
    rate: 0.5,
    burst: 30,
};
pub(crate) const CREATE_RDT: Operation = Operation {
    name: "createRestrictedDataToken",
    rate: 1.0,
    burst: 10,
};

/// The mall's answer: a JSON body, or a status the operation interprets.
pub(crate) enum Answer {
    Ok(Value),
    /// 404 (an unknown order id on operations other than getOrder).
    NotFound(String),
}

struct CachedToken {
    header: HeaderValue,
    refresh_at: Instant,
}

/// One operation's HTTP client and the rate it is paced at now.
struct Paced {
    operation: Operation,
    http: MallHttp,
    rate: std::sync::Mutex<f64>,
}

pub(crate) struct AmazonClient {
    store: StoreRef,
    api_base: String,
    token_url: String,
    client_id: String,
    client_secret: SecretValue,
    refresh_token: SecretValue,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    operations: Vec<Paced>,
    token_http: MallHttp,
}

impl fmt::Debug for AmazonClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonClient")
            .field("store", &self.store)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// `{"errors":[{"code","message","details"}]}` in a line; the raw text when it is not that.
pub(crate) fn describe_errors(body: &str) -> String {
    let parsed: Option<Vec<String>> = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.get("errors").and_then(Value::as_array).map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
                    let details = text("details");
                    if details.is_empty() {
                        format!("{} ({})", text("code"), text("message"))
                    } else {
                        format!("{} ({}; {details})", text("code"), text("message"))
                    }
                })
                .collect()
        })
    });
    match parsed {
        Some(list) if !list.is_empty() => list.join("; "),
        _ => body.chars().take(200).collect(),
    }
}

/// What an LWA error answer says: `(error, error_description)`.
pub(crate) fn lwa_error(body: &str) -> (String, String) {
    // A truncated body (one public sample lacks its closing brace) still names its error.
    let value: Value = serde_json::from_str(body)
        .or_else(|_| serde_json::from_str(&format!("{body}}}")))
        .unwrap_or(Value::Null);
    let text = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (text("error"), text("error_description"))
}

/// Which credential an LWA refusal is about, or `None` when it is not about a credential.
pub(crate) fn lwa_credential(status: StatusCode, error: &str) -> Option<&'static str> {
    match error {
        "invalid_client" | "unauthorized_client" => Some(CLIENT),
        "invalid_grant" => Some(REFRESH_TOKEN),
        _ if status == StatusCode::UNAUTHORIZED => Some(CLIENT),
        _ => None,
    }
}

impl AmazonClient {
    pub(crate) fn new(
        store: StoreRef,
        credentials: AmazonCredentials,
        api_base: &str,
        auth_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let operations = [GET_ORDERS, GET_ORDER, GET_ORDER_ITEMS, CREATE_RDT]
            .into_iter()
            .map(|operation| {
                Ok(Paced {
                    operation,
                    http: MallHttp::paced(settings, operation.rate, operation.burst)?,
                    rate: std::sync::Mutex::new(operation.rate),
                })
            })
            .collect::<Result<Vec<_>, reqwest::Error>>()?;
        Ok(Self {
            store,
            api_base: api_base.trim_end_matches('/').to_owned(),
            token_url: format!("{}/auth/o2/token", auth_base.trim_end_matches('/')),
            client_id: credentials.client_id,
            client_secret: credentials.client_secret,
            refresh_token: credentials.refresh_token,
            token: tokio::sync::Mutex::new(None),
            operations,
            // LWA documents no rate; one exchange an hour per store is what we need.
            token_http: MallHttp::new(settings)?,
        })
    }

    pub(crate) fn store(&self) -> &StoreRef {
        &self.store
    }

    fn paced(&self, operation: Operation) -> &Paced {
        self.operations
            .iter()
            .find(|p| p.operation.name == operation.name)
            .unwrap_or(&self.operations[0])
    }

    fn unavailable(&self, operation: &str, error: SendError) -> MallError {
        match error {
            SendError::Exhausted { attempts, last } => MallError::Unavailable {
                store: self.store.clone(),
                operation: operation.into(),
                attempts,
                detail: last,
            },
            SendError::Invalid(detail) => MallError::Rejected {
                store: self.store.clone(),
                operation: operation.into(),
                detail,
            },
        }
    }

    fn credential(&self, operation: &str, credential: &str, detail: String) -> MallError {
        MallError::CredentialRejected {
            store: self.store.clone(),
            operation: operation.into(),
            credential: credential.into(),
            detail,
        }
    }

    fn bad_response(&self, operation: &str, detail: String) -> MallError {
        MallError::BadResponse {
            store: self.store.clone(),
            operation: operation.into(),
            detail,
        }
    }

    /// The cached access token, or a fresh one from LWA.
    async fn access_token(&self) -> Result<HeaderValue, MallError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.header.clone());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.refresh_token.expose()),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let reply = self
            .token_http
            .send(&self.store, "lwaToken", || {
                self.token_http.client().post(&self.token_url).form(&form)
            })
            .await
            .map_err(|e| self.unavailable("lwaToken", e))?;
        if !reply.status.is_success() {
            let (error, description) = lwa_error(&reply.body);
            let detail = format!(
                "LWA answered HTTP {} {error}: {description}",
                reply.status.as_u16()
            );
            return Err(match lwa_credential(reply.status, &error) {
                Some(credential) => self.credential("lwaToken", credential, detail),
                None => MallError::Rejected {
                    store: self.store.clone(),
                    operation: "lwaToken".into(),
                    detail,
                },
            });
        }
        let value: Value = serde_json::from_str(&reply.body)
            .map_err(|_| self.bad_response("lwaToken", "the token answer is not JSON".into()))?;
        let token = value
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                self.bad_response("lwaToken", "the answer has no access_token".into())
            })?;
        let lifetime = value
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        let mut header = HeaderValue::from_str(token).map_err(|_| {
            self.bad_response("lwaToken", "the access token is not a header value".into())
        })?;
        header.set_sensitive(true);
        let refresh_at =
            Instant::now() + Duration::from_secs(lifetime).saturating_sub(TOKEN_MARGIN);
        *cached = Some(CachedToken {
            header: header.clone(),
            refresh_at,
        });
        tracing::info!(store = %self.store, lifetime, "LWA access token refreshed");
        Ok(header)
    }

    async fn forget_token(&self, used: &HeaderValue) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.header == *used) {
            *cached = None;
        }
    }

    /// Follows the rate the answer reports for its operation.
    fn follow_rate(&self, paced: &Paced, reply: &Reply) {
        let Some(rate) = reply
            .headers
            .get("x-amzn-RateLimit-Limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|r| r.is_finite() && *r > 0.0)
        else {
            return;
        };
        let mut current = paced.rate.lock().unwrap_or_else(|p| p.into_inner());
        if (*current - rate).abs() > f64::EPSILON * rate.max(1.0) {
            tracing::info!(store = %self.store, operation = paced.operation.name, from = *current, to = rate, "following Amazon's reported rate");
            *current = rate;
            paced.http.set_pace(rate, paced.operation.burst);
        }
    }

    /// One SP-API call. `restricted`: the RDT to use instead of the access token.
    pub(crate) async fn call(
        &self,
        operation: Operation,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        restricted: Option<&HeaderValue>,
    ) -> Result<Answer, MallError> {
        let paced = self.paced(operation);
        let url = format!("{}{path}", self.api_base);
        let mut refreshed = false;
        loop {
            let token = match restricted {
                Some(rdt) => rdt.clone(),
                None => self.access_token().await?,
            };
            let reply = paced
                .http
                .send(&self.store, operation.name, || {
                    let mut request = paced
                        .http
                        .client()
                        .request(method.clone(), &url)
                        .header("x-amz-access-token", token.clone())
                        .query(query);
                    if let Some(body) = body {
                        request = request.json(body);
                    }
                    request
                })
                .await
                .map_err(|e| self.unavailable(operation.name, e))?;
            self.follow_rate(paced, &reply);
            match reply.status {
                s if s.is_success() => {
                    let value = serde_json::from_str(&reply.body).map_err(|_| {
                        self.bad_response(
                            operation.name,
                            format!("HTTP {} with a body that is not JSON", s.as_u16()),
                        )
                    })?;
                    return Ok(Answer::Ok(value));
                }
                StatusCode::FORBIDDEN if restricted.is_none() && !refreshed => {
                    // The cached token may have been revoked or expired on Amazon's side:
                    // one fresh token, then the refusal stands.
                    refreshed = true;
                    self.forget_token(&token).await;
                }
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => {
                    let credential = if restricted.is_some() {
                        RESTRICTED
                    } else {
                        ACCESS
                    };
                    return Err(self.credential(
                        operation.name,
                        credential,
                        format!(
                            "HTTP {}: {}",
                            reply.status.as_u16(),
                            describe_errors(&reply.body)
                        ),
                    ));
                }
                StatusCode::NOT_FOUND => return Ok(Answer::NotFound(describe_errors(&reply.body))),
                s if s.is_client_error() => {
                    return Err(MallError::Rejected {
                        store: self.store.clone(),
                        operation: operation.name.into(),
                        detail: format!("HTTP {}: {}", s.as_u16(), describe_errors(&reply.body)),
                    });
                }
                s => {
                    return Err(self.bad_response(
                        operation.name,
                        format!(
                            "unexpected HTTP {}: {}",
                            s.as_u16(),
                            describe_errors(&reply.body)
                        ),
                    ));
                }
            }
        }
    }

    /// A restricted-data token for GET on each of `paths` with `data_elements`.
    pub(crate) async fn restricted_data_token(
        &self,
        resources: &[(String, &[&str])],
    ) -> Result<HeaderValue, MallError> {
        let resources: Vec<Value> = resources
            .iter()
            .map(|(path, data_elements)| {
                json!({"method": "GET", "path": path, "dataElements": data_elements})
            })
            .collect();
        let body = json!({"restrictedResources": resources});
        let answer = self
            .call(
                CREATE_RDT,
                reqwest::Method::POST,
                "/tokens/2021-03-01/restrictedDataToken",
                &[],
                Some(&body),
                None,
            )
            .await?;
        let Answer::Ok(value) = answer else {
            return Err(self.bad_response(CREATE_RDT.name, "HTTP 404".into()));
        };
        let token = value
            .get("restrictedDataToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.bad_response(CREATE_RDT.name, "no restrictedDataToken".into()))?;
        let mut header = HeaderValue::from_str(token).map_err(|_| {
            self.bad_response(CREATE_RDT.name, "the token is not a header value".into())
        })?;
        header.set_sensitive(true);
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/../../../shared/malls/samples/amazon/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The public real LWA answers map to the credential they are about.
    #[test]
    fn real_lwa_errors_name_the_credential() {
        for (file, status, credential) in [
            (
                "spapi-docs268-lwa-400-invalid_grant.json",
                400,
                REFRESH_TOKEN,
            ),
            (
                "spapi-docs2379-lwa-invalid_grant-revoked.json",
                400,
                REFRESH_TOKEN,
            ),
            (
                "spapi-models4112-lwa-invalid_grant-code.json",
                400,
                REFRESH_TOKEN,
            ),
            ("jlevers602-lwa-401-invalid_client.json", 401, CLIENT),
        ] {
            let (error, _) = lwa_error(&sample(file));
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(lwa_credential(status, &error), Some(credential), "{file}");
        }
    }

    /// The public real SP-API error bodies are read into one line naming the code.
    #[test]
    fn real_error_bodies_are_described() {
        for (file, code) in [
            (
                "spapi-docs2132-error-429-QuotaExceeded.json",
                "QuotaExceeded",
            ),
            (
                "spapi-docs2147-error-403-token-revoked.json",
                "Unauthorized",
            ),
            (
                "spapi-models826-error-403-Unauthorized.json",
                "Unauthorized",
            ),
            (
                "jlevers230-error-500-InternalFailure.json",
                "InternalFailure",
            ),
            ("amzn-models-sandbox-getOrders-400.json", "InvalidInput"),
        ] {
            let text = describe_errors(&sample(file));
            assert!(text.starts_with(code), "{file}: {text}");
        }
    }
}
