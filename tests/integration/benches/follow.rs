//! Follow benchmark: how long from a buyer's payment on the mall until the order is ready to
//! ship in ichigen, and what following the malls costs. Prints figures; asserts nothing about
//! time.
//!
//! ```text
//! scripts/bench.sh                              # runs it after the import and shop API benches
//! BENCH_FOLLOW_PAYMENTS=100 cargo bench -p ichigen-integration --bench follow
//! ```
//!
//! One sandbox with five stores (Rakuten, Yahoo, au PAY, Qoo10, Amazon) in one shop. Each
//! store's prepayment orders (konbini, bank transfer; Amazon's `Pending` konbini orders) are
//! imported first, awaiting payment (the set-up import runs with the sandbox's limits lifted).
//! Then `BENCH_FOLLOW_PAYMENTS` (default 500) buyers pay on the mall through the sandbox's
//! controls (`yahoo_set_pay_status`, `aupay_pay`, `qoo10_pay_cart`, `amazon_pay`), each at a
//! moment drawn (seeded, `BENCH_FOLLOW_SEED`) uniformly within one schedule period, and at the
//! schedule tick every store's open-orders run (`{"type":"open_orders"}`, as the deployed
//! schedule sends it every `OpenOrdersSchedule`, default 10 minutes) reads its open orders again
//! at the mall's real pace (as in `benches/import.rs`; the five runs side by side, as the
//! five stores' queue groups run them), each in a fresh process's App (as a cold Lambda).
//!
//! Qoo10 is measured once more in the process that imported the carts (`warm`): a stored
//! order's number is its cart number, which Qoo10's per-line lookup does not take, and a
//! fresh process used to quarantine every open cart (before the open-orders run read a cart
//! again by a line's number). Any order a run cannot follow shows in the `quar` column, with
//! the first error.
//!
//! Rakuten's buyers pay through `rakuten_pay` (getPayment answers 決済確定 from then on); the
//! run asks getPayment for each unshipped prepayment order besides getOrder.
//!
//! Figures per mall:
//! - the run's duration (measured), as a ratio to the period;
//! - the latency of a payment: the wait until the next tick (modelled from the drawn moment)
//!   plus the store's run duration (measured). The run duration is an upper bound of the
//!   order's own offset within the run (the run reads orders oldest first, and the order may
//!   be read early in it); p50 and p99, per mall and overall, in seconds and as a ratio to the
//!   period;
//! - mall calls per open order per hour: the sandbox's call count of one run ÷ open orders ×
//!   runs per hour (6 at 10 minutes);
//! - DynamoDB requests per open order per run (counted by [`DynamoDbMeter`]).
//!
//! The figures measured are in the README's Benchmark section.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use ichigen_aws::ShopTable;
use ichigen_core::import::{ImportCommand, ImportReport, ImportRequest};
use ichigen_core::{MallId, OrderId, OrderStatus, StoreRef};
use ichigen_integration::bench::{
    BenchShop, MallStore, enforce_real_pace, lift_pace, real_client_rate, register_amazon,
    register_aupay, register_qoo10, register_rakuten, register_yahoo,
};
use ichigen_integration::{
    DynamoDbMeter, ago, emulator_sdk, fast_client_settings, hours, minutes, rakuten_time,
};
use ichigen_malls::{AmazonEndpoints, ClientSettings, MallEndpoints, YahooEndpoints};
use ichigen_sandbox::control::{
    AmazonGenerateOptions, AmazonOrderEventRequest, AmazonOrderKind, AupayGenerateOptions,
    AupayOrderKind, GenerateOptions, OrderKind, Qoo10GenerateOptions, Qoo10OrderKind,
    YahooGenerateOptions, YahooOrderKind,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use import_orders::{App, Invocation, Outcome};

/// The open-orders schedule as deployed (`OpenOrdersSchedule`, default `rate(10 minutes)`).
const PERIOD: Duration = Duration::from_secs(10 * 60);
const MALLS: [MallId; 5] = [
    MallId::Rakuten,
    MallId::Yahoo,
    MallId::Aupay,
    MallId::Qoo10,
    MallId::Amazon,
];

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// One store of the benchmark: where it is in the sandbox, its orders awaiting payment, the
/// payments drawn for it (the order, and seconds into the period), and what its tick's run
/// measured.
struct Store {
    mall: MallStore,
    awaiting: Vec<String>,
    payments: Vec<(String, f64)>,
    /// The tick's run in a fresh process (as a cold Lambda), then for Qoo10 one in the process
    /// that imported the carts ([`WARM_RUN`]).
    runs: Vec<RunFigures>,
}

struct RunFigures {
    label: String,
    seconds: f64,
    report: ImportReport,
    dynamodb_requests: u64,
    mall_calls: u64,
    ready_after: usize,
}

async fn run() -> anyhow::Result<()> {
    let payments = usize::try_from(knob("BENCH_FOLLOW_PAYMENTS", 500))?;
    let seed = knob("BENCH_FOLLOW_SEED", 2026);
    let sdk = emulator_sdk().await;
    let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 46 }).await?;
    let control = sandbox.control();
    let shop = BenchShop::new(&sdk).await?;
    let share = |mall: MallId| {
        // Payments spread evenly over the malls (the first ones take the remainder).
        let i = MALLS.iter().position(|m| *m == mall).unwrap_or(0);
        payments / MALLS.len() + usize::from(i < payments % MALLS.len())
    };
    println!(
        "follow benchmark: {payments} payments on the malls, each at a seeded random moment within one open-orders period ({} min, as deployed), then each store's open-orders run at the tick, at the mall's real pace",
        PERIOD.as_secs() / 60
    );

    // Set-up: each store's prepayment orders, imported with the sandbox's limits lifted.
    let mut stores = Vec::new();
    for mall in MALLS {
        let registered = register(&control, mall).await?;
        shop.add_store(&sdk, &registered.store, &registered.secret)
            .await?;
        // Twice as many open orders as payments: half of them stay unpaid through the period.
        generate_unpaid(&control, &registered, 2 * share(mall), seed).await?;
        lift_pace(&control, mall).await?;
        stores.push(Store {
            mall: registered,
            awaiting: Vec::new(),
            payments: Vec::new(),
            runs: Vec::new(),
        });
    }
    let endpoints = sandbox_endpoints(&sandbox.base_url());
    let started = Instant::now();
    let set_up = futures::future::try_join_all(
        stores
            .iter()
            .map(|store| import_all(&sdk, &shop.table_name, &endpoints, &store.mall.store)),
    )
    .await?;
    for store in &mut stores {
        store.awaiting = shop
            .table
            .orders_by_status(&store.mall.store, OrderStatus::AwaitingPayment, 100_000)
            .await?
            .into_iter()
            .map(|o| o.mall_order_id)
            .collect();
        println!(
            "  {}: {} orders awaiting payment imported",
            store.mall.store,
            store.awaiting.len()
        );
    }
    println!(
        "  set-up import: {:.1} s (limits lifted)",
        started.elapsed().as_secs_f64()
    );
    // The previous tick (not measured, limits lifted): as deployed, every store's open-orders
    // run has run before, so a mall that lists its changes (Amazon) has its checkpoint.
    let started = Instant::now();
    futures::future::try_join_all(stores.iter().map(|store| {
        let meter = DynamoDbMeter::default();
        let app = app(
            &sdk,
            &shop.table_name,
            &endpoints,
            fast_client_settings(),
            &meter,
        );
        let store = store.mall.store.clone();
        async move {
            run_to_end(&app, &store, ImportRequest::OpenOrders { only: Vec::new() }).await
        }
    }))
    .await?;
    println!(
        "  the previous tick: {:.1} s (limits lifted)\n",
        started.elapsed().as_secs_f64()
    );

    // The payments: each a moment within the period (seeded), made on the mall before the tick.
    let mut rng = SplitMix64(seed);
    for store in &mut stores {
        let mall = store.mall.store.mall;
        let count = share(mall).min(store.awaiting.len());
        anyhow::ensure!(
            count == share(mall),
            "{}: only {} orders awaiting payment for {} payments",
            store.mall.store,
            store.awaiting.len(),
            share(mall)
        );
        for order in store.awaiting.iter().take(count) {
            let at = rng.unit() * PERIOD.as_secs_f64();
            pay(&control, &store.mall, order, PERIOD.as_secs_f64() - at).await?;
            store.payments.push((order.clone(), at));
        }
    }

    // The tick: every store's open-orders run at its mall's real pace, side by side.
    for mall in MALLS {
        enforce_real_pace(&control, mall).await?;
    }
    let before = control.stats().await?;
    let runs = futures::future::try_join_all(stores.iter().map(|store| {
        let store = &store.mall.store;
        let settings = real_pace_settings(store.mall);
        let meter = DynamoDbMeter::default();
        let app = app(&sdk, &shop.table_name, &endpoints, settings, &meter);
        async move { open_orders_run(&app, &meter, store, "cold").await }
    }))
    .await?;
    let after = control.stats().await?;
    for (store, mut run) in stores.iter_mut().zip(runs) {
        count_run(&mut run, &before, &after, &shop, &store.mall.store).await?;
        store.runs.push(run);
    }
    let mut refused = after.rate_limited - before.rate_limited;
    for (store, (app, meter)) in stores.iter_mut().zip(&set_up) {
        if store.mall.store.mall != WARM_RUN {
            continue;
        }
        let before = control.stats().await?;
        let mut run = open_orders_run(app, meter, &store.mall.store, "warm").await?;
        let after = control.stats().await?;
        count_run(&mut run, &before, &after, &shop, &store.mall.store).await?;
        refused += after.rate_limited - before.rate_limited;
        store.runs.push(run);
    }
    if refused > 0 {
        println!(
            "note: the sandbox refused {refused} calls as over the mall's rate (the client retried them)"
        );
    }
    print_figures(&stores);
    sandbox.shutdown().await;
    Ok(())
}

