//! HTTP calls to the Qoo10 QSM API ("QAPI", `shared/malls/qoo10.md` §1–§3).
//!
//! - Style A on the wire: `POST {base}/{Class.Method}`, form body, the certification key in
//!   the `GiosisCertificationKey` header (marked sensitive), `QAPIVersion` per method.
//! - The certification key (SAK, valid a year) is issued with
//!   `CertificationAPI.CreateCertificationKey` from the API key and the QSM login, cached in
//!   memory, re-issued after [`KEY_REISSUE_AFTER`] and at once when a call says it is
//!   expired or unknown (`-90004`/`-90005`/`-10000`, or the `ErrorCode -90001` envelope); the
//!   call is then sent once more with the new key. A second refusal is the credential's fault.
//! - Qoo10 answers HTTP 200 for errors too: success is `ResultCode == 0` and nothing else.
//! - Retries: 429/5xx/timeouts in [`MallHttp`]; on top, an HTML page (Cloudflare) in any
//!   status and the sandbox's busy code are retried here with backoff and full jitter.

use std::fmt;
use std::time::{Duration, Instant};

use ichigen_core::ports::SecretValue;
use ichigen_core::{MallError, StoreRef};
use rand::Rng;
use reqwest::header::HeaderValue;
use serde_json::Value;

use super::Qoo10Credentials;
use crate::connect::ClientSettings;
use crate::http::{MallHttp, SendError};

/// Re-issue the certification key this long after it was issued, well inside its one-year
/// life (qoo10.md §2 suggests a schedule such as every 30 days).
pub(crate) const KEY_REISSUE_AFTER: Duration = Duration::from_secs(30 * 86_400);

/// Qoo10 publishes no rate limit; a production importer keeps ~300 ms between calls
/// (qoo10.md §11, [Q6]). Never faster than that, whatever the settings allow.
pub(crate) const MAX_REQUESTS_PER_SECOND: f64 = 1.0 / 0.3;

/// `ResultCode`s that mean "the key is expired or unknown": re-issue and try again once.
const KEY_CODES: [i64; 6] = [-10000, -90000, -90001, -90002, -90004, -90005];

/// The sandbox's busy answer (qoo10.md §11: a limiter answering a non-zero `ResultCode`; the
/// real code is unknown, I). Retried like a 429.
pub(crate) const BUSY_CODE: i64 = -99999;

/// Credential names used in errors (the secret's field names).
pub(crate) const API_KEY: &str = "apiKey";
pub(crate) const LOGIN: &str = "userId/password";
pub(crate) const CERTIFICATION_KEY: &str = "certification key (issued from apiKey/userId/password)";

/// A QAPI method and the version it is called with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    CreateCertificationKey,
    ShippingInfo,
    ByOrderNo,
    ClaimInfo,
    ItemDetail,
    SellerCheck,
}

impl Method {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::CreateCertificationKey => "CertificationAPI.CreateCertificationKey",
            Method::ShippingInfo => "ShippingBasic.GetShippingInfo_v2",
            Method::ByOrderNo => "ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2",
            Method::ClaimInfo => "ShippingBasic.GetClaimInfo_V3",
            Method::ItemDetail => "ItemsLookup.GetItemDetailInfo",
            Method::SellerCheck => "ShippingBasic.SetSellerCheckYN_V2",
        }
    }

    /// `QAPIVersion` (qoo10.md §1: 1.0, GetItemDetailInfo 1.2).
    fn version(self) -> &'static str {
        match self {
            Method::ItemDetail => "1.2",
            _ => "1.0",
        }
    }
}

/// What one call answered: the `ResultObject`, or Qoo10's refusal of this request.
pub(crate) enum Answer {
    Ok(Value),
    Refused { code: i64, message: String },
}

struct CachedKey {
    header: HeaderValue,
    issued: Instant,
}

pub(crate) struct Qoo10Client {
    store: StoreRef,
    api_base: String,
    api_key: SecretValue,
    user_id: String,
    password: SecretValue,
    key: tokio::sync::Mutex<Option<CachedKey>>,
    http: MallHttp,
    max_attempts: u32,
    backoff_min: Duration,
    backoff_max: Duration,
}

impl fmt::Debug for Qoo10Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Qoo10Client")
            .field("store", &self.store)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// How one attempt ended, before the operation reads it.
enum Attempt {
    Answer(Answer),
    /// The key was refused: re-issue it.
    KeyRefused(String),
    /// Busy, or an HTML page: try again after a pause.
    Again(String),
}

fn sensitive(value: &str) -> HeaderValue {
    let mut header = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    header.set_sensitive(true);
    header
}

