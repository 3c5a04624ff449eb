//! Model-quality metrics over rows that carry both a prediction and the actual outcome
//! (ground truth that arrives after the prediction), so a monitor can report how well the
//! model performs next to how far its inputs drift.
//!
//! - [`classification`]: accuracy; precision, recall and F1 of one positive class (binary) or
//!   their macro averages over the classes seen (multiclass); ROC AUC and log loss from the
//!   positive-class probability (binary).
//! - [`regression`]: MAE, RMSE, MAPE, mean error (bias) and R².
//!
//! Reference implementation: `sklearn.metrics` (`accuracy_score`, `precision_score`,
//! `recall_score`, `f1_score`, `roc_auc_score`, `log_loss`, `mean_absolute_error`,
//! `mean_squared_error` and its square root, `r2_score`) with default arguments unless stated,
//! and numpy for MAPE and the mean error; `tools/golden/gen_quality.py` produces the golden
//! values the tests (`tests.rs`) compare against.
//!
//! Where driftscope deliberately differs from scikit-learn:
//! - Undefined metrics are omitted from the result instead of being NaN (or an error): no
//!   ROC AUC unless both classes occur, no log loss without a usable probability, no MAPE when
//!   every target is 0, no R² below two rows. Every returned value is a number, never NaN.
//! - MAPE is `mean(|y − ŷ| / |y|)` over the rows with `y ≠ 0` only, not sklearn's
//!   `mean_absolute_percentage_error`, which divides by `max(|y|, ε)` and so turns a zero
//!   target into an astronomically large percentage.
//! - Rows that cannot be scored are skipped rather than poisoning the whole window: a NaN
//!   probability (for ROC AUC and log loss only) and, in regression, a row whose prediction
//!   or target is not finite.
//! - R² for a constant target is decided by an exact "all targets equal" test (1.0 for
//!   perfect predictions, else 0.0, as sklearn's `force_finite` intends). sklearn decides it
//!   by a zero variance, which rounding can miss: the mean of three copies of 0.1 is an ulp off,
//!   so for predictions `[0.1, 0.2, 0.1]` it returns −1.7e31.
//! - Inputs sklearn rejects are still scored: probabilities outside [0, 1] are clipped like
//!   any other (log loss) or just ranked (ROC AUC); with `positive` set, every other class
//!   counts as negative (sklearn's `average="binary"` refuses more than two classes).
//!
//! Sums are compensated (Neumaier), so long windows do not accumulate rounding error; numpy
//! sums pairwise, and the two agree to about 1e-15 relative on the golden cases.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;

/// A model-quality metric; `as_str` is its metric label value.
///
/// Variants are listed in the order the functions of this module return them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityMetric {
    /// Share of rows whose predicted class is the actual class.
    Accuracy,
    /// Of the rows predicted positive, the share actually positive (macro: per class, averaged).
    Precision,
    /// Of the actually positive rows, the share predicted positive (macro: per class, averaged).
    Recall,
    /// Harmonic mean of precision and recall (macro: per class, averaged).
    F1,
    /// Area under the ROC curve of the positive-class probability.
    RocAuc,
    /// Mean negative log-likelihood of the actual class (cross-entropy, natural log).
    LogLoss,
    /// Mean absolute error.
    Mae,
    /// Root mean squared error.
    Rmse,
    /// Mean absolute percentage error as a fraction (0.1 = 10 %), over nonzero targets.
    Mape,
    /// Mean of `actual − predicted`: positive when the model under-predicts.
    MeanError,
    /// Coefficient of determination.
    R2,
}

impl QualityMetric {
    /// The metric's label value, identical to its serde name, so exported series and JSON
    /// reports name a metric the same way.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::Precision => "precision",
            Self::Recall => "recall",
            Self::F1 => "f1",
            Self::RocAuc => "roc_auc",
            Self::LogLoss => "log_loss",
            Self::Mae => "mae",
            Self::Rmse => "rmse",
            Self::Mape => "mape",
            Self::MeanError => "mean_error",
            Self::R2 => "r2",
        }
    }

    /// Whether a larger value means a better model, so thresholds and dashboards know which
    /// direction is a degradation. Mean error is signed: neither direction is better, so it
    /// reports `false` like the error metrics (smaller magnitude is better).
    #[must_use]
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Self::Accuracy | Self::Precision | Self::Recall | Self::F1 | Self::RocAuc | Self::R2
        )
    }
}

