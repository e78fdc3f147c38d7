//! Rakuten Ichiba RMS (RakutenPay Order API + License Management API) sandbox.
//!
//! Wire paths follow `shared/malls/rakuten.md`; choices where that doc is unsure are listed
//! in the crate README.

mod api;
mod control_api;
pub mod generator;
mod state;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::faults::FaultGuard;
pub(crate) use state::RakutenState;

/// Stats names of the Rakuten endpoints (`Stats.requests` keys).
pub mod endpoints {
    pub const SEARCH_ORDER: &str = "rakuten.searchOrder";
    pub const GET_ORDER: &str = "rakuten.getOrder";
    pub const CONFIRM_ORDER: &str = "rakuten.confirmOrder";
    pub const GET_PAYMENT: &str = "rakuten.getPayment";
    pub const LICENSE_EXPIRY_DATE: &str = "rakuten.licenseExpiryDate";
    /// Every Rakuten endpoint name.
    pub const ALL: [&str; 5] = [
        SEARCH_ORDER,
        GET_ORDER,
        CONFIRM_ORDER,
        GET_PAYMENT,
        LICENSE_EXPIRY_DATE,
    ];
}

/// Mall routes (with fault injection) and Rakuten control routes.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let guard = FaultGuard::new(&state, wire::fault_response);
    let guarded = |name, route| guard.route(name, route);
    let search = guarded(endpoints::SEARCH_ORDER, post(api::search_order));
    let get_order = guarded(endpoints::GET_ORDER, post(api::get_order));
    let confirm = guarded(endpoints::CONFIRM_ORDER, post(api::confirm_order));
    let payment = guarded(endpoints::GET_PAYMENT, post(api::get_payment));
    let expiry = guarded(endpoints::LICENSE_EXPIRY_DATE, get(api::license_expiry));

    let control = "/_control/rakuten";
    Router::new()
        // The official samples use the trailing slash; accept both spellings.
        .route("/es/2.0/order/searchOrder/", search.clone())
        .route("/es/2.0/order/searchOrder", search)
        .route("/es/2.0/order/getOrder/", get_order.clone())
        .route("/es/2.0/order/getOrder", get_order)
        .route("/es/2.0/order/confirmOrder/", confirm.clone())
        .route("/es/2.0/order/confirmOrder", confirm)
        .route("/es/2.0/order/getPayment/", payment.clone())
        .route("/es/2.0/order/getPayment", payment)
        .route("/es/1.0/license-management/license-key/expiry-date", expiry)
        .route(
            &format!("{control}/stores"),
            post(control_api::register_store),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/expire-key"),
            post(control_api::expire_key),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders"),
            post(control_api::insert_order).get(control_api::order_numbers),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/generate"),
            post(control_api::generate),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_number}}"),
            get(control_api::order),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_number}}/progress"),
            post(control_api::set_progress),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_number}}/pay"),
            post(control_api::pay),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_number}}/cancel-line"),
            post(control_api::cancel_line),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_number}}/fault"),
            post(control_api::set_order_fault),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/reject-operation"),
            post(control_api::reject_operation),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/order-api"),
            post(control_api::set_order_api),
        )
        .route(
            &format!("{control}/stores/{{shop_id}}/orders/{{order_number}}/social-gift/fill"),
            post(control_api::fill_social_gift),
        )
        .route(
            &format!("{control}/limits"),
            post(control_api::set_limits).get(control_api::limits),
        )
        .route(&format!("{control}/writes"), get(control_api::writes))
        .with_state(state)
}
