//! The labelled stream: rows whose ground truth is known, either sent inline with the row or
//! joined later by id (`POST /v1/monitors/{monitor}/labels`).
//!
//! Labelled rows form their own windows (same size/step as the monitor's window, timed by when
//! the label arrived), because labels arrive late: by the time a prediction's label comes, the
//! feature window it belonged to has usually been published. Each labelled window yields target
//! drift, concept drift and model quality, all against the reference computed once at start-up.

pub mod concept;
pub mod estimate;
pub mod join;
pub mod quality;

use serde::{Deserialize, Serialize};

use crate::check::ColumnCheck;
use crate::check::report::{ColumnReport, rfc3339, unix_now};
use crate::column::{ColumnData, INVALID_CODE, MISSING_CODE};
use crate::stats::ks;
use crate::window::ClosedWindow;
use concept::ConceptTest;
use quality::QualityMetric;

/// Prediction code that matches no target class (a predicted class the reference's target
/// never had).
pub const NO_CLASS: u32 = u32::MAX - 2;

/// What the labelled stream compares against, fixed at start-up.
#[derive(Debug, Clone)]
pub struct LabelledModel {
    /// Target drift check (the target column's reference profile and test).
    pub target: ColumnCheck,
    /// Concept-drift and quality reference; `None` without a prediction column.
    pub task: Option<Task>,
    /// Whether labelled windows carry a probability column (third column).
    pub has_probability: bool,
    /// Significance level of the concept-drift tests.
    pub concept_threshold: f64,
    /// Relative degradation of a quality metric that counts as degraded.
    pub quality_tolerance: f64,
    /// Model quality on the reference data.
    pub reference_quality: Vec<(QualityMetric, f64)>,
    /// Estimates feature windows' quality without labels; binary classifiers with a
    /// probability column only.
    pub estimator: Option<estimate::Cbpe>,
}

/// The model's task, with the reference statistics concept drift needs.
#[derive(Debug, Clone)]
pub enum Task {
    /// Categorical prediction and target.
    Classification(ClassificationReference),
    /// Numerical prediction and target.
    Regression(RegressionReference),
}

/// Reference statistics of a classifier.
#[derive(Debug, Clone)]
pub struct ClassificationReference {
    /// Prediction code → target code of the same class ([`NO_CLASS`] when none).
    pub prediction_to_target: Vec<u32>,
    /// Target code of the positive class for binary metrics; `None` = multiclass (macro).
    pub positive: Option<u32>,
    /// `[prediction code][target code]` row counts of the reference.
    pub conditional: Vec<Vec<u64>>,
    /// Misclassified reference rows.
    pub errors: u64,
    /// Reference rows with both prediction and target.
    pub rows: u64,
}

/// Reference statistics of a regressor.
#[derive(Debug, Clone)]
pub struct RegressionReference {
    /// Residuals y − ŷ of the reference, ascending.
    pub residuals_sorted: Vec<f64>,
}

/// The published result of one labelled window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelledReport {
    /// Labelled-window sequence number.
    pub seq: u64,
    /// Window start (RFC 3339, label arrival time).
    pub start: String,
    /// Window end (RFC 3339).
    pub end: String,
    /// Labelled rows in the window.
    pub rows: usize,
    /// Rows with both a prediction and a target (what concept drift and quality use).
    pub scored_rows: usize,
    /// When the evaluation finished (RFC 3339).
    pub evaluated_at: String,
    /// Target drift.
    pub target: ColumnReport,
    /// Concept drift; absent without a prediction column or scored rows.
    pub concept: Option<ConceptReport>,
    /// Model quality of the window against the reference.
    pub quality: Vec<QualityReport>,
}

/// Concept drift of one labelled window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConceptReport {
    /// The tests run, by name.
    pub tests: Vec<NamedTest>,
    /// Significance level (split evenly across the tests: Bonferroni).
    pub threshold: f64,
    /// Some test's p-value fell below threshold / number of tests.
    pub drifted: bool,
}

/// A concept-drift test result with its label value.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct NamedTest {
    /// Which test.
    pub test: ConceptTestName,
    /// The outcome.
    #[serde(flatten)]
    pub result: ConceptTest,
}

/// The concept-drift tests, as named in JSON and metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptTestName {
    /// Stratified chi-square of P(y | ŷ).
    LabelGivenPrediction,
    /// Two-proportion z-test of the error rate.
    ErrorRate,
    /// KS test of regression residuals.
    ResidualKs,
}

impl ConceptTestName {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConceptTestName::LabelGivenPrediction => "label_given_prediction",
            ConceptTestName::ErrorRate => "error_rate",
            ConceptTestName::ResidualKs => "residual_ks",
        }
    }
}

