//! One rate budget per store, shared by every process that calls the store's mall.
//!
//! Each [`MallHttp`](crate::http::MallHttp) paces itself with its own token bucket, but the
//! import and the mall-writer are separate Lambda functions: each at the store's rate, together
//! they reach twice it, and the mall answers 429. With a [`SharedRateBudget`] each request
//! also claims a *slot*: time is cut into windows of the store's request interval, and whoever
//! claims a window first (a conditional write in the shop's table, [`RateSlots`]) sends one
//! request at its start. Two processes therefore interleave instead of adding up.
//!
//! The budget never stops a request for good: when the table cannot be reached, or the next
//! [`MAX_CLAIMS`] slots are all taken, the request goes ahead on the process's own pacing
//! (and says so in the log). The mall's 429, retried with backoff, remains the last guard.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ichigen_core::StoreRef;
use ichigen_core::ports::RateSlots;

/// Slots tried before a request goes ahead on its own pacing: with two processes sharing a
/// store a claim rarely loses more than once.
pub const MAX_CLAIMS: u32 = 16;

/// Above this rate a slot would be narrower than a DynamoDB write takes: the limit is not a
/// mall's (the sandboxes' "rate limit off"), and the budget is not worth a write per request.
pub const MAX_SHARED_RATE: f64 = 20.0;

/// The store-wide budget a client draws on, in its [`ClientSettings`](crate::ClientSettings).
#[derive(Clone)]
pub struct SharedRateBudget(Arc<dyn RateSlots>);

impl SharedRateBudget {
    pub fn new(slots: Arc<dyn RateSlots>) -> Self {
        Self(slots)
    }

    /// Waits for this request's slot in the store's `lane`: claims the first free window of
    /// `interval` that starts after now, then sleeps until it starts.
    pub async fn wait_for_slot(&self, store: &StoreRef, lane: &str, interval: Duration) {
        let width = interval.as_millis().max(1) as u64;
        let mut start = (epoch_ms() / width + 1) * width;
        for _ in 0..MAX_CLAIMS {
            match self.0.claim_slot(store, lane, start).await {
                Ok(true) => {
                    let wait = start.saturating_sub(epoch_ms());
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    return;
                }
                Ok(false) => start = start.max((epoch_ms() / width + 1) * width) + width,
                Err(error) => {
                    tracing::warn!(%store, lane, %error, "store rate budget unavailable; pacing this request alone");
                    return;
                }
            }
        }
        tracing::warn!(%store, lane, claims = MAX_CLAIMS, "store rate budget crowded; pacing this request alone");
    }
}

impl std::fmt::Debug for SharedRateBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedRateBudget")
    }
}

/// Two settings are equal only when they draw on the same budget.
impl PartialEq for SharedRateBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use ichigen_core::ports::StoreError;

    use super::*;

    /// Slots held in memory, as the table holds them (claimed once).
    #[derive(Default)]
    struct Claimed {
        slots: Mutex<HashSet<(String, String, u64)>>,
        refuse: bool,
    }

    #[async_trait]
    impl RateSlots for Claimed {
        async fn claim_slot(
            &self,
            store: &StoreRef,
            lane: &str,
            start_ms: u64,
        ) -> Result<bool, StoreError> {
            if self.refuse {
                return Err(StoreError::Unavailable {
                    operation: "PutItem".into(),
                    detail: "down".into(),
                });
            }
            Ok(self
                .slots
                .lock()
                .unwrap()
                .insert((store.to_string(), lane.to_owned(), start_ms)))
        }
    }

    fn store() -> StoreRef {
        StoreRef::new(ichigen_core::MallId::Rakuten, "a")
    }

    #[tokio::test]
    async fn concurrent_requests_take_distinct_slots_an_interval_apart() {
        let slots = Arc::new(Claimed::default());
        let budget = SharedRateBudget::new(slots.clone());
        let interval = Duration::from_millis(40);
        let waits = (0..5).map(|_| {
            let budget = budget.clone();
            async move {
                budget.wait_for_slot(&store(), "test", interval).await;
                epoch_ms()
            }
        });
        let returned: Vec<u64> = futures::future::join_all(waits).await;
        let mut claimed = slots.lock_starts();
        claimed.sort();
        assert_eq!(claimed.len(), 5, "one slot each");
        for pair in claimed.windows(2) {
            assert!(
                pair[1] - pair[0] >= 40,
                "slots {pair:?} closer than the interval"
            );
        }
        // Each waited for its slot: the last to return did not go before the last slot began.
        assert!(
            returned.iter().max() >= claimed.last(),
            "{returned:?} {claimed:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_budget_lets_the_request_go() {
        let budget = SharedRateBudget::new(Arc::new(Claimed {
            refuse: true,
            ..Claimed::default()
        }));
        let started = std::time::Instant::now();
        budget
            .wait_for_slot(&store(), "test", Duration::from_secs(30))
            .await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    impl Claimed {
        fn lock_starts(&self) -> Vec<u64> {
            self.slots
                .lock()
                .unwrap()
                .iter()
                .map(|(_, _, s)| *s)
                .collect()
        }
    }
}
