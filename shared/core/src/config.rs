//! A shop's per-store settings (stored in the shop's table, edited with the `ichigen` CLI).

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::order::StoreRef;
use crate::time::JstInstant;

/// One store of the shop on one mall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreConfig {
    pub store: StoreRef,
    /// The Secrets Manager secret holding this store's mall credentials.
    pub secret_id: String,
    #[serde(default)]
    pub import: ImportSettings,
    /// Off: the store is known but its import is paused (e.g. a lapsed key).
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// How the differential import walks time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportSettings {
    /// Nothing ordered before this instant is imported (set when going live; never in the past
    /// of orders the shop already handled elsewhere).
    pub sync_start_at: Option<JstInstant>,
    /// On the first run (no checkpoint), look back this far.
    #[serde(with = "duration_minutes")]
    pub first_run_lookback: SignedDuration,
    /// Each run re-reads this much before the checkpoint, so a slow mall never leaves a gap
    /// (schedule every 3 minutes with a 2-minute overlap = a 5-minute look-back).
    #[serde(with = "duration_minutes")]
    pub overlap: SignedDuration,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            sync_start_at: None,
            first_run_lookback: SignedDuration::from_hours(24),
            overlap: SignedDuration::from_mins(2),
        }
    }
}

/// Durations are stored as whole minutes so the config item stays readable in the console.
mod duration_minutes {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.as_mins())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        Ok(SignedDuration::from_mins(i64::deserialize(d)?))
    }
}
