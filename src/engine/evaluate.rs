//! Evaluates one closed window: every column's test plus the dataset-level verdict.
//!
//! Pure and synchronous: the monitor runs it on a blocking thread so large windows never stall
//! the HTTP runtime. The criterion bench in `benches/` measures exactly this function.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::check::{self, ColumnCheck, ColumnOutcome, Role};
use crate::window::ClosedWindow;

/// The published result of one window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WindowReport {
    /// Window sequence number within the monitor.
    pub seq: u64,
    /// Window start (RFC 3339).
    pub start: String,
    /// Window end (RFC 3339).
    pub end: String,
    /// Rows in the window.
    pub rows: usize,
    /// When the evaluation finished (RFC 3339).
    pub evaluated_at: String,
    /// Evaluation time in seconds.
    pub evaluation_seconds: f64,
    /// Dataset-level drift over the features.
    pub dataset: DatasetDrift,
    /// Per-feature results, in config order.
    pub features: Vec<ColumnReport>,
    /// Prediction drift: the prediction column and the probability column, when configured.
    pub predictions: Vec<ColumnReport>,
}

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

/// Runs every check against the window. `checks[i]` reads `window.columns[i]`; target checks
/// belong to labelled windows ([`crate::labelled`]) and are not passed here.
pub fn evaluate(checks: &[ColumnCheck], drift_share: f64, window: &ClosedWindow) -> WindowReport {
    let started = std::time::Instant::now();
    // Columns are independent: test them on all cores (rayon's pool, sized to the machine).
    let mut outcomes: Vec<ColumnOutcome> = checks
        .par_iter()
        .zip(window.columns.par_iter())
        .map(|(check, data)| check.evaluate(data.into()))
        .collect();
    // Their verdicts are not: each family's p-values are corrected together.
    let mut paired: Vec<_> = checks.iter().zip(outcomes.iter_mut()).collect();
    check::decide_families(&mut paired);
    let (mut features, mut predictions) = (Vec::new(), Vec::new());
    for (check, outcome) in checks.iter().zip(outcomes) {
        let report = ColumnReport::new(&check.name, outcome, window.rows);
        match check.role {
            Role::Feature => features.push(report),
            Role::Prediction | Role::Target => predictions.push(report),
        }
    }
    let evaluated = features
        .iter()
        .filter(|f| f.outcome.score.is_some())
        .count();
    let drifted = features.iter().filter(|f| f.outcome.drifted).count();
    let share = if evaluated == 0 {
        0.0
    } else {
        drifted as f64 / evaluated as f64
    };
    let dataset = DatasetDrift {
        drift_share: share,
        drifted: evaluated > 0 && share >= drift_share,
        drifted_features: drifted,
        features_evaluated: evaluated,
        threshold: drift_share,
    };
    WindowReport {
        seq: window.seq,
        start: rfc3339(window.start),
        end: rfc3339(window.end),
        rows: window.rows,
        evaluated_at: rfc3339(unix_now()),
        evaluation_seconds: started.elapsed().as_secs_f64(),
        dataset,
        features,
        predictions,
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
