//! Generator, faults, rate limits, stats, reset and the binary, over real HTTP.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use ichigen_sandbox::control::{GenerateOptions, OrderKind, RakutenLimits, RegisterStoreRequest};
use ichigen_sandbox::rakuten::endpoints;
use ichigen_sandbox::rakuten::generator::check_amount_invariants;
use ichigen_sandbox::{FaultConfig, SandboxError};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Fetches every order through the wire API, 100 per call.
async fn fetch_all(env: &Env, numbers: &[String]) -> Vec<Value> {
    let mut orders = Vec::new();
    for chunk in numbers.chunks(100) {
        let r = env.get_orders(chunk).await;
        assert_eq!(r.status, StatusCode::OK);
        orders.extend(r.body["OrderModelList"].as_array().unwrap().iter().cloned());
    }
    orders
}

fn fixed_window_options(count: usize) -> GenerateOptions {
    GenerateOptions {
        seed: Some(2024),
        ..GenerateOptions::spread(count, jst(days_ago(20)), jst(days_ago(1)))
    }
}

#[tokio::test]
async fn generator_is_deterministic_over_http() {
    let a = start_with_seed(1).await;
    let b = start_with_seed(2).await;
    let options = fixed_window_options(40);
    let na = a
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap();
    let nb = b
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap();
    assert_eq!(na, nb);
    assert_eq!(
        fetch_all(&a, &na.order_numbers).await,
        fetch_all(&b, &nb.order_numbers).await
    );

    // Without an explicit seed the sandbox seed decides.
    let mut unseeded = fixed_window_options(5);
    unseeded.seed = None;
    let ua = a
        .control
        .rakuten_generate_orders(SHOP, &unseeded)
        .await
        .unwrap();
    let ub = b
        .control
        .rakuten_generate_orders(SHOP, &unseeded)
        .await
        .unwrap();
    let serials = |numbers: &[String]| -> Vec<String> {
        numbers
            .iter()
            .map(|n| n[n.len() - 10..].to_owned())
            .collect()
    };
    assert_eq!(
        serials(&ua.order_numbers),
        serials(&ub.order_numbers),
        "serials continue per store"
    );
    assert_eq!(serials(&ua.order_numbers)[0], "0000000041");
    assert_ne!(
        fetch_all(&a, &ua.order_numbers).await,
        fetch_all(&b, &ub.order_numbers).await
    );
}

#[tokio::test]
async fn generated_orders_keep_amount_invariants() {
    let env = start().await;
    let options = GenerateOptions {
        kinds: Some(OrderKind::ALL.to_vec()),
        ..fixed_window_options(140)
    };
    let generated = env
        .control
        .rakuten_generate_orders(SHOP, &options)
        .await
        .unwrap();
    let orders = fetch_all(&env, &generated.order_numbers).await;
    assert_eq!(orders.len(), 140);
    for (order, kind) in orders.iter().zip(&generated.kinds) {
        let checked = check_amount_invariants(order);
        if kind.keeps_amount_invariants() {
            assert!(checked.is_ok(), "{kind:?}: {checked:?}\n{order}");
        } else {
            assert!(checked.is_err(), "{kind:?} should break an invariant");
        }
        check_kind(*kind, order);
    }
}

