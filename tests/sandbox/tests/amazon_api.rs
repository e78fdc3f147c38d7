//! The Amazon sandbox over real HTTP: LWA, restricted-data tokens, getOrders paging and its
//! 2-minute rule, items paging, the unknown-id answer, token buckets with bursts; and every
//! answer checked against the response schemas of Amazon's own model (`ordersV0.json`,
//! `tokens_2021-03-01.json`, vendored beside the repository in `shared/malls/amazon-models`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_sandbox::amazon::{MARKETPLACE_JP, format_utc};
use ichigen_sandbox::control::{
    AmazonCancelItemRequest, AmazonClock, AmazonGenerateOptions, AmazonLimits,
    AmazonOrderEventRequest, AmazonOrderKind, AmazonRegisterSellerRequest,
};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SELLER: &str = "A2SANDBOXMERCH";
const CLIENT_ID: &str = "amzn1.application-oa2-client.sandbox";
const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.sandbox";
const REFRESH: &str = "Atzr|IwEBIsandbox";

fn model(name: &str) -> Value {
    let path = format!(
        "{}/../../../shared/malls/amazon-models/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
}

/// Checks `value` against a Swagger 2.0 schema (`type`, `required`, `properties`, `items`,
/// `enum`, `$ref` into `definitions`): the subset the SP-API models use. Returns every
/// mismatch with its JSON path.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/definitions/");
        let target = &doc["definitions"][name];
        assert!(!target.is_null(), "unknown $ref {reference}");
        return validate(doc, target, value, at, problems);
    }
    let kind = schema.get("type").and_then(Value::as_str);
    let ok = match kind {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !ok {
        problems.push(format!(
            "{at}: expected {}, found {value}",
            kind.unwrap_or("?")
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for field in required.iter().filter_map(Value::as_str) {
            if value.get(field).is_none() {
                problems.push(format!("{at}: required {field} missing"));
            }
        }
    }
    if let (Some(properties), Some(fields)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (name, field) in fields {
            match properties.get(name) {
                Some(s) => validate(doc, s, field, &format!("{at}.{name}"), problems),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    problems.push(format!("{at}: unexpected {name}"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(doc, items, item, &format!("{at}[{i}]"), problems);
        }
    }
}

/// The response schema of `operation` for `status` in the model.
fn check(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let responses = &doc["paths"][path][method]["responses"][status.to_string()];
    let schema = &responses["schema"];
    assert!(!schema.is_null(), "no schema for {method} {path} {status}");
    let mut problems = Vec::new();
    validate(doc, schema, body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: {problems:#?}\n{body}"
    );
}

struct Env {
    _sandbox: Sandbox,
    base: String,
    control: ControlClient,
    http: reqwest::Client,
}

impl Env {
    async fn new() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 7 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .amazon_register_seller(&AmazonRegisterSellerRequest {
                seller_id: SELLER.into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                refresh_token: REFRESH.into(),
            })
            .await
            .unwrap();
        Self {
            base: sandbox.base_url(),
            _sandbox: sandbox,
            control,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn lwa(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/auth/o2/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn access_token(&self) -> String {
        let (status, body) = self
            .lwa(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", REFRESH),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(
        &self,
        token: &str,
        path_and_query: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("x-amz-access-token", token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.json().await.unwrap())
    }

    async fn rdt(&self, token: &str, resources: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!(
                "{}/tokens/2021-03-01/restrictedDataToken",
                self.base
            ))
            .header("x-amz-access-token", token)
            .json(&json!({"restrictedResources": resources}))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

fn list_query(after: i64, before: Option<i64>) -> String {
    let mut q = format!(
        "/orders/v0/orders?MarketplaceIds={MARKETPLACE_JP}&LastUpdatedAfter={}",
        format_utc(after)
    );
    if let Some(before) = before {
        q.push_str(&format!("&LastUpdatedBefore={}", format_utc(before)));
    }
    q
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[tokio::test]
async fn every_answer_matches_amazons_model() {
    let env = Env::new().await;
    let orders_model = model("ordersV0.json");
    let tokens_model = model("tokens_2021-03-01.json");
    env.control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 30,
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let token = env.access_token().await;

    let (status, headers, body) = env
        .get(&token, &list_query(now() - 86_400, Some(now() - 180)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-amzn-RateLimit-Limit"], "0.0167");
    assert!(headers.contains_key("x-amzn-RequestId"));
    check(&orders_model, "/orders/v0/orders", "get", 200, &body);
    let orders = body["payload"]["Orders"].as_array().unwrap().clone();
    assert_eq!(orders.len(), 30);
    // Without a restricted-data token: no name, no street, no buyer e-mail.
    for order in &orders {
        assert!(order["ShippingAddress"].get("Name").is_none());
        assert!(order["ShippingAddress"].get("AddressLine1").is_none());
        assert!(order["BuyerInfo"].get("BuyerEmail").is_none());
    }

    for order in &orders {
        let id = order["AmazonOrderId"].as_str().unwrap();
        let (status, _, body) = env.get(&token, &format!("/orders/v0/orders/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        check(
            &orders_model,
            "/orders/v0/orders/{orderId}",
            "get",
            200,
            &body,
        );
        let (status, _, body) = env
            .get(&token, &format!("/orders/v0/orders/{id}/orderItems"))
            .await;
        assert_eq!(status, StatusCode::OK);
        check(
            &orders_model,
            "/orders/v0/orders/{orderId}/orderItems",
            "get",
            200,
            &body,
        );
    }

    let id = orders[0]["AmazonOrderId"].as_str().unwrap();
    let (status, body) = env
        .rdt(
            &token,
            json!([
                {"method": "GET", "path": format!("/orders/v0/orders/{id}/address")},
                {"method": "GET", "path": format!("/orders/v0/orders/{id}/buyerInfo")},
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    check(
        &tokens_model,
        "/tokens/2021-03-01/restrictedDataToken",
        "post",
        200,
        &body,
    );
    assert_eq!(body["expiresIn"], 3600);
    let rdt = body["restrictedDataToken"].as_str().unwrap();
    let (status, _, body) = env
        .get(rdt, &format!("/orders/v0/orders/{id}/address"))
        .await;
    assert_eq!(status, StatusCode::OK);
    check(
        &orders_model,
        "/orders/v0/orders/{orderId}/address",
        "get",
        200,
        &body,
    );
    let (status, _, body) = env
        .get(rdt, &format!("/orders/v0/orders/{id}/buyerInfo"))
        .await;
    assert_eq!(status, StatusCode::OK);
    check(
        &orders_model,
        "/orders/v0/orders/{orderId}/buyerInfo",
        "get",
        200,
        &body,
    );

    // Errors: 400, 403 and the RDT's own 400 follow the models' error schemas too.
    let (status, _, body) = env
        .get(&token, "/orders/v0/orders?MarketplaceIds=A1VC38T7YXB528")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    check(&orders_model, "/orders/v0/orders", "get", 400, &body);
    let (status, _, body) = env
        .get(
            "Atza|nonsense",
            "/orders/v0/orders?MarketplaceIds=A1VC38T7YXB528",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    check(&orders_model, "/orders/v0/orders", "get", 403, &body);
    let (status, body) = env
        .rdt(&token, json!([{"method": "FETCH", "path": "/x"}]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    check(
        &tokens_model,
        "/tokens/2021-03-01/restrictedDataToken",
        "post",
        400,
        &body,
    );
}

#[tokio::test]
async fn lwa_answers_like_amazon() {
    let env = Env::new().await;
    let (status, body) = env
        .lwa(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", REFRESH),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error_description": "Client authentication failed", "error": "invalid_client"})
    );

    let token = env.access_token().await;
    assert!(token.starts_with("Atza|"));
    // JSON bodies are accepted too (the Java SDK's way).
    let response = env
        .http
        .post(format!("{}/auth/o2/token", env.base))
        .json(&json!({"grant_type": "refresh_token", "refresh_token": REFRESH, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    env.control
        .amazon_revoke_refresh_token(SELLER)
        .await
        .unwrap();
    let (status, body) = env
        .lwa(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", REFRESH),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("refresh_token")
    );
    // The tokens issued before the revocation stop working as well.
    let (status, headers, _) = env.get(&token, &list_query(now() - 3600, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(headers["x-amzn-ErrorType"], "AccessDeniedException");
}

#[tokio::test]
async fn get_orders_pages_and_enforces_the_two_minute_rule() {
    let env = Env::new().await;
    env.control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 250,
                kinds: vec![AmazonOrderKind::Standard, AmazonOrderKind::Pending],
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let token = env.access_token().await;

    for bad in [
        list_query(now() - 3600, Some(now() - 60)),
        format!(
            "/orders/v0/orders?MarketplaceIds={MARKETPLACE_JP}&LastUpdatedAfter=2025-06-01T09:00:00%2B09:00"
        ),
        format!(
            "/orders/v0/orders?MarketplaceIds={MARKETPLACE_JP}&LastUpdatedAfter={}&CreatedAfter={}",
            format_utc(now() - 3600),
            format_utc(now() - 3600)
        ),
        list_query(now() - 3600, None) + "&NextToken=bm90LWEtdG9rZW4",
        list_query(now() - 3600, None) + "&OrderStatuses=Paid",
    ] {
        let (status, headers, body) = env.get(&token, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["errors"][0]["code"], "InvalidInput", "{bad}");
        assert!(headers.contains_key("x-amzn-RateLimit-Limit"));
    }
    let seller = env.control.amazon_seller(SELLER).await.unwrap();
    assert_eq!(seller.closest_before_gap_secs, Some(60));

    let mut ids = Vec::new();
    let mut pages = 0;
    let mut path = list_query(now() - 86_400, Some(now() - 150));
    loop {
        let (status, _, body) = env.get(&token, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        for order in body["payload"]["Orders"].as_array().unwrap() {
            ids.push(order["AmazonOrderId"].as_str().unwrap().to_owned());
            if order["OrderStatus"] == "Pending" {
                assert!(
                    order.get("ShippingAddress").is_none(),
                    "no address while Pending"
                );
                assert!(order.get("OrderTotal").is_none());
            }
        }
        match body["payload"]["NextToken"].as_str() {
            Some(next) => {
                path = format!("/orders/v0/orders?NextToken={next}&MarketplaceIds={MARKETPLACE_JP}")
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 250);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250);

    // Paying a Pending order moves its LastUpdateDate: a later window lists it again.
    let pending = env
        .control
        .amazon_order_ids(SELLER)
        .await
        .unwrap()
        .order_ids;
    let (_, _, body) = env
        .get(&token, &format!("/orders/v0/orders/{}", pending[0]))
        .await;
    let id = body["payload"]["AmazonOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let was_pending = body["payload"]["OrderStatus"] == "Pending";
    if was_pending {
        env.control
            .amazon_pay(
                SELLER,
                &id,
                &AmazonOrderEventRequest {
                    at: Some(format_utc(now() - 200)),
                },
            )
            .await
            .unwrap();
        let (_, _, body) = env
            .get(&token, &list_query(now() - 300, Some(now() - 150)))
            .await;
        let listed = body["payload"]["Orders"].as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["OrderStatus"], "Unshipped");
        assert!(listed[0].get("OrderTotal").is_some());
    }

    // A sandbox clock set back makes the same `…Before` too close.
    env.control
        .amazon_set_clock(&AmazonClock { offset_secs: -100 })
        .await
        .unwrap();
    let (status, _, _) = env
        .get(&token, &list_query(now() - 3600, Some(now() - 150)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn restricted_data_only_under_an_exact_restricted_data_token() {
    let env = Env::new().await;
    let generated = env
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 1,
                kinds: vec![AmazonOrderKind::Standard],
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let id = &generated.order_ids[0];
    let token = env.access_token().await;
    let (status, headers, body) = env
        .get(&token, &format!("/orders/v0/orders/{id}/address"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(headers["x-amzn-ErrorType"], "AccessDeniedException");
    assert_eq!(body["errors"][0]["code"], "Unauthorized");

    // A trailing slash is minted but does not cover the real path (S34).
    let (_, body) = env.rdt(&token, json!([{"method": "GET", "path": format!("/orders/v0/orders/{id}/"), "dataElements": ["shippingAddress"]}])).await;
    let slash = body["restrictedDataToken"].as_str().unwrap().to_owned();
    let (status, _, _) = env.get(&slash, &format!("/orders/v0/orders/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, body) = env
        .rdt(&token, json!([{"method": "GET", "path": format!("/orders/v0/orders/{id}"), "dataElements": ["buyerInfo", "shippingAddress"]}]))
        .await;
    let rdt = body["restrictedDataToken"].as_str().unwrap().to_owned();
    let (status, _, body) = env.get(&rdt, &format!("/orders/v0/orders/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["payload"]["ShippingAddress"]["Name"].is_string());
    assert!(body["payload"]["BuyerInfo"]["BuyerName"].is_string());
    // The RDT covers only its path.
    let (status, _, _) = env
        .get(&rdt, &format!("/orders/v0/orders/{id}/orderItems"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let log = env.control.amazon_pii_log().await.unwrap();
    assert_eq!(log.len(), 1);
    assert!(log.iter().all(|d| d.under_restricted_data_token));

    // A well-formed unknown id: 200 with an empty payload.
    let (status, _, body) = env
        .get(&token, "/orders/v0/orders/503-0000000-0000000")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"payload": {}}));
}

#[tokio::test]
async fn items_page_with_their_own_next_token() {
    let env = Env::new().await;
    let generated = env
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 1,
                kinds: vec![AmazonOrderKind::ManyLines],
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let id = &generated.order_ids[0];
    let token = env.access_token().await;
    let mut path = format!("/orders/v0/orders/{id}/orderItems");
    let mut lines = 0;
    let mut pages = 0;
    loop {
        let (status, _, body) = env.get(&token, &path).await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        lines += body["payload"]["OrderItems"].as_array().unwrap().len();
        match body["payload"]["NextToken"].as_str() {
            Some(next) => path = format!("/orders/v0/orders/{id}/orderItems?NextToken={next}"),
            None => break,
        }
    }
    assert_eq!((lines, pages), (12, 3));
}

#[tokio::test]
async fn buckets_allow_the_burst_then_refuse() {
    let env = Env::new().await;
    let generated = env
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 1,
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let id = &generated.order_ids[0];
    let token = env.access_token().await;
    let mut statuses = Vec::new();
    for _ in 0..31 {
        let (status, headers, body) = env
            .get(&token, &format!("/orders/v0/orders/{id}/orderItems"))
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["errors"][0]["code"], "QuotaExceeded");
            assert!(!headers.contains_key("x-amzn-RateLimit-Limit"));
        } else {
            assert_eq!(headers["x-amzn-RateLimit-Limit"], "0.5");
        }
        statuses.push(status);
    }
    // Thirty in the burst; the 31st comes less than 2 s after the first, so no token yet.
    assert!(statuses[..30].iter().all(|s| *s == StatusCode::OK));
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
    let seller = env.control.amazon_seller(SELLER).await.unwrap();
    assert_eq!(seller.throttled["getOrderItems"], 1);
    assert_eq!(seller.admitted["getOrderItems"], 30);

    // Turned off, nothing is refused.
    env.control
        .amazon_set_limits(&AmazonLimits {
            rate_limits: false,
            ..AmazonLimits::default()
        })
        .await
        .unwrap();
    let (status, _, _) = env
        .get(&token, &format!("/orders/v0/orders/{id}/orderItems"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn the_schema_check_catches_a_wrong_shape() {
    let doc = model("ordersV0.json");
    let schema = json!({"$ref": "#/definitions/GetOrderItemsResponse"});
    let mut problems = Vec::new();
    let bad = json!({"payload": {"AmazonOrderId": "503-1234567-1234567", "OrderItems": [{"ASIN": "B0", "OrderItemId": "1", "QuantityOrdered": "1", "IsGift": false}]}});
    validate(&doc, &schema, &bad, "$", &mut problems);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[tokio::test]
async fn a_cancelled_item_stays_listed_with_nothing_ordered_and_its_price_off_the_total() {
    let env = Env::new().await;
    let generated = env
        .control
        .amazon_generate_orders(
            SELLER,
            &AmazonGenerateOptions {
                count: 1,
                kinds: vec![AmazonOrderKind::ManyLines],
                ..AmazonGenerateOptions::default()
            },
        )
        .await
        .unwrap();
    let id = &generated.order_ids[0];
    let token = env.access_token().await;
    let yen = |money: &Value| -> i64 {
        money["Amount"]
            .as_str()
            .unwrap()
            .strip_suffix(".00")
            .unwrap()
            .parse()
            .unwrap()
    };
    let (_, _, before) = env.get(&token, &format!("/orders/v0/orders/{id}")).await;
    let (_, _, items) = env
        .get(&token, &format!("/orders/v0/orders/{id}/orderItems"))
        .await;
    let item = items["payload"]["OrderItems"][1].clone();
    let item_id = item["OrderItemId"].as_str().unwrap();
    let cancel = |order_item_id: &str| AmazonCancelItemRequest {
        order_item_id: order_item_id.into(),
        at: None,
    };
    env.control
        .amazon_cancel_item(SELLER, id, &cancel(item_id))
        .await
        .unwrap();

    let (_, _, after) = env.get(&token, &format!("/orders/v0/orders/{id}")).await;
    let (_, _, items) = env
        .get(&token, &format!("/orders/v0/orders/{id}/orderItems"))
        .await;
    let cancelled = &items["payload"]["OrderItems"][1];
    assert_eq!(cancelled["OrderItemId"], item["OrderItemId"]);
    assert_eq!(cancelled["QuantityOrdered"], 0);
    assert_eq!(yen(&cancelled["ItemPrice"]), 0);
    assert_eq!(
        yen(&after["payload"]["OrderTotal"]),
        yen(&before["payload"]["OrderTotal"]) - yen(&item["ItemPrice"])
            + yen(&item["PromotionDiscount"])
    );
    assert_eq!(after["payload"]["OrderStatus"], "Unshipped");
    assert_ne!(
        after["payload"]["LastUpdateDate"], before["payload"]["LastUpdateDate"],
        "the change is listed by LastUpdatedAfter"
    );
    check(
        &model("ordersV0.json"),
        "/orders/v0/orders/{orderId}/orderItems",
        "get",
        200,
        &items,
    );

    let again = env
        .control
        .amazon_cancel_item(SELLER, id, &cancel(item_id))
        .await;
    assert!(again.is_err(), "an item is cancelled once");
    let unknown = env
        .control
        .amazon_cancel_item(SELLER, id, &cancel("0"))
        .await;
    assert!(unknown.is_err(), "an unknown item is refused");
}
