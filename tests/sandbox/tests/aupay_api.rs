//! The au PAY sandbox over real HTTP: key and shopId checks, paging and totals, date shapes,
//! one-order search, status writes, the HTML 502 page and the rate limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_sandbox::control::{
    AupayApiGroup, AupayGenerateOptions, AupayInsertOrderRequest, AupayLimits, AupayOrderKind,
    AupayRegisterStoreRequest, RequestDateFormat, ResultCountMeaning,
};
use ichigen_sandbox::xml::{self, Element};
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use reqwest::StatusCode;

const SHOP: &str = "12345678";
const KEY: &str = "au-key-0123456789abcdef";
const FORM: &str = "application/x-www-form-urlencoded";

struct Env {
    _sandbox: Sandbox,
    base: String,
    control: ControlClient,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Reply {
    fn xml(&self) -> Element {
        xml::parse(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn result_status(&self) -> String {
        let root = self.xml();
        assert_eq!(root.name, "response", "{}", self.body);
        root.child("result")
            .and_then(|r| r.child_text("status"))
            .unwrap_or("")
            .to_owned()
    }

    fn error_code(&self) -> String {
        self.xml()
            .child("result")
            .and_then(|r| r.child("error"))
            .and_then(|e| e.child_text("code"))
            .unwrap_or("")
            .to_owned()
    }

    fn error_message(&self) -> String {
        self.xml()
            .child("result")
            .and_then(|r| r.child("error"))
            .and_then(|e| e.child_text("message"))
            .unwrap_or("")
            .to_owned()
    }

    fn order_ids(&self) -> Vec<String> {
        self.xml()
            .children_named("orderInfo")
            .map(|o| o.child_text("orderId").unwrap().to_owned())
            .collect()
    }

    fn result_count(&self) -> u64 {
        self.xml()
            .child_text("resultCount")
            .unwrap()
            .parse()
            .unwrap()
    }
}

fn today_compact() -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)))
        .strftime("%Y%m%d")
        .to_string()
}

fn days_ago_compact(days: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days))
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9)))
        .strftime("%Y%m%d")
        .to_string()
}

impl Env {
    async fn start() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 5 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .aupay_register_store(&AupayRegisterStoreRequest::new(SHOP, KEY))
            .await
            .unwrap();
        Self {
            base: sandbox.base_url(),
            _sandbox: sandbox,
            control,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, api: &str, key: Option<&str>, query: &[(&str, &str)]) -> Reply {
        let mut request = self
            .http
            .get(format!("{}/wmshopapi/{api}", self.base))
            .query(query)
            .header("Content-Type", FORM);
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        reply(request.send().await.unwrap()).await
    }

    async fn list(&self, query: &[(&str, &str)]) -> Reply {
        self.get("searchTradeInfoListProc", Some(KEY), query).await
    }

    async fn update(&self, key: &str, body: &str, content_type: &str) -> Reply {
        let response = self
            .http
            .post(format!("{}/wmshopapi/updateTradeStsProc", self.base))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        reply(response).await
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Reply {
        status,
        content_type,
        body: response.text().await.unwrap(),
    }
}

fn status_body(shop: &str, order: &str, status: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request><shopId>{shop}</shopId><orderId>{order}</orderId><orderStatus>{status}</orderStatus></request>"
    )
}

