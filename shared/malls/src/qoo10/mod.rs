//! Qoo10 Japan through the QSM API (`shared/malls/qoo10.md`).
//!
//! - Auth: the API key and the QSM login issue a certification key (cached, re-issued on
//!   expiry); see [`client`].
//! - Listing: `ShippingBasic.GetShippingInfo_v2` by order date for statuses 1 (入金待ち) and 2
//!   (新規注文), windows of at most [`MAX_WINDOW_DAYS`], no paging: a window whose answer
//!   reaches [`LARGE_RESULT`] rows is split in halves and asked again (Qoo10 documents no cap,
//!   so a large answer may be cut). Rows are lines; they are grouped into carts (`packNo`),
//!   and each cart's payload goes with the listing, so there is no detail call in a run.
//! - Cancellations: `GetClaimInfo_V3` over the same windows; a cancelled line vanishes from
//!   the list, so its row is fetched with the by-order-number call and marked by its claim.
//! - Unpaid carts have no carrier: `ItemsLookup.GetItemDetailInfo` gives the item's (cached).
//! - Targeted import: `GetShippingAndClaimInfoByOrderNo_V2` (always an array) on a line
//!   number, then on every line of its `RelatedOrder`.
//! - Post-import: what real clients do (qoo10.md §7, [Q4][Q13]): every line of a new (2
//!   新規注文) order is confirmed with `SetSellerCheckYN_V2` and an estimated ship date
//!   (today JST + the store's `estShipDays`, default 3, at most 10), which moves it to 3
//!   配送準備. The import hands over only order ids; the lines of each id are remembered when
//!   the order is normalised, and for ids this process has not seen (a later run's sweep) the
//!   new orders of the last 89 days are listed once and split again the same way.

mod client;
pub mod normalise;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use ichigen_core::mall::{
    AckOutcome, Acknowledgement, FetchOutcome, FetchedOrder, ListedOrder, MallCapabilities,
    NormaliseError, Normalised,
};
use ichigen_core::order::{MallStatus, RawPayload};
use ichigen_core::ports::SecretValue;
use ichigen_core::{JstInstant, Mall, MallError, Order, StoreRef, TimeWindow};
use jiff::SignedDuration;
use serde_json::{Map, Value, json};

use self::client::{Answer, Method, Qoo10Client, field};
pub use self::normalise::NormaliseSettings;
use crate::connect::{ClientSettings, ConnectError};
use crate::secret::SecretFields;

/// Production base (style A: `{base}/{Class.Method}`).
pub const API_BASE: &str = "https://api.qoo10.jp/GMKT.INC.Front.QAPIService/ebayjapan.qapi";
/// The search span is capped at 90 days (qoo10.md §5.3); 89 stays inside it whatever Qoo10
/// counts as a day at the window's ends.
pub const MAX_WINDOW_DAYS: i64 = 89;
/// Orders older than about 90 days cannot be fetched again (qoo10.md §5.3, [Q6]).
pub const HISTORY_DAYS: i64 = 89;
/// A list answer this long may have been cut: the window is split and asked again.
pub const LARGE_RESULT: usize = 1_000;
/// A window shorter than this is not split further: one cart's lines share their order
/// time, so halving cannot separate them, and a real cut that large in an hour is unlikely.
pub const MIN_SPLIT_WINDOW: SignedDuration = SignedDuration::from_hours(1);
/// Statuses listed: 1 入金待ち and 2 新規注文 (each asked explicitly, qoo10.md §4.1).
pub const LISTED_STATUSES: [u8; 2] = [1, 2];

/// A Qoo10 store's credentials and settings, read from its secret:
/// `{"apiKey", "userId", "password", "fillBuyerAddressFromShipTo" (optional, false),
/// "additionalOptionsAsLines" (optional, false), "estShipDays" (optional, 3)}`.
pub struct Qoo10Credentials {
    pub api_key: SecretValue,
    pub user_id: String,
    pub password: SecretValue,
    pub settings: NormaliseSettings,
    /// Days from today (JST) to the estimated ship date sent when confirming.
    pub est_ship_days: i64,
}

/// Days to the estimated ship date when the secret says nothing (one WMS uses payment + 3
/// days, qoo10.md §7).
pub const DEFAULT_EST_SHIP_DAYS: i64 = 3;
/// The API refuses a date further out (−10017; 10 days per an OMS manual, qoo10.md §7).
pub const MAX_EST_SHIP_DAYS: i64 = 10;

