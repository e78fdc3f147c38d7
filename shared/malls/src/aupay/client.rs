//! HTTP calls to the Wow!manager API and what its answers mean.
//!
//! - One [`MallHttp`] per store: one token bucket for all of the store's calls. au PAY
//!   documents no rate limit; the clients that run against production pace themselves at about
//!   one request a second (a 0.9 s sleep between pages in nakyahara/bfaith-portal
//!   `aupay-orders.js`, a 1.0 s interval in ryojrcreators/daily-wholesale-report
//!   `case_orders_wowma.py`; aupay.md §7), which is [`ClientSettings`]' default rate.
//! - 429, 5xx and timeouts are retried by [`MallHttp`] with backoff and full jitter; the HTML
//!   502 page au PAY answers under load is a 5xx and so retried the same way. A non-XML page
//!   with a 2xx status ("String could not be parsed as XML", a vendor manual's transient
//!   au PAY error) is retried here with the same backoff; when the attempts run out it is
//!   reported as unavailable (worth a later run), never as an unreadable answer.
//! - The key travels as `Authorization: Bearer`, marked sensitive; URLs carry only the
//!   `shopId` and dates.

use std::fmt;
use std::time::Duration;

use ichigen_core::{MallError, StoreRef};
use rand::Rng;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};

use super::AupayCredentials;
use crate::connect::ClientSettings;
use crate::http::{MallHttp, Reply, SendError};
use crate::xml::{self, Element};

/// The auth failure code: a bad or expired key, one without the right to the API, or an
/// unregistered source IP (aupay.md §2).
pub const AUTH_FAILED: &str = "0002";
/// The code au PAY answers a `shopId` that is not the key's store with (aupay.md §2).
pub const WRONG_SHOP: &str = "CME0022";

/// Credential names used in errors (the secret's field names).
pub(crate) const API_KEY: &str = "apiKey";
pub(crate) const SHOP_ID: &str = "shopId";

/// The Wow!manager APIs the client calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    SearchTradeInfoList,
    SearchTradeInfo,
    UpdateTradeSts,
}

impl Api {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Api::SearchTradeInfoList => "searchTradeInfoListProc",
            Api::SearchTradeInfo => "searchTradeInfoProc",
            Api::UpdateTradeSts => "updateTradeStsProc",
        }
    }
}

/// au PAY's `<error>`: code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    fn of(result: Option<&Element>) -> Self {
        let error = result.and_then(|r| r.child("error"));
        Self {
            code: error
                .and_then(|e| e.child_text("code"))
                .unwrap_or("")
                .to_owned(),
            message: error
                .and_then(|e| e.child_text("message"))
                .unwrap_or("")
                .to_owned(),
        }
    }

    pub fn describe(&self) -> String {
        match (self.code.is_empty(), self.message.is_empty()) {
            (true, true) => "no error code or message".into(),
            (false, true) => self.code.clone(),
            (true, false) => self.message.clone(),
            (false, false) => format!("{} ({})", self.code, self.message),
        }
    }
}

/// What one reply means, before the operation looks at it.
#[derive(Debug)]
pub enum Answer {
    /// `result/status` 0: the whole `<response>`.
    Ok(Element),
    /// `result/status` 1 with an ordinary error (the request or this order was refused).
    Refused(ErrorBody),
    /// The key was refused (HTTP 401 or code `0002`).
    KeyRefused(ErrorBody),
    /// The `shopId` is not the key's store (`CME0022`).
    WrongShop(ErrorBody),
    /// An HTML (or other non-XML) page: au PAY under load.
    Page(String),
    /// XML we cannot read as an answer.
    Unreadable(String),
}

