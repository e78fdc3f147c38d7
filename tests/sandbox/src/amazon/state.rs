//! Amazon sandbox state: sellers, their orders, LWA and restricted-data tokens, the
//! per-operation token buckets and the sandbox clock. All behind one lock.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::types::{AmazonLimits, AmazonPiiDisclosure, AmazonSellerResponse};

/// A rate-limited operation: its name, documented rate (requests/s) and burst (§7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePlan {
    pub operation: &'static str,
    pub rate: f64,
    pub burst: f64,
}

pub const GET_ORDERS: UsagePlan = UsagePlan {
    operation: "getOrders",
    rate: 0.0167,
    burst: 20.0,
};
pub const GET_ORDER: UsagePlan = UsagePlan {
    operation: "getOrder",
    rate: 0.5,
    burst: 30.0,
};
pub const GET_ORDER_ITEMS: UsagePlan = UsagePlan {
    operation: "getOrderItems",
    rate: 0.5,
    burst: 30.0,
};
pub const GET_ORDER_ADDRESS: UsagePlan = UsagePlan {
    operation: "getOrderAddress",
    rate: 0.5,
    burst: 30.0,
};
pub const GET_ORDER_BUYER_INFO: UsagePlan = UsagePlan {
    operation: "getOrderBuyerInfo",
    rate: 0.5,
    burst: 30.0,
};
pub const CREATE_RDT: UsagePlan = UsagePlan {
    operation: "createRestrictedDataToken",
    rate: 1.0,
    burst: 10.0,
};

/// Who a bearer token belongs to and what it may reach.
#[derive(Debug, Clone)]
pub(crate) enum TokenGrant {
    /// An LWA access token: every non-restricted operation, no PII.
    Access { seller_id: String },
    /// A restricted-data token: exactly its resources, with their data elements.
    Restricted {
        seller_id: String,
        resources: Vec<RestrictedResource>,
    },
}