#[tokio::test]
async fn list_pages_by_offset_with_the_total_and_both_date_shapes() {
    let env = Env::start().await;
    let made = env
        .control
        .aupay_generate_orders(
            SHOP,
            &AupayGenerateOptions {
                count: Some(25),
                days: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (from, to) = (days_ago_compact(4), today_compact());
    let mut listed = Vec::new();
    for start in ["1", "11", "21"] {
        let page = env
            .list(&[
                ("shopId", SHOP),
                ("startDate", &from),
                ("endDate", &to),
                ("dateType", "0"),
                ("totalCount", "10"),
                ("startCount", start),
            ])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.content_type.starts_with("application/xml"));
        assert_eq!(page.result_status(), "0");
        assert_eq!(
            page.result_count(),
            25,
            "resultCount is the total by default"
        );
        listed.extend(page.order_ids());
    }
    assert_eq!(listed, made.order_ids, "every order once, oldest first");

    // YYYY-MM-DD is the same date.
    let dashed = |c: &str| format!("{}-{}-{}", &c[0..4], &c[4..6], &c[6..8]);
    let page = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", &dashed(&from)),
            ("endDate", &dashed(&to)),
            ("totalCount", "1000"),
        ])
        .await;
    assert_eq!(page.order_ids().len(), 25);

    // Strict when configured, and the page-count reading of resultCount.
    env.control
        .aupay_set_limits(&AupayLimits {
            request_date_format: RequestDateFormat::Compact,
            result_count: ResultCountMeaning::Page,
            ..AupayLimits::default()
        })
        .await
        .unwrap();
    let refused = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", &dashed(&from)),
            ("endDate", &dashed(&to)),
        ])
        .await;
    assert_eq!(refused.result_status(), "1");
    assert_eq!(refused.error_message(), "[startDate]の値が不正です");
    let page = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", &from),
            ("endDate", &to),
            ("totalCount", "10"),
            ("startCount", "21"),
        ])
        .await;
    assert_eq!(page.result_count(), 5);

    let too_big = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", &from),
            ("endDate", &to),
            ("totalCount", "1001"),
        ])
        .await;
    assert_eq!(too_big.result_status(), "1");
    let missing = env.list(&[("shopId", SHOP), ("endDate", &to)]).await;
    assert_eq!(missing.error_message(), "[startDate]必須入力項目です");
    let impossible = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", "20251131"),
            ("endDate", &to),
        ])
        .await;
    assert_eq!(impossible.result_status(), "1", "31 November is refused");
}

#[tokio::test]
async fn the_window_is_whole_jst_days_and_filters_by_status() {
    let env = Env::start().await;
    env.control
        .aupay_generate_orders(
            SHOP,
            &AupayGenerateOptions {
                order_dates: Some(vec![
                    "2025/12/31 23:59".into(),
                    "2026/01/01 00:05".into(),
                    "2026/01/02 00:00".into(),
                ]),
                kinds: Some(vec![AupayOrderKind::CardPaid]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let page = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", "20260101"),
            ("endDate", "20260101"),
        ])
        .await;
    let ids = page.order_ids();
    assert_eq!(ids.len(), 1, "{}", page.body);
    let order = page.xml();
    let info = order.child("orderInfo").unwrap();
    assert_eq!(info.child_text("orderDate"), Some("2026/01/01 00:05"));
    env.control
        .aupay_set_status(SHOP, &ids[0], "キャンセル受付中")
        .await
        .unwrap();
    let filtered = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", "20251231"),
            ("endDate", "20260102"),
            ("orderStatus", "新規受付"),
        ])
        .await;
    assert_eq!(filtered.order_ids().len(), 2);
}

#[tokio::test]
async fn bad_expired_unregistered_or_unentitled_keys_answer_401_0002_and_a_wrong_shop_cme0022() {
    let env = Env::start().await;
    let made = env
        .control
        .aupay_generate_orders(SHOP, &AupayGenerateOptions::default())
        .await
        .unwrap();
    let id = made.order_ids[0].clone();
    let query = [
        ("shopId", SHOP),
        ("startDate", "20200101"),
        ("endDate", "20991231"),
    ];
    for key in [None, Some("not-a-key")] {
        let reply = env.get("searchTradeInfoListProc", key, &query).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.result_status(), "1");
        assert_eq!(reply.error_code(), "0002");
        assert_eq!(reply.error_message(), "認証に失敗しました");
    }

    let wrong_shop = env
        .get(
            "searchTradeInfoProc",
            Some(KEY),
            &[("shopId", "87654321"), ("orderId", &id)],
        )
        .await;
    assert_eq!(wrong_shop.status, StatusCode::OK);
    assert_eq!(wrong_shop.error_code(), "CME0022");

    // A key without the right to the update group still reads.
    env.control
        .aupay_register_store(&AupayRegisterStoreRequest {
            denied_api_groups: vec![AupayApiGroup::TradeUpdate],
            ..AupayRegisterStoreRequest::new(SHOP, KEY)
        })
        .await
        .unwrap();
    assert_eq!(env.list(&query).await.result_status(), "0");
    let write = env
        .update(
            KEY,
            &status_body(SHOP, &id, "発送待ち"),
            "application/xml; charset=utf-8",
        )
        .await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED);
    assert_eq!(write.error_code(), "0002");

    // The IP allow-list answers like a bad key.
    env.control
        .aupay_register_store(&AupayRegisterStoreRequest {
            source_ip_registered: false,
            ..AupayRegisterStoreRequest::new(SHOP, KEY)
        })
        .await
        .unwrap();
    assert_eq!(env.list(&query).await.error_code(), "0002");

    env.control
        .aupay_register_store(&AupayRegisterStoreRequest::new(SHOP, KEY))
        .await
        .unwrap();
    assert_eq!(env.list(&query).await.result_status(), "0");
    env.control.aupay_expire_key(SHOP).await.unwrap();
    let expired = env.list(&query).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error_code(), "0002");
    assert!(env.control.aupay_writes().await.unwrap().is_empty());
}