impl std::fmt::Debug for Qoo10Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qoo10Credentials")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The fields a Qoo10 store's secret must have.
pub const REQUIRED_SECRET_FIELDS: [&str; 3] = ["apiKey", "userId", "password"];

impl Qoo10Credentials {
    /// Reads the store's secret JSON. Errors name the field, never its value; every missing
    /// field is reported before any bad value.
    pub fn from_secret(store: &StoreRef, secret: &SecretValue) -> Result<Self, ConnectError> {
        let fields = SecretFields::parse(store, secret, &REQUIRED_SECRET_FIELDS)?;
        let est_ship_days = match fields.get("estShipDays") {
            None => DEFAULT_EST_SHIP_DAYS,
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|d| (0..=MAX_EST_SHIP_DAYS).contains(d))
                .ok_or_else(|| fields.bad("estShipDays", "must be a whole number from 0 to 10"))?,
            Some(other) => {
                return Err(fields.wrong_kind("estShipDays", "a whole number from 0 to 10", other));
            }
        };
        Ok(Self {
            est_ship_days,
            api_key: SecretValue::new(fields.required_text("apiKey")?),
            user_id: fields.required_text("userId")?,
            password: SecretValue::new(fields.required_text("password")?),
            settings: NormaliseSettings {
                fill_buyer_address_from_ship_to: fields
                    .flag("fillBuyerAddressFromShipTo")?
                    .unwrap_or(false),
                additional_options_as_lines: fields
                    .flag("additionalOptionsAsLines")?
                    .unwrap_or(false),
            },
        })
    }
}

/// One Qoo10 store, through its real API. Holds the store's certification key, rate bucket
/// and item-carrier cache: build one per store and reuse it.
#[derive(Debug)]
pub struct Qoo10Mall {
    client: Qoo10Client,
    settings: NormaliseSettings,
    large_result: usize,
    /// Item number → the carrier of its shipping group (`None`: Qoo10 knows none).
    item_carriers: Mutex<HashMap<String, Option<String>>>,
    /// Cart → its line numbers, from this process's listings (a cart number alone cannot be
    /// looked up: the detail call takes a line number).
    cart_lines: Mutex<HashMap<i64, BTreeSet<i64>>>,
    /// Our order's mall id (`<cart>` or `<cart>-<n>`) → its live line numbers, for the
    /// confirmation.
    order_lines: Mutex<HashMap<String, Vec<i64>>>,
    est_ship_days: i64,
}

/// Rows and claims of one cart while a listing is assembled.
#[derive(Default)]
struct CartRows {
    rows: BTreeMap<i64, Value>,
    claims: Vec<Value>,
}

fn compact(at: JstInstant) -> String {
    at.civil().strftime("%Y%m%d%H%M%S").to_string()
}

