//! In-memory Yahoo state: stores (credentials, public keys, orders), access tokens, the
//! write log, the daily quota counts and the knobs.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::generator::{self, DEFAULT_COUNT, MAX_COUNT, YahooGenerateOptions, YahooOrderKind};
use super::types::{
    YahooKeyState, YahooLimits, YahooQuotaResponse, YahooStoreResponse, YahooWriteRecord,
};
use super::xml::{self, Element};
use super::{format_datetime, jst_day, parse_datetime};
use crate::faults::TokenBuckets;
use crate::time::DAY_SECS;

/// Yahoo keeps at most two public keys active per store.
pub(crate) const MAX_ACTIVE_KEYS: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("unknown store {0}")]
    UnknownStore(String),
    #[error("unknown order {0}")]
    UnknownOrder(String),
    #[error("{0}")]
    Invalid(String),
}

struct Key {
    private: RsaPrivateKey,
    revoked: bool,
}

struct StoredOrder {
    element: Element,
    /// Indexed order time (epoch seconds); `None` leaves the order out of time searches.
    order_time: Option<i64>,
}

impl StoredOrder {
    fn status(&self) -> Option<u8> {
        self.element.child_text("OrderStatus")?.parse().ok()
    }

    fn set_leaf(&mut self, group: Option<&str>, name: &str, value: String) {
        let parent = match group {
            None => &mut self.element,
            Some(group) => {
                if self.element.child(group).is_none() {
                    self.element.children.push(Element::new(group));
                }
                match self.element.children.iter_mut().find(|c| c.name == group) {
                    Some(parent) => parent,
                    None => return,
                }
            }
        };
        match parent.children.iter_mut().find(|c| c.name == name) {
            Some(leaf) => leaf.text = value,
            None => parent.children.push(Element::leaf(name, value)),
        }
    }

    fn touch(&mut self, now: i64) {
        let version = self
            .element
            .child_text("Version")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        self.set_leaf(None, "Version", (version + 1).to_string());
        self.set_leaf(None, "LastUpdateTime", format_datetime(now));
    }
}

/// Takes line `line_id` out of the order and its cost off the totals (see `cancel_line`).
fn remove_line(order: &mut StoredOrder, line_id: u32) -> Result<(), StateError> {
    if order.status() == Some(4) {
        return Err(StateError::Invalid("the order is cancelled".into()));
    }
    let items = &order.element.children;
    let is_line =
        |e: &Element| e.name == "Item" && e.child_text("LineId") == Some(&line_id.to_string());
    let Some(index) = items.iter().position(is_line) else {
        return Err(StateError::Invalid(format!(
            "the order has no line {line_id}"
        )));
    };
    if items.iter().filter(|e| e.name == "Item").count() == 1 {
        return Err(StateError::Invalid(format!(
            "line {line_id} is the order's only line; cancel the order instead"
        )));
    }
    let number = |e: &Element, name: &str| -> i64 {
        e.child_text(name).and_then(|t| t.parse().ok()).unwrap_or(0)
    };
    let line = order.element.children.remove(index);
    let cost =
        number(&line, "UnitPrice") * number(&line, "Quantity") - number(&line, "CouponDiscount");
    for total in ["TotalPrice", "SettleAmount"] {
        let before = order
            .element
            .child("Detail")
            .map_or(0, |d| number(d, total));
        order.set_leaf(Some("Detail"), total, (before - cost).to_string());
    }
    Ok(())
}

struct Store {
    client_id: String,
    client_secret: String,
    refresh_token: String,
    refresh_revoked: bool,
    keys: BTreeMap<u32, Key>,
    tokens_issued: u64,
    next_serial: u64,
    orders: BTreeMap<String, StoredOrder>,
}

struct Token {
    seller_id: String,
    client_id: String,
    expires_at: i64,
}

#[derive(Default)]
struct Inner {
    stores: BTreeMap<String, Store>,
    tokens: HashMap<String, Token>,
    writes: Vec<YahooWriteRecord>,
    limits: YahooLimits,
    /// JST day (`YYYY-MM-DD`) the counts are for, and requests per application id.
    quota_day: String,
    quota_used: BTreeMap<String, u64>,
    token_serial: u64,
}

