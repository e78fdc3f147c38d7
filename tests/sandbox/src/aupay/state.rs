//! In-memory au PAY state: stores (key, expiry, rights, IP registration, orders), the write
//! log, the HTML 502 countdown and the knobs.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::generator::{self, AupayGenerateOptions, AupayOrderKind, DEFAULT_COUNT, MAX_COUNT};
use super::types::{AupayApiGroup, AupayLimits, AupayStoreResponse, AupayWriteRecord};
use super::{format_date, format_datetime, parse_date, parse_datetime};
use crate::faults::TokenBuckets;
use crate::time::DAY_SECS;
use crate::xml::{self, Element};

/// The named statuses of the official 15-entry list (aupay.md §4; the 15th entry is the
/// placeholder for shop-defined statuses, which the sandbox does not model). A status written
/// by `updateTradeStsProc` must be one of them.
pub const STATUSES: [&str; 14] = [
    "新規受付",
    "新規予約",
    "予約中",
    "発送前入金待ち",
    "与信待ち",
    "発送待ち",
    "発送後入金待ち",
    "完了",
    "保留",
    "キャンセル",
    "不正取引審査中",
    "審査保留",
    "審査NG",
    "キャンセル受付中",
];

/// Keys last 90 days from issue (aupay.md §8).
pub const KEY_LIFETIME_SECS: i64 = 90 * DAY_SECS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("unknown store {0}")]
    UnknownStore(String),
    #[error("unknown order {0}")]
    UnknownOrder(String),
    #[error("{0}")]
    Invalid(String),
}

struct StoredOrder {
    element: Element,
    /// Indexed order time (epoch seconds); `None` leaves the order out of date searches.
    order_time: Option<i64>,
}

impl StoredOrder {
    fn set_leaf(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.element.children.iter_mut().find(|c| c.name == name) {
            Some(leaf) => leaf.text = value,
            None => self.element.children.push(Element::leaf(name, value)),
        }
    }

    fn status(&self) -> &str {
        self.element.child_text("orderStatus").unwrap_or("")
    }
}

struct Store {
    api_key: String,
    key_expires_at: i64,
    denied: Vec<AupayApiGroup>,
    source_ip_registered: bool,
    next_serial: u64,
    orders: BTreeMap<String, StoredOrder>,
}

#[derive(Default)]
struct Inner {
    stores: BTreeMap<String, Store>,
    writes: Vec<AupayWriteRecord>,
    limits: AupayLimits,
    /// HTML 502 pages still to answer, and the endpoint they are for (`None` = any).
    bad_gateway_left: u32,
    bad_gateway_endpoint: Option<String>,
    bad_gateway_status: u16,
}

/// Why a key was refused. Every cause is answered the same way (401 / `0002`): clients
/// cannot tell them apart (aupay.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthProblem {
    UnknownKey,
    Expired,
    IpNotRegistered,
    NoRight,
}

/// Outcome of one status change.
pub(crate) enum ChangeOutcome {
    Changed,
    Refused { code: &'static str, message: String },
}

#[derive(Default)]
pub(crate) struct AupayState {
    inner: RwLock<Inner>,
    buckets: Mutex<TokenBuckets>,
}

impl AupayState {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) async fn reset(&self) {
        *self.inner.write().await = Inner::default();
        self.buckets.lock().await.set_rate(None);
    }

    pub(crate) async fn limits(&self) -> AupayLimits {
        self.inner.read().await.limits.clone()
    }

    pub(crate) async fn set_limits(&self, limits: AupayLimits) -> Result<(), StateError> {
        if limits
            .requests_per_second_per_shop
            .is_some_and(|r| !r.is_finite() || r <= 0.0)
        {
            return Err(StateError::Invalid(
                "requestsPerSecondPerShop must be a positive number or null".into(),
            ));
        }
        if limits.max_total_count == 0 {
            return Err(StateError::Invalid("maxTotalCount must be positive".into()));
        }
        self.buckets
            .lock()
            .await
            .set_rate(limits.requests_per_second_per_shop);
        self.inner.write().await.limits = limits;
        Ok(())
    }

    fn store_response(shop_id: &str, store: &Store) -> AupayStoreResponse {
        AupayStoreResponse {
            shop_id: shop_id.to_owned(),
            key_expires_at: format_datetime(store.key_expires_at),
            denied_api_groups: store.denied.clone(),
            source_ip_registered: store.source_ip_registered,
            order_count: store.orders.len(),
        }
    }

