//! In-memory Qoo10 state: sellers (API key, QSM login, certification keys, items, order
//! lines with their claims), the call and write logs, and the knobs.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::generator::{self, DEFAULT_COUNT, MAX_COUNT, Qoo10GenerateOptions};
use super::types::{
    Qoo10CallRecord, Qoo10CartsResponse, Qoo10ClaimRequest, Qoo10Item, Qoo10Limits,
    Qoo10RegisterStoreRequest, Qoo10StoreResponse, Qoo10WriteRecord,
};
use super::{format_date, format_datetime, parse_row_datetime};
use crate::faults::TokenBuckets;
use crate::time::DAY_SECS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("unknown seller {0}")]
    UnknownStore(String),
    #[error("unknown order {0}")]
    UnknownOrder(String),
    #[error("{0}")]
    Invalid(String),
}

/// A Qoo10 answer other than success: `ResultCode` and `ResultMsg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: i64,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Claim {
    stat: u8,
    reason: String,
    requested_at: i64,
    completed_at: Option<i64>,
}

struct Line {
    row: Map<String, Value>,
    pack_no: i64,
    status: u8,
    order_time: i64,
    paid_time: Option<i64>,
    claim: Option<Claim>,
}

impl Line {
    /// Lines with a completed cancellation vanish from the shipping lists (qoo10.md §8.2, V).
    fn is_listed(&self) -> bool {
        !self
            .claim
            .as_ref()
            .is_some_and(|c| matches!(c.stat, 3 | 16))
    }
}

struct Store {
    api_key: String,
    user_id: String,
    password: String,
    keys_issued: u64,
    items: BTreeMap<String, Qoo10Item>,
    lines: BTreeMap<i64, Line>,
    next_pack_no: i64,
    next_order_no: i64,
    generated: u64,
}

struct Key {
    seller_id: String,
    expires_at: i64,
}

#[derive(Default)]
struct Inner {
    stores: BTreeMap<String, Store>,
    keys: HashMap<String, Key>,
    calls: Vec<Qoo10CallRecord>,
    writes: Vec<Qoo10WriteRecord>,
    limits: Qoo10Limits,
    key_serial: u64,
}

/// What a certification key is worth right now.
pub(crate) enum KeyCheck {
    Valid(String),
    Expired,
    Unknown,
}

#[derive(Default)]
pub(crate) struct Qoo10State {
    inner: RwLock<Inner>,
    buckets: Mutex<TokenBuckets>,
}

/// The long form v2 returns (`On request(2)`), or the bare digit.
pub(crate) fn status_text(status: u8, long: bool) -> String {
    let label = match status {
        1 => "Awaiting shipping",
        2 => "On request",
        3 => "Seller confirm",
        4 => "On delivery",
        5 => "Delivered",
        _ => "Unknown",
    };
    if long {
        format!("{label}({status})")
    } else {
        status.to_string()
    }
}