fn number(value: &Value, name: &str) -> Option<i64> {
    match field(value, name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Qoo10Mall {
    /// `api_base` is [`API_BASE`] in production.
    pub fn new(
        store: StoreRef,
        credentials: Qoo10Credentials,
        api_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: Qoo10Client::new(store, &credentials, api_base, settings)?,
            settings: credentials.settings,
            large_result: LARGE_RESULT,
            item_carriers: Mutex::new(HashMap::new()),
            cart_lines: Mutex::new(HashMap::new()),
            order_lines: Mutex::new(HashMap::new()),
            est_ship_days: credentials.est_ship_days,
        })
    }

    /// A smaller "large answer" threshold (tests: to make the window split with few rows).
    pub fn with_large_result(mut self, rows: usize) -> Self {
        self.large_result = rows.max(1);
        self
    }

    fn store_ref(&self) -> &StoreRef {
        self.client.store()
    }

    fn rejected(&self, method: Method, detail: String) -> MallError {
        MallError::Rejected {
            store: self.store_ref().clone(),
            operation: method.name().to_owned(),
            detail,
        }
    }

    fn rows_of(&self, method: Method, object: Value) -> Result<Vec<Value>, MallError> {
        match object {
            // No hits: `null` or `[]` (qoo10.md §3).
            Value::Null => Ok(Vec::new()),
            Value::Array(rows) => Ok(rows),
            // Defensive: a single row as a bare object (qoo10.md §6).
            Value::Object(row) => Ok(vec![Value::Object(row)]),
            other => Err(MallError::BadResponse {
                store: self.store_ref().clone(),
                operation: method.name().to_owned(),
                detail: format!("ResultObject is neither a list nor null ({other})"),
            }),
        }
    }

    /// One status over one window, split in halves while the answer may have been cut.
    async fn list_status(
        &self,
        window: TimeWindow,
        status: u8,
        out: &mut Vec<Value>,
    ) -> Result<(), MallError> {
        let mut pending = vec![window];
        while let Some(window) = pending.pop() {
            let params = [
                ("ShippingStat", status.to_string()),
                ("search_Sdate", compact(window.start)),
                ("search_Edate", compact(window.end)),
                ("search_condition", "1".to_owned()),
            ];
            let rows = match self.client.call(Method::ShippingInfo, &params).await? {
                Answer::Ok(object) => self.rows_of(Method::ShippingInfo, object)?,
                Answer::Refused { code, message } => {
                    return Err(self.rejected(
                        Method::ShippingInfo,
                        format!("status {status}, {window}: ResultCode {code} ({message})"),
                    ));
                }
            };
            if rows.len() >= self.large_result
                && window.length() >= MIN_SPLIT_WINDOW
                && let Some((first, second)) = window.halves()
            {
                tracing::info!(store = %self.store_ref(), %window, rows = rows.len(), "large answer; asking again in halves");
                pending.push(second);
                pending.push(first);
                continue;
            }
            if rows.len() >= self.large_result {
                tracing::warn!(store = %self.store_ref(), %window, rows = rows.len(), "large answer in a short window; taken as complete");
            }
            out.extend(rows);
        }
        Ok(())
    }

    async fn claims(&self, window: TimeWindow) -> Result<Vec<Value>, MallError> {
        let params = [
            ("search_Sdate", compact(window.start)),
            ("search_Edate", compact(window.end)),
            ("search_condition", "1".to_owned()),
        ];
        match self.client.call(Method::ClaimInfo, &params).await? {
            Answer::Ok(object) => self.rows_of(Method::ClaimInfo, object),
            Answer::Refused { code, message } => Err(self.rejected(
                Method::ClaimInfo,
                format!("{window}: ResultCode {code} ({message})"),
            )),
        }
    }

    /// One line with its claim fields; `Err` text = why Qoo10 did not return it.
    async fn line(&self, order_no: i64) -> Result<Result<Value, String>, MallError> {
        let params = [("OrderNo", order_no.to_string())];
        match self.client.call(Method::ByOrderNo, &params).await? {
            Answer::Ok(object) => {
                let rows = self.rows_of(Method::ByOrderNo, object)?;
                match rows
                    .into_iter()
                    .find(|r| number(r, "orderNo") == Some(order_no))
                {
                    Some(row) => Ok(Ok(row)),
                    None => Ok(Err(format!("Qoo10 returned no row for line {order_no}"))),
                }
            }
            Answer::Refused { code, message } => Ok(Err(format!(
                "line {order_no}: ResultCode {code} ({message})"
            ))),
        }
    }

    /// The carrier configured for an item (cached; `None` when Qoo10 knows none).
    async fn item_carrier(&self, item_code: &str) -> Result<Option<String>, MallError> {
        if let Some(known) = self
            .item_carriers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(item_code)
        {
            return Ok(known.clone());
        }
        let params = [("ItemCode", item_code.to_owned())];
        let carrier = match self.client.call(Method::ItemDetail, &params).await? {
            Answer::Ok(object) => {
                self.rows_of(Method::ItemDetail, object)?
                    .iter()
                    .find_map(|item| {
                        field(item, "DeliveryCompany")
                            .and_then(Value::as_str)
                            .map(str::trim)
                            .filter(|c| !c.is_empty())
                            .map(str::to_owned)
                    })
            }
            // −10001: no such item; the order is held naming it.
            Answer::Refused { .. } => None,
        };
        self.item_carriers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(item_code.to_owned(), carrier.clone());
        Ok(carrier)
    }

    /// The cart's payload: its rows and claims, and the carriers of items whose rows have
    /// none.
    async fn cart_payload(&self, pack_no: i64, cart: CartRows) -> Result<RawPayload, MallError> {
        let mut carriers = Map::new();
        for row in cart.rows.values() {
            let has_carrier = field(row, "DeliveryCompany")
                .and_then(Value::as_str)
                .is_some_and(|c| !c.trim().is_empty());
            let item = field(row, "itemCode").and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if let (false, Some(item)) = (has_carrier, item)
                && !item.is_empty()
                && !carriers.contains_key(&item)
            {
                let carrier = self.item_carrier(&item).await?;
                carriers.insert(item, carrier.map_or(Value::Null, Value::String));
            }
        }
        self.cart_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pack_no, cart.rows.keys().copied().collect());
        Ok(RawPayload::json(&json!({
            "packNo": pack_no,
            "rows": cart.rows.into_values().collect::<Vec<_>>(),
            "claims": cart.claims,
            "itemCarriers": carriers,
        })))
    }

    /// The line numbers of a cart or of the cart a line belongs to.
    async fn cart_of(
        &self,
        id: &str,
    ) -> Result<Result<(i64, BTreeMap<i64, Value>), String>, MallError> {
        // A split part's id names its cart.
        let base = id.split('-').next().unwrap_or(id);
        let Ok(requested) = base.trim().parse::<i64>() else {
            return Ok(Err(format!("{id:?} is not a Qoo10 order or cart number")));
        };
        let known = self
            .cart_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&requested)
            .cloned();
        let first_line = known
            .as_ref()
            .and_then(|lines| lines.iter().next().copied())
            .unwrap_or(requested);
        let first = match self.line(first_line).await? {
            Ok(row) => row,
            Err(message) => {
                return Ok(Err(format!(
                    "{message}; targeted import takes a line's order number (注文番号), or a cart \
                     listed earlier by this process"
                )));
            }
        };
        let Some(pack_no) = number(&first, "packNo") else {
            return Ok(Err(format!("line {first_line} has no packNo")));
        };
        let mut lines: BTreeSet<i64> = known.unwrap_or_default();
        if let Some(related) = field(&first, "RelatedOrder").and_then(Value::as_str) {
            lines.extend(
                related
                    .split(',')
                    .filter_map(|n| n.trim().parse::<i64>().ok()),
            );
        }
        let mut rows = BTreeMap::new();
        rows.insert(first_line, first);
        for line in lines {
            if rows.contains_key(&line) {
                continue;
            }
            if let Ok(row) = self.line(line).await? {
                rows.insert(line, row);
            }
        }
        Ok(Ok((pack_no, rows)))
    }
}

