//! The routes: read the input, call one core function, write the answer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use ichigen_core::import::ImportCommand;
use ichigen_core::operator::requests::{self, ReimportRequest, RequestDesk};
use ichigen_core::operator::stores::store_overview;
use ichigen_core::operator::writes::{self, RetryWrite};
use ichigen_core::operator::{
    self, ClearHold, OrderCursor, OrderDesk, OrderEdit, OrderFilter, OrderSummary, PlaceHold,
    Shipment, order_view,
};
use ichigen_core::ports::StockStore;
use ichigen_core::stock::{self, StockUpdate};
use ichigen_core::{OrderId, StoreRef};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::problem::Problem;

type Answer = Result<Response, Problem>;

pub(crate) fn shop_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/{order_id}", get(get_order).patch(edit_order))
        .route("/orders/{order_id}/holds", post(place_hold))
        .route("/orders/{order_id}/holds/clear", post(clear_hold))
        .route("/orders/{order_id}/shipment", post(report_shipment))
        .route("/reimports", post(request_reimport))
        .route("/failed-imports", get(failed_imports))
        .route(
            "/failed-imports/{store}/{mall_order_id}/retry",
            post(retry_failed_import),
        )
        .route("/failed-writes", get(failed_writes))
        .route("/failed-writes/{order_id}/retry", post(retry_failed_write))
        .route("/stores", get(stores))
        .route("/stock", put(set_stock))
        .route("/stock/{sku}", get(get_stock).put(set_one_stock))
}

pub(crate) async fn openapi(State(app): State<Arc<App>>) -> Response {
    Json(app.openapi().clone()).into_response()
}

fn desk(app: &App) -> OrderDesk<'_> {
    OrderDesk {
        orders: app.table.as_ref(),
        clock: app.clock.as_ref(),
    }
}

fn request_desk(app: &App) -> RequestDesk<'_> {
    RequestDesk {
        configs: app.table.as_ref(),
        failed_imports: app.table.as_ref(),
        queue: app.queue.as_ref(),
        clock: app.clock.as_ref(),
    }
}

type PathParams = Result<Path<HashMap<String, String>>, PathRejection>;

fn path_param(params: &PathParams, name: &str) -> Result<String, Problem> {
    match params {
        Ok(Path(map)) => map
            .get(name)
            .cloned()
            .ok_or_else(|| Problem::invalid(name, "missing from the path")),
        Err(rejection) => Err(Problem::invalid(name, rejection.body_text())),
    }
}

fn order_id(params: &PathParams) -> Result<OrderId, Problem> {
    path_param(params, "order_id")?
        .parse()
        .map_err(|e: ichigen_core::order::BadOrderId| Problem::invalid("order_id", e.to_string()))
}

/// A JSON body as `T`; a fault names the field (`ship_to.phone`, `levels[2].quantity`).
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Problem> {
    if bytes.is_empty() {
        return Err(Problem::invalid("body", "a JSON body is required"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // A missing field is reported at its parent: name the field itself. (An unknown
        // field's path already ends in it.)
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (".", None) => "body".to_owned(),
            (at, None) => at.to_owned(),
        };
        Problem::invalid(field, message)
    })
}

fn query_pairs(query: &Option<String>) -> Vec<(String, String)> {
    query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// A query value read as the JSON string of an enum or type (`ready_to_ship`, `rakuten`).
fn parse_param<T: DeserializeOwned>(name: &str, value: &str) -> Result<T, Problem> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|e| Problem::invalid(name, e.to_string()))
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, Json(value)).into_response()
}

