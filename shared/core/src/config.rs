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
    /// Each run re-reads this much before the checkpoint, so an order the mall lists late
    /// (its search index lags, a slow run) is still found. Already-stored orders are skipped
    /// with one batched lookup, so a wide overlap is cheap. Never shorter than the search lag.
    #[serde(with = "duration_minutes")]
    pub overlap: SignedDuration,
    /// How long after its order time an order may take to appear in the mall's list, when
    /// this store sees more lag than the mall's default (`None`: the mall's own figure).
    #[serde(
        with = "optional_duration_minutes",
        skip_serializing_if = "Option::is_none"
    )]
    pub search_lag: Option<SignedDuration>,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            sync_start_at: None,
            first_run_lookback: SignedDuration::from_hours(24),
            overlap: SignedDuration::from_mins(30),
            search_lag: None,
        }
    }
}

impl ImportSettings {
    /// The overlap a run uses: the configured one, widened to cover the search lag.
    pub fn effective_overlap(&self, mall_search_lag: SignedDuration) -> SignedDuration {
        let lag = self.search_lag.unwrap_or(mall_search_lag);
        self.overlap.max(lag)
    }
}

mod optional_duration_minutes {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<SignedDuration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_mins()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SignedDuration>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(SignedDuration::from_mins))
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