    pub(crate) async fn register(
        &self,
        shop_id: &str,
        api_key: &str,
        key_expires_at: Option<&str>,
        denied: Vec<AupayApiGroup>,
        source_ip_registered: bool,
        now: i64,
    ) -> Result<AupayStoreResponse, StateError> {
        let expires = match key_expires_at {
            Some(text) => parse_datetime(text).ok_or_else(|| {
                StateError::Invalid("keyExpiresAt must be YYYY/MM/DD HH:MM".into())
            })?,
            None => now + KEY_LIFETIME_SECS,
        };
        let mut inner = self.inner.write().await;
        if inner
            .stores
            .iter()
            .any(|(id, s)| id != shop_id && s.api_key == api_key)
        {
            return Err(StateError::Invalid(
                "apiKey is already another store's key".into(),
            ));
        }
        let store = inner
            .stores
            .entry(shop_id.to_owned())
            .or_insert_with(|| Store {
                api_key: String::new(),
                key_expires_at: 0,
                denied: Vec::new(),
                source_ip_registered: true,
                next_serial: 1,
                orders: BTreeMap::new(),
            });
        store.api_key = api_key.to_owned();
        store.key_expires_at = expires;
        store.denied = denied;
        store.source_ip_registered = source_ip_registered;
        Ok(Self::store_response(shop_id, store))
    }

