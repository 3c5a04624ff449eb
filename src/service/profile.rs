//! Reads reference files and builds each monitor's profile: checks every column against its
//! reference, profiles it, and prepares the labelled-stream reference (target drift, concept
//! drift, model quality).

use std::sync::Arc;

use crate::check::null::{self, NullDistribution};
use crate::check::policy::FamilySettings;
use crate::check::{ColumnCheck, ColumnChoice, Role};
use crate::config::{ColumnKind, ColumnSpec, MonitorSpec, Problem, Settings, Summary, Window};
use crate::engine::model::{ColumnRoles, MonitorModel, MonitorProfile};
use crate::labelled::estimate::Cbpe;
use crate::labelled::quality;
use crate::labelled::{
    ClassificationReference, LabelledModel, NO_CLASS, RegressionReference, Task,
};
use crate::reference::profile::ReferenceProfile;
use crate::reference::table::{Cells, ReferenceTable};

/// The profile of monitor `index`, or `None` with its problems added to `problems`.
///
/// `previous` is the running model of the same name when its reference file has the same
/// content (a reload): column profiles, learned nulls and the labelled-stream reference that
/// do not depend on what changed are taken from it, and the file is read only when something
/// is missing. Returns whether the file was read.
pub fn build_monitor(
    settings: &Settings,
    index: usize,
    spec: &MonitorSpec,
    previous: Option<&MonitorModel>,
    problems: &mut Vec<Problem>,
) -> Option<(MonitorProfile, bool)> {
    let at = format!("monitors[{index}]");
    let path = settings.reference_path(spec);
    let reusable = previous.filter(|p| covers(p, spec));
    let table = match reusable {
        Some(_) => None,
        None => match ReferenceTable::read(&path) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(Problem::new(
                    format!("{at}.reference"),
                    format!("{}: {e}", path.display()),
                ));
                return None;
            }
        },
    };
    let before = problems.len();
    let mut checks = Vec::new();
    let mut roles = ColumnRoles::default();
    let family = FamilySettings::of(spec);
    let window_rows = window_rows(spec);
    let mut add = |key: String,
                   name: &str,
                   role: Role,
                   kind: ColumnKind,
                   test,
                   threshold,
                   bins: Option<usize>,
                   min_effect| {
        let choice = ColumnChoice {
            test,
            threshold,
            bins: bins.unwrap_or(spec.bins),
            min_effect,
        };
        let profile = match (&table, reusable) {
            (Some(table), _) => table
                .cells(name, kind)
                .map(|cells| Arc::new(ReferenceProfile::from_cells(cells, choice.bins))),
            (None, Some(previous)) => Ok(cached_profile(previous, name, kind, choice.bins)
                .expect("`covers` found every column")),
            (None, None) => unreachable!("the table is read unless the previous model covers it"),
        };
        let result = profile
            .and_then(|profile| ColumnCheck::with_profile(name, role, profile, choice, family))
            .and_then(|mut check| {
                // Target columns are tested in labelled windows, which keep their rows.
                if spec.window.summary == Summary::Binned
                    && role != Role::Target
                    && !check.runs_on_counts()
                {
                    return Err(format!(
                        "test {} needs the window's values, but a binned window \
                         (`window.summary: binned`) keeps counts; use ks, a distance on bins \
                         (psi, jensenshannon, hellinger, kl_div, tvd) or a count test, or \
                         `summary: exact`",
                        check.test.as_str()
                    ));
                }
                if check.learned_threshold {
                    let sizes = null::grid(window_rows.0, window_rows.1, check.reference.rows());
                    match previous.and_then(|p| cached_null(p, &check, &sizes)) {
                        Some(null) => check.null = Some(null),
                        None => check.learn_null(&sizes, null::seed(&spec.name, name))?,
                    }
                }
                Ok(check)
            });
        match result {
            Ok(check) => {
                checks.push(check);
                Some(checks.len() - 1)
            }
            Err(e) => {
                problems.push(Problem::new(key, e));
                None
            }
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
                f.min_effect,
            );
        }
    }
    if let Some(p) = &spec.prediction {
        roles.prediction = add(
            format!("{at}.prediction.column"),
            &p.column,
            Role::Prediction,
            p.kind,
            p.test,
            p.threshold,
            p.bins,
            p.min_effect,
        );
        if let Some(probability) = &p.probability {
            roles.probability = add(
                format!("{at}.prediction.probability"),
                probability,
                Role::Prediction,
                ColumnKind::Numerical,
                None,
                None,
                None,
                None,
            );
        }
    }
    if let Some(t) = &spec.target {
        // Last, so feature windows can simply leave it out.
        roles.target = add(
            format!("{at}.target.column"),
            &t.column,
            Role::Target,
            t.kind,
            t.test,
            t.threshold,
            t.bins,
            t.min_effect,
        );
    }
    let latency_check = spec.latency.as_ref().and_then(|latency| {
        latency_check(&table, reusable, &latency.column, spec, family)
            .map_err(|e| problems.push(Problem::new(format!("{at}.latency.column"), e)))
            .ok()
            .flatten()
    });
    if problems.len() != before {
        return None;
    }
    let labelled = match (roles.target, &spec.target, &table) {
        (Some(target), Some(_), None) => {
            let previous = reusable.and_then(|p| p.labelled.as_deref());
            previous.map(|p| LabelledModel {
                target: checks[target].clone(),
                concept_threshold: spec.concept.threshold,
                quality_tolerance: spec.alerting.quality_tolerance,
                ..p.clone()
            })
        }
        (Some(target), Some(target_spec), Some(table)) => {
            let built = labelled_model(table, spec, &checks, roles, target, target_spec);
            match built {
                Ok(model) => Some(model),
                Err(problem) => {
                    problems.push(Problem::new(
                        format!("{at}.{}", problem.path),
                        problem.message,
                    ));
                    return None;
                }
            }
        }
        _ => None,
    };
    let (reference_rows, fingerprint) = match (&table, reusable) {
        (Some(table), _) => (table.rows(), table.fingerprint.clone()),
        (None, Some(p)) => (p.reference_rows, p.fingerprint.clone()),
        (None, None) => unreachable!("the table is read unless the previous model covers it"),
    };
    let profile = MonitorProfile {
        checks,
        roles,
        labelled,
        latency_check,
        reference_rows,
        fingerprint,
    };
    Some((profile, table.is_some()))
}