/// The mall whose open-orders run is also measured in the process that imported the orders:
/// Qoo10's client keeps the lines of the carts it listed (a cart number is not a line's order
/// number, which Qoo10's per-line lookup takes); the cold and warm rows compare the two.
const WARM_RUN: MallId = MallId::Qoo10;

/// A run's mall calls (the sandbox's counts for the store's mall between `before` and
/// `after`) and the store's orders ready to ship after it.
async fn count_run(
    run: &mut RunFigures,
    before: &ichigen_sandbox::control::Stats,
    after: &ichigen_sandbox::control::Stats,
    shop: &BenchShop,
    store: &StoreRef,
) -> anyhow::Result<()> {
    let prefix = format!("{}.", store.mall);
    run.mall_calls = after
        .requests
        .iter()
        .filter(|(endpoint, _)| endpoint.starts_with(&prefix))
        .map(|(endpoint, count)| count - before.requests_for(endpoint))
        .sum();
    run.ready_after = shop
        .table
        .orders_by_status(store, OrderStatus::ReadyToShip, 100_000)
        .await?
        .len();
    Ok(())
}

fn print_figures(stores: &[Store]) {
    let period = PERIOD.as_secs_f64();
    let runs_per_hour = 3600.0 / period;
    println!(
        "\n{:<14} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8} {:>9} {:>9} {:>7} {:>7} {:>6} {:>11} {:>11}",
        "store",
        "open",
        "read",
        "paid",
        "follow",
        "quar",
        "ready",
        "run s",
        "lat p50 s",
        "lat p99 s",
        "p50/T",
        "p99/T",
        "run/T",
        "calls/op/h",
        "ddb req/op"
    );
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for (store, run) in stores
        .iter()
        .flat_map(|store| store.runs.iter().map(move |run| (store, run)))
    {
        let open = store.awaiting.len().max(1);
        // Latencies from the tick's cold run: a payment it followed waits for the tick and the
        // run; one it did not see yet (Amazon lists a change two minutes late) waits for the
        // next tick too.
        let latencies: Vec<f64> = if run.label == "cold" {
            store
                .payments
                .iter()
                .map(|(order, at)| {
                    let id = OrderId::new(&store.mall.store, order);
                    let next_tick = if run.report.paid_on_mall.contains(&id) {
                        0.0
                    } else {
                        period
                    };
                    (period - at) + next_tick + run.seconds
                })
                .collect()
        } else {
            Vec::new()
        };
        all.extend(latencies.iter().copied());
        if let Some(first) = run.report.quarantined.first() {
            failures.push(format!(
                "{} ({}): {} of {} open orders quarantined, e.g. {}: {}",
                store.mall.store,
                run.label,
                run.report.quarantined.len(),
                run.report.listed,
                first.mall_order_id,
                first.error
            ));
        }
        let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));
        let show = |v: Option<f64>, ratio: bool| match v {
            Some(v) if ratio => format!("{:.3}", v / period),
            Some(v) => format!("{v:.1}"),
            None => "-".to_owned(),
        };
        println!(
            "{:<14} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8.1} {:>9} {:>9} {:>7} {:>7} {:>6.3} {:>11.2} {:>11.2}",
            format!("{} {}", store.mall.store.mall, run.label),
            store.awaiting.len(),
            run.report.listed,
            store.payments.len(),
            run.report.paid_on_mall.len(),
            run.report.quarantined.len(),
            run.ready_after,
            run.seconds,
            show(p50, false),
            show(p99, false),
            show(p50, true),
            show(p99, true),
            run.seconds / period,
            run.mall_calls as f64 / open as f64 * runs_per_hour,
            run.dynamodb_requests as f64 / open as f64,
        );
    }
    let (p50, p99) = (percentile(&all, 0.50), percentile(&all, 0.99));
    if let (Some(p50), Some(p99)) = (p50, p99) {
        println!(
            "{:<14} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8} {:>9.1} {:>9.1} {:>7.3} {:>7.3}",
            "overall",
            "",
            "",
            all.len(),
            "",
            "",
            "",
            "",
            p50,
            p99,
            p50 / period,
            p99 / period
        );
    }
    for failure in failures {
        println!("{failure}");
    }
    println!(
        "\nopen: the store's open orders (twice its payments); read: the open orders the run read again (Amazon: those getOrders listed as changed since the previous tick); paid: payments made on the mall; follow: paid_on_mall in the run's report; quar: open orders the run quarantined; ready: the store's orders ready to ship after it."
    );
    println!(
        "cold: the run in a fresh process (a cold Lambda), the five stores side by side; warm: the run in the process that imported the orders (after the cold run). overall: every payment with the run that followed it."
    );
    println!(
        "latency = wait until the next tick (from the payment's drawn moment; the period T = {} min as deployed) + the store's run duration (+ T for a payment the tick's run did not see yet); the run duration is an upper bound of the order's own offset in the run.",
        PERIOD.as_secs() / 60
    );
    println!(
        "calls/op/h: the sandbox's mall calls of one run ÷ the store's open orders × {runs_per_hour:.0} runs per hour; ddb req/op: DynamoDB requests of one run ÷ open orders."
    );
}

