//! ichigen's domain: the unified order, its status machine, and the sync jobs.
//!
//! Jobs are free functions over small port traits ([`ports`], [`mall::Mall`]); the AWS and
//! mall adapters live in other crates, so this crate has no AWS or HTTP dependency.

pub mod config;
pub mod follow;
pub mod hold;
pub mod import;
pub mod mall;
pub mod mall_write;
pub mod operator;
pub mod order;
pub mod ports;
pub mod status;
pub mod stock;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;

pub use config::{ImportSettings, StoreConfig};
pub use hold::{Hold, HoldKind};
pub use mall::{Mall, MallCapabilities, MallError};
pub use order::{MallId, Order, OrderId, StoreRef, Yen};
pub use status::{OrderStatus, StatusEvent, transition};
pub use time::{JstInstant, TimeWindow};
