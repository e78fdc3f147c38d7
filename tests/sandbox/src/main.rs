//! `ichigen-sandbox` binary: serves the mall sandbox until SIGINT/SIGTERM.
//!
//! Prints exactly one line, `ichigen-sandbox listening on http://127.0.0.1:<port>`, to stdout
//! once bound (scripts wait for it); logs go to stderr (`RUST_LOG`, default `info`).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use ichigen_sandbox::{Sandbox, SandboxConfig};
use tracing_subscriber::EnvFilter;

/// Local mall sandbox (Rakuten RMS and Yahoo! Shopping wire formats, control API under /_control/).
#[derive(Debug, Parser)]
#[command(name = "ichigen-sandbox", version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Default seed for generated orders and injected faults.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let sandbox = match Sandbox::spawn(SandboxConfig {
        port: args.port,
        seed: args.seed,
    })
    .await
    {
        Ok(sandbox) => sandbox,
        Err(error) => {
            tracing::error!(%error, "cannot start the sandbox");
            return ExitCode::FAILURE;
        }
    };

    {
        let mut stdout = std::io::stdout().lock();
        let printed = writeln!(
            stdout,
            "ichigen-sandbox listening on {}",
            sandbox.base_url()
        )
        .and_then(|()| stdout.flush());
        if let Err(error) = printed {
            tracing::error!(%error, "cannot write the listen line");
            return ExitCode::FAILURE;
        }
    }

    wait_for_signal().await;
    tracing::info!("shutting down");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "no SIGTERM handler; waiting for SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
