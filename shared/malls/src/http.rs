//! What every mall client shares: a per-store token bucket and bounded retries.
//!
//! Malls rarely document their rate limits (Rakuten's order API does not) and all of them
//! answer 429/5xx under load, so every request goes through [`MallHttp::send`]:
//! - it waits on the store's token bucket first (also before each retry, so retries never
//!   burst past the limit), then, in the deployed functions, for its slot of the store's
//!   rate budget shared with the shop's other functions ([`crate::rate_budget`]);
//! - transport failures (timeouts, refused connections, broken bodies) and HTTP 408/429/5xx
//!   are retried with exponential backoff and *full* jitter (a uniformly random delay in
//!   `[0, backoff]`), so many stores failing together do not retry in lock-step;
//! - the number of attempts is bounded; every other answer (2xx, 401, 400 …) goes back to the
//!   mall module, which alone knows what the mall means by it.
//!
//! Nothing here logs headers, bodies or URLs: URLs may carry credentials (Rakuten's
//! license-key expiry call has the key in its query string).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use ichigen_core::StoreRef;
use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};

use crate::connect::ClientSettings;
use crate::rate_budget::{MAX_SHARED_RATE, SharedRateBudget};

/// An answer the mall module has to interpret (anything but a transient failure).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    /// The answer's headers (Amazon reports its applied rate in `x-amzn-RateLimit-Limit`).
    pub headers: HeaderMap,
}

/// Why [`MallHttp::send`] gave up without a reply to interpret.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Every attempt failed transiently.
    #[error("gave up after {attempts} attempts; last failure: {last}")]
    Exhausted { attempts: u32, last: String },
    /// The request could not even be built (a bad base URL): retrying cannot help.
    #[error("request could not be sent: {0}")]
    Invalid(String),
}

/// One transient failure of one attempt.
#[derive(Debug)]
struct Transient {
    detail: String,
    /// The mall's `Retry-After`, if it sent one (429/503).
    retry_after: Option<Duration>,
    /// Not transient after all: stop retrying.
    fatal: bool,
}

/// Whether an HTTP status means "try again later": 408, 429 and every 5xx.
pub fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// Whether a transport error is worth retrying: everything except a request we could not
/// build (timeouts, refused or reset connections, bodies cut short).
pub fn is_retryable_transport(error: &reqwest::Error) -> bool {
    !error.is_builder()
}

/// Describes a transport error without its URL (which may carry a credential).
pub fn describe_transport(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "response body could not be read"
    } else {
        "request failed"
    };
    format!("{kind} ({})", error.without_url())
}

/// Every client paces at this share of the rate it is given, so network jitter never lands two
/// requests inside one of the mall's intervals (a 429 costs a retry and a backoff): several
/// public clients of these malls wait 1.05–2 s where the mall allows one request a second.
pub const PACE_MARGIN: f64 = 0.95;

/// The lane of a mall with one rate limit per store.
pub const STORE_LANE: &str = "store";

/// A per-store HTTP client: one connection pool, one token bucket, one retry policy.
pub struct MallHttp {
    client: reqwest::Client,
    /// Swapped whole when the mall reports another rate ([`MallHttp::set_pace`]).
    limiter: RwLock<Arc<DefaultDirectRateLimiter>>,
    /// The store-wide budget and the interval of one request in it; only for a mall rate of
    /// one request at a time (a burst is one process's bucket, see [`MallHttp::paced`]).
    shared: Option<(SharedRateBudget, Duration)>,
    /// Which of the mall's rate limits this client's requests count against (see
    /// [`MallHttp::in_lane`]).
    lane: &'static str,
    backoff: FullJitter,
}

impl MallHttp {
    pub fn new(settings: &ClientSettings) -> Result<Self, reqwest::Error> {
        Self::paced(settings, settings.requests_per_second, 1)
    }

