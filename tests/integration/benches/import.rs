//! Import benchmark: 10,000 sandbox orders through the import-orders function's code, then the
//! mall-writer's (the acknowledgements the import queued, delivered from the real queue right
//! after, as deployed), with the sandbox's rate limit off and on, side by side in one run.
//! Prints figures; asserts nothing about time. The writer polls the queue while the import
//! runs (as the deployed event source does): `seconds` is until both are done, `write s` the
//! time the writer spent on batches.
//!
//! ```text
//! scripts/bench.sh                       # starts the emulator, then runs this bench
//! BENCH_ORDERS=2000 scripts/bench.sh     # a smaller run
//! ```
//! Figures per mode: orders/s, mall API calls per order (counted by the sandbox), DynamoDB
//! requests per order (counted by an SDK interceptor in the function process), and the peak
//! RSS of the function process. The function runs in a child process (this binary with
//! `--function`) so its RSS is its own, not the sandbox's.
//!
//! "Rate limit on" is the sandbox enforcing 1 request/s per store on the order API — the pace
//! Rakuten integrations keep (rakuten.md §7: no documented limit; clients ~1 req/s) — with the
//! client paced to match (`ICHIGEN_MALL_RPS=1`).
//!
//! Then Yahoo, always at its real pace (1 query/s per URL; `BENCH_YAHOO_ORDERS`, default 100),
//! with its ratio to the 1 order/s floor and the daily quota used per 1,000 orders.
//!
//! Then au PAY (`BENCH_AUPAY_ORDERS`, default 100) with the sandbox enforcing 1 request/s per
//! store — the pace production clients keep (aupay.md §7: no documented limit) — and the client
//! paced just under it (0.95/s): the list carries full orders (500 a page), so each order
//! costs one status write, and the floor is 1 order/s.
//!
//! Then Qoo10 (`BENCH_QOO10_CARTS`, default 100 plain carts, one carrier each): Qoo10
//! publishes no limit, so the client keeps the pace real importers keep (one call per 300 ms,
//! qoo10.md §11) and the sandbox enforces the same. The list carries every payload, so the
//! calls are the list (a few per window) plus one `SetSellerCheckYN_V2` per line: the floor is
//! 3.33 calls/s ÷ lines per order.
//!
//! Then Amazon (`BENCH_AMAZON_ORDERS`, default 60 plain Unshipped orders) at Amazon's real
//! usage plans (amazon.md §7), which the client paces itself: each order costs one `getOrder`
//! and one `getOrderItems`, each 0.5/s with a burst of 30, so after the burst the floor is
//! 0.5 orders/s; the figure compares the orders past the burst with it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ichigen_aws::ShopResources;
use ichigen_aws::ShopTable;
use ichigen_core::StoreRef;
use ichigen_core::import::{ImportCommand, ImportRequest};
use ichigen_integration::bench::{
    QOO10_CALLS_PER_SECOND, register_amazon, register_aupay, register_qoo10, register_rakuten,
    register_yahoo, shop_with_store,
};
use ichigen_integration::{DynamoDbMeter, Writer, ago, emulator_sdk, hours, minutes, rakuten_time};
use ichigen_malls::{ClientSettings, MallEndpoints};
use ichigen_sandbox::control::{GenerateOptions, RakutenLimits};
use ichigen_sandbox::{Sandbox, SandboxConfig};
use import_orders::{App, Invocation, Outcome};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct FunctionFigures {
    created: usize,
    /// Until the import and its mall writes are both done.
    seconds: f64,
    /// Time the mall-writer spent on batches (it runs beside the import).
    #[serde(default)]
    write_seconds: f64,
    dynamodb_requests: u64,
    peak_rss_kib: u64,
    /// Filled in by the orchestrator from the table after the run.
    #[serde(default)]
    item_size_p50: usize,
    #[serde(default)]
    item_size_max: usize,
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if std::env::args().any(|a| a == "--function") {
        let figures = runtime.block_on(function_process())?;
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(());
    }
    runtime.block_on(orchestrate())
}

