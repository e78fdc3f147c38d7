//! `ichigen normalize` as a user runs it: a file in, unified orders out, and a clear error
//! naming the order and field when the input is bad.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/malls/tests/fixtures/rakuten")
        .join(name)
}

fn normalize(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ichigen"))
        .args([
            "normalize",
            "--mall",
            "rakuten",
            "--store",
            "rakuten:store-a",
        ])
        .arg(file)
        .output()
        .expect("ichigen runs")
}

fn write_response(orders: serde_json::Value) -> tempfile_path::TempFile {
    tempfile_path::TempFile::with_json(&serde_json::json!({
        "MessageModelList": [],
        "OrderModelList": orders,
        "version": 10
    }))
}

fn read_fixture(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

#[test]
fn a_get_order_response_prints_unified_orders() {
    let file = write_response(serde_json::json!([
        read_fixture("plain.json"),
        read_fixture("multi_destination.json"),
        read_fixture("emoji_text.json"),
    ]));
    let output = normalize(file.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let orders: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("a JSON array");
    assert_eq!(orders.len(), 3);
    assert!(orders[1]["destinations"].as_array().unwrap().len() >= 2);
    for order in &orders {
        assert!(
            order["id"]
                .as_str()
                .unwrap()
                .starts_with("rakuten:store-a:")
        );
        assert!(
            order["amounts"]["billed"].is_i64(),
            "integer yen: {}",
            order["amounts"]
        );
    }
}

#[test]
fn a_malformed_field_exits_non_zero_naming_order_and_field() {
    let plain = read_fixture("plain.json");
    let mut bad = plain.clone();
    bad["orderNumber"] = "998877-20261122-0000000999".into();
    bad["PackageModelList"][0]["ItemModelList"][0]["units"] = "two".into();
    let file = write_response(serde_json::json!([plain, bad]));

    let output = normalize(file.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("998877-20261122-0000000999"), "{stderr}");
    assert!(
        stderr.contains("PackageModelList[0].ItemModelList[0].units"),
        "{stderr}"
    );
    // The readable orders still print.
    let orders: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(orders.len(), 2);
}

#[test]
fn an_order_without_identity_and_a_non_response_are_errors() {
    let output = normalize(&fixture("get_order_response.json"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rakuten order without a number: field orderNumber is missing"),
        "{stderr}"
    );
    let orders: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(orders.len(), 2, "the two readable orders still print");

    let output = normalize(&fixture("not_an_object.json"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("OrderModelList"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = normalize(Path::new("/nonexistent/response.json"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent/response.json")
    );
}

#[test]
fn real_shaped_orders_normalise_without_false_holds() {
    // Our own fixtures with the shape of the public samples: a tax-exclusive order paid
    // partly in points (v9 shape) and a cash-on-delivery order without settlementMethodCode,
    // taxRate, priceTaxIncl or paymentCharge (versionless shape).
    let file = write_response(serde_json::json!([
        read_fixture("tax_exclusive.json"),
        read_fixture("cod_legacy.json"),
    ]));
    let output = normalize(file.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let orders: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(orders.len(), 2);
    for order in &orders {
        assert_eq!(
            order["holds"],
            serde_json::json!([]),
            "{}",
            order["mall_order_id"]
        );
    }
    assert_eq!(orders[0]["amounts"]["billed"], 5256);
    assert_eq!(orders[1]["amounts"]["cod_fee"], 330);
    assert_eq!(orders[1]["amounts"]["billed"], 2860);
    assert_eq!(orders[1]["payment"]["method"], "cash_on_delivery");
}

#[test]
fn error_answers_are_errors_naming_what_to_do() {
    let errors = |name: &str| fixture(&format!("errors/{name}"));
    for (name, words) in [
        ("es01_01_unauthorised.json", vec!["ES01-01", "licenseKey"]),
        (
            "es04_01_not_enabled.json",
            vec!["ES04-01", "楽天ペイ受注API"],
        ),
        (
            "get_order_error_009.json",
            vec!["ORDER_EXT_API_GET_ORDER_ERROR_009", "not an empty result"],
        ),
        (
            "get_order_info_102.json",
            vec![
                "998877-20250101-0000009001",
                "998877-20250101-0000009002",
                "ORDER_EXT_API_GET_ORDER_INFO_102",
            ],
        ),
    ] {
        let output = normalize(&errors(name));
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        for word in words {
            assert!(stderr.contains(word), "{name}: {stderr}");
        }
    }
}

/// A file in the system temp dir, removed on drop.
mod tempfile_path {
    use std::path::{Path, PathBuf};

    pub struct TempFile(PathBuf);

    impl TempFile {
        pub fn with_json(value: &serde_json::Value) -> Self {
            let path = std::env::temp_dir()
                .join(format!("ichigen-normalize-{}.json", uuid::Uuid::new_v4()));
            std::fs::write(&path, value.to_string()).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn normalize_aupay(name: &str) -> Output {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/malls/tests/fixtures/aupay")
        .join(name);
    Command::new(env!("CARGO_BIN_EXE_ichigen"))
        .args(["normalize", "--mall", "aupay", "--store", "aupay:store-a"])
        .arg(file)
        .output()
        .expect("ichigen runs")
}

#[test]
fn an_aupay_list_answer_prints_its_orders_and_an_error_answer_names_the_code() {
    let output = normalize_aupay("list_two_orders.xml");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let orders: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = orders
        .iter()
        .map(|o| o["mall_order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["401234501", "401234502"]);
    assert_eq!(
        orders[0]["destinations"][0]["lines"][0]["seller_sku"],
        "tee01-MT-2T"
    );

    let output = normalize_aupay("error_wrong_shop_fragment.xml");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CME0022") && stderr.contains("shopId"),
        "{stderr}"
    );
}