/// Spot checks of what makes each kind special.
fn check_kind(kind: OrderKind, o: &Value) {
    assert_eq!(o["orderProgress"], 100);
    assert_eq!(o["orderType"], 1);
    assert_eq!(o["ChangeReasonModelList"], json!([]));
    let packages = o["PackageModelList"].as_array().unwrap();
    for item in packages
        .iter()
        .flat_map(|p| p["ItemModelList"].as_array().unwrap())
    {
        let rate = item["taxRate"].as_f64().unwrap();
        assert!(rate == 0.1 || rate == 0.08);
        assert_eq!(item["SkuModelList"].as_array().unwrap().len(), 1);
    }
    let code = o["SettlementModel"]["settlementMethodCode"]
        .as_i64()
        .unwrap();
    match kind {
        OrderKind::Plain => {
            assert_eq!(code, 1);
            assert_eq!(packages.len(), 1);
            let items = packages[0]["ItemModelList"].as_array().unwrap().len();
            assert!((1..=3).contains(&items));
        }
        OrderKind::MultiDestination => {
            assert!((2..=3).contains(&packages.len()));
            let senders: Vec<&Value> = packages.iter().map(|p| &p["SenderModel"]).collect();
            for (i, a) in senders.iter().enumerate() {
                for b in &senders[i + 1..] {
                    assert_ne!(a, b);
                }
            }
        }
        OrderKind::CouponPoints => {
            assert!(o["couponAllTotalPrice"].as_i64().unwrap() > 0);
            assert!(o["PointModel"]["usedPoint"].as_i64().unwrap() > 0);
        }
        OrderKind::GiftWrap => {
            assert_eq!(o["giftCheckFlag"], 1);
            assert_eq!(o["WrappingModel1"]["title"], 1);
            assert!(o["remarks"].as_str().unwrap().contains("のし"));
        }
        OrderKind::KonbiniUnpaid => {
            assert_eq!(code, 14);
            assert_eq!(
                o["SettlementModel"]["settlementMethod"],
                "ファミリーマート、ローソン等（前払）"
            );
            assert_eq!(o["DueDateModelList"][0]["dueDateType"], 0);
            assert_eq!(
                o["DueDateModelList"][0]["dueDate"].as_str().unwrap().len(),
                10
            );
        }
        OrderKind::BankTransfer => assert_eq!(code, 9),
        OrderKind::Cod => {
            assert_eq!(code, 2);
            let fee = o["deliveryPrice"].as_i64().unwrap();
            assert!(fee > 0);
            // The COD fee is billed on top of totalPrice, never inside it.
            assert_eq!(
                o["totalPrice"].as_i64().unwrap(),
                o["goodsPrice"].as_i64().unwrap() + o["postagePrice"].as_i64().unwrap()
            );
            assert_eq!(
                o["requestPrice"].as_i64().unwrap(),
                o["totalPrice"].as_i64().unwrap() + fee
                    - o["PointModel"]["usedPoint"].as_i64().unwrap()
            );
        }
        OrderKind::TaxExclusive => {
            let mut tax = 0;
            for item in packages
                .iter()
                .flat_map(|p| p["ItemModelList"].as_array().unwrap())
            {
                assert_eq!(item["includeTaxFlag"], 0);
                let (price, with_tax) = (
                    item["price"].as_i64().unwrap(),
                    item["priceTaxIncl"].as_i64().unwrap(),
                );
                assert!(with_tax > price, "{item}");
                tax += (with_tax - price) * item["units"].as_i64().unwrap();
            }
            assert_eq!(o["goodsTax"].as_i64().unwrap(), tax);
            assert_eq!(
                o["totalPrice"].as_i64().unwrap(),
                o["goodsPrice"].as_i64().unwrap() + o["postagePrice"].as_i64().unwrap() + tax
            );
        }
        OrderKind::SocialGiftWaiting => {
            assert_eq!(o["socialGiftFlag"], 1);
            for package in packages {
                assert_eq!(package["SocialGiftModel"]["inputFlag"], 0);
                assert_eq!(package["SenderModel"]["prefecture"], "入力待ち");
                assert_eq!(package["SenderModel"]["zipCode1"], "999");
                assert_eq!(package["SenderModel"]["zipCode2"], "9999");
            }
        }
        OrderKind::SocialGiftFilled => {
            assert_eq!(o["socialGiftFlag"], 1);
            for package in packages {
                assert_eq!(package["SocialGiftModel"]["inputFlag"], 1);
                assert!(package["SocialGiftModel"]["inputCompDatetime"].is_string());
                assert_ne!(package["SenderModel"]["prefecture"], "入力待ち");
            }
        }
        OrderKind::EmojiText => {
            let text = o.to_string();
            assert!(text.chars().any(|c| u32::from(c) >= 0x1F300), "emoji");
            assert!(
                text.chars().any(|c| ('\u{FF66}'..='\u{FF9F}').contains(&c)),
                "half-width kana"
            );
            assert!(
                text.chars().any(|c| ('\u{FF10}'..='\u{FF19}').contains(&c)),
                "full-width digit"
            );
        }
        OrderKind::BadTotal => {
            let mut fixed = o.clone();
            // Rakuten's formula: goods (wrapping included) + postage (+ the tax of
            // tax-exclusive items, none here); no COD fee, no payment charge.
            let expected = o["goodsPrice"].as_i64().unwrap() + o["postagePrice"].as_i64().unwrap();
            let off = (o["totalPrice"].as_i64().unwrap() - expected).abs();
            assert!((1..=3).contains(&off), "off by {off}");
            fixed["totalPrice"] = json!(expected);
            assert_eq!(check_amount_invariants(&fixed), Ok(()));
        }
        OrderKind::UnfixedPostage => {
            for field in ["postagePrice", "totalPrice", "requestPrice"] {
                assert_eq!(o[field], -9999, "{field}");
            }
        }
        OrderKind::DesiredDelivery => {
            assert_eq!(o["deliveryDate"].as_str().unwrap().len(), 10);
            let term = o["shippingTerm"].as_i64().unwrap();
            assert!(
                [1, 2, 9].contains(&term) || (700..=2424).contains(&term),
                "{term}"
            );
        }
    }
}

