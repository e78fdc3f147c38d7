//! Rakuten Ichiba through the RakutenPay Order API (RMS WEB SERVICE, `shared/malls/rakuten.md`).
//!
//! - Listing: `searchOrder` by order date (`dateType` 1), ≤63-day windows, pages of 1000,
//!   windows halved while they match more than the 15,000 hits Rakuten serves.
//! - Details: `getOrder` (version 10) for ≤100 numbers; each `OrderModelList` element is kept
//!   as that order's raw payload.
//! - Payment: getOrder carries no payment status, so for a prepayment order (bank transfer,
//!   konbini) not yet shipped or cancelled `getPayment` is asked too, and its
//!   `PaymentModelList` is put into the order's payload under [`normalise::PAYMENT_KEY`]
//!   (with the time it was asked); the normaliser reads `paid_at` from it.
//! - Acknowledgement: `confirmOrder` moves new orders out of 100 注文確認待ち.
//! - Credentials: `ESA base64(serviceSecret:licenseKey)`; the licenseKey expires every 90 days
//!   and Rakuten answers 401 from then on.

mod client;
pub mod normalise;
pub mod wire;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use ichigen_core::mall::{
    AckOutcome, Acknowledgement, FetchOutcome, FetchedOrder, ListedOrder, MallCapabilities,
    NormaliseError, Normalised,
};
use ichigen_core::order::{MallStatus, RawPayload};
use ichigen_core::ports::SecretValue;
use ichigen_core::{JstInstant, Mall, MallError, MallId, Order, StoreRef, TimeWindow};
use jiff::SignedDuration;
use serde_json::Value;

use self::client::{RakutenClient, format_datetime};
use self::wire::{
    ConfirmOrderRequest, ConfirmOrderResponse, GetOrderRequest, GetOrderResponse,
    GetPaymentRequest, GetPaymentResponse, MessageModel, PaginationRequest, SearchOrderRequest,
    SearchOrderResponse,
};
use crate::connect::{ClientSettings, ConnectError};
use crate::secret::SecretFields;

/// `searchOrder` windows may span at most 63 days.
pub const MAX_WINDOW_DAYS: i64 = 63;
/// `searchOrder` windows must start within the last 730 days.
pub const HISTORY_DAYS: i64 = 730;
/// `getOrder` and `confirmOrder` take at most 100 order numbers.
pub const BATCH_SIZE: usize = 100;
/// `searchOrder` serves at most this many hits of one search; the rest cannot be paged to.
pub const HIT_CAP: u64 = 15_000;
/// How long after its `orderDatetime` an order may take to show up in `searchOrder`.
///
/// No source documents searchOrder's lag and none of the public clients we read measured it
/// (rakuten.md has nothing on it). Orders can sit in 楽天処理中 or be written to the search
/// index after payment screening, so a cautious 15 minutes is assumed; already-stored ids
/// are skipped cheaply, so a wider overlap costs little.
pub const SEARCH_LAG: SignedDuration = SignedDuration::from_mins(15);
/// The mall status of orders that still need `confirmOrder`.
pub const AWAITING_CONFIRMATION: &str = "100";

const SEARCH_EMPTY: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_102";
const CONFIRM_OK: &str = "ORDER_EXT_API_CONFIRM_ORDER_INFO_101";
const CONFIRM_CANCELLED: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_102";
const CONFIRM_MOVED_ON: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_103";

/// A Rakuten store's credentials, read from its secret
/// `{"serviceSecret": "...", "licenseKey": "...", "licenseKeyExpiresAt": "...+09:00"}`.
#[derive(Debug)]
pub struct RakutenCredentials {
    pub service_secret: SecretValue,
    pub license_key: SecretValue,
    /// When the operator says the licenseKey expires (optional; Rakuten can also be asked).
    pub license_key_expires_at: Option<JstInstant>,
}

