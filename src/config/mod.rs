//! `monitors.yaml`: the user's description of what to watch.
//!
//! Loading is two steps. [`load`] reads the file with the `config` crate (so `DRIFTSCOPE__…`
//! environment variables override keys) and deserializes it strictly (unknown keys are errors,
//! reported with their key path). [`Settings::validate`] then checks everything serde cannot
//! express and returns **all** problems at once, each as a [`Problem`] with its key path, so a user
//! fixes a broken file in one pass. Checks that need the reference data (columns exist, types fit)
//! live in [`crate::service`].

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::engine::policy::Policy;
use crate::stats::multipletests::Correction;

/// Prefix of environment variables that override config keys, e.g.
/// `DRIFTSCOPE__SERVER__MAX_BODY_BYTES=1048576`.
pub const ENV_PREFIX: &str = "DRIFTSCOPE";

/// Upper bound on PSI / Jensen–Shannon bins: more bins than this only adds noise and memory.
pub const MAX_BINS: usize = 1000;

/// One problem found in the configuration or its reference data, with the key path at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path, e.g. `monitors[0].features.numerical[2]`.
    pub path: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl Problem {
    /// Builds a problem for `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server settings.
    #[serde(default)]
    pub server: ServerSettings,
    /// The monitors; at least one.
    pub monitors: Vec<MonitorSpec>,
    /// Directory of the config file; reference paths are relative to it. Set by [`load`].
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// HTTP server settings, including every limit that bounds what one client can cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to listen on; `--listen` overrides it.
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Requests taking longer than this get 408, so a stuck request cannot pin a connection.
    #[serde(deserialize_with = "de_duration")]
    pub request_timeout: Duration,
    /// A connection must deliver a request's headers within this time of waiting for one, so
    /// it is also the keep-alive idle timeout: slow or idle sockets cannot pile up.
    #[serde(deserialize_with = "de_duration")]
    pub header_read_timeout: Duration,
    /// Open connections at most; further ones are closed on accept (and counted).
    pub max_connections: usize,
    /// Ingest requests (rows and labels) processed at once; more get 429 with `Retry-After`.
    pub max_concurrent_ingest: usize,
    /// Rows (or label items) in one request at most; larger batches get 413.
    pub max_rows_per_request: usize,
    /// Longest row id / label id in bytes; longer ids are invalid (counted, never stored).
    pub max_id_bytes: usize,
    /// Longest category value in bytes; longer values are invalid (counted, never stored).
    pub max_category_bytes: usize,
    /// Bytes of new (not in the reference) category text a column may learn; later unseen
    /// values share one overflow category.
    pub max_new_category_bytes: usize,
    /// Closed windows waiting for evaluation per monitor; while that many wait, ingest gets
    /// 429 instead of queueing without bound.
    pub max_queued_windows: usize,
    /// Idempotency keys remembered per monitor, at most (oldest forgotten first).
    pub idempotency_keys: usize,
    /// How long an idempotency key is remembered.
    #[serde(deserialize_with = "de_duration")]
    pub idempotency_horizon: Duration,
    /// After SIGTERM, in-flight requests get this long before the process exits anyway.
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_grace: Duration,
    /// Bearer-token authentication; off when absent.
    pub auth: Option<AuthSpec>,
    /// Directory for the write-ahead log and snapshots (relative paths: to the config file);
    /// `--state-dir` overrides it. Without one, state lives in memory only.
    pub state_dir: Option<PathBuf>,
    /// When logged events reach the disk: before each acknowledgement, or on a timer.
    pub fsync: Fsync,
    /// With `fsync: interval`, how often the log is synced.
    #[serde(deserialize_with = "de_duration")]
    pub fsync_interval: Duration,
    /// How often each monitor's state is snapshotted (which bounds log replay at start-up).
    #[serde(deserialize_with = "de_duration")]
    pub snapshot_interval: Duration,
}

/// When an acknowledged event is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// Synced before the response: survives power loss, costs one fsync per request.
    #[default]
    Always,
    /// Written before the response (survives a crash or `kill -9` of the process), synced
    /// every `fsync_interval` (a power loss can lose that much).
    Interval,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            max_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_concurrent_ingest: 4,
            max_rows_per_request: 100_000,
            max_id_bytes: 128,
            max_category_bytes: 256,
            max_new_category_bytes: 1024 * 1024,
            max_queued_windows: 16,
            idempotency_keys: 10_000,
            idempotency_horizon: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(10),
            auth: None,
            state_dir: None,
            fsync: Fsync::Always,
            fsync_interval: Duration::from_secs(1),
            snapshot_interval: Duration::from_secs(60),
        }
    }
}