/// Sends `n` searches; returns the statuses (checks the 429 shape on the way).
async fn run_searches(env: &Env, body: &Value, n: usize) -> Vec<u16> {
    let mut statuses = Vec::with_capacity(n);
    for _ in 0..n {
        let r = env.search(body.clone()).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.codes(), vec!["SANDBOX_TOO_MANY_REQUESTS"]);
            assert_eq!(r.headers["retry-after"], "1");
        }
        statuses.push(r.status.as_u16());
    }
    statuses
}

#[tokio::test]
async fn faults_follow_configured_rates() {
    let env = start().await;
    let config = FaultConfig {
        error5xx_rate: 0.2,
        rate429_rate: 0.1,
        timeout_rate: 0.05,
        timeout_ms: 1,
        latency_ms: 0,
        seed: Some(9),
    };
    env.control.set_faults(&config).await.unwrap();
    let body = json!({ "dateType": 1, "startDatetime": jst(days_ago(1)), "endDatetime": jst(days_ago(0)) });
    let total = 400;
    let statuses = run_searches(&env, &body, total).await;
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for s in &statuses {
        *counts.entry(*s).or_default() += 1;
    }
    let share = |n: usize| n as f64 / total as f64;
    let five = counts.get(&500).copied().unwrap_or(0) + counts.get(&503).copied().unwrap_or(0);
    let limited = counts.get(&429).copied().unwrap_or(0);
    assert!(
        (share(five) - 0.25).abs() < 0.07,
        "5xx+timeout share {counts:?}"
    );
    assert!((share(limited) - 0.1).abs() < 0.05, "429 share {counts:?}");
    assert!(
        counts.contains_key(&500) && counts.contains_key(&503),
        "{counts:?}"
    );

    let stats = env.control.stats().await.unwrap();
    assert_eq!(stats.requests_for(endpoints::SEARCH_ORDER), total as u64);
    let injected = stats.injected_for("5xx") + stats.injected_for("timeout");
    assert_eq!(injected as usize, five);
    assert_eq!(stats.injected_for("429") as usize, limited);
    assert!((share(stats.injected_for("timeout") as usize) - 0.05).abs() < 0.04);

    // Same seed, same request sequence: same faults.
    env.control.set_faults(&config).await.unwrap();
    assert_eq!(run_searches(&env, &body, 60).await, statuses[..60].to_vec());

    // Control endpoints are never faulted, even at 100 %.
    env.control
        .set_faults(&FaultConfig {
            error5xx_rate: 1.0,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    assert!(env.search(body.clone()).await.status.is_server_error());
    env.control.stats().await.unwrap();
    assert_eq!(env.control.faults().await.unwrap().error5xx_rate, 1.0);

    let invalid = env
        .control
        .set_faults(&FaultConfig {
            rate429_rate: 1.5,
            ..FaultConfig::default()
        })
        .await;
    assert!(matches!(
        invalid,
        Err(SandboxError::Control { status: 400, .. })
    ));
}

#[tokio::test]
async fn latency_and_timeout_delay_answers() {
    let env = start().await;
    env.control
        .set_faults(&FaultConfig {
            latency_ms: 120,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let body = json!({ "dateType": 1, "startDatetime": jst(days_ago(1)), "endDatetime": jst(days_ago(0)) });
    let began = Instant::now();
    assert_eq!(env.search(body.clone()).await.status, StatusCode::OK);
    assert!(began.elapsed() >= Duration::from_millis(120));

    env.control
        .set_faults(&FaultConfig {
            timeout_rate: 1.0,
            timeout_ms: 150,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    let began = Instant::now();
    let r = env.search(body).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(began.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        env.control.stats().await.unwrap().injected_for("timeout"),
        1
    );
}

#[tokio::test]
async fn rate_limit_answers_429() {
    let env = start().await;
    env.control
        .rakuten_set_limits(&RakutenLimits {
            requests_per_second: Some(1.0),
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    let body = json!({ "dateType": 1, "startDatetime": jst(days_ago(1)), "endDatetime": jst(days_ago(0)) });
    // Burst of one token at 1 req/s: the second call within the same second is refused.
    assert_eq!(env.search(body.clone()).await.status, StatusCode::OK);
    let refused = env.search(body.clone()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.codes(), vec!["SANDBOX_TOO_MANY_REQUESTS"]);
    // Another store has its own bucket; the license endpoint is not rate limited.
    env.control
        .rakuten_register_store(&RegisterStoreRequest::new("112233", "SP_b", "SL_b"))
        .await
        .unwrap();
    let other = env
        .post_raw(
            "/es/2.0/order/searchOrder/",
            Some(&esa("SP_b", "SL_b")),
            Some(JSON_UTF8),
            &body,
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(
        env.expiry(Some(&esa(SECRET, KEY)), Some(KEY)).await.status,
        StatusCode::OK
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(env.search(body).await.status, StatusCode::OK);
    let stats = env.control.stats().await.unwrap();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.requests_for(endpoints::SEARCH_ORDER), 4);
    assert_eq!(stats.requests_for(endpoints::LICENSE_EXPIRY_DATE), 1);
    assert_eq!(
        env.control
            .rakuten_limits()
            .await
            .unwrap()
            .requests_per_second,
        Some(1.0)
    );
}

#[tokio::test]
async fn reset_forgets_everything() {
    let env = start().await;
    env.control
        .rakuten_generate_orders(
            SHOP,
            &GenerateOptions {
                count: Some(3),
                ..GenerateOptions::default()
            },
        )
        .await
        .unwrap();
    env.control
        .set_faults(&FaultConfig {
            latency_ms: 5,
            ..FaultConfig::default()
        })
        .await
        .unwrap();
    env.control
        .rakuten_set_limits(&RakutenLimits {
            search_hit_cap: 3,
            ..RakutenLimits::default()
        })
        .await
        .unwrap();
    env.search(json!({})).await;

    env.control.reset().await.unwrap();
    let stats = env.control.stats().await.unwrap();
    assert!(stats.requests.is_empty());
    assert_eq!(stats.injected_for("5xx"), 0);
    assert_eq!(env.control.faults().await.unwrap(), FaultConfig::default());
    assert_eq!(
        env.control.rakuten_limits().await.unwrap(),
        RakutenLimits::default()
    );
    assert!(env.control.rakuten_writes().await.unwrap().is_empty());
    let gone = env.control.rakuten_order_numbers(SHOP).await;
    assert!(matches!(
        gone,
        Err(SandboxError::Control { status: 404, .. })
    ));
    assert_eq!(env.search(json!({})).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn binary_prints_listen_line_and_stops_on_sigterm() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ichigen-sandbox"))
        .args(["--port", "0", "--seed", "7"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("listen line in time")
        .expect("read")
        .expect("a line");
    let url = line
        .strip_prefix("ichigen-sandbox listening on ")
        .expect("listen line prefix");
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .expect("url shape")
        .parse()
        .expect("port");
    assert!(port > 0);

    let control = ichigen_sandbox::ControlClient::new(url);
    assert!(control.stats().await.unwrap().requests.is_empty());

    let pid = child.id().expect("pid").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits after SIGTERM")
        .expect("wait");
    assert!(status.success(), "{status:?}");
    assert_eq!(
        lines.next_line().await.expect("read"),
        None,
        "exactly one stdout line"
    );
}