impl RakutenCredentials {
    /// Reads the store's secret JSON. Errors name the field, never its value.
    pub fn from_secret(store: &StoreRef, secret: &SecretValue) -> Result<Self, ConnectError> {
        let fields = SecretFields::parse(store, secret, &["serviceSecret", "licenseKey"])?;
        let service_secret = SecretValue::new(fields.required_text("serviceSecret")?);
        let license_key = SecretValue::new(fields.required_text("licenseKey")?);
        let license_key_expires_at = match fields.text("licenseKeyExpiresAt")? {
            None => None,
            Some(at) => Some(at.parse::<JstInstant>().map_err(|_| {
                fields.bad(
                    "licenseKeyExpiresAt",
                    "is not a date-time like 2027-02-20T23:59:59+09:00",
                )
            })?),
        };
        Ok(Self {
            service_secret,
            license_key,
            license_key_expires_at,
        })
    }
}

/// One Rakuten store, through its real API. Holds the store's token bucket: build one per
/// store and reuse it.
#[derive(Debug)]
pub struct RakutenMall {
    client: RakutenClient,
    hit_cap: u64,
    license_key_expires_at: Option<JstInstant>,
}

impl RakutenMall {
    /// `base_url` is `https://api.rms.rakuten.co.jp` in production.
    pub fn new(
        store: StoreRef,
        credentials: RakutenCredentials,
        base_url: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        let RakutenCredentials {
            service_secret,
            license_key,
            license_key_expires_at,
        } = credentials;
        Ok(Self {
            client: RakutenClient::new(store, &service_secret, license_key, base_url, settings)?,
            hit_cap: HIT_CAP,
            license_key_expires_at,
        })
    }

    /// Lowers the per-search hit cap (tests: to match a sandbox configured with a small cap).
    pub fn with_hit_cap(mut self, hit_cap: u64) -> Self {
        self.hit_cap = hit_cap.max(1);
        self
    }

    pub fn hit_cap(&self) -> u64 {
        self.hit_cap
    }

    /// The expiry the operator wrote into the store's secret, if any.
    pub fn license_key_expires_at(&self) -> Option<JstInstant> {
        self.license_key_expires_at
    }

    /// Asks Rakuten when the store's licenseKey expires (License Management API; the shop
    /// must have enabled `license.expiryDate.get` for the app).
    pub async fn license_key_expiry(&self) -> Result<JstInstant, MallError> {
        self.client.license_key_expiry().await
    }

    fn store_ref(&self) -> &StoreRef {
        self.client.store()
    }

    /// Lists one window (≤63 days), halving it while it matches the hit cap or more, and
    /// checks the listing against Rakuten's own total: a short listing is
    /// [`MallError::Incomplete`], never a silently shorter list (the import would move its
    /// checkpoint past the orders nobody listed).
    async fn list_window(
        &self,
        window: TimeWindow,
        out: &mut Vec<String>,
    ) -> Result<(), MallError> {
        let mut pending = vec![window];
        while let Some(window) = pending.pop() {
            let first = self.search_page(window, 1).await?;
            let total = first
                .pagination
                .as_ref()
                .and_then(|p| p.total_records_amount);
            // `>=`: Rakuten may report the capped count itself, so a total equal to the cap
            // can hide more orders.
            if let Some(total) = total.filter(|total| *total >= self.hit_cap) {
                let Some((early, late)) = window.halves() else {
                    return Err(MallError::Rejected {
                        store: self.store_ref().clone(),
                        operation: "searchOrder".into(),
                        detail: format!(
                            "{total} orders in {window}, at least the {} Rakuten serves per \
                             search, and the window cannot be narrowed further",
                            self.hit_cap
                        ),
                    });
                };
                tracing::info!(store = %self.store_ref(), %window, total, "hit cap reached; halving the window");
                // Later half first on the stack, so windows are listed oldest first.
                pending.push(late);
                pending.push(early);
                continue;
            }
            let pages = first
                .pagination
                .as_ref()
                .and_then(|p| p.total_pages)
                .unwrap_or(1);
            let mut got = Vec::new();
            self.take_page(window, 1, pages, first, &mut got)?;
            for page in 2..=pages {
                let Ok(page) = u32::try_from(page) else {
                    return Err(self.incomplete(
                        window,
                        format!("totalPages {pages} is more than can be requested"),
                    ));
                };
                let next = self.search_page(window, page).await?;
                self.take_page(window, u64::from(page), pages, next, &mut got)?;
            }
            if let Some(total) = total
                && (got.len() as u64) < total
            {
                return Err(self.incomplete(
                    window,
                    format!(
                        "Rakuten reported {total} orders (totalRecordsAmount) but its pages \
                         listed {}",
                        got.len()
                    ),
                ));
            }
            tracing::info!(store = %self.store_ref(), %window, total = total.unwrap_or(0), pages, listed = got.len(), "listed window");
            out.extend(got);
        }
        Ok(())
    }

