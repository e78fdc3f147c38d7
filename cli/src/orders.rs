//! The operator's order verbs at a terminal: `ichigen orders list`, `ichigen orders show`,
//! `ichigen hold clear`, `ichigen writes failed`, `ichigen writes retry`. They call the same core functions as the shop API
//! ([`ichigen_core::operator`]) on the shop's table.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use ichigen_aws::ShopTable;
use ichigen_core::operator::writes::{self, RetryWrite};
use ichigen_core::operator::{
    self, ClearHold, OrderCursor, OrderDesk, OrderFilter, OrderSummary, order_view,
};
use ichigen_core::ports::SystemClock;
use ichigen_core::{HoldKind, MallId, OrderId, OrderStatus, StoreRef};

#[derive(Args)]
pub struct TableArg {
    /// The shop's table (the stack's `OrdersTableName` output).
    #[arg(long, env = "ICHIGEN_TABLE")]
    table: String,
}

/// Where a listed page starts and how long it is (`orders list`, `writes failed`).
#[derive(Args)]
pub struct PageArgs {
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Continue after the page that printed this cursor.
    #[arg(long)]
    cursor: Option<String>,
}

impl PageArgs {
    fn cursor(&self) -> anyhow::Result<Option<OrderCursor>> {
        Ok(self
            .cursor
            .as_deref()
            .map(OrderCursor::decode)
            .transpose()?)
    }
}

#[derive(Subcommand)]
pub enum OrdersCommand {
    /// List orders in time order, one page at a time (no personal data).
    List {
        #[command(flatten)]
        table: TableArg,
        /// Only orders with holds.
        #[arg(long)]
        hold: bool,
        /// Only orders with a hold of this kind (`unmapped_sku`, `cancel_requested` …).
        #[arg(long, value_parser = parse_json_name::<HoldKind>)]
        hold_kind: Option<HoldKind>,
        /// `imported`, `awaiting_payment`, `ready_to_ship`, `shipped`, `completed`, `on_hold`, `cancelled`.
        #[arg(long, value_parser = parse_json_name::<OrderStatus>)]
        status: Option<OrderStatus>,
        #[arg(long)]
        mall: Option<MallId>,
        #[arg(long)]
        store: Option<StoreRef>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One order: lines, holds, ship-to, mall sync state, history.
    Show {
        #[command(flatten)]
        table: TableArg,
        id: OrderId,
    },
}

#[derive(Subcommand)]
pub enum HoldCommand {
    /// Clear an order's holds (one kind, or all), recorded in its history.
    Clear {
        #[command(flatten)]
        table: TableArg,
        id: OrderId,
        /// Who clears it.
        #[arg(long)]
        by: String,
        /// Why the order may go on.
        #[arg(long)]
        reason: String,
        /// Only holds of this kind.
        #[arg(long, value_parser = parse_json_name::<HoldKind>)]
        kind: Option<HoldKind>,
    },
}

#[derive(Subcommand)]
pub enum WritesCommand {
    /// Writes to the mall (e.g. Rakuten confirmOrder) the mall refused for good, oldest
    /// first, with the mall's message.
    Failed {
        #[command(flatten)]
        table: TableArg,
        #[arg(long)]
        store: Option<StoreRef>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Send a refused write again: it is owed once more and queued for the mall-writer.
    /// Recorded in the order's history.
    Retry {
        #[command(flatten)]
        table: TableArg,
        /// The mall-writer's queue.
        #[arg(long, env = "ICHIGEN_WRITE_QUEUE_URL")]
        write_queue_url: String,
        id: OrderId,
        /// Who asks.
        #[arg(long)]
        by: String,
    },
    /// Plays the mall-write queue's Lambda event source where there is none (a local run):
    /// hands the queued writes to the mall-writer function, ten per invocation, until the
    /// queue has nothing visible, and deletes what the function did not give back.
    Deliver {
        /// The mall-writer's queue.
        #[arg(long, env = "ICHIGEN_WRITE_QUEUE_URL")]
        write_queue_url: String,
        /// The function's invoke URL, e.g. `cargo lambda watch`'s
        /// `http://127.0.0.1:9000/2015-03-31/functions/mall-writer/invocations`.
        #[arg(long)]
        function_url: String,
    },
}

/// Reads a snake_case name the way the API does (`ready_to_ship`).
fn parse_json_name<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| e.to_string())
}

async fn shop_table(table: TableArg) -> ShopTable {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    ShopTable::new(aws_sdk_dynamodb::Client::new(&sdk), table.table)
}

