//! au PAY Market sandbox: the Wow!manager order API (`/wmshopapi/...`) as the independent
//! public clients speak it (`shared/malls/aupay.md`).
//!
//! - Reads are GETs with a query string, writes are POSTs of a flat `<request>` XML body;
//!   every answer is `<response><result><status>0|1</status>…</result>…</response>`.
//! - Auth: `Authorization: Bearer <API key>` plus `shopId`. A bad, expired (90 days) or
//!   unregistered-IP key, or one without the right to the called API group, answers HTTP 401
//!   with code `0002`; a `shopId` that is not the key's answers code `CME0022`.
//! - Under load au PAY answers an HTML 502 page instead of XML (a fault mode here, and the
//!   answer of the optional per-shop rate limit).
//!
//! What is strict and what is configurable is listed in the crate README ("au PAY wire
//! behaviour").

mod api;
mod control_api;
pub mod generator;
mod state;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{self, TimeZone};

use crate::AppState;
use crate::faults::FaultGuard;
pub(crate) use state::AupayState;

/// Stats names of the au PAY endpoints (`Stats.requests` keys).
pub mod endpoints {
    pub const SEARCH_TRADE_INFO_LIST: &str = "aupay.searchTradeInfoListProc";
    pub const SEARCH_TRADE_INFO: &str = "aupay.searchTradeInfoProc";
    pub const UPDATE_TRADE_STS: &str = "aupay.updateTradeStsProc";
    pub const ALL: [&str; 3] = [SEARCH_TRADE_INFO_LIST, SEARCH_TRADE_INFO, UPDATE_TRADE_STS];
}

/// Path prefix of every Wow!manager API (`https://api.manager.wowma.jp/wmshopapi/...`).
pub const API_PREFIX: &str = "/wmshopapi";

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let guard = FaultGuard::new(&state, api::fault_response);
    let guarded = |name, route| guard.route(name, route);
    let control = "/_control/aupay";
    Router::new()
        .route(
            &format!("{API_PREFIX}/searchTradeInfoListProc"),
            guarded(
                endpoints::SEARCH_TRADE_INFO_LIST,
                get(api::search_trade_info_list),
            ),
        )
        .route(
            &format!("{API_PREFIX}/searchTradeInfoProc"),
            guarded(endpoints::SEARCH_TRADE_INFO, get(api::search_trade_info)),
        )
        .route(
            &format!("{API_PREFIX}/updateTradeStsProc"),
            guarded(endpoints::UPDATE_TRADE_STS, post(api::update_trade_sts)),
        )
        .route(
            &format!("{control}/stores"),
            post(control_api::register_store),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}"),
            get(control_api::store),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/expire-key"),
            post(control_api::expire_key),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders"),
            post(control_api::insert_order).get(control_api::order_ids),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/generate"),
            post(control_api::generate),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_id}}"),
            get(control_api::order),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_id}}/pay"),
            post(control_api::pay),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_id}}/cancel"),
            post(control_api::cancel),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_id}}/status"),
            post(control_api::set_status),
        )
        .route(
            &format!("{control}/limits"),
            post(control_api::set_limits).get(control_api::limits),
        )
        .route(
            &format!("{control}/bad-gateway"),
            post(control_api::bad_gateway),
        )
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

/// au PAY's response datetime: `YYYY/MM/DD HH:MM` (JST, minutes only).
pub fn format_datetime(secs: i64) -> String {
    civil(secs)
        .map(|dt| dt.strftime("%Y/%m/%d %H:%M").to_string())
        .unwrap_or_default()
}

/// au PAY's date-only response fields: `YYYY/MM/DD` (JST).
pub fn format_date(secs: i64) -> String {
    civil(secs)
        .map(|dt| dt.strftime("%Y/%m/%d").to_string())
        .unwrap_or_default()
}

/// Reads `len` ASCII digits starting at `at`.
fn digits(text: &str, at: usize, len: usize) -> Option<i64> {
    let part = text.get(at..at + len)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())?
}

