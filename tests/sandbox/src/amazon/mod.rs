//! Amazon SP-API sandbox: Orders v0 (`getOrders`, `getOrder`, `getOrderItems`,
//! `getOrderAddress`, `getOrderBuyerInfo`), Tokens 2021-03-01 (`createRestrictedDataToken`)
//! and the Login with Amazon token endpoint, as `shared/malls/amazon-models/` define them.
//!
//! What is strict and what is a guess is listed in the crate README ("Amazon wire behaviour").

mod api;
mod control_api;
mod generator;
mod state;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use jiff::Timestamp;

use crate::AppState;
use crate::faults::FaultGuard;
pub(crate) use state::AmazonState;

/// Stats names of the Amazon endpoints (`Stats.requests` keys).
pub mod endpoints {
    pub const GET_ORDERS: &str = "amazon.getOrders";
    pub const GET_ORDER: &str = "amazon.getOrder";
    pub const GET_ORDER_ITEMS: &str = "amazon.getOrderItems";
    pub const GET_ORDER_ADDRESS: &str = "amazon.getOrderAddress";
    pub const GET_ORDER_BUYER_INFO: &str = "amazon.getOrderBuyerInfo";
    pub const CREATE_RDT: &str = "amazon.createRestrictedDataToken";
    pub const TOKEN: &str = "amazon.token";
    pub const ALL: [&str; 7] = [
        GET_ORDERS,
        GET_ORDER,
        GET_ORDER_ITEMS,
        GET_ORDER_ADDRESS,
        GET_ORDER_BUYER_INFO,
        CREATE_RDT,
        TOKEN,
    ];
}

/// The JP marketplace id.
pub const MARKETPLACE_JP: &str = "A1VC38T7YXB528";
/// Path of getOrders (and the prefix of every order path).
pub const ORDERS_PATH: &str = "/orders/v0/orders";
/// Path of createRestrictedDataToken.
pub const RDT_PATH: &str = "/tokens/2021-03-01/restrictedDataToken";
/// Path of the LWA token endpoint (its own host in production: `api.amazon.com`).
pub const TOKEN_PATH: &str = "/auth/o2/token";

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let guard = FaultGuard::new(&state, api::fault_response);
    let guarded = |name, route| guard.route(name, route);
    let control = "/_control/amazon";
    Router::new()
        .route(
            ORDERS_PATH,
            guarded(endpoints::GET_ORDERS, get(api::get_orders)),
        )
        .route(
            &format!("{ORDERS_PATH}/{{order_id}}"),
            guarded(endpoints::GET_ORDER, get(api::get_order)),
        )
        .route(
            &format!("{ORDERS_PATH}/{{order_id}}/orderItems"),
            guarded(endpoints::GET_ORDER_ITEMS, get(api::get_order_items)),
        )
        .route(
            &format!("{ORDERS_PATH}/{{order_id}}/address"),
            guarded(endpoints::GET_ORDER_ADDRESS, get(api::get_order_address)),
        )
        .route(
            &format!("{ORDERS_PATH}/{{order_id}}/buyerInfo"),
            guarded(
                endpoints::GET_ORDER_BUYER_INFO,
                get(api::get_order_buyer_info),
            ),
        )
        .route(
            RDT_PATH,
            guarded(
                endpoints::CREATE_RDT,
                post(api::create_restricted_data_token),
            ),
        )
        .route(TOKEN_PATH, guarded(endpoints::TOKEN, post(api::token)))
        .route(
            &format!("{control}/sellers"),
            post(control_api::register_seller),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}"),
            get(control_api::seller),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/revoke-refresh-token"),
            post(control_api::revoke_refresh_token),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/expire-tokens"),
            post(control_api::expire_tokens),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/orders"),
            post(control_api::insert_order).get(control_api::order_ids),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/orders/generate"),
            post(control_api::generate),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/orders/{{order_id}}/pay"),
            post(control_api::pay),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/orders/{{order_id}}/cancel"),
            post(control_api::cancel),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/orders/{{order_id}}/cancel-item"),
            post(control_api::cancel_item),
        )
        .route(
            &format!("{control}/sellers/{{seller_id}}/orders/{{order_id}}/buyer-cancel-request"),
            post(control_api::buyer_cancel_request),
        )
        .route(
            &format!("{control}/limits"),
            post(control_api::set_limits).get(control_api::limits),
        )
        .route(
            &format!("{control}/clock"),
            post(control_api::set_clock).get(control_api::clock),
        )
        .route(&format!("{control}/pii-log"), get(control_api::pii_log))
        .with_state(state)
}

/// SP-API's response date-time: `YYYY-MM-DDThh:mm:ssZ` (UTC, whole seconds).
pub fn format_utc(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Parses an ISO 8601 date-time in UTC (`…Z`, fractions allowed) into epoch seconds.
pub fn parse_utc(text: &str) -> Option<i64> {
    parse_utc_strict(text, false)
}

/// Like [`parse_utc`]; with `accept_offsets` also `+09:00` and other offsets.
pub fn parse_utc_strict(text: &str, accept_offsets: bool) -> Option<i64> {
    let text = text.trim();
    if !accept_offsets && !text.ends_with('Z') {
        return None;
    }
    // A date-time needs its time part; jiff would also read a bare date.
    if text.len() < 20 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    text.parse::<Timestamp>().ok().map(|t| t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        let at = parse_utc("2025-06-01T02:14:09Z").unwrap();
        assert_eq!(format_utc(at), "2025-06-01T02:14:09Z");
        assert_eq!(parse_utc("2025-06-01T11:14:09+09:00"), None);
        assert_eq!(
            parse_utc_strict("2025-06-01T11:14:09+09:00", true),
            Some(at)
        );
        assert_eq!(parse_utc("2025-11-31T00:00:00Z"), None, "31 November");
        assert_eq!(parse_utc("2025-06-01"), None);
    }
}
