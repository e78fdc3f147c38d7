//! The shop API end to end: API Gateway HTTP API (v2) events through the function's router,
//! against the AWS emulator (moto). Every answer is checked against `openapi.yaml` (status
//! listed for the route, content type, body schema), so these tests are also its contract.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;

use ichigen_aws::{ShopResources, ShopTable, ensure_shop};
use ichigen_core::import::{ImportCommand, ImportRequest};
use ichigen_core::ports::{FailedImport, FailedImportStore, ImportStep, OrderStore, StoreConfigs};
use ichigen_core::{
    HoldKind, ImportSettings, JstInstant, Order, OrderStatus, StoreConfig, StoreRef,
};
use ichigen_integration::shop_api::api_gateway_request;
use ichigen_integration::{Harness, emulator_sdk};
use serde_json::{Value, json};
use shop_api::App;

const SHOP: &str = "shop-1";

fn openapi() -> &'static Value {
    static OPENAPI: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    OPENAPI.get_or_init(|| serde_yaml::from_str(shop_api::OPENAPI_YAML).expect("openapi.yaml"))
}

/// One shop on the emulator with the API's code wired to it.
struct Api {
    app: Arc<App>,
    table: ShopTable,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

struct Reply {
    status: u16,
    content_type: String,
    replayed: bool,
    body: Value,
}

impl Api {
    async fn new() -> Api {
        Self::for_shop(SHOP).await
    }

    async fn for_shop(shop: &str) -> Api {
        let sdk = emulator_sdk().await;
        let prefix = format!("api-{}", uuid::Uuid::new_v4().simple());
        let handles = ensure_shop(&sdk, &ShopResources::with_prefix(&prefix))
            .await
            .expect("shop resources");
        let table = ShopTable::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            handles.table_name.clone(),
        );
        for store in ["rakuten:store-a", "yahoo:store-b"] {
            table
                .put_store_config(&StoreConfig {
                    store: store.parse().unwrap(),
                    secret_id: format!("{prefix}/{store}"),
                    import: ImportSettings::default(),
                    enabled: true,
                })
                .await
                .unwrap();
        }
        let app = App::new(
            &sdk,
            shop,
            handles.table_name.clone(),
            handles.import_queue_url.clone(),
            handles.write_queue_url.clone(),
        )
        .expect("app");
        Api {
            app: Arc::new(app),
            table,
            sqs: aws_sdk_sqs::Client::new(&sdk),
            queue_url: handles.import_queue_url,
        }
    }

    /// The API over an import harness's shop: the table and queue its import runs use, so a
    /// test can drive the mall (sandbox) and the API together.
    fn over(harness: &Harness) -> Api {
        let app = App::new(
            &harness.sdk,
            SHOP,
            harness.handles.table_name.clone(),
            harness.handles.import_queue_url.clone(),
            harness.handles.write_queue_url.clone(),
        )
        .expect("app");
        Api {
            app: Arc::new(app),
            table: harness.table.as_ref().clone(),
            sqs: aws_sdk_sqs::Client::new(&harness.sdk),
            queue_url: harness.handles.import_queue_url.clone(),
        }
    }

    /// Sends one API Gateway v2 event through the function and checks the answer against the
    /// OpenAPI description.
    async fn call(
        &self,
        method: &str,
        target: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(method, target, key, body.map(|b| b.to_string()), false)
            .await
    }

    /// Like [`Api::call`] with a body as API Gateway passes it (base64 when it is binary).
    async fn send(
        &self,
        method: &str,
        target: &str,
        key: Option<&str>,
        body: Option<String>,
        base64: bool,
    ) -> Reply {
        let path = target.split_once('?').map_or(target, |(path, _)| path);
        let request = api_gateway_request(method, target, key, body, base64);
        let response = self.app.handle(request.map(axum::body::Body::new)).await;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let content_type = header("content-type");
        let replayed = header("idempotent-replayed") == "true";
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {target}: body is not JSON ({e}): {bytes:?}"));
        let reply = Reply {
            status,
            content_type,
            replayed,
            body,
        };
        check_against_openapi(method, path, &reply);
        reply
    }

    async fn create(&self, order: &Order) {
        self.table.create_order(order).await.unwrap();
    }

    async fn queued(&self) -> Vec<ImportCommand> {
        let mut commands = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return commands;
            }
            for m in messages {
                commands.push(serde_json::from_str(m.body().unwrap()).unwrap());
            }
        }
    }
}