/// The answer to an order-API token check.
pub(crate) enum TokenCheck {
    Valid {
        seller_id: String,
        client_id: String,
    },
    Expired,
    Unknown,
}

/// Why a public-key signature was refused (each answered the same way; see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureProblem {
    Missing,
    UnknownVersion,
    Revoked,
    Undecryptable,
    WrongSeller,
    Stale,
}

impl SignatureProblem {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Missing => "X-sws-signature or X-sws-signature-version is missing",
            Self::UnknownVersion => "no public key of that version is registered",
            Self::Revoked => "the public key of that version has been revoked",
            Self::Undecryptable => "the signature could not be decrypted with the key",
            Self::WrongSeller => "the signature names another seller",
            Self::Stale => "the signature's time is too far from now",
        }
    }
}

/// Outcome of one status change.
pub(crate) enum ChangeOutcome {
    Changed,
    Refused(&'static str, String),
}

/// Outcome of the token endpoint.
pub(crate) enum TokenGrant {
    Issued {
        access_token: String,
        expires_in: i64,
    },
    InvalidClient,
    InvalidGrant(&'static str),
}

#[derive(Default)]
pub(crate) struct YahooState {
    inner: RwLock<Inner>,
    buckets: Mutex<TokenBuckets>,
}

fn parse_private_key(pem: &str) -> Result<RsaPrivateKey, StateError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| StateError::Invalid("privateKeyPem is not an RSA private key PEM".into()))
}

impl YahooState {
    pub(crate) fn new() -> Self {
        let state = Self::default();
        // The 1 query/s default must be in force before any limits call.
        if let Ok(mut buckets) = state.buckets.try_lock() {
            buckets.set_rate(YahooLimits::default().requests_per_second_per_url);
        }
        state
    }

    pub(crate) async fn reset(&self) {
        *self.inner.write().await = Inner::default();
        self.buckets
            .lock()
            .await
            .set_rate(YahooLimits::default().requests_per_second_per_url);
    }

    pub(crate) async fn limits(&self) -> YahooLimits {
        self.inner.read().await.limits.clone()
    }

    pub(crate) async fn set_limits(&self, limits: YahooLimits) -> Result<(), StateError> {
        if limits
            .requests_per_second_per_url
            .is_some_and(|r| !r.is_finite() || r <= 0.0)
        {
            return Err(StateError::Invalid(
                "requestsPerSecondPerUrl must be a positive number or null".into(),
            ));
        }
        if limits.max_result == 0 || limits.access_token_lifetime_secs <= 0 {
            return Err(StateError::Invalid(
                "maxResult and accessTokenLifetimeSecs must be positive".into(),
            ));
        }
        self.buckets
            .lock()
            .await
            .set_rate(limits.requests_per_second_per_url);
        self.inner.write().await.limits = limits;
        Ok(())
    }

    fn store_response(seller_id: &str, store: &Store) -> YahooStoreResponse {
        YahooStoreResponse {
            seller_id: seller_id.to_owned(),
            client_id: store.client_id.clone(),
            order_count: store.orders.len(),
            keys: store
                .keys
                .iter()
                .map(|(version, key)| YahooKeyState {
                    version: *version,
                    revoked: key.revoked,
                })
                .collect(),
            tokens_issued: store.tokens_issued,
            generated_public_key_pem: None,
        }
    }