fn int(row: &Map<String, Value>, key: &str) -> Option<i64> {
    match row.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

impl Qoo10State {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) async fn reset(&self) {
        *self.inner.write().await = Inner::default();
        self.buckets.lock().await.set_rate(None);
    }

    pub(crate) async fn limits(&self) -> Qoo10Limits {
        self.inner.read().await.limits.clone()
    }

    pub(crate) async fn set_limits(&self, limits: Qoo10Limits) -> Result<(), StateError> {
        if limits
            .requests_per_second
            .is_some_and(|r| !r.is_finite() || r <= 0.0)
        {
            return Err(StateError::Invalid(
                "requestsPerSecond must be a positive number or null".into(),
            ));
        }
        if limits.max_search_days <= 0 || limits.key_lifetime_secs <= 0 {
            return Err(StateError::Invalid(
                "maxSearchDays and keyLifetimeSecs must be positive".into(),
            ));
        }
        self.buckets
            .lock()
            .await
            .set_rate(limits.requests_per_second);
        self.inner.write().await.limits = limits;
        Ok(())
    }

    /// Takes one call from the seller's rate bucket; `false` = answer busy.
    pub(crate) async fn try_acquire(&self, seller_id: &str) -> bool {
        self.buckets
            .lock()
            .await
            .try_acquire(seller_id, Instant::now())
    }

    fn store_response(seller_id: &str, store: &Store) -> Qoo10StoreResponse {
        Qoo10StoreResponse {
            seller_id: seller_id.to_owned(),
            line_count: store.lines.len(),
            item_count: store.items.len(),
            keys_issued: store.keys_issued,
        }
    }

    pub(crate) async fn register(
        &self,
        request: &Qoo10RegisterStoreRequest,
    ) -> Result<Qoo10StoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        if inner
            .stores
            .iter()
            .any(|(id, s)| s.api_key == request.api_key && *id != request.seller_id)
        {
            return Err(StateError::Invalid(
                "another seller already has this apiKey".into(),
            ));
        }
        inner.keys.retain(|_, k| k.seller_id != request.seller_id);
        let base = 540_000_000 + 1_000_000 * i64::try_from(inner.stores.len()).unwrap_or(0);
        let store = Store {
            api_key: request.api_key.clone(),
            user_id: request.user_id.clone(),
            password: request.password.clone(),
            keys_issued: 0,
            items: BTreeMap::new(),
            lines: BTreeMap::new(),
            next_pack_no: base + 1,
            next_order_no: 1_088_000_000 + 2 * (base - 540_000_000) + 1,
            generated: 0,
        };
        let response = Self::store_response(&request.seller_id, &store);
        inner.stores.insert(request.seller_id.clone(), store);
        Ok(response)
    }

    pub(crate) async fn store(&self, seller_id: &str) -> Result<Qoo10StoreResponse, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        Ok(Self::store_response(seller_id, store))
    }

    /// Every certification key of the seller is past its expiry from now on.
    pub(crate) async fn expire_keys(
        &self,
        seller_id: &str,
        now: i64,
    ) -> Result<Qoo10StoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        if !inner.stores.contains_key(seller_id) {
            return Err(StateError::UnknownStore(seller_id.to_owned()));
        }
        for key in inner.keys.values_mut() {
            if key.seller_id == seller_id {
                key.expires_at = key.expires_at.min(now - 1);
            }
        }
        let store = inner
            .stores
            .get(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        Ok(Self::store_response(seller_id, store))
    }

    /// A changed QSM password invalidates every key at once (qoo10.md §2, 1 source).
    pub(crate) async fn change_password(
        &self,
        seller_id: &str,
        password: &str,
    ) -> Result<Qoo10StoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        store.password = password.to_owned();
        let response = Self::store_response(seller_id, store);
        inner.keys.retain(|_, k| k.seller_id != seller_id);
        Ok(response)
    }

    pub(crate) async fn put_item(
        &self,
        seller_id: &str,
        item: Qoo10Item,
    ) -> Result<Qoo10StoreResponse, StateError> {
        if item.item_code.is_empty() {
            return Err(StateError::Invalid("itemCode is required".into()));
        }
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        store.items.insert(item.item_code.clone(), item);
        Ok(Self::store_response(seller_id, store))
    }

    /// `CertificationAPI.CreateCertificationKey`: a new key for the seller whose API key,
    /// login and password these are.
    pub(crate) async fn create_key(
        &self,
        api_key: &str,
        user_id: &str,
        password: &str,
        now: i64,
    ) -> Result<(String, String), Refusal> {
        let mut inner = self.inner.write().await;
        let Some((seller_id, store)) = inner.stores.iter_mut().find(|(_, s)| s.api_key == api_key)
        else {
            return Err(Refusal::new(-90001, "存在しないAPIです。"));
        };
        if store.user_id != user_id || store.password != password {
            // I: the code for a wrong login is not documented; −10001 is "seller not found".
            return Err(Refusal::new(-10001, "Not exists seller info."));
        }
        store.keys_issued += 1;
        let seller_id = seller_id.clone();
        inner.key_serial += 1;
        let mut rng = ChaCha8Rng::seed_from_u64(inner.key_serial ^ 0x5a5a);
        let tail: String = (0..24)
            .map(|_| {
                let n: u8 = rng.random_range(0..62);
                char::from(match n {
                    0..=9 => b'0' + n,
                    10..=35 => b'a' + n - 10,
                    _ => b'A' + n - 36,
                })
            })
            .collect();
        let key = format!("S5bn{}_g_{}", tail, inner.key_serial);
        let expires_at = now + inner.limits.key_lifetime_secs;
        inner.keys.insert(
            key.clone(),
            Key {
                seller_id: seller_id.clone(),
                expires_at,
            },
        );
        Ok((seller_id, key))
    }

    pub(crate) async fn check_key(&self, key: &str, now: i64) -> KeyCheck {
        let inner = self.inner.read().await;
        match inner.keys.get(key) {
            None => KeyCheck::Unknown,
            Some(k) if k.expires_at < now => KeyCheck::Expired,
            Some(k) => KeyCheck::Valid(k.seller_id.clone()),
        }
    }

    pub(crate) async fn record_call(&self, call: Qoo10CallRecord) {
        self.inner.write().await.calls.push(call);
    }

    pub(crate) async fn calls(&self) -> Vec<Qoo10CallRecord> {
        self.inner.read().await.calls.clone()
    }

    pub(crate) async fn writes(&self) -> Vec<Qoo10WriteRecord> {
        self.inner.read().await.writes.clone()
    }

    /// Stores rows as given (control insert); returns the carts they belong to.
    pub(crate) async fn insert_rows(
        &self,
        seller_id: &str,
        rows: Vec<Value>,
    ) -> Result<Qoo10CartsResponse, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let mut carts: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        let mut parsed = Vec::new();
        for (index, row) in rows.into_iter().enumerate() {
            let Value::Object(row) = row else {
                return Err(StateError::Invalid(format!(
                    "rows[{index}] is not an object"
                )));
            };
            let (Some(order_no), Some(pack_no)) = (int(&row, "orderNo"), int(&row, "packNo"))
            else {
                return Err(StateError::Invalid(format!(
                    "rows[{index}] needs numeric orderNo and packNo"
                )));
            };
            let order_time = parse_row_datetime(text(&row, "orderDate")).ok_or_else(|| {
                StateError::Invalid(format!(
                    "rows[{index}].orderDate must be YYYY-MM-DD HH:MM:SS (JST)"
                ))
            })?;
            let paid_time = parse_row_datetime(text(&row, "PaymentDate"));
            let status = match row.get("shippingStatus") {
                None => {
                    if paid_time.is_some() {
                        2
                    } else {
                        1
                    }
                }
                Some(v) => status_of(v).ok_or_else(|| {
                    StateError::Invalid(format!("rows[{index}].shippingStatus is not 1..5"))
                })?,
            };
            carts.entry(pack_no).or_default().push(order_no);
            parsed.push((
                order_no,
                Line {
                    row,
                    pack_no,
                    status,
                    order_time,
                    paid_time,
                    claim: None,
                },
            ));
        }
        for (order_no, line) in parsed {
            store.next_order_no = store.next_order_no.max(order_no + 1);
            store.next_pack_no = store.next_pack_no.max(line.pack_no + 1);
            store.lines.insert(order_no, line);
        }
        Ok(Qoo10CartsResponse {
            pack_nos: carts.keys().copied().collect(),
            order_nos: carts.into_values().collect(),
            kinds: Vec::new(),
        })
    }

    pub(crate) async fn generate(
        &self,
        seller_id: &str,
        options: &Qoo10GenerateOptions,
        default_seed: u64,
        now: i64,
    ) -> Result<Qoo10CartsResponse, StateError> {
        let count = options.count.unwrap_or(DEFAULT_COUNT);
        if count > MAX_COUNT {
            return Err(StateError::Invalid(format!("count is at most {MAX_COUNT}")));
        }
        let seed = options.seed.unwrap_or(default_seed);
        let spread = options.spread_secs.unwrap_or(3_600).max(1);
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        for item in generator::catalog_items() {
            store.items.insert(item.item_code.clone(), item);
        }
        let mut kind_rng = ChaCha8Rng::seed_from_u64(seed);
        kind_rng.set_stream(store.generated);
        let mut response = Qoo10CartsResponse {
            pack_nos: Vec::with_capacity(count),
            order_nos: Vec::with_capacity(count),
            kinds: Vec::with_capacity(count),
        };
        let step = spread / i64::try_from(count.max(1)).unwrap_or(1);
        for index in 0..count {
            let kind = generator::kind_for(options, &mut kind_rng, index);
            let at = now - spread + step * i64::try_from(index).unwrap_or(0);
            let pack_no = store.next_pack_no;
            let cart = generator::cart(seed, kind, seller_id, pack_no, store.next_order_no, at);
            store.next_pack_no += 1;
            let mut numbers = Vec::new();
            for row in cart.rows {
                let order_no = int(&row, "orderNo").unwrap_or(store.next_order_no);
                store.next_order_no = store.next_order_no.max(order_no + 1);
                let paid_time = parse_row_datetime(text(&row, "PaymentDate"));
                numbers.push(order_no);
                store.lines.insert(
                    order_no,
                    Line {
                        row,
                        pack_no,
                        status: if paid_time.is_some() { 2 } else { 1 },
                        order_time: at,
                        paid_time,
                        claim: None,
                    },
                );
            }
            store.generated += 1;
            response.pack_nos.push(pack_no);
            response.order_nos.push(numbers);
            response.kinds.push(cart.kind);
        }
        Ok(response)
    }

    /// Pays an unpaid cart: status 1 → 2, `PaymentDate` now, `DeliveryCompany` from the item.
    pub(crate) async fn pay_cart(
        &self,
        seller_id: &str,
        pack_no: i64,
        now: i64,
    ) -> Result<Vec<Value>, StateError> {
        let mut inner = self.inner.write().await;
        let long = inner.limits.long_status;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let items = store.items.clone();
        let mut changed = 0;
        for line in store.lines.values_mut().filter(|l| l.pack_no == pack_no) {
            if line.status != 1 {
                continue;
            }
            line.status = 2;
            line.paid_time = Some(now);
            line.row
                .insert("PaymentDate".into(), format_datetime(now).into());
            let carrier = items
                .get(text(&line.row, "itemCode"))
                .map(|i| i.delivery_company.clone())
                .unwrap_or_default();
            if text(&line.row, "DeliveryCompany").is_empty() {
                line.row.insert("DeliveryCompany".into(), carrier.into());
            }
            changed += 1;
        }
        if changed == 0 {
            return Err(StateError::UnknownOrder(format!(
                "no unpaid lines in cart {pack_no}"
            )));
        }
        Ok(render_cart(store, pack_no, long))
    }

    /// Applies a claim to the given lines (`None` = every line of the cart).
    pub(crate) async fn claim(
        &self,
        seller_id: &str,
        pack_no: Option<i64>,
        order_no: Option<i64>,
        request: &Qoo10ClaimRequest,
        now: i64,
    ) -> Result<Vec<Value>, StateError> {
        if !matches!(request.claim_stat, 1 | 2 | 3 | 16) {
            return Err(StateError::Invalid(
                "claimStat must be 1 (requested), 2 (cancelling), 3 (completed) or 16 (unpaid cancel)"
                    .into(),
            ));
        }
        let mut inner = self.inner.write().await;
        let long = inner.limits.long_status;
        let store = inner
            .stores
            .get_mut(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        let mut cart = None;
        for (number, line) in store.lines.iter_mut() {
            let hit = match (pack_no, order_no) {
                (_, Some(o)) => *number == o,
                (Some(p), None) => line.pack_no == p,
                (None, None) => false,
            };
            if !hit {
                continue;
            }
            cart = Some(line.pack_no);
            let requested_at = line.claim.as_ref().map_or(now, |c| c.requested_at);
            line.claim = Some(Claim {
                stat: request.claim_stat,
                reason: request.reason.clone(),
                requested_at,
                completed_at: matches!(request.claim_stat, 3 | 16).then_some(now),
            });
        }
        let Some(cart) = cart else {
            return Err(StateError::UnknownOrder(format!(
                "{}",
                order_no.or(pack_no).unwrap_or_default()
            )));
        };
        Ok(render_cart(store, cart, long))
    }

    /// Every stored line of the seller, rendered as ByOrderNo would (control GET).
    pub(crate) async fn lines(&self, seller_id: &str) -> Result<Vec<Value>, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(seller_id)
            .ok_or_else(|| StateError::UnknownStore(seller_id.to_owned()))?;
        Ok(store
            .lines
            .keys()
            .filter_map(|n| render_detail(store, *n, inner.limits.long_status))
            .collect())
    }

    /// `GetShippingInfo_v2`: listed lines with one of `statuses` whose date (1 order, 2
    /// payment; 3 and 4 are not tracked and find nothing) lies in `[start, end]`.
    pub(crate) async fn shipping_search(
        &self,
        seller_id: &str,
        statuses: &[u8],
        start: i64,
        end: i64,
        condition: u8,
    ) -> Vec<Value> {
        let inner = self.inner.read().await;
        let Some(store) = inner.stores.get(seller_id) else {
            return Vec::new();
        };
        let mut rows: Vec<Value> = store
            .lines
            .iter()
            .filter(|(_, l)| l.is_listed() && statuses.contains(&l.status))
            .filter(|(_, l)| {
                let at = match condition {
                    1 => Some(l.order_time),
                    2 => l.paid_time,
                    _ => None,
                };
                at.is_some_and(|at| start <= at && at <= end)
            })
            .filter_map(|(n, _)| render_row(store, *n, inner.limits.long_status))
            .collect();
        if let Some(max) = inner.limits.max_rows {
            rows.truncate(max);
        }
        rows
    }

    /// `GetShippingAndClaimInfoByOrderNo_V2`: the line with its claim fields, listed or not.
    pub(crate) async fn by_order_no(&self, seller_id: &str, order_no: i64) -> Option<Value> {
        let inner = self.inner.read().await;
        let store = inner.stores.get(seller_id)?;
        render_detail(store, order_no, inner.limits.long_status)
    }

    /// `GetClaimInfo_V3`: claims of `stat` (or any) whose date (1 order, 2 request, 3
    /// completion) lies in `[start, end]`.
    pub(crate) async fn claim_search(
        &self,
        seller_id: &str,
        stat: Option<u8>,
        start: i64,
        end: i64,
        condition: u8,
    ) -> Vec<Value> {
        let inner = self.inner.read().await;
        let Some(store) = inner.stores.get(seller_id) else {
            return Vec::new();
        };
        store
            .lines
            .iter()
            .filter_map(|(n, l)| l.claim.as_ref().map(|c| (n, l, c)))
            .filter(|(_, _, c)| stat.is_none_or(|s| s == c.stat))
            .filter(|(_, l, c)| {
                let at = match condition {
                    2 => Some(c.requested_at),
                    3 => c.completed_at,
                    _ => Some(l.order_time),
                };
                at.is_some_and(|at| start <= at && at <= end)
            })
            .map(|(n, l, c)| claim_row(*n, l, c))
            .collect()
    }

    pub(crate) async fn item(&self, seller_id: &str, item_code: &str) -> Option<Qoo10Item> {
        let inner = self.inner.read().await;
        inner.stores.get(seller_id)?.items.get(item_code).cloned()
    }

    /// `SetSellerCheckYN_V2`: 2 → 3 with the estimated ship date (qoo10.md §7).
    pub(crate) async fn seller_check(
        &self,
        seller_id: &str,
        order_no: i64,
        est_ship_dt: &str,
        now: i64,
    ) -> Result<(), Refusal> {
        let mut inner = self.inner.write().await;
        let max_days = inner.limits.est_ship_max_days;
        let Some(store) = inner.stores.get_mut(seller_id) else {
            return Err(Refusal::new(-10001, "Not exists seller info."));
        };
        let Some(line) = store.lines.get_mut(&order_no) else {
            return Err(Refusal::new(-10001, "Not exists order."));
        };
        if !line.is_listed() {
            return Err(Refusal::new(
                -10013,
                "The order is not in delivery request status.",
            ));
        }
        match line.status {
            2 => {}
            3 => {
                return Err(Refusal::new(
                    -10012,
                    "The order was already confirmed by the seller.",
                ));
            }
            _ => {
                return Err(Refusal::new(
                    -10013,
                    "The order is not in delivery request status.",
                ));
            }
        }
        if est_ship_dt.is_empty() {
            return Err(Refusal::new(-10016, "EstShipDt is null."));
        }
        let Some(date) =
            super::parse_search_date(est_ship_dt, false).filter(|_| est_ship_dt.len() == 8)
        else {
            return Err(Refusal::new(-10016, "EstShipDt must be yyyyMMdd."));
        };
        let today = super::start_of_jst_day(now);
        if date < today {
            return Err(Refusal::new(
                -10018,
                "The estimated shipping date must be today or later.",
            ));
        }
        if date > today + max_days * DAY_SECS {
            return Err(Refusal::new(
                -10017,
                format!("The estimated shipping date must be within {max_days} days."),
            ));
        }
        line.status = 3;
        line.row
            .insert("EstShippingDate".into(), format_date(date).into());
        inner.writes.push(Qoo10WriteRecord {
            method: "ShippingBasic.SetSellerCheckYN_V2".into(),
            seller_id: seller_id.to_owned(),
            order_no,
            est_ship_dt: est_ship_dt.to_owned(),
        });
        Ok(())
    }
}