/// The OpenAPI path template a concrete path matches (`/shops/{shop}/orders/{order_id}`).
fn path_template(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    openapi()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|template| {
            let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .cloned()
}

fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            openapi().pointer(pointer).expect("a $ref that resolves")
        }
        None => value,
    }
}

/// Fails unless the answer's status is listed for the operation and its body validates
/// against the listed schema in the listed content type.
fn check_against_openapi(method: &str, path: &str, reply: &Reply) {
    let Some(template) = path_template(path) else {
        assert_eq!(
            reply.status, 404,
            "{method} {path}: unknown to the OpenAPI file"
        );
        return;
    };
    let operation = &openapi()["paths"][&template][method.to_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {template} is not in openapi.yaml"
    );
    let response = operation["responses"]
        .get(reply.status.to_string())
        .map(resolve)
        .unwrap_or_else(|| {
            panic!(
                "{method} {template}: status {} is not listed (body {})",
                reply.status, reply.body
            )
        });
    let content_type = reply.content_type.split(';').next().unwrap_or_default();
    let schema = response["content"][content_type]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {template} {}: content type {content_type:?} is not listed",
        reply.status
    );
    let mut document = resolve(&schema).clone();
    let map = document.as_object_mut().unwrap();
    map.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    map.insert("components".into(), openapi()["components"].clone());
    let validator = jsonschema::validator_for(&document).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {}: the body does not match its schema: {errors:?}\n{}",
        reply.status,
        reply.body
    );
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn at(text: &str) -> JstInstant {
    text.parse().unwrap()
}

/// A paid order ready to ship, with a buyer and a ship-to.
fn order(store: &str, number: &str, ordered_at: &str) -> Order {
    ichigen_core::testing::ready_order(store, number, ordered_at)
}

fn held(order: Order, kind: HoldKind) -> Order {
    ichigen_core::testing::held(order, &[kind])
}

fn orders_path(query: &str) -> String {
    format!("/shops/{SHOP}/orders{query}")
}

fn order_path(id: &str) -> String {
    format!("/shops/{SHOP}/orders/{id}")
}

