//! The shop API against its own description, driven by a tool that reads only the description:
//! schemathesis generates requests from `openapi.yaml` (valid and invalid: every parameter,
//! body and header, unknown methods) and sends them over HTTP to the function's router served
//! on a local port, with real imported orders in DynamoDB (moto). Any 5xx, undocumented status,
//! wrong content type or body outside its schema fails the test. And the description itself
//! passes an OpenAPI validator.
//!
//! Both tools are Python programs that `scripts/test.sh` installs into `.venv` and names in
//! `ICHIGEN_SCHEMATHESIS` and `ICHIGEN_OPENAPI_VALIDATOR`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;
use std::sync::Arc;

use ichigen_integration::{Harness, ImportRequest, ago, hours, minutes};
use shop_api::App;

const SHOP: &str = "fuzz";

fn tool(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

fn run(program: &str, command: &mut tokio::process::Command) -> impl Future<Output = Output> {
    let program = program.to_owned();
    let output = command.output();
    async move {
        output.await.unwrap_or_else(|e| {
            panic!(
                "cannot run {program} ({e}): scripts/test.sh installs it into .venv and names it \
                 in the environment; run the suite through it"
            )
        })
    }
}

fn printed(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn the_openapi_description_is_valid_openapi_3_1() {
    let program = tool("ICHIGEN_OPENAPI_VALIDATOR", "openapi-spec-validator");
    let spec = format!(
        "{}/../../functions/shop-api/openapi.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let output = run(&program, tokio::process::Command::new(&program).arg(&spec)).await;
    assert!(output.status.success(), "{spec}:\n{}", printed(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_description() {
    // Real orders: imported from the Rakuten sandbox (the generator's mix holds some).
    let harness = Harness::new().await;
    harness.seed(12, 11, ago(hours(30)), ago(minutes(5))).await;
    harness.run_to_end(ImportRequest::Differential).await;
    let app = Arc::new(
        App::new(
            &harness.sdk,
            SHOP,
            harness.handles.table_name.clone(),
            harness.handles.import_queue_url.clone(),
            harness.handles.write_queue_url.clone(),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, shop_api::router(app)).await.unwrap();
    });

    // The shop in every path is this stack's, and the order one that exists (a held one where
    // there is one): other shops are a 403 and random ids a 404, both in the description, but
    // then nothing behind those checks would be reached.
    let orders = harness.all_orders().await;
    let order = orders
        .iter()
        .find(|o| !o.holds.is_empty())
        .or(orders.first())
        .expect("imported orders");
    let dir = std::env::temp_dir().join(format!("ichigen-fuzz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("schemathesis.toml"),
        format!(
            "[parameters]\n\"path.shop\" = \"{SHOP}\"\n\"path.order_id\" = \"{}\"\n",
            order.id
        ),
    )
    .unwrap();
    let program = tool("ICHIGEN_SCHEMATHESIS", "schemathesis");
    let output = run(
        &program,
        tokio::process::Command::new(&program)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .args([
                "run",
                &format!("http://{address}/openapi.json"),
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples",
                "25",
                "--seed",
                "20261203",
                // One worker: hypothesis' lambda-description cache is not thread-safe in
                // schemathesis' coverage phase (it raised "AST constructor recursion depth
                // mismatch" with two).
                "--workers",
                "1",
                "--request-timeout",
                "20",
                "--generation-database",
                "none",
                "--no-color",
            ]),
    )
    .await;
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
    let text = printed(&output);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{text}"
    );
    // Its summary (phases, cases generated) in the test's output.
    let lines: Vec<&str> = text.lines().collect();
    eprintln!("{}", lines[lines.len().saturating_sub(25)..].join("\n"));
    // It ran the operations, not nothing.
    assert!(text.contains("generated"), "{text}");
}
