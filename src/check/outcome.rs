//! What a check produces: a column's role and its outcome in one window.

use crate::config::TestKind;

/// What a column is to the model; decides which metrics its result feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A model input; counts towards dataset drift.
    Feature,
    /// The model's output (prediction drift).
    Prediction,
    /// Ground truth (target drift).
    Target,
    /// The prediction's latency: a family of its own, so it never changes dataset drift.
    Latency,
}

/// The result of one column in one window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnOutcome {
    /// Test applied.
    pub test: TestKind,
    /// Statistic or distance; `None` when the window held no usable value.
    pub score: Option<f64>,
    /// p-value for tests that have one.
    pub p_value: Option<f64>,
    /// The p-value after the family's correction (equal to `p_value` outside a family or
    /// without correction); this is what `threshold` is compared with.
    pub p_value_adjusted: Option<f64>,
    /// Threshold the verdict used.
    pub threshold: f64,
    /// Effect size: KS D, Cohen's w (chi-square), Cohen's h (z), or the distance itself.
    pub effect_size: Option<f64>,
    /// Smallest effect size that counts as drift.
    pub min_effect: f64,
    /// Drift verdict; false when there was nothing to test.
    pub drifted: bool,
    /// Values tested (neither missing nor invalid).
    pub values: usize,
    /// Absent or `null` values.
    pub missing: usize,
    /// Values of the wrong type (treated as missing by the test).
    pub invalid: usize,
    /// Numeric values outside the reference's [min, max].
    pub out_of_range: usize,
    /// Categorical values never seen in the reference.
    pub new_category: usize,
}