async fn orchestrate() -> anyhow::Result<()> {
    let orders: usize = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rate: f64 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    println!(
        "import benchmark: {orders} Rakuten sandbox orders; rate limit on = {rate} request/s per store\n"
    );
    println!(
        "{:<16} {:>9} {:>10} {:>8} {:>9} {:>14} {:>16} {:>14} {:>13} {:>13}",
        "mode",
        "orders",
        "seconds",
        "write s",
        "orders/s",
        "mall calls/ord",
        "dynamodb req/ord",
        "peak RSS MiB",
        "item B p50",
        "item B max"
    );
    let row = |mode: &str, figures: &FunctionFigures, mall_calls: u64| {
        println!(
            "{:<16} {:>9} {:>10.1} {:>8.1} {:>9.2} {:>14.3} {:>16.3} {:>14.1} {:>13} {:>13}",
            mode,
            figures.created,
            figures.seconds,
            figures.write_seconds,
            figures.created as f64 / figures.seconds,
            mall_calls as f64 / figures.created as f64,
            figures.dynamodb_requests as f64 / figures.created as f64,
            figures.peak_rss_kib as f64 / 1024.0,
            figures.item_size_p50,
            figures.item_size_max,
        );
    };
    // BENCH_ORDERS=0 leaves the Rakuten rows out (the other malls only).
    for (mode, limit) in [("rate limit off", None), ("rate limit on", Some(rate))] {
        if orders == 0 {
            break;
        }
        let (figures, mall_calls) = run_mode(orders, limit).await?;
        row(mode, &figures, mall_calls);
    }
    let yahoo_orders: usize = std::env::var("BENCH_YAHOO_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (yahoo, yahoo_calls) = run_yahoo(yahoo_orders).await?;
    row("yahoo 1 q/s/URL", &yahoo, yahoo_calls);
    // Yahoo's floor: one orderInfo and one orderStatusChange per order, each URL at 1 query/s,
    // so at best 1 order/s; its daily quota is 50,000 calls per application id.
    let per_second = yahoo.created as f64 / yahoo.seconds;
    println!(
        "\nyahoo: {per_second:.2} orders/s = {:.2}× the 1 order/s floor; {:.0} quota calls per 1,000 orders ({:.1} % of the daily 50,000)",
        per_second / 1.0,
        yahoo_calls as f64 * 1000.0 / yahoo.created as f64,
        yahoo_calls as f64 * 1000.0 / yahoo.created as f64 / 500.0,
    );
    let aupay_orders: usize = std::env::var("BENCH_AUPAY_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (aupay, aupay_calls) = run_aupay(aupay_orders).await?;
    row("aupay 1 req/s", &aupay, aupay_calls);
    let per_second = aupay.created as f64 / aupay.seconds;
    println!(
        "aupay: {per_second:.2} orders/s = {:.2}× the 1 order/s floor ({:.3} calls per order; the floor needs 1 + 1/500)",
        per_second / 1.0,
        aupay_calls as f64 / aupay.created as f64,
    );
    let qoo10_carts: usize = std::env::var("BENCH_QOO10_CARTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (qoo10, qoo10_calls, lines) = run_qoo10(qoo10_carts).await?;
    row("qoo10 1 call/300ms", &qoo10, qoo10_calls);
    let per_second = qoo10.created as f64 / qoo10.seconds;
    let lines_per_order = lines as f64 / qoo10.created as f64;
    let floor = QOO10_CALLS_PER_SECOND / lines_per_order;
    println!(
        "\nqoo10: {per_second:.2} orders/s = {:.2}× the {floor:.2} orders/s floor ({QOO10_CALLS_PER_SECOND:.2} calls/s ÷ {lines_per_order:.2} lines per order, one confirmation per line)",
        per_second / floor,
    );
    let amazon_orders: usize = std::env::var("BENCH_AMAZON_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let (amazon, amazon_calls) = run_amazon(amazon_orders).await?;
    row("amazon usage plans", &amazon, amazon_calls);
    let per_second = amazon.created as f64 / amazon.seconds;
    let past_burst = amazon.created.saturating_sub(AMAZON_BURST) as f64 / amazon.seconds;
    println!(
        "\namazon: {per_second:.2} orders/s overall; {past_burst:.2} orders/s past the burst of {AMAZON_BURST} = {:.2}× the 0.5 orders/s getOrderItems floor ({:.2} calls per order: getOrder + getOrderItems + the list and restricted-data tokens)",
        past_burst / 0.5,
        amazon_calls as f64 / amazon.created as f64,
    );
    Ok(())
}

/// getOrder's and getOrderItems' burst (amazon.md §7): the first 30 orders cost no wait.
const AMAZON_BURST: usize = 30;

/// Amazon at its documented usage plans (the sandbox enforces them, the client paces to
/// them): plain Unshipped orders, each fetched with its items under a restricted-data token.
async fn run_amazon(orders: usize) -> anyhow::Result<(FunctionFigures, u64)> {
    use ichigen_sandbox::control::{AmazonGenerateOptions, AmazonOrderKind};
    let sdk = emulator_sdk().await;
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 45 }).await?;
    let control = sandbox.control();
    let amazon = register_amazon(&control, "store-amz").await?;
    let store = amazon.store;
    let table = shop_with_store(&sdk, &store, &amazon.secret).await?;
    control
        .amazon_generate_orders(
            &amazon.mall_id,
            &AmazonGenerateOptions {
                count: u32::try_from(orders)?,
                seed: Some(2026),
                kinds: vec![AmazonOrderKind::Standard],
                spread_minutes: 2 * 24 * 60,
                ..AmazonGenerateOptions::default()
            },
        )
        .await?;
    // The client paces Amazon from its own table of usage plans; the shared setting is unused.
    let figures = run_function(&sdk, &table, &sandbox, &store, 1.0, orders).await?;
    let mall_calls = control.stats().await?.requests.values().sum::<u64>();
    sandbox.shutdown().await;
    Ok((figures, mall_calls))
}

/// Qoo10 at the pace real importers keep: plain new carts, every line confirmed. Figures, the
/// mall calls counted and the lines imported.
async fn run_qoo10(carts: usize) -> anyhow::Result<(FunctionFigures, u64, usize)> {
    use ichigen_sandbox::control::{Qoo10GenerateOptions, Qoo10Limits, Qoo10OrderKind};
    let sdk = emulator_sdk().await;
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 44 }).await?;
    let control = sandbox.control();
    let qoo10 = register_qoo10(&control, "store-q").await?;
    let seller = qoo10.mall_id.as_str();
    let store = qoo10.store.clone();
    let table = shop_with_store(&sdk, &store, &qoo10.secret).await?;
    control
        .qoo10_generate_orders(
            seller,
            &Qoo10GenerateOptions {
                count: Some(carts),
                kinds: vec![Qoo10OrderKind::Plain],
                seed: Some(2026),
                spread_secs: Some(2 * 86_400),
            },
        )
        .await?;
    let lines = control.qoo10_lines(seller).await?.len();
    control
        .qoo10_set_limits(&Qoo10Limits {
            requests_per_second: Some(QOO10_CALLS_PER_SECOND),
            ..Qoo10Limits::default()
        })
        .await?;
    let figures = run_function(
        &sdk,
        &table,
        &sandbox,
        &store,
        QOO10_CALLS_PER_SECOND,
        carts,
    )
    .await?;
    let mall_calls = control.stats().await?.requests.values().sum::<u64>();
    sandbox.shutdown().await;
    Ok((figures, mall_calls, lines))
}

