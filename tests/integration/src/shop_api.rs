//! The shop API as the tests call it: the `shop-api` function's own code, handed API Gateway
//! v2 events as API Gateway (HTTP API, IAM auth) passes them.

use std::sync::Arc;

use aws_config::SdkConfig;
use ichigen_aws::ShopHandles;
use ichigen_core::ports::OrderStore;
use serde_json::{Value, json};
use shop_api::App;

/// The shop name every test shop's API answers for.
pub const SHOP: &str = "test-shop";

/// The shop API over a shop's table and queues.
pub fn shop_api(sdk: &SdkConfig, handles: &ShopHandles) -> Arc<App> {
    let app = App::new(
        sdk,
        SHOP,
        handles.table_name.clone(),
        handles.import_queue_url.clone(),
        handles.write_queue_url.clone(),
    )
    .expect("the shop API starts");
    Arc::new(app)
}

/// One request as API Gateway v2 hands it to the function: `target` is the path with its
/// query; `key` the `Idempotency-Key` header; a `base64` body is flagged as API Gateway flags
/// a binary one.
pub fn api_gateway_request(
    method: &str,
    target: &str,
    key: Option<&str>,
    body: Option<String>,
    base64: bool,
) -> lambda_http::Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = json!({"host": "api.example.com", "content-type": "application/json"});
    if let Some(key) = key {
        headers["idempotency-key"] = json!(key);
    }
    let event: aws_lambda_events::apigw::ApiGatewayV2httpRequest = serde_json::from_value(json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": format!("req-{}", uuid::Uuid::new_v4().simple()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:09:00:00 +0000",
            "timeEpoch": 1_796_288_400_000_i64,
            "authorizer": {"iam": {"accessKey": "AKIA", "accountId": "123456789012",
                "callerId": "AIDA", "principalOrgId": null,
                "userArn": "arn:aws:iam::123456789012:user/warehouse", "userId": "AIDA"}}
        },
        "body": body,
        "isBase64Encoded": base64
    }))
    .expect("an API Gateway v2 event");
    lambda_http::request::LambdaRequest::ApiGatewayV2(event).into()
}

/// Sends a JSON request through the function: its status and JSON body.
pub async fn call(
    app: &Arc<App>,
    method: &str,
    target: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let request = api_gateway_request(method, target, key, body.map(|b| b.to_string()), false);
    let response = app.handle(request.map(axum::body::Body::new)).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{method} {target}: body is not JSON ({e}): {bytes:?}"));
    (status, body)
}

/// `store`'s refused mall writes, as the shop API lists them (one page).
pub async fn failed_writes(app: &Arc<App>, store: &str) -> Vec<Value> {
    let target = format!("/shops/{SHOP}/failed-writes?store={store}");
    let (status, body) = call(app, "GET", &target, None, None).await;
    assert_eq!(status, 200, "{body}");
    body["failed_writes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Asks the shop API to send a refused write again, as a person at the shop does.
pub async fn retry_write(app: &Arc<App>, order_id: &str) -> (u16, Value) {
    let target = format!("/shops/{SHOP}/failed-writes/{order_id}/retry");
    let key = format!("retry-{}", uuid::Uuid::new_v4().simple());
    call(
        app,
        "POST",
        &target,
        Some(&key),
        Some(json!({"by": "佐藤"})),
    )
    .await
}

/// The order's write was refused by the mall for good, and the shop API lists it: one entry,
/// naming the order, the mall operation and the mall's message. Returns the message.
pub async fn assert_refused_and_listed(
    app: &Arc<App>,
    order: &ichigen_core::Order,
    operation: &str,
) -> String {
    let ichigen_core::status::SyncState::Failed {
        reason,
        retryable: false,
    } = &order.mall_sync.state
    else {
        panic!(
            "{}: expected a write refused for good, got {:?}",
            order.id, order.mall_sync.state
        );
    };
    let listed = failed_writes(app, &order.store.to_string()).await;
    assert_eq!(listed.len(), 1, "only the refused order: {listed:?}");
    assert_eq!(listed[0]["order_id"], json!(order.id.to_string()));
    assert_eq!(listed[0]["mall_order_id"], json!(order.mall_order_id));
    assert_eq!(listed[0]["operation"], json!(operation));
    assert_eq!(listed[0]["message"], json!(reason));
    reason.clone()
}

/// A person retries the refused write of `order` through the shop API once the mall takes it
/// again; the mall-writer takes its turn: the write is accepted, the order's write is done and
/// the list of refused writes is empty.
pub async fn retry_until_written(
    api: &Arc<App>,
    import: &import_orders::App,
    sdk: &SdkConfig,
    order: &ichigen_core::Order,
) {
    let (status, body) = retry_write(api, &order.id.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let again = crate::write_to_mall(import, sdk).await;
    assert_eq!(again.report.accepted, 1, "{}", again.report.summary());
    let stored = import
        .store
        .get_order(&order.id)
        .await
        .unwrap()
        .expect("the order is stored");
    assert_eq!(
        stored.mall_sync.state,
        ichigen_core::status::SyncState::Done
    );
    assert!(
        failed_writes(api, &order.store.to_string())
            .await
            .is_empty()
    );
}
