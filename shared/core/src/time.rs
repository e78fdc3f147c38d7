//! Instants in Japan Standard Time.
//!
//! Every mall speaks JST (Amazon speaks UTC and its client converts). Business-day logic,
//! order-number dates and the operator's screens all want the JST wall clock, so an instant
//! is kept as a UTC timestamp and always rendered with the fixed `+09:00` offset. JST has no
//! daylight saving, so a fixed offset is exact and needs no time-zone database (Lambda images
//! may not ship one).

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The JST offset, `+09:00`.
pub const JST_OFFSET: Offset = Offset::constant(9);

/// The JST time zone as a fixed offset.
pub fn jst() -> TimeZone {
    TimeZone::fixed(JST_OFFSET)
}

/// An instant, displayed and serialised in JST (`2026-11-22T10:15:00+09:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JstInstant(Timestamp);

impl JstInstant {
    pub fn from_timestamp(timestamp: Timestamp) -> Self {
        Self(timestamp)
    }

    /// The instant at a JST wall-clock date-time.
    pub fn from_jst_civil(datetime: DateTime) -> Result<Self, jiff::Error> {
        Ok(Self(jst().to_timestamp(datetime)?))
    }

    pub fn timestamp(&self) -> Timestamp {
        self.0
    }

    /// The JST wall-clock date-time of this instant.
    pub fn civil(&self) -> DateTime {
        JST_OFFSET.to_datetime(self.0)
    }

    /// The JST calendar date of this instant.
    pub fn date(&self) -> Date {
        self.civil().date()
    }

    pub fn checked_add(&self, duration: SignedDuration) -> Result<Self, jiff::Error> {
        Ok(Self(self.0.checked_add(duration)?))
    }

    pub fn checked_sub(&self, duration: SignedDuration) -> Result<Self, jiff::Error> {
        Ok(Self(self.0.checked_sub(duration)?))
    }

    /// `self - earlier`.
    pub fn duration_since(&self, earlier: JstInstant) -> SignedDuration {
        self.0.duration_since(earlier.0)
    }
}

impl fmt::Display for JstInstant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fractions only when present: malls speak whole seconds, but a stored instant must
        // read back as the same instant.
        let civil = self.civil();
        write!(f, "{}+09:00", civil.strftime("%Y-%m-%dT%H:%M:%S%.f"))
    }
}

impl FromStr for JstInstant {
    type Err = jiff::Error;

    /// Parses any RFC 3339 instant (`Z`, `+09:00`, `+0900` are all accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.parse::<Timestamp>()?))
    }
}

impl Serialize for JstInstant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for JstInstant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A closed time window `[start, end]` on the mall's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: JstInstant,
    pub end: JstInstant,
}

impl TimeWindow {
    pub fn new(start: JstInstant, end: JstInstant) -> Self {
        Self { start, end }
    }

    pub fn length(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }

    /// Splits the window into consecutive pieces no longer than `max`. Pieces share their
    /// boundary instant: windows are inclusive, and import-once makes the overlap harmless.
    pub fn split(&self, max: SignedDuration) -> Vec<TimeWindow> {
        if max <= SignedDuration::ZERO || self.length() <= max {
            return vec![*self];
        }
        let mut pieces = Vec::new();
        let mut start = self.start;
        while start < self.end {
            let end = match start.checked_add(max) {
                Ok(end) if end < self.end => end,
                _ => self.end,
            };
            pieces.push(TimeWindow::new(start, end));
            start = end;
        }
        pieces
    }

    /// Splits the window in two halves (used when a mall caps the hits of one search).
    pub fn halves(&self) -> Option<(TimeWindow, TimeWindow)> {
        let half = self.length() / 2;
        if half < SignedDuration::from_secs(1) {
            return None;
        }
        let middle = self.start.checked_add(half).ok()?;
        Some((
            TimeWindow::new(self.start, middle),
            TimeWindow::new(middle, self.end),
        ))
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} .. {}]", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> JstInstant {
        s.parse().unwrap()
    }

    #[test]
    fn displays_in_jst_whatever_the_input_offset() {
        assert_eq!(
            at("2026-11-21T15:00:00Z").to_string(),
            "2026-11-22T00:00:00+09:00"
        );
        assert_eq!(
            at("2026-11-22T00:00:00+09:00").date(),
            jiff::civil::date(2026, 11, 22)
        );
    }

    #[test]
    fn sub_second_instants_survive_display_and_parse() {
        let instant = at("2026-11-22T10:15:00.520095048+09:00");
        assert_eq!(instant.to_string(), "2026-11-22T10:15:00.520095048+09:00");
        assert_eq!(instant.to_string().parse::<JstInstant>().unwrap(), instant);
    }

    #[test]
    fn serde_round_trip_keeps_the_instant() {
        let instant = at("2026-11-22T10:15:00+09:00");
        let json = serde_json::to_string(&instant).unwrap();
        assert_eq!(json, "\"2026-11-22T10:15:00+09:00\"");
        assert_eq!(serde_json::from_str::<JstInstant>(&json).unwrap(), instant);
    }

    #[test]
    fn split_covers_the_window_without_gaps() {
        let window = TimeWindow::new(
            at("2026-01-01T00:00:00+09:00"),
            at("2026-04-01T00:00:00+09:00"),
        );
        let pieces = window.split(SignedDuration::from_hours(24 * 63));
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].start, window.start);
        assert_eq!(pieces[0].end, pieces[1].start);
        assert_eq!(pieces[1].end, window.end);
        assert!(
            pieces
                .iter()
                .all(|p| p.length() <= SignedDuration::from_hours(24 * 63))
        );
    }

    #[test]
    fn halves_meet_in_the_middle() {
        let window = TimeWindow::new(
            at("2026-01-01T00:00:00+09:00"),
            at("2026-01-02T00:00:00+09:00"),
        );
        let (a, b) = window.halves().unwrap();
        assert_eq!(a.end, b.start);
        assert_eq!(a.end.to_string(), "2026-01-01T12:00:00+09:00");
    }
}