/// How many orders the paging test lists (the issue asks for 10,000; a quicker local run may
/// set fewer with `ICHIGEN_PAGING_ORDERS`).
fn paging_orders() -> usize {
    std::env::var("ICHIGEN_PAGING_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

#[tokio::test]
async fn a_long_list_pages_through_without_repeats_or_gaps_while_orders_arrive() {
    let api = Api::new().await;
    let count = paging_orders();
    let base = at("2026-11-01T00:00:00+09:00");
    let instant = move |i: usize| {
        base.checked_add(jiff::SignedDuration::from_secs(i as i64 * 17))
            .unwrap()
    };
    let originals: Vec<Order> = (0..count)
        .map(|i| {
            let store = if i % 3 == 0 {
                "yahoo:store-b"
            } else {
                "rakuten:store-a"
            };
            let mut o = order(store, &format!("P{i:05}"), &instant(i).to_string());
            if i % 7 == 0 {
                o = held(o, HoldKind::UnmappedSku);
            }
            o
        })
        .collect();
    futures::stream::iter(originals.iter())
        .for_each_concurrent(32, |o| api.create(o))
        .await;

    // Orders keep arriving until the list is read to its end: some ordered within the listed
    // span (an import of late-listed orders), at times no original order has.
    let reading = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let arriving = tokio::spawn({
        let table = api.table.clone();
        let reading = reading.clone();
        async move {
            let mut created = Vec::new();
            let mut i = 0;
            while reading.load(std::sync::atomic::Ordering::Relaxed) {
                let ordered_at = instant(i * 53 % count.max(1))
                    .checked_add(jiff::SignedDuration::from_millis(500))
                    .unwrap();
                let o = order(
                    "rakuten:store-a",
                    &format!("L{i:05}"),
                    &ordered_at.to_string(),
                );
                table.create_order(&o).await.unwrap();
                created.push(o.id.to_string());
                i += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            created
        }
    });

    let mut seen: Vec<(String, String)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut busy_answers = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=500&cursor={c}"),
            None => "?limit=500".to_owned(),
        };
        // A client retries a 503 after its Retry-After, as the API documents. (moto answers
        // 500 now and then when a write lands while it walks an index: "dictionary changed
        // size during iteration"; the API passes that on as 503.)
        let mut reply = api.call("GET", &orders_path(&query), None, None).await;
        let mut retries = 0;
        while reply.status == 503 && retries < 5 {
            retries += 1;
            busy_answers += 1;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            reply = api.call("GET", &orders_path(&query), None, None).await;
        }
        assert_eq!(reply.status, 200, "{}", reply.body);
        for o in reply.body["orders"].as_array().unwrap() {
            seen.push((
                format!(
                    "{}#{}",
                    o["ordered_at"].as_str().unwrap(),
                    o["id"].as_str().unwrap()
                ),
                o["id"].as_str().unwrap().to_owned(),
            ));
        }
        pages += 1;
        assert!(pages < 1_000, "the list never ends");
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    reading.store(false, std::sync::atomic::Ordering::Relaxed);
    let arrived = arriving.await.unwrap();
    assert!(
        !arrived.is_empty(),
        "no order arrived while the list was read"
    );
    assert!(
        busy_answers < pages,
        "{busy_answers} busy answers in {pages} pages"
    );

    let ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    let unique: BTreeSet<&String> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an order was listed twice");
    for o in &originals {
        assert!(unique.contains(&o.id.to_string()), "{} is missing", o.id);
    }
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "not in (order time, id) order"
    );
    // Late orders appear or not depending on where the reader was; never twice (above).
    assert!(unique.len() >= count && unique.len() <= count + arrived.len());
    // Lists carry no personal data.
    let page = api.call("GET", &orders_path("?limit=5"), None, None).await;
    let text = page.body.to_string();
    assert!(
        !text.contains("山田") && !text.contains("0312345678") && !text.contains("千代田"),
        "{text}"
    );
}

#[tokio::test]
async fn filters_by_status_store_hold_and_time() {
    let api = Api::new().await;
    api.create(&order("rakuten:store-a", "1", "2026-12-01T09:00:00+09:00"))
        .await;
    api.create(&held(
        order("rakuten:store-a", "2", "2026-12-01T10:00:00+09:00"),
        HoldKind::UnmappedSku,
    ))
    .await;
    api.create(&held(
        order("yahoo:store-b", "3", "2026-12-01T11:00:00+09:00"),
        HoldKind::TotalsMismatch,
    ))
    .await;
    api.create(&order("yahoo:store-b", "4", "2026-12-01T12:00:00+09:00"))
        .await;
    let numbers = |reply: &Reply| -> Vec<String> {
        reply.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["mall_order_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let ready = api
        .call("GET", &orders_path("?status=ready_to_ship"), None, None)
        .await;
    assert_eq!(numbers(&ready), ["1", "4"]);
    let held_only = api
        .call("GET", &orders_path("?held=true"), None, None)
        .await;
    assert_eq!(numbers(&held_only), ["2", "3"]);
    let by_kind = api
        .call("GET", &orders_path("?hold=totals_mismatch"), None, None)
        .await;
    assert_eq!(numbers(&by_kind), ["3"]);
    let store = api
        .call("GET", &orders_path("?store=yahoo:store-b"), None, None)
        .await;
    assert_eq!(numbers(&store), ["3", "4"]);
    let mall = api
        .call("GET", &orders_path("?mall=rakuten"), None, None)
        .await;
    assert_eq!(numbers(&mall), ["1", "2"]);
    let window = api
        .call(
            "GET",
            &orders_path("?from=2026-12-01T10:00:00%2B09:00&to=2026-12-01T12:00:00%2B09:00"),
            None,
            None,
        )
        .await;
    assert_eq!(numbers(&window), ["2", "3"]);
}

#[tokio::test]
async fn one_order_shows_its_ship_to_and_history_but_not_the_buyer_or_payload() {
    let api = Api::new().await;
    let o = order("rakuten:store-a", "100-1", "2026-12-01T09:00:00+09:00");
    api.create(&o).await;
    let reply = api
        .call("GET", &order_path(o.id.as_str()), None, None)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["id"], json!(o.id.as_str()));
    assert_eq!(
        reply.body["destinations"][0]["address"]["city"],
        json!("千代田区")
    );
    assert_eq!(reply.body["version"], json!(1));
    assert!(reply.body.get("buyer").is_none() && reply.body.get("raw").is_none());
    assert!(!reply.body.to_string().contains("taro@example.jp"));

    let missing = api
        .call("GET", &order_path("rakuten:store-a:no-such"), None, None)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.content_type, "application/problem+json");
    assert_eq!(
        missing.body["type"],
        json!("urn:ichigen:problem:order-not-found")
    );

    let bad = api.call("GET", &order_path("not-an-id"), None, None).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["field"], json!("order_id"));
}