/// Nearest-rank percentile of `values` (`None` when empty).
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// A small seeded generator (SplitMix64): the payments' moments repeat run to run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn sandbox_endpoints(base_url: &str) -> MallEndpoints {
    MallEndpoints {
        rakuten: base_url.to_owned(),
        yahoo: YahooEndpoints::at(base_url),
        aupay: base_url.to_owned(),
        qoo10: MallEndpoints::qoo10_at(base_url),
        amazon: AmazonEndpoints::at(base_url),
    }
}

async fn register(control: &ControlClient, mall: MallId) -> anyhow::Result<MallStore> {
    let store_id = format!("store-{mall}");
    match mall {
        MallId::Rakuten => register_rakuten(control, &store_id).await,
        MallId::Yahoo => register_yahoo(control, &store_id).await,
        MallId::Aupay => register_aupay(control, &store_id).await,
        MallId::Qoo10 => register_qoo10(control, &store_id).await,
        MallId::Amazon => register_amazon(control, &store_id).await,
    }
}

/// `count` prepayment orders not paid yet, placed over the last two days.
async fn generate_unpaid(
    control: &ControlClient,
    store: &MallStore,
    count: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let id = store.mall_id.as_str();
    match store.store.mall {
        MallId::Rakuten => {
            let mut options = GenerateOptions::spread(
                count,
                rakuten_time(ago(hours(48))),
                rakuten_time(ago(minutes(5))),
            );
            options.seed = Some(seed);
            options.kinds = Some(vec![OrderKind::KonbiniUnpaid, OrderKind::BankTransfer]);
            control.rakuten_generate_orders(id, &options).await?;
        }
        MallId::Yahoo => {
            let options = YahooGenerateOptions {
                count: Some(count),
                days: Some(2),
                kinds: Some(vec![YahooOrderKind::Unpaid]),
                seed: Some(seed),
                ..Default::default()
            };
            control.yahoo_generate_orders(id, &options).await?;
        }
        MallId::Aupay => {
            let options = AupayGenerateOptions {
                count: Some(count),
                days: Some(2),
                kinds: Some(vec![
                    AupayOrderKind::KonbiniUnpaid,
                    AupayOrderKind::BankUnpaid,
                ]),
                seed: Some(seed),
                ..Default::default()
            };
            control.aupay_generate_orders(id, &options).await?;
        }
        MallId::Qoo10 => {
            let options = Qoo10GenerateOptions {
                count: Some(count),
                kinds: vec![Qoo10OrderKind::Unpaid],
                seed: Some(seed),
                spread_secs: Some(2 * 86_400),
            };
            control.qoo10_generate_orders(id, &options).await?;
        }
        MallId::Amazon => {
            let options = AmazonGenerateOptions {
                count: u32::try_from(count)?,
                seed: Some(seed),
                kinds: vec![AmazonOrderKind::Pending],
                spread_minutes: 2 * 24 * 60,
                // Placed an hour or more before the tick, as open orders mostly are.
                ends_minutes_ago: 60,
            };
            control.amazon_generate_orders(id, &options).await?;
        }
    }
    Ok(())
}

