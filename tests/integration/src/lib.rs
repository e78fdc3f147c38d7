//! Test support for the end-to-end tests: one shop on the AWS emulator (moto, reached through
//! `AWS_ENDPOINT_URL`), the Rakuten sandbox over real HTTP, and the import-orders function's
//! own code ([`import_orders::App`]) wired to both.
//!
//! Each harness gets its own table and queues (random prefix), so tests run side by side on
//! one emulator. Nothing here replaces DynamoDB, SQS or Secrets Manager with a fake.

// Test support: a set-up step that fails should stop the test right there, with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod bench;
mod meter;
pub mod shop_api;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use ichigen_aws::{ShopHandles, ShopResources, ShopTable, ensure_shop, put_secret};
use ichigen_core::import::ImportCommand;
use ichigen_core::ports::{Clock, FixedClock, StoreConfigs};
use ichigen_core::{
    ImportSettings, JstInstant, MallId, Order, OrderId, OrderStatus, StoreConfig, StoreRef,
};
use ichigen_malls::{ClientSettings, MallEndpoints};
use ichigen_sandbox::control::Stats;
use ichigen_sandbox::control::{GenerateOptions, RegisterStoreRequest};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use import_orders::{App, FunctionError, Invocation, Outcome};

pub use ichigen_core::import::{ImportReport, ImportRequest};
pub use meter::DynamoDbMeter;
pub use writer::{Drained, Writer};

/// The AWS SDK configuration for the emulator. Fails loudly when no emulator is configured:
/// these tests must never pass by not running.
pub async fn emulator_sdk() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at the local AWS emulator (got {endpoint:?}); \
         run the suite with scripts/test.sh, which starts it"
    );
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Mall client settings for tests: short timeouts and backoff, a generous rate.
pub fn fast_client_settings() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_millis(400),
        requests_per_second: 500.0,
        max_attempts: 8,
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_millis(60),
        rate_budget: None,
    }
}

/// A shop with one Rakuten store, the sandbox, and the function's code.
pub struct Harness {
    pub sandbox: Sandbox,
    pub sdk: SdkConfig,
    pub handles: ShopHandles,
    pub table: Arc<ShopTable>,
    pub app: App,
    pub store: StoreRef,
    /// The store's Rakuten shop id in the sandbox (the prefix of its order numbers).
    pub shop_id: String,
    pub clock: Arc<FixedClock>,
}

impl Harness {
    /// A fresh shop whose clock stands at the real now (move it with `clock.set`).
    pub async fn new() -> Harness {
        Self::with_settings(ImportSettings::default()).await
    }

