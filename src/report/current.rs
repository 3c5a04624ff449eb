//! The monitor a report runs and the one window it evaluates: the monitor comes from
//! `--config` (its columns, tests and policy) or is planned from the reference by `init`'s type
//! rule; the current file is coded against it like ingest codes rows.

use std::path::{Path, PathBuf};

use crate::check::{ColumnCheck, Role};
use crate::column::{ColumnData, INVALID_CODE, MISSING_CODE};
use crate::config::{self, MonitorSpec, Problem, Settings, Window};
use crate::engine::model::MonitorModel;
use crate::engine::state::NewCategories;
use crate::reference::plan::{self, Named};
use crate::reference::profile::ReferenceProfile;
use crate::reference::table::{Cells, ReferenceTable};
use crate::service::profile::build_monitor;
use crate::window::ClosedWindow;

/// Why a report could not run, and the exit status that says so.
#[derive(Debug)]
pub struct Failure {
    /// 2 (usage, input files) or 78 (the `--config` file).
    pub status: u8,
    /// Every problem found.
    pub problems: Vec<Problem>,
}

/// Exit status for unreadable inputs and usage errors (clap's own).
pub const EXIT_INPUT: u8 = 2;
/// Exit status for problems in the `--config` file (sysexits' EX_CONFIG, as `check`).
pub const EXIT_CONFIG: u8 = 78;

impl Failure {
    /// One input problem (exit 2).
    pub fn input(flag: &str, message: impl Into<String>) -> Self {
        Self {
            status: EXIT_INPUT,
            problems: vec![Problem::new(flag, message)],
        }
    }

    fn config(problems: Vec<Problem>) -> Self {
        Self {
            status: EXIT_CONFIG,
            problems,
        }
    }
}

/// Builds the monitor: the `--config` monitor named `monitor` (default the first), with
/// `reference` replacing its reference file when given; without a config, one planned from
/// `reference`. Its window is one count window of `rows` rows (the current file), so learned
/// thresholds are learned for that size.
pub fn monitor(
    config_path: Option<&Path>,
    name: Option<&str>,
    reference: Option<&Path>,
    rows: usize,
) -> Result<MonitorModel, Failure> {
    let (settings, index) = match config_path {
        Some(path) => {
            let settings = config::load(path, None)
                .map_err(|e| Failure::config(vec![Problem::new("", e.to_string())]))?;
            let problems = settings.validate();
            if !problems.is_empty() {
                let at =
                    |p: Problem| Problem::new(format!("{}: {}", path.display(), p.path), p.message);
                return Err(Failure::config(problems.into_iter().map(at).collect()));
            }
            let index = match name {
                Some(name) => settings.monitors.iter().position(|m| m.name == name),
                None => Some(0),
            }
            .ok_or_else(|| {
                let names: Vec<&str> = settings.monitors.iter().map(|m| m.name.as_str()).collect();
                Failure::config(vec![Problem::new(
                    "--monitor",
                    format!(
                        "no monitor {:?} in {}; monitors: {}",
                        name.unwrap_or(""),
                        path.display(),
                        names.join(", ")
                    ),
                )])
            })?;
            (settings, index)
        }
        None => {
            let reference = reference
                .ok_or_else(|| Failure::input("--reference", "required without --config"))?;
            (planned(reference)?, 0)
        }
    };
    let mut settings = settings;
    let spec = &mut settings.monitors[index];
    if let Some(reference) = reference {
        spec.reference = absolute(reference);
    }
    spec.window = serde_json::from_value(serde_json::json!({ "rows": rows.max(1) }))
        .map_err(|e| Failure::input("--current", e.to_string()))?;
    let spec = spec.clone();
    let mut problems = Vec::new();
    let built = build_monitor(&settings, index, &spec, None, &mut problems);
    let Some((profile, _)) = built.filter(|_| problems.is_empty()) else {
        let status = if config_path.is_some() {
            EXIT_CONFIG
        } else {
            EXIT_INPUT
        };
        return Err(Failure { status, problems });
    };
    let window = Window::CountTumbling { size: rows.max(1) };
    Ok(MonitorModel::new(
        spec,
        window,
        profile,
        settings.server.ingest_limits(),
    ))
}

/// Settings with one monitor planned from the reference by `driftscope init`'s rule, the
/// default (calibrated) policy and defaults everywhere else.
fn planned(reference: &Path) -> Result<Settings, Failure> {
    let fail = |e: String| Failure::input("--reference", format!("{}: {e}", reference.display()));
    let table = ReferenceTable::read(reference).map_err(fail)?;
    let columns = table.summaries().map_err(fail)?;
    let plan = plan::plan(Named::default(), &columns, table.rows());
    let names = |list: &[(String, String)]| list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    if plan.numerical.is_empty() && plan.categorical.is_empty() {
        return Err(fail("no column is left to monitor as a feature".into()));
    }
    let spec: MonitorSpec = serde_json::from_value(serde_json::json!({
        "name": "report",
        "reference": absolute(reference),
        "features": {
            "numerical": names(&plan.numerical),
            "categorical": names(&plan.categorical),
        },
        "window": {"rows": 1},
    }))
    .map_err(|e| fail(e.to_string()))?;
    Ok(Settings {
        server: Default::default(),
        kafka: Default::default(),
        monitors: vec![spec],
        base_dir: PathBuf::new(),
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The checks of a feature window and the current file coded for them: every feature, and the
/// prediction columns the file has (a file of model inputs only skips them, named in the
/// returned notes). Categories are coded from the reference profile; unseen ones get new codes
/// as ingest gives them.
pub fn window(
    model: &MonitorModel,
    table: &ReferenceTable,
) -> Result<(Vec<ColumnCheck>, ClosedWindow, Vec<String>), Failure> {
    let (mut checks, mut columns, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for check in model.checks.iter().filter(|c| c.role != Role::Target) {
        let cells = match table.cells(&check.name, check.reference.kind()) {
            Ok(cells) => cells,
            Err(e) if check.role == Role::Prediction && e.contains("not found") => {
                notes.push(format!(
                    "prediction column {:?} is not in the current file: not tested",
                    check.name
                ));
                continue;
            }
            Err(e) => return Err(Failure::input("--current", e)),
        };
        columns.push(code(check, cells, model));
        checks.push(check.clone());
    }
    let now = crate::check::report::unix_now();
    let window = ClosedWindow {
        seq: 0,
        start: now,
        end: now,
        rows: table.rows(),
        columns,
        binned: None,
    };
    Ok((checks, window, notes))
}

/// One column of the current file as a window column.
fn code(check: &ColumnCheck, cells: Cells, model: &MonitorModel) -> ColumnData {
    match (cells, &*check.reference) {
        (Cells::Numeric(cells), _) => {
            ColumnData::Numeric(cells.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        }
        (Cells::Categorical(cells), ReferenceProfile::Categorical(profile)) => {
            let first_new = profile.categories.len() as u32;
            let mut new = NewCategories::default();
            let limits = model.limits;
            ColumnData::Categorical(
                cells
                    .into_iter()
                    .map(|cell| match cell {
                        None => MISSING_CODE,
                        Some(text) if text.len() > limits.max_category_bytes => INVALID_CODE,
                        Some(text) => match profile.index.get(&text) {
                            Some(&code) => code,
                            None => new.code(first_new, text, limits.max_new_category_bytes),
                        },
                    })
                    .collect(),
            )
        }
        // `cells(name, kind)` returns the kind asked for.
        (Cells::Categorical(cells), ReferenceProfile::Numeric(_)) => {
            ColumnData::Numeric(vec![f64::NAN; cells.len()])
        }
    }
}
