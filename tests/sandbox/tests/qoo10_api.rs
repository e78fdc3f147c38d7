//! The Qoo10 sandbox over real HTTP: both calling styles, the envelope (HTTP 200 on errors),
//! the certification key and its expiry, the 90-day window, per-line rows, claims, the
//! by-order-number array, the item lookup and the seller confirmation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_sandbox::control::{
    FaultConfig, Qoo10ClaimRequest, Qoo10GenerateOptions, Qoo10InsertRowsRequest, Qoo10Limits,
    Qoo10OrderKind, Qoo10RegisterStoreRequest,
};
use ichigen_sandbox::qoo10::{SERVICE_PATH, format_datetime};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use serde_json::{Value, json};

const SELLER: &str = "myshop01";

struct Qapi {
    _sandbox: Sandbox,
    control: ControlClient,
    base: String,
    http: reqwest::Client,
}

impl Qapi {
    async fn new() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 7 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .qoo10_register_store(&Qoo10RegisterStoreRequest {
                seller_id: SELLER.into(),
                api_key: "API-KEY-1".into(),
                user_id: "myshop01".into(),
                password: "Secret!234".into(),
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

    /// Style A: POST {base}/{Class.Method} with the key header and a form body.
    async fn post(&self, method: &str, key: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        form.push(("returnType", "application/json"));
        let response = self
            .http
            .post(format!("{}{SERVICE_PATH}/{method}", self.base))
            .header("GiosisCertificationKey", key)
            .header("QAPIVersion", "1.0")
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Style B: GET {base}?method=…&key=….
    async fn get(&self, method: &str, key: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let mut query: Vec<(&str, &str)> = query.to_vec();
        query.extend([
            ("v", "1.0"),
            ("returnType", "json"),
            ("method", method),
            ("key", key),
        ]);
        let response = self
            .http
            .get(format!("{}{SERVICE_PATH}", self.base))
            .query(&query)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn key(&self) -> String {
        let (status, body) = self
            .post(
                "CertificationAPI.CreateCertificationKey",
                "API-KEY-1",
                &[("user_id", "myshop01"), ("pwd", "Secret!234")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["ResultCode"], 0, "{body}");
        body["ResultObject"].as_str().unwrap().to_owned()
    }
}

fn today_window() -> (String, String) {
    let now = jiff::Timestamp::now().as_second();
    let day = format_datetime(now)[..10].replace('-', "");
    let start = format_datetime(now - 86_400)[..10].replace('-', "");
    (start, day)
}

#[tokio::test]
async fn certification_key_and_its_failures_answer_200_with_codes() {
    let q = Qapi::new().await;
    let (_, wrong_api) = q
        .post(
            "CertificationAPI.CreateCertificationKey",
            "NOT-A-KEY",
            &[("user_id", "myshop01"), ("pwd", "Secret!234")],
        )
        .await;
    assert_eq!(
        wrong_api,
        json!({"ErrorCode": -90001, "ErrorMsg": "存在しないAPIです。"})
    );
    let (status, wrong_pwd) = q
        .post(
            "CertificationAPI.CreateCertificationKey",
            "API-KEY-1",
            &[("user_id", "myshop01"), ("pwd", "nope")],
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(wrong_pwd["ResultCode"], 0);

    let key = q.key().await;
    let (start, end) = today_window();
    let search = [
        ("ShippingStat", "2"),
        ("search_Sdate", start.as_str()),
        ("search_Edate", end.as_str()),
        ("search_condition", "1"),
    ];
    let (_, ok) = q
        .get("ShippingBasic.GetShippingInfo_v2", &key, &search)
        .await;
    assert_eq!(ok["ResultCode"], 0, "{ok}");
    let (_, unknown) = q
        .get("ShippingBasic.GetShippingInfo_v2", "S5bnWRONG", &search)
        .await;
    assert_eq!(unknown["ErrorCode"], -90001);

    q.control.qoo10_expire_key(SELLER).await.unwrap();
    let (status, expired) = q
        .get("shippingbasic.getshippinginfo_V2", &key, &search)
        .await;
    assert_eq!(status, 200);
    assert_eq!(expired["ResultCode"], -90004, "{expired}");
    // A new key works again.
    let fresh = q.key().await;
    let (_, again) = q
        .get("ShippingBasic.GetShippingInfo_v2", &fresh, &search)
        .await;
    assert_eq!(again["ResultCode"], 0);

    let calls = q.control.qoo10_calls().await.unwrap();
    assert!(calls.iter().all(|c| {
        c.params
            .iter()
            .all(|(k, v)| k != "key" && k != "pwd" && !v.contains("Secret"))
    }));
}

#[tokio::test]
async fn shipping_list_rows_windows_and_claims() {
    let q = Qapi::new().await;
    let key = q.key().await;
    let made = q
        .control
        .qoo10_generate_orders(
            SELLER,
            &Qoo10GenerateOptions {
                count: Some(3),
                kinds: vec![
                    Qoo10OrderKind::ThreeCarriers,
                    Qoo10OrderKind::Unpaid,
                    Qoo10OrderKind::Move,
                ],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (start, end) = today_window();
    let list = |stat: &'static str| {
        let (start, end) = (start.clone(), end.clone());
        let q = &q;
        let key = key.clone();
        async move {
            let (_, body) = q
                .post(
                    "ShippingBasic.GetShippingInfo_v2",
                    &key,
                    &[
                        ("ShippingStat", stat),
                        ("search_Sdate", &start),
                        ("search_Edate", &end),
                        ("search_condition", "1"),
                    ],
                )
                .await;
            assert_eq!(body["ResultCode"], 0, "{body}");
            body["ResultObject"].as_array().unwrap().clone()
        }
    };
    let paid = list("2").await;
    // One row per line: three for the three-carrier cart, one for the MOVE cart.
    assert_eq!(paid.len(), 4);
    let three: Vec<&Value> = paid
        .iter()
        .filter(|r| r["packNo"] == made.pack_nos[0])
        .collect();
    assert_eq!(three.len(), 3);
    let carriers: std::collections::BTreeSet<&str> = three
        .iter()
        .map(|r| r["DeliveryCompany"].as_str().unwrap())
        .collect();
    assert_eq!(carriers.len(), 3);
    assert_eq!(three[0]["shippingStatus"], "On request(2)");
    let related = three[0]["RelatedOrder"].as_str().unwrap();
    assert_eq!(related.split(',').count(), 3);
    let moved = paid
        .iter()
        .find(|r| r["packNo"] == made.pack_nos[2])
        .unwrap();
    assert_eq!(moved["itemTitle"], "");
    let unpaid = list("1").await;
    assert_eq!(unpaid.len(), made.order_nos[1].len());
    assert_eq!(unpaid[0]["PaymentDate"], "");
    assert_eq!(unpaid[0]["DeliveryCompany"], "");
    assert_eq!(unpaid[0]["shippingStatus"], "Awaiting shipping(1)");

    // 91 days is refused with the configured code; 90 is fine.
    let now = jiff::Timestamp::now().as_second();
    let from = |days: i64| format_datetime(now - days * 86_400).replace(['-', ' ', ':'], "");
    let to = format_datetime(now).replace(['-', ' ', ':'], "");
    let (_, too_long) = q
        .get(
            "ShippingBasic.GetShippingInfo_v2",
            &key,
            &[
                ("ShippingStat", "2"),
                ("search_Sdate", &from(91)),
                ("search_Edate", &to),
            ],
        )
        .await;
    assert_eq!(too_long["ResultCode"], -10003, "{too_long}");
    let (_, ninety) = q
        .get(
            "ShippingBasic.GetShippingInfo_v2",
            &key,
            &[
                ("ShippingStat", "2"),
                ("search_Sdate", &from(90)),
                ("search_Edate", &to),
            ],
        )
        .await;
    assert_eq!(ninety["ResultCode"], 0);
    let (_, bad_date) = q
        .get(
            "ShippingBasic.GetShippingInfo_v2",
            &key,
            &[
                ("ShippingStat", "2"),
                ("search_Sdate", "20251131"),
                ("search_Edate", "20251201"),
            ],
        )
        .await;
    assert_eq!(bad_date["ResultCode"], -10002);

    // Cancel one line of the three-carrier cart: it vanishes from the list and shows in
    // the claims; a cancel request keeps the line listed.
    let gone = made.order_nos[0][1];
    q.control
        .qoo10_claim_line(
            SELLER,
            gone,
            &Qoo10ClaimRequest {
                claim_stat: 3,
                reason: "在庫切れ".into(),
            },
        )
        .await
        .unwrap();
    let requested = made.order_nos[0][2];
    q.control
        .qoo10_claim_line(
            SELLER,
            requested,
            &Qoo10ClaimRequest {
                claim_stat: 1,
                reason: "注文内容を変更したい".into(),
            },
        )
        .await
        .unwrap();
    let paid = list("2").await;
    assert_eq!(paid.len(), 3);
    assert!(paid.iter().all(|r| r["orderNo"] != gone));
    assert!(paid.iter().any(|r| r["orderNo"] == requested));
    let (_, claims) = q
        .get(
            "ShippingBasic.GetClaimInfo_V3",
            &key,
            &[
                ("search_Sdate", &start),
                ("search_Edate", &end),
                ("search_condition", "1"),
            ],
        )
        .await;
    let claims = claims["ResultObject"].as_array().unwrap();
    assert_eq!(claims.len(), 2);
    let done = claims.iter().find(|c| c["orderNo"] == gone).unwrap();
    assert_eq!(done["claimStatus"], "3");
    assert_ne!(done["cancelRefundDate"], "");

    // By order number: always an array, the cancelled line included with its claim.
    let gone_text = gone.to_string();
    let (_, detail) = q
        .get(
            "ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2",
            &key,
            &[("OrderNo", &gone_text)],
        )
        .await;
    let rows = detail["ResultObject"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["claimStatus"], "3");
    let (_, missing) = q
        .get(
            "ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2",
            &key,
            &[("OrderNo", "1")],
        )
        .await;
    assert_eq!(missing["ResultCode"], -10003);

    // The item lookup gives the unpaid line's carrier; paying fills it in the row.
    let item_code = unpaid[0]["itemCode"].as_str().unwrap().to_owned();
    let (_, item) = q
        .post(
            "ItemsLookup.GetItemDetailInfo",
            &key,
            &[("ItemCode", &item_code)],
        )
        .await;
    let carrier = item["ResultObject"][0]["DeliveryCompany"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!carrier.is_empty());
    let (_, unknown_item) = q
        .post(
            "ItemsLookup.GetItemDetailInfo",
            &key,
            &[("ItemCode", "1999999999")],
        )
        .await;
    assert_eq!(unknown_item["ResultCode"], -10001);
    let paid_rows = q
        .control
        .qoo10_pay_cart(SELLER, made.pack_nos[1])
        .await
        .unwrap();
    assert_eq!(paid_rows[0]["DeliveryCompany"], carrier.as_str());
    assert_ne!(paid_rows[0]["PaymentDate"], "");
}

#[tokio::test]
async fn seller_confirmation_limits_busy_answers_and_html_faults() {
    let q = Qapi::new().await;
    let key = q.key().await;
    let rows = Qoo10InsertRowsRequest {
        rows: vec![json!({
            "orderNo": 1088812345_i64, "packNo": 540012345_i64,
            "orderDate": format_datetime(jiff::Timestamp::now().as_second() - 60),
            "PaymentDate": format_datetime(jiff::Timestamp::now().as_second() - 30),
            "itemCode": "1123456789", "sellerItemCode": "TEE-01", "orderPrice": "2980.0000",
            "orderQty": 1, "discount": 0, "total": 2980
        })],
    };
    q.control.qoo10_insert_rows(SELLER, &rows).await.unwrap();
    let now = jiff::Timestamp::now().as_second();
    let day = |offset: i64| format_datetime(now + offset * 86_400)[..10].replace('-', "");
    let (_, late) = q
        .post(
            "ShippingBasic.SetSellerCheckYN_V2",
            &key,
            &[("OrderNo", "1088812345"), ("EstShipDt", &day(11))],
        )
        .await;
    assert_eq!(late["ResultCode"], -10017);
    let (_, past) = q
        .post(
            "ShippingBasic.SetSellerCheckYN_V2",
            &key,
            &[("OrderNo", "1088812345"), ("EstShipDt", &day(-1))],
        )
        .await;
    assert_eq!(past["ResultCode"], -10018);
    let (_, ok) = q
        .post(
            "ShippingBasic.SetSellerCheckYN_V2",
            &key,
            &[("OrderNo", "1088812345"), ("EstShipDt", &day(3))],
        )
        .await;
    assert_eq!(ok, json!({"ResultCode": 0, "ResultMsg": "SUCCESS"}));
    let (_, twice) = q
        .post(
            "ShippingBasic.SetSellerCheckYN_V2",
            &key,
            &[("OrderNo", "1088812345"), ("EstShipDt", &day(3))],
        )
        .await;
    assert_eq!(twice["ResultCode"], -10012);
    assert_eq!(q.control.qoo10_writes().await.unwrap().len(), 1);

    q.control
        .qoo10_set_limits(&Qoo10Limits {
            requests_per_second: Some(1.0),
            ..Qoo10Limits::default()
        })
        .await
        .unwrap();
    let mut busy = 0;
    for _ in 0..3 {
        let (status, body) = q
            .post("ItemsLookup.GetItemDetailInfo", &key, &[("ItemCode", "1")])
            .await;
        assert_eq!(status, 200);
        if body["ResultCode"] == -99999 {
            busy += 1;
        }
    }
    assert!(busy >= 1, "three calls at once exceed 1/s");

    q.control
        .set_faults(&FaultConfig {
            error5xx_rate: 1.0,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let response = q
        .http
        .get(format!(
            "{}{SERVICE_PATH}?method=ItemsLookup.GetItemDetailInfo",
            q.base
        ))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_server_error());
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
