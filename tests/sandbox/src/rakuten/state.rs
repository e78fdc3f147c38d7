//! In-memory Rakuten state: stores, their orders (raw JSON + a small index), the log of
//! writes and the knobs.
//!
//! Orders are kept as the raw `serde_json::Value` a test inserted, so deliberately broken
//! orders round-trip untouched; only the index (six event timestamps + `orderProgress`) is
//! derived from them, and anything unreadable is simply left out of the index.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use super::generator::{self, GenerateOptions, GeneratedOrder, OrderKind};
use super::wire::{ConfirmResult, SearchQuery};
use crate::control::{
    CancelLineRequest, InsertOrderRequest, OrderFault, RakutenLimits, StoreResponse, WriteRecord,
};
use crate::faults::TokenBuckets;
use crate::time::{self, DAY_SECS};

/// OrderModel fields behind dateType 1..=5; dateType 6 (payment fixed) has no field.
const DATE_FIELDS: [Option<&str>; 6] = [
    Some("orderDatetime"),
    Some("shopOrderCfmDatetime"),
    Some("orderFixDatetime"),
    Some("shippingInstDatetime"),
    Some("shippingCmplRptDatetime"),
    None,
];

/// Default license key lifetime (observed: 90 days, ending 23:59:59 JST).
const KEY_LIFETIME_DAYS: i64 = 90;

/// Statuses of the order API (§4 of rakuten.md).
pub(crate) const PROGRESS_NEW: i64 = 100;
pub(crate) const PROGRESS_WAITING_SHIPMENT: i64 = 300;
pub(crate) const PROGRESS_PAYMENT_DONE: i64 = 700;
pub(crate) const PROGRESS_CANCELLED: i64 = 900;

/// `ChangeReasonModelList[].changeType` 6 (change completed) and `changeTypeDetail` 0
/// (decrease), rakuten.md §3d.
const CHANGE_COMPLETED: i64 = 6;
const CHANGE_DECREASE: i64 = 0;

/// Why a control request on the Rakuten state failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("unknown store {0}")]
    UnknownStore(String),
    #[error("unknown order {0}")]
    UnknownOrder(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
}

/// One stored order: raw JSON plus what search needs.
#[derive(Debug, Clone)]
struct StoredOrder {
    json: Value,
    /// Timestamps given next to the order at insert time; they win over the JSON.
    overrides: [Option<i64>; 6],
    times: [Option<i64>; 6],
    progress: Option<i64>,
    /// Set through the control API; survives a replace of the order.
    fault: OrderFault,
}

impl StoredOrder {
    fn new(json: Value, overrides: [Option<i64>; 6]) -> Self {
        let mut order = Self {
            json,
            overrides,
            times: [None; 6],
            progress: None,
            fault: OrderFault::None,
        };
        order.reindex();
        order
    }

    fn reindex(&mut self) {
        for (slot, field) in DATE_FIELDS.iter().enumerate() {
            let from_json = field
                .and_then(|f| self.json.get(f))
                .and_then(Value::as_str)
                .and_then(time::parse_rakuten_datetime);
            self.times[slot] = self.overrides[slot].or(from_json);
        }
        self.progress = self.json.get("orderProgress").and_then(Value::as_i64);
    }

    fn order_datetime(&self) -> Option<i64> {
        self.times[0]
    }
}

#[derive(Debug)]
struct Store {
    service_secret: String,
    license_key: String,
    license_expires_at: i64,
    /// Serial of the next generated order number.
    next_serial: u64,
    orders: BTreeMap<String, StoredOrder>,
    /// Operations that answer 401 until the store is registered again.
    rejected_operations: BTreeSet<String>,
    /// `false`: 楽天ペイ受注API is not enabled for the app; the order API answers `ES04-01`.
    order_api_enabled: bool,
}

#[derive(Debug, Default)]
struct Inner {
    stores: BTreeMap<String, Store>,
    writes: Vec<WriteRecord>,
    limits: RakutenLimits,
}

/// Result of checking an `ESA` credential pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    Valid { shop_id: String, expires_at: i64 },
    Expired { shop_id: String, expires_at: i64 },
    Unknown,
}

/// Rakuten state behind async locks; the rate limiter has its own lock so it never waits
/// on a long generate call.
#[derive(Debug, Default)]
pub(crate) struct RakutenState {
    inner: RwLock<Inner>,
    buckets: Mutex<TokenBuckets>,
}

fn store_response(shop_id: &str, store: &Store) -> StoreResponse {
    StoreResponse {
        shop_id: shop_id.to_owned(),
        license_expires_at: time::format_naive_jst(store.license_expires_at),
        order_count: store.orders.len(),
    }
}

