//! JSON logs for the Lambda functions: the request id on every line, and no level that makes
//! the SDK or HTTP crates print request or response bodies (buyers' personal data).

/// Crates whose debug and trace output can carry request or response bodies (a `PutItem`
/// with a buyer's address, a mall's answer): held at `warn` whatever `RUST_LOG` says.
pub const QUIET_TARGETS: [&str; 12] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_types",
    "aws_sdk_dynamodb",
    "aws_sdk_sqs",
    "aws_sdk_secretsmanager",
    "aws_config",
    "hyper",
    "hyper_util",
    "reqwest",
    "h2",
];

/// The log filter: `RUST_LOG` (default `info`) for ichigen's own crates, `warn` at most for
/// the crates in [`QUIET_TARGETS`], so no log level makes them print personal data.
pub fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::EnvFilter {
    let mut filter = rust_log
        .and_then(|value| tracing_subscriber::EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    for target in QUIET_TARGETS
        .iter()
        .chain(&["rustls", "tower", "lambda_runtime_api_client"])
    {
        if let Ok(directive) = format!("{target}=warn").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// JSON logs with the request id, as CloudWatch wants them; `RUST_LOG` sets the level of
/// ichigen's own crates (see [`log_filter`]).
pub fn init_logging() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter(rust_log.as_deref()))
        // The runtime's invoke span carries `requestId`: keep it on every line.
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_targets_stay_at_warn_even_at_trace() {
        let filter = log_filter(Some("trace")).to_string();
        for target in QUIET_TARGETS {
            assert!(filter.contains(&format!("{target}=warn")), "{filter}");
        }
        assert!(filter.contains("trace"));
    }
}
