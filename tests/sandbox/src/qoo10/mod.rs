//! Qoo10 Japan QSM API ("QAPI") sandbox: certification key, shipping lists (v2 keys), the
//! by-order-number detail, claims, the item lookup and the seller confirmation.
//!
//! Wire facts follow `shared/malls/qoo10.md`; what is strict and what is a guess is listed in
//! the crate README ("Qoo10 wire behaviour").

mod api;
mod control_api;
pub mod generator;
mod state;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::faults::FaultGuard;
use crate::time::DAY_SECS;
pub(crate) use state::Qoo10State;

/// Stats names of the Qoo10 endpoints (`Stats.requests` keys). QAPI has one URL for every
/// method (the method is a path segment or a parameter), so it counts as one endpoint; the
/// calls per method are in `GET /_control/qoo10/calls`.
pub mod endpoints {
    pub const QAPI: &str = "qoo10.qapi";
    pub const ALL: [&str; 1] = [QAPI];
}

/// The service path (style B: `?method=Class.Method`; style A appends `/Class.Method`).
pub const SERVICE_PATH: &str = "/GMKT.INC.Front.QAPIService/ebayjapan.qapi";

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let guard = FaultGuard::new(&state, api::fault_response);
    let guarded = |route| guard.route(endpoints::QAPI, route);
    let control = "/_control/qoo10";
    Router::new()
        .route(
            SERVICE_PATH,
            guarded(get(api::query_style).post(api::query_style)),
        )
        .route(
            &format!("{SERVICE_PATH}/{{method}}"),
            guarded(get(api::path_style).post(api::path_style)),
        )
        .route(
            &format!("{control}/stores"),
            post(control_api::register_store),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}"),
            get(control_api::store),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/expire-key"),
            post(control_api::expire_key),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/password"),
            post(control_api::change_password),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/items"),
            post(control_api::put_item),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders"),
            post(control_api::insert_rows).get(control_api::lines),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/generate"),
            post(control_api::generate),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/orders/{{order_no}}/claim"),
            post(control_api::claim_line),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/carts/{{pack_no}}/pay"),
            post(control_api::pay_cart),
        )
        .route(
            &format!("{control}/stores/{{seller_id}}/carts/{{pack_no}}/claim"),
            post(control_api::claim_cart),
        )
        .route(
            &format!("{control}/limits"),
            post(control_api::set_limits).get(control_api::limits),
        )
        .route(&format!("{control}/calls"), get(control_api::calls))
        .route(&format!("{control}/writes"), get(control_api::writes))
        .with_state(state)
}

const JST_OFFSET: i64 = 9 * 3600;

/// Qoo10's response datetime: `YYYY-MM-DD HH:MM:SS`, JST, no offset (qoo10.md §12, V).
pub fn format_datetime(secs: i64) -> String {
    crate::time::format_naive_jst(secs).replacen('T', " ", 1)
}

/// A JST date `YYYY-MM-DD`.
pub fn format_date(secs: i64) -> String {
    crate::time::format_date(secs)
}

/// Parses a row's `YYYY-MM-DD HH:MM:SS` (JST); empty or anything else is `None`.
pub fn parse_row_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() != 19 || text.as_bytes().get(10) != Some(&b' ') {
        return None;
    }
    crate::time::parse_naive_jst(&text.replacen(' ', "T", 1))
}

/// Midnight JST of the day that contains `secs`.
pub(crate) fn start_of_jst_day(secs: i64) -> i64 {
    let local = secs + JST_OFFSET;
    local - local.rem_euclid(DAY_SECS) - JST_OFFSET
}

/// Parses a search date `yyyyMMdd` or `yyyyMMddHHmmss` (JST). A bare date is the start of
/// that day, or its last second when `end_of_day` (I: how Qoo10 reads a bare end date is not
/// documented). An impossible date is refused, not rolled over.
pub fn parse_search_date(text: &str, end_of_day: bool) -> Option<i64> {
    let b = text.as_bytes();
    if !(b.len() == 8 || b.len() == 14) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let part = |r: std::ops::Range<usize>| text.get(r).unwrap_or("00");
    let (h, m, s) = if b.len() == 14 {
        (part(8..10), part(10..12), part(12..14))
    } else if end_of_day {
        ("23", "59", "59")
    } else {
        ("00", "00", "00")
    };
    crate::time::parse_naive_jst(&format!(
        "{}-{}-{}T{h}:{m}:{s}",
        part(0..4),
        part(4..6),
        part(6..8)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let at = parse_search_date("20250603142210", false).unwrap();
        assert_eq!(format_datetime(at), "2025-06-03 14:22:10");
        assert_eq!(parse_row_datetime("2025-06-03 14:22:10"), Some(at));
        assert_eq!(parse_row_datetime(""), None);
        assert_eq!(parse_row_datetime("2025/06/03 14:22:10"), None);
        assert_eq!(parse_search_date("20251131", false), None, "31 November");
        let end = parse_search_date("20250603", true).unwrap();
        assert_eq!(format_datetime(end), "2025-06-03 23:59:59");
        assert_eq!(format_datetime(start_of_jst_day(at)), "2025-06-03 00:00:00");
    }
}
