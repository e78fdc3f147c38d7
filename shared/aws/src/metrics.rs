//! Import metrics as CloudWatch embedded metric format (EMF): one JSON line per run on stdout,
//! which CloudWatch Logs turns into metrics (namespace `ichigen`, by shop and store, and by
//! shop alone) without an API call or a permission. The template's alarms watch them: per
//! store for the checkpoint's age, per shop for the rest.
//!
//! Only counts and ages: no order ids, no buyer data.

use std::io::Write;

use ichigen_core::JstInstant;
use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "ichigen";

/// Metric names (the template's alarms use these names).
pub mod name {
    pub const ORDERS_IMPORTED: &str = "OrdersImported";
    pub const ORDERS_HELD: &str = "OrdersHeld";
    pub const ORDERS_QUARANTINED: &str = "OrdersQuarantined";
    /// Orders waiting in the quarantine after the run.
    pub const FAILED_IMPORTS: &str = "FailedImports";
    /// Mall writes the mall-writer could not settle in one batch (refused, or to retry).
    pub const ACKNOWLEDGEMENT_FAILURES: &str = "AcknowledgementFailures";
    /// Mall writes an import run owed but could not queue (they stay owed on their orders and
    /// are queued again by a later run).
    pub const MALL_WRITES_NOT_QUEUED: &str = "MallWritesNotQueued";
    /// The store's orders whose mall write was refused for good, waiting for a person (counted
    /// up to [`FAILED_MALL_WRITES_COUNTED`]).
    pub const FAILED_MALL_WRITES: &str = "FailedMallWrites";
    /// How many refused writes a run counts at most (one index page).
    pub const FAILED_MALL_WRITES_COUNTED: usize = 100;
    /// Seconds between now and the store's checkpoint (differential runs only).
    pub const CHECKPOINT_AGE: &str = "CheckpointAgeSeconds";
    pub const IMPORT_RUN_FAILED: &str = "ImportRunFailed";
    pub const CREDENTIAL_REJECTED: &str = "CredentialRejected";
}

/// One run's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetrics {
    /// `(name, value, unit)`: unit `Count` or `Seconds`.
    pub values: Vec<(&'static str, f64, &'static str)>,
}

impl RunMetrics {
    pub fn count(&mut self, name: &'static str, value: usize) -> &mut Self {
        self.values.push((name, value as f64, "Count"));
        self
    }

    pub fn seconds(&mut self, name: &'static str, value: i64) -> &mut Self {
        self.values.push((name, value.max(0) as f64, "Seconds"));
        self
    }

    /// The EMF document for these figures.
    pub fn emf(&self, shop: &str, store: &str, at: JstInstant) -> Value {
        let definitions: Vec<Value> = self
            .values
            .iter()
            .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
            .collect();
        let mut document = Map::new();
        document.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp().as_millisecond(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Shop", "Store"], ["Shop"]],
                    "Metrics": definitions,
                }],
            }),
        );
        document.insert("Shop".into(), json!(shop));
        document.insert("Store".into(), json!(store));
        for (name, value, _) in &self.values {
            document.insert((*name).into(), json!(value));
        }
        Value::Object(document)
    }

    /// Writes the EMF line to stdout, where the Lambda log stream picks it up.
    pub fn publish(&self, shop: &str, store: &str, at: JstInstant) {
        let line = self.emf(shop, store, at).to_string();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_each_metric_with_its_dimensions() {
        let mut metrics = RunMetrics::default();
        metrics
            .count(name::ORDERS_IMPORTED, 3)
            .seconds(name::CHECKPOINT_AGE, 120);
        let at: JstInstant = "2026-11-22T10:00:00+09:00".parse().unwrap();
        let doc = metrics.emf("shop-1", "rakuten:a", at);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ichigen");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Shop", "Store"], ["Shop"]])
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][1],
            json!({"Name": "CheckpointAgeSeconds", "Unit": "Seconds"})
        );
        assert_eq!(doc["OrdersImported"], 3.0);
        assert_eq!(doc["Store"], "rakuten:a");
        assert_eq!(doc["_aws"]["Timestamp"], 1_795_309_200_000_i64);
    }
}