    /// Adds one page's numbers; a page before the last one that is not full is a gap.
    fn take_page(
        &self,
        window: TimeWindow,
        page: u64,
        pages: u64,
        response: SearchOrderResponse,
        got: &mut Vec<String>,
    ) -> Result<(), MallError> {
        let numbers = response.order_number_list.unwrap_or_default();
        if page < pages && (numbers.len() as u64) < u64::from(wire::MAX_PAGE_SIZE) {
            return Err(self.incomplete(
                window,
                format!(
                    "page {page} of {pages} listed {} orders; expected {} (a full page)",
                    numbers.len(),
                    wire::MAX_PAGE_SIZE
                ),
            ));
        }
        got.extend(numbers);
        Ok(())
    }

    fn incomplete(&self, window: TimeWindow, detail: String) -> MallError {
        MallError::Incomplete {
            store: self.store_ref().clone(),
            operation: "searchOrder".into(),
            detail: format!("{window}: {detail}"),
        }
    }

    async fn search_page(
        &self,
        window: TimeWindow,
        page: u32,
    ) -> Result<SearchOrderResponse, MallError> {
        let request = SearchOrderRequest {
            date_type: wire::DATE_TYPE_ORDER_DATE,
            start_datetime: format_datetime(window.start),
            end_datetime: format_datetime(window.end),
            pagination: PaginationRequest {
                request_records_amount: wire::MAX_PAGE_SIZE,
                request_page: page,
                sort_model_list: vec![wire::SORT_BY_ORDER_DATE_ASC],
            },
        };
        let response: SearchOrderResponse = self.client.order_call("searchOrder", &request).await?;
        let messages = response.messages.as_deref().unwrap_or_default();
        let errors: Vec<_> = messages.iter().filter(|m| m.is_error()).collect();
        if !errors.is_empty() {
            let detail = errors
                .iter()
                .map(|m| m.describe())
                .collect::<Vec<_>>()
                .join(", ");
            // An error beside a list means the list may be partial; without a list it is an
            // error of the call (ERROR_009 is never "no orders").
            return Err(if response.order_number_list.is_some() {
                self.incomplete(
                    window,
                    format!("page {page} came with an error beside its list: {detail}"),
                )
            } else {
                MallError::Rejected {
                    store: self.store_ref().clone(),
                    operation: "searchOrder".into(),
                    detail,
                }
            });
        }
        if messages.iter().any(|m| m.code() == SEARCH_EMPTY) {
            return Ok(SearchOrderResponse::default());
        }
        Ok(response)
    }

