//! JST datetime helpers for the mall wire formats.
//!
//! Internally every instant is epoch seconds (`i64`): the wire formats carry whole seconds
//! only, and plain integers keep window arithmetic (63 days, 730 days, inclusive ends) exact.
//! JST has no DST, so a fixed +09:00 offset is correct and needs no tz database (which a
//! Lambda image or a slim container may not have).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{self, TimeZone};

/// Seconds in one day; all day-based limits are counted in exact 24 h steps.
pub const DAY_SECS: i64 = 86_400;

fn jst() -> TimeZone {
    TimeZone::fixed(tz::offset(9))
}

/// Current time as epoch seconds.
pub fn now_secs() -> i64 {
    Timestamp::now().as_second()
}

fn civil_jst(secs: i64) -> Option<DateTime> {
    Timestamp::from_second(secs)
        .ok()
        .map(|ts| ts.to_zoned(jst()).datetime())
}

/// Reads `len` ASCII digits at `at`; `None` on anything else.
fn digits(bytes: &[u8], at: usize, len: usize) -> Option<i64> {
    let slice = bytes.get(at..at + len)?;
    slice.iter().try_fold(0_i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Parses `YYYY-MM-DDThh:mm:ss` at the start of `s` as a JST wall-clock time.
fn parse_civil_prefix(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 19 || seps.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
        return None;
    }
    let year = i16::try_from(digits(b, 0, 4)?).ok()?;
    let part = |at| digits(b, at, 2).and_then(|v| i8::try_from(v).ok());
    let dt = DateTime::new(year, part(5)?, part(8)?, part(11)?, part(14)?, part(17)?, 0).ok()?;
    dt.to_zoned(jst()).ok().map(|z| z.timestamp().as_second())
}

/// Parses Rakuten's order-API datetime `YYYY-MM-DDThh:mm:ss+0900`, exactly that shape.
///
/// `Z`, `+09:00`, other offsets and fractional seconds are rejected on purpose: the real API
/// answers those with `ERROR_011`, and a client that gets them wrong should fail here too.
pub fn parse_rakuten_datetime(s: &str) -> Option<i64> {
    if s.len() != 24 || !s.ends_with("+0900") {
        return None;
    }
    parse_civil_prefix(s)
}

/// Formats epoch seconds as `YYYY-MM-DDThh:mm:ss+0900`.
pub fn format_rakuten_datetime(secs: i64) -> String {
    format!("{}+0900", format_naive_jst(secs))
}

/// Parses the license API's offset-less JST form `YYYY-MM-DDThh:mm:ss`; also accepts the
/// order-API form with `+0900` so control requests can use either.
pub fn parse_naive_jst(s: &str) -> Option<i64> {
    match s.len() {
        19 => parse_civil_prefix(s),
        24 => parse_rakuten_datetime(s),
        _ => None,
    }
}

/// Formats epoch seconds as `YYYY-MM-DDThh:mm:ss` in JST (license API `expiryDate`).
pub fn format_naive_jst(secs: i64) -> String {
    match civil_jst(secs) {
        Some(dt) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
        None => String::from("0000-00-00T00:00:00"),
    }
}

/// JST calendar date `YYYY-MM-DD` (date-only order fields such as `deliveryDate`).
pub fn format_date(secs: i64) -> String {
    let mut s = format_naive_jst(secs);
    s.truncate(10);
    s
}

/// JST calendar date `yyyymmdd` (the middle part of a Rakuten order number).
pub fn compact_date(secs: i64) -> String {
    format_date(secs).replace('-', "")
}

/// Japanese one-letter weekday of the JST date (used in generated remarks).
pub fn weekday_ja(secs: i64) -> &'static str {
    const NAMES: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
    civil_jst(secs)
        .map(|dt| {
            let idx = usize::try_from(dt.weekday().to_monday_zero_offset()).unwrap_or(0);
            NAMES.get(idx).copied().unwrap_or("")
        })
        .unwrap_or("")
}

/// End of the JST day (23:59:59) that contains `secs`: license keys expire at that time.
pub fn end_of_jst_day(secs: i64) -> i64 {
    let offset = 9 * 3600;
    let local = secs + offset;
    local - local.rem_euclid(DAY_SECS) + DAY_SECS - 1 - offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rakuten_format() {
        let s = "2025-03-01T10:15:00+0900";
        let secs = parse_rakuten_datetime(s).unwrap();
        assert_eq!(secs, 1_740_791_700);
        assert_eq!(format_rakuten_datetime(secs), s);
        assert_eq!(compact_date(secs), "20250301");
        assert_eq!(format_naive_jst(secs), "2025-03-01T10:15:00");
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "2025-03-01T01:15:00Z",
            "2025-03-01T10:15:00+09:00",
            "2025-03-01T10:15:00+0000",
            "2025-03-01 10:15:00+0900",
            "2025-13-01T10:15:00+0900",
            "2025-02-30T10:15:00+0900",
            "2025-03-01T10:15:00.000+0900",
            "２025-03-01T10:15:00+0900",
        ] {
            assert_eq!(parse_rakuten_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn end_of_day_is_jst() {
        let noon = parse_rakuten_datetime("2025-06-29T12:00:00+0900").unwrap();
        assert_eq!(
            format_naive_jst(end_of_jst_day(noon)),
            "2025-06-29T23:59:59"
        );
        let early = parse_rakuten_datetime("2025-06-29T00:30:00+0900").unwrap();
        assert_eq!(
            format_naive_jst(end_of_jst_day(early)),
            "2025-06-29T23:59:59"
        );
        assert_eq!(weekday_ja(noon), "日");
    }
}
