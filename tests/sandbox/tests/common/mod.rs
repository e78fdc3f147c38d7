//! Shared helpers for the sandbox's own HTTP tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ichigen_sandbox::control::RegisterStoreRequest;
use ichigen_sandbox::time::{self, DAY_SECS};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const SHOP: &str = "998877";
pub const SECRET: &str = "SP998877_sandbox";
pub const KEY: &str = "SL998877_key1";
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

pub struct Env {
    pub sandbox: Sandbox,
    pub control: ControlClient,
    pub http: reqwest::Client,
}

/// A response as the tests look at it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// `messageCode`s of `MessageModelList`, in order.
    pub fn codes(&self) -> Vec<String> {
        self.body["MessageModelList"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|m| m["messageCode"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn numbers(&self) -> Vec<String> {
        self.body["orderNumberList"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn esa(secret: &str, key: &str) -> String {
    format!("ESA {}", STANDARD.encode(format!("{secret}:{key}")))
}

pub fn now() -> i64 {
    time::now_secs()
}

/// `YYYY-MM-DDThh:mm:ss+0900` for `days` days (may be fractional via seconds) from now.
pub fn jst(secs: i64) -> String {
    time::format_rakuten_datetime(secs)
}

/// Now truncated to whole minutes, minus `days` days: a stable anchor inside the window.
pub fn days_ago(days: i64) -> i64 {
    let n = now();
    n - n.rem_euclid(60) - days * DAY_SECS
}

/// Sandbox with one registered store.
pub async fn start() -> Env {
    start_with_seed(42).await
}

pub async fn start_with_seed(seed: u64) -> Env {
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed })
        .await
        .expect("spawn sandbox");
    let control = sandbox.control();
    control
        .rakuten_register_store(&RegisterStoreRequest::new(SHOP, SECRET, KEY))
        .await
        .expect("register store");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    Env {
        sandbox,
        control,
        http,
    }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// POST a JSON body with the given auth header and content type.
    pub async fn post_raw(
        &self,
        path: &str,
        auth: Option<&str>,
        content_type: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut request = self.http.post(self.url(path)).body(body.to_string());
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.expect("send");
        reply(response).await
    }

    /// POST with the registered store's credentials.
    pub async fn rakuten(&self, op: &str, body: &Value) -> Reply {
        let auth = esa(SECRET, KEY);
        self.post_raw(
            &format!("/es/2.0/order/{op}/"),
            Some(&auth),
            Some(JSON_UTF8),
            body,
        )
        .await
    }

    pub async fn search(&self, body: Value) -> Reply {
        self.rakuten("searchOrder", &body).await
    }

    /// dateType 1 search over `[start, end]` with a page size and page.
    pub async fn search_window(&self, start: i64, end: i64, size: u64, page: u64) -> Reply {
        self.search(json!({
            "dateType": 1,
            "startDatetime": jst(start),
            "endDatetime": jst(end),
            "PaginationRequestModel": {
                "requestRecordsAmount": size,
                "requestPage": page,
                "SortModelList": [{ "sortColumn": 1, "sortDirection": 1 }],
            },
        }))
        .await
    }

    pub async fn get_orders(&self, numbers: &[String]) -> Reply {
        self.rakuten(
            "getOrder",
            &json!({ "orderNumberList": numbers, "version": 7 }),
        )
        .await
    }

    pub async fn expiry(&self, auth: Option<&str>, key: Option<&str>) -> Reply {
        let mut url = self.url("/es/1.0/license-management/license-key/expiry-date");
        if let Some(key) = key {
            url = format!("{url}?licenseKey={key}");
        }
        let mut request = self.http.get(url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        reply(request.send().await.expect("send")).await
    }
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}
