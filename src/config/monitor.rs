//! `monitors[i]`: one model's columns, tests, label join, concept drift and alerting.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::duration::de_duration;
use super::latency::LatencySpec;
use super::test_kind::TestKind;
use super::window::WindowSpec;
use crate::stats::multipletests::Correction;

/// The monitor's alarm policy (`policy:` in `monitors.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// p-value tests, family-wise correction, effect-size floors, pooled chi-square cells.
    #[default]
    Calibrated,
    /// Evidently's matrix and fixed thresholds, uncorrected.
    Evidently,
}

impl Policy {
    /// Name used in configs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Calibrated => "calibrated",
            Policy::Evidently => "evidently",
        }
    }

    /// The correction used when the monitor names none.
    pub fn default_correction(self) -> Correction {
        match self {
            Policy::Calibrated => Correction::Holm,
            Policy::Evidently => Correction::None,
        }
    }
}

/// One monitored model: its reference data, columns, window and drift rules.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MonitorSpec {
    /// Name used in URLs and metric labels: `[A-Za-z0-9_-]`, unique.
    pub name: String,
    /// Reference data file (`.csv` or `.parquet`), relative to the config file.
    pub reference: PathBuf,
    /// Feature columns to test for drift.
    pub features: FeatureSpecs,
    /// The model's prediction column, tested for prediction drift.
    #[serde(default)]
    pub prediction: Option<ColumnSpec>,
    /// The ground-truth column, tested for target drift when rows carry it.
    #[serde(default)]
    pub target: Option<ColumnSpec>,
    /// Row id column (used to join delayed labels).
    #[serde(default)]
    pub id: Option<String>,
    /// Event-time column (unix seconds or RFC 3339). Time windows use it when set, arrival time
    /// otherwise.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Each prediction's latency: a histogram and slow-prediction count per window, and a
    /// drift test when the reference has the column.
    #[serde(default)]
    pub latency: Option<LatencySpec>,
    /// Which rows form a window.
    pub window: WindowSpec,
    /// Partitions the monitor's rows are spread over in the `ingest` and `engine` roles (keys
    /// `name#0` … `name#N-1`), so one hot monitor can use several engines; 1: not split. A
    /// single process ignores it; which monitors may be split is checked with the config.
    #[serde(default = "default_shards")]
    pub shards: u32,
    /// Dataset drift when the share of drifted features is at least this.
    #[serde(default = "default_drift_share")]
    pub drift_share: f64,
    /// Alarm policy: `calibrated` (corrected p-value tests with effect floors) or `evidently`.
    #[serde(default)]
    pub policy: Policy,
    /// Family level: the chance that a clean window raises any feature alarm (Holm,
    /// Bonferroni) or the expected share of false alarms among alarms (BH).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Correction of a window's p-values; default `holm` (calibrated) or `none` (evidently).
    #[serde(default)]
    pub correction: Option<Correction>,
    /// Default number of reference-quantile bins for `psi` and `jensenshannon`.
    #[serde(default = "default_bins")]
    pub bins: usize,
    /// How many past window summaries `GET /v1/monitors/{name}` returns.
    #[serde(default = "default_history")]
    pub history: usize,
    /// Joining delayed ground truth to earlier predictions.
    #[serde(default)]
    pub label_join: LabelJoinSpec,
    /// Concept-drift tests and the online detector.
    #[serde(default)]
    pub concept: ConceptSpec,
    /// Alert routing metadata and alert tuning.
    #[serde(default)]
    pub alerting: AlertingSpec,
}

fn default_drift_share() -> f64 {
    0.5
}
fn default_alpha() -> f64 {
    0.05
}
fn default_bins() -> usize {
    10
}
fn default_history() -> usize {
    20
}
fn default_shards() -> u32 {
    1
}

/// Feature columns by type.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpecs {
    /// Numeric features.
    #[serde(default)]
    pub numerical: Vec<FeatureSpec>,
    /// Categorical features (strings or numeric codes).
    #[serde(default)]
    pub categorical: Vec<FeatureSpec>,
}

/// A feature: either just its column name (default test) or a table with overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    /// Column name.
    pub name: String,
    /// Test override.
    pub test: Option<TestKind>,
    /// Threshold override.
    pub threshold: Option<Threshold>,
    /// Bin count override for `psi` / `jensenshannon`.
    pub bins: Option<usize>,
    /// Effect-size floor override.
    pub min_effect: Option<f64>,
}

/// Table form of [`FeatureSpec`], strict about its keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureTable {
    name: String,
    #[serde(default)]
    test: Option<TestKind>,
    #[serde(default)]
    threshold: Option<Threshold>,
    #[serde(default)]
    bins: Option<usize>,
    #[serde(default)]
    min_effect: Option<f64>,
}