fn parse_override(field: &str, value: Option<&String>) -> Result<Option<i64>, StateError> {
    value
        .map(|s| {
            time::parse_rakuten_datetime(s).ok_or_else(|| {
                StateError::Invalid(format!("{field} must be YYYY-MM-DDThh:mm:ss+0900"))
            })
        })
        .transpose()
}

impl RakutenState {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) async fn reset(&self) {
        *self.inner.write().await = Inner::default();
        self.buckets.lock().await.set_rate(None);
    }

    pub(crate) async fn limits(&self) -> RakutenLimits {
        self.inner.read().await.limits.clone()
    }

    pub(crate) async fn set_limits(&self, limits: RakutenLimits) -> Result<(), StateError> {
        if limits
            .requests_per_second
            .is_some_and(|r| !r.is_finite() || r <= 0.0)
        {
            return Err(StateError::Invalid(
                "requestsPerSecond must be a positive number or null".into(),
            ));
        }
        if limits.max_page_size == 0 {
            return Err(StateError::Invalid("maxPageSize must be at least 1".into()));
        }
        self.buckets
            .lock()
            .await
            .set_rate(limits.requests_per_second);
        self.inner.write().await.limits = limits;
        Ok(())
    }

    /// Takes a rate-limit token for the store; `false` = answer 429.
    pub(crate) async fn try_acquire(&self, shop_id: &str) -> bool {
        self.buckets
            .lock()
            .await
            .try_acquire(shop_id, Instant::now())
    }

    pub(crate) async fn authenticate(&self, secret: &str, key: &str, now: i64) -> Auth {
        let inner = self.inner.read().await;
        let found = inner
            .stores
            .iter()
            .find(|(_, s)| s.service_secret == secret && s.license_key == key);
        match found {
            None => Auth::Unknown,
            Some((shop_id, store)) if now > store.license_expires_at => Auth::Expired {
                shop_id: shop_id.clone(),
                expires_at: store.license_expires_at,
            },
            Some((shop_id, store)) => Auth::Valid {
                shop_id: shop_id.clone(),
                expires_at: store.license_expires_at,
            },
        }
    }

    // -- order API ----------------------------------------------------------------------

    /// All order numbers matching `query`, sorted by orderDatetime then order number.
    pub(crate) async fn search(&self, shop_id: &str, query: &SearchQuery) -> Vec<String> {
        let inner = self.inner.read().await;
        let Some(store) = inner.stores.get(shop_id) else {
            return Vec::new();
        };
        let slot = query.date_type.saturating_sub(1).min(5);
        let mut hits: Vec<(Option<i64>, &String)> = store
            .orders
            .iter()
            .filter(|(_, o)| {
                o.fault != OrderFault::HiddenFromSearch
                    && o.times[slot].is_some_and(|t| t >= query.start && t <= query.end)
                    && query
                        .progress
                        .as_ref()
                        .is_none_or(|list| o.progress.is_some_and(|p| list.contains(&p)))
            })
            .map(|(number, o)| (o.order_datetime(), number))
            .collect();
        hits.sort();
        if query.descending {
            hits.reverse();
        }
        hits.into_iter().map(|(_, n)| n.clone()).collect()
    }

    /// Orders of the store in request order, plus the numbers that were not found.
    pub(crate) async fn get_orders(
        &self,
        shop_id: &str,
        numbers: &[String],
    ) -> (Vec<Value>, Vec<String>) {
        let inner = self.inner.read().await;
        let orders = inner.stores.get(shop_id).map(|s| &s.orders);
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for number in numbers {
            match orders.and_then(|o| o.get(number)) {
                Some(order) if order.fault == OrderFault::OmittedFromGetOrder => {
                    missing.push(number.clone());
                }
                Some(order) if order.fault == OrderFault::UnreadableInGetOrder => {
                    let mut json = order.json.clone();
                    if let Some(map) = json.as_object_mut() {
                        map.insert("orderNumber".into(), Value::Null);
                    }
                    found.push(json);
                }
                Some(order) => found.push(order.json.clone()),
                None => missing.push(number.clone()),
            }
        }
        (found, missing)
    }

    /// confirmOrder: 100 → 300 with `shopOrderCfmDatetime` = now; logs the successes.
    pub(crate) async fn confirm(
        &self,
        shop_id: &str,
        numbers: &[String],
        now: i64,
    ) -> Vec<(String, ConfirmResult)> {
        let mut inner = self.inner.write().await;
        let reject_unfixed = inner.limits.confirm_rejects_unfixed_postage;
        let Some(store) = inner.stores.get_mut(shop_id) else {
            return numbers
                .iter()
                .map(|n| (n.clone(), ConfirmResult::NotFound))
                .collect();
        };
        let mut results = Vec::with_capacity(numbers.len());
        let mut confirmed = Vec::new();
        for number in numbers {
            let result = match store.orders.get_mut(number) {
                None => ConfirmResult::NotFound,
                Some(order) => confirm_one(order, now, reject_unfixed),
            };
            if result == ConfirmResult::Confirmed {
                confirmed.push(number.clone());
            }
            results.push((number.clone(), result));
        }
        if !confirmed.is_empty() {
            inner.writes.push(WriteRecord {
                operation: "confirmOrder".into(),
                shop_id: shop_id.to_owned(),
                order_numbers: confirmed,
                at: time::format_rakuten_datetime(now),
            });
        }
        results
    }

    // -- control API --------------------------------------------------------------------

    /// Registers a store or replaces its credentials (orders are kept).
    pub(crate) async fn register(
        &self,
        shop_id: &str,
        service_secret: &str,
        license_key: &str,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<StoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let taken = inner.stores.iter().any(|(id, s)| {
            id != shop_id && s.service_secret == service_secret && s.license_key == license_key
        });
        if taken {
            return Err(StateError::Conflict(
                "another store already uses this serviceSecret/licenseKey pair".into(),
            ));
        }
        let expires_at =
            expires_at.unwrap_or_else(|| time::end_of_jst_day(now + KEY_LIFETIME_DAYS * DAY_SECS));
        let store = inner
            .stores
            .entry(shop_id.to_owned())
            .or_insert_with(|| Store {
                service_secret: String::new(),
                license_key: String::new(),
                license_expires_at: 0,
                next_serial: 1,
                orders: BTreeMap::new(),
                rejected_operations: BTreeSet::new(),
                order_api_enabled: true,
            });
        // A (re-)registration is a renewed key: operations refused mid-run work again.
        store.rejected_operations.clear();
        store.service_secret = service_secret.to_owned();
        store.license_key = license_key.to_owned();
        store.license_expires_at = expires_at;
        Ok(store_response(shop_id, store))
    }

    /// Makes the store's key expired as of a minute ago.
    pub(crate) async fn expire_key(
        &self,
        shop_id: &str,
        now: i64,
    ) -> Result<StoreResponse, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        store.license_expires_at = now - 60;
        Ok(store_response(shop_id, store))
    }

    /// Generates orders with the store's next serials and stores them.
    pub(crate) async fn generate(
        &self,
        shop_id: &str,
        options: &GenerateOptions,
        default_seed: u64,
        now: i64,
    ) -> Result<Vec<(String, OrderKind)>, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let orders =
            generator::generate_orders(shop_id, store.next_serial, options, default_seed, now)
                .map_err(|e| StateError::Invalid(e.to_string()))?;
        store.next_serial += orders.len() as u64;
        let mut out = Vec::with_capacity(orders.len());
        for GeneratedOrder {
            order_number,
            kind,
            json,
        } in orders
        {
            store
                .orders
                .insert(order_number.clone(), StoredOrder::new(json, [None; 6]));
            out.push((order_number, kind));
        }
        Ok(out)
    }

    /// Inserts (or replaces) one raw order.
    pub(crate) async fn insert(
        &self,
        shop_id: &str,
        request: InsertOrderRequest,
    ) -> Result<String, StateError> {
        let number = request
            .order
            .get("orderNumber")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                StateError::Invalid("order must be an object with a string orderNumber".into())
            })?
            .to_owned();
        let overrides = [
            parse_override("orderDatetime", request.order_datetime.as_ref())?,
            parse_override(
                "shopOrderCfmDatetime",
                request.shop_order_cfm_datetime.as_ref(),
            )?,
            parse_override("orderFixDatetime", request.order_fix_datetime.as_ref())?,
            parse_override(
                "shippingInstDatetime",
                request.shipping_inst_datetime.as_ref(),
            )?,
            parse_override(
                "shippingCmplRptDatetime",
                request.shipping_cmpl_rpt_datetime.as_ref(),
            )?,
            parse_override("paymentFixDatetime", request.payment_fix_datetime.as_ref())?,
        ];
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let mut order = StoredOrder::new(request.order, overrides);
        if let Some(old) = store.orders.get(&number) {
            order.fault = old.fault;
        }
        store.orders.insert(number.clone(), order);
        Ok(number)
    }

    pub(crate) async fn order(&self, shop_id: &str, number: &str) -> Result<Value, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        store
            .orders
            .get(number)
            .map(|o| o.json.clone())
            .ok_or_else(|| StateError::UnknownOrder(number.to_owned()))
    }

    /// Order numbers of the store, sorted by orderDatetime then number.
    pub(crate) async fn order_numbers(&self, shop_id: &str) -> Result<Vec<String>, StateError> {
        let inner = self.inner.read().await;
        let store = inner
            .stores
            .get(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let mut numbers: Vec<(Option<i64>, &String)> = store
            .orders
            .iter()
            .map(|(n, o)| (o.order_datetime(), n))
            .collect();
        numbers.sort();
        Ok(numbers.into_iter().map(|(_, n)| n.clone()).collect())
    }

    /// Moves an order to another status; 700 also stamps the internal payment-fixed time
    /// (dateType 6) unless one was set.
    pub(crate) async fn set_progress(
        &self,
        shop_id: &str,
        number: &str,
        progress: i64,
        now: i64,
    ) -> Result<Value, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let order = store
            .orders
            .get_mut(number)
            .ok_or_else(|| StateError::UnknownOrder(number.to_owned()))?;
        let Some(map) = order.json.as_object_mut() else {
            return Err(StateError::Invalid(
                "stored order is not a JSON object".into(),
            ));
        };
        map.insert("orderProgress".into(), Value::from(progress));
        if progress == PROGRESS_PAYMENT_DONE && order.overrides[5].is_none() {
            order.overrides[5] = Some(now);
        }
        order.reindex();
        Ok(order.json.clone())
    }

    /// What getPayment needs of one order: its JSON and when it was paid (the internal
    /// payment-fixed time, dateType 6). `None`: no such order in the store.
    pub(crate) async fn payment(
        &self,
        shop_id: &str,
        number: &str,
    ) -> Option<(Value, Option<i64>)> {
        let inner = self.inner.read().await;
        let order = inner.stores.get(shop_id)?.orders.get(number)?;
        Some((order.json.clone(), order.overrides[5]))
    }

    /// The buyer paid (bank transfer or konbini) at `at`: getPayment answers 30600 決済確定
    /// from now on and dateType 6 finds the order. `orderProgress` stays (nothing documents
    /// it moving). A cancelled order cannot be paid; paying twice keeps the first time.
    pub(crate) async fn pay(
        &self,
        shop_id: &str,
        number: &str,
        at: i64,
    ) -> Result<Value, StateError> {
        let mut inner = self.inner.write().await;
        let order = order_mut(&mut inner, shop_id, number)?;
        if order.progress == Some(PROGRESS_CANCELLED) {
            return Err(StateError::Conflict("the order is cancelled".into()));
        }
        if order.overrides[5].is_none() {
            order.overrides[5] = Some(at);
            order.reindex();
        }
        Ok(order.json.clone())
    }

    /// One line (`itemDetailId`) cancelled on the mall: the item leaves its package, the
    /// totals are computed again ([`generator::recompute_totals`]) and a
    /// `ChangeReasonModelList` entry records the change (changeType 6 change completed,
    /// changeTypeDetail 0 decrease, rakuten.md §3d). The last line of a package or of the
    /// order cannot go this way: that is a cancellation of the whole order.
    pub(crate) async fn cancel_line(
        &self,
        shop_id: &str,
        number: &str,
        request: &CancelLineRequest,
        now: i64,
    ) -> Result<Value, StateError> {
        let mut inner = self.inner.write().await;
        let order = order_mut(&mut inner, shop_id, number)?;
        if order.progress == Some(PROGRESS_CANCELLED) {
            return Err(StateError::Conflict("the order is cancelled".into()));
        }
        let wanted = request.item_detail_id;
        let packages = order
            .json
            .get_mut("PackageModelList")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| StateError::Invalid("the order has no PackageModelList".into()))?;
        let mut removed = false;
        for package in packages.iter_mut() {
            let Some(items) = package
                .get_mut("ItemModelList")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            let Some(index) = items
                .iter()
                .position(|i| i.get("itemDetailId").and_then(Value::as_i64) == Some(wanted))
            else {
                continue;
            };
            if items.len() == 1 {
                return Err(StateError::Invalid(format!(
                    "item {wanted} is the only line of its package; cancel the order instead"
                )));
            }
            items.remove(index);
            removed = true;
            break;
        }
        if !removed {
            return Err(StateError::Invalid(format!(
                "the order has no line with itemDetailId {wanted}"
            )));
        }
        generator::recompute_totals(&mut order.json);
        let at = time::format_rakuten_datetime(now);
        let Some(map) = order.json.as_object_mut() else {
            return Err(StateError::Invalid(
                "stored order is not a JSON object".into(),
            ));
        };
        let changes = map
            .entry("ChangeReasonModelList")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !changes.is_array() {
            *changes = Value::Array(Vec::new());
        }
        if let Some(list) = changes.as_array_mut() {
            let change_id = 1 + list
                .iter()
                .filter_map(|c| c.get("changeId").and_then(Value::as_i64))
                .max()
                .unwrap_or(0);
            list.push(serde_json::json!({
                "changeId": change_id,
                "changeType": CHANGE_COMPLETED,
                "changeTypeDetail": CHANGE_DECREASE,
                "changeReason": request.change_reason,
                "changeReasonDetail": request.change_reason_detail,
                "changeApplyDatetime": at,
                "changeFixDatetime": at,
                "changeCmplDatetime": at,
            }));
        }
        order.reindex();
        Ok(order.json.clone())
    }

    pub(crate) async fn set_order_fault(
        &self,
        shop_id: &str,
        number: &str,
        fault: OrderFault,
    ) -> Result<(), StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let order = store
            .orders
            .get_mut(number)
            .ok_or_else(|| StateError::UnknownOrder(number.to_owned()))?;
        order.fault = fault;
        Ok(())
    }

    /// From now on `operation` answers 401 for the store, until it is registered again.
    pub(crate) async fn reject_operation(
        &self,
        shop_id: &str,
        operation: &str,
    ) -> Result<(), StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        store.rejected_operations.insert(operation.to_owned());
        Ok(())
    }

    /// Switches 楽天ペイ受注API on or off for the store (RMS: WEB APIサービス → 利用設定).
    pub(crate) async fn set_order_api_enabled(
        &self,
        shop_id: &str,
        enabled: bool,
    ) -> Result<(), StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        store.order_api_enabled = enabled;
        Ok(())
    }

    pub(crate) async fn order_api_enabled(&self, shop_id: &str) -> bool {
        self.inner
            .read()
            .await
            .stores
            .get(shop_id)
            .is_none_or(|s| s.order_api_enabled)
    }

    /// The recipient of a waiting social gift fills in their details (see
    /// [`generator::fill_social_gift`]); returns the updated order.
    pub(crate) async fn fill_social_gift(
        &self,
        shop_id: &str,
        number: &str,
        now: i64,
    ) -> Result<Value, StateError> {
        let mut inner = self.inner.write().await;
        let store = inner
            .stores
            .get_mut(shop_id)
            .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?;
        let order = store
            .orders
            .get_mut(number)
            .ok_or_else(|| StateError::UnknownOrder(number.to_owned()))?;
        if generator::fill_social_gift(&mut order.json, now) == 0 {
            return Err(StateError::Invalid(
                "the order has no social gift waiting for its recipient".into(),
            ));
        }
        order.reindex();
        Ok(order.json.clone())
    }

    /// Whether `operation` was refused for the store through the control API.
    pub(crate) async fn is_rejected(&self, shop_id: &str, operation: &str) -> bool {
        self.inner
            .read()
            .await
            .stores
            .get(shop_id)
            .is_some_and(|s| s.rejected_operations.contains(operation))
    }

    pub(crate) async fn writes(&self) -> Vec<WriteRecord> {
        self.inner.read().await.writes.clone()
    }
}