fn date_of(year: i64, month: i64, day: i64) -> Option<Date> {
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// Parses `YYYY/MM/DD HH:MM` (the response shape) into epoch seconds; an impossible date is
/// refused, never rolled over.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let b = text.as_bytes();
    if b.len() != 16 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    let date = date_of(
        digits(text, 0, 4)?,
        digits(text, 5, 2)?,
        digits(text, 8, 2)?,
    )?;
    let dt = date
        .to_datetime(
            jiff::civil::Time::new(
                i8::try_from(digits(text, 11, 2)?).ok()?,
                i8::try_from(digits(text, 14, 2)?).ok()?,
                0,
                0,
            )
            .ok()?,
        )
        .to_zoned(jst())
        .ok()?;
    Some(dt.timestamp().as_second())
}

/// Parses a date-only field `YYYY/MM/DD` into the epoch seconds of 00:00 JST that day.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'/' || b[7] != b'/' {
        return None;
    }
    let date = date_of(
        digits(text, 0, 4)?,
        digits(text, 5, 2)?,
        digits(text, 8, 2)?,
    )?;
    start_of_day(date)
}

fn start_of_day(date: Date) -> Option<i64> {
    date.to_datetime(jiff::civil::Time::midnight())
        .to_zoned(jst())
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// Which request date shapes `startDate`/`endDate` accept (the clients disagree; aupay.md §3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RequestDateFormat {
    /// `YYYYMMDD` and `YYYY-MM-DD` both, as the same date (the notes' default).
    #[default]
    Either,
    /// `YYYYMMDD` only (the majority of clients).
    Compact,
    /// `YYYY-MM-DD` only.
    Dashed,
}

/// Parses a request date (`startDate`, `endDate`) as allowed by `format`: the epoch seconds
/// of 00:00 JST that day. An impossible date is refused.
pub fn parse_request_date(text: &str, format: RequestDateFormat) -> Option<i64> {
    let text = text.trim();
    let compact = text.len() == 8;
    let dashed = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    let allowed = match format {
        RequestDateFormat::Either => compact || dashed,
        RequestDateFormat::Compact => compact,
        RequestDateFormat::Dashed => dashed,
    };
    if !allowed {
        return None;
    }
    let (y, m, d) = if compact {
        (
            digits(text, 0, 4)?,
            digits(text, 4, 2)?,
            digits(text, 6, 2)?,
        )
    } else {
        (
            digits(text, 0, 4)?,
            digits(text, 5, 2)?,
            digits(text, 8, 2)?,
        )
    };
    start_of_day(date_of(y, m, d)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_and_dates() {
        let at = parse_datetime("2026/01/01 00:05").unwrap();
        assert_eq!(
            Timestamp::from_second(at).unwrap().to_string(),
            "2025-12-31T15:05:00Z"
        );
        assert_eq!(format_datetime(at), "2026/01/01 00:05");
        assert_eq!(format_date(at), "2026/01/01");
        assert_eq!(parse_datetime("2025/11/31 10:00"), None, "31 November");
        assert_eq!(parse_datetime("2025-11-30 10:00"), None);
        assert_eq!(parse_date("2026/01/01"), parse_datetime("2026/01/01 00:00"));
        assert_eq!(parse_date("2026/02/30"), None);
    }

    #[test]
    fn request_dates_follow_the_configured_shape() {
        let day = parse_date("2025/03/01");
        assert_eq!(
            parse_request_date("20250301", RequestDateFormat::Either),
            day
        );
        assert_eq!(
            parse_request_date("2025-03-01", RequestDateFormat::Either),
            day
        );
        assert_eq!(
            parse_request_date("2025-03-01", RequestDateFormat::Compact),
            None
        );
        assert_eq!(
            parse_request_date("20250301", RequestDateFormat::Dashed),
            None
        );
        assert_eq!(
            parse_request_date("2025/03/01", RequestDateFormat::Either),
            None
        );
        assert_eq!(
            parse_request_date("20251131", RequestDateFormat::Either),
            None
        );
    }
}
