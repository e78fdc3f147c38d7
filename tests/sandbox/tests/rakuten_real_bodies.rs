//! The sandbox answers the way the public Rakuten samples do (issue 6). The expected bodies
//! are the project's own fixtures in `shared/malls/tests/fixtures/rakuten/errors/`, written
//! with the shape of the samples in `shared/malls/samples/rakuten/`.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ichigen_sandbox::control::{GenerateOptions, OrderKind};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../shared/malls/tests/fixtures/rakuten/errors/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The same keys at every level (values may differ): the shape of a body.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => match (a.first(), b.first()) {
            (Some(x), Some(y)) => same_shape(x, y),
            _ => a.is_empty() == b.is_empty(),
        },
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

async fn generate(env: &Env, kinds: Vec<OrderKind>) -> Vec<String> {
    let options = GenerateOptions {
        order_datetimes: Some(
            (0..kinds.len())
                .map(|i| jst(days_ago(1) + i as i64 * 60))
                .collect(),
        ),
        kinds: Some(kinds),
        ..GenerateOptions::default()
    };
    env.control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers
}

#[tokio::test]
async fn a_bad_key_gets_the_es01_01_envelope() {
    let env = start().await;
    let r = env
        .post_raw(
            "/es/2.0/order/searchOrder/",
            Some(&esa(SECRET, "not-the-key")),
            Some(JSON_UTF8),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, fixture("es01_01_unauthorised"));
}

#[tokio::test]
async fn an_order_api_not_enabled_gets_es04_01_until_enabled() {
    let env = start().await;
    let numbers = generate(&env, vec![OrderKind::Plain]).await;
    env.control
        .rakuten_set_order_api_enabled(SHOP, false)
        .await
        .unwrap();
    for (op, body) in [
        ("searchOrder", json!({ "dateType": 1 })),
        (
            "getOrder",
            json!({ "orderNumberList": numbers, "version": 10 }),
        ),
        ("confirmOrder", json!({ "orderNumberList": numbers })),
    ] {
        let r = env.rakuten(op, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{op}");
        assert_eq!(r.body, fixture("es04_01_not_enabled"), "{op}");
    }
    let stored = env.control.rakuten_order(SHOP, &numbers[0]).await.unwrap();
    assert_eq!(stored["orderProgress"], 100, "nothing confirmed");
    env.control
        .rakuten_set_order_api_enabled(SHOP, true)
        .await
        .unwrap();
    assert_eq!(env.get_orders(&numbers).await.status, StatusCode::OK);
}

#[tokio::test]
async fn get_order_for_numbers_it_cannot_return_has_the_real_shape() {
    let env = start().await;
    let r = env
        .rakuten(
            "getOrder",
            &json!({ "orderNumberList": ["998877-20250101-0000009001", "998877-20250101-0000009002"], "version": 10 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut body = r.body.clone();
    // The sandbox echoes `version` (the v9 samples have it); the not-found samples do not.
    body.as_object_mut().unwrap().remove("version");
    assert_eq!(body, fixture("get_order_info_102"));
}

#[tokio::test]
async fn search_errors_and_empty_results_have_the_real_shape() {
    let env = start().await;
    let r = env
        .search(json!({ "dateType": 1, "startDatetime": "2025/03/01 00:00:00" }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        same_shape(&r.body, &fixture("search_order_400_error_009_011")),
        "{}",
        r.body
    );
    assert_eq!(
        r.codes(),
        vec![
            "ORDER_EXT_API_SEARCH_ORDER_ERROR_011",
            "ORDER_EXT_API_SEARCH_ORDER_ERROR_009"
        ]
    );

    let empty = env.search_window(days_ago(3), days_ago(2), 30, 1).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        same_shape(&empty.body, &fixture("search_order_empty_info_102")),
        "{}",
        empty.body
    );
}

#[tokio::test]
async fn an_empty_datetime_is_error_010() {
    let env = start().await;
    let r = env
        .search(json!({ "dateType": 1, "startDatetime": "", "endDatetime": jst(now()) }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_ERROR_010"]);
}

#[tokio::test]
async fn get_order_refuses_versions_1_and_2() {
    let env = start().await;
    let numbers = generate(&env, vec![OrderKind::Plain]).await;
    for version in [1, 2, 11] {
        let r = env
            .rakuten(
                "getOrder",
                &json!({ "orderNumberList": numbers, "version": version }),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "version {version}");
        assert_eq!(r.codes(), vec!["ORDER_EXT_API_GET_ORDER_ERROR_011"]);
    }
    for version in [3, 9, 10] {
        let r = env
            .rakuten(
                "getOrder",
                &json!({ "orderNumberList": numbers, "version": version }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "version {version}");
    }
}

#[tokio::test]
async fn search_without_a_sort_lists_newest_first() {
    let env = start().await;
    let numbers = generate(&env, vec![OrderKind::Plain; 3]).await;
    let r = env
        .search(
            json!({ "dateType": 1, "startDatetime": jst(days_ago(2)), "endDatetime": jst(now()) }),
        )
        .await;
    let mut newest_first = numbers.clone();
    newest_first.reverse();
    assert_eq!(r.numbers(), newest_first);
}

#[tokio::test]
async fn a_social_gift_recipient_fills_in_their_address() {
    let env = start().await;
    let numbers = generate(&env, vec![OrderKind::SocialGiftWaiting, OrderKind::Plain]).await;
    let before = env.control.rakuten_order(SHOP, &numbers[0]).await.unwrap();
    assert_eq!(
        before["PackageModelList"][0]["SenderModel"]["prefecture"],
        "入力待ち"
    );
    let after = env
        .control
        .rakuten_fill_social_gift(SHOP, &numbers[0])
        .await
        .unwrap();
    let package = &after["PackageModelList"][0];
    assert_eq!(package["SocialGiftModel"]["inputFlag"], 1);
    assert!(package["SocialGiftModel"]["inputCompDatetime"].is_string());
    assert_ne!(package["SenderModel"]["prefecture"], "入力待ち");
    assert_ne!(package["SenderModel"]["zipCode1"], "999");
    // getOrder now returns the filled-in order.
    let got = env.get_orders(&numbers[..1]).await;
    assert_eq!(
        got.body["OrderModelList"][0]["PackageModelList"],
        after["PackageModelList"]
    );

    // Nothing to fill: a plain order, or the same gift twice.
    for number in [&numbers[1], &numbers[0]] {
        let err = env
            .control
            .rakuten_fill_social_gift(SHOP, number)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("400"), "{err}");
    }
}
