//! The Qoo10 client and normaliser against the sandbox over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ichigen_core::order::RawPayload;
use ichigen_core::ports::SecretValue;
use ichigen_core::{
    HoldKind, JstInstant, Mall, MallError, MallId, OrderStatus, StoreRef, TimeWindow,
};
use ichigen_malls::{ClientSettings, MallEndpoints, Qoo10Mall, connect_qoo10};
use ichigen_sandbox::control::{
    FaultConfig, Qoo10ClaimRequest, Qoo10GenerateOptions, Qoo10InsertRowsRequest, Qoo10Limits,
    Qoo10OrderKind, Qoo10RegisterStoreRequest,
};
use ichigen_sandbox::qoo10::format_datetime;
use ichigen_sandbox::{ControlClient, Sandbox, SandboxConfig};
use serde_json::{Value, json};

const SELLER: &str = "qshop";

fn settings() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_millis(500),
        requests_per_second: 500.0,
        max_attempts: 8,
        backoff_min: Duration::from_millis(2),
        backoff_max: Duration::from_millis(20),
        rate_budget: None,
    }
}

struct Shop {
    _sandbox: Sandbox,
    control: ControlClient,
    base: String,
    store: StoreRef,
}

impl Shop {
    async fn new() -> Self {
        let sandbox = Sandbox::spawn(SandboxConfig { port: 0, seed: 11 })
            .await
            .unwrap();
        let control = sandbox.control();
        control
            .qoo10_register_store(&Qoo10RegisterStoreRequest {
                seller_id: SELLER.into(),
                api_key: "API-KEY-secret-1".into(),
                user_id: "qshop-login".into(),
                password: "pwd-secret-1".into(),
            })
            .await
            .unwrap();
        Self {
            base: sandbox.base_url(),
            _sandbox: sandbox,
            control,
            store: StoreRef::new(MallId::Qoo10, "q1"),
        }
    }

    fn mall_with(&self, secret: Value) -> Qoo10Mall {
        let endpoints = MallEndpoints {
            qoo10: MallEndpoints::qoo10_at(&self.base),
            ..MallEndpoints::default()
        };
        connect_qoo10(
            &self.store,
            &SecretValue::new(secret.to_string()),
            &endpoints,
            &settings(),
        )
        .unwrap()
    }

    fn mall(&self) -> Qoo10Mall {
        self.mall_with(json!({
            "apiKey": "API-KEY-secret-1",
            "userId": "qshop-login",
            "password": "pwd-secret-1",
        }))
    }

