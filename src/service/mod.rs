//! Turns a validated config into running monitors, and keeps them running: recovery from the
//! state directory at start-up, hot reload, snapshots and the clock.
//!
//! - [`auth`]: bearer tokens resolved from `server.auth` (checked by the API's guard);
//! - [`profile`]: reference files → column checks (shared by `serve`, `check`, `calibrate`);
//! - [`reload`]: a new config, validated completely before it replaces the old one;
//! - [`tasks`]: the ticker, log syncs and periodic snapshots.

pub mod auth;
pub mod profile;
pub mod reload;
pub mod tasks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::config::{self, MonitorSpec, Problem, Settings};
use crate::engine::model::{MonitorModel, MonitorProfile};
use crate::engine::monitor::{Monitor, Storage};
use crate::engine::persist;
use crate::engine::results::Results;
use crate::engine::state::MonitorState;
use crate::export::metrics::Metrics;
use crate::service::auth::Auth;
use crate::state::StateDir;
use crate::state::wal::Wal;

/// The monitors being served, replaced as a whole by a reload.
#[derive(Debug, Default)]
pub struct MonitorSet {
    /// In config order.
    pub ordered: Vec<Arc<Monitor>>,
    by_name: HashMap<String, Arc<Monitor>>,
}

impl MonitorSet {
    fn new(ordered: Vec<Arc<Monitor>>) -> Self {
        let by_name = ordered
            .iter()
            .map(|m| (m.name().to_owned(), Arc::clone(m)))
            .collect();
        Self { ordered, by_name }
    }

    /// The monitor called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Monitor>> {
        self.by_name.get(name)
    }

    /// Monitor names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// Everything the service runs on.
#[derive(Debug)]
pub struct Service {
    /// The config loaded at start-up (`server` settings only change with a restart).
    pub settings: Settings,
    /// The config file, re-read on reload.
    pub config_path: PathBuf,
    monitors: RwLock<Arc<MonitorSet>>,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// Bearer-token authentication, when `server.auth` is set.
    pub auth: Option<Arc<Auth>>,
    /// Where state is persisted, when it is.
    pub state: Option<StateDir>,
    /// Every configured monitor's model, by name, in the scale-out roles (empty in `single`):
    /// an ingest process validates batches against them, an engine starts the monitors of
    /// the partitions it owns from them.
    pub catalog: Arc<BTreeMap<String, Arc<MonitorModel>>>,
    /// One reload or round of snapshots at a time: both write snapshot files.
    maintenance: Mutex<()>,
}

