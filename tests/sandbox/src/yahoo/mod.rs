//! Yahoo! Shopping Store API sandbox (ShoppingWebService V1 order APIs + YConnect v2 token).
//!
//! Wire facts follow `shared/malls/yahoo.md`; what is strict and what is a guess is listed in
//! the crate README ("Yahoo wire behaviour").

mod api;
mod control_api;
pub mod generator;
mod state;
pub mod types;
/// The sandbox's XML tree is shared with au PAY (`crate::xml`); re-exported for existing paths.
pub use crate::xml;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{self, TimeZone};

use crate::AppState;
use crate::faults::FaultGuard;
pub(crate) use state::YahooState;

/// Stats names of the Yahoo endpoints (`Stats.requests` keys).
pub mod endpoints {
    pub const ORDER_LIST: &str = "yahoo.orderList";
    pub const ORDER_INFO: &str = "yahoo.orderInfo";
    pub const ORDER_STATUS_CHANGE: &str = "yahoo.orderStatusChange";
    pub const TOKEN: &str = "yahoo.token";
    pub const ALL: [&str; 4] = [ORDER_LIST, ORDER_INFO, ORDER_STATUS_CHANGE, TOKEN];
}

/// Path prefix of the order APIs.
pub const API_PREFIX: &str = "/ShoppingWebService/V1";
/// Path of the YConnect token endpoint.
pub const TOKEN_PATH: &str = "/yconnect/v2/token";

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let guard = FaultGuard::new(&state, api::fault_response);
    let guarded = |name, route| guard.route(name, route);
    let control = "/_control/yahoo";
    Router::new()
        .route(
            &format!("{API_PREFIX}/orderList"),
            guarded(endpoints::ORDER_LIST, post(api::order_list)),
        )
        .route(
            &format!("{API_PREFIX}/orderInfo"),
            guarded(endpoints::ORDER_INFO, post(api::order_info)),
        )
        .route(
            &format!("{API_PREFIX}/orderStatusChange"),
            guarded(
                endpoints::ORDER_STATUS_CHANGE,
                post(api::order_status_change),
            ),
        )
        .route(TOKEN_PATH, guarded(endpoints::TOKEN, post(api::token)))
        .route(
            &format!("{control}/stores"),
            post(control_api::register_store),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}"),
            get(control_api::store),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/keys"),
            post(control_api::add_key),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/keys/{{version}}/revoke"),
            post(control_api::revoke_key),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/expire-token"),
            post(control_api::expire_token),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/revoke-refresh-token"),
            post(control_api::revoke_refresh_token),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders"),
            post(control_api::insert_order).get(control_api::order_ids),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/generate"),
            post(control_api::generate),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/{{order_id}}"),
            get(control_api::order),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/{{order_id}}/pay"),
            post(control_api::set_pay_status),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/{{order_id}}/status"),
            post(control_api::set_order_status),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/{{order_id}}/cancel-line"),
            post(control_api::cancel_line),
        )
        .route(
            &format!("{control}/limits"),
            post(control_api::set_limits).get(control_api::limits),
        )
        .route(&format!("{control}/quota"), get(control_api::quota))
        .route(&format!("{control}/writes"), get(control_api::writes))
        .with_state(state)
}

fn jst() -> TimeZone {
    TimeZone::fixed(tz::offset(9))
}

fn civil(secs: i64) -> Option<DateTime> {
    Timestamp::from_second(secs)
        .ok()
        .map(|t| t.to_zoned(jst()).datetime())
}

/// Yahoo's response datetime: `YYYY-MM-DDThh:mm:ss+09:00`.
pub fn format_datetime(secs: i64) -> String {
    civil(secs)
        .map(|dt| format!("{}+09:00", dt.strftime("%Y-%m-%dT%H:%M:%S")))
        .unwrap_or_default()
}

/// A JST calendar date `YYYY-MM-DD`.
pub fn format_date(secs: i64) -> String {
    civil(secs)
        .map(|dt| dt.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The JST day a request counts against the daily quota.
pub(crate) fn jst_day(secs: i64) -> String {
    format_date(secs)
}

/// Parses `YYYY-MM-DDThh:mm:ss+09:00` (the response shape) into epoch seconds.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let civil = text.strip_suffix("+09:00")?;
    if civil.len() != 19 {
        return None;
    }
    let dt: DateTime = civil.parse().ok()?;
    dt.to_zoned(jst()).ok().map(|z| z.timestamp().as_second())
}

/// Parses the request's `YYYYMMDDHHMMSS` (JST, exactly 14 digits; an impossible date is
/// refused, not rolled over).
pub fn parse_compact(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> { text.get(range)?.parse().ok() };
    let dt = DateTime::new(
        i16::try_from(num(0..4)?).ok()?,
        i8::try_from(num(4..6)?).ok()?,
        i8::try_from(num(6..8)?).ok()?,
        i8::try_from(num(8..10)?).ok()?,
        i8::try_from(num(10..12)?).ok()?,
        i8::try_from(num(12..14)?).ok()?,
        0,
    )
    .ok()?;
    dt.to_zoned(jst()).ok().map(|z| z.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        let at = parse_compact("20250301091244").unwrap();
        assert_eq!(format_datetime(at), "2025-03-01T09:12:44+09:00");
        assert_eq!(parse_datetime("2025-03-01T09:12:44+09:00"), Some(at));
        assert_eq!(parse_compact("20251131000000"), None, "31 November");
        assert_eq!(parse_compact("2025-03-01T00:00"), None);
        assert_eq!(parse_datetime("2025-03-01T09:12:44Z"), None);
    }
}