/// The limits a monitor and its parser enforce, copied out of [`ServerSettings`].
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// `server.max_rows_per_request`.
    pub max_rows_per_request: usize,
    /// `server.max_id_bytes`.
    pub max_id_bytes: usize,
    /// `server.max_category_bytes`.
    pub max_category_bytes: usize,
    /// `server.max_new_category_bytes`.
    pub max_new_category_bytes: usize,
    /// `server.max_queued_windows`.
    pub max_queued_windows: usize,
    /// `server.idempotency_keys`.
    pub idempotency_keys: usize,
    /// `server.idempotency_horizon`.
    pub idempotency_horizon: Duration,
}

impl Default for IngestLimits {
    fn default() -> Self {
        ServerSettings::default().ingest_limits()
    }
}

impl ServerSettings {
    /// The limits monitors enforce.
    pub fn ingest_limits(&self) -> IngestLimits {
        IngestLimits {
            max_rows_per_request: self.max_rows_per_request,
            max_id_bytes: self.max_id_bytes,
            max_category_bytes: self.max_category_bytes,
            max_new_category_bytes: self.max_new_category_bytes,
            max_queued_windows: self.max_queued_windows,
            idempotency_keys: self.idempotency_keys,
            idempotency_horizon: self.idempotency_horizon,
        }
    }
}

/// `server.auth`: bearer tokens, each with scopes. Tokens are named by reference (an
/// environment variable or a file), never written in the YAML itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// The accepted tokens.
    pub tokens: Vec<TokenSpec>,
}

/// One accepted token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// Who holds it (logs only).
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Environment variable holding the token.
    #[serde(default)]
    pub from_env: Option<String>,
    /// File holding the token (relative to the config file); surrounding whitespace is trimmed.
    #[serde(default)]
    pub from_file: Option<PathBuf>,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// POST rows and labels.
    Ingest,
    /// GET results, the monitor list and `/metrics`.
    Read,
    /// Operator endpoints (reload, state).
    Admin,
}

impl Scope {
    /// Lower-case name, as in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

/// One monitored model: its reference data, columns, window and drift rules.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// Which rows form a window.
    pub window: WindowSpec,
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
/// test (see [`crate::engine::null`]), which then yields a p-value.
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
            crate::ingest::category::number_text(v, &mut text);
            Ok(Some(text))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(crate::ingest::category::bool_text(v).to_owned()))
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
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq)]
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

/// The statistical tests a column can be checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestKind {
    /// Two-sample Kolmogorov–Smirnov (numeric), drift when p < threshold.
    Ks,
    /// Population Stability Index, drift when PSI ≥ threshold.
    Psi,
    /// Chi-square homogeneity test, drift when p < threshold.
    Chisquare,
    /// Wasserstein-1 normed by the reference std (numeric), drift when ≥ threshold.
    Wasserstein,
    /// Jensen–Shannon distance, drift when ≥ threshold.
    Jensenshannon,
    /// Pooled two-proportion z-test (binary columns), drift when p < threshold.
    Z,
}

impl TestKind {
    /// Name used in configs, metric labels and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Ks => "ks",
            TestKind::Psi => "psi",
            TestKind::Chisquare => "chisquare",
            TestKind::Wasserstein => "wasserstein",
            TestKind::Jensenshannon => "jensenshannon",
            TestKind::Z => "z",
        }
    }

    /// True when the test yields a p-value (drift when p < threshold); false for distances
    /// (drift when score ≥ threshold).
    pub fn has_p_value(self) -> bool {
        matches!(self, TestKind::Ks | TestKind::Chisquare | TestKind::Z)
    }

    /// The threshold used when the config names none (Evidently's defaults).
    pub fn default_threshold(self) -> f64 {
        if self.has_p_value() { 0.05 } else { 0.1 }
    }

    /// Whether the test is defined for numeric values only.
    pub fn numeric_only(self) -> bool {
        matches!(self, TestKind::Ks | TestKind::Wasserstein)
    }
}

/// Window definition as written in the file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Count-based window size.
    #[serde(default)]
    pub rows: Option<usize>,
    /// Time-based window length, e.g. `5m`.
    #[serde(default)]
    pub duration: Option<String>,
    /// Sliding step: rows for count windows, a duration for time windows. Absent = tumbling.
    #[serde(default)]
    pub step: Option<StepSpec>,
    /// Windows with fewer rows publish no verdict.
    #[serde(default = "default_min_rows")]
    pub min_rows: usize,
    /// Cap on rows held by a time window; further rows are dropped and counted. Time windows
    /// only (a count window holds exactly `rows`). Default [`DEFAULT_MAX_ROWS`].
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Event time: rows stamped more than this ahead of the server clock are dropped (reason
    /// `future`) so they cannot move the window. Default 5 minutes.
    #[serde(default, deserialize_with = "de_optional_duration")]
    pub max_future_skew: Option<Duration>,
    /// Event time: a time window stays open this long after its end for late rows. Default 0.
    #[serde(default, deserialize_with = "de_optional_duration")]
    pub allowed_lateness: Option<Duration>,
}

