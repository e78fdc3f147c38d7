//! Rakuten wire behaviour over real HTTP.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ichigen_sandbox::control::{
    AuthErrorShape, GenerateOptions, InsertOrderRequest, OrderKind, RakutenLimits,
    RegisterStoreRequest,
};
use ichigen_sandbox::time::{self, DAY_SECS};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Generates one order at each given instant; returns their numbers.
async fn orders_at(env: &Env, instants: &[i64]) -> Vec<String> {
    let options = GenerateOptions {
        order_datetimes: Some(instants.iter().map(|t| jst(*t)).collect()),
        kinds: Some(vec![OrderKind::Plain]),
        ..GenerateOptions::default()
    };
    env.control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers
}

fn search_body(start: &str, end: &str) -> Value {
    json!({ "dateType": 1, "startDatetime": start, "endDatetime": end })
}

#[tokio::test]
async fn auth_good_bad_and_expired_keys() {
    let env = start().await;
    let body = search_body(&jst(days_ago(1)), &jst(days_ago(0)));
    let path = "/es/2.0/order/searchOrder/";

    let good = env.search(body.clone()).await;
    assert_eq!(good.status, StatusCode::OK);

    for auth in [
        None,
        Some(esa(SECRET, "wrong")),
        Some(esa("wrong", KEY)),
        Some(format!("Bearer {KEY}")),
        Some("ESA not-base64!".to_owned()),
    ] {
        let r = env
            .post_raw(path, auth.as_deref(), Some(JSON_UTF8), &body)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            r.body,
            json!({ "Results": { "errorCode": "ES01-01", "message": "Un-Authorised" } })
        );
        assert_eq!(r.headers["content-type"], "application/json;charset=utf-8");
    }

    // Expired key: 401 everywhere, but the expiry endpoint still reports the past date.
    env.control.rakuten_expire_key(SHOP).await.unwrap();
    assert_eq!(
        env.search(body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let expiry = env.expiry(Some(&esa(SECRET, KEY)), Some(KEY)).await;
    assert_eq!(expiry.status, StatusCode::OK);
    let date = expiry.body["expiryDate"].as_str().unwrap();
    assert!(time::parse_naive_jst(date).unwrap() < now(), "{date}");

    // Knob: the expiry endpoint may refuse expired keys too.
    env.control
        .rakuten_set_limits(&RakutenLimits {
            expiry_endpoint_rejects_expired_key: true,
            auth_error_shape: AuthErrorShape::MessageModelList,
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let refused = env.expiry(Some(&esa(SECRET, KEY)), Some(KEY)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.codes(), vec!["GA0001"]);

    // Renewal: re-registering replaces the key; the old one stays dead.
    env.control
        .rakuten_register_store(&RegisterStoreRequest::new(SHOP, SECRET, "SL998877_key2"))
        .await
        .unwrap();
    let renewed = env
        .post_raw(
            path,
            Some(&esa(SECRET, "SL998877_key2")),
            Some(JSON_UTF8),
            &body,
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK);
    assert_eq!(env.search(body).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn content_type_spellings_and_415() {
    let env = start().await;
    let body = search_body(&jst(days_ago(1)), &jst(days_ago(0)));
    let auth = esa(SECRET, KEY);
    for path in ["/es/2.0/order/searchOrder/", "/es/2.0/order/searchOrder"] {
        for ct in [
            "application/json; charset=utf-8",
            "application/json;charset=utf-8",
            "application/json; charset=UTF-8",
        ] {
            let r = env.post_raw(path, Some(&auth), Some(ct), &body).await;
            assert_eq!(r.status, StatusCode::OK, "{path} {ct}");
            assert_eq!(r.headers["content-type"], "application/json;charset=utf-8");
        }
    }
    for ct in [
        Some("application/json"),
        Some("text/plain; charset=utf-8"),
        None,
    ] {
        let r = env
            .post_raw("/es/2.0/order/searchOrder/", Some(&auth), ct, &body)
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
    }
    // Unauthenticated requests get 401 before the content type is looked at.
    let r = env
        .post_raw(
            "/es/2.0/order/searchOrder/",
            None,
            Some("text/plain"),
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn datetime_format_errors() {
    let env = start().await;
    let end = jst(days_ago(0));
    for start in [
        "2026-11-01T00:00:00Z",
        "2026-11-01T00:00:00+09:00",
        "2026-11-01 00:00:00+0900",
    ] {
        let r = env.search(search_body(start, &end)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{start}");
        assert_eq!(
            r.codes(),
            vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_011"],
            "{start}"
        );
        assert_eq!(r.body["orderNumberList"], Value::Null);
        assert_eq!(r.body["PaginationResponseModel"], Value::Null);
    }
    // Missing dateType and a bad start are reported together.
    let r = env
        .search(json!({ "startDatetime": "2026-11-01T00:00:00Z", "endDatetime": end }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.codes(),
        vec![
            "ORDER_EXT_API_SEARCH_ORDER_ERROR_009",
            "ORDER_EXT_API_SEARCH_ORDER_ERROR_011"
        ]
    );
    let r = env
        .search(json!({ "dateType": 1, "startDatetime": end }))
        .await;
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_009"]);
    // Not JSON at all.
    let r = env
        .post_raw(
            "/es/2.0/order/searchOrder/",
            Some(&esa(SECRET, KEY)),
            Some(JSON_UTF8),
            &Value::String("{oops".into()),
        )
        .await;
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_011"]);
}

#[tokio::test]
async fn window_limits() {
    let env = start().await;
    let start = days_ago(100);
    let ok = env.search_window(start, start + 63 * DAY_SECS, 30, 1).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    let too_long = env
        .search_window(start, start + 63 * DAY_SECS + 1, 30, 1)
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        too_long.codes(),
        vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_013"]
    );

    let inverted = env.search_window(start, start - 1, 30, 1).await;
    assert_eq!(
        inverted.codes(),
        vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_012"]
    );

    let old = days_ago(731);
    let too_old = env.search_window(old, old + DAY_SECS, 30, 1).await;
    assert_eq!(too_old.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        too_old.codes(),
        vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_014"]
    );

    let edge = days_ago(729);
    let recent_enough = env.search_window(edge, edge + DAY_SECS, 30, 1).await;
    assert_eq!(recent_enough.status, StatusCode::OK);
}

#[tokio::test]
async fn paging_sorting_and_empty_results() {
    let env = start().await;
    let from = days_ago(10);
    let to = days_ago(1);
    let generated = env
        .control
        .rakuten_generate_orders(SHOP, &GenerateOptions::spread(25, jst(from), jst(to)))
        .await
        .unwrap()
        .order_numbers;

    let mut collected = Vec::new();
    for (page, expected) in [(1, 10), (2, 10), (3, 5)] {
        let r = env.search_window(from, to, 10, page).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_INFO_101"]);
        assert_eq!(
            r.body["PaginationResponseModel"],
            json!({ "totalRecordsAmount": 25, "totalPages": 3, "requestPage": page })
        );
        assert_eq!(r.numbers().len(), expected);
        collected.extend(r.numbers());
    }
    assert_eq!(collected, generated, "ascending orderDatetime, all pages");

    // Past the last page: empty list, real pagination, not an error.
    let beyond = env.search_window(from, to, 10, 4).await;
    assert_eq!(beyond.status, StatusCode::OK);
    assert!(beyond.numbers().is_empty());
    assert_eq!(
        beyond.body["PaginationResponseModel"]["totalRecordsAmount"],
        25
    );

    // Default page size 30, descending sort.
    let desc = env
        .search(json!({
            "dateType": 1, "startDatetime": jst(from), "endDatetime": jst(to),
            "PaginationRequestModel": { "SortModelList": [{ "sortColumn": 1, "sortDirection": 2 }] },
        }))
        .await;
    let mut reversed = generated.clone();
    reversed.reverse();
    assert_eq!(desc.numbers(), reversed);

    // Page size over the maximum.
    let big = env.search_window(from, to, 1001, 1).await;
    assert_eq!(big.status, StatusCode::BAD_REQUEST);
    assert_eq!(big.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_015"]);
    assert_eq!(
        env.search_window(from, to, 1000, 1).await.status,
        StatusCode::OK
    );
    let zero_page = env.search_window(from, to, 10, 0).await;
    assert_eq!(
        zero_page.codes(),
        vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_015"]
    );

    // Empty window.
    let empty = env.search_window(days_ago(40), days_ago(30), 10, 1).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["orderNumberList"], json!([]));
    assert_eq!(empty.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_INFO_102"]);
    assert_eq!(
        empty.body["PaginationResponseModel"],
        json!({ "totalRecordsAmount": null, "totalPages": null, "requestPage": null })
    );
}

#[tokio::test]
async fn hit_cap_truncates_and_refuses() {
    let env = start().await;
    env.control
        .rakuten_set_limits(&RakutenLimits {
            search_hit_cap: 12,
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let (from, to) = (days_ago(5), days_ago(1));
    let generated = env
        .control
        .rakuten_generate_orders(SHOP, &GenerateOptions::spread(25, jst(from), jst(to)))
        .await
        .unwrap()
        .order_numbers;

    let first = env.search_window(from, to, 10, 1).await;
    assert_eq!(first.numbers(), generated[..10].to_vec());
    assert_eq!(
        first.body["PaginationResponseModel"]["totalRecordsAmount"],
        25
    );
    assert_eq!(first.body["PaginationResponseModel"]["totalPages"], 3);

    let straddling = env.search_window(from, to, 10, 2).await;
    assert_eq!(straddling.status, StatusCode::OK);
    assert_eq!(straddling.numbers(), generated[10..12].to_vec());

    for page in [3, 4] {
        let beyond = env.search_window(from, to, 10, page).await;
        assert_eq!(beyond.status, StatusCode::BAD_REQUEST);
        assert_eq!(beyond.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_016"]);
        assert_eq!(beyond.body["orderNumberList"], Value::Null);
    }
    // A narrower window under the cap pages normally again.
    let narrow = env.search_window(from, from + (to - from) / 3, 10, 1).await;
    assert_eq!(narrow.status, StatusCode::OK);
}

#[tokio::test]
async fn window_ends_are_inclusive() {
    let env = start().await;
    let start = days_ago(3);
    let end = days_ago(2);
    let numbers = orders_at(&env, &[start - 1, start, start + 60, end, end + 1]).await;
    let r = env.search_window(start, end, 30, 1).await;
    assert_eq!(r.numbers(), numbers[1..4].to_vec());
}

#[tokio::test]
async fn date_types_and_progress_filter() {
    let env = start().await;
    let base = days_ago(3);
    let numbers = orders_at(&env, &[base, base + 10, base + 20]).await;

    let by_type = |date_type: u8, progress: Option<Vec<i64>>| {
        let mut body = json!({
            "dateType": date_type,
            "startDatetime": jst(base - DAY_SECS),
            "endDatetime": jst(now() + 60),
        });
        if let Some(progress) = progress {
            body["orderProgressList"] = json!(progress);
        }
        body
    };
    // No order has a confirmation time yet.
    let r = env.search(by_type(2, None)).await;
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_INFO_102"]);

    let confirm = env
        .rakuten("confirmOrder", &json!({ "orderNumberList": [numbers[1]] }))
        .await;
    assert_eq!(
        confirm.codes(),
        vec!["ORDER_EXT_API_CONFIRM_ORDER_INFO_101"]
    );
    assert_eq!(
        env.search(by_type(2, None)).await.numbers(),
        vec![numbers[1].clone()]
    );
    // No SortModelList: newest first (Rakuten's default).
    assert_eq!(
        env.search(by_type(1, Some(vec![100]))).await.numbers(),
        vec![numbers[2].clone(), numbers[0].clone()]
    );
    assert_eq!(
        env.search(by_type(1, Some(vec![300, 900]))).await.numbers(),
        vec![numbers[1].clone()]
    );

    // dateType 6 (payment fixed) is internal: set when an order reaches 700.
    assert!(env.search(by_type(6, None)).await.numbers().is_empty());
    env.control
        .rakuten_set_progress(SHOP, &numbers[2], 700)
        .await
        .unwrap();
    assert_eq!(
        env.search(by_type(6, None)).await.numbers(),
        vec![numbers[2].clone()]
    );

    let bad = env.search(by_type(7, None)).await;
    assert_eq!(bad.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_011"]);
}

#[tokio::test]
async fn get_order_limits_and_unknown_numbers() {
    let env = start().await;
    let numbers = orders_at(&env, &[days_ago(2), days_ago(1)]).await;

    // Another store's order is invisible.
    env.control
        .rakuten_register_store(&RegisterStoreRequest::new("112233", "SP_other", "SL_other"))
        .await
        .unwrap();
    let other = env
        .control
        .rakuten_generate_orders(
            "112233",
            &GenerateOptions {
                count: Some(1),
                ..GenerateOptions::default()
            },
        )
        .await
        .unwrap()
        .order_numbers;

    let asked = vec![
        numbers[1].clone(),
        "998877-20200101-0000009999".to_owned(),
        other[0].clone(),
        numbers[0].clone(),
    ];
    let r = env.get_orders(&asked).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["version"], 7);
    let returned: Vec<&str> = r.body["OrderModelList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderNumber"].as_str().unwrap())
        .collect();
    assert_eq!(returned, vec![numbers[1].as_str(), numbers[0].as_str()]);
    let messages = r.body["MessageModelList"].as_array().unwrap();
    assert_eq!(
        messages[0]["messageCode"],
        "ORDER_EXT_API_GET_ORDER_INFO_101"
    );
    assert!(messages[0]["message"].as_str().unwrap().contains("2件"));
    let missing: Vec<&str> = messages[1..]
        .iter()
        .map(|m| {
            assert_eq!(m["messageCode"], "ORDER_EXT_API_GET_ORDER_INFO_102");
            assert_eq!(m["messageType"], "INFO");
            m["orderNumber"].as_str().unwrap()
        })
        .collect();
    assert_eq!(missing, vec![asked[1].as_str(), asked[2].as_str()]);

    let too_many: Vec<String> = (0..101)
        .map(|i| format!("998877-20260101-{i:010}"))
        .collect();
    let r = env.get_orders(&too_many).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_GET_ORDER_ERROR_010"]);
    let hundred = &too_many[..100];
    assert_eq!(env.get_orders(hundred).await.status, StatusCode::OK);

    let no_version = env
        .rakuten("getOrder", &json!({ "orderNumberList": [numbers[0]] }))
        .await;
    assert_eq!(no_version.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_version.codes(),
        vec!["ORDER_EXT_API_GET_ORDER_ERROR_009"]
    );
}

#[tokio::test]
async fn malformed_orders_round_trip() {
    let env = start().await;
    let broken = json!({
        "orderNumber": "998877-20261101-0000000777",
        "orderDatetime": "yesterday-ish",
        "orderProgress": "100",
        "goodsPrice": "a lot",
        "PackageModelList": "not a list",
    });
    env.control
        .rakuten_insert_order(SHOP, &InsertOrderRequest::new(broken.clone()))
        .await
        .unwrap();
    // Not indexed by date ...
    let window = (days_ago(3), days_ago(0));
    assert!(
        env.search_window(window.0, window.1, 30, 1)
            .await
            .numbers()
            .is_empty()
    );
    // ... unless the wrapper gives an index time.
    let at = days_ago(1);
    env.control
        .rakuten_insert_order(
            SHOP,
            &InsertOrderRequest {
                order_datetime: Some(jst(at)),
                ..InsertOrderRequest::new(broken.clone())
            },
        )
        .await
        .unwrap();
    let found = env.search_window(window.0, window.1, 30, 1).await;
    assert_eq!(found.numbers(), vec!["998877-20261101-0000000777"]);

    let fetched = env.get_orders(&found.numbers()).await;
    assert_eq!(fetched.body["OrderModelList"], json!([broken]));
    let confirm = env
        .rakuten(
            "confirmOrder",
            &json!({ "orderNumberList": found.numbers() }),
        )
        .await;
    assert_eq!(
        confirm.codes(),
        vec!["ORDER_EXT_API_CONFIRM_ORDER_ERROR_103"]
    );
    assert_eq!(
        env.control
            .rakuten_order(SHOP, "998877-20261101-0000000777")
            .await
            .unwrap(),
        broken
    );

    // Non-objects and missing order numbers are refused by the control API.
    let err = env
        .control
        .rakuten_insert_order(SHOP, &InsertOrderRequest::new(json!({ "foo": 1 })))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
}

#[tokio::test]
async fn confirm_order_transitions_and_write_log() {
    let env = start().await;
    let numbers = orders_at(&env, &[days_ago(3), days_ago(2), days_ago(1)]).await;
    env.control
        .rakuten_set_progress(SHOP, &numbers[2], 900)
        .await
        .unwrap();

    let r = env
        .rakuten(
            "confirmOrder",
            &json!({ "orderNumberList": [numbers[0], numbers[2], "998877-20200101-0000000001"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.codes(),
        vec![
            "ORDER_EXT_API_CONFIRM_ORDER_INFO_101",
            "ORDER_EXT_API_CONFIRM_ORDER_ERROR_102",
            "ORDER_EXT_API_CONFIRM_ORDER_ERROR_101",
        ]
    );
    let tagged: Vec<&str> = r.body["MessageModelList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["orderNumber"].as_str().unwrap())
        .collect();
    assert_eq!(
        tagged,
        vec![
            numbers[0].as_str(),
            numbers[2].as_str(),
            "998877-20200101-0000000001"
        ]
    );

    let order = env.control.rakuten_order(SHOP, &numbers[0]).await.unwrap();
    assert_eq!(order["orderProgress"], 300);
    let confirmed_at = order["shopOrderCfmDatetime"].as_str().unwrap();
    assert!((time::parse_rakuten_datetime(confirmed_at).unwrap() - now()).abs() < 60);

    // Confirming again: already moved on.
    let again = env
        .rakuten("confirmOrder", &json!({ "orderNumberList": [numbers[0]] }))
        .await;
    assert_eq!(again.codes(), vec!["ORDER_EXT_API_CONFIRM_ORDER_ERROR_103"]);

    let writes = env.control.rakuten_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].operation, "confirmOrder");
    assert_eq!(writes[0].shop_id, SHOP);
    assert_eq!(writes[0].order_numbers, vec![numbers[0].clone()]);

    let too_many: Vec<String> = (0..101).map(|i| format!("n{i}")).collect();
    let r = env
        .rakuten("confirmOrder", &json!({ "orderNumberList": too_many }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_CONFIRM_ORDER_ERROR_010"]);
    let r = env.rakuten("confirmOrder", &json!({})).await;
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_CONFIRM_ORDER_ERROR_009"]);
}

#[tokio::test]
async fn confirm_can_reject_unfixed_postage() {
    let env = start().await;
    let options = GenerateOptions {
        count: Some(1),
        kinds: Some(vec![OrderKind::UnfixedPostage]),
        ..GenerateOptions::default()
    };
    let numbers = env
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers;
    env.control
        .rakuten_set_limits(&RakutenLimits {
            confirm_rejects_unfixed_postage: true,
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let r = env
        .rakuten("confirmOrder", &json!({ "orderNumberList": numbers }))
        .await;
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_CONFIRM_ORDER_ERROR_105"]);
    assert!(env.control.rakuten_writes().await.unwrap().is_empty());
}

#[tokio::test]
async fn license_expiry_endpoint() {
    let env = start().await;
    env.control
        .rakuten_register_store(&RegisterStoreRequest {
            license_expires_at: Some("2027-01-31T23:59:59".into()),
            ..RegisterStoreRequest::new(SHOP, SECRET, KEY)
        })
        .await
        .unwrap();
    let auth = esa(SECRET, KEY);
    let r = env.expiry(Some(&auth), Some(KEY)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({ "expiryDate": "2027-01-31T23:59:59" }));
    assert_eq!(r.headers["content-type"], "application/json;charset=utf-8");

    assert_eq!(
        env.expiry(Some(&auth), None).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        env.expiry(None, Some(KEY)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        env.expiry(Some(&auth), Some("someone-else")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn get_payment_is_unpaid_until_the_control_api_pays_the_order() {
    let env = start().await;
    let options = GenerateOptions {
        count: Some(2),
        kinds: Some(vec![OrderKind::BankTransfer, OrderKind::Plain]),
        ..GenerateOptions::default()
    };
    let numbers = env
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers;
    let ask = |number: &str| json!({ "orderNumber": number, "version": 4 });

    let r = env.rakuten("getPayment", &ask(&numbers[0])).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.codes(), ["ORDER_EXT_API_GET_PAYMENT_INFO_101"]);
    assert_eq!(r.body["OrderModel"]["orderNumber"], numbers[0].as_str());
    let payment = &r.body["OrderModel"]["PaymentModelList"][0];
    assert_eq!(payment["paymentMethod"], 9);
    assert_eq!(payment["paymentStatus"], 30500);
    assert!(payment["paymentFixDatetime"].is_null());

    let paid_at = jst(days_ago(0) - 3_600);
    env.control
        .rakuten_pay(SHOP, &numbers[0], Some(&paid_at))
        .await
        .unwrap();
    let r = env.rakuten("getPayment", &ask(&numbers[0])).await;
    let payment = &r.body["OrderModel"]["PaymentModelList"][0];
    assert_eq!(payment["paymentStatus"], 30600);
    assert_eq!(payment["paymentFixDatetime"], paid_at.as_str());

    // The card order was never paid through the control API: waiting for settlement.
    let r = env.rakuten("getPayment", &ask(&numbers[1])).await;
    assert_eq!(
        r.body["OrderModel"]["PaymentModelList"][0]["paymentStatus"],
        30100
    );

    // An unknown number: INFO_102 naming it; a missing one: 400 ERROR_009.
    let r = env
        .rakuten("getPayment", &ask("998877-20200101-0000009999"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.codes(), ["ORDER_EXT_API_GET_PAYMENT_INFO_102"]);
    assert!(r.body["OrderModel"].is_null());
    let r = env.rakuten("getPayment", &json!({ "version": 4 })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.codes(), ["ORDER_EXT_API_GET_PAYMENT_ERROR_009"]);
}

#[tokio::test]
async fn a_cancelled_line_leaves_the_order_and_the_totals_are_computed_again() {
    let env = start().await;
    let options = GenerateOptions {
        count: Some(30),
        kinds: Some(vec![OrderKind::Plain]),
        ..GenerateOptions::default()
    };
    let numbers = env
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers;
    let mut found = None;
    for number in &numbers {
        let order = env.control.rakuten_order(SHOP, number).await.unwrap();
        if order["PackageModelList"][0]["ItemModelList"]
            .as_array()
            .unwrap()
            .len()
            >= 2
        {
            found = Some((number.clone(), order));
            break;
        }
    }
    let (number, before) = found.expect("a generated order with two lines");
    let items = before["PackageModelList"][0]["ItemModelList"]
        .as_array()
        .unwrap();
    let id = items[0]["itemDetailId"].as_i64().unwrap();
    let after = env
        .control
        .rakuten_cancel_line(SHOP, &number, id)
        .await
        .unwrap();
    assert_eq!(
        after["PackageModelList"][0]["ItemModelList"]
            .as_array()
            .unwrap()
            .len(),
        items.len() - 1
    );
    ichigen_sandbox::rakuten::generator::check_amount_invariants(&after).unwrap();
    let change = &after["ChangeReasonModelList"][0];
    assert_eq!(change["changeId"], 1);
    assert_eq!(change["changeType"], 6);
    assert_eq!(change["changeTypeDetail"], 0);
    assert_eq!(change["changeReason"], 1);
    // getOrder serves the changed order.
    let r = env.get_orders(std::slice::from_ref(&number)).await;
    assert_eq!(
        r.body["OrderModelList"][0]["requestPrice"],
        after["requestPrice"]
    );
    // A line the order does not have is refused.
    assert!(
        env.control
            .rakuten_cancel_line(SHOP, &number, id)
            .await
            .is_err()
    );
}
