//! Process environment: the SDK configuration and the variables a function reads.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the SDK configuration once per process (region, credentials, and
/// `AWS_ENDPOINT_URL`, which points every client at the emulator when running locally).
pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The variable naming the shop's DynamoDB table (set by the SAM template).
pub const TABLE_VAR: &str = "ICHIGEN_TABLE";

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("environment variable {name} is not set ({hint})")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
}

/// A required variable; the error says what it is for.
pub fn required(name: &'static str, hint: &'static str) -> Result<String, EnvError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(EnvError::Missing { name, hint }),
    }
}
