//! What a monitor is, as opposed to what it has seen: its config, its column checks and the
//! reference statistics behind them. Immutable while the monitor runs; a reload builds a new
//! one. [`crate::engine::state`] holds everything that changes.

use std::sync::Arc;

use crate::check::{ColumnCheck, Role};
use crate::column::ColumnData;
use crate::config::{IngestLimits, MonitorSpec, Window};
use crate::engine::evaluate::{self, WindowReport};
use crate::engine::latency::LatencyModel;
use crate::ingest::rows::Schema;
use crate::labelled::{EstimatedQuality, LabelledModel};
use crate::reference::profile::ReferenceProfile;
use crate::stats::finebins::FineBins;
use crate::window::ClosedWindow;
use crate::window::panes::ColumnBins;

/// Where the prediction-related columns sit among the monitor's checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ColumnRoles {
    /// Index of the prediction column.
    pub prediction: Option<usize>,
    /// Index of the probability column.
    pub probability: Option<usize>,
    /// Index of the target column (always the last check).
    pub target: Option<usize>,
}

/// What a monitor is built from: everything derived from its reference file.
#[derive(Debug)]
pub struct MonitorProfile {
    /// Column checks (features, prediction, probability, target).
    pub checks: Vec<ColumnCheck>,
    /// Positions of prediction, probability and target among `checks`.
    pub roles: ColumnRoles,
    /// Target drift, concept drift and quality over labelled windows; `None` without a target.
    pub labelled: Option<LabelledModel>,
    /// The latency column's drift test, when the monitor has one and the reference holds it.
    pub latency_check: Option<ColumnCheck>,
    /// Rows in the reference file.
    pub reference_rows: usize,
    /// SHA-256 of the reference file's bytes (hex): state coded against another file is not
    /// reused.
    pub fingerprint: String,
}

/// A monitor's fixed part, shared by ingest, evaluation and persistence.
#[derive(Debug)]
pub struct MonitorModel {
    /// The monitor's config.
    pub spec: MonitorSpec,
    /// The validated window.
    pub window: Window,
    /// Column checks (features, prediction, probability, target).
    pub checks: Arc<Vec<ColumnCheck>>,
    /// Names of the checks, in order: the column order of parsed batches.
    pub columns: Vec<String>,
    /// How request rows map to columns.
    pub schema: Schema,
    /// Rows in the reference file.
    pub reference_rows: usize,
    /// SHA-256 of the reference file (hex).
    pub fingerprint: String,
    /// Positions of prediction, probability and target among `checks`.
    pub roles: ColumnRoles,
    /// Target drift, concept drift and quality over labelled windows; `None` without a target.
    pub labelled: Option<Arc<LabelledModel>>,
    /// Limits on what one request or one column can make the monitor hold.
    pub limits: IngestLimits,
    /// The latency column: its values ride in the feature window after every check's column.
    pub latency: Option<LatencyModel>,
}

impl MonitorModel {
    /// The model of `spec` with the checks of `profile`.
    pub fn new(
        spec: MonitorSpec,
        window: Window,
        profile: MonitorProfile,
        limits: IngestLimits,
    ) -> Self {
        let MonitorProfile {
            checks,
            roles,
            labelled,
            latency_check,
            reference_rows,
            fingerprint,
        } = profile;
        let mut schema = Schema::new(
            checks.iter().map(|c| (c.name.as_str(), &*c.reference)),
            spec.timestamp.as_deref(),
            spec.id.as_deref(),
        )
        .with_limits(limits);
        let latency = spec.latency.as_ref().map(|l| LatencyModel {
            column: l.column.clone(),
            units_per_second: l.unit.per_second(),
            slow_seconds: spec.alerting.slow_prediction_seconds,
            check: latency_check,
        });
        if let Some(l) = &latency {
            schema = schema.with_latency(&l.column);
        }
        Self {
            columns: checks.iter().map(|c| c.name.clone()).collect(),
            spec,
            window,
            checks: Arc::new(checks),
            schema,
            reference_rows,
            fingerprint,
            roles,
            labelled: labelled.map(Arc::new),
            limits,
            latency,
        }
    }

    /// The monitor's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Empty columns shaped like the feature window: every check but the target, then the
    /// latency column when the monitor has one.
    pub fn feature_template(&self) -> Vec<ColumnData> {
        let mut columns: Vec<ColumnData> = self
            .checks
            .iter()
            .filter(|c| c.role != Role::Target)
            .map(empty_column)
            .collect();
        if self.latency.is_some() {
            columns.push(ColumnData::Numeric(Vec::new()));
        }
        columns
    }

