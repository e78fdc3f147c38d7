//! Per-order faults, short listings, lost replies and operations refused mid-run, over real
//! HTTP. The import tests (issue 5) drive these through `ControlClient`.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ichigen_sandbox::control::{GenerateOptions, OrderFault, OrderKind, RakutenLimits};
use ichigen_sandbox::rakuten::endpoints;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Three plain orders a day apart, oldest first.
async fn three_orders(env: &Env) -> Vec<String> {
    let options = GenerateOptions {
        order_datetimes: Some(vec![jst(days_ago(3)), jst(days_ago(2)), jst(days_ago(1))]),
        kinds: Some(vec![OrderKind::Plain]),
        ..GenerateOptions::default()
    };
    env.control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap()
        .order_numbers
}

async fn listed(env: &Env) -> Vec<String> {
    env.search_window(days_ago(4), now(), 100, 1)
        .await
        .numbers()
}

#[tokio::test]
async fn an_order_hidden_from_search_is_still_returned_by_get_order() {
    let env = start().await;
    let numbers = three_orders(&env).await;
    env.control
        .rakuten_set_order_fault(SHOP, &numbers[1], OrderFault::HiddenFromSearch)
        .await
        .unwrap();

    let search = env.search_window(days_ago(4), now(), 100, 1).await;
    assert_eq!(
        search.numbers(),
        vec![numbers[0].clone(), numbers[2].clone()]
    );
    assert_eq!(
        search.body["PaginationResponseModel"]["totalRecordsAmount"],
        2
    );
    let get = env.get_orders(&numbers[1..2]).await;
    assert_eq!(get.body["OrderModelList"][0]["orderNumber"], numbers[1]);

    env.control
        .rakuten_set_order_fault(SHOP, &numbers[1], OrderFault::None)
        .await
        .unwrap();
    assert_eq!(listed(&env).await, numbers);
}

#[tokio::test]
async fn an_order_omitted_from_get_order_gets_info_102_like_the_real_api() {
    let env = start().await;
    let numbers = three_orders(&env).await;
    env.control
        .rakuten_set_order_fault(SHOP, &numbers[0], OrderFault::OmittedFromGetOrder)
        .await
        .unwrap();
    assert_eq!(listed(&env).await, numbers, "search still lists it");

    // Alone: an empty list and one INFO_102 for the number, no INFO_101.
    let alone = env.get_orders(&numbers[..1]).await;
    assert_eq!(alone.status, StatusCode::OK);
    assert_eq!(alone.body["OrderModelList"], json!([]));
    assert_eq!(alone.codes(), vec!["ORDER_EXT_API_GET_ORDER_INFO_102"]);
    assert_eq!(alone.body["MessageModelList"][0]["messageType"], "INFO");
    assert_eq!(alone.body["MessageModelList"][0]["orderNumber"], numbers[0]);

    // With others: they come back, the omitted one has its INFO_102.
    let all = env.get_orders(&numbers).await;
    let returned: Vec<&Value> = all.body["OrderModelList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["orderNumber"])
        .collect();
    assert_eq!(returned, vec![&json!(numbers[1]), &json!(numbers[2])]);
    assert_eq!(
        all.codes(),
        vec![
            "ORDER_EXT_API_GET_ORDER_INFO_101",
            "ORDER_EXT_API_GET_ORDER_INFO_102"
        ]
    );

    env.control
        .rakuten_set_order_fault(SHOP, &numbers[0], OrderFault::None)
        .await
        .unwrap();
    let back = env.get_orders(&numbers[..1]).await;
    assert_eq!(back.body["OrderModelList"][0]["orderNumber"], numbers[0]);
}

#[tokio::test]
async fn an_unreadable_order_comes_back_without_its_number() {
    let env = start().await;
    let numbers = three_orders(&env).await;
    env.control
        .rakuten_set_order_fault(SHOP, &numbers[2], OrderFault::UnreadableInGetOrder)
        .await
        .unwrap();
    let get = env.get_orders(&numbers).await;
    let orders = get.body["OrderModelList"].as_array().unwrap();
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[2]["orderNumber"], Value::Null);
    assert!(
        orders[2]["PackageModelList"].is_array(),
        "the rest is intact"
    );
    // The stored order itself is untouched.
    let stored = env.control.rakuten_order(SHOP, &numbers[2]).await.unwrap();
    assert_eq!(stored["orderNumber"], numbers[2]);
}