fn default_min_rows() -> usize {
    1
}

/// Rows a time window holds at most unless `max_rows` says otherwise; also the largest count
/// window (`rows`), so no config can ask for unbounded memory.
pub const DEFAULT_MAX_ROWS: usize = 1_000_000;

/// Largest `max_rows` of a time window.
pub const MAX_WINDOW_ROWS: usize = 10_000_000;

/// Evaluations per window length at most (`rows / step`, `duration / step`): every step
/// re-tests the whole window, so a tiny step multiplies the cost of every row.
pub const MAX_STEPS_PER_WINDOW: u64 = 100;

/// Default `window.max_future_skew`.
pub const DEFAULT_MAX_FUTURE_SKEW: Duration = Duration::from_secs(300);

impl WindowSpec {
    /// Rows a time window holds at most.
    pub fn max_rows(&self) -> usize {
        self.max_rows.unwrap_or(DEFAULT_MAX_ROWS)
    }

    /// Seconds an event-time row may be ahead of the server clock.
    pub fn max_future_skew(&self) -> f64 {
        self.max_future_skew
            .unwrap_or(DEFAULT_MAX_FUTURE_SKEW)
            .as_secs_f64()
    }

    /// Seconds a time window waits past its end for late rows.
    pub fn allowed_lateness(&self) -> f64 {
        self.allowed_lateness.unwrap_or_default().as_secs_f64()
    }
}

/// A sliding step: a row count or a duration text.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StepSpec {
    /// Step in rows.
    Rows(usize),
    /// Step as a duration, e.g. `1m`.
    Duration(String),
}

/// The validated window, as the engine uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Window {
    /// Every `size` rows form a window.
    CountTumbling {
        /// Rows per window.
        size: usize,
    },
    /// The last `size` rows, evaluated every `step` rows.
    CountSliding {
        /// Rows per window.
        size: usize,
        /// Rows between evaluations.
        step: usize,
    },
    /// Consecutive, aligned periods of `length`.
    TimeTumbling {
        /// Period length.
        length: Duration,
    },
    /// The last `length`, evaluated every `step`.
    TimeSliding {
        /// Window length.
        length: Duration,
        /// Time between evaluations.
        step: Duration,
    },
}

impl Window {
    /// Short human description for logs and `GET /v1/monitors`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Window::CountTumbling { .. } => "count_tumbling",
            Window::CountSliding { .. } => "count_sliding",
            Window::TimeTumbling { .. } => "time_tumbling",
            Window::TimeSliding { .. } => "time_sliding",
        }
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(de::Error::custom)
}

/// An optional duration where zero is allowed (`allowed_lateness: 0s`).
fn de_optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    if humantime::parse_duration(text.trim()).is_ok_and(|d| d.is_zero()) {
        return Ok(Some(Duration::ZERO));
    }
    parse_duration(&text).map(Some).map_err(de::Error::custom)
}

/// Parses `5m`, `30s`, `1h 30m`, `250ms`; zero is rejected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err(format!("duration {text:?} must be greater than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "invalid duration {text:?} ({e}); write e.g. \"30s\", \"5m\", \"1h\""
        )),
    }
}

/// Why the file could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is missing or unreadable, or the YAML is not well formed.
    #[error("{path}: {message}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The YAML parsed, but a key is unknown, missing or of the wrong type.
    #[error("{path}: {key}: {message}")]
    Shape {
        /// The config file.
        path: PathBuf,
        /// Key path at fault.
        key: String,
        /// What went wrong.
        message: String,
    },
}

/// Reads and deserializes `path`, applying `DRIFTSCOPE__…` overrides from `env`
/// (`None` = the process environment; tests pass their own map).
pub fn load(
    path: &Path,
    env: Option<std::collections::HashMap<String, String>>,
) -> Result<Settings, LoadError> {
    if !path.is_file() {
        return Err(LoadError::Read {
            path: path.to_owned(),
            message: "file not found; pass --config PATH or run from the directory holding \
                      monitors.yaml"
                .into(),
        });
    }
    let source = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Yaml))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(env),
        )
        .build()
        .map_err(|e| LoadError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    let mut settings: Settings = serde_path_to_error::deserialize(source).map_err(|e| {
        let key = e.path().to_string();
        LoadError::Shape {
            path: path.to_owned(),
            key,
            message: e.into_inner().to_string(),
        }
    })?;
    settings.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(settings)
}