    /// Evaluates a feature window: every check, the dataset verdict, the latency summary and the
    /// estimated quality.
    pub fn evaluate(&self, window: &ClosedWindow) -> WindowReport {
        // The target (always last) belongs to labelled windows; left in, it would be paired
        // with the latency column that follows the window's other columns.
        let checks = &self.checks[..self.roles.target.unwrap_or(self.checks.len())];
        let mut report = evaluate::evaluate(checks, self.spec.drift_share, window);
        report.latency = self
            .latency
            .as_ref()
            .zip(self.latency_values(window))
            .map(|(latency, values)| latency.report(values, window.rows));
        report.estimated = self.estimate(window);
        report
    }

    /// The latency column of a feature window (its last column), when the monitor has one.
    pub fn latency_values<'w>(&self, window: &'w ClosedWindow) -> Option<&'w ColumnData> {
        self.latency.as_ref().and(window.columns.last())
    }

    /// How a binned feature window counts each column (`window.summary: binned`): numeric
    /// columns over fine bins anchored on their reference, categorical ones per code.
    pub fn feature_bins(&self) -> Vec<ColumnBins> {
        let fine_bins = self.spec.window.fine_bins();
        self.checks
            .iter()
            .filter(|c| c.role != Role::Target)
            .map(|check| column_bins(check, fine_bins))
            .collect()
    }

    /// Labelled-window columns: prediction (a NaN placeholder column when none is configured),
    /// target, and probability when configured. `None` without a target.
    pub fn labelled_template(&self) -> Option<Vec<ColumnData>> {
        let target = self.roles.target?;
        let mut columns = vec![
            self.roles
                .prediction
                .map_or(ColumnData::Numeric(Vec::new()), |p| {
                    empty_column(&self.checks[p])
                }),
            empty_column(&self.checks[target]),
        ];
        if self.roles.probability.is_some() {
            columns.push(ColumnData::Numeric(Vec::new()));
        }
        Some(columns)
    }

    /// Quality of a feature window estimated from its prediction and probability columns
    /// (CBPE); empty unless the reference made an estimator. Feature windows hold every check
    /// but the target, which is last, so check indexes are column indexes. Binned windows keep
    /// counts per column, not the rows pairing predictions with probabilities: no estimate.
    pub fn estimate(&self, window: &ClosedWindow) -> Vec<EstimatedQuality> {
        let (Some(labelled), Some(p), Some(q)) = (
            &self.labelled,
            self.roles.prediction,
            self.roles.probability,
        ) else {
            return Vec::new();
        };
        match (window.columns.get(p), window.columns.get(q)) {
            (Some(prediction), Some(probability)) => labelled.estimate(prediction, probability),
            _ => Vec::new(),
        }
    }

    /// Categories column `column` has in the reference (0 for numeric columns): new
    /// categories are coded from there on.
    pub fn reference_categories(&self, column: usize) -> u32 {
        match &*self.checks[column].reference {
            ReferenceProfile::Categorical(c) => c.categories.len() as u32,
            ReferenceProfile::Numeric(_) => 0,
        }
    }
}

/// How a binned window counts `check`'s column: numeric ones over `fine_bins` fine bins anchored
/// on the reference and its coarse PSI / Jensen–Shannon bins, categorical ones per code.
pub fn column_bins(check: &ColumnCheck, fine_bins: usize) -> ColumnBins {
    match &*check.reference {
        ReferenceProfile::Numeric(profile) => ColumnBins::Numeric {
            fine: Arc::new(FineBins::from_sorted(&profile.sorted, fine_bins)),
            coarse_edges: profile.edges.clone(),
            min: profile.sorted.first().copied().unwrap_or(f64::NEG_INFINITY),
            max: profile.sorted.last().copied().unwrap_or(f64::INFINITY),
        },
        ReferenceProfile::Categorical(_) => ColumnBins::Categorical,
    }
}

fn empty_column(check: &ColumnCheck) -> ColumnData {
    match &*check.reference {
        ReferenceProfile::Numeric(_) => ColumnData::Numeric(Vec::new()),
        ReferenceProfile::Categorical(_) => ColumnData::Categorical(Vec::new()),
    }
}