/// One quality metric, current window vs reference.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct QualityReport {
    /// Metric.
    pub metric: QualityMetric,
    /// Value in this window.
    pub current: f64,
    /// Value on the reference (absent when undefined there).
    pub reference: Option<f64>,
    /// Worse than the reference by more than the tolerance (never for `mean_error`, whose
    /// sign, not size, is the point).
    pub degraded: bool,
}

/// One quality metric estimated without labels (CBPE) for a feature window.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct EstimatedQuality {
    /// Metric.
    pub metric: QualityMetric,
    /// Estimated value in this window.
    pub estimated: f64,
    /// Realised value on the reference (absent when undefined there).
    pub reference: Option<f64>,
    /// The estimate is worse than the reference by more than the tolerance.
    pub degraded: bool,
}

impl LabelledModel {
    /// Estimated quality of a feature window from its prediction and probability columns,
    /// by CBPE; empty without an estimator or a usable row. Rows whose prediction is missing
    /// or invalid, or whose probability is not a number, are left out.
    pub fn estimate(
        &self,
        prediction: &ColumnData,
        probability: &ColumnData,
    ) -> Vec<EstimatedQuality> {
        let (
            Some(estimator),
            Some(Task::Classification(reference)),
            ColumnData::Categorical(predictions),
            ColumnData::Numeric(scores),
        ) = (&self.estimator, &self.task, prediction, probability)
        else {
            return Vec::new();
        };
        let Some(positive) = reference.positive else {
            return Vec::new();
        };
        let (mut predicted, mut kept) = (Vec::new(), Vec::new());
        for (&p, &score) in predictions.iter().zip(scores) {
            if valid_code(p) && score.is_finite() {
                predicted.push(reference.class_of(p) == positive);
                kept.push(score);
            }
        }
        estimator
            .estimate(&predicted, &kept)
            .into_iter()
            .map(|(metric, estimated)| {
                let reference = self.reference_value(metric);
                EstimatedQuality {
                    metric,
                    estimated,
                    reference,
                    degraded: reference.is_some_and(|r| self.degraded(metric, estimated, r)),
                }
            })
            .collect()
    }