impl Qoo10Mall {
    /// Remembers which Qoo10 lines each normalised order holds.
    fn remember_lines(&self, orders: &[Order]) {
        let mut known = self.order_lines.lock().unwrap_or_else(|p| p.into_inner());
        for order in orders {
            let lines = order
                .lines()
                .filter_map(|l| l.mall_line_id.parse::<i64>().ok())
                .collect();
            known.insert(order.mall_order_id.clone(), lines);
        }
    }

    fn lines_of(&self, mall_order_id: &str) -> Option<Vec<i64>> {
        self.order_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(mall_order_id)
            .cloned()
    }

    /// Finds the lines of orders this process has not normalised: a line of each cart that
    /// still has new (status 2) lines in the last [`HISTORY_DAYS`], then the whole cart by
    /// number (every line, whatever its status), split as the import split it.
    async fn relearn_lines(&self, wanted: &BTreeSet<i64>) -> Result<(), MallError> {
        let end = JstInstant::from_timestamp(jiff::Timestamp::now());
        let start = end
            .checked_sub(SignedDuration::from_hours(24 * HISTORY_DAYS))
            .unwrap_or(end);
        let mut rows = Vec::new();
        self.list_status(TimeWindow::new(start, end), 2, &mut rows)
            .await?;
        let mut first_line: BTreeMap<i64, i64> = BTreeMap::new();
        for row in rows {
            if let (Some(pack_no), Some(order_no)) =
                (number(&row, "packNo"), number(&row, "orderNo"))
                && wanted.contains(&pack_no)
            {
                first_line.entry(pack_no).or_insert(order_no);
            }
        }
        for line in first_line.into_values() {
            let Ok((pack_no, rows)) = self.cart_of(&line.to_string()).await? else {
                continue;
            };
            let cart = CartRows {
                rows,
                claims: Vec::new(),
            };
            let payload = self.cart_payload(pack_no, cart).await?;
            match normalise::normalise_cart(self.store_ref(), &payload, &self.settings, end) {
                Ok(orders) => self.remember_lines(&orders),
                Err(error) => {
                    tracing::warn!(store = %self.store_ref(), cart = pack_no, %error, "cart unreadable while finding its lines")
                }
            }
        }
        Ok(())
    }