#[tokio::test]
async fn one_order_by_id_and_status_writes_by_japanese_name() {
    let env = Env::start().await;
    let made = env
        .control
        .aupay_generate_orders(
            SHOP,
            &AupayGenerateOptions {
                count: Some(3),
                kinds: Some(vec![AupayOrderKind::KonbiniUnpaid]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let id = made.order_ids[1].clone();
    let one = env
        .get(
            "searchTradeInfoProc",
            Some(KEY),
            &[("shopId", SHOP), ("orderId", &id)],
        )
        .await;
    assert_eq!(one.order_ids(), vec![id.clone()]);
    let none = env
        .get(
            "searchTradeInfoProc",
            Some(KEY),
            &[("shopId", SHOP), ("orderId", "999")],
        )
        .await;
    assert_eq!(none.result_status(), "0");
    assert!(none.order_ids().is_empty());

    let xml_type = "application/xml; charset=utf-8";
    let ok = env
        .update(KEY, &status_body(SHOP, &id, "発送前入金待ち"), xml_type)
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.result_status(), "0");
    let stored = env.control.aupay_order(SHOP, &id).await.unwrap();
    assert!(stored.contains("<orderStatus>発送前入金待ち</orderStatus>"));
    let writes = env.control.aupay_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].from_status, "新規受付");
    assert_eq!(writes[0].order_status, "発送前入金待ち");

    // The buyer pays: au PAY moves it on; paymentStatus stays N until shipment.
    let paid = env.control.aupay_pay(SHOP, &id).await.unwrap();
    assert!(
        paid.contains("<orderStatus>発送待ち</orderStatus>"),
        "{paid}"
    );
    assert!(paid.contains("<paymentStatus>N</paymentStatus>"), "{paid}");

    // Wrapped fields are not found (flat body only); unknown names, cancelled orders refused.
    let wrapped = format!(
        "<request><shopId>{SHOP}</shopId><update><orderId>{id}</orderId><orderStatus>完了</orderStatus></update></request>"
    );
    assert_eq!(
        env.update(KEY, &wrapped, xml_type).await.error_message(),
        "[orderId]必須入力項目です"
    );
    assert_eq!(
        env.update(KEY, &status_body(SHOP, &id, "shipped"), xml_type)
            .await
            .result_status(),
        "1"
    );
    assert_eq!(
        env.update(KEY, &status_body(SHOP, &id, "発送待ち"), FORM)
            .await
            .result_status(),
        "1",
        "writes are XML"
    );
    assert_eq!(
        env.update(KEY, &status_body("87654321", &id, "発送待ち"), xml_type)
            .await
            .error_code(),
        "CME0022"
    );
    env.control
        .aupay_cancel(SHOP, &made.order_ids[2])
        .await
        .unwrap();
    let refused = env
        .update(
            KEY,
            &status_body(SHOP, &made.order_ids[2], "発送待ち"),
            xml_type,
        )
        .await;
    assert_eq!(refused.result_status(), "1");
    assert!(
        refused.error_message().contains("キャンセル"),
        "{}",
        refused.body
    );
    assert_eq!(env.control.aupay_writes().await.unwrap().len(), 1);
}