    async fn fetch_batch(
        &self,
        numbers: &[String],
        outcome: &mut FetchOutcome,
    ) -> Result<(), MallError> {
        let request = GetOrderRequest {
            order_number_list: numbers,
            version: wire::GET_ORDER_VERSION,
        };
        let response: GetOrderResponse = self.client.order_call("getOrder", &request).await?;
        let messages = response.messages.unwrap_or_default();
        let errors = wire::call_errors(&messages);
        if !errors.is_empty() {
            let detail = errors
                .iter()
                .map(|m| m.describe())
                .collect::<Vec<_>>()
                .join(", ");
            // An error of the call (ERROR_009 …) never means "these orders do not exist".
            let has_orders = response.orders.as_ref().is_some_and(|o| !o.is_empty());
            return Err(if has_orders {
                MallError::Incomplete {
                    store: self.store_ref().clone(),
                    operation: "getOrder".into(),
                    detail: format!("an error came beside the orders: {detail}"),
                }
            } else {
                MallError::Rejected {
                    store: self.store_ref().clone(),
                    operation: "getOrder".into(),
                    detail,
                }
            });
        }
        let mut returned = HashSet::new();
        let mut unreadable = 0usize;
        for mut element in response.orders.unwrap_or_default() {
            let Some(number) = element
                .get("orderNumber")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                unreadable += 1;
                continue;
            };
            if !returned.insert(number.clone()) {
                continue;
            }
            if awaits_payment_answer(&element) {
                self.add_payment(&number, &mut element).await;
            }
            outcome.orders.push(FetchedOrder {
                mall_order_id: number,
                payload: RawPayload::json(&element),
            });
        }
        if unreadable > 0 {
            tracing::warn!(store = %self.store_ref(), unreadable, "getOrder returned orders without an orderNumber");
        }
        let by_number: HashMap<&str, &MessageModel> = messages
            .iter()
            .filter_map(|m| m.order_number.as_deref().map(|n| (n, m)))
            .collect();
        for number in numbers {
            if returned.contains(number) {
                continue;
            }
            let message = match by_number.get(number.as_str()) {
                Some(m) => m.describe(),
                None if unreadable > 0 => format!(
                    "not returned by getOrder ({unreadable} returned order(s) had no readable orderNumber)"
                ),
                None => "not returned by getOrder".to_owned(),
            };
            outcome.missing.push((number.clone(), message));
        }
        tracing::info!(store = %self.store_ref(), requested = numbers.len(), returned = returned.len(), "fetched orders");
        Ok(())
    }

    /// Asks `getPayment` for one order and puts its `PaymentModelList` into the order under
    /// [`normalise::PAYMENT_KEY`]. A failure leaves the order as it was (still unpaid for
    /// ichigen; the next open-orders run asks again) and never fails the batch.
    async fn add_payment(&self, number: &str, order: &mut Value) {
        let asked_at = JstInstant::from_timestamp(jiff::Timestamp::now());
        let request = GetPaymentRequest {
            order_number: number,
            version: wire::GET_PAYMENT_VERSION,
        };
        let answer: Result<GetPaymentResponse, MallError> =
            self.client.order_call("getPayment", &request).await;
        let problem = match answer {
            Ok(response) => {
                let payments = response
                    .order
                    .as_ref()
                    .and_then(|o| o.get("PaymentModelList"))
                    .filter(|list| list.is_array())
                    .cloned();
                match (payments, order.as_object_mut()) {
                    (Some(payments), Some(map)) => {
                        map.insert(
                            normalise::PAYMENT_KEY.into(),
                            serde_json::json!({
                                "fetchedAt": asked_at.to_string(),
                                "PaymentModelList": payments,
                            }),
                        );
                        return;
                    }
                    _ => {
                        let messages = response.messages.unwrap_or_default();
                        let codes = messages
                            .iter()
                            .map(MessageModel::describe)
                            .collect::<Vec<_>>()
                            .join(", ");
                        format!("no PaymentModelList in the answer ({codes})")
                    }
                }
            }
            Err(e) => e.to_string(),
        };
        // The order number and Rakuten's codes only: no buyer data.
        tracing::warn!(store = %self.store_ref(), order = number, problem = %problem, "getPayment failed; the order stays unpaid until the next run");
    }

    async fn confirm_batch(&self, numbers: &[String]) -> Result<Vec<Acknowledgement>, MallError> {
        let request = ConfirmOrderRequest {
            order_number_list: numbers,
        };
        let response: ConfirmOrderResponse =
            self.client.order_call("confirmOrder", &request).await?;
        let messages = response.messages.unwrap_or_default();
        let by_number: HashMap<&str, &MessageModel> = messages
            .iter()
            .filter_map(|m| m.order_number.as_deref().map(|n| (n, m)))
            .collect();
        // A message without an order number speaks for the whole call.
        let general = messages.iter().find(|m| m.order_number.is_none());
        let acknowledgements: Vec<_> = numbers
            .iter()
            .map(|number| {
                let outcome = match by_number.get(number.as_str()).copied().or(general) {
                    Some(message) => ack_outcome(message),
                    None => AckOutcome::Rejected {
                        reason: "confirmOrder returned no result for this order".into(),
                    },
                };
                Acknowledgement {
                    mall_order_id: number.clone(),
                    outcome,
                }
            })
            .collect();
        let accepted = acknowledgements
            .iter()
            .filter(|a| a.outcome == AckOutcome::Accepted)
            .count();
        tracing::info!(store = %self.store_ref(), requested = numbers.len(), accepted, "confirmed orders");
        Ok(acknowledgements)
    }
}