    fn reference_value(&self, metric: QualityMetric) -> Option<f64> {
        self.reference_quality
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|&(_, v)| v)
    }

    /// The error value fed to the online detector for one labelled row: 0/1 for a classifier,
    /// |y − ŷ| for a regressor; `None` when the row lacks a prediction or a target.
    pub fn error(&self, prediction: &ColumnData, target: &ColumnData, row: usize) -> Option<f64> {
        match (&self.task, prediction, target) {
            (
                Some(Task::Classification(c)),
                ColumnData::Categorical(p),
                ColumnData::Categorical(t),
            ) => {
                let (p, t) = (p[row], t[row]);
                valid_code(p).then_some(())?;
                valid_code(t).then_some(())?;
                Some(f64::from(c.class_of(p) != t))
            }
            (Some(Task::Regression(_)), ColumnData::Numeric(p), ColumnData::Numeric(t)) => {
                let (p, t) = (p[row], t[row]);
                (p.is_finite() && t.is_finite()).then(|| (t - p).abs())
            }
            _ => None,
        }
    }

    /// Evaluates one labelled window (columns: prediction, target, then probability if any).
    pub fn evaluate(&self, window: &ClosedWindow) -> LabelledReport {
        let target = ColumnReport::new(
            &self.target.name,
            self.target.evaluate(&window.columns[1]),
            window.rows,
        );
        let probability = match window.columns.get(2) {
            Some(ColumnData::Numeric(p)) if self.has_probability => Some(p.as_slice()),
            _ => None,
        };
        let (scored_rows, concept, current) =
            match (&self.task, &window.columns[0], &window.columns[1]) {
                (
                    Some(Task::Classification(c)),
                    ColumnData::Categorical(p),
                    ColumnData::Categorical(t),
                ) => self.classification(c, p, t, probability),
                (Some(Task::Regression(r)), ColumnData::Numeric(p), ColumnData::Numeric(t)) => {
                    self.regression(r, p, t)
                }
                _ => (0, None, Vec::new()),
            };
        let quality = current
            .into_iter()
            .map(|(metric, value)| {
                let reference = self.reference_value(metric);
                QualityReport {
                    metric,
                    current: value,
                    reference,
                    degraded: reference.is_some_and(|r| self.degraded(metric, value, r)),
                }
            })
            .collect();
        LabelledReport {
            seq: window.seq,
            start: rfc3339(window.start),
            end: rfc3339(window.end),
            rows: window.rows,
            scored_rows,
            evaluated_at: rfc3339(unix_now()),
            target,
            concept,
            quality,
        }
    }

    fn classification(
        &self,
        reference: &ClassificationReference,
        predictions: &[u32],
        targets: &[u32],
        probability: Option<&[f64]>,
    ) -> (usize, Option<ConceptReport>, Vec<(QualityMetric, f64)>) {
        let (mut predicted, mut actual, mut probabilities) = (Vec::new(), Vec::new(), Vec::new());
        let mut conditional: Vec<Vec<u64>> = vec![Vec::new(); reference.conditional.len()];
        let mut errors = 0u64;
        for (i, (&p, &t)) in predictions.iter().zip(targets).enumerate() {
            if !(valid_code(p) && valid_code(t)) {
                continue;
            }
            let class = reference.class_of(p);
            predicted.push(class);
            actual.push(t);
            if let Some(probability) = probability {
                probabilities.push(probability[i]);
            }
            errors += u64::from(class != t);
            if let Some(row) = conditional.get_mut(p as usize) {
                if row.len() <= t as usize {
                    row.resize(t as usize + 1, 0);
                }
                row[t as usize] += 1;
            }
        }
        if predicted.is_empty() {
            return (0, None, Vec::new());
        }
        let tests = vec![
            NamedTest {
                test: ConceptTestName::LabelGivenPrediction,
                result: concept::conditional_labels(&reference.conditional, &conditional),
            },
            NamedTest {
                test: ConceptTestName::ErrorRate,
                result: concept::error_rate(
                    reference.errors,
                    reference.rows,
                    errors,
                    predicted.len() as u64,
                ),
            },
        ];
        let probability = probability.map(|_| probabilities.as_slice());
        let quality = quality::classification(&predicted, &actual, reference.positive, probability);
        (predicted.len(), Some(self.concept_report(tests)), quality)
    }

    fn regression(
        &self,
        reference: &RegressionReference,
        predictions: &[f64],
        targets: &[f64],
    ) -> (usize, Option<ConceptReport>, Vec<(QualityMetric, f64)>) {
        let (mut predicted, mut actual) = (Vec::new(), Vec::new());
        for (&p, &t) in predictions.iter().zip(targets) {
            if p.is_finite() && t.is_finite() {
                predicted.push(p);
                actual.push(t);
            }
        }
        if predicted.is_empty() {
            return (0, None, Vec::new());
        }
        let mut residuals: Vec<f64> = actual.iter().zip(&predicted).map(|(t, p)| t - p).collect();
        residuals.sort_unstable_by(f64::total_cmp);
        let ks = ks::ks_2samp(&reference.residuals_sorted, &residuals);
        let tests = vec![NamedTest {
            test: ConceptTestName::ResidualKs,
            result: ConceptTest {
                score: ks.statistic,
                p_value: ks.p_value,
            },
        }];
        (
            predicted.len(),
            Some(self.concept_report(tests)),
            quality::regression(&predicted, &actual),
        )
    }

    fn concept_report(&self, tests: Vec<NamedTest>) -> ConceptReport {
        let per_test = self.concept_threshold / tests.len() as f64;
        let drifted = tests.iter().any(|t| t.result.p_value < per_test);
        ConceptReport {
            tests,
            threshold: self.concept_threshold,
            drifted,
        }
    }

    fn degraded(&self, metric: QualityMetric, current: f64, reference: f64) -> bool {
        if metric == QualityMetric::MeanError {
            return false;
        }
        let margin = self.quality_tolerance * reference.abs();
        if metric.higher_is_better() {
            current < reference - margin
        } else {
            current > reference + margin
        }
    }
}

impl ClassificationReference {
    /// Builds the reference from aligned prediction/target/probability codes of the reference
    /// rows (rows missing either code are skipped).
    pub fn new(
        prediction_to_target: Vec<u32>,
        positive: Option<u32>,
        predictions: &[u32],
        targets: &[u32],
    ) -> Self {
        let mut conditional = vec![Vec::new(); prediction_to_target.len()];
        let (mut errors, mut rows) = (0, 0);
        for (&p, &t) in predictions.iter().zip(targets) {
            let row: &mut Vec<u64> = &mut conditional[p as usize];
            if row.len() <= t as usize {
                row.resize(t as usize + 1, 0);
            }
            row[t as usize] += 1;
            errors += u64::from(prediction_to_target[p as usize] != t);
            rows += 1;
        }
        Self {
            prediction_to_target,
            positive,
            conditional,
            errors,
            rows,
        }
    }

    /// The target-space class of a prediction code.
    pub fn class_of(&self, prediction: u32) -> u32 {
        self.prediction_to_target
            .get(prediction as usize)
            .copied()
            .unwrap_or(NO_CLASS)
    }
}

fn valid_code(code: u32) -> bool {
    code != MISSING_CODE && code != INVALID_CODE
}