impl Settings {
    /// Resolves a reference path relative to the config file's directory.
    pub fn reference_path(&self, monitor: &MonitorSpec) -> PathBuf {
        if monitor.reference.is_absolute() {
            monitor.reference.clone()
        } else {
            self.base_dir.join(&monitor.reference)
        }
    }

    /// Every problem serde could not catch, with its key path. Empty = valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.server.validate(&mut problems);
        if self.monitors.is_empty() {
            problems.push(Problem::new("monitors", "declare at least one monitor"));
        }
        let mut names = HashSet::new();
        for (i, monitor) in self.monitors.iter().enumerate() {
            let at = format!("monitors[{i}]");
            if !names.insert(monitor.name.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.name"),
                    format!(
                        "duplicate monitor name {:?}; names must be unique",
                        monitor.name
                    ),
                ));
            }
            monitor.validate(&at, &mut problems);
        }
        problems
    }
}

impl ServerSettings {
    fn validate(&self, problems: &mut Vec<Problem>) {
        for (key, value) in [
            ("max_body_bytes", self.max_body_bytes),
            ("max_connections", self.max_connections),
            ("max_concurrent_ingest", self.max_concurrent_ingest),
            ("max_rows_per_request", self.max_rows_per_request),
            ("max_id_bytes", self.max_id_bytes),
            ("max_category_bytes", self.max_category_bytes),
            ("max_queued_windows", self.max_queued_windows),
        ] {
            if value == 0 {
                problems.push(Problem::new(
                    format!("server.{key}"),
                    "must be greater than 0",
                ));
            }
        }
        if let Some(auth) = &self.auth {
            auth.validate(problems);
        }
    }
}

impl AuthSpec {
    fn validate(&self, problems: &mut Vec<Problem>) {
        if self.tokens.is_empty() {
            problems.push(Problem::new(
                "server.auth.tokens",
                "list at least one token, or remove `auth` to turn authentication off",
            ));
        }
        let mut names = HashSet::new();
        for (i, token) in self.tokens.iter().enumerate() {
            let at = format!("server.auth.tokens[{i}]");
            if !names.insert(token.name.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.name"),
                    format!("duplicate token name {:?}", token.name),
                ));
            }
            if token.scopes.is_empty() {
                problems.push(Problem::new(
                    format!("{at}.scopes"),
                    "list at least one of ingest, read, admin",
                ));
            }
            if token.from_env.is_some() == token.from_file.is_some() {
                problems.push(Problem::new(
                    &at,
                    "set exactly one of `from_env` (an environment variable) or `from_file`; \
                     the token itself never goes in this file",
                ));
            }
        }
    }
}

