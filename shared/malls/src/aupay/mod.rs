//! au PAY Market through the Wow!manager API (`wmshopapi`, `shared/malls/aupay.md`).
//!
//! - Auth: the store's API key as `Authorization: Bearer`, plus its `shopId`. Keys last 90
//!   days and are re-issued by hand: a refused key (HTTP 401 / `0002`) or a `shopId` that is
//!   not the key's (`CME0022`) is a credential error naming the store, never retried.
//! - Listing: `searchTradeInfoListProc` by order date (`dateType` 0, whole JST days, sent as
//!   `YYYYMMDD`), offset paging until a short page, checked against `resultCount` (read either
//!   as the page's count or as the total: the clients disagree). The list carries full orders.
//! - Targeted fetch: `searchTradeInfoProc`, one order per call.
//! - Acknowledgement: `updateTradeStsProc` from `新規受付` to `発送前入金待ち` (unpaid
//!   prepayment) or `発送待ち` (paid), by the Japanese status name.
//! - Rate: about one request a second per store (what production clients keep; see
//!   [`client`]'s docs).

mod client;
pub mod normalise;

use std::collections::{BTreeMap, HashMap, HashSet};

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

pub use self::client::{AUTH_FAILED, Answer, ErrorBody, WRONG_SHOP, classify};
use self::client::{Api, AupayClient};
use crate::connect::{ClientSettings, ConnectError};
use crate::secret::SecretFields;
use crate::xml::{self, Element};

/// au PAY's answers and our raw payloads are UTF-8 XML.
pub const CONTENT_TYPE: &str = "application/xml";
/// Production API base (paths `/wmshopapi/...`).
pub const API_BASE: &str = "https://api.manager.wowma.jp";
/// Orders per list page: safe under both caps clients report (500 and 1,000; aupay.md §3a).
pub const PAGE_SIZE: u64 = 500;
/// Orders the import hands over per fetch/acknowledge call (au PAY takes one per call).
pub const BATCH_SIZE: usize = 10;
/// No documented window limit; 31 days keeps one search (and its paging) bounded.
pub const MAX_WINDOW_DAYS: i64 = 31;
/// No documented history limit [INF].
pub const HISTORY_DAYS: i64 = 730;
/// The store secret's shape (values are placeholders).
pub const SECRET_PLACEHOLDER: &str = r#"{"shopId": "12345678", "apiKey": "REPLACE-WITH-THE-WOW-MANAGER-API-KEY", "shippingMethodCarriers": {"宅配便": "yamato"}}"#;

/// An au PAY store's credentials and settings, read from its secret:
/// `{"shopId", "apiKey", "shippingMethodCarriers" (optional: shipping-method name → carrier)}`.
pub struct AupayCredentials {
    pub shop_id: String,
    pub api_key: SecretValue,
    pub carriers: BTreeMap<String, String>,
}

impl std::fmt::Debug for AupayCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AupayCredentials")
            .field("shop_id", &self.shop_id)
            .field("carriers", &self.carriers)
            .finish_non_exhaustive()
    }
}

