//! `monitors.yaml`: the user's description of what to watch.
//!
//! Loading is two steps. [`load`] reads the file with the `config` crate (so `DRIFTSCOPE__…`
//! environment variables override keys) and deserializes it strictly (unknown keys are errors,
//! reported with their key path). [`Settings::validate`] then checks everything serde cannot
//! express and returns **all** problems at once, each as a [`Problem`] with its key path, so a user
//! fixes a broken file in one pass. Checks that need the reference data (columns exist, types fit)
//! live in [`crate::service`].
//!
//! Files by concern: `server` and `monitor` hold the keys, `window` the window keys and their
//! resolution, `load` the file reading and `validate` the checks across keys.

mod duration;
mod kafka;
mod latency;
mod load;
mod monitor;
mod server;
mod shards;
mod test_kind;
mod validate;
mod window;

pub use duration::parse_duration;
pub use kafka::{KafkaSettings, Role, Topics};
pub use latency::{LatencySpec, LatencyUnit};
pub use load::{ENV_PREFIX, LoadError, load};
pub use monitor::{
    AlertingSpec, ColumnKind, ColumnSpec, ConceptSpec, FeatureSpec, FeatureSpecs, LabelJoinSpec,
    MonitorSpec, PageHinkleySpec, Policy, Threshold,
};
pub use server::{AuthSpec, Fsync, IngestLimits, Scope, ServerSettings, TokenSpec};
pub use test_kind::TestKind;
pub use validate::RESERVED_ALERT_LABELS;
pub use window::{
    DEFAULT_MAX_FUTURE_SKEW, DEFAULT_MAX_ROWS, MAX_STEPS_PER_WINDOW, MAX_WINDOW_ROWS, StepSpec,
    Summary, Window, WindowSpec,
};

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

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
    /// The broker of the scale-out roles (`server.role: ingest | engine`).
    #[serde(default)]
    pub kafka: KafkaSettings,
    /// The monitors; at least one.
    pub monitors: Vec<MonitorSpec>,
    /// Directory of the config file; reference paths are relative to it. Set by [`load`].
    #[serde(skip)]
    pub base_dir: PathBuf,
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
}

/// Writing a config file for the submodules' tests.
#[cfg(test)]
mod testing {
    use std::path::{Path, PathBuf};

    pub(super) fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("monitors.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    pub(super) const MINIMAL: &str = "monitors:\n  - name: m\n    reference: r.csv\n    features:\n      \
                           numerical: [a, {name: b, test: psi, bins: 5}]\n      categorical: [c]\n    \
                           window: {rows: 100, step: 25}\n";
}