/// Classification quality over rows with both a predicted and an actual class, so a monitor
/// can track how a classifier performs once ground truth arrives. Classes are `u32` indexes
/// in one class space shared by `predicted` and `actual` (the caller maps labels to indexes).
///
/// - `positive: Some(class)`: binary metrics of that class (sklearn `average="binary"`,
///   `pos_label=class`); any other class counts as negative. `None`: precision, recall and F1
///   are macro averages over the classes present in `actual ∪ predicted`
///   (sklearn `average="macro"`). Accuracy is always the exact-match rate.
/// - `probability`: with `positive` set, `probability[i]` is the model's probability of the
///   positive class for row `i`; it adds ROC AUC (only when both classes occur among the rows
///   with a probability; ties count one half, sklearn's trapezoidal value) and log loss
///   (probabilities clipped to `[ε, 1 − ε]`, `ε = f64::EPSILON`, as sklearn 1.9 does). Rows
///   whose probability is NaN are skipped for these two only. Ignored when `positive` is
///   `None`.
///
/// A zero denominator gives 0.0 (sklearn's `zero_division` default). Slices of different
/// lengths are cut to their common prefix (the probabilities included when they are used).
/// Empty input gives an empty `Vec`; values are never NaN. Metrics come in
/// [`QualityMetric`] order. O(n) plus a table per class seen; ROC AUC sorts the probabilities
/// (O(n log n), one allocation).
#[must_use]
pub fn classification(
    predicted: &[u32],
    actual: &[u32],
    positive: Option<u32>,
    probability: Option<&[f64]>,
) -> Vec<(QualityMetric, f64)> {
    let probability = positive.and(probability);
    let rows = predicted
        .len()
        .min(actual.len())
        .min(probability.map_or(usize::MAX, <[f64]>::len));
    if rows == 0 {
        return Vec::new();
    }
    let (predicted, actual) = (&predicted[..rows], &actual[..rows]);

    let correct = predicted.iter().zip(actual).filter(|(p, a)| p == a).count();
    let [precision, recall, f1] = match positive {
        Some(class) => ClassCounts::one_vs_rest(predicted, actual, class).scores(),
        None => macro_scores(predicted, actual),
    };
    let mut metrics = Vec::with_capacity(6);
    metrics.extend([
        (QualityMetric::Accuracy, ratio(correct as u64, rows as u64)),
        (QualityMetric::Precision, precision),
        (QualityMetric::Recall, recall),
        (QualityMetric::F1, f1),
    ]);
    if let (Some(class), Some(probability)) = (positive, probability) {
        let probability = &probability[..rows];
        if let Some(auc) = roc_auc(actual, class, probability) {
            metrics.push((QualityMetric::RocAuc, auc));
        }
        if let Some(loss) = log_loss(actual, class, probability) {
            metrics.push((QualityMetric::LogLoss, loss));
        }
    }
    metrics
}

/// Regression quality over rows with both a prediction and an actual value, so a monitor can
/// track a regressor's error once ground truth arrives: MAE, RMSE, MAPE, mean error and R².
///
/// - MAPE is `mean(|y − ŷ| / |y|)` over the rows with `y ≠ 0` only (not sklearn's ε form),
///   as a fraction; omitted when every `y` is 0.
/// - Mean error is `mean(y − ŷ)`: positive when the model under-predicts.
/// - R² is sklearn's `r2_score` with `force_finite=True`: a constant `y` gives 1.0 for
///   perfect predictions, else 0.0. Omitted below two rows (sklearn returns NaN there).
///
/// Rows where either value is NaN or infinite are skipped. Slices of different lengths are
/// cut to their common prefix. Empty input (or no finite row) gives an empty `Vec`; values
/// are never NaN: a metric whose sums overflow into `∞ − ∞` (values near `f64::MAX`) is
/// omitted. Metrics come in [`QualityMetric`] order. Two passes (the second only for R²),
/// no allocation besides the result.
#[must_use]
pub fn regression(predicted: &[f64], actual: &[f64]) -> Vec<(QualityMetric, f64)> {
    let rows = || {
        predicted
            .iter()
            .zip(actual)
            .filter(|(p, a)| p.is_finite() && a.is_finite())
            .map(|(&p, &a)| (p, a))
    };
    let mut count = 0_u64;
    let mut nonzero = 0_u64;
    let mut absolute = Sum::default();
    let mut squared = Sum::default();
    let mut signed = Sum::default();
    let mut relative = Sum::default();
    let mut targets = Sum::default();
    let (mut lowest, mut highest) = (f64::INFINITY, f64::NEG_INFINITY);
    for (p, a) in rows() {
        let error = a - p;
        count += 1;
        absolute.add(error.abs());
        squared.add(error * error);
        signed.add(error);
        if a != 0.0 {
            nonzero += 1;
            relative.add(error.abs() / a.abs());
        }
        targets.add(a);
        lowest = lowest.min(a);
        highest = highest.max(a);
    }
    if count == 0 {
        return Vec::new();
    }
    let n = count as f64;

    let mut metrics = Vec::with_capacity(5);
    metrics.push((QualityMetric::Mae, absolute.total() / n));
    metrics.push((QualityMetric::Rmse, (squared.total() / n).sqrt()));
    if nonzero > 0 {
        metrics.push((QualityMetric::Mape, relative.total() / nonzero as f64));
    }
    metrics.push((QualityMetric::MeanError, signed.total() / n));
    if count >= 2 {
        let residual = squared.total();
        // An exact test for a constant target: its computed mean may be an ulp off, which
        // would make the spread tiny but nonzero and R² astronomically negative.
        let spread = if lowest == highest {
            0.0
        } else {
            let mean = targets.total() / n;
            let mut spread = Sum::default();
            for (_, a) in rows() {
                spread.add((a - mean) * (a - mean));
            }
            spread.total()
        };
        let r2 = match (spread == 0.0, residual == 0.0) {
            (true, true) => 1.0,
            (true, false) => 0.0,
            (false, _) => 1.0 - residual / spread,
        };
        metrics.push((QualityMetric::R2, r2));
    }
    metrics.retain(|(_, value)| !value.is_nan());
    // Errors of finite values near ±1.7e308 overflow; saturate so JSON carries a number
    // (an infinity would be `null`) and alerts still see a huge error.
    for (_, value) in &mut metrics {
        *value = value.clamp(-f64::MAX, f64::MAX);
    }
    metrics
}