impl MonitorSpec {
    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            problems.push(Problem::new(
                format!("{at}.name"),
                format!(
                    "{:?} is not a valid name: use 1-64 of A-Z a-z 0-9 _ -",
                    self.name
                ),
            ));
        }
        match self.reference.extension().and_then(|e| e.to_str()) {
            Some("csv" | "parquet" | "pq") => {}
            _ => problems.push(Problem::new(
                format!("{at}.reference"),
                format!(
                    "{:?} must end in .csv, .parquet or .pq",
                    self.reference.display()
                ),
            )),
        }
        if self.features.numerical.is_empty() && self.features.categorical.is_empty() {
            problems.push(Problem::new(
                format!("{at}.features"),
                "declare at least one numerical or categorical feature",
            ));
        }
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            problems.push(Problem::new(
                format!("{at}.drift_share"),
                format!("must be in (0, 1], got {}", self.drift_share),
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            problems.push(Problem::new(
                format!("{at}.alpha"),
                format!("must be in (0, 1), got {}", self.alpha),
            ));
        }
        if !(2..=MAX_BINS).contains(&self.bins) {
            problems.push(Problem::new(
                format!("{at}.bins"),
                format!("must be between 2 and {MAX_BINS}, got {}", self.bins),
            ));
        }
        let mut seen = HashSet::new();
        for (kind, list) in [
            (ColumnKind::Numerical, &self.features.numerical),
            (ColumnKind::Categorical, &self.features.categorical),
        ] {
            let group = match kind {
                ColumnKind::Numerical => "numerical",
                ColumnKind::Categorical => "categorical",
            };
            for (j, feature) in list.iter().enumerate() {
                let path = format!("{at}.features.{group}[{j}]");
                if !seen.insert(feature.name.as_str()) {
                    problems.push(Problem::new(
                        &path,
                        format!("column {:?} is declared twice", feature.name),
                    ));
                }
                check_overrides(
                    &path,
                    kind,
                    feature.test,
                    feature.threshold,
                    feature.bins,
                    feature.min_effect,
                    problems,
                );
            }
        }
        for (key, column) in [("prediction", &self.prediction), ("target", &self.target)] {
            if let Some(c) = column {
                let path = format!("{at}.{key}");
                if seen.contains(c.column.as_str()) {
                    problems.push(Problem::new(
                        format!("{path}.column"),
                        format!("column {:?} is also declared as a feature", c.column),
                    ));
                }
                check_overrides(
                    &path,
                    c.kind,
                    c.test,
                    c.threshold,
                    c.bins,
                    c.min_effect,
                    problems,
                );
            }
        }
        // Every column a row field maps to must be distinct, or one would shadow another.
        let value_columns = self
            .prediction
            .iter()
            .flat_map(|p| std::iter::once(&p.column).chain(&p.probability))
            .chain(self.target.iter().map(|t| &t.column));
        let value_columns: Vec<&String> = value_columns.collect();
        for (key, column) in [("id", &self.id), ("timestamp", &self.timestamp)] {
            if let Some(c) = column
                && (seen.contains(c.as_str()) || value_columns.contains(&c))
            {
                problems.push(Problem::new(
                    format!("{at}.{key}"),
                    format!("column {c:?} is also declared as a feature, prediction or target"),
                ));
            }
        }
        if self.id.is_some() && self.id == self.timestamp {
            problems.push(Problem::new(
                format!("{at}.timestamp"),
                "`id` and `timestamp` must be different columns",
            ));
        }
        if let Some(p) = &self.prediction
            && let Some(probability) = &p.probability
            && seen.contains(probability.as_str())
        {
            problems.push(Problem::new(
                format!("{at}.prediction.probability"),
                format!("column {probability:?} is also declared as a feature"),
            ));
        }
        if let (Some(p), Some(t)) = (&self.prediction, &self.target)
            && p.column == t.column
        {
            problems.push(Problem::new(
                format!("{at}.target.column"),
                "prediction and target must be different columns",
            ));
        }
        if let Some(t) = &self.target {
            for (key, set) in [
                ("probability", t.probability.is_some()),
                ("positive_class", t.positive_class.is_some()),
            ] {
                if set {
                    problems.push(Problem::new(
                        format!("{at}.target.{key}"),
                        format!("`{key}` belongs under `prediction`"),
                    ));
                }
            }
        }
        if let Some(p) = &self.prediction {
            if p.probability.as_deref() == Some(p.column.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.prediction.probability"),
                    "the probability column must differ from the prediction column",
                ));
            }
            if p.probability.is_some() && p.kind == ColumnKind::Numerical {
                problems.push(Problem::new(
                    format!("{at}.prediction.probability"),
                    "a probability column needs a categorical (classification) prediction",
                ));
            }
        }
        if self.label_join.max_pending == 0 {
            problems.push(Problem::new(
                format!("{at}.label_join.max_pending"),
                "must be >= 1",
            ));
        }
        let ph = self.concept.page_hinkley;
        if !(self.concept.threshold > 0.0 && self.concept.threshold < 1.0) {
            problems.push(Problem::new(
                format!("{at}.concept.threshold"),
                format!("must be in (0, 1), got {}", self.concept.threshold),
            ));
        }
        if !(ph.delta >= 0.0 && ph.delta.is_finite() && ph.lambda > 0.0 && ph.lambda.is_finite()) {
            problems.push(Problem::new(
                format!("{at}.concept.page_hinkley"),
                format!(
                    "need delta >= 0 and lambda > 0, got delta {} and lambda {}",
                    ph.delta, ph.lambda
                ),
            ));
        }
        self.alerting.validate(&format!("{at}.alerting"), problems);
        match self.window.resolve() {
            Ok(window) => {
                self.window
                    .validate(at, window, self.timestamp.is_some(), problems);
            }
            Err(message) => problems.push(Problem::new(format!("{at}.window"), message)),
        }
    }
}

impl AlertingSpec {
    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        for (key, value) in [("severity", &self.severity), ("team", &self.team)] {
            if value.trim().is_empty() {
                problems.push(Problem::new(format!("{at}.{key}"), "must not be empty"));
            }
        }
        for key in self.labels.keys() {
            let valid = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !key.starts_with("__");
            if !valid || RESERVED_ALERT_LABELS.contains(&key.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.labels.{key}"),
                    format!(
                        "{key:?} cannot be a label name: use [a-zA-Z_][a-zA-Z0-9_]*, not {}",
                        RESERVED_ALERT_LABELS.join(", ")
                    ),
                ));
            }
        }
        if self.for_windows == 0 {
            problems.push(Problem::new(format!("{at}.for_windows"), "must be >= 1"));
        }
        for (key, value) in [
            ("quality_tolerance", self.quality_tolerance),
            ("max_missing_ratio", self.max_missing_ratio),
            ("max_new_category_ratio", self.max_new_category_ratio),
        ] {
            if !(0.0..=1.0).contains(&value) {
                problems.push(Problem::new(
                    format!("{at}.{key}"),
                    format!("must be in [0, 1], got {value}"),
                ));
            }
        }
    }
}