#[tokio::test]
async fn clearing_a_hold_is_recorded_in_the_history_and_the_order_becomes_ready() {
    let api = Api::new().await;
    let o = held(
        order("rakuten:store-a", "200-1", "2026-12-01T09:00:00+09:00"),
        HoldKind::UnmappedSku,
    );
    api.create(&o).await;
    let reply = api
        .call(
            "POST",
            &format!("{}/holds/clear", order_path(o.id.as_str())),
            Some(&key()),
            Some(json!({"by": "sato", "reason": "S-1 is SKU-1", "kind": "unmapped_sku"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], json!("ready_to_ship"));
    let stored = api.table.get_order(&o.id).await.unwrap().unwrap();
    assert!(stored.holds.is_empty());
    let entry = stored.history.last().unwrap();
    assert_eq!(entry.event, "hold_cleared");
    assert_eq!(
        entry.changes,
        vec!["unmapped_sku cleared by sato: S-1 is SKU-1"]
    );
    let held_list = api
        .call("GET", &orders_path("?held=true"), None, None)
        .await;
    assert_eq!(held_list.body["orders"], json!([]));

    let again = api
        .call(
            "POST",
            &format!("{}/holds/clear", order_path(o.id.as_str())),
            Some(&key()),
            Some(json!({"by": "sato", "reason": "again"})),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.body["type"],
        json!("urn:ichigen:problem:no-such-hold")
    );
}

#[tokio::test]
async fn two_edits_on_the_same_version_give_exactly_one_conflict_and_lose_nothing() {
    let api = Api::new().await;
    let o = order("rakuten:store-a", "300-1", "2026-12-01T09:00:00+09:00");
    api.create(&o).await;
    let path = order_path(o.id.as_str());
    let slot = json!({"version": 1, "by": "sato", "time_slot": "14-16"});
    let date = json!({"version": 1, "by": "suzuki", "desired_date": "2026-12-10"});
    let (key_a, key_b) = (key(), key());
    let (a, b) = tokio::join!(
        api.call("PATCH", &path, Some(&key_a), Some(slot.clone())),
        api.call("PATCH", &path, Some(&key_b), Some(date.clone())),
    );
    let statuses: BTreeSet<u16> = [a.status, b.status].into();
    assert_eq!(
        statuses,
        BTreeSet::from([200, 409]),
        "{} / {}",
        a.body,
        b.body
    );
    let (won, lost, lost_body) = if a.status == 200 {
        (&a, &b, date)
    } else {
        (&b, &a, slot)
    };
    assert_eq!(
        lost.body["type"],
        json!("urn:ichigen:problem:stale-version")
    );
    assert_eq!(lost.body["current_version"], json!(2));
    assert_eq!(won.body["version"], json!(2));

    // The loser re-reads and redoes its change on the current version: both changes stay.
    let mut retry = lost_body;
    retry["version"] = json!(2);
    let redone = api.call("PATCH", &path, Some(&key()), Some(retry)).await;
    assert_eq!(redone.status, 200, "{}", redone.body);
    let stored = api.table.get_order(&o.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(
        stored.delivery.time_slot.and_then(|s| s.mapped).as_deref(),
        Some("14-16")
    );
    assert_eq!(
        stored.delivery.desired_date,
        Some(jiff::civil::date(2026, 12, 10))
    );
}

#[tokio::test]
async fn the_same_post_with_the_same_key_acts_once() {
    let api = Api::new().await;
    let o = order("rakuten:store-a", "400-1", "2026-12-01T09:00:00+09:00");
    api.create(&o).await;
    let path = format!("{}/shipment", order_path(o.id.as_str()));
    let shipment = json!({"carrier": "yamato", "tracking_numbers": ["1234-5678-9012"],
                          "shipped_on": "2026-12-01", "by": "warehouse"});
    let k = key();
    let first = api
        .call("POST", &path, Some(&k), Some(shipment.clone()))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(!first.replayed);
    let second = api
        .call("POST", &path, Some(&k), Some(shipment.clone()))
        .await;
    assert_eq!(second.status, 200);
    assert!(second.replayed);
    assert_eq!(second.body, first.body);
    let stored = api.table.get_order(&o.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2, "one effect");
    assert_eq!(stored.operator.shipments.len(), 1);
    assert_eq!(
        stored
            .history
            .iter()
            .filter(|h| h.event == "shipped")
            .count(),
        1
    );

    // A new key is a new request: the order is shipped already, so the status machine says no.
    let other = api
        .call("POST", &path, Some(&key()), Some(shipment.clone()))
        .await;
    assert_eq!(other.status, 409);
    assert_eq!(
        other.body["type"],
        json!("urn:ichigen:problem:illegal-transition")
    );
    assert_eq!(other.body["current_status"], json!("shipped"));

    // The same key for another request is refused; no key at all too.
    let reused = api
        .call(
            "PUT",
            &format!("/shops/{SHOP}/stock/SKU-1"),
            Some(&k),
            Some(json!({"quantity": 3})),
        )
        .await;
    assert_eq!(reused.status, 422);
    let keyless = api
        .call(
            "PUT",
            &format!("/shops/{SHOP}/stock/SKU-1"),
            None,
            Some(json!({"quantity": 3})),
        )
        .await;
    assert_eq!(keyless.status, 400);
    assert_eq!(keyless.body["field"], json!("Idempotency-Key"));

    // Stock set twice with one key moves the sequence once.
    let k = key();
    let body =
        json!({"levels": [{"sku": "SKU-1", "quantity": 5}, {"sku": "SKU-2", "quantity": 0}]});
    let once = api
        .call(
            "PUT",
            &format!("/shops/{SHOP}/stock"),
            Some(&k),
            Some(body.clone()),
        )
        .await;
    let twice = api
        .call("PUT", &format!("/shops/{SHOP}/stock"), Some(&k), Some(body))
        .await;
    assert_eq!((once.status, twice.status), (200, 200));
    let level = api
        .call("GET", &format!("/shops/{SHOP}/stock/SKU-1"), None, None)
        .await;
    assert_eq!(level.body["quantity"], json!(5));
    assert_eq!(level.body["sequence"], json!(1));
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field() {
    let api = Api::new().await;
    let o = order("rakuten:store-a", "500-1", "2026-12-01T09:00:00+09:00");
    api.create(&o).await;
    let path = order_path(o.id.as_str());
    let cases = [
        ("GET", orders_path("?status=lost"), None, "status"),
        ("GET", orders_path("?limit=0"), None, "limit"),
        (
            "GET",
            orders_path("?cursor=eyJhZnRlciI6IngifQ"),
            None,
            "cursor",
        ),
        ("GET", orders_path("?colour=red"), None, "colour"),
        ("GET", orders_path("?store=nowhere"), None, "store"),
        (
            "PATCH",
            path.clone(),
            Some(json!({"version": 1, "by": "sato", "ship_to": {"phone": "12"}})),
            "ship_to.phone",
        ),
        (
            "PATCH",
            path.clone(),
            Some(json!({"version": 1, "by": "sato", "time_slot": "late"})),
            "time_slot",
        ),
        (
            "PATCH",
            path.clone(),
            Some(json!({"by": "sato", "note": "x"})),
            "version",
        ),
        (
            "PATCH",
            path.clone(),
            Some(json!({"version": 1, "by": "sato", "colour": "red"})),
            "colour",
        ),
        (
            "PATCH",
            path.clone(),
            Some(json!({"version": "one", "by": "sato"})),
            "version",
        ),
        (
            "POST",
            format!("{path}/shipment"),
            Some(
                json!({"carrier": "yamato", "tracking_numbers": [], "shipped_on": "2026-12-01", "by": "w"}),
            ),
            "tracking_numbers",
        ),
        (
            "POST",
            format!("{path}/shipment"),
            Some(
                json!({"carrier": "yamato", "tracking_numbers": ["1234"], "shipped_on": "yesterday", "by": "w"}),
            ),
            "shipped_on",
        ),
        (
            "POST",
            format!("/shops/{SHOP}/reimports"),
            Some(json!({"store": "rakuten:store-a"})),
            "body",
        ),
        (
            "PUT",
            format!("/shops/{SHOP}/stock"),
            Some(json!({"levels": [{"sku": "bad sku", "quantity": 1}]})),
            "levels[0].sku",
        ),
        (
            "PUT",
            format!("/shops/{SHOP}/stock"),
            Some(json!({"levels": [{"sku": "A", "quantity": -1}]})),
            "levels[0].quantity",
        ),
    ];
    for (method, target, body, field) in cases {
        let k = key();
        let reply = api.call(method, &target, Some(&k), body).await;
        assert_eq!(reply.status, 400, "{method} {target}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
        assert_eq!(
            reply.body["field"],
            json!(field),
            "{method} {target}: {}",
            reply.body
        );
        for member in ["type", "title", "detail"] {
            assert!(reply.body[member].is_string(), "{member} in {}", reply.body);
        }
    }
    let unchanged = api.table.get_order(&o.id).await.unwrap().unwrap();
    assert_eq!(unchanged.version, 1);

    let other_shop = api
        .call("GET", "/shops/another-shop/orders", None, None)
        .await;
    assert_eq!(other_shop.status, 403);
    assert_eq!(other_shop.body["field"], json!("shop"));
}

#[tokio::test]
async fn a_shipment_for_a_held_order_is_refused_with_its_status() {
    let api = Api::new().await;
    let o = held(
        order("rakuten:store-a", "600-1", "2026-12-01T09:00:00+09:00"),
        HoldKind::CancelRequested,
    );
    api.create(&o).await;
    let reply = api
        .call(
            "POST",
            &format!("{}/shipment", order_path(o.id.as_str())),
            Some(&key()),
            Some(
                json!({"carrier": "sagawa", "tracking_numbers": ["555566667777"],
                        "shipped_on": "2026-12-01", "by": "warehouse"}),
            ),
        )
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.body["current_status"], json!("on_hold"));
    assert_eq!(
        api.table.get_order(&o.id).await.unwrap().unwrap().status,
        OrderStatus::OnHold
    );
}

#[tokio::test]
async fn reimports_and_failed_import_retries_go_on_the_import_queue() {
    let api = Api::new().await;
    let one = api
        .call(
            "POST",
            &format!("/shops/{SHOP}/reimports"),
            Some(&key()),
            Some(
                json!({"store": "rakuten:store-a", "mall_order_ids": ["100001-20261201-0000001"]}),
            ),
        )
        .await;
    assert_eq!(one.status, 202, "{}", one.body);
    let range = api
        .call(
            "POST",
            &format!("/shops/{SHOP}/reimports"),
            Some(&key()),
            Some(
                json!({"store": "yahoo:store-b", "from": "2026-11-01T00:00:00+09:00",
                        "to": "2026-11-03T00:00:00+09:00"}),
            ),
        )
        .await;
    assert_eq!(range.status, 202, "{}", range.body);
    let unknown = api
        .call(
            "POST",
            &format!("/shops/{SHOP}/reimports"),
            Some(&key()),
            Some(json!({"store": "qoo10:nope", "mall_order_ids": ["1"]})),
        )
        .await;
    assert_eq!(unknown.status, 404);

    let store: StoreRef = "rakuten:store-a".parse().unwrap();
    let now = at("2026-12-01T09:00:00+09:00");
    api.table
        .record_failed_import(&FailedImport {
            store: store.clone(),
            mall_order_id: "100001-20261201-0000009".into(),
            step: ImportStep::Normalise,
            error: "totalPrice is not a number".into(),
            first_seen: now,
            last_seen: now,
            attempts: 3,
            next_attempt_at: None,
            raw: None,
        })
        .await
        .unwrap();
    let failed = api
        .call("GET", &format!("/shops/{SHOP}/failed-imports"), None, None)
        .await;
    assert_eq!(
        failed.body["failed_imports"][0]["mall_order_id"],
        json!("100001-20261201-0000009")
    );
    let retry = api
        .call(
            "POST",
            &format!("/shops/{SHOP}/failed-imports/rakuten:store-a/100001-20261201-0000009/retry"),
            Some(&key()),
            None,
        )
        .await;
    assert_eq!(retry.status, 202, "{}", retry.body);
    let missing = api
        .call(
            "POST",
            &format!("/shops/{SHOP}/failed-imports/rakuten:store-a/no-such/retry"),
            Some(&key()),
            None,
        )
        .await;
    assert_eq!(missing.status, 404);

    // What was queued is what import-orders reads.
    let queued = api.queued().await;
    let requests: Vec<(String, ImportRequest)> = queued
        .into_iter()
        .map(|c| (c.store.to_string(), c.request))
        .collect();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(requests.contains(&(
        "rakuten:store-a".into(),
        ImportRequest::Orders {
            mall_order_ids: vec!["100001-20261201-0000001".into()],
            reimport: true
        }
    )));
    assert!(requests.contains(&(
        "yahoo:store-b".into(),
        ImportRequest::Range {
            from: at("2026-11-01T00:00:00+09:00"),
            to: at("2026-11-03T00:00:00+09:00")
        }
    )));
    assert!(requests.contains(&(
        "rakuten:store-a".into(),
        ImportRequest::Orders {
            mall_order_ids: vec!["100001-20261201-0000009".into()],
            reimport: false
        }
    )));

    let stores = api
        .call("GET", &format!("/shops/{SHOP}/stores"), None, None)
        .await;
    assert_eq!(stores.status, 200);
    assert_eq!(stores.body["stores"].as_array().unwrap().len(), 2);
}

/// Every operation in openapi.yaml is routed (not the router's "no such route" or "method not
/// allowed"), and the served `/openapi.json` is the file.
#[tokio::test]
async fn every_operation_in_the_openapi_file_is_routed() {
    let api = Api::new().await;
    let served = api.call("GET", "/openapi.json", None, None).await;
    assert_eq!(&served.body, openapi());
    assert_eq!(openapi()["openapi"], json!("3.1.0"));

    let samples = [
        ("{shop}", SHOP),
        ("{order_id}", "rakuten:store-a:no-such"),
        ("{store}", "rakuten:store-a"),
        ("{mall_order_id}", "no-such"),
        ("{sku}", "SKU-9"),
    ];
    let mut operations = 0;
    for (template, item) in openapi()["paths"].as_object().unwrap() {
        let mut path = template.clone();
        for (name, value) in samples {
            path = path.replace(name, value);
        }
        assert!(!path.contains('{'), "no sample for {template}");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let body = (method != "get").then(|| json!({}));
            let reply = api
                .call(&method.to_uppercase(), &path, Some(&key()), body)
                .await;
            let kind = reply.body["type"].as_str().unwrap_or_default();
            assert!(
                kind != "urn:ichigen:problem:no-such-route"
                    && kind != "urn:ichigen:problem:method-not-allowed",
                "{method} {template} is not routed: {}",
                reply.body
            );
        }
    }
    assert_eq!(operations, 16);
    let unrouted = api
        .call("GET", &format!("/shops/{SHOP}/nothing-here"), None, None)
        .await;
    assert_eq!(
        unrouted.body["type"],
        json!("urn:ichigen:problem:no-such-route")
    );
}

/// The sample event for `cargo lambda invoke` reads as an API Gateway v2 event and lists the
/// held orders of the local run's shop.
#[tokio::test]
async fn the_sample_event_lists_held_orders() {
    let api = Api::for_shop("demo").await;
    api.create(&held(
        order("rakuten:store-a", "800-1", "2026-12-01T09:00:00+09:00"),
        HoldKind::UnmappedTimeSlot,
    ))
    .await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/shop-api-held-orders.json");
    let event: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let request: lambda_http::Request =
        lambda_http::request::LambdaRequest::ApiGatewayV2(event).into();
    let response = api.app.handle(request.map(axum::body::Body::new)).await;
    assert_eq!(response.status(), 200);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["orders"][0]["id"], json!("rakuten:store-a:800-1"));
}

/// The list of failed mall writes and its cursor, as one value per page.
async fn failed_writes_page(api: &Api, query: &str) -> (Vec<Value>, Option<String>) {
    let reply = api
        .call(
            "GET",
            &format!("/shops/{SHOP}/failed-writes{query}"),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let writes = reply.body["failed_writes"].as_array().unwrap().clone();
    let next = reply.body["next_cursor"].as_str().map(str::to_owned);
    (writes, next)
}

#[tokio::test]
async fn a_write_the_mall_refused_is_listed_and_a_retry_sends_it_through_the_mall_writer() {
    use ichigen_sandbox::control::{GenerateOptions, OrderKind, RakutenLimits};
    let h = Harness::new().await;
    let api = Api::over(&h);
    // The mall refuses to confirm an order whose postage the shop has not fixed yet.
    let refusing = RakutenLimits {
        confirm_rejects_unfixed_postage: true,
        ..RakutenLimits::default()
    };
    h.control().rakuten_set_limits(&refusing).await.unwrap();
    let options = GenerateOptions {
        order_datetimes: Some(vec![
            ichigen_integration::rakuten_time(ichigen_integration::ago(
                ichigen_integration::hours(2),
            )),
            ichigen_integration::rakuten_time(ichigen_integration::ago(
                ichigen_integration::hours(1),
            )),
        ]),
        kinds: Some(vec![OrderKind::UnfixedPostage, OrderKind::Plain]),
        seed: Some(7),
        ..GenerateOptions::default()
    };
    let numbers = h.generate(&options).await;
    h.differential().await.expect("import run");
    let written = h.write_to_mall().await;
    assert_eq!(
        written.report.refused.len(),
        1,
        "{}",
        written.report.summary()
    );
    assert!(
        written.failed_receipts.is_empty(),
        "a refusal is final: not given back to the queue"
    );
    let unfixed = h.order(&numbers[0]).await.expect("imported");
    let refused_message = match &unfixed.mall_sync.state {
        ichigen_core::status::SyncState::Failed {
            reason,
            retryable: false,
        } => reason.clone(),
        other => panic!("expected a final refusal, got {other:?}"),
    };

    let (writes, next) = failed_writes_page(&api, "?store=rakuten:store-a").await;
    assert_eq!(writes.len(), 1, "only the refused order: {writes:?}");
    assert_eq!(next, None);
    let write = &writes[0];
    assert_eq!(write["order_id"], json!(unfixed.id.to_string()));
    assert_eq!(write["mall_order_id"], json!(numbers[0]));
    assert_eq!(write["operation"], json!("confirmOrder"));
    assert_eq!(write["message"], json!(refused_message));
    assert_eq!(write["attempts"], json!(1));
    assert_eq!(failed_writes_page(&api, "").await.0, writes, "all stores");

    for (query, field) in [
        ("?cursor=not-a-cursor", "cursor"),
        ("?status=failed", "status"),
    ] {
        let reply = api
            .call(
                "GET",
                &format!("/shops/{SHOP}/failed-writes{query}"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["field"], json!(field));
    }
    let retry_unfixed = format!("/shops/{SHOP}/failed-writes/{}/retry", unfixed.id);
    for (body, field) in [
        (json!({}), "by"),
        (json!({"by": " "}), "by"),
        (json!({"by": "佐藤", "reason": "x"}), "reason"),
    ] {
        let reply = api
            .call("POST", &retry_unfixed, Some(&key()), Some(body.clone()))
            .await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["field"], json!(field), "{body}");
    }

    // The confirmed order's write is done: retrying it is a conflict naming its state.
    let retry_path = |id: &str| format!("/shops/{SHOP}/failed-writes/{id}/retry");
    let confirmed = h.order_id(&numbers[1]).to_string();
    let reply = api
        .call(
            "POST",
            &retry_path(&confirmed),
            Some(&key()),
            Some(json!({"by": "佐藤"})),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(reply.body["current_sync_state"], json!("done"));
    let unknown = h.order_id("100001-20261203-9999999").to_string();
    let reply = api
        .call(
            "POST",
            &retry_path(&unknown),
            Some(&key()),
            Some(json!({"by": "佐藤"})),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);

    // The shop fixes the postage; a person asks for the confirmation again.
    h.control()
        .rakuten_set_limits(&RakutenLimits::default())
        .await
        .unwrap();
    let reply = api
        .call(
            "POST",
            &retry_path(&unfixed.id.to_string()),
            Some(&key()),
            Some(json!({"by": "佐藤"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["mall_sync"]["state"], json!("pending"));
    let entry = reply.body["history"].as_array().unwrap().last().unwrap();
    assert_eq!(entry["event"], json!("mall_write_retried"));
    assert!(
        entry["changes"][0]
            .as_str()
            .unwrap()
            .ends_with("asked by 佐藤"),
        "{entry}"
    );
    assert!(
        failed_writes_page(&api, "").await.0.is_empty(),
        "owed, not failed"
    );
    assert!(
        !h.confirmed_on_mall().await.contains(&numbers[0]),
        "nothing sent before the mall-writer's turn"
    );

    let retried = h.write_to_mall().await;
    assert_eq!(retried.report.accepted, 1, "{}", retried.report.summary());
    assert!(
        h.confirmed_on_mall().await.contains(&numbers[0]),
        "sent again"
    );
    let order = h.order(&numbers[0]).await.unwrap();
    assert_eq!(order.mall_sync.state, ichigen_core::status::SyncState::Done);
    assert_eq!(order.mall_sync.attempts, 2);
    assert!(failed_writes_page(&api, "").await.0.is_empty());
}
