//! The Yahoo sandbox over real HTTP: token, signature, quota, rate limit, paging, writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ichigen_sandbox::control::{
    YahooAddKeyRequest, YahooGenerateOptions, YahooInsertOrderRequest, YahooLimits, YahooOrderKind,
    YahooRegisterStoreRequest,
};
use ichigen_sandbox::yahoo::xml::{self, Element};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use reqwest::StatusCode;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};

const SELLER: &str = "snbx-store";
const CLIENT_ID: &str = "dj00sandboxclient";
const CLIENT_SECRET: &str = "sandbox-client-secret";
const REFRESH: &str = "sandbox-refresh-token";

/// 1024-bit keys keep debug-build key generation fast; the wire is the same for 2048.
fn key_pair() -> &'static (RsaPrivateKey, RsaPublicKey) {
    static KEYS: OnceLock<(RsaPrivateKey, RsaPublicKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
        let public = RsaPublicKey::from(&private);
        (private, public)
    })
}

fn private_pem(key: &RsaPrivateKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn signature(public: &RsaPublicKey, seller: &str, at: i64) -> String {
    let plain = format!("{seller}:{at}");
    STANDARD.encode(
        public
            .encrypt(&mut OsRng, Pkcs1v15Encrypt, plain.as_bytes())
            .unwrap(),
    )
}

struct Env {
    _sandbox: Sandbox,
    base: String,
    control: ControlClient,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn xml(&self) -> Element {
        xml::parse(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Env {
    async fn start() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 3 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .yahoo_register_store(&YahooRegisterStoreRequest {
                seller_id: SELLER.into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                refresh_token: REFRESH.into(),
                private_key_pem: private_pem(&key_pair().0),
                key_version: 1,
            })
            .await
            .unwrap();
        // Most tests are not about pacing.
        control
            .yahoo_set_limits(&YahooLimits {
                requests_per_second_per_url: None,
                ..YahooLimits::default()
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

    async fn token(&self) -> String {
        let reply = self
            .http
            .post(format!("{}/yconnect/v2/token", self.base))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", REFRESH)])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn call_with(
        &self,
        api: &str,
        token: &str,
        signature: Option<&str>,
        version: &str,
        body: &str,
    ) -> Reply {
        let mut request = self
            .http
            .post(format!("{}/ShoppingWebService/V1/{api}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/xml; charset=utf-8")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request
                .header("X-sws-signature", signature)
                .header("X-sws-signature-version", version);
        }
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn call(&self, api: &str, token: &str, body: &str) -> Reply {
        let sig = signature(&key_pair().1, SELLER, now());
        self.call_with(api, token, Some(&sig), "1", body).await
    }

    async fn generate(&self, options: YahooGenerateOptions) -> Vec<String> {
        self.control
            .yahoo_generate_orders(SELLER, &options)
            .await
            .unwrap()
            .order_ids
    }
}

fn list_body(from: &str, to: &str, start: u64, result: u64) -> String {
    format!(
        "<Req><Search><Result>{result}</Result><Start>{start}</Start><Sort>+order_time</Sort>\
         <Condition><OrderTimeFrom>{from}</OrderTimeFrom><OrderTimeTo>{to}</OrderTimeTo></Condition>\
         <Field>OrderId,OrderTime,OrderStatus,PayStatus,PayMethod,TotalPrice</Field></Search>\
         <SellerId>{SELLER}</SellerId></Req>"
    )
}

fn wide_list(start: u64, result: u64) -> String {
    list_body("20000101000000", "20991231235959", start, result)
}

fn ids(reply: &Reply) -> Vec<String> {
    let root = reply.xml();
    root.child("Search")
        .unwrap()
        .children_named("OrderInfo")
        .map(|o| o.child_text("OrderId").unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn order_list_pages_by_start_and_result_with_the_total() {
    let env = Env::start().await;
    let made = env
        .generate(YahooGenerateOptions {
            count: Some(7),
            ..Default::default()
        })
        .await;
    let token = env.token().await;
    let first = env.call("orderList", &token, &wide_list(1, 3)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        first.headers["content-type"],
        "application/xml; charset=UTF-8"
    );
    let root = first.xml();
    assert_eq!(root.name, "Result");
    assert_eq!(root.child_text("Status"), Some("OK"));
    assert_eq!(
        root.child("Search").unwrap().child_text("TotalCount"),
        Some("7")
    );
    let mut seen = ids(&first);
    for start in [4, 7] {
        seen.extend(ids(&env
            .call("orderList", &token, &wide_list(start, 3))
            .await));
    }
    assert_eq!(
        seen, made,
        "pages in order time order, nothing lost or repeated"
    );
    let past_end = env.call("orderList", &token, &wide_list(8, 3)).await;
    assert!(ids(&past_end).is_empty());
    // Only the requested fields, flat (no groups, no items).
    let order = root.child("Search").unwrap().child("OrderInfo").unwrap();
    let names: Vec<_> = order.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "OrderId",
            "OrderTime",
            "OrderStatus",
            "PayStatus",
            "PayMethod",
            "TotalPrice"
        ]
    );
    assert!(order.child_text("OrderTime").unwrap().ends_with("+09:00"));
}

#[tokio::test]
async fn a_single_hit_is_one_order_info_element() {
    let env = Env::start().await;
    let made = env
        .generate(YahooGenerateOptions {
            order_times: Some(vec!["2025-03-01T09:12:44+09:00".into()]),
            ..Default::default()
        })
        .await;
    let token = env.token().await;
    let reply = env
        .call(
            "orderList",
            &token,
            &list_body("20250301000000", "20250301235959", 1, 100),
        )
        .await;
    assert!(
        reply.body.matches("<OrderInfo>").count() == 1,
        "{}",
        reply.body
    );
    assert_eq!(ids(&reply), made);
    // Window bounds are inclusive to the second.
    let exact = env
        .call(
            "orderList",
            &token,
            &list_body("20250301091244", "20250301091244", 1, 10),
        )
        .await;
    assert_eq!(ids(&exact), made);
    let after = env
        .call(
            "orderList",
            &token,
            &list_body("20250301091245", "20250301235959", 1, 10),
        )
        .await;
    assert!(ids(&after).is_empty());
}

#[tokio::test]
async fn requests_missing_required_parts_get_the_error_envelope() {
    let env = Env::start().await;
    let token = env.token().await;
    let no_field = format!(
        "<Req><Search><Condition><OrderTimeFrom>20250301000000</OrderTimeFrom></Condition></Search><SellerId>{SELLER}</SellerId></Req>"
    );
    let bad_time = list_body("2025-03-01 00:00:00", "20250301235959", 1, 10);
    let impossible = list_body("20251131000000", "20251201000000", 1, 10);
    let no_seller = "<Req><Search><Field>OrderId</Field><Condition><OrderTimeFrom>20250301000000</OrderTimeFrom></Condition></Search></Req>";
    let other_seller = wide_list(1, 10).replace(SELLER, "someone-else");
    for (body, expected) in [
        (no_field.as_str(), "Field"),
        (bad_time.as_str(), "OrderTimeFrom"),
        (impossible.as_str(), "OrderTimeFrom"),
        (no_seller, "SellerId"),
        ("not xml", "XML"),
    ] {
        let reply = env.call("orderList", &token, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let error = reply.xml();
        assert_eq!(error.name, "Error");
        assert!(
            error.child_text("Message").unwrap().contains(expected),
            "{}",
            reply.body
        );
    }
    let reply = env.call("orderList", &token, &other_seller).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn expired_and_unknown_tokens_get_401_invalid_token() {
    let env = Env::start().await;
    let token = env.token().await;
    assert_eq!(
        env.call("orderList", &token, &wide_list(1, 1)).await.status,
        StatusCode::OK
    );
    env.control.yahoo_expire_token(SELLER).await.unwrap();
    let reply = env.call("orderList", &token, &wide_list(1, 1)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge = reply.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("expired token"), "{challenge}");
    assert!(
        reply
            .xml()
            .child_text("Message")
            .unwrap()
            .contains("invalid_token")
    );
    // A new token works again.
    let fresh = env.token().await;
    assert_eq!(
        env.call("orderList", &fresh, &wide_list(1, 1)).await.status,
        StatusCode::OK
    );
    let unknown = env.call("orderList", "made-up", &wide_list(1, 1)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_endpoint_refuses_wrong_client_and_revoked_refresh_token() {
    let env = Env::start().await;
    let send = |id: &'static str, secret: &'static str, refresh: &'static str| {
        env.http
            .post(format!("{}/yconnect/v2/token", env.base))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
            .send()
    };
    let wrong_client = send(CLIENT_ID, "nope", REFRESH).await.unwrap();
    assert_eq!(wrong_client.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong_client.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let wrong_refresh = send(CLIENT_ID, CLIENT_SECRET, "nope").await.unwrap();
    assert_eq!(wrong_refresh.status(), StatusCode::BAD_REQUEST);
    env.control
        .yahoo_revoke_refresh_token(SELLER)
        .await
        .unwrap();
    let revoked = send(CLIENT_ID, CLIENT_SECRET, REFRESH).await.unwrap();
    assert_eq!(revoked.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = revoked.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_signature_is_decrypted_and_checked() {
    let env = Env::start().await;
    let token = env.token().await;
    let public = &key_pair().1;
    let other = RsaPublicKey::from(&RsaPrivateKey::new(&mut OsRng, 1024).unwrap());
    let cases = [
        (None, "1", "missing"),
        (
            Some(signature(public, SELLER, now() - 3_600)),
            "1",
            "too far",
        ),
        (
            Some(signature(public, "someone-else", now())),
            "1",
            "another seller",
        ),
        (Some(signature(&other, SELLER, now())), "1", "decrypted"),
        (Some(signature(public, SELLER, now())), "2", "no public key"),
        (Some("bm90IHJzYQ==".to_owned()), "1", "decrypted"),
    ];
    for (sig, version, expected) in cases {
        let reply = env
            .call_with(
                "orderList",
                &token,
                sig.as_deref(),
                version,
                &wide_list(1, 1),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{expected}");
        let error = reply.xml();
        assert_eq!(error.child_text("Code"), Some("px-04102"));
        assert!(
            error.child_text("Message").unwrap().contains(expected),
            "{}",
            reply.body
        );
    }
    // A revoked key stops working; a second key keeps the store running.
    let second = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
    env.control
        .yahoo_add_key(
            SELLER,
            &YahooAddKeyRequest {
                private_key_pem: private_pem(&second),
                key_version: 2,
            },
        )
        .await
        .unwrap();
    env.control.yahoo_revoke_key(SELLER, 1).await.unwrap();
    let revoked = env.call("orderList", &token, &wide_list(1, 1)).await;
    assert_eq!(revoked.status, StatusCode::FORBIDDEN);
    assert!(revoked.body.contains("revoked"));
    let sig = signature(&RsaPublicKey::from(&second), SELLER, now());
    let ok = env
        .call_with("orderList", &token, Some(&sig), "2", &wide_list(1, 1))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn one_query_per_second_per_url_and_the_daily_quota() {
    let env = Env::start().await;
    env.control
        .yahoo_set_limits(&YahooLimits {
            daily_quota: 3,
            ..YahooLimits::default()
        })
        .await
        .unwrap();
    let made = env.generate(YahooGenerateOptions::default()).await;
    let token = env.token().await;
    assert_eq!(
        env.call("orderList", &token, &wide_list(1, 1)).await.status,
        StatusCode::OK
    );
    let again = env.call("orderList", &token, &wide_list(1, 1)).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.xml().name, "Error");
    // Another URL has its own second.
    let info = format!(
        "<Req><Target><OrderId>{}</OrderId><Field>OrderId</Field></Target><SellerId>{SELLER}</SellerId></Req>",
        made[0]
    );
    assert_eq!(
        env.call("orderInfo", &token, &info).await.status,
        StatusCode::OK
    );
    let over = env.call("orderInfo", &token, &info).await;
    assert_eq!(over.status, StatusCode::FORBIDDEN, "{}", over.body);
    assert!(over.body.contains("per day"));
    let quota = env.control.yahoo_quota().await.unwrap();
    assert_eq!(quota.used[CLIENT_ID], 3);
}

#[tokio::test]
async fn order_info_groups_fields_and_repeats_items() {
    let env = Env::start().await;
    let made = env
        .generate(YahooGenerateOptions {
            count: Some(1),
            kinds: Some(vec![YahooOrderKind::MixedTax]),
            ..Default::default()
        })
        .await;
    let token = env.token().await;
    let body = format!(
        "<Req><Target><OrderId>{}</OrderId><Field>OrderId,OrderTime,PayMethod,ShipStatus,TotalPrice,LineId,ItemId,SubCode,ItemTaxRatio</Field></Target><SellerId>{SELLER}</SellerId></Req>",
        made[0]
    );
    let reply = env.call("orderInfo", &token, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let root = reply.xml();
    assert_eq!(root.name, "ResultSet");
    let result = root.child("Result").unwrap();
    assert_eq!(result.child_text("Status"), Some("OK"));
    let order = result.child("OrderInfo").unwrap();
    assert_eq!(order.child_text("OrderId"), Some(made[0].as_str()));
    assert!(
        order
            .child("Pay")
            .unwrap()
            .child_text("PayMethod")
            .is_some()
    );
    assert!(
        order
            .child("Detail")
            .unwrap()
            .child_text("TotalPrice")
            .is_some()
    );
    assert_eq!(order.children_named("Item").count(), 3);
    assert!(
        order.child("Item").unwrap().child_text("Title").is_none(),
        "not requested"
    );

    let missing = env
        .call(
            "orderInfo",
            &token,
            &body.replace(made[0].as_str(), "snbx-store-1"),
        )
        .await;
    let result = missing.xml();
    let result = result.child("Result").unwrap();
    assert_eq!(result.child_text("Status"), Some("NG"));
}

#[tokio::test]
async fn status_change_is_logged_and_cancelled_orders_refuse_it() {
    let env = Env::start().await;
    let made = env
        .generate(YahooGenerateOptions {
            count: Some(2),
            ..Default::default()
        })
        .await;
    env.control
        .yahoo_set_order_status(SELLER, &made[1], 4)
        .await
        .unwrap();
    let token = env.token().await;
    let change = |id: &str, point_fix: &str| {
        format!(
            "<Req><Target><OrderId>{id}</OrderId><IsPointFix>{point_fix}</IsPointFix><OperationUser>ichigen</OperationUser></Target><Order><OrderStatus>2</OrderStatus></Order><SellerId>{SELLER}</SellerId></Req>"
        )
    };
    let ok = env
        .call("orderStatusChange", &token, &change(&made[0], "false"))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        ok.xml().child("Result").unwrap().child_text("Status"),
        Some("OK")
    );
    let cancelled = env
        .call("orderStatusChange", &token, &change(&made[1], "false"))
        .await;
    let root = cancelled.xml();
    let result = root.child("Result").unwrap();
    assert_eq!(result.child_text("Status"), Some("NG"));
    assert!(
        result
            .child("Error")
            .unwrap()
            .child_text("Message")
            .unwrap()
            .contains("cancelled")
    );
    let no_point_fix = env
        .call(
            "orderStatusChange",
            &token,
            &change(&made[0], "").replace("<IsPointFix></IsPointFix>", ""),
        )
        .await;
    assert_eq!(no_point_fix.status, StatusCode::BAD_REQUEST);

    let writes = env.control.yahoo_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].order_id, made[0]);
    assert_eq!(writes[0].order_status, 2);
    assert!(!writes[0].is_point_fix);
    let stored = xml::parse(&env.control.yahoo_order(SELLER, &made[0]).await.unwrap()).unwrap();
    assert_eq!(stored.child_text("IsSeen"), Some("true"));
    assert_eq!(stored.child_text("Version"), Some("2"));
}

#[tokio::test]
async fn the_sandbox_can_generate_the_key_pair_itself() {
    let env = Env::start().await;
    let store = env
        .control
        .yahoo_register_store(&YahooRegisterStoreRequest {
            seller_id: "snbx-demo".into(),
            client_id: "dj00demo".into(),
            client_secret: "demo-secret".into(),
            refresh_token: "demo-refresh".into(),
            private_key_pem: String::new(),
            key_version: 1,
        })
        .await
        .unwrap();
    let pem = store.generated_public_key_pem.unwrap();
    let public = <RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_pem(&pem).unwrap();
    let reply = env
        .http
        .post(format!("{}/yconnect/v2/token", env.base))
        .basic_auth("dj00demo", Some("demo-secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "demo-refresh"),
        ])
        .send()
        .await
        .unwrap();
    let token: serde_json::Value = reply.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();
    let body = wide_list(1, 1).replace(SELLER, "snbx-demo");
    let sig = signature(&public, "snbx-demo", now());
    let reply = env
        .call_with("orderList", token, Some(&sig), "1", &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The registered store's view never shows the key again.
    let view = env.control.yahoo_store("snbx-demo").await.unwrap();
    assert_eq!(view.generated_public_key_pem, None);
}

#[tokio::test]
async fn inserted_raw_orders_round_trip() {
    let env = Env::start().await;
    let raw = "<OrderInfo><OrderId>snbx-store-99</OrderId><OrderTime>2025-03-01T10:00:00+09:00</OrderTime><OrderStatus>2</OrderStatus><Pay><PayMethod>payment_a1</PayMethod></Pay><Detail><TotalPrice>oops</TotalPrice></Detail></OrderInfo>";
    let inserted = env
        .control
        .yahoo_insert_order(
            SELLER,
            &YahooInsertOrderRequest {
                xml: raw.into(),
                order_time: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(inserted.order_id, "snbx-store-99");
    let token = env.token().await;
    let reply = env
        .call(
            "orderList",
            &token,
            &list_body("20250301000000", "20250301235959", 1, 10),
        )
        .await;
    assert_eq!(ids(&reply), ["snbx-store-99"]);
    assert!(reply.body.contains("<TotalPrice>oops</TotalPrice>"));
}

#[tokio::test]
async fn a_line_removed_on_yahoo_takes_its_cost_off_the_totals_and_moves_the_version() {
    let env = Env::start().await;
    let made = env
        .generate(YahooGenerateOptions {
            count: Some(1),
            kinds: Some(vec![YahooOrderKind::MixedTax]),
            ..Default::default()
        })
        .await;
    let id = made[0].as_str();
    let number = |e: &Element, name: &str| -> i64 { e.child_text(name).unwrap().parse().unwrap() };
    let before = xml::parse(&env.control.yahoo_order(SELLER, id).await.unwrap()).unwrap();
    let line = before
        .children_named("Item")
        .find(|i| i.child_text("LineId") == Some("2"))
        .unwrap();
    let cost =
        number(line, "UnitPrice") * number(line, "Quantity") - number(line, "CouponDiscount");

    let after = xml::parse(&env.control.yahoo_cancel_line(SELLER, id, 2).await.unwrap()).unwrap();
    let lines: Vec<_> = after
        .children_named("Item")
        .filter_map(|i| i.child_text("LineId"))
        .collect();
    assert_eq!(lines, ["1", "3"]);
    for total in ["TotalPrice", "SettleAmount"] {
        assert_eq!(
            number(after.child("Detail").unwrap(), total),
            number(before.child("Detail").unwrap(), total) - cost,
            "{total}"
        );
    }
    assert_eq!(
        number(&after, "Version"),
        number(&before, "Version") + 1,
        "a change Yahoo records"
    );

    assert!(
        env.control.yahoo_cancel_line(SELLER, id, 2).await.is_err(),
        "a removed line is gone"
    );
    env.control.yahoo_cancel_line(SELLER, id, 1).await.unwrap();
    assert!(
        env.control.yahoo_cancel_line(SELLER, id, 3).await.is_err(),
        "the last line is refused: that is a cancellation of the order"
    );
}