    pub(crate) async fn register(
        &self,
        seller_id: &str,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        private_key_pem: &str,
        key_version: u32,
    ) -> Result<YahooStoreResponse, StateError> {
        let (private, generated) = if private_key_pem.trim().is_empty() {
            let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024)
                .map_err(|e| StateError::Invalid(format!("key generation failed: {e}")))?;
            let public = RsaPublicKey::from(&private)
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| StateError::Invalid(format!("key encoding failed: {e}")))?;
            (private, Some(public))
        } else {
            (parse_private_key(private_key_pem)?, None)
        };
        let mut keys = BTreeMap::new();
        keys.insert(
            key_version,
            Key {
                private,
                revoked: false,
            },
        );
        let store = Store {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            refresh_token: refresh_token.to_owned(),
            refresh_revoked: false,
            keys,
            tokens_issued: 0,
            next_serial: 1,
            orders: BTreeMap::new(),
        };
        let mut inner = self.inner.write().await;
        inner.tokens.retain(|_, t| t.seller_id != seller_id);
        let mut response = Self::store_response(seller_id, &store);
        response.generated_public_key_pem = generated;
        inner.stores.insert(seller_id.to_owned(), store);
        Ok(response)
    }

    pub(crate) async fn add_key(
        &self,
        seller_id: &str,
        private_key_pem: &str,
        version: u32,
    ) -> Result<YahooStoreResponse, StateError> {
        let private = parse_private_key(private_key_pem)?;
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let active = store.keys.values().filter(|k| !k.revoked).count();
        if active >= MAX_ACTIVE_KEYS && !store.keys.contains_key(&version) {
            return Err(StateError::Invalid(format!(
                "a store has at most {MAX_ACTIVE_KEYS} active public keys"
            )));
        }
        store.keys.insert(
            version,
            Key {
                private,
                revoked: false,
            },
        );
        Ok(Self::store_response(seller_id, store))
    }

    pub(crate) async fn revoke_key(
        &self,
        seller_id: &str,
        version: u32,
    ) -> Result<YahooStoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let key = store
            .keys
            .get_mut(&version)
            .ok_or_else(|| StateError::Invalid(format!("no key version {version}")))?;
        key.revoked = true;
        Ok(Self::store_response(seller_id, store))
    }

    /// Every access token of the store stops working at once (answered "expired token").
    pub(crate) async fn expire_tokens(
        &self,
        seller_id: &str,
        now: i64,
    ) -> Result<YahooStoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let response = inner
            .stores
            .get(seller_id)
            .map(|s| Self::store_response(seller_id, s))
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        for token in inner.tokens.values_mut() {
            if token.seller_id == seller_id {
                token.expires_at = token.expires_at.min(now - 1);
            }
        }
        Ok(response)
    }

    /// The refresh token no longer works (expired after 4 weeks, or consent withdrawn).
    pub(crate) async fn revoke_refresh_token(
        &self,
        seller_id: &str,
    ) -> Result<YahooStoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        store.refresh_revoked = true;
        Ok(Self::store_response(seller_id, store))
    }

    pub(crate) async fn store(&self, seller_id: &str) -> Result<YahooStoreResponse, StateError> {
        let inner = self.inner.read().await;
        inner
            .stores
            .get(seller_id)
            .map(|s| Self::store_response(seller_id, s))
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))
    }

    /// YConnect `grant_type=refresh_token`.
    pub(crate) async fn grant(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        now: i64,
        seed: u64,
    ) -> TokenGrant {
        let mut inner = self.inner.write().await;
        let lifetime = inner.limits.access_token_lifetime_secs;
        inner.token_serial += 1;
        let serial = inner.token_serial;
        let known_client = inner
            .stores
            .values()
            .any(|s| s.client_id == client_id && s.client_secret == client_secret);
        if !known_client {
            return TokenGrant::InvalidClient;
        }
        let Some((seller_id, store)) = inner.stores.iter_mut().find(|(_, s)| {
            s.client_id == client_id
                && s.client_secret == client_secret
                && s.refresh_token == refresh_token
        }) else {
            return TokenGrant::InvalidGrant("invalid refresh_token");
        };
        if store.refresh_revoked {
            return TokenGrant::InvalidGrant("expired refresh_token");
        }
        store.tokens_issued += 1;
        let seller_id = seller_id.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ serial.rotate_left(17) ^ now as u64);
        let access_token = format!("sbx-at-{:032x}", rng.random::<u128>());
        inner.tokens.insert(
            access_token.clone(),
            Token {
                seller_id,
                client_id: client_id.to_owned(),
                expires_at: now + lifetime,
            },
        );
        TokenGrant::Issued {
            access_token,
            expires_in: lifetime,
        }
    }

    pub(crate) async fn check_token(&self, token: &str, now: i64) -> TokenCheck {
        let inner = self.inner.read().await;
        match inner.tokens.get(token) {
            None => TokenCheck::Unknown,
            Some(t) if now >= t.expires_at => TokenCheck::Expired,
            Some(t) => TokenCheck::Valid {
                seller_id: t.seller_id.clone(),
                client_id: t.client_id.clone(),
            },
        }
    }

    /// Counts one request against the application's daily quota; `false` = over it.
    pub(crate) async fn count_quota(&self, client_id: &str, now: i64) -> bool {
        let mut inner = self.inner.write().await;
        let day = jst_day(now);
        if inner.quota_day != day {
            inner.quota_day = day;
            inner.quota_used.clear();
        }
        let quota = inner.limits.daily_quota;
        let used = inner.quota_used.entry(client_id.to_owned()).or_insert(0);
        if *used >= quota {
            return false;
        }
        *used += 1;
        true
    }

    pub(crate) async fn quota(&self, now: i64) -> YahooQuotaResponse {
        let inner = self.inner.read().await;
        let day = jst_day(now);
        let used = if inner.quota_day == day {
            inner.quota_used.clone()
        } else {
            BTreeMap::new()
        };
        YahooQuotaResponse { day, used }
    }

    /// Takes a per-URL token for the application; `false` = answer 429.
    pub(crate) async fn try_acquire(&self, client_id: &str, endpoint: &str) -> bool {
        self.buckets
            .lock()
            .await
            .try_acquire(&format!("{client_id} {endpoint}"), Instant::now())
    }

    /// Decrypts and checks `X-sws-signature` for `seller_id`.
    pub(crate) async fn verify_signature(
        &self,
        seller_id: &str,
        signature: Option<&[u8]>,
        version: Option<u32>,
        now: i64,
    ) -> Result<(), SignatureProblem> {
        let (Some(signature), Some(version)) = (signature, version) else {
            return Err(SignatureProblem::Missing);
        };
        let inner = self.inner.read().await;
        let tolerance = inner.limits.signature_tolerance_secs;
        let key = inner
            .stores
            .get(seller_id)
            .and_then(|s| s.keys.get(&version))
            .ok_or(SignatureProblem::UnknownVersion)?;
        if key.revoked {
            return Err(SignatureProblem::Revoked);
        }
        let plain = key
            .private
            .decrypt(Pkcs1v15Encrypt, signature)
            .map_err(|_| SignatureProblem::Undecryptable)?;
        let plain = String::from_utf8(plain).map_err(|_| SignatureProblem::Undecryptable)?;
        let (signed_seller, at) = plain
            .rsplit_once(':')
            .ok_or(SignatureProblem::Undecryptable)?;
        if signed_seller != seller_id {
            return Err(SignatureProblem::WrongSeller);
        }
        let at: i64 = at.parse().map_err(|_| SignatureProblem::Undecryptable)?;
        if (now - at).abs() > tolerance {
            return Err(SignatureProblem::Stale);
        }
        Ok(())
    }

    pub(crate) async fn generate(
        &self,
        seller_id: &str,
        options: &YahooGenerateOptions,
        default_seed: u64,
        now: i64,
    ) -> Result<Vec<(String, YahooOrderKind)>, StateError> {
        let times: Vec<i64> = match &options.order_times {
            Some(times) => times
                .iter()
                .map(|t| {
                    parse_datetime(t).ok_or_else(|| {
                        StateError::Invalid(format!(
                            "orderTimes: {t:?} is not YYYY-MM-DDThh:mm:ss+09:00"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => {
                let count = options.count.unwrap_or(DEFAULT_COUNT);
                if count > MAX_COUNT {
                    return Err(StateError::Invalid(format!("count must be ≤ {MAX_COUNT}")));
                }
                let span = options.days.unwrap_or(7).clamp(0, 3650) * DAY_SECS;
                let start = now - span;
                let step = if count > 1 { span / count as i64 } else { 0 };
                (0..count)
                    .map(|i| start + step * i as i64 + step / 2)
                    .collect()
            }
        };
        let seed = options.seed.unwrap_or(default_seed);
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let mut draws = ChaCha8Rng::seed_from_u64(seed ^ 0x0059_a400);
        let mut made = Vec::with_capacity(times.len());
        for (index, at) in times.into_iter().enumerate() {
            let kind = generator::kind_for(options, index, draws.random());
            let serial = store.next_serial;
            store.next_serial += 1;
            let order = generator::generate_one(seed, seller_id, serial, at, kind);
            made.push((order.order_id.clone(), kind));
            store.orders.insert(
                order.order_id,
                StoredOrder {
                    element: order.element,
                    order_time: Some(order.order_time),
                },
            );
        }
        Ok(made)
    }

    pub(crate) async fn insert(
        &self,
        seller_id: &str,
        xml_text: &str,
        order_time: Option<&str>,
    ) -> Result<String, StateError> {
        let element = xml::parse(xml_text).map_err(|e| StateError::Invalid(format!("xml: {e}")))?;
        if element.name != "OrderInfo" {
            return Err(StateError::Invalid(
                "xml must be one <OrderInfo> element".into(),
            ));
        }
        let order_id = element
            .child_text("OrderId")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| StateError::Invalid("<OrderInfo> needs an <OrderId>".into()))?
            .to_owned();
        let time = match order_time {
            Some(t) => Some(parse_datetime(t).ok_or_else(|| {
                StateError::Invalid("orderTime must be YYYY-MM-DDThh:mm:ss+09:00".into())
            })?),
            None => element.child_text("OrderTime").and_then(parse_datetime),
        };
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        store.orders.insert(
            order_id.clone(),
            StoredOrder {
                element,
                order_time: time,
            },
        );
        Ok(order_id)
    }

    pub(crate) async fn order_ids(&self, seller_id: &str) -> Result<Vec<String>, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        Ok(store.orders.keys().cloned().collect())
    }

    /// The stored `<OrderInfo>` (all fields).
    pub(crate) async fn order(
        &self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<Element, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        store
            .orders
            .get(order_id)
            .map(|o| o.element.clone())
            .ok_or_else(|| StateError::UnknownOrder(order_id.to_owned()))
    }

    pub(crate) async fn set_pay_status(
        &self,
        seller_id: &str,
        order_id: &str,
        pay_status: u8,
        now: i64,
    ) -> Result<Element, StateError> {
        if pay_status > 1 {
            return Err(StateError::Invalid("payStatus must be 0 or 1".into()));
        }
        self.with_order(seller_id, order_id, |order| {
            order.set_leaf(Some("Pay"), "PayStatus", pay_status.to_string());
            let date = if pay_status == 1 {
                super::format_date(now)
            } else {
                String::new()
            };
            order.set_leaf(Some("Pay"), "PayDate", date);
            if pay_status == 1 {
                order.set_leaf(Some("Ship"), "ShipStatus", "1".into());
            }
            order.touch(now);
        })
        .await
    }

    pub(crate) async fn set_order_status(
        &self,
        seller_id: &str,
        order_id: &str,
        status: u8,
        now: i64,
    ) -> Result<Element, StateError> {
        if !matches!(status, 0..=5 | 8) {
            return Err(StateError::Invalid("orderStatus must be 0..5 or 8".into()));
        }
        self.with_order(seller_id, order_id, |order| {
            order.set_leaf(None, "OrderStatus", status.to_string());
            order.touch(now);
        })
        .await
    }

    /// The store removed one line of the order on Yahoo (注文内容変更, a partial cancel):
    /// the `<Item>` goes, `TotalPrice` and `SettleAmount` drop by what the line cost
    /// (UnitPrice × Quantity − CouponDiscount), `Version` and `LastUpdateTime` move. How Yahoo
    /// shows a removed line is not in our sources [INF]; the client follows a line gone or one
    /// with a lower `Quantity` alike. The last line is refused: cancel the order instead.
    pub(crate) async fn cancel_line(
        &self,
        seller_id: &str,
        order_id: &str,
        line_id: u32,
        now: i64,
    ) -> Result<Element, StateError> {
        let mut outcome = Ok(());
        let element = self
            .with_order(seller_id, order_id, |order| {
                outcome = remove_line(order, line_id);
                if outcome.is_ok() {
                    order.touch(now);
                }
            })
            .await?;
        outcome.map(|()| element)
    }

    async fn with_order(
        &self,
        seller_id: &str,
        order_id: &str,
        change: impl FnOnce(&mut StoredOrder),
    ) -> Result<Element, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let order = store
            .orders
            .get_mut(order_id)
            .ok_or_else(|| StateError::UnknownOrder(order_id.to_owned()))?;
        change(order);
        Ok(order.element.clone())
    }

    /// Orders of a store matching `keep`, oldest first (ties by id).
    pub(crate) async fn search(
        &self,
        seller_id: &str,
        keep: impl Fn(&Element, Option<i64>) -> bool,
        newest_first: bool,
    ) -> Vec<Element> {
        let inner = self.inner.read().await;
        let Some(store) = inner.stores.get(seller_id) else {
            return Vec::new();
        };
        let mut found: Vec<(Option<i64>, &String, &StoredOrder)> = store
            .orders
            .iter()
            .filter(|(_, o)| keep(&o.element, o.order_time))
            .map(|(id, o)| (o.order_time, id, o))
            .collect();
        found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        if newest_first {
            found.reverse();
        }
        found
            .into_iter()
            .map(|(_, _, o)| o.element.clone())
            .collect()
    }

    pub(crate) async fn find(&self, seller_id: &str, order_id: &str) -> Option<Element> {
        self.order(seller_id, order_id).await.ok()
    }

    /// `orderStatusChange` for one order.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn change_status(
        &self,
        seller_id: &str,
        order_id: &str,
        status: u8,
        is_point_fix: bool,
        operation_user: Option<String>,
        now: i64,
    ) -> ChangeOutcome {
        let mut inner = self.inner.write().await;
        if inner
            .limits
            .refuse_status_change
            .iter()
            .any(|o| o == order_id)
        {
            return ChangeOutcome::Refused(
                "sbx-od-403",
                format!("OrderId({order_id}) is under review and cannot be changed"),
            );
        }
        let Some(store) = inner.stores.get_mut(seller_id) else {
            return ChangeOutcome::Refused(
                "sbx-od-404",
                format!("OrderId({order_id}) is not found"),
            );
        };
        let Some(order) = store.orders.get_mut(order_id) else {
            return ChangeOutcome::Refused(
                "sbx-od-404",
                format!("OrderId({order_id}) is not found"),
            );
        };
        match order.status() {
            Some(4) => {
                return ChangeOutcome::Refused(
                    "sbx-od-410",
                    "the order is cancelled (OrderStatus 4); its status cannot be changed".into(),
                );
            }
            Some(5) if status != 5 => {
                return ChangeOutcome::Refused(
                    "sbx-od-409",
                    "the order is completed (OrderStatus 5); its status cannot be changed".into(),
                );
            }
            _ => {}
        }
        if status == 5 && !is_point_fix {
            return ChangeOutcome::Refused(
                "sbx-od-400",
                "IsPointFix must be true to complete an order".into(),
            );
        }
        order.set_leaf(None, "OrderStatus", status.to_string());
        order.set_leaf(None, "IsSeen", "true".into());
        order.touch(now);
        inner.writes.push(YahooWriteRecord {
            operation: "orderStatusChange".into(),
            seller_id: seller_id.to_owned(),
            order_id: order_id.to_owned(),
            order_status: status,
            is_point_fix,
            operation_user,
            at: format_datetime(now),
        });
        ChangeOutcome::Changed
    }

    pub(crate) async fn writes(&self) -> Vec<YahooWriteRecord> {
        self.inner.read().await.writes.clone()
    }
}
