//! One module per mall: an HTTP client for the mall's order API and a normaliser that turns
//! the mall's payload into ichigen's unified [`Order`](ichigen_core::Order).
//!
//! - [`connect`] builds the right adapter for a store from its secret; the Lambda functions
//!   and the CLI only ever see `Box<dyn Mall>`.
//! - [`http`] holds what every mall client shares: one token bucket per store and bounded
//!   retries with exponential backoff and full jitter.
//! - [`rakuten`] speaks the RakutenPay Order API (RMS WEB SERVICE). Its quirks stay inside.
//! - [`amazon`] speaks SP-API Orders v0 (JSON, Login with Amazon, restricted-data tokens).
//! - [`yahoo`] speaks the Yahoo! Shopping Store API (XML, YConnect, public-key signature).

pub mod amazon;
pub mod connect;
pub mod http;
pub mod rakuten;
pub mod yahoo;

pub use amazon::{AmazonCredentials, AmazonMall};
pub use connect::{
    AmazonEndpoints, ClientSettings, ConnectError, MallEndpoints, YahooEndpoints, connect,
    connect_amazon, connect_rakuten, connect_yahoo, normalise_response, normalise_responses,
};
pub use rakuten::{RakutenCredentials, RakutenMall};
pub use yahoo::{YahooCredentials, YahooMall};
