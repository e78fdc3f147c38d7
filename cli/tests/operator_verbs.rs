//! `ichigen orders list --hold`, `ichigen orders show` and `ichigen hold clear` as an operator
//! runs them, against the shop's table on the AWS emulator.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use ichigen_aws::{ShopResources, ShopTable, ensure_shop};
use ichigen_core::ports::{OrderStore, StoreConfigs};
use ichigen_core::{ImportSettings, Order, StoreConfig};

fn ichigen(table: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ichigen"))
        .args(args)
        .env("ICHIGEN_TABLE", table)
        .output()
        .expect("ichigen runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "ichigen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn held_order(number: &str, ordered_at: &str) -> Order {
    use ichigen_core::testing::{held, ready_order};
    held(
        ready_order("rakuten:store-a", number, ordered_at),
        &[ichigen_core::HoldKind::UnmappedSku],
    )
}

#[tokio::test]
async fn an_operator_lists_held_orders_reads_one_and_clears_its_hold() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at the local AWS emulator (got {endpoint:?})"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let prefix = format!("cli-{}", uuid::Uuid::new_v4().simple());
    let handles = ensure_shop(&sdk, &ShopResources::with_prefix(&prefix))
        .await
        .unwrap();
    let table = ShopTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        handles.table_name.clone(),
    );
    table
        .put_store_config(&StoreConfig {
            store: "rakuten:store-a".parse().unwrap(),
            secret_id: "s".into(),
            import: ImportSettings::default(),
            enabled: true,
        })
        .await
        .unwrap();
    let order = held_order("700-1", "2026-12-01T09:00:00+09:00");
    table.create_order(&order).await.unwrap();
    let name = handles.table_name.as_str();

    let list = stdout(&ichigen(name, &["orders", "list", "--hold"]));
    assert!(list.contains("rakuten:store-a:700-1"), "{list}");
    assert!(list.contains("unmapped_sku"), "{list}");
    assert!(
        !list.contains("山田"),
        "lists carry no personal data: {list}"
    );

    let show = stdout(&ichigen(name, &["orders", "show", "rakuten:store-a:700-1"]));
    let shown: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(shown["status"], "on_hold");
    assert!(shown.get("raw").is_none() && shown.get("buyer").is_none());

    let cleared = stdout(&ichigen(
        name,
        &[
            "hold",
            "clear",
            "rakuten:store-a:700-1",
            "--by",
            "sato",
            "--reason",
            "mapped S-1",
        ],
    ));
    assert!(cleared.contains("status ready_to_ship"), "{cleared}");
    let stored = table.get_order(&order.id).await.unwrap().unwrap();
    assert!(stored.holds.is_empty());
    assert_eq!(
        stored.history.last().unwrap().changes,
        vec!["unmapped_sku cleared by sato: mapped S-1"]
    );
    let list = stdout(&ichigen(name, &["orders", "list", "--hold"]));
    assert!(list.contains("0 order(s), end of list"), "{list}");

    let missing = ichigen(name, &["orders", "show", "rakuten:store-a:nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
}

#[tokio::test]
async fn an_operator_pages_through_refused_mall_writes_and_retries_one() {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let prefix = format!("cli-{}", uuid::Uuid::new_v4().simple());
    let handles = ensure_shop(&sdk, &ShopResources::with_prefix(&prefix))
        .await
        .unwrap();
    let table = ShopTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        handles.table_name.clone(),
    );
    table
        .put_store_config(&StoreConfig {
            store: "rakuten:store-a".parse().unwrap(),
            secret_id: "s".into(),
            import: ImportSettings::default(),
            enabled: true,
        })
        .await
        .unwrap();
    for (number, failed_at) in [
        ("701-1", "2026-12-02T11:00:00+09:00"),
        ("701-2", "2026-12-02T10:00:00+09:00"),
    ] {
        let mut order = held_order(number, "2026-12-01T09:00:00+09:00");
        order.mall_sync = serde_json::from_value(serde_json::json!({
            "operation": "confirmOrder", "state": "failed", "retryable": false,
            "reason": format!("ERROR_105 {number}"), "attempts": 1, "updated_at": failed_at
        }))
        .unwrap();
        table.create_order(&order).await.unwrap();
    }
    let name = handles.table_name.as_str();

    let first = stdout(&ichigen(name, &["writes", "failed", "--limit", "1"]));
    assert!(
        first.contains("rakuten:store-a:701-2"),
        "oldest first: {first}"
    );
    assert!(first.contains("confirmOrder refused after 1 attempt(s): ERROR_105 701-2"));
    let cursor = first
        .lines()
        .find_map(|l| l.strip_prefix("more: --cursor "))
        .expect("a second page");
    let second = stdout(&ichigen(
        name,
        &["writes", "failed", "--limit", "1", "--cursor", cursor],
    ));
    assert!(second.contains("rakuten:store-a:701-1"), "{second}");
    assert!(!second.contains("701-2"), "no repeats: {second}");

    let queue = handles.write_queue_url.as_str();
    let retry = [
        "writes",
        "retry",
        "rakuten:store-a:701-2",
        "--by",
        "sato",
        "--write-queue-url",
        queue,
    ];
    let retried = stdout(&ichigen(name, &retry));
    assert!(retried.contains("mall write pending"), "{retried}");
    let writes = ichigen_aws::event_source::EventSource::from_sdk(&sdk, queue);
    assert_eq!(
        writes.depth().await.unwrap(),
        (1, 0),
        "the retried write is queued for the mall-writer"
    );
    let stored = table
        .get_order(&"rakuten:store-a:701-2".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.mall_sync.is_outstanding());
    let list = stdout(&ichigen(
        name,
        &["writes", "failed", "--store", "rakuten:store-a"],
    ));
    assert!(list.contains("1 failed write(s), end of list"), "{list}");
    assert!(!list.contains("701-2"), "{list}");

    let again = ichigen(name, &retry);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("mall write is pending"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