/// Label names `alerting.labels` may not use: they are set by driftscope or Prometheus.
pub const RESERVED_ALERT_LABELS: &[&str] = &[
    "monitor",
    "severity",
    "team",
    "feature",
    "column",
    "test",
    "job",
    "instance",
    "alertname",
];

fn check_overrides(
    path: &str,
    kind: ColumnKind,
    test: Option<TestKind>,
    threshold: Option<Threshold>,
    bins: Option<usize>,
    min_effect: Option<f64>,
    problems: &mut Vec<Problem>,
) {
    if let Some(e) = min_effect
        && !(e >= 0.0 && e.is_finite())
    {
        problems.push(Problem::new(
            format!("{path}.min_effect"),
            format!("must be >= 0, got {e}"),
        ));
    }
    if let Some(test) = test
        && test.numeric_only()
        && kind == ColumnKind::Categorical
    {
        problems.push(Problem::new(
            format!("{path}.test"),
            format!(
                "{} needs numeric values; use chisquare, psi, jensenshannon or z for a \
                     categorical column",
                test.as_str()
            ),
        ));
    }
    if threshold == Some(Threshold::Auto) && test.is_some_and(TestKind::has_p_value) {
        problems.push(Problem::new(
            format!("{path}.threshold"),
            format!(
                "`auto` learns thresholds for distance tests (wasserstein, jensenshannon, psi); \
                 {} has an exact p-value, so leave the threshold out",
                test.map_or("", TestKind::as_str)
            ),
        ));
    }
    if let Some(Threshold::Fixed(t)) = threshold {
        let p_test = test.is_some_and(TestKind::has_p_value);
        if !(t > 0.0 && t.is_finite()) || (p_test && t >= 1.0) {
            let range = if p_test {
                "in (0, 1) for a p-value test"
            } else {
                "> 0"
            };
            problems.push(Problem::new(
                format!("{path}.threshold"),
                format!("must be {range}, got {t}"),
            ));
        }
    }
    if let Some(b) = bins
        && !(2..=MAX_BINS).contains(&b)
    {
        problems.push(Problem::new(
            format!("{path}.bins"),
            format!("must be between 2 and {MAX_BINS}, got {b}"),
        ));
    }
}

impl WindowSpec {
    /// Turns the file's keys into a [`Window`], or explains what combination is wrong.
    pub fn resolve(&self) -> Result<Window, String> {
        match (self.rows, &self.duration, &self.step) {
            (Some(_), Some(_), _) => Err("set either `rows` or `duration`, not both".into()),
            (None, None, _) => {
                Err("set `rows: N` (count window) or `duration: 5m` (time window)".into())
            }
            (Some(0), None, _) => Err("`rows` must be >= 1".into()),
            (Some(size), None, _) if size > DEFAULT_MAX_ROWS => Err(format!(
                "`rows` must be at most {DEFAULT_MAX_ROWS}, got {size}; a window's rows are held \
                 in memory"
            )),
            (Some(_), None, _) if self.max_rows.is_some() => Err(
                "`max_rows` caps time windows; a count window holds exactly `rows`, so remove it"
                    .into(),
            ),
            (Some(size), None, None) => Ok(Window::CountTumbling { size }),
            (Some(size), None, Some(StepSpec::Rows(step))) => {
                if *step == 0 || *step > size {
                    Err(format!(
                        "`step` must be between 1 and rows ({size}), got {step}"
                    ))
                } else if (size / step) as u64 > MAX_STEPS_PER_WINDOW {
                    Err(format!(
                        "`step` {step} re-tests the {size}-row window every {step} rows; use a \
                         step of at least rows / {MAX_STEPS_PER_WINDOW} = {}",
                        size.div_ceil(MAX_STEPS_PER_WINDOW as usize)
                    ))
                } else if *step == size {
                    Ok(Window::CountTumbling { size })
                } else {
                    Ok(Window::CountSliding { size, step: *step })
                }
            }
            (Some(_), None, Some(StepSpec::Duration(s))) => Err(format!(
                "`step` of a count window is a row count, got {s:?}; for time steps use `duration`"
            )),
            (None, Some(length), step) => {
                let length = parse_duration(length)?;
                if !(1..=MAX_WINDOW_ROWS).contains(&self.max_rows()) {
                    return Err(format!(
                        "`max_rows` must be between 1 and {MAX_WINDOW_ROWS}, got {}",
                        self.max_rows()
                    ));
                }
                if length < Duration::from_millis(1) {
                    return Err("`duration` must be at least 1ms".into());
                }
                match step {
                    None => Ok(Window::TimeTumbling { length }),
                    Some(StepSpec::Rows(n)) => Err(format!(
                        "`step` of a time window is a duration such as \"1m\", got {n}"
                    )),
                    Some(StepSpec::Duration(s)) => {
                        let step = parse_duration(s)?;
                        if step > length {
                            Err(format!("`step` ({s}) must not exceed `duration`"))
                        } else if steps_per(length, step) > MAX_STEPS_PER_WINDOW {
                            Err(format!(
                                "`step` ({s}) re-tests the window more than \
                                 {MAX_STEPS_PER_WINDOW} times per `duration`; use a longer step"
                            ))
                        } else if step == length {
                            Ok(Window::TimeTumbling { length })
                        } else {
                            Ok(Window::TimeSliding { length, step })
                        }
                    }
                }
            }
        }
    }