    /// `SetSellerCheckYN_V2` for each line of one order.
    async fn confirm(&self, lines: &[i64], est_ship_dt: &str) -> Result<AckOutcome, MallError> {
        let (mut accepted, mut moved_on, mut refused) = (0, Vec::new(), Vec::new());
        for line in lines {
            let params = [
                ("OrderNo", line.to_string()),
                ("EstShipDt", est_ship_dt.to_owned()),
            ];
            match self.client.call(Method::SellerCheck, &params).await? {
                Answer::Ok(_) => accepted += 1,
                // −10012 already confirmed, −10013 no longer 配送要請 (qoo10.md §7).
                Answer::Refused { code, message } if code == -10012 || code == -10013 => {
                    moved_on.push(format!("line {line}: ResultCode {code} ({message})"));
                }
                Answer::Refused { code, message } => {
                    refused.push(format!("line {line}: ResultCode {code} ({message})"));
                }
            }
        }
        Ok(if !refused.is_empty() {
            AckOutcome::Rejected {
                reason: refused.join("; "),
            }
        } else if accepted > 0 || lines.is_empty() && moved_on.is_empty() {
            AckOutcome::Accepted
        } else {
            AckOutcome::NotNeeded {
                reason: format!("Qoo10 already moved on: {}", moved_on.join("; ")),
            }
        })
    }
}

#[async_trait]
impl Mall for Qoo10Mall {
    fn store(&self) -> &StoreRef {
        self.store_ref()
    }

    fn capabilities(&self) -> MallCapabilities {
        MallCapabilities {
            max_window: SignedDuration::from_hours(24 * MAX_WINDOW_DAYS),
            history_limit: SignedDuration::from_hours(24 * HISTORY_DAYS),
            listing_delay: SignedDuration::ZERO,
            // Undocumented; a few minutes of overlap costs nothing (no paging).
            search_lag: SignedDuration::from_mins(5),
            // The list carries every payload; only targeted imports fetch, one cart per id.
            detail_batch_size: 20,
            acknowledgement: Some("SetSellerCheckYN_V2"),
            lists_changes: false,
        }
    }

    async fn list_orders(&self, window: TimeWindow) -> Result<Vec<ListedOrder>, MallError> {
        let mut rows = Vec::new();
        let mut claims = Vec::new();
        for piece in window.split(SignedDuration::from_hours(24 * MAX_WINDOW_DAYS)) {
            for status in LISTED_STATUSES {
                self.list_status(piece, status, &mut rows).await?;
            }
            claims.extend(self.claims(piece).await?);
        }
        let mut carts: BTreeMap<i64, CartRows> = BTreeMap::new();
        for row in rows {
            let (Some(pack_no), Some(order_no)) = (number(&row, "packNo"), number(&row, "orderNo"))
            else {
                return Err(MallError::BadResponse {
                    store: self.store_ref().clone(),
                    operation: Method::ShippingInfo.name().into(),
                    detail: "a row has no readable packNo or orderNo".into(),
                });
            };
            carts.entry(pack_no).or_default().rows.insert(order_no, row);
        }
        // Claims of listed carts: a completed cancellation's line has left the list, so its
        // row is fetched by number and shown with its claim.
        for claim in claims {
            let (Some(pack_no), Some(order_no)) =
                (number(&claim, "packNo"), number(&claim, "orderNo"))
            else {
                continue;
            };
            let Some(cart) = carts.get_mut(&pack_no) else {
                // A cart that is entirely cancelled (or not in the window's statuses).
                continue;
            };
            if !cart.rows.contains_key(&order_no)
                && let Ok(row) = self.line(order_no).await?
            {
                cart.rows.insert(order_no, row);
            }
            cart.claims.push(claim);
        }
        // Lines of a listed cart in another status (confirmed in QSM, say) or gone without a
        // claim in this window: fetched by number, so the cart is split the same way
        // whichever of its lines the statuses listed.
        for cart in carts.values_mut() {
            let related: BTreeSet<i64> = cart
                .rows
                .values()
                .filter_map(|r| field(r, "RelatedOrder").and_then(Value::as_str))
                .flat_map(|list| {
                    list.split(',')
                        .filter_map(|n| n.trim().parse::<i64>().ok())
                        .collect::<Vec<_>>()
                })
                .collect();
            for order_no in related {
                if !cart.rows.contains_key(&order_no)
                    && let Ok(row) = self.line(order_no).await?
                {
                    cart.rows.insert(order_no, row);
                }
            }
        }
        let mut listed = Vec::with_capacity(carts.len());
        for (pack_no, cart) in carts {
            listed.push(ListedOrder {
                mall_order_id: pack_no.to_string(),
                payload: Some(self.cart_payload(pack_no, cart).await?),
                // Our own confirmation moves the status (2 → 3): it is no sign of a change.
                mall_status: None,
            });
        }
        tracing::info!(store = %self.store_ref(), %window, carts = listed.len(), "listed carts");
        Ok(listed)
    }