/// Runs the function process once for `store` against the sandbox, checks it imported every
/// order, and adds the stored item sizes.
async fn run_function(
    sdk: &aws_config::SdkConfig,
    table: &str,
    sandbox: &Sandbox,
    store: &StoreRef,
    requests_per_second: f64,
    orders: usize,
) -> anyhow::Result<FunctionFigures> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--function")
        .env("ICHIGEN_TABLE", table)
        .env("ICHIGEN_BENCH_STORE", store.to_string())
        .env("ICHIGEN_RAKUTEN_BASE_URL", sandbox.base_url())
        .env("ICHIGEN_YAHOO_BASE_URL", sandbox.base_url())
        .env("ICHIGEN_AUPAY_BASE_URL", sandbox.base_url())
        .env("ICHIGEN_QOO10_BASE_URL", sandbox.base_url())
        .env("ICHIGEN_AMAZON_BASE_URL", sandbox.base_url())
        .env("ICHIGEN_MALL_RPS", requests_per_second.to_string())
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(output.status.success(), "the function process failed");
    // The function also prints its embedded-metrics lines on stdout: the figures are the last line.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let mut figures: FunctionFigures = serde_json::from_str(last)?;
    anyhow::ensure!(
        figures.created == orders,
        "{store}: imported {} of {orders} orders",
        figures.created
    );
    let sizes = order_item_sizes(sdk, table).await?;
    figures.item_size_p50 = sizes.get(sizes.len() / 2).copied().unwrap_or(0);
    figures.item_size_max = sizes.last().copied().unwrap_or(0);
    Ok(figures)
}