impl AupayCredentials {
    /// Reads the store's secret JSON. Errors name the field, never its value.
    pub fn from_secret(store: &StoreRef, secret: &SecretValue) -> Result<Self, ConnectError> {
        let fields = SecretFields::parse(store, secret, &["shopId", "apiKey"])?;
        let shop_id = match fields.get("shopId") {
            Some(Value::Number(n)) => n.to_string(),
            _ => fields.text("shopId")?.unwrap_or_default(),
        };
        if shop_id.is_empty() || shop_id.len() > 18 || !shop_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(fields.bad("shopId", "must be 1 to 18 digits"));
        }
        // Trimmed: stray spaces are one of the causes clients report for a refused key.
        let api_key = SecretValue::new(fields.required_text("apiKey")?);
        let carriers = match fields.get("shippingMethodCarriers") {
            None => BTreeMap::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(name, carrier)| match carrier {
                    Value::String(c) => Ok((name.clone(), c.clone())),
                    other => Err(fields.wrong_kind(
                        "shippingMethodCarriers",
                        "text in every value",
                        other,
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(fields.wrong_kind("shippingMethodCarriers", "an object", other));
            }
        };
        Ok(Self {
            shop_id,
            api_key,
            carriers,
        })
    }
}

/// One au PAY store, through its real API: build one per store and reuse it.
#[derive(Debug)]
pub struct AupayMall {
    client: AupayClient,
    carriers: BTreeMap<String, String>,
    page_size: u64,
    /// Where each new order the import is about to acknowledge goes (filled by
    /// `needs_acknowledgement`); an order not found here is looked up again.
    targets: std::sync::Mutex<HashMap<String, &'static str>>,
    /// Orders au PAY accepted in an acknowledgement batch that then failed as a whole.
    settled: std::sync::Mutex<HashSet<String>>,
}

impl AupayMall {
    /// `api_base` is [`API_BASE`] in production.
    pub fn new(
        store: StoreRef,
        credentials: AupayCredentials,
        api_base: &str,
        settings: &ClientSettings,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: AupayClient::new(store, &credentials, api_base, settings)?,
            carriers: credentials.carriers,
            page_size: PAGE_SIZE,
            targets: std::sync::Mutex::new(HashMap::new()),
            settled: std::sync::Mutex::new(HashSet::new()),
        })
    }

    /// A smaller list page (tests: to cross page boundaries with few orders).
    pub fn with_page_size(mut self, page_size: u64) -> Self {
        self.page_size = page_size.clamp(1, 1_000);
        self
    }

    fn store_ref(&self) -> &StoreRef {
        self.client.store()
    }

    fn refused(&self, api: Api, error: &ErrorBody) -> MallError {
        MallError::Rejected {
            store: self.store_ref().clone(),
            operation: api.name().into(),
            detail: error.describe(),
        }
    }

    fn bad(&self, api: Api, detail: impl Into<String>) -> MallError {
        MallError::BadResponse {
            store: self.store_ref().clone(),
            operation: api.name().into(),
            detail: detail.into(),
        }
    }

    /// Lists one window (≤ [`MAX_WINDOW_DAYS`]): whole JST days on the wire, then only the
    /// orders whose minute falls in the window.
    async fn list_window(
        &self,
        window: TimeWindow,
        out: &mut Vec<ListedOrder>,
    ) -> Result<(), MallError> {
        let api = Api::SearchTradeInfoList;
        let day = |at: JstInstant| at.date().strftime("%Y%m%d").to_string();
        // Order dates carry minutes only: an order at 10:05:40 reads as 10:05.
        let civil = window.start.civil();
        let into_minute = SignedDuration::from_secs(i64::from(civil.second()))
            + SignedDuration::from_nanos(i64::from(civil.subsec_nanosecond()));
        let start_minute = window
            .start
            .checked_sub(into_minute)
            .unwrap_or(window.start);
        let mut start = 1_u64;
        let mut counts: Vec<(u64, u64)> = Vec::new();
        let mut listed = 0_u64;
        loop {
            let answer = self
                .client
                .get(
                    api,
                    &[
                        ("startDate", day(window.start)),
                        ("endDate", day(window.end)),
                        ("dateType", "0".into()),
                        ("totalCount", self.page_size.to_string()),
                        ("startCount", start.to_string()),
                    ],
                )
                .await?
                .map_err(|error| self.refused(api, &error))?;
            let result_count = answer
                .child_text("resultCount")
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| self.bad(api, "the answer has no readable resultCount"))?;
            let mut on_page = 0_u64;
            for info in answer.children_named("orderInfo") {
                on_page += 1;
                let Some(id) = info.child_text("orderId").filter(|id| !id.is_empty()) else {
                    return Err(self.bad(api, "an orderInfo has no orderId"));
                };
                let in_window = info
                    .child_text("orderDate")
                    .and_then(normalise::parse_instant)
                    // An unreadable date is kept: the normaliser holds it, naming the field.
                    .is_none_or(|at| start_minute <= at && at <= window.end);
                if in_window {
                    out.push(ListedOrder {
                        mall_order_id: id.to_owned(),
                        payload: Some(RawPayload {
                            content_type: CONTENT_TYPE.into(),
                            body: info.to_xml(),
                        }),
                        // Our acknowledgement moves the status (see ListedOrder::mall_status).
                        mall_status: None,
                    });
                }
            }
            counts.push((result_count, on_page));
            listed += on_page;
            if on_page < self.page_size {
                break;
            }
            start += self.page_size;
        }
        if let Err(said) = counts_agree(&counts, listed) {
            return Err(MallError::Incomplete {
                store: self.store_ref().clone(),
                operation: api.name().into(),
                detail: format!("listed {listed} orders in {window} but resultCount said {said}"),
            });
        }
        tracing::info!(store = %self.store_ref(), %window, listed, pages = counts.len(), "listed window");
        Ok(())
    }

    /// One `searchTradeInfoProc`: the order's `<orderInfo>`, or why au PAY did not return it.
    async fn fetch_one(&self, order_id: &str) -> Result<Result<Element, String>, MallError> {
        let api = Api::SearchTradeInfo;
        let answer = match self
            .client
            .get(api, &[("orderId", order_id.to_owned())])
            .await?
        {
            Ok(answer) => answer,
            Err(error) => return Ok(Err(error.describe())),
        };
        match answer
            .children_named("orderInfo")
            .find(|o| o.child_text("orderId") == Some(order_id))
        {
            Some(info) => Ok(Ok(info.clone())),
            None => Ok(Err(format!(
                "searchTradeInfoProc returned no order {order_id}"
            ))),
        }
    }

    fn normalise_element(
        &self,
        element: &Element,
        imported_at: JstInstant,
    ) -> Result<Order, NormaliseError> {
        let raw = RawPayload {
            content_type: CONTENT_TYPE.into(),
            body: element.to_xml(),
        };
        normalise::normalise_order(self.store_ref(), element, raw, imported_at, &self.carriers)
    }

    /// Where a new order goes: from the import's own reading, or au PAY's current answer.
    async fn target_of(
        &self,
        order_id: &str,
    ) -> Result<Result<&'static str, AckOutcome>, MallError> {
        let known = self
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(order_id);
        if let Some(target) = known {
            return Ok(Ok(target));
        }
        let element = match self.fetch_one(order_id).await? {
            Ok(element) => element,
            Err(reason) => return Ok(Err(AckOutcome::Rejected { reason })),
        };
        let now = JstInstant::from_timestamp(jiff::Timestamp::now());
        let order = match self.normalise_element(&element, now) {
            Ok(order) => order,
            Err(e) => {
                return Ok(Err(AckOutcome::Rejected {
                    reason: e.to_string(),
                }));
            }
        };
        if let Some(target) = normalise::acknowledgement_target(&order) {
            return Ok(Ok(target));
        }
        let current = order.mall_status.code;
        Ok(Err(if current == normalise::status::CANCELLED {
            AckOutcome::Cancelled {
                reason: "au PAY says the order is cancelled (キャンセル)".into(),
            }
        } else if current == normalise::status::CANCEL_REQUESTED {
            AckOutcome::CancelRequested {
                reason: "the buyer asked to cancel (キャンセル受付中)".into(),
            }
        } else {
            AckOutcome::NotNeeded {
                reason: format!("the order is already {current} at au PAY"),
            }
        }))
    }

    async fn acknowledge_one(&self, order_id: &str) -> Result<AckOutcome, MallError> {
        let target = match self.target_of(order_id).await? {
            Ok(target) => target,
            Err(outcome) => return Ok(outcome),
        };
        let answer = self
            .client
            .post(
                Api::UpdateTradeSts,
                vec![
                    Element::leaf("orderId", order_id),
                    Element::leaf("orderStatus", target),
                ],
            )
            .await?;
        Ok(match answer {
            Ok(_) => AckOutcome::Accepted,
            Err(error) => ack_refusal(&error),
        })
    }
}

