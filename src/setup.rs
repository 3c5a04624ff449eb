//! Turns a validated config into running monitors: reads every reference file, checks every
//! column against it and profiles it. Used by `serve` and by `check`, which report the same
//! problems.

use std::path::Path;
use std::sync::Arc;

use crate::config::{self, ColumnKind, MonitorSpec, Problem, Settings};
use crate::drift::{ColumnCheck, Role};
use crate::metrics::Metrics;
use crate::monitor::Monitor;
use crate::reference::ReferenceTable;

/// Everything the service runs on.
#[derive(Debug)]
pub struct Service {
    /// The loaded config.
    pub settings: Settings,
    /// Monitors in config order.
    pub monitors: Vec<Arc<Monitor>>,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
}

/// Loads `path` (with environment overrides), validates it and builds every monitor. On failure
/// returns **all** problems found, each naming the file and key path.
pub fn load_service(path: &Path) -> Result<Service, Vec<Problem>> {
    let settings = config::load(path, None).map_err(|e| vec![Problem::new("", e.to_string())])?;
    build_service(settings, path)
}

/// Builds monitors from loaded settings (`path` only labels problems).
pub fn build_service(settings: Settings, path: &Path) -> Result<Service, Vec<Problem>> {
    let label = |problems: Vec<Problem>| {
        problems
            .into_iter()
            .map(|p| Problem::new(format!("{}: {}", path.display(), p.path), p.message))
            .collect::<Vec<_>>()
    };
    // Static problems and reference problems are reported together, so one run of
    // `driftscope check` shows everything.
    let mut problems = settings.validate();
    let metrics = Arc::new(Metrics::new());
    let mut built = Vec::new();
    for (i, spec) in settings.monitors.iter().enumerate() {
        if let Some((checks, rows)) = build_checks(&settings, i, spec, &mut problems) {
            built.push((spec, checks, rows));
        }
    }
    if !problems.is_empty() {
        return Err(label(problems));
    }
    let mut monitors = Vec::new();
    for (spec, checks, rows) in built {
        // No problems means every window resolved in `validate`.
        let Ok(window) = spec.window.resolve() else {
            continue;
        };
        monitors.push(Arc::new(Monitor::new(
            spec.clone(),
            window,
            checks,
            rows,
            Arc::clone(&metrics),
        )));
    }
    Ok(Service {
        settings,
        monitors,
        metrics,
    })
}

fn build_checks(
    settings: &Settings,
    index: usize,
    spec: &MonitorSpec,
    problems: &mut Vec<Problem>,
) -> Option<(Vec<ColumnCheck>, usize)> {
    let at = format!("monitors[{index}]");
    let path = settings.reference_path(spec);
    let table = match ReferenceTable::read(&path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem::new(
                format!("{at}.reference"),
                format!("{}: {e}", path.display()),
            ));
            return None;
        }
    };
    let before = problems.len();
    let mut checks = Vec::new();
    let mut add = |key: String,
                   name: &str,
                   role: Role,
                   kind: ColumnKind,
                   test,
                   threshold,
                   bins: Option<usize>| {
        let result = table.column(name, kind).and_then(|raw| {
            ColumnCheck::new(name, role, raw, test, threshold, bins.unwrap_or(spec.bins))
        });
        match result {
            Ok(check) => checks.push(check),
            Err(e) => problems.push(Problem::new(key, e)),
        }
    };
    for (group, kind, list) in [
        ("numerical", ColumnKind::Numerical, &spec.features.numerical),
        (
            "categorical",
            ColumnKind::Categorical,
            &spec.features.categorical,
        ),
    ] {
        for (j, f) in list.iter().enumerate() {
            add(
                format!("{at}.features.{group}[{j}]"),
                &f.name,
                Role::Feature,
                kind,
                f.test,
                f.threshold,
                f.bins,
            );
        }
    }
    for (key, role, column) in [
        ("prediction", Role::Prediction, &spec.prediction),
        ("target", Role::Target, &spec.target),
    ] {
        if let Some(c) = column {
            add(
                format!("{at}.{key}.column"),
                &c.column,
                role,
                c.kind,
                c.test,
                c.threshold,
                c.bins,
            );
        }
    }
    (problems.len() == before).then(|| (checks, table.rows()))
}