    /// A client paced at `requests_per_second` (less [`PACE_MARGIN`]) with a burst of `burst`
    /// requests: for malls that document a token bucket with a burst (Amazon's usage plans).
    /// Such a client does not draw on the shared budget (whose slots admit one request each):
    /// today only the import calls Amazon.
    pub fn paced(
        settings: &ClientSettings,
        requests_per_second: f64,
        burst: u32,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("ichigen/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let quota = quota(requests_per_second * PACE_MARGIN);
        let shared = settings
            .rate_budget
            .clone()
            .filter(|_| burst <= 1 && requests_per_second <= MAX_SHARED_RATE)
            .map(|budget| (budget, quota.replenish_interval()));
        Ok(Self {
            client,
            limiter: RwLock::new(Arc::new(RateLimiter::direct(with_burst(quota, burst)))),
            shared,
            lane: STORE_LANE,
            backoff: FullJitter {
                min: settings.backoff_min,
                max: settings.backoff_max.max(settings.backoff_min),
                retries: settings.max_attempts.max(1) - 1,
            },
        })
    }

    /// This client's requests count against the mall's rate limit named `lane` (Yahoo limits
    /// each URL on its own) rather than the store's one limit.
    pub fn in_lane(mut self, lane: &'static str) -> Self {
        self.lane = lane;
        self
    }

    /// Replaces the token bucket with `requests_per_second` and `burst`. The new bucket
    /// starts empty: the mall's own bucket has already been drawn on, so a full one would
    /// overshoot it.
    pub fn set_pace(&self, requests_per_second: f64, burst: u32) {
        let limiter = Arc::new(RateLimiter::direct(with_burst(
            quota(requests_per_second * PACE_MARGIN),
            burst,
        )));
        if let Some(all) = NonZeroU32::new(burst) {
            let _ = limiter.check_n(all);
        }
        *self.limiter.write().unwrap_or_else(|p| p.into_inner()) = limiter;
    }

    /// The underlying client, for building requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request built by `build` (called once per attempt), retrying transient
    /// failures. Returns the first non-transient reply, whatever its status.
    pub async fn send(
        &self,
        store: &StoreRef,
        operation: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Reply, SendError> {
        let attempts = AtomicU32::new(0);
        let attempt = || async {
            let n = attempts.fetch_add(1, Ordering::Relaxed) + 1;
            let limiter = self
                .limiter
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            limiter.until_ready().await;
            if let Some((budget, interval)) = &self.shared {
                budget.wait_for_slot(store, self.lane, *interval).await;
            }
            let response = build().send().await.map_err(|error| Transient {
                fatal: !is_retryable_transport(&error),
                detail: describe_transport(error),
                retry_after: None,
            })?;
            let status = response.status();
            let retry_after = retry_after(&response);
            let headers = response.headers().clone();
            let body = response.text().await.map_err(|error| Transient {
                fatal: false,
                detail: describe_transport(error),
                retry_after: None,
            })?;
            if is_retryable_status(status) {
                tracing::warn!(%store, operation, attempt = n, status = status.as_u16(), "mall answered with a transient error");
                return Err(Transient {
                    detail: format!("HTTP {}", status.as_u16()),
                    retry_after,
                    fatal: false,
                });
            }
            Ok(Reply {
                status,
                body,
                headers,
            })
        };
        let max_delay = self.backoff.max;
        let result = attempt
            .retry(self.backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &Transient| !e.fatal)
            .adjust(move |e: &Transient, planned| {
                // Honour the mall's Retry-After, but never past our own ceiling.
                planned.map(|d| e.retry_after.map_or(d, |r| r.min(max_delay).max(d)))
            })
            .notify(|e: &Transient, delay| {
                tracing::warn!(%store, operation, failure = %e.detail, delay_ms = delay.as_millis() as u64, "retrying mall request");
            })
            .await;
        let attempts = attempts.load(Ordering::Relaxed);
        result.map_err(|e| {
            if e.fatal {
                SendError::Invalid(e.detail)
            } else {
                tracing::warn!(%store, operation, attempts, failure = %e.detail, "mall request gave up");
                SendError::Exhausted { attempts, last: e.detail }
            }
        })
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// The token bucket for `requests_per_second` (fractions allowed: 0.5 = one every 2 s).
/// The burst is one request: malls that publish a limit mean it per second, not on average.
fn quota(requests_per_second: f64) -> Quota {
    let rps = if requests_per_second.is_finite() && requests_per_second > 0.0 {
        requests_per_second
    } else {
        1.0
    };
    Duration::try_from_secs_f64(1.0 / rps)
        .ok()
        .and_then(Quota::with_period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
}

/// `quota` allowing `burst` requests at once (at least one).
fn with_burst(quota: Quota, burst: u32) -> Quota {
    quota.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

/// Exponential backoff with full jitter, built on backon's exponential schedule: each
/// planned delay `d` becomes a uniformly random delay in `[0, d]`.
#[derive(Clone, Copy, Debug)]
struct FullJitter {
    min: Duration,
    max: Duration,
    retries: u32,
}

impl BackoffBuilder for FullJitter {
    type Backoff = FullJitterBackoff;

    fn build(self) -> Self::Backoff {
        FullJitterBackoff {
            inner: ExponentialBuilder::new()
                .with_min_delay(self.min)
                .with_max_delay(self.max)
                .with_factor(2.0)
                .with_max_times(self.retries as usize)
                .build(),
        }
    }
}

#[derive(Debug)]
struct FullJitterBackoff {
    inner: ExponentialBackoff,
}

impl Iterator for FullJitterBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let ceiling = self.inner.next()?;
        Some(ceiling.mul_f64(rand::rng().random_range(0.0..=1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_exponential_ceiling() {
        let builder = FullJitter {
            min: Duration::from_millis(200),
            max: Duration::from_secs(5),
            retries: 6,
        };
        let ceilings = [200, 400, 800, 1600, 3200, 5000];
        for _ in 0..50 {
            let delays: Vec<_> = builder.build().collect();
            assert_eq!(delays.len(), 6, "one delay per retry");
            for (delay, ceiling) in delays.iter().zip(ceilings) {
                assert!(
                    *delay <= Duration::from_millis(ceiling),
                    "{delay:?} > {ceiling}ms"
                );
            }
        }
    }

    #[test]
    fn one_attempt_means_no_retry() {
        let builder = FullJitter {
            min: Duration::from_millis(1),
            max: Duration::from_millis(1),
            retries: 0,
        };
        assert_eq!(builder.build().count(), 0);
    }

    #[test]
    fn transient_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [200, 400, 401, 403, 404, 405] {
            assert!(
                !is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn odd_rates_still_make_a_bucket() {
        for rps in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-12, 0.5, 1.0, 1e9] {
            let _ = quota(rps);
        }
        assert_eq!(quota(2.0).replenish_interval(), Duration::from_millis(500));
    }
}