    pub async fn with_settings(import: ImportSettings) -> Harness {
        let sdk = emulator_sdk().await;
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 42 })
            .await
            .expect("sandbox starts");
        let prefix = format!("it-{}", uuid::Uuid::new_v4().simple());
        let handles = ensure_shop(&sdk, &ShopResources::with_prefix(&prefix))
            .await
            .expect("shop resources");
        let table = Arc::new(ShopTable::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            handles.table_name.clone(),
        ));

        let shop_id = "100001".to_owned();
        let store = StoreRef::new(MallId::Rakuten, "store-a");
        let secret_id = format!("{prefix}/rakuten/store-a");
        let (service_secret, license_key) = ("test-service-secret", "test-license-key");
        sandbox
            .control()
            .rakuten_register_store(&RegisterStoreRequest::new(
                &shop_id,
                service_secret,
                license_key,
            ))
            .await
            .expect("store registered in the sandbox");
        put_secret(
            &sdk,
            &secret_id,
            &serde_json::json!({"serviceSecret": service_secret, "licenseKey": license_key}),
        )
        .await
        .expect("secret stored");
        table
            .put_store_config(&StoreConfig {
                store: store.clone(),
                secret_id,
                import,
                enabled: true,
            })
            .await
            .expect("store config stored");

        let endpoints = MallEndpoints {
            rakuten: sandbox.base_url(),
            ..MallEndpoints::default()
        };
        let mut app = shop_app(&sdk, &handles, &table, endpoints, fast_client_settings());
        let clock = Arc::new(FixedClock::new(now()));
        app.clock = clock.clone();
        Harness {
            sandbox,
            sdk,
            handles,
            table,
            app,
            store,
            shop_id,
            clock,
        }
    }

    pub fn control(&self) -> ControlClient {
        self.sandbox.control()
    }

    /// The mall-writer of this shop (same clock, endpoints and table as [`Harness::app`]).
    pub fn writer(&self) -> Writer {
        Writer::following(&self.app, &self.sdk, &self.handles.write_queue_url)
    }

    /// Delivers every queued mall write to the mall-writer until the queue is empty.
    pub async fn write_to_mall(&self) -> Drained {
        write_to_mall(&self.app, &self.sdk).await
    }

    /// Seeds `count` generated orders spread over `[from, to]`; returns their order numbers.
    pub async fn seed(
        &self,
        count: usize,
        seed: u64,
        from: JstInstant,
        to: JstInstant,
    ) -> Vec<String> {
        let mut options = GenerateOptions::spread(count, rakuten_time(from), rakuten_time(to));
        options.seed = Some(seed);
        self.generate(&options).await
    }

    /// Seeds one order at each of these instants.
    pub async fn seed_at(&self, instants: &[JstInstant]) -> Vec<String> {
        self.generate(&GenerateOptions {
            order_datetimes: Some(instants.iter().map(|i| rakuten_time(*i)).collect()),
            seed: Some(1),
            ..GenerateOptions::default()
        })
        .await
    }

    /// Seeds the orders `options` describe in the store's sandbox shop; their order numbers.
    pub async fn generate(&self, options: &GenerateOptions) -> Vec<String> {
        self.control()
            .rakuten_generate_orders(&self.shop_id, options)
            .await
            .expect("orders generated")
            .order_numbers
    }

    pub fn command(&self, request: ImportRequest) -> ImportCommand {
        ImportCommand::new(self.store.clone(), request)
    }

    /// Runs the function's handler for one schedule-style command.
    pub async fn invoke(&self, request: ImportRequest) -> Result<Outcome, FunctionError> {
        self.app
            .handle(Invocation::Command(self.command(request)), None)
            .await
    }

    /// Runs one request the way the queue would: the request, then each `unfinished` rest the
    /// function would have queued, until nothing is left. Returns every run's report.
    pub async fn run_to_end(&self, request: ImportRequest) -> Vec<ImportReport> {
        let mut reports = Vec::new();
        let mut next = Some(request);
        while let Some(request) = next.take() {
            let report = match self.invoke(request).await.expect("import run") {
                Outcome::Report(report) => *report,
                other => panic!("expected a report, got {other:?}"),
            };
            next = report.unfinished.clone();
            reports.push(report);
            assert!(reports.len() < 1_000, "a request that never finishes");
        }
        reports
    }

    /// Runs the scheduled differential import and returns its report.
    pub async fn differential(&self) -> Result<ImportReport, FunctionError> {
        match self.invoke(ImportRequest::Differential).await? {
            Outcome::Report(report) => Ok(*report),
            other => panic!("expected a report, got {other:?}"),
        }
    }

    pub fn order_id(&self, mall_order_id: &str) -> OrderId {
        OrderId::new(&self.store, mall_order_id)
    }

    pub async fn order(&self, mall_order_id: &str) -> Option<Order> {
        use ichigen_core::ports::OrderStore;
        self.table
            .get_order(&self.order_id(mall_order_id))
            .await
            .expect("get order")
    }

    /// Every order of the store, whatever its status, read through the status index.
    pub async fn all_orders(&self) -> Vec<Order> {
        let mut orders = Vec::new();
        for status in [
            OrderStatus::Imported,
            OrderStatus::AwaitingPayment,
            OrderStatus::ReadyToShip,
            OrderStatus::Shipped,
            OrderStatus::Completed,
            OrderStatus::OnHold,
            OrderStatus::Cancelled,
        ] {
            orders.extend(
                self.table
                    .orders_by_status(&self.store, status, 100_000)
                    .await
                    .expect("query"),
            );
        }
        orders
    }

    /// Order numbers confirmed on the mall, one entry per confirmation.
    pub async fn confirmed_on_mall(&self) -> Vec<String> {
        self.control()
            .rakuten_writes()
            .await
            .expect("writes")
            .into_iter()
            .filter(|w| w.operation == "confirmOrder")
            .flat_map(|w| w.order_numbers)
            .collect()
    }
}