    /// Problems with the keys `resolve` does not look at; `window` is the resolved window.
    fn validate(&self, at: &str, window: Window, event_time: bool, problems: &mut Vec<Problem>) {
        let mut problem = |key: &str, message: String| {
            problems.push(Problem::new(format!("{at}.window.{key}"), message));
        };
        if self.min_rows == 0 {
            problem("min_rows", "must be >= 1".into());
        }
        let capacity = match window {
            Window::CountTumbling { size } | Window::CountSliding { size, .. } => size,
            Window::TimeTumbling { .. } | Window::TimeSliding { .. } => self.max_rows(),
        };
        if self.min_rows > capacity {
            problem(
                "min_rows",
                format!(
                    "{} exceeds the rows a window can hold ({capacity}), so no window would \
                     ever get a verdict",
                    self.min_rows
                ),
            );
        }
        for (key, set) in [
            ("max_future_skew", self.max_future_skew.is_some()),
            ("allowed_lateness", self.allowed_lateness.is_some()),
        ] {
            if set && !event_time {
                problem(
                    key,
                    "applies to event time only; set the monitor's `timestamp` column or remove it"
                        .into(),
                );
            }
        }
        if let (
            Some(lateness),
            Window::TimeTumbling { length: step } | Window::TimeSliding { step, .. },
        ) = (self.allowed_lateness, window)
            && steps_per(lateness, step) > MAX_STEPS_PER_WINDOW
        {
            problem(
                "allowed_lateness",
                format!(
                    "at most {MAX_STEPS_PER_WINDOW} window steps, got {}",
                    humantime::format_duration(lateness)
                ),
            );
        }
    }
}