/// The buyer pays `order` on the mall, `secs_ago` seconds before the tick. Amazon stamps the
/// order's `LastUpdateDate` with that moment (its list of changes is by that time); the other
/// sandboxes record the payment now, which their runs cannot tell apart.
async fn pay(
    control: &ControlClient,
    store: &MallStore,
    order: &str,
    secs_ago: f64,
) -> anyhow::Result<()> {
    let id = store.mall_id.as_str();
    match store.store.mall {
        MallId::Yahoo => {
            control.yahoo_set_pay_status(id, order, 1).await?;
        }
        MallId::Aupay => {
            control.aupay_pay(id, order).await?;
        }
        MallId::Qoo10 => {
            control.qoo10_pay_cart(id, order.parse()?).await?;
        }
        MallId::Amazon => {
            let at = jiff::Timestamp::now()
                .checked_sub(jiff::SignedDuration::from_secs_f64(secs_ago))?
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            control
                .amazon_pay(id, order, &AmazonOrderEventRequest { at: Some(at) })
                .await?;
        }
        MallId::Rakuten => {
            control.rakuten_pay(id, order, None).await?;
        }
    }
    Ok(())
}

/// An App of the shop for one store's runs, its DynamoDB client counted by `meter`.
fn app(
    sdk: &SdkConfig,
    table: &str,
    endpoints: &MallEndpoints,
    settings: ClientSettings,
    meter: &DynamoDbMeter,
) -> App {
    let metered = Arc::new(ShopTable::new(meter.client(sdk), table.to_owned()));
    // The store's rate slots are DynamoDB requests of the run too: counted.
    let settings = settings.sharing_rate_budget(metered.clone());
    let mut app = App::new(sdk, table.to_owned(), endpoints.clone(), settings);
    app.store = metered;
    app
}