/// Whether the pages' `resultCount`s (with the orders each page held) agree with what was
/// listed. `resultCount` is either each page's count or the total (aupay.md §3a): either
/// reading is accepted when consistent; otherwise orders appeared or vanished while paging,
/// and the `Err` lists what au PAY said.
fn counts_agree(counts: &[(u64, u64)], listed: u64) -> Result<(), String> {
    let page_reading = counts.iter().all(|(count, on_page)| count == on_page);
    let total_reading = counts.iter().all(|(count, _)| *count == listed);
    if page_reading || total_reading {
        Ok(())
    } else {
        Err(counts
            .iter()
            .map(|(count, _)| count.to_string())
            .collect::<Vec<_>>()
            .join(", "))
    }
}

/// What a refused status change means (au PAY's codes for these cases are not public; the
/// message is read for the cases that matter).
fn ack_refusal(error: &ErrorBody) -> AckOutcome {
    if error.message.contains("キャンセル") {
        AckOutcome::Cancelled {
            reason: format!("au PAY says the order is cancelled: {}", error.describe()),
        }
    } else if error.message.contains("完了") {
        AckOutcome::NotNeeded {
            reason: format!("the order already moved on: {}", error.describe()),
        }
    } else {
        AckOutcome::Rejected {
            reason: error.describe(),
        }
    }
}