/// Rakuten: a fresh shop and sandbox, the function process once; its figures and the mall
/// calls the sandbox counted.
async fn run_mode(orders: usize, rate: Option<f64>) -> anyhow::Result<(FunctionFigures, u64)> {
    let sdk = emulator_sdk().await;
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 42 }).await?;
    let control = sandbox.control();
    let rakuten = register_rakuten(&control, "store-a").await?;
    let store = rakuten.store;
    let table = shop_with_store(&sdk, &store, &rakuten.secret).await?;

    let mut generate = GenerateOptions::spread(
        orders,
        rakuten_time(ago(hours(24 * 30))),
        rakuten_time(ago(minutes(1))),
    );
    generate.seed = Some(2026);
    control
        .rakuten_generate_orders(&rakuten.mall_id, &generate)
        .await?;
    let limits = RakutenLimits {
        requests_per_second: rate,
        ..control.rakuten_limits().await?
    };
    control.rakuten_set_limits(&limits).await?;

    let figures = run_function(
        &sdk,
        &table,
        &sandbox,
        &store,
        rate.unwrap_or(1000.0),
        orders,
    )
    .await?;
    let mall_calls = control.stats().await?.requests.values().sum::<u64>();
    sandbox.shutdown().await;
    Ok((figures, mall_calls))
}

/// Yahoo at its real pace: the sandbox enforces 1 query/s per URL (orderList, orderInfo and
/// orderStatusChange each), the client paces to it. Figures and the mall calls counted.
async fn run_yahoo(orders: usize) -> anyhow::Result<(FunctionFigures, u64)> {
    use ichigen_sandbox::control::{YahooGenerateOptions, YahooOrderKind};
    let sdk = emulator_sdk().await;
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 43 }).await?;
    let control = sandbox.control();
    let yahoo = register_yahoo(&control, "store-y").await?;
    let seller = yahoo.mall_id.as_str();
    let store = yahoo.store.clone();
    let table = shop_with_store(&sdk, &store, &yahoo.secret).await?;
    // Plain new orders, so every order is fetched and acknowledged (the floor's assumption).
    control
        .yahoo_generate_orders(
            seller,
            &YahooGenerateOptions {
                count: Some(orders),
                days: Some(2),
                kinds: Some(vec![YahooOrderKind::Plain]),
                seed: Some(2026),
                ..Default::default()
            },
        )
        .await?;
    let figures = run_function(&sdk, &table, &sandbox, &store, 1.0, orders).await?;
    let mall_calls = control.stats().await?.requests.values().sum::<u64>();
    sandbox.shutdown().await;
    Ok((figures, mall_calls))
}

/// au PAY with the sandbox enforcing 1 request/s per store and the client paced just under it.
/// New card orders only, so every order is acknowledged (the floor's assumption).
async fn run_aupay(orders: usize) -> anyhow::Result<(FunctionFigures, u64)> {
    use ichigen_sandbox::control::{AupayGenerateOptions, AupayLimits, AupayOrderKind};
    let sdk = emulator_sdk().await;
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 44 }).await?;
    let control = sandbox.control();
    let aupay = register_aupay(&control, "store-au").await?;
    let shop_id = aupay.mall_id.as_str();
    let store = aupay.store.clone();
    let table = shop_with_store(&sdk, &store, &aupay.secret).await?;
    control
        .aupay_generate_orders(
            shop_id,
            &AupayGenerateOptions {
                count: Some(orders),
                days: Some(2),
                kinds: Some(vec![AupayOrderKind::CardPaid]),
                seed: Some(2026),
                ..Default::default()
            },
        )
        .await?;
    control
        .aupay_set_limits(&AupayLimits {
            requests_per_second_per_shop: Some(1.0),
            ..AupayLimits::default()
        })
        .await?;
    let figures = run_function(&sdk, &table, &sandbox, &store, 0.95, orders).await?;
    let mall_calls = control.stats().await?.requests.values().sum::<u64>();
    sandbox.shutdown().await;
    Ok((figures, mall_calls))
}

