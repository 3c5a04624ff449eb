//! Hot reload (`SIGHUP`, `POST /-/reload`): the new config is validated completely, reference
//! files included, before anything changes; on any problem the old config keeps serving.
//!
//! Per monitor: unchanged (same spec, same reference content) → kept as it is, state and all;
//! changed → its state is carried over to the new model ([`persist::carry_over`]: a changed
//! threshold or test applies from the next window, a changed window definition restarts the
//! window, a changed reference restarts what was coded against it); added → started
//! (recovering any state an earlier run left for that name); removed → snapshotted and
//! stopped, its series gone from `/metrics`. `server` settings need a restart.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::config::{self, Problem};
use crate::engine::model::MonitorModel;
use crate::engine::monitor::Monitor;
use crate::engine::persist;
use crate::engine::results::Results;
use crate::engine::state::MonitorState;
use crate::reference::table;
use crate::service::{MonitorSet, Service, build_models, prepare};

/// What a reload changed.
#[derive(Debug, Default, Serialize)]
pub struct ReloadReport {
    /// Monitors kept as they were.
    pub unchanged: Vec<String>,
    /// Monitors rebuilt, with what restarted in each (`window`, `labelled`, `reference`,
    /// `detector`; empty when only policy changed).
    pub changed: Vec<(String, Vec<&'static str>)>,
    /// Monitors started.
    pub added: Vec<String>,
    /// Monitors stopped.
    pub removed: Vec<String>,
    /// Monitors whose reference file was read and profiled again (a new or changed file, new
    /// columns, other bins); the others reuse their profiles.
    pub references_read: Vec<String>,
}

impl Service {
    /// Re-reads the config file and applies it, or changes nothing and returns every problem.
    /// Exported as `driftscope_config_last_reload_successful`.
    pub fn reload(&self) -> Result<ReloadReport, Vec<Problem>> {
        let _exclusive = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        let result = if self.settings.server.role == crate::config::Role::Single {
            self.try_reload()
        } else {
            // Ingest processes and engines must agree on every monitor's reference and
            // columns; one process reloading alone would not. A rolling restart does.
            Err(vec![Problem::new(
                "server.role",
                "reload is not supported in the ingest and engine roles; restart the processes \
                 with the new config (one at a time keeps the service up)",
            )])
        };
        self.metrics.reload_outcome(result.is_ok());
        match &result {
            Ok(report) => tracing::info!(?report, "Config reloaded."),
            Err(problems) => {
                for p in problems {
                    tracing::error!(path = %p.path, "{}", p.message);
                }
                tracing::error!(
                    problems = problems.len(),
                    "Config reload refused; the previous config keeps serving."
                );
            }
        }
        result
    }

    fn try_reload(&self) -> Result<ReloadReport, Vec<Problem>> {
        let mut settings = config::load(&self.config_path, None)
            .map_err(|e| vec![Problem::new("", e.to_string())])?;
        let current = self.monitors();
        let (mut reuse, mut same_reference) = (HashMap::new(), HashMap::new());
        for spec in &settings.monitors {
            let Some(old) = current.get(&spec.name) else {
                continue;
            };
            let fingerprint = table::fingerprint(&settings.reference_path(spec)).ok();
            if fingerprint.as_ref() == Some(&old.model.fingerprint) {
                let kept = if old.model.spec == *spec {
                    &mut reuse
                } else {
                    &mut same_reference
                };
                kept.insert(spec.name.clone(), Arc::clone(old));
            }
        }
        let built = build_models(&settings, &self.config_path, &reuse, &same_reference)?;
        let models = built.models;
        // `--listen` overrides the file and cannot change while serving.
        settings.server.listen = self.settings.server.listen;
        if format!("{:?}", settings.server) != format!("{:?}", self.settings.server) {
            tracing::warn!("`server` settings changed; they apply after a restart.");
        }
        let mut models: HashMap<String, MonitorModel> = models
            .into_iter()
            .map(|m| (m.name().to_owned(), m))
            .collect();
        let mut report = ReloadReport {
            references_read: built.read,
            ..ReloadReport::default()
        };
        let mut ordered = Vec::new();
        for spec in &settings.monitors {
            let name = spec.name.clone();
            if let Some(kept) = reuse.get(&name) {
                ordered.push(Arc::clone(kept));
                report.unchanged.push(name);
                continue;
            }
            let Some(model) = models.remove(&name) else {
                continue;
            };
            let carried = match current.get(&name) {
                Some(old) => {
                    let (state, results) = old.retire();
                    let (state, results, restarted) = persist::carry_over(&model, state, results);
                    forget_changed(self, &model);
                    report.changed.push((name.clone(), restarted));
                    Some((state, results))
                }
                None => {
                    report.added.push(name.clone());
                    None
                }
            };
            ordered.push(self.start_or_keep_in_memory(model, carried));
        }
        for old in &current.ordered {
            if settings.monitors.iter().all(|s| s.name != old.name()) {
                let (state, results) = old.retire();
                if let Some(storage) = old.storage()
                    && let Err(e) = persist::save(&storage.dir, &old.model, state, results)
                {
                    tracing::error!(monitor = old.name(), error = %e, "Snapshot of a removed monitor failed.");
                }
                self.metrics.forget(old.name(), &|_| false);
                report.removed.push(old.name().to_owned());
            }
        }
        self.replace_monitors(MonitorSet::new(ordered));
        Ok(report)
    }

    /// Starts a reloaded monitor. Its predecessor is already retired, so a failing state
    /// directory must not leave the name without a monitor: it then runs in memory (logged).
    fn start_or_keep_in_memory(
        &self,
        model: MonitorModel,
        carried: Option<(MonitorState, Results)>,
    ) -> Arc<Monitor> {
        let fallback = carried.clone();
        match prepare(&model, self.state.as_ref(), &self.settings, carried) {
            Ok(start) => start.monitor(model, &self.metrics),
            Err(e) => {
                tracing::error!(monitor = model.name(), error = %e, "Cannot use the state directory; the monitor keeps its state in memory until the next restart.");
                let (state, results) =
                    fallback.unwrap_or_else(|| (MonitorState::new(&model), Results::default()));
                Monitor::start(
                    Arc::new(model),
                    state,
                    results,
                    Arc::clone(&self.metrics),
                    None,
                )
            }
        }
    }
}

/// Removes the series of columns the new model no longer has, and threshold series labelled
/// with a test the column no longer uses; the rest are re-set by the new monitor.
fn forget_changed(service: &Service, model: &MonitorModel) {
    let keep = |labels: &[(&str, &str)]| {
        let column = labels
            .iter()
            .find(|(n, _)| *n == "feature" || *n == "column")
            .map(|&(_, v)| v);
        let Some(column) = column else {
            return true;
        };
        let latency = model.latency.as_ref().filter(|l| l.column == column);
        let check = (model.checks.iter())
            .chain(latency.and_then(|l| l.check.as_ref()))
            .find(|c| c.name == column);
        let is_id = model.spec.id.as_deref() == Some(column);
        match labels.iter().find(|(n, _)| *n == "test") {
            Some(&(_, test)) => check.is_some_and(|c| c.test.as_str() == test),
            None => check.is_some() || is_id || latency.is_some(),
        }
    };
    service.metrics.forget(model.name(), &keep);
}