impl TokenGrant {
    pub(crate) fn seller_id(&self) -> &str {
        match self {
            Self::Access { seller_id } | Self::Restricted { seller_id, .. } => seller_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestrictedResource {
    pub method: String,
    pub path: String,
    pub data_elements: Vec<String>,
}

/// Why a token was refused (all answered 403 `Unauthorized`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    UnknownOrRevoked,
    Expired,
}

/// What the LWA endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LwaOutcome {
    Issued {
        access_token: String,
    },
    /// 401 `invalid_client`.
    InvalidClient,
    /// 400 `invalid_grant`.
    InvalidGrant,
}

#[derive(Debug)]
struct IssuedToken {
    grant: TokenGrant,
    expires_at: i64,
}

/// One stored order: the full `Order` object (PII parts included) and its `OrderItem`s.
#[derive(Debug, Clone)]
pub(crate) struct StoredOrder {
    pub order: Value,
    pub items: Vec<Value>,
}

impl StoredOrder {
    pub(crate) fn status(&self) -> &str {
        self.order
            .get("OrderStatus")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub(crate) fn last_update(&self) -> i64 {
        self.order
            .get("LastUpdateDate")
            .and_then(Value::as_str)
            .and_then(super::parse_utc)
            .unwrap_or(0)
    }

    pub(crate) fn purchase(&self) -> i64 {
        self.order
            .get("PurchaseDate")
            .and_then(Value::as_str)
            .and_then(super::parse_utc)
            .unwrap_or(0)
    }

    /// The order as getOrders/getOrder answer it. Without PII rights the address keeps only
    /// its non-personal parts and `BuyerInfo` is empty; a `Pending` order has no address and
    /// no total yet (§2, §9.5).
    pub(crate) fn render(&self, address_pii: bool, buyer_pii: bool) -> Value {
        let mut order = self.order.clone();
        let Some(fields) = order.as_object_mut() else {
            return order;
        };
        if self.status() == "Pending" {
            fields.remove("ShippingAddress");
            fields.remove("OrderTotal");
            fields.remove("PaymentExecutionDetail");
        }
        if !address_pii && let Some(Value::Object(address)) = fields.get_mut("ShippingAddress") {
            {
                address.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        "StateOrRegion" | "PostalCode" | "City" | "CountryCode"
                    )
                });
            }
        }
        if !buyer_pii && fields.contains_key("BuyerInfo") {
            fields.insert("BuyerInfo".into(), Value::Object(Map::new()));
        }
        order
    }

    /// The items as getOrderItems answers them: without prices while `Pending`.
    /// The items as getOrderItems shows them: without `BuyerInfo` (gift wrap and message)
    /// unless the caller's token carries `buyerInfo` for the path.
    pub(crate) fn render_items(&self, buyer_pii: bool) -> Vec<Value> {
        let pending = self.status() == "Pending";
        self.items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                if !buyer_pii && let Some(fields) = item.as_object_mut() {
                    fields.remove("BuyerInfo");
                }
                if pending && let Some(fields) = item.as_object_mut() {
                    fields.retain(|k, _| {
                        !matches!(
                            k.as_str(),
                            "ItemPrice"
                                | "ItemTax"
                                | "ShippingPrice"
                                | "ShippingTax"
                                | "ShippingDiscount"
                                | "ShippingDiscountTax"
                                | "PromotionDiscount"
                                | "PromotionDiscountTax"
                                | "CODFee"
                                | "CODFeeDiscount"
                                | "PointsGranted"
                        )
                    });
                }
                item
            })
            .collect()
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub(crate) struct Seller {
    client_id: String,
    client_secret: String,
    refresh_token: String,
    refresh_revoked: bool,
    pub(crate) orders: BTreeMap<String, StoredOrder>,
    buckets: HashMap<&'static str, Bucket>,
    throttled: BTreeMap<String, u64>,
    admitted: BTreeMap<String, u64>,
    access_tokens_issued: u64,
    rdts_issued: u64,
    rejected_list_requests: u64,
    closest_before_gap_secs: Option<i64>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) sellers: BTreeMap<String, Seller>,
    tokens: HashMap<String, IssuedToken>,
    pub(crate) limits: AmazonLimits,
    pub(crate) clock_offset_secs: i64,
    pii_log: Vec<AmazonPiiDisclosure>,
    token_serial: u64,
}

/// Errors of control operations.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("unknown Amazon seller {0:?}")]
    UnknownSeller(String),
    #[error("unknown Amazon order {0:?}")]
    UnknownOrder(String),
    #[error("{0}")]
    Invalid(String),
}

pub(crate) struct AmazonState {
    pub(crate) inner: Mutex<Inner>,
}

impl AmazonState {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
        }
    }

    pub(crate) async fn reset(&self) {
        *self.inner.lock().await = Inner::default();
    }
}

impl Inner {
    /// The sandbox clock, epoch seconds.
    pub(crate) fn now(&self) -> i64 {
        crate::time::now_secs() + self.clock_offset_secs
    }

    pub(crate) fn register(&mut self, id: &str, client_id: &str, secret: &str, refresh: &str) {
        let orders = self
            .sellers
            .remove(id)
            .map(|s| s.orders)
            .unwrap_or_default();
        self.sellers.insert(
            id.to_owned(),
            Seller {
                client_id: client_id.to_owned(),
                client_secret: secret.to_owned(),
                refresh_token: refresh.to_owned(),
                refresh_revoked: false,
                orders,
                buckets: HashMap::new(),
                throttled: BTreeMap::new(),
                admitted: BTreeMap::new(),
                access_tokens_issued: 0,
                rdts_issued: 0,
                rejected_list_requests: 0,
                closest_before_gap_secs: None,
            },
        );
    }

    pub(crate) fn seller(&self, id: &str) -> Result<&Seller, StateError> {
        self.sellers
            .get(id)
            .ok_or_else(|| StateError::UnknownSeller(id.to_owned()))
    }

    pub(crate) fn seller_mut(&mut self, id: &str) -> Result<&mut Seller, StateError> {
        self.sellers
            .get_mut(id)
            .ok_or_else(|| StateError::UnknownSeller(id.to_owned()))
    }

