//! Building a store's mall adapter: the one place that knows which mall module to use.

use std::sync::Arc;
use std::time::Duration;

use ichigen_core::mall::NormaliseError;
use ichigen_core::ports::{RateSlots, SecretValue};
use ichigen_core::{JstInstant, Mall, MallId, Order, StoreRef};

use crate::amazon::{self, AmazonCredentials, AmazonMall};
use crate::aupay::{self, AupayCredentials, AupayMall};
use crate::qoo10::{self, Qoo10Credentials, Qoo10Mall};
use crate::rakuten::{self, RakutenCredentials, RakutenMall};
use crate::rate_budget::SharedRateBudget;
use crate::yahoo::{self, YahooCredentials, YahooMall};

/// Where each mall's API lives; production defaults, overridable by env for the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MallEndpoints {
    /// Rakuten RMS WEB SERVICE base URL, without a trailing slash.
    pub rakuten: String,
    /// Yahoo! Shopping Store API and YConnect.
    pub yahoo: YahooEndpoints,
    /// au PAY Market's Wow!manager API base (paths `/wmshopapi/...`), without a trailing slash.
    pub aupay: String,
    /// Qoo10 QAPI service URL (`…/ebayjapan.qapi`), without a trailing slash.
    pub qoo10: String,
    /// Amazon SP-API and Login with Amazon.
    pub amazon: AmazonEndpoints,
}

/// Amazon's two hosts: SP-API and the Login with Amazon token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmazonEndpoints {
    /// `https://sellingpartnerapi-fe.amazon.com` (paths `/orders/v0/...`, `/tokens/...`).
    pub api: String,
    /// `https://api.amazon.com` (path `/auth/o2/token`).
    pub auth: String,
}

impl AmazonEndpoints {
    /// Both hosts at one base URL (the sandbox serves them together).
    pub fn at(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/').to_owned();
        Self {
            api: base.clone(),
            auth: base,
        }
    }
}

impl Default for AmazonEndpoints {
    fn default() -> Self {
        Self {
            api: amazon::API_BASE.to_owned(),
            auth: amazon::AUTH_BASE.to_owned(),
        }
    }
}

/// Yahoo's two hosts: the Store API and YConnect's token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YahooEndpoints {
    /// `https://circus.shopping.yahooapis.jp` (paths `/ShoppingWebService/V1/...`).
    pub api: String,
    /// `https://auth.login.yahoo.co.jp` (path `/yconnect/v2/token`).
    pub auth: String,
}

impl YahooEndpoints {
    /// Both hosts at one base URL (the sandbox serves both).
    pub fn at(base_url: &str) -> Self {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        Self {
            api: base.clone(),
            auth: base,
        }
    }
}

impl Default for YahooEndpoints {
    fn default() -> Self {
        Self {
            api: yahoo::API_BASE.to_owned(),
            auth: yahoo::AUTH_BASE.to_owned(),
        }
    }
}

impl MallEndpoints {
    pub const RAKUTEN_DEFAULT: &'static str = "https://api.rms.rakuten.co.jp";