#[tokio::test]
async fn order_faults_need_a_known_store_and_order() {
    let env = start().await;
    let err = env
        .control
        .rakuten_set_order_fault(SHOP, "998877-20260101-0000000404", OrderFault::None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

#[tokio::test]
async fn a_dropped_search_page_is_short_but_keeps_its_totals() {
    let env = start().await;
    let numbers = three_orders(&env).await;
    env.control
        .rakuten_set_limits(&RakutenLimits {
            drop_search_page: Some(2),
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let page1 = env.search_window(days_ago(4), now(), 1, 1).await;
    let page2 = env.search_window(days_ago(4), now(), 1, 2).await;
    let page3 = env.search_window(days_ago(4), now(), 1, 3).await;
    assert_eq!(page1.numbers(), vec![numbers[0].clone()]);
    assert_eq!(page2.status, StatusCode::OK);
    assert_eq!(page2.numbers(), Vec::<String>::new());
    assert_eq!(page2.codes(), vec!["ORDER_EXT_API_SEARCH_ORDER_INFO_101"]);
    assert_eq!(
        page2.body["PaginationResponseModel"],
        json!({ "totalRecordsAmount": 3, "totalPages": 3, "requestPage": 2 })
    );
    assert_eq!(page3.numbers(), vec![numbers[2].clone()]);
}

#[tokio::test]
async fn a_lost_reply_is_applied_then_answered_504_html() {
    let env = start().await;
    let numbers = three_orders(&env).await;
    env.control
        .lose_replies(endpoints::CONFIRM_ORDER, 1)
        .await
        .unwrap();

    let body = json!({ "orderNumberList": [numbers[0]] });
    let lost = env.rakuten("confirmOrder", &body).await;
    assert_eq!(lost.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        lost.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(lost.body.as_str().unwrap().contains("504 Gateway Timeout"));

    // Applied: the order moved on and the write is recorded.
    let stored = env.control.rakuten_order(SHOP, &numbers[0]).await.unwrap();
    assert_eq!(stored["orderProgress"], 300);
    let writes = env.control.rakuten_writes().await.unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].order_numbers, vec![numbers[0].clone()]);

    // Only `count` replies are lost: the retry gets the real (already confirmed) answer.
    let again = env.rakuten("confirmOrder", &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.codes(), vec!["ORDER_EXT_API_CONFIRM_ORDER_ERROR_103"]);
    let stats = env.control.stats().await.unwrap();
    assert_eq!(stats.lost_replies, 1);
    assert_eq!(stats.requests_for(endpoints::CONFIRM_ORDER), 2);

    // Other endpoints were never affected.
    assert_eq!(listed(&env).await, numbers);
}

#[tokio::test]
async fn lose_replies_names_a_known_endpoint() {
    let env = start().await;
    let err = env
        .control
        .lose_replies("rakuten.cancelOrder", 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    // Reset forgets pending losses.
    env.control
        .lose_replies(endpoints::SEARCH_ORDER, 5)
        .await
        .unwrap();
    env.control.reset().await.unwrap();
    env.control
        .rakuten_register_store(&ichigen_sandbox::control::RegisterStoreRequest::new(
            SHOP, SECRET, KEY,
        ))
        .await
        .unwrap();
    let search = env.search_window(days_ago(1), now(), 10, 1).await;
    assert_eq!(search.status, StatusCode::OK);
    assert_eq!(env.control.stats().await.unwrap().lost_replies, 0);
}

#[tokio::test]
async fn a_rejected_operation_answers_es01_01_until_the_store_is_registered_again() {
    let env = start().await;
    let numbers = three_orders(&env).await;
    env.control
        .rakuten_reject_operation(SHOP, "confirmOrder")
        .await
        .unwrap();

    let refused = env
        .rakuten("confirmOrder", &json!({ "orderNumberList": [numbers[0]] }))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.body,
        json!({ "Results": { "errorCode": "ES01-01", "message": "Un-Authorised" } })
    );
    let stored = env.control.rakuten_order(SHOP, &numbers[0]).await.unwrap();
    assert_eq!(stored["orderProgress"], 100, "nothing applied");
    // The other operations still work with the same key.
    assert_eq!(listed(&env).await, numbers);
    assert_eq!(env.get_orders(&numbers).await.status, StatusCode::OK);

    // A renewed key (registering again) lifts it.
    env.control
        .rakuten_register_store(&ichigen_sandbox::control::RegisterStoreRequest::new(
            SHOP, SECRET, KEY,
        ))
        .await
        .unwrap();
    let accepted = env
        .rakuten("confirmOrder", &json!({ "orderNumberList": [numbers[0]] }))
        .await;
    assert_eq!(
        accepted.codes(),
        vec!["ORDER_EXT_API_CONFIRM_ORDER_INFO_101"]
    );

    let err = env
        .control
        .rakuten_reject_operation(SHOP, "deleteEverything")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
}