#[async_trait]
impl Mall for AupayMall {
    fn store(&self) -> &StoreRef {
        self.store_ref()
    }

    fn capabilities(&self) -> MallCapabilities {
        MallCapabilities {
            max_window: SignedDuration::from_hours(24 * MAX_WINDOW_DAYS),
            history_limit: SignedDuration::from_hours(24 * HISTORY_DAYS),
            listing_delay: SignedDuration::ZERO,
            // Undocumented; the list is by whole days anyway, so overlap costs nothing extra.
            search_lag: SignedDuration::from_mins(10),
            detail_batch_size: BATCH_SIZE,
            acknowledgement: Some("updateTradeStsProc"),
            lists_changes: false,
        }
    }

    async fn list_orders(&self, window: TimeWindow) -> Result<Vec<ListedOrder>, MallError> {
        let mut listed = Vec::new();
        for piece in window.split(SignedDuration::from_hours(24 * MAX_WINDOW_DAYS)) {
            self.list_window(piece, &mut listed).await?;
        }
        let mut seen = HashSet::new();
        listed.retain(|order| seen.insert(order.mall_order_id.clone()));
        Ok(listed)
    }

    async fn fetch_orders(&self, mall_order_ids: &[String]) -> Result<FetchOutcome, MallError> {
        let mut outcome = FetchOutcome::default();
        for id in mall_order_ids {
            match self.fetch_one(id).await? {
                Ok(element) => outcome.orders.push(FetchedOrder {
                    mall_order_id: id.clone(),
                    payload: RawPayload {
                        content_type: CONTENT_TYPE.into(),
                        body: element.to_xml(),
                    },
                }),
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
        let element = xml::parse(&payload.body).map_err(|e| NormaliseError {
            mall: MallId::Aupay,
            mall_order_id: String::new(),
            field: "(payload)".into(),
            problem: format!("is not XML ({e})"),
        })?;
        Ok(Normalised {
            orders: vec![self.normalise_element(&element, imported_at)?],
        })
    }

    /// updateTradeStsProc leaves the order in the status it wrote.
    fn status_after_acknowledgement(&self, order: &Order) -> Option<MallStatus> {
        normalise::acknowledgement_target(order).map(|target| MallStatus {
            code: target.into(),
            label: target.into(),
        })
    }

    /// New orders (`新規受付`) whose payment method we know.
    fn needs_acknowledgement(&self, order: &Order) -> bool {
        let Some(target) = normalise::acknowledgement_target(order) else {
            return false;
        };
        self.targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(order.mall_order_id.clone(), target);
        true
    }

    async fn acknowledge(&self, orders: &[Order]) -> Result<Vec<Acknowledgement>, MallError> {
        // Where each goes: on the first attempt, from the stored order (read by the import a
        // moment ago); a retry (minutes or hours later) looks the order up first, so a buyer's
        // cancel request made meanwhile is never overwritten by 発送待ち.
        {
            let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
            for order in orders.iter().filter(|o| o.mall_sync.attempts == 0) {
                if let Some(target) = normalise::acknowledgement_target(order) {
                    targets.insert(order.mall_order_id.clone(), target);
                }
            }
        }
        let mall_order_ids: &[String] = &orders
            .iter()
            .map(|o| o.mall_order_id.clone())
            .collect::<Vec<_>>();
        let mut acknowledgements = Vec::with_capacity(mall_order_ids.len());
        for id in mall_order_ids {
            let settled = self
                .settled
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id);
            if settled {
                acknowledgements.push(Acknowledgement {
                    mall_order_id: id.clone(),
                    outcome: AckOutcome::Accepted,
                });
                continue;
            }
            match self.acknowledge_one(id).await {
                Ok(outcome) => acknowledgements.push(Acknowledgement {
                    mall_order_id: id.clone(),
                    outcome,
                }),
                Err(error) => {
                    // The import asks again for the whole batch: what au PAY already accepted
                    // is answered from here, without a second write.
                    let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
                    for ack in &acknowledgements {
                        if ack.outcome == AckOutcome::Accepted {
                            settled.insert(ack.mall_order_id.clone());
                        }
                    }
                    return Err(error);
                }
            }
        }
        let accepted = acknowledgements
            .iter()
            .filter(|a| a.outcome == AckOutcome::Accepted)
            .count();
        tracing::info!(store = %self.store_ref(), requested = mall_order_ids.len(), accepted, "acknowledged orders");
        Ok(acknowledgements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_outcomes() {
        let error = |message: &str| ErrorBody {
            code: "x".into(),
            message: message.into(),
        };
        assert!(matches!(
            ack_refusal(&error(
                "キャンセル済みの受注のため、ステータスを変更できません"
            )),
            AckOutcome::Cancelled { .. }
        ));
        assert!(matches!(
            ack_refusal(&error("完了済みの受注のため")),
            AckOutcome::NotNeeded { .. }
        ));
        assert!(matches!(
            ack_refusal(&error("[orderStatus]の値が不正です")),
            AckOutcome::Rejected { reason } if reason.contains("orderStatus")
        ));
    }

    #[test]
    fn result_counts_are_read_as_page_counts_or_totals() {
        assert_eq!(counts_agree(&[(5, 5), (5, 5), (2, 2)], 12), Ok(()));
        assert_eq!(counts_agree(&[(12, 5), (12, 5), (12, 2)], 12), Ok(()));
        assert_eq!(counts_agree(&[(0, 0)], 0), Ok(()));
        // An order arrived between pages: the total moved.
        assert_eq!(
            counts_agree(&[(12, 5), (13, 5), (13, 3)], 13),
            Err("12, 13, 13".into())
        );
        // The total says more than was listed (a page came back short).
        assert!(counts_agree(&[(12, 5), (12, 5), (12, 1)], 11).is_err());
    }

    #[test]
    fn secrets_are_read_and_never_shown() {
        let store = StoreRef::new(MallId::Aupay, "au1");
        let credentials = AupayCredentials::from_secret(
            &store,
            &SecretValue::new(
                r#"{"shopId": 12345678, "apiKey": " key-secret-123 ", "shippingMethodCarriers": {"宅配便": "yamato"}}"#,
            ),
        )
        .unwrap();
        assert_eq!(credentials.shop_id, "12345678");
        assert_eq!(credentials.api_key.expose(), "key-secret-123");
        assert!(!format!("{credentials:?}").contains("key-secret-123"));
        let placeholder =
            AupayCredentials::from_secret(&store, &SecretValue::new(SECRET_PLACEHOLDER)).unwrap();
        assert_eq!(
            placeholder.carriers.get("宅配便").map(String::as_str),
            Some("yamato")
        );
    }
}
