//! Fault injection and rate limiting shared by every mall.
//!
//! Faults are applied by a middleware on mall routes only (never on `/_control`), so a test
//! can break the mall while still steering the sandbox. Decisions come from a seeded
//! ChaCha8 stream with a fixed number of draws per request: the same seed and the same
//! request sequence give the same faults, whatever the outcomes were.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::MethodRouter;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::AppState;

/// Fault settings (`POST /_control/faults`). Rates are probabilities in `0.0..=1.0`,
/// drawn per mall request in the order timeout, 429, 5xx (their sum is capped at 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultConfig {
    /// Share of requests answered with 500 or 503 (half each).
    pub error5xx_rate: f64,
    /// Share of requests answered with 429.
    pub rate429_rate: f64,
    /// Share of requests that sleep `timeout_ms` and then answer 503.
    pub timeout_rate: f64,
    /// Sleep before the 503 of an injected timeout.
    pub timeout_ms: u64,
    /// Extra latency added to every mall request (faulty or not).
    pub latency_ms: u64,
    /// Seed of the fault stream; `None` = the sandbox seed. Setting faults restarts the stream.
    pub seed: Option<u64>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error5xx_rate: 0.0,
            rate429_rate: 0.0,
            timeout_rate: 0.0,
            timeout_ms: 5_000,
            latency_ms: 0,
            seed: None,
        }
    }
}

impl FaultConfig {
    /// Checks that every rate is a finite probability.
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("error5xxRate", self.error5xx_rate),
            ("rate429Rate", self.rate429_rate),
            ("timeoutRate", self.timeout_rate),
        ];
        for (name, rate) in rates {
            if !rate.is_finite() || !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0.0 and 1.0"));
            }
        }
        Ok(())
    }
}

/// A fault the middleware (or the rate limiter) answers with instead of the mall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// HTTP 500.
    InternalServerError,
    /// HTTP 503.
    ServiceUnavailable,
    /// HTTP 429 (injected or from the rate limiter).
    TooManyRequests,
    /// Slept `timeoutMs`, then HTTP 503.
    Timeout,
}

impl InjectedFault {
    /// Keys of `Stats.injected`.
    pub const STAT_KEYS: [&'static str; 3] = ["5xx", "429", "timeout"];

    /// HTTP status the fault is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ServiceUnavailable | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub(crate) fn stat_key(self) -> &'static str {
        match self {
            Self::InternalServerError | Self::ServiceUnavailable => "5xx",
            Self::TooManyRequests => "429",
            Self::Timeout => "timeout",
        }
    }
}

/// Renders a fault in a mall's own error shape.
pub(crate) type FaultRenderer = fn(InjectedFault) -> Response;

struct FaultState {
    config: FaultConfig,
    rng: ChaCha8Rng,
}

/// Current fault config plus its random stream, and the replies still to be lost.
pub(crate) struct Faults {
    default_seed: u64,
    state: Mutex<FaultState>,
    /// Endpoint name → how many more applied requests lose their reply.
    lost_replies: Mutex<HashMap<String, u32>>,
}

/// What to do with one request.
struct Decision {
    latency: Duration,
    fault: Option<InjectedFault>,
    timeout: Duration,
}

impl Faults {
    pub(crate) fn new(default_seed: u64) -> Self {
        Self {
            default_seed,
            state: Mutex::new(FaultState {
                config: FaultConfig::default(),
                rng: ChaCha8Rng::seed_from_u64(default_seed),
            }),
            lost_replies: Mutex::new(HashMap::new()),
        }
    }

    /// The next `count` requests to `endpoint` that reach the mall lose their reply.
    pub(crate) async fn lose_replies(&self, endpoint: &str, count: u32) {
        let mut lost = self.lost_replies.lock().await;
        if count == 0 {
            lost.remove(endpoint);
        } else {
            lost.insert(endpoint.to_owned(), count);
        }
    }

    /// Whether this (already applied) request's reply is to be lost; counts it down.
    async fn take_lost_reply(&self, endpoint: &str) -> bool {
        let mut lost = self.lost_replies.lock().await;
        let Some(left) = lost.get_mut(endpoint) else {
            return false;
        };
        *left -= 1;
        if *left == 0 {
            lost.remove(endpoint);
        }
        true
    }

    pub(crate) async fn set(&self, config: FaultConfig) {
        let seed = config.seed.unwrap_or(self.default_seed);
        *self.state.lock().await = FaultState {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
        };
    }

    pub(crate) async fn get(&self) -> FaultConfig {
        self.state.lock().await.config.clone()
    }

    pub(crate) async fn reset(&self) {
        self.set(FaultConfig::default()).await;
        self.lost_replies.lock().await.clear();
    }

    async fn decide(&self) -> Decision {
        let mut state = self.state.lock().await;
        // Always two draws, so later decisions don't depend on earlier outcomes.
        let pick: f64 = state.rng.random();
        let coin: bool = state.rng.random();
        let c = &state.config;
        let timeout_edge = c.timeout_rate;
        let limit_edge = timeout_edge + c.rate429_rate;
        let error_edge = limit_edge + c.error5xx_rate;
        let fault = if pick < timeout_edge {
            Some(InjectedFault::Timeout)
        } else if pick < limit_edge {
            Some(InjectedFault::TooManyRequests)
        } else if pick < error_edge {
            Some(if coin {
                InjectedFault::InternalServerError
            } else {
                InjectedFault::ServiceUnavailable
            })
        } else {
            None
        };
        Decision {
            latency: Duration::from_millis(c.latency_ms),
            fault,
            timeout: Duration::from_millis(c.timeout_ms),
        }
    }
}

