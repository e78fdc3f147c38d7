//! `ichigen`: the operator's and engineer's command line.
//!
//! - `ichigen normalize --mall rakuten FILE` prints the unified orders of a raw mall response;
//! - `ichigen store put …` writes a store's settings into the shop's table; `ichigen store list`
//!   shows each store with its last run;
//! - `ichigen failed list` shows the orders that could not be imported (the quarantine);
//! - `ichigen orders list [--hold]`, `ichigen orders show ID` and `ichigen hold clear ID --by
//!   --reason` do at a terminal what the shop API does (the same core functions);
//! - `ichigen writes failed` lists the mall writes the mall refused for good and `ichigen
//!   writes retry ID --by` queues one again for the mall-writer (as the shop API does);
//! - `ichigen demo …` drives the local end-to-end run (see `scripts/local-run.sh`).

mod demo;
mod normalize;
mod orders;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ichigen_core::{JstInstant, MallId, StoreRef};

#[derive(Parser)]
#[command(
    name = "ichigen",
    version,
    about = "ichigen: one order book for every mall"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the unified orders of raw mall responses (Rakuten: a getOrder response; Amazon:
    /// a getOrder answer and its getOrderItems answer, read together).
    Normalize {
        #[arg(long)]
        mall: MallId,
        /// The store the orders belong to (only used to build order ids).
        #[arg(long, default_value = "rakuten:local")]
        store: StoreRef,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Manage the shop's stores.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Orders a mall listed that could not be imported (the quarantine).
    Failed {
        #[command(subcommand)]
        command: FailedCommand,
    },
    /// List and show orders.
    Orders {
        #[command(subcommand)]
        command: orders::OrdersCommand,
    },
    /// Clear holds.
    Hold {
        #[command(subcommand)]
        command: orders::HoldCommand,
    },
    /// Writes to the mall the mall refused for good: list them, retry one.
    Writes {
        #[command(subcommand)]
        command: orders::WritesCommand,
    },
    /// The local end-to-end demo (run by scripts/local-run.sh).
    Demo(demo::DemoArgs),
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Add or replace a store's settings.
    Put {
        /// The shop's table (the stack's `OrdersTableName` output).
        #[arg(long, env = "ICHIGEN_TABLE")]
        table: String,
        #[arg(long)]
        store: StoreRef,
        /// The Secrets Manager secret holding the store's mall credential.
        #[arg(long)]
        secret_id: String,
        /// Nothing ordered before this instant is imported (RFC 3339).
        #[arg(long)]
        sync_start: Option<JstInstant>,
        /// First run: how far back to look, in minutes.
        #[arg(long, default_value_t = 24 * 60)]
        first_run_lookback_minutes: i64,
        /// Each run re-reads this many minutes before the checkpoint (never less than the
        /// mall's search lag; already-stored orders are skipped cheaply).
        #[arg(long, default_value_t = 30)]
        overlap_minutes: i64,
        /// This store's orders can take this long to show in the mall's search (default: the
        /// mall's own figure).
        #[arg(long)]
        search_lag_minutes: Option<i64>,
        #[arg(long)]
        disabled: bool,
    },
    /// List the shop's stores.
    List {
        #[arg(long, env = "ICHIGEN_TABLE")]
        table: String,
    },
}

#[derive(Subcommand)]
enum FailedCommand {
    /// List the failed imports of every store (or one), oldest first.
    List {
        #[arg(long, env = "ICHIGEN_TABLE")]
        table: String,
        #[arg(long)]
        store: Option<StoreRef>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ICHIGEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Normalize { mall, store, files } => normalize::run(mall, &store, &files),
        Command::Store { command } => store_command(command).await,
        Command::Failed { command } => failed_command(command).await,
        Command::Orders { command } => orders::orders_command(command).await,
        Command::Hold { command } => orders::hold_command(command).await,
        Command::Writes { command } => orders::writes_command(command).await,
        Command::Demo(args) => demo::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ichigen: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn store_command(command: StoreCommand) -> anyhow::Result<ExitCode> {
    use ichigen_core::ports::StoreConfigs;
    use ichigen_core::{ImportSettings, StoreConfig};

    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    match command {
        StoreCommand::Put {
            table,
            store,
            secret_id,
            sync_start,
            first_run_lookback_minutes,
            overlap_minutes,
            search_lag_minutes,
            disabled,
        } => {
            let configs = ichigen_aws::ShopTable::new(aws_sdk_dynamodb::Client::new(&sdk), table);
            let config = StoreConfig {
                store,
                secret_id,
                import: ImportSettings {
                    sync_start_at: sync_start,
                    first_run_lookback: jiff::SignedDuration::from_mins(first_run_lookback_minutes),
                    overlap: jiff::SignedDuration::from_mins(overlap_minutes),
                    search_lag: search_lag_minutes.map(jiff::SignedDuration::from_mins),
                },
                enabled: !disabled,
            };
            configs.put_store_config(&config).await?;
            println!("{}", serde_json::to_string_pretty(&config)?);
        }
        StoreCommand::List { table } => {
            use ichigen_core::ports::StoreStatusStore;
            let configs = ichigen_aws::ShopTable::new(aws_sdk_dynamodb::Client::new(&sdk), table);
            for config in configs.list_store_configs().await? {
                let status = configs.load_store_status(&config.store).await?;
                println!(
                    "{}",
                    serde_json::json!({"config": config, "last_run": status})
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn failed_command(command: FailedCommand) -> anyhow::Result<ExitCode> {
    use ichigen_core::ports::{FailedImportStore, StoreConfigs};
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    match command {
        FailedCommand::List { table, store } => {
            let shop = ichigen_aws::ShopTable::new(aws_sdk_dynamodb::Client::new(&sdk), table);
            let stores = match store {
                Some(store) => vec![store],
                None => shop
                    .list_store_configs()
                    .await?
                    .into_iter()
                    .map(|c| c.store)
                    .collect(),
            };
            let mut total = 0;
            for store in stores {
                for failed in shop.failed_imports(&store).await? {
                    total += 1;
                    let next = failed.next_attempt_at.map_or_else(
                        || "waits for a person (ask for it with an `orders` request)".to_owned(),
                        |at| format!("next automatic retry {at}"),
                    );
                    println!(
                        "{store} order {}: {} failed {} time(s), first {} last {}; {next}\n  {}",
                        failed.mall_order_id,
                        failed.step.as_str(),
                        failed.attempts,
                        failed.first_seen,
                        failed.last_seen,
                        failed.error,
                    );
                }
            }
            println!("{total} failed import(s)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