/// How many `step`s fit in `span`, rounded up.
fn steps_per(span: Duration, step: Duration) -> u64 {
    (span.as_nanos().div_ceil(step.as_nanos().max(1))) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("monitors.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    const MINIMAL: &str = "monitors:\n  - name: m\n    reference: r.csv\n    features:\n      \
                           numerical: [a, {name: b, test: psi, bins: 5}]\n      categorical: [c]\n    \
                           window: {rows: 100, step: 25}\n";

    #[test]
    fn loads_both_feature_forms_and_sliding_window() {
        let dir = tempfile::tempdir().unwrap();
        let s = load(&write(dir.path(), MINIMAL), Some(HashMap::new())).unwrap();
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        let m = &s.monitors[0];
        assert_eq!(m.features.numerical[1].test, Some(TestKind::Psi));
        assert_eq!(m.features.numerical[1].bins, Some(5));
        assert_eq!(
            m.window.resolve(),
            Ok(Window::CountSliding {
                size: 100,
                step: 25
            })
        );
        assert_eq!(s.reference_path(m), dir.path().join("r.csv"));
    }

    #[test]
    fn environment_overrides_keys() {
        let dir = tempfile::tempdir().unwrap();
        let env = HashMap::from([
            (
                "DRIFTSCOPE__SERVER__MAX_BODY_BYTES".to_string(),
                "4096".to_string(),
            ),
            (
                "DRIFTSCOPE__SERVER__LISTEN".to_string(),
                "127.0.0.1:9999".to_string(),
            ),
        ]);
        let s = load(&write(dir.path(), MINIMAL), Some(env)).unwrap();
        assert_eq!(s.server.max_body_bytes, 4096);
        assert_eq!(s.server.listen.port(), 9999);
    }

    #[test]
    fn unknown_key_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let text = MINIMAL.replace("window: {rows: 100, step: 25}", "window: {rowz: 100}");
        let err = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("monitors[0].window"), "{msg}");
        assert!(msg.contains("rowz"), "{msg}");
    }

    #[test]
    fn validation_collects_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let text = "monitors:\n  - name: 'bad name'\n    reference: r.txt\n    features:\n      \
                    categorical: [{name: c, test: ks}, c]\n    drift_share: 2\n    \
                    window: {duration: 5m, step: 10}\n";
        let s = load(&write(dir.path(), text), Some(HashMap::new())).unwrap();
        let paths: Vec<String> = s.validate().into_iter().map(|p| p.path).collect();
        for expected in [
            "monitors[0].name",
            "monitors[0].reference",
            "monitors[0].features.categorical[0].test",
            "monitors[0].features.categorical[1]",
            "monitors[0].drift_share",
            "monitors[0].window",
        ] {
            assert!(
                paths.iter().any(|p| p == expected),
                "missing {expected} in {paths:?}"
            );
        }
    }

    #[test]
    fn alarm_settings_parse_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let text = MINIMAL.replace("numerical: [a, ", "numerical: [{name: a, min_effect: -1}, ")
            + "    policy: evidently\n    correction: bh\n    alpha: 1.5\n";
        let s = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap();
        let m = &s.monitors[0];
        assert_eq!(
            (m.policy, m.correction),
            (Policy::Evidently, Some(Correction::Bh))
        );
        let paths: Vec<String> = s.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "monitors[0].alpha",
                "monitors[0].features.numerical[0].min_effect"
            ]
        );
        let defaults = load(&write(dir.path(), MINIMAL), Some(HashMap::new())).unwrap();
        let m = &defaults.monitors[0];
        assert_eq!(
            (m.policy, m.alpha, m.correction),
            (Policy::Calibrated, 0.05, None)
        );
    }

    #[test]
    fn id_and_timestamp_may_not_shadow_other_columns() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{MINIMAL}    id: a\n    timestamp: a\n");
        let s = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap();
        let paths: Vec<String> = s.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "monitors[0].id",
                "monitors[0].timestamp",
                "monitors[0].timestamp"
            ]
        );
    }

    #[test]
    fn windows_resolve() {
        let spec = |rows, duration: Option<&str>, step| WindowSpec {
            rows,
            duration: duration.map(str::to_owned),
            step,
            min_rows: 1,
            max_rows: None,
            max_future_skew: None,
            allowed_lateness: None,
        };
        assert_eq!(
            spec(Some(10), None, None).resolve(),
            Ok(Window::CountTumbling { size: 10 })
        );
        assert_eq!(
            spec(None, Some("5m"), Some(StepSpec::Duration("1m".into()))).resolve(),
            Ok(Window::TimeSliding {
                length: Duration::from_secs(300),
                step: Duration::from_secs(60)
            })
        );
        assert!(
            spec(Some(10), None, Some(StepSpec::Rows(11)))
                .resolve()
                .is_err()
        );
        assert!(spec(None, Some("5 parsecs"), None).resolve().is_err());
        assert!(spec(None, None, None).resolve().is_err());
    }

    #[test]
    fn windows_that_cost_unbounded_memory_or_time_are_refused() {
        let problems = |window: &str, extra: &str| {
            let dir = tempfile::tempdir().unwrap();
            let text = format!(
                "monitors:\n  - name: m\n    reference: r.csv\n    features: {{numerical: [a]}}\n    \
                 window: {window}\n{extra}"
            );
            let s = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap();
            s.validate()
                .into_iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
        };
        let one = |window: &str, extra: &str, key: &str, words: &str| {
            let found = problems(window, extra);
            assert!(
                found
                    .iter()
                    .any(|p| p.starts_with(key) && p.contains(words)),
                "{window}: expected {key} ~ {words:?}, got {found:?}"
            );
        };
        one(
            "{rows: 1000000000}",
            "",
            "monitors[0].window",
            "at most 1000000",
        );
        one(
            "{rows: 1000, max_rows: 10}",
            "",
            "monitors[0].window",
            "count window",
        );
        one(
            "{rows: 100, min_rows: 200}",
            "",
            "monitors[0].window.min_rows",
            "exceeds",
        );
        one("{rows: 100000, step: 1}", "", "monitors[0].window", "step");
        one("{duration: 1h, step: 1s}", "", "monitors[0].window", "step");
        one(
            "{duration: 1m, max_rows: 0}",
            "",
            "monitors[0].window",
            "max_rows",
        );
        one(
            "{duration: 1m, allowed_lateness: 10s}",
            "",
            "monitors[0].window.allowed_lateness",
            "event time",
        );
        one(
            "{duration: 1m, allowed_lateness: 2h}",
            "    timestamp: ts\n",
            "monitors[0].window.allowed_lateness",
            "steps",
        );
        assert!(
            problems(
                "{duration: 1m, max_future_skew: 1m, allowed_lateness: 30s}",
                "    timestamp: ts\n"
            )
            .is_empty()
        );
        assert!(problems("{rows: 1000, step: 10}", "").is_empty());
    }
}