impl Qoo10Client {
    pub(crate) fn new(
        store: StoreRef,
        credentials: &Qoo10Credentials,
        api_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let paced = ClientSettings {
            requests_per_second: settings.requests_per_second.min(MAX_REQUESTS_PER_SECOND),
            ..settings.clone()
        };
        Ok(Self {
            store,
            api_base: api_base.trim_end_matches('/').to_owned(),
            api_key: credentials.api_key.clone(),
            user_id: credentials.user_id.clone(),
            password: credentials.password.clone(),
            key: tokio::sync::Mutex::new(None),
            http: MallHttp::new(&paced)?,
            max_attempts: settings.max_attempts.max(1),
            backoff_min: settings.backoff_min,
            backoff_max: settings.backoff_max.max(settings.backoff_min),
        })
    }

    pub(crate) fn store(&self) -> &StoreRef {
        &self.store
    }

    fn credential_error(&self, operation: &str, credential: &str, detail: String) -> MallError {
        MallError::CredentialRejected {
            store: self.store.clone(),
            operation: operation.to_owned(),
            credential: credential.to_owned(),
            detail,
        }
    }

    fn bad_response(&self, operation: &str, detail: String) -> MallError {
        MallError::BadResponse {
            store: self.store.clone(),
            operation: operation.to_owned(),
            detail,
        }
    }

    /// Calls `method`; a refusal of the request comes back as [`Answer::Refused`] for the
    /// operation to read, key and transport problems as errors.
    pub(crate) async fn call(
        &self,
        method: Method,
        params: &[(&str, String)],
    ) -> Result<Answer, MallError> {
        let mut key = self.current_key(method.name(), false).await?;
        let mut reissued = false;
        let mut pauses = 0_u32;
        loop {
            match self.attempt(method, &key, params).await? {
                Attempt::Answer(answer) => return Ok(answer),
                Attempt::KeyRefused(detail) if !reissued => {
                    tracing::info!(store = %self.store, operation = method.name(), refusal = %detail, "certification key refused; issuing a new one");
                    reissued = true;
                    key = self.current_key(method.name(), true).await?;
                }
                Attempt::KeyRefused(detail) => {
                    return Err(self.credential_error(method.name(), CERTIFICATION_KEY, detail));
                }
                Attempt::Again(detail) => {
                    pauses += 1;
                    if pauses >= self.max_attempts {
                        return Err(MallError::Unavailable {
                            store: self.store.clone(),
                            operation: method.name().to_owned(),
                            attempts: pauses,
                            detail,
                        });
                    }
                    tracing::warn!(store = %self.store, operation = method.name(), failure = %detail, "retrying Qoo10 call");
                    tokio::time::sleep(self.pause(pauses)).await;
                }
            }
        }
    }

    /// Full jitter under an exponential ceiling, like [`MallHttp`]'s own retries.
    fn pause(&self, attempt: u32) -> Duration {
        let ceiling = self
            .backoff_min
            .saturating_mul(1_u32 << attempt.min(16))
            .min(self.backoff_max);
        ceiling.mul_f64(rand::rng().random_range(0.0..=1.0))
    }

    /// The cached key, or a new one when there is none, it is old, or `renew` says so.
    async fn current_key(&self, operation: &str, renew: bool) -> Result<HeaderValue, MallError> {
        let mut cached = self.key.lock().await;
        if let Some(key) = cached.as_ref()
            && !renew
            && key.issued.elapsed() < KEY_REISSUE_AFTER
        {
            return Ok(key.header.clone());
        }
        let header = self.issue_key(operation).await?;
        *cached = Some(CachedKey {
            header: header.clone(),
            issued: Instant::now(),
        });
        Ok(header)
    }