impl<'de> Deserialize<'de> for FeatureSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FeatureVisitor;
        impl<'de> Visitor<'de> for FeatureVisitor {
            type Value = FeatureSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name or a table {name, test, threshold, bins, min_effect}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FeatureSpec, E> {
                Ok(FeatureSpec {
                    name: v.to_owned(),
                    test: None,
                    threshold: None,
                    bins: None,
                    min_effect: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FeatureSpec, A::Error> {
                let t = FeatureTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(FeatureSpec {
                    name: t.name,
                    test: t.test,
                    threshold: t.threshold,
                    bins: t.bins,
                    min_effect: t.min_effect,
                })
            }
        }
        deserializer.deserialize_any(FeatureVisitor)
    }
}

/// A column's `threshold`: a number, or `auto` — learned from the reference for a distance
/// test (see [`crate::check::null`]), which then yields a p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A fixed level: a p-value level, or the distance at which drift starts.
    Fixed(f64),
    /// The distance's null distribution is learned at start-up.
    Auto,
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ThresholdVisitor;
        impl Visitor<'_> for ThresholdVisitor {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or `auto`")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Threshold, E> {
                Ok(Threshold::Fixed(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold::Fixed(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold::Fixed(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Threshold, E> {
                match v {
                    "auto" => Ok(Threshold::Auto),
                    // Environment overrides arrive as text.
                    _ => v
                        .parse()
                        .map(Threshold::Fixed)
                        .map_err(|_| E::custom(format!("expected a number or `auto`, got {v:?}"))),
                }
            }
        }
        deserializer.deserialize_any(ThresholdVisitor)
    }
}

/// A prediction or target column.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name.
    pub column: String,
    /// Whether the values are classes (`categorical`) or numbers (`numerical`).
    #[serde(rename = "type")]
    pub kind: ColumnKind,
    /// Test override.
    #[serde(default)]
    pub test: Option<TestKind>,
    /// Threshold override.
    #[serde(default)]
    pub threshold: Option<Threshold>,
    /// Bin count override.
    #[serde(default)]
    pub bins: Option<usize>,
    /// Effect-size floor override.
    #[serde(default)]
    pub min_effect: Option<f64>,
    /// Prediction only: the model's probability for the positive class; tested for prediction
    /// drift as a numerical column and used for ROC AUC and log loss.
    #[serde(default)]
    pub probability: Option<String>,
    /// Prediction only: the class whose precision/recall/F1 and probability are reported for
    /// binary classification (default: `1` when it is a class, else the last class in sorted
    /// order).
    #[serde(default, deserialize_with = "de_category")]
    pub positive_class: Option<String>,
}

/// Reads a category given as text, number or boolean into its canonical text.
fn de_category<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct CategoryVisitor;
    impl Visitor<'_> for CategoryVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a class label (text or number)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let mut text = String::new();
            crate::category::number_text(v, &mut text);
            Ok(Some(text))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(crate::category::bool_text(v).to_owned()))
        }
    }
    d.deserialize_any(CategoryVisitor)
}

/// How rows wait for ground truth that arrives later (`POST /v1/monitors/{name}/labels`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LabelJoinSpec {
    /// Predictions kept waiting for their label; beyond it the oldest expire (counted).
    pub max_pending: usize,
    /// Predictions older than this expire unlabelled (counted).
    #[serde(deserialize_with = "de_duration")]
    pub max_age: Duration,
}

impl Default for LabelJoinSpec {
    fn default() -> Self {
        Self {
            max_pending: 100_000,
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// Concept-drift settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ConceptSpec {
    /// Significance level of the per-window concept-drift tests (Bonferroni-split when two run).
    pub threshold: f64,
    /// The online error-stream detector.
    pub page_hinkley: PageHinkleySpec,
}

impl Default for ConceptSpec {
    fn default() -> Self {
        Self {
            threshold: 0.05,
            page_hinkley: PageHinkleySpec::default(),
        }
    }
}

/// Page-Hinkley parameters (detects an increase of the mean error).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PageHinkleySpec {
    /// Change in the mean error tolerated without alarm (per row).
    pub delta: f64,
    /// Alarm when the cumulative excess error exceeds this.
    pub lambda: f64,
    /// Labelled rows seen before an alarm is possible.
    pub min_instances: u64,
}

impl Default for PageHinkleySpec {
    fn default() -> Self {
        Self {
            delta: 0.005,
            lambda: 100.0,
            min_instances: 30,
        }
    }
}

/// Per-monitor alert routing and tuning, exported as metrics that the shipped Prometheus rules
/// join, so editing this block changes alerts without editing the rule file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingSpec {
    /// `severity` label of the monitor's alerts (Alertmanager routes on it).
    pub severity: String,
    /// `team` label of the monitor's alerts (Alertmanager routes on it).
    pub team: String,
    /// Extra labels carried by `driftscope_monitor_info`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Consecutive evaluated windows a drift condition must hold before its alert fires.
    pub for_windows: u32,
    /// Alert when no row arrived, or no window was evaluated, for this long.
    #[serde(deserialize_with = "de_duration")]
    pub no_data_after: Duration,
    /// Model quality is degraded when worse than the reference by more than this share of
    /// the reference value (0.1 = 10 %).
    pub quality_tolerance: f64,
    /// Data-quality alert when a feature's missing share exceeds this.
    pub max_missing_ratio: f64,
    /// Data-quality alert when a feature's share of never-seen categories exceeds this.
    pub max_new_category_ratio: f64,
    /// Predictions slower than this (seconds) count in `driftscope_slow_predictions_total`.
    pub slow_prediction_seconds: f64,
    /// `DriftscopeSlowPredictions` fires when more than this share of the predictions of the
    /// last 30 minutes' windows were slow.
    pub max_slow_prediction_ratio: f64,
}

impl Default for AlertingSpec {
    fn default() -> Self {
        Self {
            severity: "warning".into(),
            team: "default".into(),
            labels: Default::default(),
            for_windows: 1,
            no_data_after: Duration::from_secs(3600),
            quality_tolerance: 0.1,
            max_missing_ratio: 0.1,
            max_new_category_ratio: 0.05,
            slow_prediction_seconds: 10.0,
            max_slow_prediction_ratio: 0.05,
        }
    }
}

/// Type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Real numbers.
    Numerical,
    /// Labels; numbers and strings with the same text are the same category.
    Categorical,
}