/// Reads a reply's status and body. Works on the `<response>` envelope and on a bare
/// `<result>` (the shape of the public `CME0022` fragment).
pub fn classify(status: StatusCode, body: &str) -> Answer {
    let trimmed = body.trim_start();
    let root = match xml::parse(body) {
        Ok(root) if root.name == "response" || root.name == "result" => root,
        Ok(root) if root.name.eq_ignore_ascii_case("html") => return Answer::Page(title(body)),
        Ok(root) => {
            return Answer::Unreadable(format!(
                "the answer's root is <{}>, not <response>",
                root.name
            ));
        }
        Err(_) if trimmed.starts_with('<') && !trimmed.starts_with("<?xml") => {
            return Answer::Page(title(body));
        }
        Err(e) if status == StatusCode::UNAUTHORIZED => {
            return Answer::KeyRefused(ErrorBody {
                code: String::new(),
                message: format!("HTTP 401 with an unreadable body ({e})"),
            });
        }
        Err(e) if trimmed.starts_with("<?xml") || trimmed.is_empty() => {
            return Answer::Unreadable(e.to_string());
        }
        Err(_) => return Answer::Page(title(body)),
    };
    let result = if root.name == "result" {
        Some(&root)
    } else {
        root.child("result")
    };
    let error = ErrorBody::of(result);
    if status == StatusCode::UNAUTHORIZED || error.code == AUTH_FAILED {
        return Answer::KeyRefused(error);
    }
    if error.code == WRONG_SHOP {
        return Answer::WrongShop(error);
    }
    match result.and_then(|r| r.child_text("status")) {
        Some("0") if status.is_success() => Answer::Ok(root),
        Some("1") => Answer::Refused(error),
        Some("0") => Answer::Refused(ErrorBody {
            code: format!("HTTP {}", status.as_u16()),
            message: "status 0 on a non-success HTTP status".into(),
        }),
        Some(other) => Answer::Unreadable(format!("result/status is {other:?}, not 0 or 1")),
        None => Answer::Unreadable("the answer has no result/status".into()),
    }
}

/// The `<title>` of an HTML page (what one public client reports), or its first characters.
fn title(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + 7 <= end
        && let Some(text) = body.get(start + 7..end)
    {
        return text.trim().chars().take(80).collect();
    }
    let cut: String = body.chars().take(40).collect();
    format!("a non-XML page starting {cut:?}")
}

pub(crate) struct AupayClient {
    store: StoreRef,
    shop_id: String,
    api_base: String,
    authorization: HeaderValue,
    http: MallHttp,
    /// For 2xx non-XML pages: attempts in all, and the backoff between them.
    attempts: u32,
    backoff_min: Duration,
    backoff_max: Duration,
}