    async fn issue_key(&self, operation: &str) -> Result<HeaderValue, MallError> {
        let api_key = sensitive(self.api_key.expose());
        let params = [
            ("user_id", self.user_id.clone()),
            ("pwd", self.password.expose().to_owned()),
        ];
        let mut pauses = 0_u32;
        loop {
            let attempt = self
                .attempt(Method::CreateCertificationKey, &api_key, &params)
                .await?;
            match attempt {
                Attempt::Answer(Answer::Ok(Value::String(key))) if !key.trim().is_empty() => {
                    return Ok(sensitive(key.trim()));
                }
                Attempt::Answer(Answer::Ok(_)) => {
                    return Err(self.bad_response(
                        operation,
                        "CreateCertificationKey answered ResultCode 0 without a key".into(),
                    ));
                }
                Attempt::KeyRefused(detail) => {
                    return Err(self.credential_error(operation, API_KEY, detail));
                }
                Attempt::Answer(Answer::Refused { code, message }) => {
                    return Err(self.credential_error(
                        operation,
                        LOGIN,
                        format!("CreateCertificationKey: ResultCode {code} ({message})"),
                    ));
                }
                Attempt::Again(detail) => {
                    pauses += 1;
                    if pauses >= self.max_attempts {
                        return Err(MallError::Unavailable {
                            store: self.store.clone(),
                            operation: operation.to_owned(),
                            attempts: pauses,
                            detail,
                        });
                    }
                    tokio::time::sleep(self.pause(pauses)).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        key: &HeaderValue,
        params: &[(&str, String)],
    ) -> Result<Attempt, MallError> {
        let url = format!("{}/{}", self.api_base, method.name());
        let mut form: Vec<(&str, &str)> = vec![("returnType", "application/json")];
        form.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let reply = self
            .http
            .send(&self.store, method.name(), || {
                self.http
                    .client()
                    .post(&url)
                    .header("GiosisCertificationKey", key.clone())
                    .header("QAPIVersion", method.version())
                    .form(&form)
            })
            .await
            .map_err(|e| match e {
                SendError::Exhausted { attempts, last } => MallError::Unavailable {
                    store: self.store.clone(),
                    operation: method.name().to_owned(),
                    attempts,
                    detail: last,
                },
                SendError::Invalid(detail) => MallError::Rejected {
                    store: self.store.clone(),
                    operation: method.name().to_owned(),
                    detail,
                },
            })?;
        let body = reply.body.trim_start();
        if body.starts_with('<') {
            // Cloudflare's HTML page (any status): the API was not reached.
            return Ok(Attempt::Again(format!(
                "HTTP {} with an HTML page instead of JSON",
                reply.status.as_u16()
            )));
        }
        if !reply.status.is_success() {
            return Err(MallError::Rejected {
                store: self.store.clone(),
                operation: method.name().to_owned(),
                detail: format!("HTTP {}", reply.status.as_u16()),
            });
        }
        let value: Value = serde_json::from_str(body).map_err(|e| {
            self.bad_response(
                method.name(),
                format!(
                    "the answer is not JSON ({:?} at line {})",
                    e.classify(),
                    e.line()
                ),
            )
        })?;
        read_envelope(&value).map_err(|detail| self.bad_response(method.name(), detail))
    }
}

/// Case-insensitive field of a JSON object (v2 and v3 spell keys differently, qoo10.md §5.4).
pub(crate) fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let map = object.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn code_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads the envelope: `{"ResultObject", "ResultCode", "ResultMsg"}` or the early-rejection
/// shape `{"ErrorCode", "ErrorMsg"}`. `Err` = not an envelope at all.
fn read_envelope(value: &Value) -> Result<Attempt, String> {
    if let Some(code) = field(value, "ErrorCode").and_then(code_of) {
        let message = field(value, "ErrorMsg")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let detail = format!("ErrorCode {code} ({message})");
        return Ok(if code == -90001 || KEY_CODES.contains(&code) {
            Attempt::KeyRefused(detail)
        } else {
            Attempt::Answer(Answer::Refused { code, message })
        });
    }
    let Some(code) = field(value, "ResultCode").and_then(code_of) else {
        return Err("the answer has neither ResultCode nor ErrorCode".into());
    };
    let message = field(value, "ResultMsg")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if code == 0 {
        let object = field(value, "ResultObject").cloned().unwrap_or(Value::Null);
        return Ok(Attempt::Answer(Answer::Ok(object)));
    }
    if code == BUSY_CODE {
        return Ok(Attempt::Again(format!("ResultCode {code} ({message})")));
    }
    if KEY_CODES.contains(&code) {
        // For CreateCertificationKey the caller names the API key instead of the SAK.
        return Ok(Attempt::KeyRefused(format!(
            "ResultCode {code} ({message})"
        )));
    }
    Ok(Attempt::Answer(Answer::Refused { code, message }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(value: Value) -> &'static str {
        match read_envelope(&value) {
            Ok(Attempt::Answer(Answer::Ok(_))) => "ok",
            Ok(Attempt::Answer(Answer::Refused { .. })) => "refused",
            Ok(Attempt::KeyRefused(_)) => "key",
            Ok(Attempt::Again(_)) => "again",
            Err(_) => "bad",
        }
    }

    #[test]
    fn a_200_is_success_only_with_result_code_zero() {
        assert_eq!(
            kind(json!({"ResultObject": [], "ResultCode": 0, "ResultMsg": "SUCCESS"})),
            "ok"
        );
        assert_eq!(kind(json!({"resultcode": "0"})), "ok");
        assert_eq!(
            kind(
                json!({"ResultCode": -10003, "ResultMsg": "Searching period exceeds to 90 days."})
            ),
            "refused"
        );
        assert_eq!(
            kind(json!({"ErrorCode": -90001, "ErrorMsg": "存在しないAPIです。"})),
            "key"
        );
        assert_eq!(
            kind(json!({"ResultCode": -90004, "ResultMsg": "expired"})),
            "key"
        );
        assert_eq!(kind(json!({"ResultCode": BUSY_CODE})), "again");
        assert_eq!(kind(json!({"ResultObject": []})), "bad");
        assert_eq!(kind(json!(null)), "bad");
    }
}