    async fn generate(
        &self,
        kinds: &[Qoo10OrderKind],
    ) -> ichigen_sandbox::control::Qoo10CartsResponse {
        self.control
            .qoo10_generate_orders(
                SELLER,
                &Qoo10GenerateOptions {
                    count: Some(kinds.len()),
                    kinds: kinds.to_vec(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }
}

fn now() -> JstInstant {
    JstInstant::from_timestamp(jiff::Timestamp::now())
}

fn last_day() -> TimeWindow {
    let end = now()
        .checked_add(jiff::SignedDuration::from_mins(1))
        .unwrap();
    TimeWindow::new(
        end.checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap(),
        end,
    )
}

async fn import(mall: &Qoo10Mall, window: TimeWindow) -> Vec<ichigen_core::Order> {
    let listed = mall.list_orders(window).await.unwrap();
    let mut orders = Vec::new();
    for l in listed {
        let payload = l.payload.expect("the list carries the cart");
        orders.extend(mall.normalise(&payload, now()).unwrap().orders);
    }
    orders
}

#[tokio::test]
async fn a_three_carrier_cart_is_three_orders_and_keeps_its_ids_and_lines() {
    let shop = Shop::new().await;
    let made = shop
        .generate(&[Qoo10OrderKind::ThreeCarriers, Qoo10OrderKind::Plain])
        .await;
    let mall = shop.mall();
    let cart = made.pack_nos[0].to_string();
    let first = import(&mall, last_day()).await;
    let parts: Vec<_> = first
        .iter()
        .filter(|o| o.mall_order_id.starts_with(&cart))
        .collect();
    assert_eq!(parts.len(), 3);
    let ids: Vec<&str> = parts.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [1, 2, 3]
            .map(|n| format!("qoo10:q1:{cart}-{n}"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    let carriers: std::collections::BTreeSet<_> = parts
        .iter()
        .map(|o| o.destinations[0].mall_carrier_code.clone().unwrap())
        .collect();
    assert_eq!(carriers.len(), 3);
    for part in &parts {
        assert_eq!(part.lines().count(), 1);
        assert!(part.holds.is_empty(), "{:?}", part.holds);
        assert_eq!(part.status, OrderStatus::Imported);
    }
    // Another client, same cart: the same ids with the same lines.
    let again = import(&shop.mall(), last_day()).await;
    let lines = |orders: &[ichigen_core::Order]| -> Vec<(String, Vec<String>)> {
        orders
            .iter()
            .map(|o| {
                (
                    o.id.to_string(),
                    o.lines().map(|l| l.mall_line_id.clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(lines(&first), lines(&again));
    // A one-carrier cart is one order under the cart's own number.
    let plain = made.pack_nos[1].to_string();
    assert!(
        first
            .iter()
            .any(|o| o.mall_order_id == plain && o.id.as_str() == format!("qoo10:q1:{plain}"))
    );
}

#[tokio::test]
async fn unpaid_carts_take_the_items_carrier_or_hold_naming_the_item() {
    let shop = Shop::new().await;
    let made = shop
        .generate(&[Qoo10OrderKind::Unpaid, Qoo10OrderKind::UnpaidUnknownItem])
        .await;
    let orders = import(&shop.mall(), last_day()).await;
    let unpaid = orders
        .iter()
        .find(|o| o.mall_order_id.starts_with(&made.pack_nos[0].to_string()))
        .unwrap();
    assert!(unpaid.destinations[0].mall_carrier_code.is_some());
    assert!(unpaid.payment.paid_at.is_none());
    assert_eq!(unpaid.mall_status.code, "1");
    assert!(unpaid.payment.awaits_payment());
    let unknown = orders
        .iter()
        .find(|o| o.mall_order_id.starts_with(&made.pack_nos[1].to_string()))
        .unwrap();
    let hold = unknown
        .holds
        .iter()
        .find(|h| h.message.contains("1999999999"))
        .expect("a hold naming the item");
    assert!(hold.message.contains("carrier"), "{hold}");
    // The lookup is cached: one item call per item, however often the cart is listed.
    let mall = shop.mall();
    import(&mall, last_day()).await;
    import(&mall, last_day()).await;
    let calls = shop.control.qoo10_calls().await.unwrap();
    let lookups = calls
        .iter()
        .filter(|c| c.method == "ItemsLookup.GetItemDetailInfo")
        .count();
    let items: std::collections::BTreeSet<_> = calls
        .iter()
        .filter(|c| c.method == "ItemsLookup.GetItemDetailInfo")
        .map(|c| {
            c.params
                .iter()
                .find(|(k, _)| k == "ItemCode")
                .unwrap()
                .1
                .clone()
        })
        .collect();
    // Two imports by the first mall, two by the second: each mall asks once per item.
    assert_eq!(lookups, 2 * items.len());
}

#[tokio::test]
async fn bad_product_codes_hold_naming_the_code() {
    let shop = Shop::new().await;
    let at = format_datetime(jiff::Timestamp::now().as_second() - 120);
    let row = |order_no: i64, code: &str| {
        json!({"orderNo": order_no, "packNo": 540099001_i64, "orderDate": at, "PaymentDate": at,
               "itemCode": "1123456789", "sellerItemCode": code, "optionCode": "",
               "itemTitle": "T", "orderPrice": "1480.0000", "orderQty": 1, "discount": 0,
               "total": 1480, "DeliveryCompany": "ヤマト運輸", "PaymentMethod": "クレジットカード"})
    };
    shop.control
        .qoo10_insert_rows(
            SELLER,
            &Qoo10InsertRowsRequest {
                rows: vec![
                    row(1088899001, "ＴＥＥ－０１"),
                    row(1088899002, "TEE😀"),
                    row(1088899003, ""),
                ],
            },
        )
        .await
        .unwrap();
    let orders = import(&shop.mall(), last_day()).await;
    assert_eq!(orders.len(), 1);
    let order = &orders[0];
    assert_eq!(order.amounts.goods, 3 * 1480, "1480.0000 is 1480 yen");
    let bad: Vec<_> = order
        .holds
        .iter()
        .filter(|h| h.kind == HoldKind::BadProductCode)
        .collect();
    assert_eq!(bad.len(), 3, "{:?}", order.holds);
    assert!(bad[0].message.contains("ＴＥＥ－０１"));
    assert!(bad[1].message.contains("TEE😀"));
    assert!(bad[2].message.contains("\"\""));
}

#[tokio::test]
async fn cancellations_come_from_claims_not_from_absence() {
    let shop = Shop::new().await;
    let at = format_datetime(jiff::Timestamp::now().as_second() - 120);
    let row = |order_no: i64| {
        json!({"orderNo": order_no, "packNo": 540099100_i64, "orderDate": at, "PaymentDate": at,
               "itemCode": "1123456789", "sellerItemCode": "TEE-01", "optionCode": "BK",
               "itemTitle": "T", "orderPrice": 1000, "orderQty": 1, "discount": 0,
               "total": 1000, "DeliveryCompany": "ヤマト運輸", "PaymentMethod": "クレジットカード"})
    };
    shop.control
        .qoo10_insert_rows(
            SELLER,
            &Qoo10InsertRowsRequest {
                rows: vec![row(1088899101), row(1088899102), row(1088899103)],
            },
        )
        .await
        .unwrap();
    shop.control
        .qoo10_claim_line(
            SELLER,
            1088899102,
            &Qoo10ClaimRequest {
                claim_stat: 3,
                reason: "在庫切れ".into(),
            },
        )
        .await
        .unwrap();
    shop.control
        .qoo10_claim_line(
            SELLER,
            1088899103,
            &Qoo10ClaimRequest {
                claim_stat: 1,
                reason: "変更したい".into(),
            },
        )
        .await
        .unwrap();
    let orders = import(&shop.mall(), last_day()).await;
    assert_eq!(orders.len(), 1);
    let order = &orders[0];
    let lines: Vec<&str> = order.lines().map(|l| l.mall_line_id.as_str()).collect();
    assert_eq!(lines, ["1088899101", "1088899103"]);
    assert!(order.history.iter().any(|h| {
        h.changes
            .iter()
            .any(|c| c.contains("1088899102") && c.contains("在庫切れ"))
    }));
    assert!(order.has_hold(HoldKind::CancelRequested));
    // The cancelled line's row was fetched by number: it vanished from the list.
    let calls = shop.control.qoo10_calls().await.unwrap();
    assert!(calls.iter().any(
        |c| c.method == "ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2"
            && c.params.iter().any(|(_, v)| v == "1088899102")
    ));

    // Every line cancelled: the order is cancelled.
    shop.control
        .qoo10_claim_cart(
            SELLER,
            540099100,
            &Qoo10ClaimRequest {
                claim_stat: 3,
                reason: String::new(),
            },
        )
        .await
        .unwrap();
    let fetched = shop
        .mall()
        .fetch_orders(&["1088899101".into()])
        .await
        .unwrap();
    let order = &shop
        .mall()
        .normalise(&fetched.orders[0].payload, now())
        .unwrap()
        .orders[0];
    assert_eq!(order.status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn a_missing_line_without_a_claim_is_held_not_cancelled() {
    let store = StoreRef::new(MallId::Qoo10, "q1");
    let payload = RawPayload::json(&json!({"packNo": 5, "rows": [{
        "orderNo": 10, "packNo": 5, "RelatedOrder": "10,11", "orderDate": "2025-06-03 14:22:10",
        "PaymentDate": "2025-06-03 14:25:41", "sellerItemCode": "A", "itemTitle": "T",
        "orderPrice": 100, "orderQty": 1, "total": 100, "DeliveryCompany": "佐川急便",
        "PaymentMethod": "クレジットカード", "shippingStatus": "On request(2)"}]}));
    let orders = ichigen_malls::qoo10::normalise::normalise_cart(
        &store,
        &payload,
        &Default::default(),
        now(),
    )
    .unwrap();
    assert_eq!(orders[0].status, OrderStatus::Imported);
    assert!(
        orders[0]
            .holds
            .iter()
            .any(|h| h.message.contains("line 11") && h.message.contains("not taken as cancelled"))
    );
}

#[tokio::test]
async fn a_91_day_window_is_split_and_a_large_answer_halved() {
    let shop = Shop::new().await;
    // Spread over 80 days, so halving the window finds them in a few steps.
    shop.control
        .qoo10_generate_orders(
            SELLER,
            &Qoo10GenerateOptions {
                count: Some(5),
                kinds: vec![Qoo10OrderKind::Plain],
                spread_secs: Some(80 * 86_400),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // A plain cart has at most three lines: four rows mean two carts or more.
    let mall = shop.mall().with_large_result(4);
    let end = now();
    let window = TimeWindow::new(
        end.checked_sub(jiff::SignedDuration::from_hours(24 * 91))
            .unwrap(),
        end,
    );
    let listed = mall.list_orders(window).await.unwrap();
    assert_eq!(listed.len(), 5);
    let calls = shop.control.qoo10_calls().await.unwrap();
    let searches: Vec<_> = calls
        .iter()
        .filter(|c| c.method.contains("GetShippingInfo") || c.method.contains("GetClaimInfo"))
        .collect();
    assert!(
        searches.iter().all(|c| c.result_code == 0),
        "no search was refused"
    );
    let span = |c: &&ichigen_sandbox::control::Qoo10CallRecord| {
        let get = |k: &str| c.params.iter().find(|(n, _)| n == k).unwrap().1.clone();
        let parse = |s: String| ichigen_sandbox::qoo10::parse_search_date(&s, false).unwrap();
        parse(get("search_Edate")) - parse(get("search_Sdate"))
    };
    assert!(searches.iter().all(|c| span(c) <= 90 * 86_400));
    let claim_windows = searches
        .iter()
        .filter(|c| c.method.contains("GetClaimInfo"))
        .count();
    assert_eq!(claim_windows, 2, "91 days are two windows");
    // Status 2 came back with ≥ 4 rows and was asked again in halves.
    let status2 = searches
        .iter()
        .filter(|c| {
            c.params
                .iter()
                .any(|(k, v)| k == "ShippingStat" && v == "2")
        })
        .count();
    assert!(status2 > 3, "{status2} status-2 searches");
}

#[tokio::test]
async fn the_key_is_reissued_when_expired_and_refusals_name_the_credential() {
    let shop = Shop::new().await;
    shop.generate(&[Qoo10OrderKind::Plain]).await;
    let mall = shop.mall();
    assert_eq!(mall.list_orders(last_day()).await.unwrap().len(), 1);
    shop.control.qoo10_expire_key(SELLER).await.unwrap();
    assert_eq!(mall.list_orders(last_day()).await.unwrap().len(), 1);
    assert_eq!(
        shop.control.qoo10_store(SELLER).await.unwrap().keys_issued,
        2
    );

    shop.control
        .qoo10_change_password(SELLER, "new-password")
        .await
        .unwrap();
    let err = mall.list_orders(last_day()).await.unwrap_err();
    let MallError::CredentialRejected { credential, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(credential, "userId/password");
    assert!(!err.to_string().contains("pwd-secret-1"));

    let wrong_key = shop
        .mall_with(json!({"apiKey": "nope", "userId": "qshop-login", "password": "new-password"}));
    let err = wrong_key.list_orders(last_day()).await.unwrap_err();
    assert!(
        matches!(&err, MallError::CredentialRejected { credential, .. } if credential == "apiKey"),
        "{err}"
    );
    assert!(err.to_string().contains("qoo10:q1"), "{err}");
    let debug = format!("{wrong_key:?} {mall:?}");
    for secret in ["API-KEY-secret-1", "pwd-secret-1", "new-password"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[tokio::test]
async fn html_pages_and_busy_answers_are_retried() {
    let shop = Shop::new().await;
    shop.generate(&[Qoo10OrderKind::Plain, Qoo10OrderKind::TwoCarriers])
        .await;
    let mall = shop.mall();
    shop.control
        .set_faults(&FaultConfig {
            error5xx_rate: 0.3,
            rate429_rate: 0.1,
            seed: Some(3),
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    shop.control
        .qoo10_set_limits(&Qoo10Limits {
            requests_per_second: Some(20.0),
            ..Qoo10Limits::default()
        })
        .await
        .unwrap();
    let listed = mall.list_orders(last_day()).await.unwrap();
    assert_eq!(listed.len(), 2);
    let stats = shop.control.stats().await.unwrap();
    assert!(stats.injected_for("5xx") + stats.injected_for("429") > 0);

    // Every call refused as busy: unavailable (retryable), not a rejection.
    shop.control
        .set_faults(&FaultConfig::default())
        .await
        .unwrap();
    shop.control
        .qoo10_set_limits(&Qoo10Limits {
            requests_per_second: Some(0.001),
            ..Qoo10Limits::default()
        })
        .await
        .unwrap();
    let err = shop.mall().list_orders(last_day()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn odd_carts_normalise_move_names_additional_options_discounts_and_dates() {
    let shop = Shop::new().await;
    let made = shop
        .generate(&[
            Qoo10OrderKind::Move,
            Qoo10OrderKind::AdditionalOption,
            Qoo10OrderKind::CartDiscounts,
            Qoo10OrderKind::DesiredDate,
            Qoo10OrderKind::OddText,
        ])
        .await;
    let find = |orders: &[ichigen_core::Order], i: usize| {
        orders
            .iter()
            .find(|o| o.mall_order_id.starts_with(&made.pack_nos[i].to_string()))
            .cloned()
            .unwrap()
    };
    let orders = import(&shop.mall(), last_day()).await;
    for order in &orders {
        assert!(order.holds.is_empty(), "{}: {:?}", order.id, order.holds);
    }
    let moved = find(&orders, 0);
    assert_eq!(moved.lines().next().unwrap().name, "TEE-01 ブラック / M");
    let extra = find(&orders, 1);
    let line = extra.lines().next().unwrap();
    assert_eq!(line.option_surcharge, 300);
    assert!(extra.notes.as_deref().unwrap().contains("ギフト包装"));
    let discounts = find(&orders, 2);
    assert_eq!(discounts.amounts.coupons_shop_funded, 100 + 200);
    assert_eq!(discounts.amounts.coupons, 100 + 200 + 150);
    let dated = find(&orders, 3);
    assert!(dated.delivery.desired_date.is_some());
    assert_eq!(
        dated.delivery.time_slot.as_ref().unwrap().mapped.as_deref(),
        Some("14-16")
    );
    assert!(find(&orders, 4).buyer.name.contains('😀'));
    assert!(
        moved.buyer.address.is_none(),
        "no orderer address unless the store says so"
    );

    // The store's settings: additional options as lines, orderer address from the ship-to.
    let mall = shop.mall_with(json!({
        "apiKey": "API-KEY-secret-1", "userId": "qshop-login", "password": "pwd-secret-1",
        "additionalOptionsAsLines": true, "fillBuyerAddressFromShipTo": true,
    }));
    let orders = import(&mall, last_day()).await;
    let extra = find(&orders, 1);
    let lines: Vec<_> = extra.lines().collect();
    let extras: Vec<_> = lines
        .iter()
        .filter(|l| l.mall_line_id.contains("-opt"))
        .collect();
    assert_eq!(
        extras.len(),
        1,
        "one additional option, one line of its own"
    );
    assert_eq!(extras[0].unit_price, 300);
    assert_eq!(
        extras[0].mall_line_id,
        format!("{}-opt1", line.mall_line_id)
    );
    assert_eq!(lines[0].unit_price + extras[0].unit_price, line.unit_price);
    assert_eq!(
        extra.buyer.address.as_ref(),
        Some(&extra.destinations[0].address)
    );
    assert!(extra.operator.notes.iter().any(|n| n.text.contains("補完")));
}

#[tokio::test]
async fn a_fraction_of_a_yen_is_an_error_naming_the_field() {
    let store = StoreRef::new(MallId::Qoo10, "q1");
    let payload = RawPayload::json(&json!({"packNo": 5, "rows": [{
        "orderNo": 10, "packNo": 5, "orderDate": "2025-06-03 14:22:10", "sellerItemCode": "A",
        "orderPrice": "1480.5000", "orderQty": 1, "DeliveryCompany": "佐川急便"}]}));
    let err = ichigen_malls::qoo10::normalise::normalise_cart(
        &store,
        &payload,
        &Default::default(),
        now(),
    )
    .unwrap_err();
    assert_eq!(err.field, "rows[0].orderPrice");
    assert!(err.to_string().contains("fraction"), "{err}");
}

#[tokio::test]
async fn targeted_import_takes_a_line_number() {
    let shop = Shop::new().await;
    let made = shop.generate(&[Qoo10OrderKind::ThreeCarriers]).await;
    let mall = shop.mall();
    let line = made.order_nos[0][1].to_string();
    let outcome = mall
        .fetch_orders(&[line.clone(), "123".into()])
        .await
        .unwrap();
    assert_eq!(outcome.orders.len(), 1);
    assert_eq!(outcome.missing.len(), 1);
    assert!(
        outcome.missing[0].1.contains("line's order number"),
        "{:?}",
        outcome.missing
    );
    let orders = mall
        .normalise(&outcome.orders[0].payload, now())
        .unwrap()
        .orders;
    assert_eq!(orders.len(), 3, "every line of the cart, split by carrier");
}

#[tokio::test]
async fn new_orders_are_confirmed_line_by_line_even_by_a_later_process() {
    let shop = Shop::new().await;
    let made = shop
        .generate(&[Qoo10OrderKind::ThreeCarriers, Qoo10OrderKind::Unpaid])
        .await;
    let mall = shop.mall();
    let orders = import(&mall, last_day()).await;
    let owed: Vec<_> = orders
        .iter()
        .filter(|o| mall.needs_acknowledgement(o))
        .collect();
    assert_eq!(owed.len(), 3, "the unpaid cart is not confirmed");
    let cart = made.pack_nos[0];
    let stored = |ids: [String; 2]| -> Vec<ichigen_core::Order> {
        ids.iter()
            .map(|id| {
                let order = orders.iter().find(|o| &o.mall_order_id == id);
                order.expect("imported").clone()
            })
            .collect()
    };
    let acks = mall
        .acknowledge(&stored([format!("{cart}-1"), format!("{cart}-2")]))
        .await
        .unwrap();
    assert!(
        acks.iter()
            .all(|a| a.outcome == ichigen_core::mall::AckOutcome::Accepted),
        "{acks:?}"
    );
    // Another process (the mall-writer) has only the stored orders: their lines suffice.
    let later = shop.mall();
    let calls_before = shop
        .control
        .stats()
        .await
        .unwrap()
        .requests_for("qoo10.qapi");
    let acks = later
        .acknowledge(&stored([format!("{cart}-3"), format!("{cart}-1")]))
        .await
        .unwrap();
    let calls = shop
        .control
        .stats()
        .await
        .unwrap()
        .requests_for("qoo10.qapi")
        - calls_before;
    // Auth once, then one SetSellerCheckYN_V2 per line: nothing listed or looked up.
    let lines = made.order_nos[0].len() as u64;
    assert!(calls <= 1 + lines, "{calls} calls for {lines} lines");
    assert_eq!(
        acks[0].outcome,
        ichigen_core::mall::AckOutcome::Accepted,
        "{acks:?}"
    );
    assert!(
        matches!(
            acks[1].outcome,
            ichigen_core::mall::AckOutcome::NotNeeded { .. }
        ),
        "already confirmed: {acks:?}"
    );
    let writes = shop.control.qoo10_writes().await.unwrap();
    let mut confirmed: Vec<i64> = writes.iter().map(|w| w.order_no).collect();
    confirmed.sort_unstable();
    assert_eq!(confirmed, made.order_nos[0], "each line once");
    let today = JstInstant::from_timestamp(jiff::Timestamp::now()).date();
    let expected = today
        .checked_add(jiff::Span::new().days(3))
        .unwrap()
        .strftime("%Y%m%d")
        .to_string();
    assert!(writes.iter().all(|w| w.est_ship_dt == expected));
}

#[tokio::test]
async fn many_lines_and_zero_price_lines_normalise() {
    let store = StoreRef::new(MallId::Qoo10, "q1");
    let rows: Vec<Value> = (0..40)
        .map(|i| {
            json!({"orderNo": 1000 + i, "packNo": 5, "orderDate": "2025-06-03 14:22:10",
                "PaymentDate": "2025-06-03 14:25:41", "sellerItemCode": format!("SKU-{i}"),
                "itemTitle": "おまけ", "orderPrice": if i == 0 { "0.0000" } else { "100.0000" },
                "orderQty": 1, "discount": 0, "total": if i == 0 { 0 } else { 100 },
                "DeliveryCompany": if i % 2 == 0 { "ヤマト運輸" } else { "佐川急便" },
                "PaymentMethod": "クレジットカード", "shippingStatus": "On request(2)"})
        })
        .collect();
    let payload = RawPayload::json(&json!({"packNo": 5, "rows": rows}));
    let orders = ichigen_malls::qoo10::normalise::normalise_cart(
        &store,
        &payload,
        &Default::default(),
        now(),
    )
    .unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders.iter().map(|o| o.lines().count()).sum::<usize>(), 40);
    assert!(
        orders.iter().all(|o| o.holds.is_empty()),
        "{:?}",
        orders[0].holds
    );
    assert_eq!(orders[0].lines().next().unwrap().unit_price, 0);
    assert_eq!(orders[0].amounts.goods + orders[1].amounts.goods, 39 * 100);
}