/// The real now, as the sandbox sees it.
pub fn now() -> JstInstant {
    ichigen_core::ports::SystemClock.now()
}

pub fn hours(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(n)
}

pub fn minutes(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(n)
}

pub fn ago(duration: jiff::SignedDuration) -> JstInstant {
    now().checked_sub(duration).expect("in range")
}

/// Rakuten's wire form of an instant (`+0900`, no colon), as the sandbox's control API takes it.
pub fn rakuten_time(at: JstInstant) -> String {
    format!("{}+0900", at.civil().strftime("%Y-%m-%dT%H:%M:%S"))
}

/// The open-orders command for `store`, read from the JSON the schedule sends
/// (`{"type":"open_orders","store":"yahoo:my-shop"}`), so the tests go through its wire form.
pub fn open_orders_command(store: &StoreRef) -> ImportCommand {
    serde_json::from_value(serde_json::json!({
        "type": "open_orders",
        "store": store.to_string(),
    }))
    .expect("an open-orders command")
}

/// The import function's App of a test shop: its table (`table`, the shop's own), the mall
/// endpoints and client settings given, and its mall writes queued on the shop's write queue.
pub fn shop_app(
    sdk: &SdkConfig,
    handles: &ShopHandles,
    table: &Arc<ShopTable>,
    endpoints: MallEndpoints,
    settings: ClientSettings,
) -> App {
    let mut app = App::new(sdk, handles.table_name.clone(), endpoints, settings)
        .with_write_queue(sdk, &handles.write_queue_url);
    app.store = table.clone();
    app
}

/// `app` as a cold start finds it: same table, endpoints, settings and clock, but no mall
/// client (nor what one learnt while listing) kept from earlier runs. The open-orders schedule
/// fires hours after the import, in whatever process Lambda gives it.
pub fn cold_app(app: &App, sdk: &SdkConfig) -> App {
    let mut cold = App::new(
        sdk,
        app.table.clone(),
        app.endpoints.clone(),
        app.client_settings.clone(),
    );
    cold.clock = app.clock.clone();
    cold.writes = app.writes.clone();
    cold
}

/// Runs the open-orders request for `store` through the function's handler, in a fresh
/// process ([`cold_app`]).
pub async fn follow_open_orders(app: &App, sdk: &SdkConfig, store: &StoreRef) -> ImportReport {
    let command = open_orders_command(store);
    match cold_app(app, sdk)
        .handle(Invocation::Command(command), None)
        .await
    {
        Ok(Outcome::Report(report)) => *report,
        other => panic!("expected an open-orders report, got {other:?}"),
    }
}

/// The store's differential import alone, the mall-writer not following: for tests about
/// what a later run reads, where the import's own writes would only cost time.
pub async fn import_only(app: &App, store: &StoreRef) -> ImportReport {
    let command = ImportCommand::new(store.clone(), ImportRequest::Differential);
    match app.handle(Invocation::Command(command), None).await {
        Ok(Outcome::Report(report)) => *report,
        other => panic!("expected an import report, got {other:?}"),
    }
}

/// One open-orders run and what it cost: on the mall (the sandbox's counters around it) and
/// in the shop's table.
pub struct CountedRun {
    pub report: ImportReport,
    before: Stats,
    after: Stats,
    table: DynamoDbMeter,
}

impl CountedRun {
    /// Calls to one sandbox endpoint (`"yahoo.orderInfo"`) during the run.
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.after.requests_for(endpoint) - self.before.requests_for(endpoint)
    }

    /// Calls the sandbox refused for going over the mall's rate (HTTP 429 or the mall's own
    /// "too many requests" answer) during the run.
    pub fn rate_limited(&self) -> u64 {
        self.after.rate_limited - self.before.rate_limited
    }

    /// The run's DynamoDB reads, in read units by DynamoDB's rule ([`DynamoDbMeter`]).
    pub fn table_read_units(&self) -> f64 {
        self.table.estimated_read_units()
    }
}