/// Whether getPayment should be asked about this getOrder `OrderModel`: a prepayment method
/// (bank transfer 9, konbini 13/14, by code or, in old payloads, by name) and not yet
/// shipped or cancelled (`orderProgress` below 500). Other orders never cost the call.
fn awaits_payment_answer(order: &Value) -> bool {
    let progress = order.get("orderProgress").and_then(Value::as_i64);
    if progress.is_none_or(|p| p >= 500) {
        return false;
    }
    let settlement = order.get("SettlementModel");
    let code = settlement
        .and_then(|s| s.get("settlementMethodCode"))
        .and_then(|c| match c {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .or_else(|| {
            settlement
                .and_then(|s| s.get("settlementMethod"))
                .and_then(Value::as_str)
                .and_then(normalise::payment_code_by_name)
        });
    code.and_then(normalise::payment_method)
        .is_some_and(|m| m.is_prepayment())
}

/// What one `confirmOrder` message means for its order.
///
/// No documented confirmOrder answer means "the buyer asked to cancel": rakuten.md lists only
/// INFO_101 (confirmed), ERROR_102 (already cancelled), ERROR_103 (status already moved on,
/// which includes 800 キャンセル確定待ち) and ERROR_105 (postage not fixed). So nothing maps
/// to [`AckOutcome::CancelRequested`] here; a cancellation request shows up in `getOrder`
/// as `orderProgress` 800 and becomes a hold there.
fn ack_outcome(message: &MessageModel) -> AckOutcome {
    match message.code() {
        CONFIRM_OK => AckOutcome::Accepted,
        CONFIRM_MOVED_ON => AckOutcome::NotNeeded {
            reason: format!("the order already moved past 注文確認待ち ({CONFIRM_MOVED_ON})"),
        },
        CONFIRM_CANCELLED => AckOutcome::Cancelled {
            reason: format!("the order is already cancelled ({CONFIRM_CANCELLED})"),
        },
        _ if message.message_type.as_deref() == Some("INFO") => AckOutcome::Accepted,
        _ => AckOutcome::Rejected {
            reason: message.describe(),
        },
    }
}

#[async_trait]
impl Mall for RakutenMall {
    fn store(&self) -> &StoreRef {
        self.store_ref()
    }

    fn capabilities(&self) -> MallCapabilities {
        MallCapabilities {
            max_window: SignedDuration::from_hours(24 * MAX_WINDOW_DAYS),
            history_limit: SignedDuration::from_hours(24 * HISTORY_DAYS),
            listing_delay: SignedDuration::ZERO,
            search_lag: SEARCH_LAG,
            detail_batch_size: BATCH_SIZE,
            acknowledgement: Some("confirmOrder"),
            lists_changes: false,
        }
    }

    async fn list_orders(&self, window: TimeWindow) -> Result<Vec<ListedOrder>, MallError> {
        let mut numbers = Vec::new();
        for piece in window.split(SignedDuration::from_hours(24 * MAX_WINDOW_DAYS)) {
            self.list_window(piece, &mut numbers).await?;
        }
        // Pieces and halves share their boundary instant, so an order can be listed twice.
        let mut seen = HashSet::new();
        numbers.retain(|n| seen.insert(n.clone()));
        Ok(numbers.into_iter().map(ListedOrder::id).collect())
    }

    async fn fetch_orders(&self, mall_order_ids: &[String]) -> Result<FetchOutcome, MallError> {
        let mut outcome = FetchOutcome::default();
        for batch in mall_order_ids.chunks(BATCH_SIZE) {
            self.fetch_batch(batch, &mut outcome).await?;
        }
        Ok(outcome)
    }

    fn normalise(
        &self,
        payload: &RawPayload,
        imported_at: JstInstant,
    ) -> Result<Normalised, NormaliseError> {
        let value: Value = serde_json::from_str(&payload.body).map_err(|e| NormaliseError {
            mall: MallId::Rakuten,
            mall_order_id: String::new(),
            field: "(payload)".into(),
            problem: format!(
                "is not JSON (error at line {} column {})",
                e.line(),
                e.column()
            ),
        })?;
        let order = normalise::normalise_order(self.store_ref(), &value, imported_at)?;
        Ok(Normalised {
            orders: vec![order],
        })
    }

    fn needs_acknowledgement(&self, order: &Order) -> bool {
        order.mall_status.code == AWAITING_CONFIRMATION
    }

    /// confirmOrder moves 100 注文確認待ち to 300 発送待ち (rakuten.md §3c).
    fn status_after_acknowledgement(&self, order: &Order) -> Option<MallStatus> {
        (order.mall_status.code == AWAITING_CONFIRMATION).then(|| MallStatus {
            code: "300".into(),
            label: normalise::status_label(300).unwrap_or_default().into(),
        })
    }

    async fn acknowledge(&self, orders: &[Order]) -> Result<Vec<Acknowledgement>, MallError> {
        let mall_order_ids: &[String] = &orders
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>();
        let mut acknowledgements = Vec::with_capacity(mall_order_ids.len());
        for batch in mall_order_ids.chunks(BATCH_SIZE) {
            acknowledgements.extend(self.confirm_batch(batch).await?);
        }
        Ok(acknowledgements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: &str, code: &str) -> MessageModel {
        MessageModel {
            message_type: Some(kind.into()),
            message_code: Some(code.into()),
            message: Some("text".into()),
            order_number: Some("1-20250301-1".into()),
        }
    }

    #[test]
    fn only_unshipped_prepayment_orders_ask_get_payment() {
        let order = |code: Value, progress: i64| {
            serde_json::json!({
                "orderProgress": progress,
                "SettlementModel": {"settlementMethodCode": code}
            })
        };
        for code in [9, 13, 14] {
            assert!(awaits_payment_answer(&order(code.into(), 100)), "{code}");
            assert!(awaits_payment_answer(&order(code.into(), 300)), "{code}");
            assert!(!awaits_payment_answer(&order(code.into(), 500)), "{code}");
            assert!(!awaits_payment_answer(&order(code.into(), 800)), "{code}");
            assert!(!awaits_payment_answer(&order(code.into(), 900)), "{code}");
        }
        for code in [1, 2, 21, 99] {
            assert!(!awaits_payment_answer(&order(code.into(), 100)), "{code}");
        }
        let by_name = serde_json::json!({
            "orderProgress": 100,
            "SettlementModel": {"settlementMethod": "銀行振込"}
        });
        assert!(awaits_payment_answer(&by_name));
        assert!(!awaits_payment_answer(
            &serde_json::json!({"orderProgress": 100})
        ));
    }

    #[test]
    fn confirm_messages_map_to_outcomes() {
        assert_eq!(
            ack_outcome(&message("INFO", CONFIRM_OK)),
            AckOutcome::Accepted
        );
        assert!(matches!(
            ack_outcome(&message("ERROR", CONFIRM_MOVED_ON)),
            AckOutcome::NotNeeded { reason } if reason.contains("ERROR_103")
        ));
        assert!(matches!(
            ack_outcome(&message("ERROR", CONFIRM_CANCELLED)),
            AckOutcome::Cancelled { reason } if reason.contains("cancelled")
        ));
        assert_eq!(
            ack_outcome(&message("ERROR", "ORDER_EXT_API_CONFIRM_ORDER_ERROR_105")),
            AckOutcome::Rejected {
                reason: "ORDER_EXT_API_CONFIRM_ORDER_ERROR_105 (text)".into()
            }
        );
    }
}
