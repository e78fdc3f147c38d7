//! Request counters shared by every mall, exposed as `GET /_control/stats`.
//!
//! Tests use them to check that a client retried, backed off or stopped, without having to
//! instrument the client itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::faults::InjectedFault;

/// Snapshot of the counters since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Requests that reached a mall endpoint, keyed `"<mall>.<operation>"`
    /// (e.g. `"rakuten.searchOrder"`), including those answered with an injected fault.
    pub requests: BTreeMap<String, u64>,
    /// Injected faults by kind: `"5xx"`, `"429"`, `"timeout"` (always present).
    pub injected: BTreeMap<String, u64>,
    /// Requests refused by the per-store rate limiter (HTTP 429).
    pub rate_limited: u64,
    /// Requests that were applied and then answered 504 (`POST /_control/lose-replies`).
    #[serde(default)]
    pub lost_replies: u64,
}

impl Stats {
    /// Requests counted for one endpoint name (0 when never called).
    pub fn requests_for(&self, endpoint: &str) -> u64 {
        self.requests.get(endpoint).copied().unwrap_or(0)
    }

    /// Injected faults of one kind (`"5xx"`, `"429"`, `"timeout"`).
    pub fn injected_for(&self, kind: &str) -> u64 {
        self.injected.get(kind).copied().unwrap_or(0)
    }

    fn empty() -> Self {
        let injected = InjectedFault::STAT_KEYS
            .iter()
            .map(|k| ((*k).to_owned(), 0))
            .collect();
        Self {
            requests: BTreeMap::new(),
            injected,
            rate_limited: 0,
            lost_replies: 0,
        }
    }
}

/// Mutable counters behind a lock.
#[derive(Debug)]
pub(crate) struct StatsTracker {
    inner: Mutex<Stats>,
}

impl StatsTracker {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Stats::empty()),
        }
    }

    pub(crate) async fn count_request(&self, endpoint: &str) {
        let mut stats = self.inner.lock().await;
        *stats.requests.entry(endpoint.to_owned()).or_insert(0) += 1;
    }

    pub(crate) async fn count_injected(&self, fault: InjectedFault) {
        let mut stats = self.inner.lock().await;
        *stats
            .injected
            .entry(fault.stat_key().to_owned())
            .or_insert(0) += 1;
    }

    pub(crate) async fn count_rate_limited(&self) {
        self.inner.lock().await.rate_limited += 1;
    }

    pub(crate) async fn count_lost_reply(&self) {
        self.inner.lock().await.lost_replies += 1;
    }

    pub(crate) async fn snapshot(&self) -> Stats {
        self.inner.lock().await.clone()
    }

    pub(crate) async fn reset(&self) {
        *self.inner.lock().await = Stats::empty();
    }
}
