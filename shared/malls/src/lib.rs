//! One module per mall: an HTTP client for the mall's order API and a normaliser that turns
//! the mall's payload into ichigen's unified [`Order`](ichigen_core::Order).
//!
//! - [`connect`] builds the right adapter for a store from its secret; the Lambda functions
//!   and the CLI only ever see `Box<dyn Mall>`.
//! - [`http`] holds what every mall client shares: one token bucket per store and bounded
//!   retries with exponential backoff and full jitter; [`rate_budget`] the one budget per
//!   store that the shop's functions share.
//! - [`rakuten`] speaks the RakutenPay Order API (RMS WEB SERVICE). Its quirks stay inside.
//! - [`amazon`] speaks SP-API Orders v0 (JSON, Login with Amazon, restricted-data tokens).
//! - [`yahoo`] speaks the Yahoo! Shopping Store API (XML, YConnect, public-key signature).
//! - [`aupay`] speaks au PAY Market's Wow!manager API (XML, Bearer API key + `shopId`).
//! - [`qoo10`] speaks the Qoo10 QSM API (JSON, certification key, carts split by carrier).
//! - [`xml`] is the element tree both XML malls read and write with; `reading` what every
//!   normaliser shares (holds collected while reading, yen, quoting values in holds).

pub mod amazon;
pub mod aupay;
pub mod connect;
pub mod http;
pub mod qoo10;
pub mod rakuten;
pub mod rate_budget;
mod reading;
mod secret;
pub mod store_mall;
pub mod xml;
pub mod yahoo;

pub use amazon::{AmazonCredentials, AmazonMall};
pub use aupay::{AupayCredentials, AupayMall};
pub use connect::{
    AmazonEndpoints, ClientSettings, ConnectError, MallEndpoints, YahooEndpoints, connect,
    connect_amazon, connect_aupay, connect_qoo10, connect_rakuten, connect_yahoo,
    normalise_response, normalise_responses,
};
pub use qoo10::{Qoo10Credentials, Qoo10Mall};
pub use rakuten::{RakutenCredentials, RakutenMall};
pub use rate_budget::SharedRateBudget;
pub use store_mall::{ConfiguredStore, MallAccess, StoreMall, StoreMallError, StoreMalls};
pub use yahoo::{YahooCredentials, YahooMall};