/// Rows a window can hold, for learned thresholds: exactly `rows` for count windows, from
/// `min_rows` to `max_rows` for time windows.
fn window_rows(spec: &MonitorSpec) -> (usize, usize) {
    match spec.window.resolve() {
        Ok(Window::CountTumbling { size } | Window::CountSliding { size, .. }) => (size, size),
        _ => (spec.window.min_rows, spec.window.max_rows()),
    }
}

/// Whether `previous` holds everything `spec` needs from the reference file: every column's
/// profile (same name, type and bins) and, with a target, the same prediction, probability
/// and target columns (the task statistics and reference quality depend on nothing else).
fn covers(previous: &MonitorModel, spec: &MonitorSpec) -> bool {
    let columns = spec
        .features
        .numerical
        .iter()
        .map(|f| (&f.name, ColumnKind::Numerical, f.bins))
        .chain(
            spec.features
                .categorical
                .iter()
                .map(|f| (&f.name, ColumnKind::Categorical, f.bins)),
        )
        .chain(spec.prediction.iter().map(|p| (&p.column, p.kind, p.bins)))
        .chain(
            spec.prediction
                .iter()
                .filter_map(|p| p.probability.as_ref())
                .map(|q| (q, ColumnKind::Numerical, None)),
        )
        .chain(spec.target.iter().map(|t| (&t.column, t.kind, t.bins)));
    let profiles = columns.into_iter().all(|(name, kind, bins)| {
        cached_profile(previous, name, kind, bins.unwrap_or(spec.bins)).is_some()
    });
    let same_task = |a: &Option<ColumnSpec>, b: &Option<ColumnSpec>| match (a, b) {
        (Some(a), Some(b)) => {
            (&a.column, a.kind, &a.positive_class, &a.probability)
                == (&b.column, b.kind, &b.positive_class, &b.probability)
        }
        (None, None) => true,
        _ => false,
    };
    let old = &previous.spec;
    let labelled = spec.target.is_none()
        || (previous.labelled.is_some()
            && same_task(&old.prediction, &spec.prediction)
            && same_task(&old.target, &spec.target));
    let latency = spec.latency.as_ref().is_none_or(|l| {
        let old = previous.latency.as_ref().and_then(|p| p.check.as_ref());
        old.is_some_and(|c| c.name == l.column && c.bins == spec.bins)
    });
    profiles && labelled && latency
}