    fn order_mut(
        &mut self,
        seller_id: &str,
        order_id: &str,
    ) -> Result<&mut StoredOrder, StateError> {
        self.seller_mut(seller_id)?
            .orders
            .get_mut(order_id)
            .ok_or_else(|| StateError::UnknownOrder(order_id.to_owned()))
    }

    pub(crate) fn describe(&self, id: &str) -> Result<AmazonSellerResponse, StateError> {
        let s = self.seller(id)?;
        Ok(AmazonSellerResponse {
            seller_id: id.to_owned(),
            order_count: s.orders.len(),
            refresh_token_revoked: s.refresh_revoked,
            access_tokens_issued: s.access_tokens_issued,
            restricted_data_tokens_issued: s.rdts_issued,
            throttled: s.throttled.clone(),
            admitted: s.admitted.clone(),
            rejected_list_requests: s.rejected_list_requests,
            closest_before_gap_secs: s.closest_before_gap_secs,
        })
    }

    pub(crate) fn revoke_refresh_token(&mut self, id: &str) -> Result<(), StateError> {
        self.seller_mut(id)?.refresh_revoked = true;
        // Revoking the app's authorisation also ends the tokens already issued for it.
        self.tokens.retain(|_, t| t.grant.seller_id() != id);
        Ok(())
    }

    /// Every token issued for the seller stops working now (an expired access token).
    pub(crate) fn expire_tokens(&mut self, id: &str) -> Result<(), StateError> {
        self.seller(id)?;
        let now = self.now();
        for token in self.tokens.values_mut() {
            if token.grant.seller_id() == id {
                token.expires_at = now;
            }
        }
        Ok(())
    }

    fn mint(&mut self, prefix: &str, grant: TokenGrant) -> String {
        self.token_serial += 1;
        let token = format!(
            "{prefix}IwEBI{:08x}{:016x}",
            self.token_serial,
            fnv(grant.seller_id().as_bytes()) ^ self.token_serial.rotate_left(17)
        );
        let expires_at = self.now() + self.limits.token_lifetime_secs;
        self.tokens
            .insert(token.clone(), IssuedToken { grant, expires_at });
        token
    }

    /// The LWA `refresh_token` grant. The client is checked first (401), then the grant (400).
    pub(crate) fn exchange_refresh_token(
        &mut self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> LwaOutcome {
        let Some((id, seller)) = self
            .sellers
            .iter()
            .find(|(_, s)| s.client_id == client_id && s.client_secret == client_secret)
        else {
            return LwaOutcome::InvalidClient;
        };
        if seller.refresh_revoked || seller.refresh_token != refresh_token {
            return LwaOutcome::InvalidGrant;
        }
        let id = id.clone();
        let access_token = self.mint(
            "Atza|",
            TokenGrant::Access {
                seller_id: id.clone(),
            },
        );
        if let Some(seller) = self.sellers.get_mut(&id) {
            seller.access_tokens_issued += 1;
        }
        LwaOutcome::Issued { access_token }
    }

    pub(crate) fn issue_rdt(
        &mut self,
        seller_id: &str,
        resources: Vec<RestrictedResource>,
    ) -> String {
        let token = self.mint(
            "Atz.sprdt|",
            TokenGrant::Restricted {
                seller_id: seller_id.to_owned(),
                resources,
            },
        );
        if let Some(seller) = self.sellers.get_mut(seller_id) {
            seller.rdts_issued += 1;
        }
        token
    }

    pub(crate) fn check_token(&self, token: Option<&str>) -> Result<TokenGrant, TokenProblem> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(TokenProblem::Missing)?;
        let issued = self
            .tokens
            .get(token)
            .ok_or(TokenProblem::UnknownOrRevoked)?;
        if issued.expires_at <= self.now() {
            return Err(TokenProblem::Expired);
        }
        Ok(issued.grant.clone())
    }