    /// Production endpoints, except where `ICHIGEN_RAKUTEN_BASE_URL`,
    /// `ICHIGEN_YAHOO_BASE_URL` (both Yahoo hosts; `ICHIGEN_YAHOO_AUTH_BASE_URL` moves the
    /// token endpoint alone), `ICHIGEN_AUPAY_BASE_URL`, `ICHIGEN_QOO10_BASE_URL` (a host: the
    /// QAPI service path is appended) or `ICHIGEN_AMAZON_BASE_URL` (SP-API and LWA;
    /// `ICHIGEN_AMAZON_AUTH_BASE_URL` moves LWA alone) point elsewhere (the local sandbox).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let base = |name: &str, default: &str| {
            lookup(name)
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let yahoo_api = base("ICHIGEN_YAHOO_BASE_URL", yahoo::API_BASE);
        let yahoo_auth_default = if yahoo_api == yahoo::API_BASE {
            yahoo::AUTH_BASE.to_owned()
        } else {
            yahoo_api.clone()
        };
        let amazon_api = base("ICHIGEN_AMAZON_BASE_URL", amazon::API_BASE);
        let amazon_auth_default = if amazon_api == amazon::API_BASE {
            amazon::AUTH_BASE.to_owned()
        } else {
            amazon_api.clone()
        };
        Self {
            rakuten: base("ICHIGEN_RAKUTEN_BASE_URL", Self::RAKUTEN_DEFAULT),
            yahoo: YahooEndpoints {
                auth: base("ICHIGEN_YAHOO_AUTH_BASE_URL", &yahoo_auth_default),
                api: yahoo_api,
            },
            aupay: base("ICHIGEN_AUPAY_BASE_URL", aupay::API_BASE),
            qoo10: lookup("ICHIGEN_QOO10_BASE_URL")
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
                .map_or_else(|| qoo10::API_BASE.to_owned(), |host| Self::qoo10_at(&host)),
            amazon: AmazonEndpoints {
                auth: base("ICHIGEN_AMAZON_AUTH_BASE_URL", &amazon_auth_default),
                api: amazon_api,
            },
        }
    }

    /// The QAPI service URL on a host (the sandbox serves the production path).
    pub fn qoo10_at(host: &str) -> String {
        format!(
            "{}/GMKT.INC.Front.QAPIService/ebayjapan.qapi",
            host.trim().trim_end_matches('/')
        )
    }
}

impl Default for MallEndpoints {
    fn default() -> Self {
        Self {
            rakuten: Self::RAKUTEN_DEFAULT.to_owned(),
            yahoo: YahooEndpoints::default(),
            aupay: aupay::API_BASE.to_owned(),
            qoo10: qoo10::API_BASE.to_owned(),
            amazon: AmazonEndpoints::default(),
        }
    }
}

/// How mall clients behave on the wire: shared by every mall.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSettings {
    /// Per request (connect + answer).
    pub timeout: Duration,
    /// Per store: each store has its own token bucket.
    pub requests_per_second: f64,
    /// Attempts per request, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The first retry waits up to this long …
    pub backoff_min: Duration,
    /// … and no retry waits longer than this.
    pub backoff_max: Duration,
    /// The store-wide budget shared with the shop's other functions (`None`: this process
    /// paces itself alone, as the CLI and the mall-client tests do).
    pub rate_budget: Option<SharedRateBudget>,
}

impl Default for ClientSettings {
    /// 10 s timeout, 1 request/s (what Rakuten clients use in practice; the order API
    /// documents no limit), 5 attempts, backoff 200 ms .. 5 s.
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(10_000),
            requests_per_second: 1.0,
            max_attempts: 5,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
            rate_budget: None,
        }
    }
}

impl ClientSettings {
    /// These settings drawing on the store's rate budget kept in `slots` (the shop's table),
    /// shared with the shop's other functions; a budget already set is kept.
    pub fn sharing_rate_budget(mut self, slots: Arc<dyn RateSlots>) -> Self {
        self.rate_budget
            .get_or_insert_with(|| SharedRateBudget::new(slots));
        self
    }

    /// Defaults, overridden by `ICHIGEN_MALL_TIMEOUT_MS`, `ICHIGEN_MALL_RPS` and
    /// `ICHIGEN_MALL_MAX_ATTEMPTS`. Unreadable values fall back to the default (and say so in
    /// the log) rather than stopping the function.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        fn read<T: std::str::FromStr>(
            lookup: &impl Fn(&str) -> Option<String>,
            name: &str,
            valid: impl Fn(&T) -> bool,
        ) -> Option<T> {
            let raw = lookup(name)?;
            match raw.trim().parse::<T>() {
                Ok(value) if valid(&value) => Some(value),
                _ => {
                    tracing::warn!(variable = name, value = %raw, "ignoring unreadable setting");
                    None
                }
            }
        }
        let mut settings = Self::default();
        if let Some(ms) = read::<u64>(&lookup, "ICHIGEN_MALL_TIMEOUT_MS", |ms| *ms > 0) {
            settings.timeout = Duration::from_millis(ms);
        }
        if let Some(rps) = read::<f64>(&lookup, "ICHIGEN_MALL_RPS", |rps| {
            rps.is_finite() && *rps > 0.0
        }) {
            settings.requests_per_second = rps;
        }
        if let Some(attempts) = read::<u32>(&lookup, "ICHIGEN_MALL_MAX_ATTEMPTS", |n| *n > 0) {
            settings.max_attempts = attempts;
        }
        settings
    }
}