/// The latency column's drift test, as a numerical column in a family of its own; `None`
/// (with a warning: the histogram and slow counter still work) when the reference has no
/// such column.
fn latency_check(
    table: &Option<ReferenceTable>,
    previous: Option<&MonitorModel>,
    column: &str,
    spec: &MonitorSpec,
    family: FamilySettings,
) -> Result<Option<ColumnCheck>, String> {
    let choice = ColumnChoice {
        test: None,
        threshold: None,
        bins: spec.bins,
        min_effect: None,
    };
    let profile = match (table, previous) {
        (Some(table), _) if !table.has_column(column) => {
            tracing::warn!(
                monitor = %spec.name,
                column,
                "The reference has no latency column: latency is summarised but not drift-tested."
            );
            return Ok(None);
        }
        (Some(table), _) => {
            let cells = table.cells(column, ColumnKind::Numerical)?;
            Arc::new(ReferenceProfile::from_cells(cells, spec.bins))
        }
        (None, Some(previous)) => {
            let old = previous.latency.as_ref().and_then(|l| l.check.as_ref());
            Arc::clone(&old.expect("`covers` found the latency check").reference)
        }
        (None, None) => unreachable!("the table is read unless the previous model covers it"),
    };
    ColumnCheck::with_profile(column, Role::Latency, profile, choice, family).map(Some)
}

/// The previous model's profile of column `name`, when it was built the same way.
fn cached_profile(
    previous: &MonitorModel,
    name: &str,
    kind: ColumnKind,
    bins: usize,
) -> Option<Arc<ReferenceProfile>> {
    previous
        .checks
        .iter()
        .find(|c| c.name == name && c.reference.kind() == kind && c.bins == bins)
        .map(|c| Arc::clone(&c.reference))
}

/// The previous model's learned null for `check`, when it was learned for the same profile,
/// test and window sizes (learning one takes seconds).
fn cached_null(
    previous: &MonitorModel,
    check: &ColumnCheck,
    sizes: &[usize],
) -> Option<Arc<NullDistribution>> {
    let (min, max) = window_rows(&previous.spec);
    let old = previous.checks.iter().find(|c| {
        c.name == check.name && c.test == check.test && Arc::ptr_eq(&c.reference, &check.reference)
    })?;
    let same_sizes = null::grid(min, max, old.reference.rows()) == sizes;
    old.null.clone().filter(|_| same_sizes)
}

