//! The quarantine's retry policy: when a failed import is tried again on its own.
//!
//! Backoff doubles from one schedule period (3 minutes) and is capped at six hours, so a
//! transient mall hiccup clears within minutes and a lasting problem costs a handful of calls
//! a day. After [`AUTOMATIC_ATTEMPTS`] the order waits for a person (an `orders` request
//! retries it at once); it stays listed either way.

use jiff::SignedDuration;

use crate::order::{RawPayload, StoreRef};
use crate::ports::{FailedImport, ImportStep};
use crate::time::JstInstant;

/// Attempts (the first included) before automatic retries stop.
pub const AUTOMATIC_ATTEMPTS: u32 = 10;
const FIRST_DELAY: SignedDuration = SignedDuration::from_mins(3);
const LONGEST_DELAY: SignedDuration = SignedDuration::from_hours(6);

/// The wait before automatic attempt `attempts + 1`.
pub fn retry_delay(attempts: u32) -> SignedDuration {
    let doublings = attempts.saturating_sub(1).min(16);
    let delay = FIRST_DELAY
        .checked_mul(1 << doublings)
        .unwrap_or(LONGEST_DELAY);
    delay.min(LONGEST_DELAY)
}

/// The failed-import record after one more failed attempt (`previous` when it was known).
pub(crate) fn record(
    previous: Option<&FailedImport>,
    store: &StoreRef,
    mall_order_id: &str,
    step: ImportStep,
    error: String,
    raw: Option<RawPayload>,
    now: JstInstant,
) -> FailedImport {
    let attempts = previous.map_or(0, |p| p.attempts) + 1;
    let next_attempt_at = (attempts < AUTOMATIC_ATTEMPTS)
        .then(|| now.checked_add(retry_delay(attempts)).ok())
        .flatten();
    FailedImport {
        store: store.clone(),
        mall_order_id: mall_order_id.to_owned(),
        step,
        error,
        first_seen: previous.map_or(now, |p| p.first_seen),
        last_seen: now,
        attempts,
        next_attempt_at,
        raw: raw.or_else(|| previous.and_then(|p| p.raw.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::MallId;

    #[test]
    fn backoff_doubles_from_three_minutes_up_to_six_hours() {
        let minutes: Vec<i64> = (1..=9).map(|n| retry_delay(n).as_mins()).collect();
        assert_eq!(minutes, [3, 6, 12, 24, 48, 96, 192, 360, 360]);
    }

    #[test]
    fn attempts_accumulate_and_stop_being_automatic() {
        let store = StoreRef::new(MallId::Rakuten, "s");
        let t0: JstInstant = "2026-11-22T10:00:00+09:00".parse().unwrap();
        let first = record(
            None,
            &store,
            "1",
            ImportStep::Fetch,
            "gone".into(),
            None,
            t0,
        );
        assert_eq!(first.attempts, 1);
        assert_eq!(
            first.next_attempt_at,
            Some("2026-11-22T10:03:00+09:00".parse().unwrap())
        );
        let mut last = first.clone();
        for _ in 1..AUTOMATIC_ATTEMPTS {
            let t = last.next_attempt_at.unwrap_or(t0);
            last = record(
                Some(&last),
                &store,
                "1",
                ImportStep::Fetch,
                "gone".into(),
                None,
                t,
            );
        }
        assert_eq!(last.attempts, AUTOMATIC_ATTEMPTS);
        assert_eq!(last.first_seen, t0);
        assert_eq!(last.next_attempt_at, None);
    }
}