/// Per-key token buckets (key = store). Burst is one second worth of tokens, at least 1.
#[derive(Debug, Default)]
pub(crate) struct TokenBuckets {
    rate: Option<f64>,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl TokenBuckets {
    /// Sets the refill rate (`None` = unlimited) and refills every bucket.
    pub(crate) fn set_rate(&mut self, rate: Option<f64>) {
        self.rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        self.buckets.clear();
    }

    /// Takes one token for `key`; `false` means "answer 429".
    pub(crate) fn try_acquire(&mut self, key: &str, now: Instant) -> bool {
        let Some(rate) = self.rate else {
            return true;
        };
        let capacity = rate.max(1.0);
        let bucket = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-route state of the fault middleware: which endpoint it guards and how its mall
/// renders errors.
#[derive(Clone)]
pub(crate) struct MallEndpoint {
    pub(crate) app: Arc<AppState>,
    pub(crate) name: &'static str,
    pub(crate) render: FaultRenderer,
}

/// Puts a mall's routes behind the fault middleware, each counted under its endpoint name and
/// with faults rendered the way that mall renders errors.
pub(crate) struct FaultGuard {
    app: Arc<AppState>,
    render: FaultRenderer,
}

impl FaultGuard {
    pub(crate) fn new(app: &Arc<AppState>, render: FaultRenderer) -> Self {
        Self {
            app: app.clone(),
            render,
        }
    }

    /// `route`, guarded and counted as `name`.
    pub(crate) fn route(
        &self,
        name: &'static str,
        route: MethodRouter<Arc<AppState>>,
    ) -> MethodRouter<Arc<AppState>> {
        let endpoint = MallEndpoint {
            app: self.app.clone(),
            name,
            render: self.render,
        };
        route.route_layer(from_fn_with_state(endpoint, inject_faults))
    }
}

/// Counts the request, adds latency and maybe answers with a fault instead of the mall.
pub(crate) async fn inject_faults(
    State(endpoint): State<MallEndpoint>,
    request: Request,
    next: Next,
) -> Response {
    // Path only: the query of some endpoints carries keys.
    tracing::debug!(
        endpoint = endpoint.name,
        path = request.uri().path(),
        "mall request"
    );
    let app = &endpoint.app;
    app.stats.count_request(endpoint.name).await;
    let decision = app.faults.decide().await;
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.fault {
        None => {
            let response = next.run(request).await;
            if app.faults.take_lost_reply(endpoint.name).await {
                // The handler ran (state changed, write recorded); only the answer is lost,
                // the way a gateway timeout in front of the mall looks to a client.
                app.stats.count_lost_reply().await;
                tracing::info!(
                    endpoint = endpoint.name,
                    status = response.status().as_u16(),
                    "reply lost after the request was applied"
                );
                return lost_reply();
            }
            response
        }
        Some(fault) => {
            app.stats.count_injected(fault).await;
            tracing::info!(endpoint = endpoint.name, ?fault, "injected fault");
            if fault == InjectedFault::Timeout {
                tokio::time::sleep(decision.timeout).await;
            }
            (endpoint.render)(fault)
        }
    }
}

/// What a client sees when the reply is lost: the gateway's 504 HTML page, not JSON.
fn lost_reply() -> Response {
    use axum::response::IntoResponse;
    (
        StatusCode::GATEWAY_TIMEOUT,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/html; charset=iso-8859-1",
        )],
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>504 Gateway \
         Timeout</title>\n</head><body>\n<h1>Gateway Timeout</h1>\n<p>The gateway did not receive \
         a timely response from the upstream server.</p>\n</body></html>\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills() {
        let mut buckets = TokenBuckets::default();
        buckets.set_rate(Some(2.0));
        let t0 = Instant::now();
        assert!(buckets.try_acquire("a", t0));
        assert!(buckets.try_acquire("a", t0));
        assert!(!buckets.try_acquire("a", t0));
        assert!(buckets.try_acquire("b", t0), "buckets are per key");
        assert!(buckets.try_acquire("a", t0 + Duration::from_millis(500)));
        assert!(!buckets.try_acquire("a", t0 + Duration::from_millis(500)));
    }

    #[test]
    fn slow_rate_still_allows_one() {
        let mut buckets = TokenBuckets::default();
        buckets.set_rate(Some(0.5));
        let t0 = Instant::now();
        assert!(buckets.try_acquire("a", t0));
        assert!(!buckets.try_acquire("a", t0 + Duration::from_secs(1)));
        assert!(buckets.try_acquire("a", t0 + Duration::from_secs(2)));
    }

    #[tokio::test]
    async fn decisions_are_deterministic() {
        let config = FaultConfig {
            error5xx_rate: 0.3,
            rate429_rate: 0.2,
            timeout_rate: 0.1,
            seed: Some(7),
            ..FaultConfig::default()
        };
        let a = Faults::new(1);
        let b = Faults::new(2);
        a.set(config.clone()).await;
        b.set(config).await;
        for _ in 0..200 {
            assert_eq!(a.decide().await.fault, b.decide().await.fault);
        }
    }
}
