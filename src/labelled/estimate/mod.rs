//! Estimated model quality without labels: confidence-based performance estimation (CBPE).
//!
//! A binary classifier's probability of the positive class, once calibrated, is the chance
//! that the row is positive; so a window's expected confusion matrix follows from its
//! predictions and probabilities alone: a row predicted positive adds `p` to the true
//! positives and `1 − p` to the false positives, a row predicted negative `p` to the false
//! negatives and `1 − p` to the true negatives. Accuracy, precision, recall and F1 are those
//! of the expected matrix; ROC AUC is the area under the expected ROC curve, ranked by the
//! model's own (uncalibrated) score.
//!
//! Reference implementation: NannyML 0.13's CBPE (`tools/golden/gen_cbpe.py`,
//! `tests/golden/cbpe.json`). Same calibration (isotonic, [`isotonic`]), applied only when it
//! lowers the reference's out-of-sample calibration error (NannyML's rule; deterministic folds
//! here), same formulas, with these differences:
//! - ROC AUC takes tied scores as one step of the curve; NannyML walks them one by one in
//!   `argsort` order. Tied scores have the same calibrated probability, so both paths are the
//!   same straight line. NannyML also rounds the cumulative counts to 5 decimals (about 1e-8
//!   on the area).
//! - Without calibration, probabilities are clipped to `[0, 1]` so the matrix stays a matrix.
//! - Rows without a usable probability or prediction are left out (NannyML drops NaN rows).
//!
//! The estimate is only as good as its assumptions: calibrated probabilities on the reference
//! and no concept drift (P(y | score) unchanged); README "Estimated performance" says more.

pub mod isotonic;

#[cfg(test)]
mod tests;

use super::quality::{self, QualityMetric};
use isotonic::Isotonic;

/// The metrics CBPE estimates, in the order [`expected_quality`] returns them.
pub const METRICS: [QualityMetric; 5] = [
    QualityMetric::Accuracy,
    QualityMetric::Precision,
    QualityMetric::Recall,
    QualityMetric::F1,
    QualityMetric::RocAuc,
];

/// What CBPE learns from the reference: how to turn scores into probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Cbpe {
    /// The isotonic map, or `None` when calibrating would not help (scores used as they are).
    pub calibrator: Option<Isotonic>,
}

impl Cbpe {
    /// Learns from the reference's positive-class scores and whether each row was positive;
    /// rows with a non-finite score are skipped.
    #[must_use]
    pub fn fit(scores: &[f64], positive: &[bool]) -> Self {
        let outcomes: Vec<f64> = positive.iter().map(|&p| f64::from(u8::from(p))).collect();
        let classes: Vec<u32> = positive.iter().map(|&p| u32::from(p)).collect();
        let auc = quality::roc_auc(&classes, 1, scores);
        let calibrator = isotonic::improves_calibration(scores, &outcomes, auc)
            .then(|| Isotonic::fit(scores, &outcomes))
            .flatten();
        Self { calibrator }
    }

    /// The calibrated probability of one score (clipped to `[0, 1]` without calibration).
    #[must_use]
    pub fn probability(&self, score: f64) -> f64 {
        match &self.calibrator {
            Some(map) => map.calibrate(score),
            None => score.clamp(0.0, 1.0),
        }
    }

    /// Estimated quality of rows given as (predicted positive, model score); rows with a
    /// non-finite score are skipped. See [`expected_quality`].
    #[must_use]
    pub fn estimate(
        &self,
        predicted_positive: &[bool],
        scores: &[f64],
    ) -> Vec<(QualityMetric, f64)> {
        let (mut predicted, mut kept, mut probability) = (Vec::new(), Vec::new(), Vec::new());
        for (&p, &score) in predicted_positive.iter().zip(scores) {
            if score.is_finite() {
                predicted.push(p);
                kept.push(score);
                probability.push(self.probability(score));
            }
        }
        expected_quality(&predicted, &probability, &kept)
    }
}

/// Accuracy, precision, recall, F1 and ROC AUC of the expected confusion matrix, in
/// [`QualityMetric`] order, from each row's prediction, calibrated probability of being
/// positive and model score (which ranks rows for ROC AUC). A zero denominator gives 0.0, as
/// for realised quality; ROC AUC is omitted when the expected positives or negatives are 0.
/// Empty input gives an empty `Vec`. Slices are cut to their common length. O(n log n).
#[must_use]
pub fn expected_quality(
    predicted_positive: &[bool],
    probability: &[f64],
    scores: &[f64],
) -> Vec<(QualityMetric, f64)> {
    let rows = predicted_positive
        .len()
        .min(probability.len())
        .min(scores.len());
    if rows == 0 {
        return Vec::new();
    }
    let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
    for (&predicted, &p) in predicted_positive[..rows].iter().zip(probability) {
        if predicted {
            tp += p;
            fp += 1.0 - p;
        } else {
            fn_ += p;
            tn += 1.0 - p;
        }
    }
    let ratio = |numerator: f64, denominator: f64| {
        if denominator == 0.0 {
            0.0
        } else {
            numerator / denominator
        }
    };
    let mut metrics = vec![
        (QualityMetric::Accuracy, (tp + tn) / rows as f64),
        (QualityMetric::Precision, ratio(tp, tp + fp)),
        (QualityMetric::Recall, ratio(tp, tp + fn_)),
        (QualityMetric::F1, ratio(tp, tp + 0.5 * (fp + fn_))),
    ];
    if let Some(auc) = expected_roc_auc(&probability[..rows], &scores[..rows]) {
        metrics.push((QualityMetric::RocAuc, auc));
    }
    metrics
}

/// Area under the expected ROC curve: rows by descending score, each adding its probability
/// to the expected true positives and the rest to the false positives; tied scores form one
/// step (trapezoid). `None` when either expected total is 0.
fn expected_roc_auc(probability: &[f64], scores: &[f64]) -> Option<f64> {
    let mut rows: Vec<(f64, f64)> = scores
        .iter()
        .zip(probability)
        .map(|(&s, &p)| (s + 0.0, p))
        .collect();
    rows.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut area) = (0.0, 0.0, 0.0);
    for tied in rows.chunk_by(|a, b| a.0 == b.0) {
        let step_tp: f64 = tied.iter().map(|r| r.1).sum();
        let step_fp = tied.len() as f64 - step_tp;
        area += step_fp * (tp + 0.5 * step_tp);
        tp += step_tp;
        fp += step_fp;
    }
    (tp > 0.0 && fp > 0.0).then(|| area / (tp * fp))
}