/// Why a store's adapter could not be built. Names the store and the problem; never the
/// secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{store}: the store's secret is not a JSON object ({detail})")]
    BadJson { store: StoreRef, detail: String },
    #[error("{store}: the store's secret has no {field}")]
    MissingField {
        store: StoreRef,
        field: &'static str,
    },
    #[error("{store}: the store's secret field {field} {problem}")]
    BadField {
        store: StoreRef,
        field: &'static str,
        problem: String,
    },
    /// A mall's own connector was handed another mall's store (a caller's mistake).
    #[error("{store}: is not a {expected} store")]
    WrongMall { store: StoreRef, expected: MallId },
    #[error("{store}: could not set up the HTTP client: {detail}")]
    Http { store: StoreRef, detail: String },
}

/// Builds the mall adapter for a store from its secret (JSON).
pub fn connect(
    store: &StoreRef,
    secret: &SecretValue,
    endpoints: &MallEndpoints,
    settings: &ClientSettings,
) -> Result<Box<dyn Mall>, ConnectError> {
    match store.mall {
        MallId::Rakuten => Ok(Box::new(connect_rakuten(
            store, secret, endpoints, settings,
        )?)),
        MallId::Yahoo => Ok(Box::new(connect_yahoo(store, secret, endpoints, settings)?)),
        MallId::Aupay => Ok(Box::new(connect_aupay(store, secret, endpoints, settings)?)),
        MallId::Qoo10 => Ok(Box::new(connect_qoo10(store, secret, endpoints, settings)?)),
        MallId::Amazon => Ok(Box::new(connect_amazon(
            store, secret, endpoints, settings,
        )?)),
    }
}

/// Like [`connect`], for an Amazon store as its own type.
pub fn connect_amazon(
    store: &StoreRef,
    secret: &SecretValue,
    endpoints: &MallEndpoints,
    settings: &ClientSettings,
) -> Result<AmazonMall, ConnectError> {
    connect_as(store, MallId::Amazon, || {
        let credentials = AmazonCredentials::from_secret(store, secret)?;
        Ok(AmazonMall::new(
            store.clone(),
            credentials,
            &endpoints.amazon.api,
            &endpoints.amazon.auth,
            settings,
        ))
    })
}

/// Like [`connect`], for callers that need Qoo10's own knobs (tests: the large-answer split).
pub fn connect_qoo10(
    store: &StoreRef,
    secret: &SecretValue,
    endpoints: &MallEndpoints,
    settings: &ClientSettings,
) -> Result<Qoo10Mall, ConnectError> {
    connect_as(store, MallId::Qoo10, || {
        let credentials = Qoo10Credentials::from_secret(store, secret)?;
        Ok(Qoo10Mall::new(
            store.clone(),
            credentials,
            &endpoints.qoo10,
            settings,
        ))
    })
}

/// Like [`connect`], for an au PAY store (secret shape: [`aupay::SECRET_PLACEHOLDER`]).
pub fn connect_aupay(
    store: &StoreRef,
    secret: &SecretValue,
    endpoints: &MallEndpoints,
    settings: &ClientSettings,
) -> Result<AupayMall, ConnectError> {
    connect_as(store, MallId::Aupay, || {
        let credentials = AupayCredentials::from_secret(store, secret)?;
        Ok(AupayMall::new(
            store.clone(),
            credentials,
            &endpoints.aupay,
            settings,
        ))
    })
}

