//! Lambda entry point: build the adapters once, then serve API Gateway HTTP API requests.

use std::sync::Arc;

use shop_api::{App, init_logging, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let app = Arc::new(App::from_env().await?);
    lambda_http::run(router(app)).await
}
