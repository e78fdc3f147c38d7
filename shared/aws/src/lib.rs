//! AWS adapters for ichigen's ports.
//!
//! - [`ShopTable`]: the shop's single DynamoDB table, implementing
//!   [`OrderStore`](ichigen_core::ports::OrderStore),
//!   [`CheckpointStore`](ichigen_core::ports::CheckpointStore) and
//!   [`StoreConfigs`](ichigen_core::ports::StoreConfigs),
//!   [`FailedImportStore`](ichigen_core::ports::FailedImportStore) (the quarantine) and
//!   [`StoreStatusStore`](ichigen_core::ports::StoreStatusStore). Keys and access patterns:
//!   [`tables`].
//! - [`SecretsManagerVault`]: mall credentials from Secrets Manager.
//! - [`ImportQueue`]: sends import requests to the shop's SQS queue.
//! - [`setup`]: creates a shop's resources on the emulator (local runs, tests).
//!
//! Build one [`aws_config::SdkConfig`] per process with [`env::sdk_config`] and hand it to each
//! adapter. Nothing here logs item contents or secret values: orders hold buyers' personal data.

pub mod checkpoints;
pub mod env;
pub mod event_source;
pub mod failed_imports;
pub mod idempotency;
pub mod logging;
pub mod metrics;
pub mod order_lists;
pub mod orders;
pub mod queue;
pub mod rate_slots;
pub mod setup;
pub mod stock;
pub mod store_configs;
pub mod store_status;
pub mod tables;
pub mod vault;

pub use env::{EnvError, sdk_config};
pub use queue::{ImportQueue, MallWriteSqs, QueueError};
pub use setup::{SetupError, ShopHandles, ShopResources, ensure_shop, put_secret};
pub use tables::{ShopTable, TableDefinition, shop_table};
pub use vault::SecretsManagerVault;
