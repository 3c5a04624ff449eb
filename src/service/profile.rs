//! Reads reference files and builds each monitor's profile: checks every column against its
//! reference, profiles it, and prepares the labelled-stream reference (target drift, concept
//! drift, model quality).

use crate::check::null;
use crate::check::policy::FamilySettings;
use crate::check::{ColumnCheck, ColumnChoice, Role};
use crate::config::{ColumnKind, ColumnSpec, MonitorSpec, Problem, Settings, Window};
use crate::engine::model::{ColumnRoles, MonitorProfile};
use crate::labelled::quality;
use crate::labelled::{
    ClassificationReference, LabelledModel, NO_CLASS, RegressionReference, Task,
};
use crate::reference::profile::ReferenceProfile;
use crate::reference::table::{Cells, ReferenceTable};

/// The profile of monitor `index`, or `None` with its problems added to `problems`.
pub fn build_monitor(
    settings: &Settings,
    index: usize,
    spec: &MonitorSpec,
    problems: &mut Vec<Problem>,
) -> Option<MonitorProfile> {
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
    let mut roles = ColumnRoles::default();
    let family = FamilySettings::of(spec);
    // Rows a window can hold, for learned thresholds: exactly `rows` for count windows, from
    // `min_rows` to `max_rows` for time windows.
    let window_rows = match spec.window.resolve() {
        Ok(Window::CountTumbling { size } | Window::CountSliding { size, .. }) => (size, size),
        _ => (spec.window.min_rows, spec.window.max_rows()),
    };
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
        let result = table
            .column(name, kind)
            .and_then(|raw| ColumnCheck::configured(name, role, raw, choice, family))
            .and_then(|mut check| {
                if check.learned_threshold {
                    let sizes = null::grid(window_rows.0, window_rows.1, check.reference.rows());
                    check.learn_null(&sizes, null::seed(&spec.name, name))?;
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
    if problems.len() != before {
        return None;
    }
    let labelled = match (roles.target, &spec.target) {
        (Some(target), Some(target_spec)) => {
            let built = labelled_model(&table, spec, &checks, roles, target, target_spec);
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
    Some(MonitorProfile {
        checks,
        roles,
        labelled,
        reference_rows: table.rows(),
        fingerprint: table.fingerprint.clone(),
    })
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
        &checks[p].reference,
        &checks[target].reference,
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