fn order_mut<'a>(
    inner: &'a mut Inner,
    shop_id: &str,
    number: &str,
) -> Result<&'a mut StoredOrder, StateError> {
    inner
        .stores
        .get_mut(shop_id)
        .ok_or_else(|| StateError::UnknownStore(shop_id.to_owned()))?
        .orders
        .get_mut(number)
        .ok_or_else(|| StateError::UnknownOrder(number.to_owned()))
}

fn confirm_one(order: &mut StoredOrder, now: i64, reject_unfixed: bool) -> ConfirmResult {
    match order.progress {
        Some(PROGRESS_CANCELLED) => return ConfirmResult::Cancelled,
        Some(PROGRESS_NEW) => {}
        _ => return ConfirmResult::WrongStatus,
    }
    if reject_unfixed
        && order.json.get("postagePrice").and_then(Value::as_i64) == Some(generator::UNFIXED)
    {
        return ConfirmResult::PostageUnfixed;
    }
    let Some(map) = order.json.as_object_mut() else {
        return ConfirmResult::WrongStatus;
    };
    map.insert(
        "orderProgress".into(),
        Value::from(PROGRESS_WAITING_SHIPMENT),
    );
    map.insert(
        "shopOrderCfmDatetime".into(),
        Value::from(time::format_rakuten_datetime(now)),
    );
    order.reindex();
    ConfirmResult::Confirmed
}