/// Like [`connect`], for callers that need Yahoo's own calls (the day's request count).
pub fn connect_yahoo(
    store: &StoreRef,
    secret: &SecretValue,
    endpoints: &MallEndpoints,
    settings: &ClientSettings,
) -> Result<YahooMall, ConnectError> {
    connect_as(store, MallId::Yahoo, || {
        let credentials = YahooCredentials::from_secret(store, secret)?;
        Ok(YahooMall::new(
            store.clone(),
            credentials,
            &endpoints.yahoo.api,
            &endpoints.yahoo.auth,
            settings,
        ))
    })
}

/// Like [`connect`], for callers that need Rakuten's own calls (the credential watch reads
/// the license key's expiry).
pub fn connect_rakuten(
    store: &StoreRef,
    secret: &SecretValue,
    endpoints: &MallEndpoints,
    settings: &ClientSettings,
) -> Result<RakutenMall, ConnectError> {
    connect_as(store, MallId::Rakuten, || {
        let credentials = RakutenCredentials::from_secret(store, secret)?;
        Ok(RakutenMall::new(
            store.clone(),
            credentials,
            &endpoints.rakuten,
            settings,
        ))
    })
}

/// What every mall's connector does around its own constructor: refuse another mall's store,
/// read the credentials, and name the store when the HTTP client cannot be built.
fn connect_as<M>(
    store: &StoreRef,
    expected: MallId,
    build: impl FnOnce() -> Result<Result<M, reqwest::Error>, ConnectError>,
) -> Result<M, ConnectError> {
    if store.mall != expected {
        return Err(ConnectError::WrongMall {
            store: store.clone(),
            expected,
        });
    }
    build()?.map_err(|e| ConnectError::Http {
        store: store.clone(),
        detail: e.without_url().to_string(),
    })
}

/// For the CLI: normalises a raw mall response file (Rakuten: a whole getOrder response with
/// `OrderModelList`; Yahoo: an orderInfo `<ResultSet>`, an orderList `<Result>` or one
/// `<OrderInfo>`; au PAY: a searchTradeInfo `<response>` or one `<orderInfo>`; Qoo10: a cart
/// payload or a GetShippingInfo_v2 / ByOrderNo_V2 answer) into orders; one result per order in
/// the file. The outer error means the
/// file itself could not be read as such a response.
pub fn normalise_response(
    mall: MallId,
    store: &StoreRef,
    body: &str,
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    match mall {
        MallId::Rakuten => rakuten::normalise::normalise_response(store, body, imported_at),
        MallId::Yahoo => yahoo::normalise::normalise_response(store, body, imported_at),
        MallId::Aupay => aupay::normalise::normalise_response(store, body, imported_at),
        MallId::Qoo10 => qoo10::normalise::normalise_response(store, body, imported_at),
        MallId::Amazon => {
            amazon::normalise::normalise_responses(store, &[body.to_owned()], imported_at)
        }
    }
}