/// Confusion counts of one class against all others.
#[derive(Debug, Default, Clone, Copy)]
struct ClassCounts {
    /// Rows predicted as the class that are the class.
    hits: u64,
    /// Rows predicted as the class.
    predicted: u64,
    /// Rows that are the class.
    actual: u64,
}

impl ClassCounts {
    fn one_vs_rest(predicted: &[u32], actual: &[u32], class: u32) -> Self {
        let mut counts = Self::default();
        for (&p, &a) in predicted.iter().zip(actual) {
            counts.predicted += u64::from(p == class);
            counts.actual += u64::from(a == class);
            counts.hits += u64::from(p == class && a == class);
        }
        counts
    }

    /// `[precision, recall, F1]` with sklearn's formulas: F1 = 2·tp / (actual + predicted).
    fn scores(self) -> [f64; 3] {
        [
            ratio(self.hits, self.predicted),
            ratio(self.hits, self.actual),
            ratio(2 * self.hits, self.actual + self.predicted),
        ]
    }
}

/// Macro-averaged `[precision, recall, F1]` over the classes in `actual ∪ predicted`, in
/// ascending class order like sklearn's `unique_labels`.
fn macro_scores(predicted: &[u32], actual: &[u32]) -> [f64; 3] {
    let mut table = BTreeMap::<u32, ClassCounts>::new();
    for (&p, &a) in predicted.iter().zip(actual) {
        table.entry(p).or_default().predicted += 1;
        let counts = table.entry(a).or_default();
        counts.actual += 1;
        counts.hits += u64::from(p == a);
    }
    let mut sums = [0.0; 3];
    for counts in table.values() {
        for (sum, score) in sums.iter_mut().zip(counts.scores()) {
            *sum += score;
        }
    }
    sums.map(|sum| sum / table.len() as f64)
}

/// `numerator / denominator`, or 0.0 for a zero denominator (sklearn's `zero_division`).
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// ROC AUC as the Mann–Whitney statistic `P(score⁺ > score⁻) + ½·P(score⁺ = score⁻)`, which
/// equals sklearn's trapezoidal area exactly; counted in integers, so the only rounding is
/// the final division. `None` unless both classes occur among the non-NaN rows.
pub(crate) fn roc_auc(actual: &[u32], positive: u32, probability: &[f64]) -> Option<f64> {
    // `+ 0.0` turns −0.0 into 0.0: they tie (numpy compares them equal), and `total_cmp`
    // would otherwise order them.
    let mut scored: Vec<(f64, bool)> = probability
        .iter()
        .zip(actual)
        .filter(|(p, _)| !p.is_nan())
        .map(|(&p, &a)| (p + 0.0, a == positive))
        .collect();
    let positives = scored
        .iter()
        .filter(|&&(_, is_positive)| is_positive)
        .count() as u128;
    let negatives = scored.len() as u128 - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    scored.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Twice the U statistic: each positive scores 2 per negative below it, 1 per tie.
    let mut doubled_u = 0_u128;
    let mut negatives_below = 0_u128;
    for tied in scored.chunk_by(|a, b| a.0 == b.0) {
        let tied_positives = tied.iter().filter(|&&(_, is_positive)| is_positive).count() as u128;
        let tied_negatives = tied.len() as u128 - tied_positives;
        doubled_u += tied_positives * (2 * negatives_below + tied_negatives);
        negatives_below += tied_negatives;
    }
    Some(doubled_u as f64 / (2 * positives * negatives) as f64)
}

/// Binary log loss with sklearn's clipping of each class probability to `[ε, 1 − ε]`;
/// `None` when every probability is NaN.
fn log_loss(actual: &[u32], positive: u32, probability: &[f64]) -> Option<f64> {
    let mut loss = Sum::default();
    let mut rows = 0_u64;
    for (&p, &a) in probability.iter().zip(actual) {
        if p.is_nan() {
            continue;
        }
        let of_actual = if a == positive { p } else { 1.0 - p };
        loss.add(-of_actual.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln());
        rows += 1;
    }
    (rows > 0).then(|| loss.total() / rows as f64)
}

/// Neumaier-compensated sum: error independent of the number of terms.
#[derive(Debug, Default, Clone, Copy)]
struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    fn add(&mut self, value: f64) {
        let sum = self.sum + value;
        self.compensation += if self.sum.abs() >= value.abs() {
            (self.sum - sum) + value
        } else {
            (value - sum) + self.sum
        };
        self.sum = sum;
    }

    /// The sum; once it overflows, the (meaningless) compensation is dropped.
    fn total(self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}