    async fn fetch_orders(&self, mall_order_ids: &[String]) -> Result<FetchOutcome, MallError> {
        let mut outcome = FetchOutcome::default();
        for id in mall_order_ids {
            match self.cart_of(id).await? {
                Ok((pack_no, rows)) => {
                    let cart = CartRows {
                        rows,
                        claims: Vec::new(),
                    };
                    outcome.orders.push(FetchedOrder {
                        mall_order_id: id.clone(),
                        payload: self.cart_payload(pack_no, cart).await?,
                    });
                }
                Err(message) => outcome.missing.push((id.clone(), message)),
            }
        }
        Ok(outcome)
    }

    fn normalise(
        &self,
        payload: &RawPayload,
        imported_at: JstInstant,
    ) -> Result<Normalised, NormaliseError> {
        let orders =
            normalise::normalise_cart(self.store_ref(), payload, &self.settings, imported_at)?;
        // The acknowledgement that follows confirms these lines without asking Qoo10 again.
        self.remember_lines(&orders);
        Ok(Normalised { orders })
    }

    /// One of the order's lines (注文番号): Qoo10 looks lines up, not carts, and a fresh
    /// process has not listed the cart. The line's cart comes back whole, as at import.
    fn refetch_id(&self, order: &Order) -> String {
        order
            .lines()
            .map(|line| line.mall_line_id.clone())
            .find(|id| id.parse::<i64>().is_ok())
            .unwrap_or_else(|| order.mall_order_id.clone())
    }

    /// New orders (2 新規注文) still to be confirmed; not a cancelled one, nor one the buyer
    /// asked to cancel (confirming it would tell Qoo10 it is being prepared).
    /// SetSellerCheckYN_V2 moves a new order (2 新規注文) to 3 配送準備 (qoo10.md §7).
    fn status_after_acknowledgement(&self, order: &Order) -> Option<MallStatus> {
        (order.mall_status.code == "2").then(|| MallStatus {
            code: "3".into(),
            label: normalise::status_label(3).into(),
        })
    }

    fn needs_acknowledgement(&self, order: &Order) -> bool {
        order.mall_status.code == "2"
            && order.status != ichigen_core::OrderStatus::Cancelled
            && !order.has_hold(ichigen_core::HoldKind::CancelRequested)
            && order.lines().next().is_some()
    }

    async fn acknowledge(&self, orders: &[Order]) -> Result<Vec<Acknowledgement>, MallError> {
        // Each order's lines, from the stored order (the writer has not read its cart).
        self.remember_lines(orders);
        let mall_order_ids: &[String] = &orders
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>();
        let unknown: BTreeSet<i64> = mall_order_ids
            .iter()
            .filter(|id| self.lines_of(id).is_none())
            .filter_map(|id| id.split('-').next().and_then(|c| c.parse().ok()))
            .collect();
        if !unknown.is_empty() {
            self.relearn_lines(&unknown).await?;
        }
        let today = JstInstant::from_timestamp(jiff::Timestamp::now()).date();
        let est_ship_dt = today
            .checked_add(jiff::Span::new().days(self.est_ship_days))
            .unwrap_or(today)
            .strftime("%Y%m%d")
            .to_string();
        let mut acknowledgements = Vec::with_capacity(mall_order_ids.len());
        for id in mall_order_ids {
            let outcome = match self.lines_of(id) {
                Some(lines) => self.confirm(&lines, &est_ship_dt).await?,
                None => AckOutcome::NotNeeded {
                    reason: "Qoo10 no longer lists the order as 新規注文 (confirmed, shipped or \
                             cancelled in QSM)"
                        .into(),
                },
            };
            acknowledgements.push(Acknowledgement {
                mall_order_id: id.clone(),
                outcome,
            });
        }
        Ok(acknowledgements)
    }
}