/// Like [`normalise_response`] for several files read together: Amazon's order and its items
/// come from two calls (getOrder, getOrderItems), so they are matched across the files. For
/// the other malls each file is read on its own.
pub fn normalise_responses(
    mall: MallId,
    store: &StoreRef,
    bodies: &[String],
    imported_at: JstInstant,
) -> Result<Vec<Result<Order, NormaliseError>>, NormaliseError> {
    if mall == MallId::Amazon {
        return amazon::normalise::normalise_responses(store, bodies, imported_at);
    }
    let mut all = Vec::new();
    for body in bodies {
        all.extend(normalise_response(mall, store, body, imported_at)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn settings_default_and_override() {
        assert_eq!(
            ClientSettings::from_lookup(lookup(&[])),
            ClientSettings::default()
        );
        let s = ClientSettings::from_lookup(lookup(&[
            ("ICHIGEN_MALL_TIMEOUT_MS", "300"),
            ("ICHIGEN_MALL_RPS", "0.5"),
            ("ICHIGEN_MALL_MAX_ATTEMPTS", "3"),
        ]));
        assert_eq!(s.timeout, Duration::from_millis(300));
        assert_eq!(s.requests_per_second, 0.5);
        assert_eq!(s.max_attempts, 3);
        assert_eq!(s.backoff_min, Duration::from_millis(200));
        assert_eq!(s.backoff_max, Duration::from_secs(5));
    }

    #[test]
    fn unreadable_settings_fall_back() {
        let s = ClientSettings::from_lookup(lookup(&[
            ("ICHIGEN_MALL_TIMEOUT_MS", "soon"),
            ("ICHIGEN_MALL_RPS", "-1"),
            ("ICHIGEN_MALL_MAX_ATTEMPTS", "0"),
        ]));
        assert_eq!(s, ClientSettings::default());
    }

    #[test]
    fn endpoints_default_and_override() {
        assert_eq!(
            MallEndpoints::from_lookup(lookup(&[])).rakuten,
            "https://api.rms.rakuten.co.jp"
        );
        let e = MallEndpoints::from_lookup(lookup(&[(
            "ICHIGEN_RAKUTEN_BASE_URL",
            "http://127.0.0.1:9000/",
        )]));
        assert_eq!(e.rakuten, "http://127.0.0.1:9000");
        assert_eq!(e.yahoo, YahooEndpoints::default());
        assert_eq!(e.yahoo.auth, "https://auth.login.yahoo.co.jp");
    }

    #[test]
    fn yahoo_endpoints_follow_one_base_url() {
        let e = MallEndpoints::from_lookup(lookup(&[(
            "ICHIGEN_YAHOO_BASE_URL",
            "http://127.0.0.1:9000/",
        )]));
        assert_eq!(e.yahoo, YahooEndpoints::at("http://127.0.0.1:9000"));
        let e = MallEndpoints::from_lookup(lookup(&[
            ("ICHIGEN_YAHOO_BASE_URL", "http://127.0.0.1:9000"),
            ("ICHIGEN_YAHOO_AUTH_BASE_URL", "http://127.0.0.1:9001"),
        ]));
        assert_eq!(e.yahoo.api, "http://127.0.0.1:9000");
        assert_eq!(e.yahoo.auth, "http://127.0.0.1:9001");
    }

    fn rakuten_store() -> StoreRef {
        StoreRef::new(MallId::Rakuten, "store-a")
    }

    fn connect_with(secret: &str) -> Result<Box<dyn Mall>, ConnectError> {
        connect(
            &rakuten_store(),
            &SecretValue::new(secret),
            &MallEndpoints::default(),
            &ClientSettings::default(),
        )
    }

    #[test]
    fn connects_a_rakuten_store() {
        let mall = connect_with(
            r#"{"serviceSecret":"SP-secret","licenseKey":"SL-key","licenseKeyExpiresAt":"2027-02-20T23:59:59+09:00"}"#,
        )
        .unwrap();
        assert_eq!(mall.store(), &rakuten_store());
        assert_eq!(mall.capabilities().detail_batch_size, 100);
    }

    #[test]
    fn secret_problems_name_the_store_and_field_but_not_the_value() {
        let cases = [
            ("not json SL-key-123", "not a JSON object"),
            (r#"["SL-key-123"]"#, "not a JSON object"),
            (r#"{"licenseKey":"SL-key-123"}"#, "has no serviceSecret"),
            (r#"{"serviceSecret":"SP-secret-123"}"#, "has no licenseKey"),
            (
                r#"{"serviceSecret":"SP-secret-123","licenseKey":42}"#,
                "licenseKey",
            ),
            (
                r#"{"serviceSecret":"SP-secret-123","licenseKey":""}"#,
                "licenseKey",
            ),
            (
                r#"{"serviceSecret":"SP-secret-123","licenseKey":"SL-key-123","licenseKeyExpiresAt":"SL-key-123 soon"}"#,
                "licenseKeyExpiresAt",
            ),
        ];
        for (secret, expected) in cases {
            let err = connect_with(secret).err().unwrap();
            let text = err.to_string();
            assert!(text.starts_with("rakuten:store-a: "), "{text}");
            assert!(text.contains(expected), "{text} should mention {expected}");
            assert!(
                !text.contains("SL-key-123") && !text.contains("SP-secret-123"),
                "{text}"
            );
            assert!(!format!("{err:?}").contains("SL-key-123"), "{err:?}");
        }
    }

    #[test]
    fn yahoo_secret_problems_name_the_field_but_not_the_value() {
        let store = StoreRef::new(MallId::Yahoo, "y1");
        // A throwaway 1024-bit test key (public half only).
        let key = "-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDeJCB0JMAaAe54PpgAD1l4wvrV\nW5IB7k6AidvFvlny7+ZuWdrJ/DFLJYv4lyl7q11kAZtGQe6qBnBi/0jG+ERBO+4Q\nnvdGSHNKWEgcg8acaAHF7qYwZG4bdr0Iu6PVJUsiFuK5icPN2sH1G8QcyImeB+Hp\nn3a41uvQEie5S1NpJwIDAQAB\n-----END PUBLIC KEY-----\n";
        let full = serde_json::json!({
            "sellerId": "snbx-y1",
            "clientId": "dj00client",
            "clientSecret": "CS-secret-123",
            "refreshToken": "RT-secret-123",
            "publicKey": key,
            "publicKeyVersion": 3,
        });
        let connect_with = |secret: &serde_json::Value| {
            connect(
                &store,
                &SecretValue::new(secret.to_string()),
                &MallEndpoints::default(),
                &ClientSettings::default(),
            )
        };
        let mall = connect_with(&full).unwrap();
        assert_eq!(
            mall.capabilities().acknowledgement,
            Some("orderStatusChange")
        );
        let yahoo = connect_yahoo(
            &store,
            &SecretValue::new(full.to_string()),
            &MallEndpoints::default(),
            &ClientSettings::default(),
        )
        .unwrap();
        let debug = format!("{yahoo:?}");
        assert!(debug.contains("store_id: \"y1\""), "{debug}");
        for secret in ["CS-secret-123", "RT-secret-123", "MIGf"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let mut cases = Vec::new();
        for field in [
            "sellerId",
            "clientId",
            "clientSecret",
            "refreshToken",
            "publicKey",
            "publicKeyVersion",
        ] {
            let mut secret = full.clone();
            secret.as_object_mut().unwrap().remove(field);
            cases.push((secret, format!("has no {field}")));
        }
        let mut bad_key = full.clone();
        bad_key["publicKey"] = "RT-secret-123 not a key".into();
        cases.push((bad_key, "publicKey is not an RSA public key".into()));
        let mut bad_version = full.clone();
        bad_version["publicKeyVersion"] = "v3".into();
        cases.push((bad_version, "publicKeyVersion".into()));
        let mut bad_fix = full.clone();
        bad_fix["isPointFix"] = "yes".into();
        cases.push((bad_fix, "isPointFix".into()));
        for (secret, expected) in cases {
            let err = connect_with(&secret).err().unwrap();
            let text = err.to_string();
            assert!(text.starts_with("yahoo:y1: "), "{text}");
            assert!(text.contains(&expected), "{text} should mention {expected}");
            for secret in ["CS-secret-123", "RT-secret-123"] {
                assert!(
                    !text.contains(secret) && !format!("{err:?}").contains(secret),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn aupay_secret_problems_name_the_field_but_not_the_value() {
        let store = StoreRef::new(MallId::Aupay, "au1");
        let connect_with = |secret: &str| {
            connect(
                &store,
                &SecretValue::new(secret),
                &MallEndpoints::default(),
                &ClientSettings::default(),
            )
        };
        let mall = connect_with(r#"{"shopId":"12345678","apiKey":"AK-secret-123"}"#).unwrap();
        assert_eq!(
            mall.capabilities().acknowledgement,
            Some("updateTradeStsProc")
        );
        let cases = [
            (r#"{"apiKey":"AK-secret-123"}"#, "has no shopId"),
            (r#"{"shopId":"12345678"}"#, "has no apiKey"),
            (r#"{"shopId":"shop-AK","apiKey":"AK-secret-123"}"#, "shopId"),
            (r#"{"shopId":"12345678","apiKey":""}"#, "apiKey is empty"),
            (
                r#"{"shopId":"12345678","apiKey":"AK-secret-123","shippingMethodCarriers":[1]}"#,
                "shippingMethodCarriers",
            ),
        ];
        for (secret, expected) in cases {
            let err = connect_with(secret).err().unwrap();
            let text = err.to_string();
            assert!(text.starts_with("aupay:au1: "), "{text}");
            assert!(text.contains(expected), "{text} should mention {expected}");
            assert!(!text.contains("AK-secret-123"), "{text}");
            assert!(!format!("{err:?}").contains("AK-secret-123"), "{err:?}");
        }
        let aupay = connect_aupay(
            &store,
            &SecretValue::new(aupay::SECRET_PLACEHOLDER),
            &MallEndpoints::default(),
            &ClientSettings::default(),
        )
        .unwrap();
        assert!(!format!("{aupay:?}").contains("REPLACE-WITH"), "{aupay:?}");
        assert_eq!(
            MallEndpoints::default().aupay,
            "https://api.manager.wowma.jp"
        );
        let e = MallEndpoints::from_lookup(lookup(&[(
            "ICHIGEN_AUPAY_BASE_URL",
            "http://127.0.0.1:9000/",
        )]));
        assert_eq!(e.aupay, "http://127.0.0.1:9000");
    }

    #[test]
    fn amazon_endpoints_follow_one_base_url() {
        let e = MallEndpoints::from_lookup(lookup(&[]));
        assert_eq!(e.amazon.api, "https://sellingpartnerapi-fe.amazon.com");
        assert_eq!(e.amazon.auth, "https://api.amazon.com");
        let e = MallEndpoints::from_lookup(lookup(&[(
            "ICHIGEN_AMAZON_BASE_URL",
            "http://127.0.0.1:9000/",
        )]));
        assert_eq!(e.amazon, AmazonEndpoints::at("http://127.0.0.1:9000"));
    }

    #[test]
    fn amazon_secret_problems_name_the_field_but_not_the_value() {
        let store = StoreRef::new(MallId::Amazon, "a1");
        let connect_with = |secret: &str| {
            connect(
                &store,
                &SecretValue::new(secret),
                &MallEndpoints::default(),
                &ClientSettings::default(),
            )
        };
        let missing = connect_with(r#"{"clientId":"amzn1.app","clientSecret":"cs-VALUE"}"#)
            .err()
            .unwrap();
        assert!(matches!(
            missing,
            ConnectError::MissingField {
                field: "refreshToken",
                ..
            }
        ));
        let bad = connect_with(
            r#"{"clientId":"amzn1.app","clientSecret":7,"refreshToken":"Atzr|VALUE"}"#,
        )
        .err()
        .unwrap();
        let text = bad.to_string();
        assert!(
            text.contains("clientSecret") && !text.contains("VALUE"),
            "{text}"
        );
        let amazon = connect_amazon(
            &store,
            &SecretValue::new(
                r#"{"clientId":"amzn1.app","clientSecret":"cs-VALUE","refreshToken":"Atzr|VALUE"}"#,
            ),
            &MallEndpoints::default(),
            &ClientSettings::default(),
        )
        .unwrap();
        let debug = format!("{amazon:?}");
        assert!(!debug.contains("VALUE"), "{debug}");
        assert_eq!(amazon.capabilities().acknowledgement, None);
    }

    #[test]
    fn a_store_of_another_mall_is_refused_by_each_mall_connector() {
        let store = StoreRef::new(MallId::Amazon, "a1");
        let secret = SecretValue::new("{}");
        let (endpoints, settings) = (MallEndpoints::default(), ClientSettings::default());
        let err = connect_qoo10(&store, &secret, &endpoints, &settings)
            .err()
            .unwrap();
        assert!(matches!(err, ConnectError::WrongMall { .. }));
        assert_eq!(err.to_string(), "amazon:a1: is not a qoo10 store");
    }
}