/// The stored size of every order item, sorted (DynamoDB's counting, as the adapter checks it).
async fn order_item_sizes(sdk: &aws_config::SdkConfig, table: &str) -> anyhow::Result<Vec<usize>> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let mut sizes = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        for item in out.items.unwrap_or_default() {
            if item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("ORDER")
            {
                sizes.push(ichigen_aws::tables::item_size(&item));
            }
        }
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    sizes.sort_unstable();
    Ok(sizes)
}

/// The function process: the import-orders handler on one schedule event, then the
/// mall-writer on what it queued (both through the same metered table client).
async fn function_process() -> anyhow::Result<FunctionFigures> {
    let sdk = emulator_sdk().await;
    let table_name = std::env::var("ICHIGEN_TABLE")?;
    let meter = DynamoDbMeter::default();
    let metered = Arc::new(ShopTable::new(meter.client(&sdk), table_name.clone()));
    let mut settings = ClientSettings::from_env();
    settings.timeout = Duration::from_secs(30);
    // The store's rate slots are DynamoDB requests of the functions too: counted.
    let settings = settings.sharing_rate_budget(metered.clone());
    let mut app = App::new(
        &sdk,
        table_name.clone(),
        MallEndpoints::from_env(),
        settings,
    );
    let prefix = table_name
        .strip_suffix("-orders")
        .ok_or_else(|| anyhow::anyhow!("{table_name} is not a shop table"))?;
    let write_queue = aws_sdk_sqs::Client::new(&sdk)
        .get_queue_url()
        .queue_name(ShopResources::with_prefix(prefix).write_queue_name)
        .send()
        .await?
        .queue_url
        .ok_or_else(|| anyhow::anyhow!("no mall-write queue for {table_name}"))?;
    app.store = metered;
    let app = app.with_write_queue(&sdk, &write_queue);
    let mut writer = Writer::following(&app, &sdk, &write_queue);
    writer.app.store = app.store.clone();

    let store: StoreRef = std::env::var("ICHIGEN_BENCH_STORE")?.parse()?;
    let command = ImportCommand::new(store, ImportRequest::Differential);
    // The writer polls the queue while the import runs, as the deployed event source does,
    // and ends once the import has finished and the queue is empty.
    let started = Instant::now();
    let import_done = std::sync::atomic::AtomicBool::new(false);
    let import = async {
        let outcome = app.handle(Invocation::Command(command), None).await;
        import_done.store(true, std::sync::atomic::Ordering::SeqCst);
        outcome
    };
    let writes = async {
        let (mut received, mut failed, mut busy) = (0, 0, Duration::ZERO);
        loop {
            let finished = import_done.load(std::sync::atomic::Ordering::SeqCst);
            let round = Instant::now();
            let drained = writer.drain().await;
            if drained.batches > 0 {
                busy += round.elapsed();
            }
            received += drained.report.received;
            failed += drained.failed_receipts.len();
            if finished && drained.batches == 0 {
                return (received, failed, busy);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let (outcome, (written, given_back, write_busy)) = tokio::join!(import, writes);
    let Outcome::Report(report) = outcome? else {
        anyhow::bail!("expected a report")
    };
    anyhow::ensure!(
        written == report.writes_queued && given_back == 0,
        "the mall-writer settled {written} of {} queued writes ({given_back} given back)",
        report.writes_queued
    );
    Ok(FunctionFigures {
        created: report.created.len(),
        seconds: started.elapsed().as_secs_f64(),
        write_seconds: write_busy.as_secs_f64(),
        dynamodb_requests: meter.requests(),
        peak_rss_kib: peak_rss_kib()?,
        item_size_p50: 0,
        item_size_max: 0,
    })
}

/// This process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or_else(|| anyhow::anyhow!("no VmHWM"))?;
    Ok(line.split_whitespace().nth(1).unwrap_or("0").parse()?)
}