pub async fn orders_command(command: OrdersCommand) -> anyhow::Result<ExitCode> {
    match command {
        OrdersCommand::List {
            table,
            hold,
            hold_kind,
            status,
            mall,
            store,
            page: paging,
        } => {
            let shop = shop_table(table).await;
            let cursor = paging.cursor()?;
            let filter = OrderFilter {
                store,
                mall,
                status,
                held: hold,
                hold_kind,
                from: None,
                to: None,
            };
            let page =
                operator::list_orders(&shop, &shop, &filter, cursor.as_ref(), paging.limit).await?;
            for order in &page.orders {
                let summary = OrderSummary::of(order);
                let holds: Vec<String> = summary.holds.iter().map(|h| h.to_string()).collect();
                println!(
                    "{}  {}  {}  v{}{}",
                    summary.ordered_at,
                    summary.id,
                    summary.status,
                    summary.version,
                    if holds.is_empty() {
                        String::new()
                    } else {
                        format!("\n    held: {}", holds.join("\n          "))
                    }
                );
            }
            match page.next {
                Some(next) => println!("more: --cursor {}", next.encode()),
                None => println!("{} order(s), end of list", page.orders.len()),
            }
        }
        OrdersCommand::Show { table, id } => {
            let shop = shop_table(table).await;
            let desk = OrderDesk {
                orders: &shop,
                clock: &SystemClock,
            };
            let order = operator::get_order(desk, &id).await?;
            println!("{}", serde_json::to_string_pretty(&order_view(&order))?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn hold_command(command: HoldCommand) -> anyhow::Result<ExitCode> {
    match command {
        HoldCommand::Clear {
            table,
            id,
            by,
            reason,
            kind,
        } => {
            let shop = shop_table(table).await;
            let desk = OrderDesk {
                orders: &shop,
                clock: &SystemClock,
            };
            let request = ClearHold {
                by,
                reason,
                kind,
                version: None,
            };
            let order = operator::clear_hold(desk, &id, &request).await?;
            println!(
                "{}: {} hold(s) left, status {}, version {}",
                order.id,
                order.holds.len(),
                order.status,
                order.version
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn writes_command(command: WritesCommand) -> anyhow::Result<ExitCode> {
    match command {
        WritesCommand::Deliver {
            write_queue_url,
            function_url,
        } => {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let source = ichigen_aws::event_source::EventSource::from_sdk(&sdk, write_queue_url);
            let http = reqwest::Client::new();
            let (mut batches, mut writes, mut given_back) = (0, 0, 0);
            while let Some(delivered) = source
                .deliver(|event| invoke_writer(&http, &function_url, event))
                .await?
            {
                batches += 1;
                writes += delivered.received;
                given_back += delivered.failed.len();
            }
            println!(
                "  mall-writer: {writes} write(s) in {batches} invocation(s); {given_back} given back to the queue (retried after its visibility timeout)"
            );
        }
        WritesCommand::Failed {
            table,
            store,
            page: paging,
        } => {
            let shop = shop_table(table).await;
            let cursor = paging.cursor()?;
            let page =
                writes::failed_writes(&shop, &shop, store.as_ref(), cursor.as_ref(), paging.limit)
                    .await?;
            for write in &page.writes {
                println!(
                    "{}  {}  {} refused after {} attempt(s): {}",
                    write.since,
                    write.order_id,
                    write.operation.as_deref().unwrap_or("write"),
                    write.attempts,
                    write.message
                );
            }
            match page.next {
                Some(next) => println!("more: --cursor {}", next.encode()),
                None => println!("{} failed write(s), end of list", page.writes.len()),
            }
        }
        WritesCommand::Retry {
            table,
            write_queue_url,
            id,
            by,
        } => {
            let shop = shop_table(table).await;
            let desk = OrderDesk {
                orders: &shop,
                clock: &SystemClock,
            };
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let queue = ichigen_aws::MallWriteSqs::from_sdk(&sdk, write_queue_url);
            let order = writes::retry_failed_write(desk, &queue, &id, &RetryWrite { by }).await?;
            println!(
                "{}: mall write {}, queued for the mall-writer (version {})",
                order.id,
                order.mall_sync.state.as_str(),
                order.version
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Invokes the mall-writer with one batch. A failed invocation gives every message back, as
/// Lambda's event source does.
async fn invoke_writer(
    http: &reqwest::Client,
    url: &str,
    event: aws_lambda_events::sqs::SqsEvent,
) -> aws_lambda_events::sqs::SqsBatchResponse {
    use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
    let all_failed = |event: &aws_lambda_events::sqs::SqsEvent| SqsBatchResponse {
        batch_item_failures: event
            .records
            .iter()
            .map(|m| BatchItemFailure {
                item_identifier: m.message_id.clone().unwrap_or_default(),
            })
            .collect(),
    };
    let answer = match http.post(url).json(&event).send().await {
        Ok(answer) => answer,
        Err(e) => {
            eprintln!("  mall-writer invocation failed: {e}");
            return all_failed(&event);
        }
    };
    match answer.json::<SqsBatchResponse>().await {
        Ok(response) => response,
        Err(e) => {
            eprintln!("  mall-writer answered something other than a batch response: {e}");
            all_failed(&event)
        }
    }
}