/// A row's `shippingStatus`: `On request(2)` or `2`.
fn status_of(value: &Value) -> Option<u8> {
    let text = match value {
        Value::Number(n) => return n.as_u64().and_then(|n| u8::try_from(n).ok()),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    let digits = text
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once('('))
        .map_or(text, |(_, d)| d);
    digits.parse().ok().filter(|s| (1..=5).contains(s))
}

/// The line as `GetShippingInfo_v2` answers it.
fn render_row(store: &Store, order_no: i64, long: bool) -> Option<Value> {
    let line = store.lines.get(&order_no)?;
    let mut row = line.row.clone();
    row.insert(
        "shippingStatus".into(),
        status_text(line.status, long).into(),
    );
    let related: Vec<String> = store
        .lines
        .iter()
        .filter(|(_, l)| l.pack_no == line.pack_no)
        .map(|(n, _)| n.to_string())
        .collect();
    row.insert("RelatedOrder".into(), related.join(",").into());
    Some(Value::Object(row))
}

/// The line as `GetShippingAndClaimInfoByOrderNo_V2` answers it: the row plus claim fields.
fn render_detail(store: &Store, order_no: i64, long: bool) -> Option<Value> {
    let Value::Object(mut row) = render_row(store, order_no, long)? else {
        return None;
    };
    let claim = store.lines.get(&order_no).and_then(|l| l.claim.clone());
    let (stat, reason, requested, completed) = match &claim {
        Some(c) => (
            c.stat.to_string(),
            c.reason.clone(),
            format_datetime(c.requested_at),
            c.completed_at.map(format_datetime).unwrap_or_default(),
        ),
        None => Default::default(),
    };
    row.insert("claimStatus".into(), stat.into());
    row.insert("reason".into(), reason.into());
    row.insert("requestDate".into(), requested.into());
    row.insert("cancelRefundDate".into(), completed.into());
    row.insert("OrderType".into(), "".into());
    Some(Value::Object(row))
}