impl fmt::Debug for AupayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AupayClient")
            .field("store", &self.store)
            .field("shop_id", &self.shop_id)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl AupayClient {
    pub(crate) fn new(
        store: StoreRef,
        credentials: &AupayCredentials,
        api_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", credentials.api_key.expose()))
                .unwrap_or_else(|_| HeaderValue::from_static(""));
        authorization.set_sensitive(true);
        Ok(Self {
            store,
            shop_id: credentials.shop_id.clone(),
            api_base: api_base.trim_end_matches('/').to_owned(),
            authorization,
            http: MallHttp::new(settings)?,
            attempts: settings.max_attempts.max(1),
            backoff_min: settings.backoff_min,
            backoff_max: settings.backoff_max.max(settings.backoff_min),
        })
    }

    pub(crate) fn store(&self) -> &StoreRef {
        &self.store
    }

    /// A read (`search*`): GET with the query string, `shopId` first.
    pub(crate) async fn get(
        &self,
        api: Api,
        query: &[(&str, String)],
    ) -> Result<Result<Element, ErrorBody>, MallError> {
        let url = format!("{}/wmshopapi/{}", self.api_base, api.name());
        let mut params: Vec<(&str, String)> = vec![("shopId", self.shop_id.clone())];
        params.extend(query.iter().cloned());
        self.send(api, || {
            self.http
                .client()
                .get(&url)
                .query(&params)
                .header(AUTHORIZATION, self.authorization.clone())
                // Every client sends it on reads too (aupay.md §1).
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        })
        .await
    }

    /// A write (`update*`): POST of a flat `<request>` with `shopId` first.
    pub(crate) async fn post(
        &self,
        api: Api,
        fields: Vec<Element>,
    ) -> Result<Result<Element, ErrorBody>, MallError> {
        let url = format!("{}/wmshopapi/{}", self.api_base, api.name());
        let mut request = Element::new("request").with(Element::leaf("shopId", &self.shop_id));
        request.children.extend(fields);
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            request.to_xml()
        );
        self.send(api, || {
            self.http
                .client()
                .post(&url)
                .header(AUTHORIZATION, self.authorization.clone())
                .header(CONTENT_TYPE, "application/xml; charset=utf-8")
                .body(body.clone())
        })
        .await
    }

    /// Sends through [`MallHttp`] (which retries 429, 5xx and timeouts), and sends again when
    /// au PAY answers a 2xx page that is not XML.
    async fn send(
        &self,
        api: Api,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Result<Element, ErrorBody>, MallError> {
        let mut attempt = 1;
        loop {
            let reply = self.http.send(&self.store, api.name(), &build).await;
            let page = matches!(&reply, Ok(r) if r.status.is_success()
                && matches!(classify(r.status, &r.body), Answer::Page(_)));
            if !page || attempt >= self.attempts {
                return self.interpret(api, reply, attempt);
            }
            let ceiling = self
                .backoff_min
                .saturating_mul(1 << attempt.min(16))
                .min(self.backoff_max);
            let delay = ceiling.mul_f64(rand::rng().random_range(0.0..=1.0));
            tracing::warn!(store = %self.store, operation = api.name(), attempt, delay_ms = delay.as_millis() as u64, "au PAY answered a page that is not XML; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn interpret(
        &self,
        api: Api,
        reply: Result<Reply, SendError>,
        page_attempts: u32,
    ) -> Result<Result<Element, ErrorBody>, MallError> {
        let operation = api.name();
        let reply = match reply {
            Ok(reply) => reply,
            Err(SendError::Exhausted { attempts, last }) => {
                return Err(MallError::Unavailable {
                    store: self.store.clone(),
                    operation: operation.into(),
                    attempts,
                    detail: last,
                });
            }
            Err(SendError::Invalid(detail)) => {
                return Err(MallError::Rejected {
                    store: self.store.clone(),
                    operation: operation.into(),
                    detail,
                });
            }
        };
        let status = reply.status.as_u16();
        match classify(reply.status, &reply.body) {
            Answer::Ok(root) => Ok(Ok(root)),
            Answer::Refused(error) if reply.status.is_success() => Ok(Err(error)),
            Answer::Refused(error) => Err(MallError::Rejected {
                store: self.store.clone(),
                operation: operation.into(),
                detail: format!("HTTP {status}: {}", error.describe()),
            }),
            Answer::KeyRefused(error) => {
                tracing::error!(store = %self.store, operation, code = %error.code, "au PAY refused the API key");
                Err(MallError::CredentialRejected {
                    store: self.store.clone(),
                    operation: operation.into(),
                    credential: API_KEY.into(),
                    detail: format!(
                        "HTTP {status} {}: the key may have expired (keys last 90 days and are \
                         re-issued by hand in Wow!manager), lack the right to this API (API区分), \
                         or the caller's IP may not be registered",
                        error.describe()
                    ),
                })
            }
            Answer::WrongShop(error) => {
                tracing::error!(store = %self.store, operation, "au PAY says the shopId is not the key's store");
                Err(MallError::CredentialRejected {
                    store: self.store.clone(),
                    operation: operation.into(),
                    credential: SHOP_ID.into(),
                    detail: format!(
                        "HTTP {status} {}: the store's shopId does not belong to its API key",
                        error.describe()
                    ),
                })
            }
            Answer::Page(title) => Err(MallError::Unavailable {
                store: self.store.clone(),
                operation: operation.into(),
                attempts: page_attempts,
                detail: format!("HTTP {status} with an HTML page ({title}): au PAY is busy"),
            }),
            Answer::Unreadable(problem) => Err(MallError::BadResponse {
                store: self.store.clone(),
                operation: operation.into(),
                detail: format!("HTTP {status}: {problem}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        let ok = "<?xml version=\"1.0\"?><response><result><status>0</status></result><resultCount>0</resultCount></response>";
        assert!(matches!(classify(StatusCode::OK, ok), Answer::Ok(_)));
        let auth = "<response><result><status>1</status><error><code>0002</code><message>認証に失敗しました</message></error></result></response>";
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, auth),
            Answer::KeyRefused(e) if e.code == "0002"
        ));
        // The shape of the public CME0022 note: a bare <result>, indented, message elided.
        let wrong_shop = "<result><status>1</status>\n        <error><code>CME0022</code><message>...</message></error></result>";
        assert!(matches!(
            classify(StatusCode::OK, wrong_shop),
            Answer::WrongShop(e) if e.code == "CME0022"
        ));
        let refused = "<response><result><status>1</status><error><code>X1</code><message>[orderId]必須入力項目です</message></error></result></response>";
        assert!(matches!(classify(StatusCode::OK, refused), Answer::Refused(e) if e.code == "X1"));
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body></html>";
        assert!(matches!(
            classify(StatusCode::OK, page),
            Answer::Page(t) if t == "502 Bad Gateway"
        ));
        assert!(matches!(
            classify(StatusCode::OK, "<!DOCTYPE html><html><body><p>busy"),
            Answer::Page(_)
        ));
        assert!(matches!(
            classify(StatusCode::OK, "String could not be parsed"),
            Answer::Page(_)
        ));
        assert!(matches!(
            classify(StatusCode::OK, "<response><status>0</status></response>"),
            Answer::Unreadable(_)
        ));
    }
}
