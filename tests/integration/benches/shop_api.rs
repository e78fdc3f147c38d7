//! Shop API benchmark: the handler on the local stack (the function's router, DynamoDB in
//! moto) over real orders imported from the Rakuten sandbox. Prints figures; asserts nothing
//! about time.
//!
//! ```text
//! scripts/bench.sh                    # runs this after the import benchmark
//! BENCH_API_ORDERS=2000 BENCH_API_CALLS=500 cargo bench -p ichigen-integration --bench shop_api
//! ```
//! Per request kind: p50 and p99 of the handler (request in, response out, in-process), the
//! DynamoDB requests it made, and its read units: as the service reported them (moto answers
//! a fixed 1 per Query and 0.5 per GetItem) and by DynamoDB's rule from the bytes read (half a
//! unit per 4 KB per request, eventually consistent), which is what the shop would pay.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ichigen_aws::ShopTable;
use ichigen_core::ImportSettings;
use ichigen_integration::{DynamoDbMeter, Harness, ImportRequest, ago, hours, minutes};
use shop_api::App;
use tower::ServiceExt;

const SHOP: &str = "bench";

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let orders = number("BENCH_API_ORDERS", 1_000);
    let calls = number("BENCH_API_CALLS", 200);

    let harness = Harness::with_settings(ImportSettings {
        first_run_lookback: hours(24 * 31),
        ..ImportSettings::default()
    })
    .await;
    harness
        .seed(orders, 2026, ago(hours(24 * 30)), ago(minutes(1)))
        .await;
    let created: usize = harness
        .run_to_end(ImportRequest::Differential)
        .await
        .iter()
        .map(|r| r.created.len())
        .sum();
    anyhow::ensure!(created == orders, "imported {created} of {orders} orders");

    let meter = DynamoDbMeter::default();
    let mut app = App::new(
        &harness.sdk,
        SHOP,
        harness.handles.table_name.clone(),
        harness.handles.import_queue_url.clone(),
        harness.handles.write_queue_url.clone(),
    )?;
    app.table = Arc::new(ShopTable::new(
        meter.client(&harness.sdk),
        harness.handles.table_name.clone(),
    ));
    // One router for every call, as the Lambda builds it once at start-up.
    let service = shop_api::router(Arc::new(app));

    let list = format!(
        "/shops/{SHOP}/orders?store={}&status=ready_to_ship&limit=100",
        harness.store
    );
    let first_page = get(&service, &list).await?;
    let ids: Vec<String> = first_page["orders"]
        .as_array()
        .map(|orders| {
            orders
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(
        ids.len() == 100,
        "the first page holds {} orders",
        ids.len()
    );

    println!(
        "shop API benchmark: {orders} imported orders, {calls} calls of each kind, handler in-process, DynamoDB in moto\n"
    );
    println!(
        "{:<28} {:>9} {:>9} {:>13} {:>16} {:>16}",
        "request", "p50 ms", "p99 ms", "ddb req/call", "RCU (reported)", "RCU (by bytes)"
    );
    let measure = async |name: &str, targets: Vec<String>| -> anyhow::Result<()> {
        let (requests, reported, estimated) = (
            meter.requests(),
            meter.reported_read_units(),
            meter.estimated_read_units(),
        );
        let mut times = Vec::with_capacity(targets.len());
        for target in &targets {
            let started = Instant::now();
            get(&service, target).await?;
            times.push(started.elapsed());
        }
        times.sort();
        let n = targets.len() as f64;
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>13.2} {:>16.2} {:>16.2}",
            name,
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99)),
            (meter.requests() - requests) as f64 / n,
            (meter.reported_read_units() - reported) / n,
            (meter.estimated_read_units() - estimated) / n,
        );
        Ok(())
    };
    measure("list 100 by status", vec![list.clone(); calls]).await?;
    measure(
        "one order",
        (0..calls)
            .map(|i| format!("/shops/{SHOP}/orders/{}", ids[i % ids.len()]))
            .collect(),
    )
    .await?;
    Ok(())
}

/// GETs `target` through the handler; the answer's JSON (a non-200 is an error).
async fn get(service: &Router, target: &str) -> anyhow::Result<serde_json::Value> {
    let request = Request::get(target).body(Body::empty())?;
    let response = match service.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "{target}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok(serde_json::from_slice(&body)?)
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    let index = ((sorted.len() as f64 * share).ceil() as usize).saturating_sub(1);
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
