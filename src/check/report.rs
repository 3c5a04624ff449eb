//! What a window's checks report: each column's result with its name, the dataset-level verdict,
//! and the timestamps reports carry.

use serde::{Deserialize, Serialize};

use crate::check::outcome::ColumnOutcome;

/// Dataset-level drift: the share of features that drifted.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct DatasetDrift {
    /// Drifted features / features with a verdict (0 when none had one).
    pub drift_share: f64,
    /// `drift_share >= threshold`.
    pub drifted: bool,
    /// Number of drifted features.
    pub drifted_features: usize,
    /// Features with a verdict (features whose window values were all missing have none).
    pub features_evaluated: usize,
    /// The monitor's `drift_share` setting.
    pub threshold: f64,
}

/// One column's result with its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnReport {
    /// Column name.
    pub name: String,
    /// Test outcome.
    #[serde(flatten)]
    pub outcome: ColumnOutcome,
    /// Missing values / rows in the window.
    pub missing_ratio: f64,
    /// Invalid (wrong-type) values / rows in the window.
    pub invalid_ratio: f64,
    /// Numeric values outside the reference's [min, max] / rows in the window.
    pub out_of_range_ratio: f64,
    /// Categorical values never seen in the reference / rows in the window.
    pub new_category_ratio: f64,
}

impl ColumnReport {
    /// Names an outcome and turns its counts into shares of the window's `rows`.
    pub fn new(name: &str, outcome: ColumnOutcome, rows: usize) -> Self {
        let share = |n: usize| {
            if rows == 0 {
                0.0
            } else {
                n as f64 / rows as f64
            }
        };
        Self {
            name: name.to_owned(),
            missing_ratio: share(outcome.missing),
            invalid_ratio: share(outcome.invalid),
            out_of_range_ratio: share(outcome.out_of_range),
            new_category_ratio: share(outcome.new_category),
            outcome,
        }
    }
}

/// Current time in unix seconds.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// Formats unix seconds as RFC 3339 with millisecond precision.
pub fn rfc3339(seconds: f64) -> String {
    let millis = (seconds * 1000.0).round() as i64;
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
