//! What a check produces: a column's role and its outcome in one window.

use crate::config::TestKind;
use crate::stats::computable::NotComputable;

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
    /// Statistic or distance; `None` when the window held no usable value or the test was not
    /// computable on it.
    pub score: Option<f64>,
    /// p-value for tests that have one.
    pub p_value: Option<f64>,
    /// The p-value after the family's correction (equal to `p_value` outside a family or
    /// without correction); this is what `threshold` is compared with.
    pub p_value_adjusted: Option<f64>,
    /// Threshold the verdict used.
    pub threshold: f64,
    /// Effect size: KS D (ks, anderson, cramer_von_mises, es), rank-biserial correlation
    /// (mannw), Cohen's d (t_test), Cohen's w (chisquare, g_test), Cohen's h (z, fisher_exact),
    /// or the distance itself.
    pub effect_size: Option<f64>,
    /// Smallest effect size that counts as drift.
    pub min_effect: f64,
    /// Drift verdict; false when there was nothing to test.
    pub drifted: bool,
    /// Why the test had no answer although the window held values (e.g. `zero_iqr` for
    /// Epps–Singleton): then score, p-values and effect are null and there is no verdict.
    /// Null when the test ran, or when there was nothing to test (`values` is 0).
    #[serde(default)]
    pub not_computable: Option<NotComputable>,
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
    /// Binned windows (`window.summary: binned`) whose counts bracket the statistic instead of
    /// fixing it (KS over quantile bins): `score` is the lower bound and `p_value` is taken
    /// there, so the approximation can only make an alarm rarer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximation: Option<Approximation>,
}

/// How far a binned window's statistic may be from the one its rows would give.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Approximation {
    /// Upper bound of the statistic (`score` is the lower one).
    pub score_upper: f64,
    /// The p-value at `score_upper`: the true p-value lies between this and `p_value`.
    pub p_value_lower: f64,
}
