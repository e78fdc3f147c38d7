//! ichigen mall sandbox: one local HTTP server that speaks each mall's real wire format,
//! keeps its state in memory, injects faults on demand and is steered through a JSON
//! control API under `/_control/`.
//!
//! The project's mall clients are tested against it over real HTTP, and the local demo runs
//! it as a process (`ichigen-sandbox --port 8080`). Each mall lives in its own module and
//! mounts its routes on the same server; fault injection, rate limiting and request stats
//! are shared (see [`faults`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ichigen_sandbox::SandboxError> {
//! use ichigen_sandbox::{Sandbox, SandboxConfig, control::RegisterStoreRequest};
//! let sandbox = Sandbox::spawn(SandboxConfig::default()).await?;
//! let control = sandbox.control();
//! control
//!     .rakuten_register_store(&RegisterStoreRequest::new("998877", "SP998877_secret", "SL998877_key"))
//!     .await?;
//! // point the Rakuten client at sandbox.base_url() ...
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

// The generator's OrderModel literal is a deep `json!` macro.
#![recursion_limit = "256"]

pub mod amazon;
pub mod aupay;
pub mod control;
mod control_api;
pub mod faults;
pub mod qoo10;
pub mod rakuten;
pub mod stats;
pub mod time;
pub mod xml;
pub mod yahoo;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use control::ControlClient;
pub use faults::FaultConfig;
pub use stats::Stats;

/// How to start a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 = any free port (read it back with [`Sandbox::base_url`]).
    pub port: u16,
    /// Default seed for the order generator and the fault stream.
    pub seed: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self { port: 0, seed: 42 }
    }
}

/// Errors of the sandbox library and its control client.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listening socket could not be bound.
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// Other socket I/O failure.
    #[error("sandbox I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The control request did not get an HTTP answer (or its body was not the expected JSON).
    #[error("control request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The control API answered with a non-success status.
    #[error("control API returned HTTP {status}: {body}")]
    Control { status: u16, body: String },
    /// A URL could not be built from the base URL and path.
    #[error("invalid sandbox URL: {0}")]
    Url(String),
}

/// State shared by every route.
pub(crate) struct AppState {
    /// Sandbox-wide default seed (generator and faults).
    pub(crate) seed: u64,
    pub(crate) faults: faults::Faults,
    pub(crate) stats: stats::StatsTracker,
    pub(crate) rakuten: rakuten::RakutenState,
    pub(crate) yahoo: yahoo::YahooState,
    pub(crate) aupay: aupay::AupayState,
    pub(crate) qoo10: qoo10::Qoo10State,
    pub(crate) amazon: amazon::AmazonState,
}

impl AppState {
    fn new(seed: u64) -> Self {
        Self {
            seed,
            faults: faults::Faults::new(seed),
            stats: stats::StatsTracker::new(),
            rakuten: rakuten::RakutenState::new(),
            yahoo: yahoo::YahooState::new(),
            aupay: aupay::AupayState::new(),
            qoo10: qoo10::Qoo10State::new(),
            amazon: amazon::AmazonState::new(),
        }
    }

    /// Forgets everything: stores, orders, writes, stats, faults and limits.
    pub(crate) async fn reset(&self) {
        self.faults.reset().await;
        self.stats.reset().await;
        self.rakuten.reset().await;
        self.yahoo.reset().await;
        self.aupay.reset().await;
        self.qoo10.reset().await;
        self.amazon.reset().await;
    }
}

/// Builds the full router: control API plus every mall.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(control_api::router(state.clone()))
        .merge(rakuten::router(state.clone()))
        .merge(yahoo::router(state.clone()))
        .merge(aupay::router(state.clone()))
        .merge(qoo10::router(state.clone()))
        .merge(amazon::router(state))
}

/// A running sandbox server. Dropping it stops the server too (without waiting).
pub struct Sandbox {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds 127.0.0.1:`config.port` and serves in a background task of the current runtime.
    pub async fn spawn(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|source| SandboxError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr()?;
        let app = router(Arc::new(AppState::new(config.seed)));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                // Either an explicit stop or the handle being dropped ends the server.
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "sandbox server failed");
            }
        });
        tracing::info!(%addr, seed = config.seed, "sandbox started");
        Ok(Sandbox {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Typed client for the control API of this sandbox.
    pub fn control(&self) -> ControlClient {
        ControlClient::new(self.base_url())
    }

    /// Stops accepting connections and waits until in-flight requests are answered.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(%error, "sandbox task ended abnormally");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