fn list_filter(
    query: &Option<String>,
) -> Result<(OrderFilter, Option<OrderCursor>, usize), Problem> {
    let mut filter = OrderFilter::default();
    let mut cursor = None;
    let mut limit = 100;
    for (name, value) in query_pairs(query) {
        match name.as_str() {
            "status" => filter.status = Some(parse_param(&name, &value)?),
            "mall" => filter.mall = Some(parse_param(&name, &value)?),
            "store" => {
                filter.store = Some(
                    value
                        .parse::<StoreRef>()
                        .map_err(|e| Problem::invalid(&name, e.to_string()))?,
                );
            }
            "held" => {
                filter.held = value
                    .parse()
                    .map_err(|_| Problem::invalid(&name, "must be true or false"))?;
            }
            "hold" => filter.hold_kind = Some(parse_param(&name, &value)?),
            "from" => filter.from = Some(parse_param(&name, &value)?),
            "to" => filter.to = Some(parse_param(&name, &value)?),
            "limit" => {
                limit = value
                    .parse()
                    .map_err(|_| Problem::invalid(&name, "must be a whole number"))?;
            }
            "cursor" => {
                cursor = Some(
                    OrderCursor::decode(&value)
                        .map_err(|e| Problem::invalid(&name, e.to_string()))?,
                );
            }
            _ => return Err(Problem::invalid(name, "is not a filter of this list")),
        }
    }
    Ok((filter, cursor, limit))
}

async fn list_orders(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Answer {
    let (filter, cursor, limit) = list_filter(&query)?;
    let page = operator::list_orders(
        app.table.as_ref(),
        app.table.as_ref(),
        &filter,
        cursor.as_ref(),
        limit,
    )
    .await?;
    let orders: Vec<OrderSummary> = page.orders.iter().map(OrderSummary::of).collect();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({
            "orders": orders,
            "next_cursor": page.next.map(|c| c.encode()),
        }),
    ))
}

async fn get_order(State(app): State<Arc<App>>, params: PathParams) -> Answer {
    let id = order_id(&params)?;
    let order = operator::get_order(desk(&app), &id).await?;
    Ok(json(StatusCode::OK, order_view(&order)))
}

async fn edit_order(State(app): State<Arc<App>>, params: PathParams, bytes: Bytes) -> Answer {
    let id = order_id(&params)?;
    let edit: OrderEdit = body(&bytes)?;
    let order = operator::edit_order(desk(&app), &id, &edit).await?;
    Ok(json(StatusCode::OK, order_view(&order)))
}

async fn place_hold(State(app): State<Arc<App>>, params: PathParams, bytes: Bytes) -> Answer {
    let id = order_id(&params)?;
    let request: PlaceHold = body(&bytes)?;
    let order = operator::place_hold(desk(&app), &id, &request).await?;
    Ok(json(StatusCode::OK, order_view(&order)))
}

async fn clear_hold(State(app): State<Arc<App>>, params: PathParams, bytes: Bytes) -> Answer {
    let id = order_id(&params)?;
    let request: ClearHold = body(&bytes)?;
    let order = operator::clear_hold(desk(&app), &id, &request).await?;
    Ok(json(StatusCode::OK, order_view(&order)))
}

async fn report_shipment(State(app): State<Arc<App>>, params: PathParams, bytes: Bytes) -> Answer {
    let id = order_id(&params)?;
    let shipment: Shipment = body(&bytes)?;
    let order = operator::report_shipment(desk(&app), &id, &shipment).await?;
    Ok(json(StatusCode::OK, order_view(&order)))
}

fn queued(commands: &[ImportCommand]) -> Response {
    json(
        StatusCode::ACCEPTED,
        serde_json::json!({ "queued": commands }),
    )
}

async fn request_reimport(State(app): State<Arc<App>>, bytes: Bytes) -> Answer {
    let request: ReimportRequest = body(&bytes)?;
    let command = requests::request_reimport(request_desk(&app), &request).await?;
    Ok(queued(&[command]))
}

async fn failed_imports(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Answer {
    let mut store = None;
    for (name, value) in query_pairs(&query) {
        match name.as_str() {
            "store" => {
                store = Some(
                    value
                        .parse::<StoreRef>()
                        .map_err(|e| Problem::invalid(&name, e.to_string()))?,
                );
            }
            _ => return Err(Problem::invalid(name, "is not a filter of this list")),
        }
    }
    let failed = requests::failed_imports(request_desk(&app), store.as_ref()).await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "failed_imports": failed }),
    ))
}