#[tokio::test]
async fn load_answers_the_html_502_page_and_the_rate_limit_does_too() {
    let env = Env::start().await;
    let query = [
        ("shopId", SHOP),
        ("startDate", "20200101"),
        ("endDate", "20991231"),
    ];
    env.control.aupay_bad_gateway(2).await.unwrap();
    for _ in 0..2 {
        let page = env.list(&query).await;
        assert_eq!(page.status, StatusCode::BAD_GATEWAY);
        assert!(page.content_type.starts_with("text/html"));
        assert!(page.body.contains("<title>502 Bad Gateway</title>"));
        assert!(!matches!(xml::parse(&page.body), Ok(root) if root.name == "response"));
    }
    assert_eq!(env.list(&query).await.result_status(), "0");

    env.control
        .aupay_set_limits(&AupayLimits {
            requests_per_second_per_shop: Some(1.0),
            ..AupayLimits::default()
        })
        .await
        .unwrap();
    let first = env.list(&query).await;
    let second = env.list(&query).await;
    assert_eq!(first.result_status(), "0");
    assert_eq!(second.status, StatusCode::BAD_GATEWAY);
    assert_eq!(env.control.stats().await.unwrap().rate_limited, 1);
}

#[tokio::test]
async fn inserted_orders_are_listed_as_stored() {
    let env = Env::start().await;
    let xml = "<orderInfo><orderId>352729794</orderId><orderDate>2026/08/05 20:13</orderDate><orderStatus>発送待ち</orderStatus><settlementName>au PAY（auかんたん決済）</settlementName><totalPrice>1230</totalPrice><detail><orderDetailId>1</orderDetailId><itemName>テスト &amp; 商品</itemName><unit>2</unit></detail></orderInfo>";
    env.control
        .aupay_insert_order(
            SHOP,
            &AupayInsertOrderRequest {
                xml: xml.into(),
                order_date: None,
            },
        )
        .await
        .unwrap();
    let page = env
        .list(&[
            ("shopId", SHOP),
            ("startDate", "20260805"),
            ("endDate", "20260805"),
        ])
        .await;
    let root = page.xml();
    let info = root.child("orderInfo").unwrap();
    assert_eq!(info, &xml::parse(xml).unwrap());
}

#[tokio::test]
async fn the_html_502_page_can_target_one_endpoint() {
    let env = Env::start().await;
    let made = env
        .control
        .aupay_generate_orders(SHOP, &AupayGenerateOptions::default())
        .await
        .unwrap();
    env.control
        .aupay_bad_gateway_on("aupay.updateTradeStsProc", 1)
        .await
        .unwrap();
    let query = [
        ("shopId", SHOP),
        ("startDate", "20200101"),
        ("endDate", "20991231"),
    ];
    assert_eq!(env.list(&query).await.result_status(), "0");
    let body = status_body(SHOP, &made.order_ids[0], "発送待ち");
    let xml_type = "application/xml; charset=utf-8";
    assert_eq!(
        env.update(KEY, &body, xml_type).await.status,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(env.update(KEY, &body, xml_type).await.result_status(), "0");
    assert!(
        env.control
            .aupay_bad_gateway_on("aupay.nothing", 1)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn lines_can_be_cancelled_on_their_own() {
    let env = Env::start().await;
    let made = env
        .control
        .aupay_generate_orders(
            SHOP,
            &AupayGenerateOptions {
                count: Some(1),
                kinds: Some(vec![AupayOrderKind::OptionSurcharge]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let id = &made.order_ids[0];
    let order = xml::parse(&env.control.aupay_order(SHOP, id).await.unwrap()).unwrap();
    let second = order
        .children_named("detail")
        .nth(1)
        .unwrap()
        .child_text("orderDetailId")
        .unwrap()
        .to_owned();
    let after = env
        .control
        .aupay_cancel_lines(SHOP, id, &[&second])
        .await
        .unwrap();
    let after = xml::parse(&after).unwrap();
    assert_eq!(after.child_text("orderStatus"), Some("新規受付"));
    let statuses: Vec<&str> = after
        .children_named("detail")
        .map(|d| d.child_text("itemCancelStatus").unwrap())
        .collect();
    assert_eq!(statuses, ["N", "Y"]);
    assert!(
        env.control
            .aupay_cancel_lines(SHOP, id, &["no-such-line"])
            .await
            .is_err()
    );
    let whole = env.control.aupay_cancel(SHOP, id).await.unwrap();
    assert!(
        whole.contains("<orderStatus>キャンセル</orderStatus>"),
        "{whole}"
    );
}