impl Service {
    /// The monitors now being served.
    pub fn monitors(&self) -> Arc<MonitorSet> {
        Arc::clone(&self.monitors.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn replace_monitors(&self, set: MonitorSet) {
        *self.monitors.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
    }

    /// Replaces the monitors served (an engine, as partitions come and go).
    pub fn set_monitors(&self, monitors: Vec<Arc<Monitor>>) {
        self.replace_monitors(MonitorSet::new(monitors));
    }

    /// Snapshots every monitor (shutdown, and periodically); errors are logged.
    pub fn snapshot_all(&self) {
        let _exclusive = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        for monitor in &self.monitors().ordered {
            if let Err(e) = snapshot(monitor) {
                tracing::error!(monitor = monitor.name(), error = %e, "Snapshot failed.");
            }
        }
    }
}

/// Writes one monitor's snapshot, when it has storage.
fn snapshot(monitor: &Monitor) -> std::io::Result<()> {
    let Some(storage) = monitor.storage() else {
        return Ok(());
    };
    let (state, results) = monitor.checkpoint()?;
    persist::save(&storage.dir, &monitor.model, state, results)
}

/// Loads `path` (with environment overrides), validates it and builds every monitor, with state
/// in memory only (`check`, `calibrate`, tests). On failure returns **all** problems found,
/// each naming the file and key path.
pub fn load_service(path: &Path) -> Result<Service, Vec<Problem>> {
    let settings = config::load(path, None).map_err(|e| vec![Problem::new("", e.to_string())])?;
    build_service(settings, path, None)
}

/// Builds and starts the monitors of loaded settings (`path` is the config file). With
/// `state_dir`, each monitor first recovers its state from there and logs every event to it.
pub fn build_service(
    settings: Settings,
    path: &Path,
    state_dir: Option<&Path>,
) -> Result<Service, Vec<Problem>> {
    let none = HashMap::new();
    let Models { models, auth, .. } = build_models(&settings, path, &none, &none)?;
    let metrics = Arc::new(Metrics::new(&extra_info_labels(&settings)));
    let state = state_dir
        .map(StateDir::open)
        .transpose()
        .map_err(|e| vec![Problem::new("server.state_dir", e.to_string())])?;
    let mut monitors = Vec::new();
    for model in models {
        let name = model.name().to_owned();
        let start = prepare(&model, state.as_ref(), &settings, None).map_err(|e| {
            vec![Problem::new(
                format!("state of monitor {name:?}"),
                e.to_string(),
            )]
        })?;
        let started = start.monitor(model, &metrics);
        monitors.push(started);
    }
    Ok(Service {
        config_path: path.to_owned(),
        settings,
        monitors: RwLock::new(Arc::new(MonitorSet::new(monitors))),
        metrics,
        auth,
        state,
        catalog: Arc::default(),
        maintenance: Mutex::new(()),
    })
}

/// Builds a service for a scale-out role (`server.role: ingest | engine`): every monitor's
/// model in the catalog, no monitor running (an engine starts those it owns) and no state
/// directory (the state lives in Kafka).
pub fn build_cluster_service(settings: Settings, path: &Path) -> Result<Service, Vec<Problem>> {
    let none = HashMap::new();
    let Models { models, auth, .. } = build_models(&settings, path, &none, &none)?;
    let catalog = models
        .into_iter()
        .map(|m| (m.name().to_owned(), Arc::new(m)))
        .collect();
    Ok(Service {
        config_path: path.to_owned(),
        metrics: Arc::new(Metrics::new(&extra_info_labels(&settings))),
        settings,
        monitors: RwLock::new(Arc::default()),
        auth,
        state: None,
        catalog: Arc::new(catalog),
        maintenance: Mutex::new(()),
    })
}

/// Every `alerting.labels` key of any monitor: label names of `driftscope_monitor_info`.
fn extra_info_labels(settings: &Settings) -> Vec<String> {
    let keys: BTreeSet<String> = settings
        .monitors
        .iter()
        .flat_map(|m| m.alerting.labels.keys().cloned())
        .collect();
    keys.into_iter().collect()
}

/// What [`build_models`] built.
struct Models {
    /// Models of the monitors that were (re)built.
    models: Vec<MonitorModel>,
    /// The resolved authentication.
    auth: Option<Arc<Auth>>,
    /// Monitors whose reference file was read.
    read: Vec<String>,
}

/// Validates `settings` and builds the model of every monitor but those in `unchanged` (a
/// reload keeps them as they are); `same_reference` holds running models whose reference file
/// is unchanged, whose profiles are reused. Reports every problem.
fn build_models(
    settings: &Settings,
    path: &Path,
    unchanged: &HashMap<String, Arc<Monitor>>,
    same_reference: &HashMap<String, Arc<Monitor>>,
) -> Result<Models, Vec<Problem>> {
    let label = |problems: Vec<Problem>| {
        problems
            .into_iter()
            .map(|p| Problem::new(format!("{}: {}", path.display(), p.path), p.message))
            .collect::<Vec<_>>()
    };
    // Static problems and reference problems are reported together, so one run of
    // `driftscope check` shows everything.
    let mut problems = settings.validate();
    let mut built: Vec<(&MonitorSpec, MonitorProfile)> = Vec::new();
    let mut read = Vec::new();
    for (i, spec) in settings.monitors.iter().enumerate() {
        if unchanged.contains_key(&spec.name) {
            continue;
        }
        let previous = same_reference.get(&spec.name).map(|m| &*m.model);
        if let Some((b, was_read)) =
            profile::build_monitor(settings, i, spec, previous, &mut problems)
        {
            if was_read {
                read.push(spec.name.clone());
            }
            built.push((spec, b));
        }
    }
    let auth = settings.server.auth.as_ref().and_then(|spec| {
        Auth::resolve(spec, &settings.base_dir, |var| std::env::var(var).ok())
            .map_err(|p| problems.extend(p))
            .ok()
            .map(Arc::new)
    });
    if !problems.is_empty() {
        return Err(label(problems));
    }
    let mut models = Vec::new();
    for (spec, profile) in built {
        // No problems means every window resolved in `validate`.
        let Ok(window) = spec.window.resolve() else {
            continue;
        };
        models.push(MonitorModel::new(
            spec.clone(),
            window,
            profile,
            settings.server.ingest_limits(),
        ));
    }
    Ok(Models { models, auth, read })
}

/// Where a monitor starts: its state, its results and, with a state directory, its log.
struct Start {
    state: MonitorState,
    results: Results,
    log: Option<(Storage, Wal)>,
}

impl Start {
    fn monitor(self, model: MonitorModel, metrics: &Arc<Metrics>) -> Arc<Monitor> {
        Monitor::start(
            Arc::new(model),
            self.state,
            self.results,
            Arc::clone(metrics),
            self.log,
        )
    }
}

/// A monitor's starting state and, with a state directory, its log: a carried-over state is
/// snapshotted first (so the log never mixes configs); otherwise the state is recovered.
fn prepare(
    model: &MonitorModel,
    state_dir: Option<&StateDir>,
    settings: &Settings,
    carried: Option<(MonitorState, Results)>,
) -> std::io::Result<Start> {
    let Some(state_dir) = state_dir else {
        let fresh = || (MonitorState::new(model), Results::default());
        let (state, results) = carried.unwrap_or_else(fresh);
        return Ok(Start {
            state,
            results,
            log: None,
        });
    };
    let storage = Storage {
        dir: state_dir.monitor(model.name())?,
        fsync: settings.server.fsync,
    };
    let (state, results) = match carried {
        Some((state, results)) => {
            persist::save(&storage.dir, model, state.clone(), results.clone())?;
            (state, results)
        }
        None => {
            let (state, results, recovery) = persist::recover(&storage.dir, model)?;
            tracing::info!(
                monitor = model.name(),
                snapshot = recovery.snapshot,
                replayed = recovery.replayed,
                truncated_bytes = recovery.truncated_bytes,
                restarted = ?recovery.restarted,
                "State recovered."
            );
            if recovery.restarted.contains(&"reference") {
                tracing::warn!(
                    monitor = model.name(),
                    "The reference file changed since the state was saved: windows, new categories, waiting predictions and streaks restart; history and sequence numbers continue."
                );
            }
            (state, results)
        }
    };
    let wal = Wal::create(&storage.dir, state.applied + 1)?;
    Ok(Start {
        state,
        results,
        log: Some((storage, wal)),
    })
}

/// The state directory: `--state-dir` when given, else `server.state_dir` relative to the
/// config file's directory.
pub fn state_dir(settings: &Settings, cli: Option<&Path>) -> Option<PathBuf> {
    cli.map(Path::to_path_buf).or_else(|| {
        settings
            .server
            .state_dir
            .as_ref()
            .map(|dir| settings.base_dir.join(dir))
    })
}