async fn retry_failed_import(State(app): State<Arc<App>>, params: PathParams) -> Answer {
    let store: StoreRef = path_param(&params, "store")?
        .parse()
        .map_err(|e: ichigen_core::order::BadStoreRef| Problem::invalid("store", e.to_string()))?;
    let mall_order_id = path_param(&params, "mall_order_id")?;
    let command = requests::retry_failed_import(request_desk(&app), &store, &mall_order_id).await?;
    Ok(queued(&[command]))
}

async fn failed_writes(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Answer {
    let mut store = None;
    let mut cursor = None;
    let mut limit = 100;
    for (name, value) in query_pairs(&query) {
        match name.as_str() {
            "store" => {
                store = Some(
                    value
                        .parse::<StoreRef>()
                        .map_err(|e| Problem::invalid(&name, e.to_string()))?,
                );
            }
            "limit" => {
                limit = value
                    .parse()
                    .map_err(|_| Problem::invalid(&name, "must be a whole number"))?;
            }
            "cursor" => {
                cursor = Some(
                    OrderCursor::decode(&value)
                        .map_err(|e| Problem::invalid(&name, e.to_string()))?,
                );
            }
            _ => return Err(Problem::invalid(name, "is not a filter of this list")),
        }
    }
    let page = writes::failed_writes(
        app.table.as_ref(),
        app.table.as_ref(),
        store.as_ref(),
        cursor.as_ref(),
        limit,
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({
            "failed_writes": page.writes,
            "next_cursor": page.next.map(|c| c.encode()),
        }),
    ))
}

async fn retry_failed_write(
    State(app): State<Arc<App>>,
    params: PathParams,
    bytes: Bytes,
) -> Answer {
    let id = order_id(&params)?;
    let request: RetryWrite = body(&bytes)?;
    let order = writes::retry_failed_write(desk(&app), app.writes.as_ref(), &id, &request).await?;
    Ok(json(StatusCode::OK, order_view(&order)))
}

async fn stores(State(app): State<Arc<App>>) -> Answer {
    let stores = store_overview(
        app.table.as_ref(),
        app.table.as_ref(),
        app.table.as_ref(),
        app.clock.as_ref(),
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "stores": stores }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockBatch {
    levels: Vec<StockUpdate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockQuantity {
    quantity: u32,
}

async fn set_stock(State(app): State<Arc<App>>, bytes: Bytes) -> Answer {
    let batch: StockBatch = body(&bytes)?;
    let levels =
        stock::set_stock_levels(app.table.as_ref(), app.clock.as_ref(), &batch.levels).await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "levels": levels }),
    ))
}

async fn set_one_stock(State(app): State<Arc<App>>, params: PathParams, bytes: Bytes) -> Answer {
    let sku = path_param(&params, "sku")?;
    stock::check_sku("sku", &sku)?;
    let StockQuantity { quantity } = body(&bytes)?;
    let mut levels = stock::set_stock_levels(
        app.table.as_ref(),
        app.clock.as_ref(),
        &[StockUpdate { sku, quantity }],
    )
    .await?;
    let level = levels
        .pop()
        .ok_or_else(|| Problem::invalid("sku", "no level was set"))?;
    Ok(json(
        StatusCode::OK,
        serde_json::to_value(level).unwrap_or_default(),
    ))
}

async fn get_stock(State(app): State<Arc<App>>, params: PathParams) -> Answer {
    let sku = path_param(&params, "sku")?;
    stock::check_sku("sku", &sku)?;
    match app.table.get_stock(&sku).await? {
        Some(level) => Ok(json(
            StatusCode::OK,
            serde_json::to_value(level).unwrap_or_default(),
        )),
        None => Err(Problem::not_found(format!("no stock level for SKU {sku}"))),
    }
}