/// Runs `request` for `store` until nothing is left; the reports.
async fn run_to_end(
    app: &App,
    store: &StoreRef,
    mut request: ImportRequest,
) -> anyhow::Result<Vec<ImportReport>> {
    let mut reports = Vec::new();
    loop {
        let command = ImportCommand::new(store.clone(), request);
        let Outcome::Report(report) = app.handle(Invocation::Command(command), None).await? else {
            anyhow::bail!("{store}: expected a report")
        };
        let next = report.unfinished.clone();
        reports.push(*report);
        match next {
            Some(rest) => request = rest,
            None => return Ok(reports),
        }
    }
}

/// The set-up import: differential runs until the store's orders are all in. Returns the App
/// (its client at the mall's real pace for [`WARM_RUN`], which runs again in it; else fast)
/// and its meter.
async fn import_all(
    sdk: &SdkConfig,
    table: &str,
    endpoints: &MallEndpoints,
    store: &StoreRef,
) -> anyhow::Result<(App, DynamoDbMeter)> {
    let settings = if store.mall == WARM_RUN {
        real_pace_settings(store.mall)
    } else {
        fast_client_settings()
    };
    let meter = DynamoDbMeter::default();
    let app = app(sdk, table, endpoints, settings, &meter);
    run_to_end(&app, store, ImportRequest::Differential).await?;
    Ok((app, meter))
}

/// The client at `mall`'s real pace (as `benches/import.rs` runs it).
fn real_pace_settings(mall: MallId) -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_secs(30),
        requests_per_second: real_client_rate(mall),
        ..ClientSettings::default()
    }
}

/// One open-orders run of `store` in `app`, as the schedule's tick sends it.
async fn open_orders_run(
    app: &App,
    meter: &DynamoDbMeter,
    store: &StoreRef,
    label: &str,
) -> anyhow::Result<RunFigures> {
    let requests_before = meter.requests();
    let started = Instant::now();
    let mut reports =
        run_to_end(app, store, ImportRequest::OpenOrders { only: Vec::new() }).await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        reports.len() == 1,
        "{store}: the open-orders run did not finish in one invocation"
    );
    let report = reports.remove(0);
    Ok(RunFigures {
        label: label.to_owned(),
        seconds,
        report,
        dynamodb_requests: meter.requests() - requests_before,
        mall_calls: 0,
        ready_after: 0,
    })
}
