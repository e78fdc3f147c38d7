//! The shop-api Lambda: the shop's HTTP interface for its warehouse, ERP and operators,
//! behind an API Gateway HTTP API with IAM auth. Thin wiring: each route reads its input,
//! calls one core function ([`ichigen_core::operator`], [`ichigen_core::stock`]) over the real
//! adapters, and writes the answer; every error is an RFC 9457 problem ([`problem`]).
//!
//! Routes live under `/shops/{shop}/…` and answer only for this stack's shop
//! (`ICHIGEN_SHOP_ID`); writes (POST, PUT, PATCH) need an `Idempotency-Key` ([`idempotency`]).
//! `openapi.yaml` describes every route and is served at `/openapi.json`.

pub mod idempotency;
pub mod problem;
mod routes;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ichigen_aws::{ImportQueue, MallWriteSqs, ShopTable};
use ichigen_core::mall_write::MallWriteQueue;
use ichigen_core::ports::{Clock, ImportRequests, SystemClock};
use tower::ServiceExt;

use crate::problem::Problem;

/// The OpenAPI description, as written.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    #[error("openapi.yaml does not read as JSON: {0}")]
    OpenApi(String),
}

/// The function's adapters, built once per Lambda instance.
pub struct App {
    /// This stack's shop: requests for another shop are refused.
    pub shop_id: String,
    pub table: Arc<ShopTable>,
    pub queue: Arc<dyn ImportRequests>,
    /// The mall-writer's queue: a refused write retried by an operator goes there.
    pub writes: Arc<dyn MallWriteQueue>,
    pub clock: Arc<dyn Clock>,
    openapi: serde_json::Value,
}

impl App {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        shop_id: impl Into<String>,
        table: impl Into<String>,
        import_queue_url: impl Into<String>,
        write_queue_url: impl Into<String>,
    ) -> Result<Self, StartError> {
        let openapi: serde_json::Value =
            serde_yaml::from_str(OPENAPI_YAML).map_err(|e| StartError::OpenApi(e.to_string()))?;
        Ok(Self {
            shop_id: shop_id.into(),
            table: Arc::new(ShopTable::new(aws_sdk_dynamodb(sdk), table)),
            queue: Arc::new(ImportQueue::from_sdk(sdk, import_queue_url)),
            writes: Arc::new(MallWriteSqs::from_sdk(sdk, write_queue_url)),
            clock: Arc::new(SystemClock),
            openapi,
        })
    }

    /// From `ICHIGEN_SHOP_ID`, `ICHIGEN_TABLE`, `ICHIGEN_IMPORT_QUEUE_URL` and the AWS SDK's
    /// own variables (`AWS_ENDPOINT_URL` points it at a local emulator).
    pub async fn from_env() -> Result<Self, StartError> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(StartError::MissingEnv(name))
        };
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(
            &sdk,
            var("ICHIGEN_SHOP_ID")?,
            var("ICHIGEN_TABLE")?,
            var("ICHIGEN_IMPORT_QUEUE_URL")?,
            var("ICHIGEN_WRITE_QUEUE_URL")?,
        )
    }

    pub fn openapi(&self) -> &serde_json::Value {
        &self.openapi
    }

    /// Answers one request through a router built for it: for tests. The Lambda (`main`) and
    /// anything measuring the handler build [`router`] once and serve every request with it.
    pub async fn handle(self: &Arc<Self>, request: Request) -> Response {
        match router(self.clone()).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

fn aws_sdk_dynamodb(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

/// Every route, with the shop check, idempotency and request logging.
pub fn router(app: Arc<App>) -> Router {
    let shop = routes::shop_routes()
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            idempotency::idempotent,
        ))
        .route_layer(middleware::from_fn_with_state(app.clone(), this_shop_only));
    Router::new()
        .route("/openapi.json", axum::routing::get(routes::openapi))
        .nest("/shops/{shop}", shop)
        .fallback(|| async {
            Problem::new(
                axum::http::StatusCode::NOT_FOUND,
                "no-such-route",
                "No such route",
                "no route has this path",
            )
            .into_response()
        })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "the route does not take this method",
            )
            .into_response()
        })
        .layer(middleware::from_fn(log_request))
        .with_state(app)
}

/// Refuses a request for another shop than this stack's.
async fn this_shop_only(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    // Inside the nested router the URI has lost its `/shops/{shop}` prefix.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|uri| uri.path().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let shop = path
        .strip_prefix("/shops/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    if shop != app.shop_id {
        return Problem {
            field: Some("shop".to_owned()),
            ..Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "wrong-shop",
                "This API serves another shop",
                "the path names a shop this stack does not serve",
            )
        }
        .into_response();
    }
    next.run(request).await
}

/// The API Gateway request id, when the request came through API Gateway.
fn request_id(request: &Request) -> Option<String> {
    use lambda_http::request::RequestContext;
    match request.extensions().get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(context) => context.request_id.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// One log line per request: route template (no ids), status, duration and request id.
/// Bodies, query strings and paths are never logged: they carry order ids and personal data.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let request_id = request_id(&request).unwrap_or_default();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    if status >= 500 {
        tracing::error!(%method, route, status, ms, request_id, "request failed");
    } else {
        tracing::info!(%method, route, status, ms, request_id, "request");
    }
    response
}

pub use ichigen_aws::logging::init_logging;