/// [`follow_open_orders`], counted on the sandbox behind `control` and on the shop's table.
pub async fn follow_open_orders_counted(
    app: &App,
    sdk: &SdkConfig,
    store: &StoreRef,
    control: &ControlClient,
) -> CountedRun {
    let table = DynamoDbMeter::default();
    let mut metered = cold_app(app, sdk);
    metered.store = Arc::new(ShopTable::new(table.client(sdk), app.table.clone()));
    let command = open_orders_command(store);
    let before = control.stats().await.expect("sandbox stats");
    let report = match metered.handle(Invocation::Command(command), None).await {
        Ok(Outcome::Report(report)) => *report,
        other => panic!("expected an open-orders report, got {other:?}"),
    };
    let after = control.stats().await.expect("sandbox stats");
    CountedRun {
        report,
        before,
        after,
        table,
    }
}

/// How many of the store's orders are open (awaiting payment, on hold, ready to ship): what
/// the open-orders run reads again.
pub async fn open_order_count(table: &ShopTable, store: &StoreRef) -> usize {
    let mut open = 0;
    for status in [
        OrderStatus::AwaitingPayment,
        OrderStatus::OnHold,
        OrderStatus::ReadyToShip,
    ] {
        open += table
            .orders_by_status(store, status, 100_000)
            .await
            .expect("orders by status")
            .len();
    }
    open
}

/// Delivers every mall write `app` queued to a mall-writer following it, until the queue is
/// empty (what the deployed event source does).
pub async fn write_to_mall(app: &App, sdk: &SdkConfig) -> Drained {
    let url = app
        .writes
        .as_ref()
        .expect("the app queues its mall writes")
        .url();
    Writer::following(app, sdk, url).drain().await
}

/// A clock `days` days from now: the run that reads the mall after the buyer paid days later.
pub fn clock_days_later(days: i64) -> Arc<dyn Clock> {
    let later = now().checked_add(hours(24 * days)).expect("in range");
    Arc::new(FixedClock::new(later))
}

/// The order's first history entry of `event` (`"lines_cancelled_on_mall"` …); panics naming
/// the order's events when there is none.
pub fn history_entry<'a>(order: &'a Order, event: &str) -> &'a ichigen_core::order::HistoryEntry {
    order
        .history
        .iter()
        .find(|e| e.event == event)
        .unwrap_or_else(|| {
            panic!(
                "no {event} entry in the history of {}: {:?}",
                order.id,
                events(order)
            )
        })
}

/// What one line cancelled on the mall must leave, whichever the mall: the run reports the
/// order among its partial cancellations (not its cancellations), the order is still ready to
/// ship without line `line`, billed less than before, and its history names the line.
pub fn assert_line_cancelled(report: &ImportReport, before: &Order, after: &Order, line: &str) {
    assert_eq!(
        report.lines_cancelled_on_mall,
        vec![before.id.clone()],
        "{}",
        report.summary()
    );
    assert!(report.cancelled_on_mall.is_empty(), "{}", report.summary());
    assert_eq!(after.status, OrderStatus::ReadyToShip, "{:?}", after.holds);
    assert!(
        after.lines().all(|l| l.mall_line_id != line),
        "line {line} is gone"
    );
    assert_eq!(after.lines().count(), before.lines().count() - 1);
    assert!(after.amounts.billed < before.amounts.billed);
    let entry = history_entry(after, "lines_cancelled_on_mall");
    assert!(
        entry
            .changes
            .iter()
            .any(|c| c.starts_with(&format!("line {line} "))),
        "{entry:?}"
    );
}

/// The history events of an order, oldest first (for asserting what happened to it).
pub fn events(order: &Order) -> Vec<&str> {
    order.history.iter().map(|h| h.event.as_str()).collect()
}