    /// Takes one token from the seller's bucket for `plan`; `Err(())` means 429.
    pub(crate) fn admit(&mut self, seller_id: &str, plan: UsagePlan) -> Result<(), ()> {
        let enforce = self.limits.rate_limits;
        let rate = plan.rate * self.limits.rate_scale.max(f64::MIN_POSITIVE);
        let Some(seller) = self.sellers.get_mut(seller_id) else {
            return Ok(());
        };
        if enforce {
            let now = Instant::now();
            let bucket = seller.buckets.entry(plan.operation).or_insert(Bucket {
                tokens: plan.burst,
                last: now,
            });
            let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * rate).min(plan.burst);
            bucket.last = now;
            if bucket.tokens < 1.0 {
                *seller.throttled.entry(plan.operation.into()).or_insert(0) += 1;
                return Err(());
            }
            bucket.tokens -= 1.0;
        }
        *seller.admitted.entry(plan.operation.into()).or_insert(0) += 1;
        Ok(())
    }

    /// The `x-amzn-RateLimit-Limit` value for `plan` (the applied rate).
    pub(crate) fn rate_header(&self, plan: UsagePlan) -> String {
        let rate = plan.rate * self.limits.rate_scale;
        let text = format!("{rate:.4}");
        let text = text.trim_end_matches('0');
        if text.ends_with('.') {
            format!("{text}0")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn note_before_gap(&mut self, seller_id: &str, gap: i64, rejected: bool) {
        if let Some(seller) = self.sellers.get_mut(seller_id) {
            seller.closest_before_gap_secs =
                Some(seller.closest_before_gap_secs.map_or(gap, |g| g.min(gap)));
            if rejected {
                seller.rejected_list_requests += 1;
            }
        }
    }

    pub(crate) fn note_rejected_list(&mut self, seller_id: &str) {
        if let Some(seller) = self.sellers.get_mut(seller_id) {
            seller.rejected_list_requests += 1;
        }
    }

    pub(crate) fn log_pii(&mut self, operation: &str, order_id: &str, under_rdt: bool) {
        self.pii_log.push(AmazonPiiDisclosure {
            operation: operation.to_owned(),
            order_id: order_id.to_owned(),
            under_restricted_data_token: under_rdt,
        });
    }

    pub(crate) fn pii_log(&self) -> Vec<AmazonPiiDisclosure> {
        self.pii_log.clone()
    }

    /// Sets the order's status and stamps `LastUpdateDate`.
    pub(crate) fn set_status(
        &mut self,
        seller_id: &str,
        order_id: &str,
        from: &[&str],
        to: &str,
        at: i64,
    ) -> Result<(), StateError> {
        let order = self.order_mut(seller_id, order_id)?;
        let status = order.status().to_owned();
        if !from.contains(&status.as_str()) {
            return Err(StateError::Invalid(format!(
                "order {order_id} is {status}, not one of {}",
                from.join(", ")
            )));
        }
        if let Some(fields) = order.order.as_object_mut() {
            fields.insert("OrderStatus".into(), Value::String(to.to_owned()));
            fields.insert(
                "LastUpdateDate".into(),
                Value::String(super::format_utc(at)),
            );
            if to == "Unshipped" && status == "Pending" {
                // A paid konbini order: its payment is recorded like a COD/CVS sub-payment.
                fields.insert("PaymentMethodDetails".into(), serde_json::json!(["CVS"]));
            }
        }
        Ok(())
    }

    /// The seller cancelled one item of an order not shipped yet (Seller Central's partial
    /// cancel). Orders v0 has no per-item cancelled flag (amazon.md §2.2, open question); the
    /// sandbox shows it the way the peers read it [INF]: the item stays listed with
    /// `QuantityOrdered` 0 and its `ItemPrice`, `ItemTax` and promotion at 0, `OrderTotal`
    /// lowered by what it took off, and `LastUpdateDate` moved. Shipping and COD charges carried
    /// on the item stay. The last item left is refused: that is a cancellation of the order.
    pub(crate) fn cancel_item(
        &mut self,
        seller_id: &str,
        order_id: &str,
        order_item_id: &str,
        at: i64,
    ) -> Result<(), StateError> {
        let order = self.order_mut(seller_id, order_id)?;
        let status = order.status().to_owned();
        if !["Pending", "Unshipped"].contains(&status.as_str()) {
            return Err(StateError::Invalid(format!(
                "order {order_id} is {status}: only an order not shipped yet loses an item"
            )));
        }
        let ordered = |item: &Value| item["QuantityOrdered"].as_i64().unwrap_or(0);
        let left = order.items.iter().filter(|i| ordered(i) > 0).count();
        let item = order
            .items
            .iter_mut()
            .find(|i| i["OrderItemId"].as_str() == Some(order_item_id))
            .ok_or_else(|| {
                StateError::Invalid(format!("order {order_id} has no item {order_item_id}"))
            })?;
        if ordered(item) == 0 {
            return Err(StateError::Invalid(format!(
                "item {order_item_id} of order {order_id} is cancelled already"
            )));
        }
        if left == 1 {
            return Err(StateError::Invalid(format!(
                "item {order_item_id} is the last of order {order_id}; cancel the order instead"
            )));
        }
        // The sandbox writes whole yen (`"1980.00"`).
        let yen = |money: &Value| {
            money["Amount"]
                .as_str()
                .and_then(|a| a.split('.').next())
                .and_then(|a| a.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let taken_off = yen(&item["ItemPrice"]) - yen(&item["PromotionDiscount"]);
        if let Some(fields) = item.as_object_mut() {
            fields.insert("QuantityOrdered".into(), serde_json::json!(0));
            for key in [
                "ItemPrice",
                "ItemTax",
                "PromotionDiscount",
                "PromotionDiscountTax",
            ] {
                if fields.contains_key(key) {
                    fields.insert(
                        key.into(),
                        serde_json::json!({"CurrencyCode": "JPY", "Amount": "0.00"}),
                    );
                }
            }
        }
        if let Some(fields) = order.order.as_object_mut() {
            if let Some(total) = fields.get("OrderTotal") {
                let remaining = yen(total) - taken_off;
                fields.insert(
                    "OrderTotal".into(),
                    serde_json::json!({"CurrencyCode": "JPY", "Amount": format!("{remaining}.00")}),
                );
            }
            if let Some(unshipped) = fields.get("NumberOfItemsUnshipped").and_then(Value::as_i64) {
                fields.insert(
                    "NumberOfItemsUnshipped".into(),
                    serde_json::json!(unshipped - 1),
                );
            }
            fields.insert(
                "LastUpdateDate".into(),
                Value::String(super::format_utc(at)),
            );
        }
        Ok(())
    }

    /// The buyer asked to cancel: every item of an order not shipped yet carries
    /// `BuyerRequestedCancel` with the reason, and `LastUpdateDate` moves.
    pub(crate) fn request_cancel(
        &mut self,
        seller_id: &str,
        order_id: &str,
        reason: &str,
        at: i64,
    ) -> Result<(), StateError> {
        let order = self.order_mut(seller_id, order_id)?;
        let status = order.status().to_owned();
        if !["PendingAvailability", "Pending", "Unshipped"].contains(&status.as_str()) {
            return Err(StateError::Invalid(format!(
                "order {order_id} is {status}: a cancel request needs an order not shipped yet"
            )));
        }
        for item in &mut order.items {
            if let Some(fields) = item.as_object_mut() {
                fields.insert(
                    "BuyerRequestedCancel".into(),
                    serde_json::json!({
                        "IsBuyerRequestedCancel": "true",
                        "BuyerCancelReason": reason,
                    }),
                );
            }
        }
        if let Some(fields) = order.order.as_object_mut() {
            fields.insert(
                "LastUpdateDate".into(),
                Value::String(super::format_utc(at)),
            );
        }
        Ok(())
    }
}

/// 64-bit FNV-1a: a tamper check for NextTokens and token ids, not security.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