    pub(crate) async fn store(&self, shop_id: &str) -> Result<AupayStoreResponse, StateError> {
        let inner = self.inner.read().await;
        inner
            .stores
            .get(shop_id)
            .map(|s| Self::store_response(shop_id, s))
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))
    }

    /// The key lapses now (its 90 days are over).
    pub(crate) async fn expire_key(
        &self,
        shop_id: &str,
        now: i64,
    ) -> Result<AupayStoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        store.key_expires_at = now - 1;
        Ok(Self::store_response(shop_id, store))
    }

    /// The shop id the key belongs to, if it may call an API of `group` now.
    pub(crate) async fn authenticate(
        &self,
        api_key: &str,
        group: AupayApiGroup,
        now: i64,
    ) -> Result<String, AuthProblem> {
        let inner = self.inner.read().await;
        let (shop_id, store) = inner
            .stores
            .iter()
            .find(|(_, s)| s.api_key == api_key)
            .ok_or(AuthProblem::UnknownKey)?;
        if now >= store.key_expires_at {
            return Err(AuthProblem::Expired);
        }
        if !store.source_ip_registered {
            return Err(AuthProblem::IpNotRegistered);
        }
        if store.denied.contains(&group) {
            return Err(AuthProblem::NoRight);
        }
        Ok(shop_id.clone())
    }

    /// Takes a token of the shop's bucket; `false` = over the configured rate.
    pub(crate) async fn try_acquire(&self, shop_id: &str) -> bool {
        self.buckets
            .lock()
            .await
            .try_acquire(shop_id, Instant::now())
    }

    pub(crate) async fn set_bad_gateway(&self, count: u32, endpoint: Option<String>, status: u16) {
        let mut inner = self.inner.write().await;
        inner.bad_gateway_left = count;
        inner.bad_gateway_endpoint = endpoint;
        inner.bad_gateway_status = status;
    }

    /// The status of the HTML page this request is to get, if any; counts it down.
    pub(crate) async fn take_bad_gateway(&self, endpoint: &str) -> Option<u16> {
        let mut inner = self.inner.write().await;
        let other = inner
            .bad_gateway_endpoint
            .as_deref()
            .is_some_and(|e| e != endpoint);
        if inner.bad_gateway_left == 0 || other {
            return None;
        }
        inner.bad_gateway_left -= 1;
        Some(inner.bad_gateway_status)
    }

    pub(crate) async fn generate(
        &self,
        shop_id: &str,
        options: &AupayGenerateOptions,
        default_seed: u64,
        now: i64,
    ) -> Result<Vec<(String, AupayOrderKind)>, StateError> {
        let times: Vec<i64> = match &options.order_dates {
            Some(times) => times
                .iter()
                .map(|t| {
                    parse_datetime(t).ok_or_else(|| {
                        StateError::Invalid(format!("orderDates: {t:?} is not YYYY/MM/DD HH:MM"))
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
                // Whole minutes: au PAY's order dates carry no seconds.
                (0..count)
                    .map(|i| {
                        let at = start + step * i as i64 + step / 2;
                        at - at.rem_euclid(60)
                    })
                    .collect()
            }
        };
        let seed = options.seed.unwrap_or(default_seed);
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let mut draws = ChaCha8Rng::seed_from_u64(seed ^ 0x00a0_0a01);
        let mut made = Vec::with_capacity(times.len());
        for (index, at) in times.into_iter().enumerate() {
            let kind = generator::kind_for(options, index, draws.random());
            let serial = store.next_serial;
            store.next_serial += 1;
            let order = generator::generate_one(seed, shop_id, serial, at, kind);
            made.push((order.order_id.clone(), kind));
            store.orders.insert(
                order.order_id,
                StoredOrder {
                    element: order.element,
                    order_time: Some(at),
                },
            );
        }
        Ok(made)
    }

    pub(crate) async fn insert(
        &self,
        shop_id: &str,
        xml_text: &str,
        order_date: Option<&str>,
    ) -> Result<String, StateError> {
        let element = xml::parse(xml_text).map_err(|e| StateError::Invalid(format!("xml: {e}")))?;
        if element.name != "orderInfo" {
            return Err(StateError::Invalid(
                "xml must be one <orderInfo> element".into(),
            ));
        }
        let order_id = element
            .child_text("orderId")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| StateError::Invalid("<orderInfo> needs an <orderId>".into()))?
            .to_owned();
        let time =
            match order_date {
                Some(t) => Some(parse_datetime(t).ok_or_else(|| {
                    StateError::Invalid("orderDate must be YYYY/MM/DD HH:MM".into())
                })?),
                None => element.child_text("orderDate").and_then(parse_datetime),
            };
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        store.orders.insert(
            order_id.clone(),
            StoredOrder {
                element,
                order_time: time,
            },
        );
        Ok(order_id)
    }

    pub(crate) async fn order_ids(&self, shop_id: &str) -> Result<Vec<String>, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        Ok(store.orders.keys().cloned().collect())
    }

    pub(crate) async fn order(&self, shop_id: &str, order_id: &str) -> Result<Element, StateError> {
        let inner = self.inner.read().await;
        inner
            .stores
            .get(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?
            .orders
            .get(order_id)
            .map(|o| o.element.clone())
            .ok_or_else(|| StateError::UnknownOrder(order_id.to_owned()))
    }

    async fn with_order(
        &self,
        shop_id: &str,
        order_id: &str,
        change: impl FnOnce(&mut StoredOrder) -> Result<(), StateError>,
    ) -> Result<Element, StateError> {
        let mut inner = self.inner.write().await;
        let order = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?
            .orders
            .get_mut(order_id)
            .ok_or_else(|| StateError::UnknownOrder(order_id.to_owned()))?;
        change(order)?;
        Ok(order.element.clone())
    }

    /// The buyer paid a prepayment order: `paymentDate` today, and an order waiting for the
    /// payment (`発送前入金待ち`) moves to `発送待ち` (unless the limits say au PAY leaves that
    /// to the shop).
    pub(crate) async fn pay(
        &self,
        shop_id: &str,
        order_id: &str,
        now: i64,
    ) -> Result<Element, StateError> {
        let moves_status = self.limits().await.payment_moves_status;
        self.with_order(shop_id, order_id, |order| {
            order.set_leaf("paymentDate", format_date(now));
            if moves_status && order.status() == "発送前入金待ち" {
                order.set_leaf("orderStatus", "発送待ち");
            }
            Ok(())
        })
        .await
    }

    /// au PAY cancelled the order (`キャンセル`, `cancelStatus` C).
    pub(crate) async fn cancel(
        &self,
        shop_id: &str,
        order_id: &str,
    ) -> Result<Element, StateError> {
        self.with_order(shop_id, order_id, |order| {
            order.set_leaf("orderStatus", "キャンセル");
            order.set_leaf("cancelStatus", "C");
            Ok(())
        })
        .await
    }

    /// au PAY cancelled some lines: their `itemCancelStatus` turns `Y` (the field is one
    /// client's; its values are a guess), the order keeps its status.
    pub(crate) async fn cancel_lines(
        &self,
        shop_id: &str,
        order_id: &str,
        detail_ids: &[String],
    ) -> Result<Element, StateError> {
        self.with_order(shop_id, order_id, |order| {
            for id in detail_ids {
                let detail = order
                    .element
                    .children
                    .iter_mut()
                    .find(|d| d.name == "detail" && d.child_text("orderDetailId") == Some(id))
                    .ok_or_else(|| StateError::Invalid(format!("no line {id} in the order")))?;
                match detail
                    .children
                    .iter_mut()
                    .find(|c| c.name == "itemCancelStatus")
                {
                    Some(leaf) => leaf.text = "Y".into(),
                    None => detail.children.push(Element::leaf("itemCancelStatus", "Y")),
                }
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn set_status(
        &self,
        shop_id: &str,
        order_id: &str,
        status: &str,
    ) -> Result<Element, StateError> {
        if !STATUSES.contains(&status) {
            return Err(StateError::Invalid(format!(
                "orderStatus must be one of {}",
                STATUSES.join(", ")
            )));
        }
        self.with_order(shop_id, order_id, |order| {
            order.set_leaf("orderStatus", status);
            if status == "完了" {
                order.set_leaf("paymentStatus", "Y");
                order.set_leaf("shipStatus", "Y");
            }
            Ok(())
        })
        .await
    }

    /// Orders of a shop whose `date_field` (or the indexed order time, for `orderDate`) falls
    /// in `[from, to]`, oldest first (ties by id), optionally of one status.
    pub(crate) async fn search(
        &self,
        shop_id: &str,
        date_field: &str,
        from: i64,
        to: i64,
        status: Option<&str>,
    ) -> Vec<Element> {
        let inner = self.inner.read().await;
        let Some(store) = inner.stores.get(shop_id) else {
            return Vec::new();
        };
        let mut found: Vec<(i64, &String, &StoredOrder)> = store
            .orders
            .iter()
            .filter_map(|(id, o)| {
                let at = if date_field == "orderDate" {
                    o.order_time?
                } else {
                    let text = o.element.child_text(date_field)?;
                    parse_date(text).or_else(|| parse_datetime(text))?
                };
                (from <= at && at <= to).then_some((at, id, o))
            })
            .filter(|(_, _, o)| status.is_none_or(|s| o.status() == s))
            .collect();
        found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        found
            .into_iter()
            .map(|(_, _, o)| o.element.clone())
            .collect()
    }

    pub(crate) async fn find(&self, shop_id: &str, order_id: &str) -> Option<Element> {
        self.order(shop_id, order_id).await.ok()
    }

    /// `updateTradeStsProc` for one order; records the write when applied.
    pub(crate) async fn change_status(
        &self,
        shop_id: &str,
        order_id: &str,
        status: &str,
        now: i64,
    ) -> ChangeOutcome {
        let mut inner = self.inner.write().await;
        if inner
            .limits
            .refuse_status_change
            .iter()
            .any(|o| o == order_id)
        {
            return ChangeOutcome::Refused {
                code: "SBX0423",
                message: format!("[orderId]受注情報が編集中のため更新できません（{order_id}）"),
            };
        }
        let Some(order) = inner
            .stores
            .get_mut(shop_id)
            .and_then(|s| s.orders.get_mut(order_id))
        else {
            return ChangeOutcome::Refused {
                code: "SBX0404",
                message: format!("[orderId]該当する受注情報が存在しません（{order_id}）"),
            };
        };
        let from = order.status().to_owned();
        match from.as_str() {
            "キャンセル" => {
                return ChangeOutcome::Refused {
                    code: "SBX0409",
                    message: "キャンセル済みの受注のため、ステータスを変更できません".into(),
                };
            }
            "完了" if status != "完了" => {
                return ChangeOutcome::Refused {
                    code: "SBX0409",
                    message: "完了済みの受注のため、ステータスを変更できません".into(),
                };
            }
            _ => {}
        }
        order.set_leaf("orderStatus", status);
        if status == "完了" {
            order.set_leaf("paymentStatus", "Y");
            order.set_leaf("shipStatus", "Y");
        }
        inner.writes.push(AupayWriteRecord {
            operation: "updateTradeStsProc".into(),
            shop_id: shop_id.to_owned(),
            order_id: order_id.to_owned(),
            from_status: from,
            order_status: status.to_owned(),
            at: format_datetime(now),
        });
        ChangeOutcome::Changed
    }

    pub(crate) async fn writes(&self) -> Vec<AupayWriteRecord> {
        self.inner.read().await.writes.clone()
    }
}