/// The labelled-stream reference: target check, task statistics and reference quality.
fn labelled_model(
    table: &ReferenceTable,
    spec: &MonitorSpec,
    checks: &[ColumnCheck],
    roles: ColumnRoles,
    target: usize,
    target_spec: &ColumnSpec,
) -> Result<LabelledModel, Problem> {
    let mut model = LabelledModel {
        target: checks[target].clone(),
        task: None,
        has_probability: roles.probability.is_some(),
        concept_threshold: spec.concept.threshold,
        quality_tolerance: spec.alerting.quality_tolerance,
        reference_quality: Vec::new(),
        estimator: None,
    };
    let (Some(p), Some(prediction_spec)) = (roles.prediction, &spec.prediction) else {
        return Ok(model);
    };
    if prediction_spec.kind != target_spec.kind {
        return Err(Problem::new(
            "target.type",
            "prediction and target must both be categorical (classification) or both numerical (regression)",
        ));
    }
    let cells = |name: &str, kind| {
        table
            .cells(name, kind)
            .map_err(|e| Problem::new("prediction", e))
    };
    let predictions = cells(&prediction_spec.column, prediction_spec.kind)?;
    let targets = cells(&target_spec.column, target_spec.kind)?;
    let probabilities = match &prediction_spec.probability {
        Some(column) => match cells(column, ColumnKind::Numerical)? {
            Cells::Numeric(v) => Some(v),
            Cells::Categorical(_) => None,
        },
        None => None,
    };
    match (
        &*checks[p].reference,
        &*checks[target].reference,
        predictions,
        targets,
    ) {
        (
            ReferenceProfile::Categorical(pred_profile),
            ReferenceProfile::Categorical(target_profile),
            Cells::Categorical(pred_cells),
            Cells::Categorical(target_cells),
        ) => {
            let prediction_to_target: Vec<u32> = pred_profile
                .categories
                .iter()
                .map(|c| target_profile.index.get(c).copied().unwrap_or(NO_CLASS))
                .collect();
            let positive = positive_class(prediction_spec, &target_profile.categories)?;
            if positive.is_none() && probabilities.is_some() {
                return Err(Problem::new(
                    "prediction.probability",
                    format!(
                        "a probability column is the positive class's probability, so it needs a binary target (ROC AUC, log loss and estimated performance are binary-only); the reference target has {} classes",
                        target_profile.categories.len()
                    ),
                ));
            }
            let (mut pred_codes, mut target_codes, mut probs) =
                (Vec::new(), Vec::new(), Vec::new());
            for (i, (p, t)) in pred_cells.iter().zip(&target_cells).enumerate() {
                if let (Some(p), Some(t)) = (p, t) {
                    pred_codes.push(pred_profile.index[p]);
                    target_codes.push(target_profile.index[t]);
                    if let Some(probabilities) = &probabilities {
                        probs.push(probabilities[i].unwrap_or(f64::NAN));
                    }
                }
            }
            let reference = ClassificationReference::new(
                prediction_to_target,
                positive,
                &pred_codes,
                &target_codes,
            );
            let classes: Vec<u32> = pred_codes.iter().map(|&c| reference.class_of(c)).collect();
            let probability = probabilities.as_ref().map(|_| probs.as_slice());
            model.reference_quality =
                quality::classification(&classes, &target_codes, positive, probability);
            if let (Some(positive), Some(_)) = (positive, &probabilities) {
                let outcomes: Vec<bool> = target_codes.iter().map(|&t| t == positive).collect();
                model.estimator = Some(Cbpe::fit(&probs, &outcomes));
            }
            model.task = Some(Task::Classification(reference));
        }
        (_, _, Cells::Numeric(pred_cells), Cells::Numeric(target_cells)) => {
            let (mut predicted, mut actual) = (Vec::new(), Vec::new());
            for (p, t) in pred_cells.iter().zip(&target_cells) {
                if let (Some(p), Some(t)) = (p, t) {
                    predicted.push(*p);
                    actual.push(*t);
                }
            }
            let mut residuals: Vec<f64> =
                actual.iter().zip(&predicted).map(|(t, p)| t - p).collect();
            residuals.sort_unstable_by(f64::total_cmp);
            if residuals.is_empty() {
                return Err(Problem::new(
                    "target.column",
                    "no reference row has both a prediction and a target",
                ));
            }
            model.reference_quality = quality::regression(&predicted, &actual);
            model.task = Some(Task::Regression(RegressionReference {
                residuals_sorted: residuals,
            }));
        }
        _ => {}
    }
    Ok(model)
}

/// The target code of the positive class: the configured one, or for two classes `1` when it
/// is one of them, else the last in sorted order. `None` (macro averages) for more classes.
fn positive_class(prediction: &ColumnSpec, classes: &[String]) -> Result<Option<u32>, Problem> {
    let position = |label: &str| classes.iter().position(|c| c == label).map(|i| i as u32);
    match &prediction.positive_class {
        Some(label) => {
            if classes.len() != 2 {
                return Err(Problem::new(
                    "prediction.positive_class",
                    format!(
                        "only applies to binary targets; the reference target has {} classes",
                        classes.len()
                    ),
                ));
            }
            position(label).map(Some).ok_or_else(|| {
                Problem::new(
                    "prediction.positive_class",
                    format!(
                        "{label:?} is not a class of the reference target (classes: {})",
                        classes.join(", ")
                    ),
                )
            })
        }
        None if classes.len() == 2 => Ok(position("1").or(Some(1))),
        None => Ok(None),
    }
}
