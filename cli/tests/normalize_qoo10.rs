//! `ichigen normalize --mall qoo10`: a GetShippingInfo_v2 answer (rows per line) in, one
//! order per cart and carrier out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/malls/tests/fixtures/qoo10")
        .join(name)
}

fn normalize(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ichigen"))
        .args(["normalize", "--mall", "qoo10", "--store", "qoo10:q1"])
        .arg(file)
        .output()
        .expect("ichigen runs")
}

#[test]
fn a_shipping_info_answer_prints_one_order_per_cart_and_carrier() {
    let output = normalize(&fixture("shipping_info_v2.json"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let orders: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "qoo10:q1:540012345-1",
            "qoo10:q1:540012345-2",
            "qoo10:q1:540012399"
        ]
    );
    assert_eq!(orders[0]["amounts"]["goods"], 5960, "2980.0000 × 2");
    assert_eq!(orders[0]["amounts"]["shipping"], 550);
    assert_eq!(orders[1]["delivery"]["desired_date"], "2025-06-10");
    assert_eq!(orders[2]["payment"]["method"], "konbini");
    assert_eq!(
        orders[2]["destinations"][0]["address"]["prefecture"],
        "北海道"
    );
}

#[test]
fn a_fraction_of_a_yen_fails_naming_the_order_and_field() {
    let body = std::fs::read_to_string(fixture("shipping_info_v2.json"))
        .unwrap()
        .replacen("\"3200.0000\"", "\"3200.5000\"", 1);
    let path = std::env::temp_dir().join(format!("ichigen-qoo10-{}.json", std::process::id()));
    std::fs::write(&path, body).unwrap();
    let output = normalize(&path);
    let _ = std::fs::remove_file(&path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("540012345"), "{stderr}");
    assert!(stderr.contains("rows[1].orderPrice"), "{stderr}");
    // The other cart still prints.
    let orders: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(orders.len(), 1);
}