fn render_cart(store: &Store, pack_no: i64, long: bool) -> Vec<Value> {
    store
        .lines
        .iter()
        .filter(|(_, l)| l.pack_no == pack_no)
        .filter_map(|(n, _)| render_detail(store, *n, long))
        .collect()
}

/// A `GetClaimInfo_V3` row (camelCase, qoo10.md §8.2).
fn claim_row(order_no: i64, line: &Line, claim: &Claim) -> Value {
    let row = &line.row;
    serde_json::json!({
        "claimStatus": claim.stat.to_string(),
        "requestDate": format_datetime(claim.requested_at),
        "cancelRefundDate": claim.completed_at.map(format_datetime).unwrap_or_default(),
        "reason": claim.reason,
        "orderNo": order_no,
        "packNo": line.pack_no,
        "itemCode": text(row, "itemCode"),
        "sellerItemCode": text(row, "sellerItemCode"),
        "itemTitle": text(row, "itemTitle"),
        "orderQty": int(row, "orderQty").unwrap_or(0),
        "orderDate": format_datetime(line.order_time),
        "PaymentDate": line.paid_time.map(format_datetime).unwrap_or_default(),
        "currency": "JPY",
        "paymentAmount": row.get("total").cloned().unwrap_or(Value::Null),
        "paymentNation": "JP",
        "deliveryCompany": "",
        "trackingNo": "",
        "buyer": text(row, "buyer"),
        "nrPartRefundCnt": 0,
        "nrPartRefundBalance": 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_forms() {
        assert_eq!(status_text(2, true), "On request(2)");
        assert_eq!(status_text(1, false), "1");
        assert_eq!(status_of(&"On request(2)".into()), Some(2));
        assert_eq!(status_of(&"3".into()), Some(3));
        assert_eq!(status_of(&"On request(9)".into()), None);
    }
}
