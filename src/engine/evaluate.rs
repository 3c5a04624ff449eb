//! Evaluates one closed window: every column's test plus the dataset-level verdict.
//!
//! Pure and synchronous: the monitor runs it on a blocking thread so large windows never stall
//! the HTTP runtime. The criterion bench in `benches/` measures exactly this function.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::check::report::{ColumnReport, DatasetDrift, rfc3339, unix_now};
use crate::check::{self, ColumnCheck, ColumnOutcome, Role};
use crate::engine::latency::LatencyReport;
use crate::labelled::EstimatedQuality;
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
    /// Quality estimated without labels (CBPE; binary classifiers with a probability column).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub estimated: Vec<EstimatedQuality>,
    /// The window's prediction latencies, when the monitor has a `latency` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyReport>,
}

/// Runs every check against the window. `checks[i]` reads `window.columns[i]`; target checks
/// belong to labelled windows ([`crate::labelled`]) and are not passed here.
pub fn evaluate(checks: &[ColumnCheck], drift_share: f64, window: &ClosedWindow) -> WindowReport {
    let started = std::time::Instant::now();
    // Columns are independent: test them on all cores (rayon's pool, sized to the machine).
    let mut outcomes: Vec<ColumnOutcome> = match &window.binned {
        Some(binned) => checks
            .par_iter()
            .zip(binned.par_iter())
            .map(|(check, counts)| check.evaluate_binned(counts))
            .collect(),
        None => checks
            .par_iter()
            .zip(window.columns.par_iter())
            .map(|(check, data)| check.evaluate(data))
            .collect(),
    };
    // Their verdicts are not: each family's p-values are corrected together.
    let mut paired: Vec<_> = checks.iter().zip(outcomes.iter_mut()).collect();
    check::decide_families(&mut paired);
    let (mut features, mut predictions) = (Vec::new(), Vec::new());
    for (check, outcome) in checks.iter().zip(outcomes) {
        let report = ColumnReport::new(&check.name, outcome, window.rows);
        match check.role {
            Role::Feature => features.push(report),
            // The latency check is evaluated by `MonitorModel::evaluate`, never passed here.
            Role::Prediction | Role::Target | Role::Latency => predictions.push(report),
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
        estimated: Vec::new(),
        latency: None,
    }
}
