//! `driftscope report --format text`: the verdict and one table row per column.

use std::fmt::Write as _;

use crate::check::report::ColumnReport;
use crate::engine::evaluate::WindowReport;
use crate::engine::model::MonitorModel;

/// A number in 4 significant digits (scientific below 1e-3), or `-`.
pub fn number(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v != 0.0 && v.abs() < 1e-3 => format!("{v:.2e}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// A share as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// The verdict of a column: `DRIFT`, `ok`, `not computable` (the test is undefined on these
/// values, see `not_computable` in the JSON), or `-` without values.
pub fn verdict(column: &ColumnReport) -> &'static str {
    let o = &column.outcome;
    match (o.drifted, o.score, o.not_computable) {
        (true, ..) => "DRIFT",
        (false, Some(_), _) => "ok",
        (false, None, Some(_)) => "not computable",
        (false, None, None) => "-",
    }
}

/// The whole text report.
pub fn render(title: &str, model: &MonitorModel, report: &WindowReport) -> String {
    let mut out = String::new();
    let w = &mut out;
    let spec = &model.spec;
    let d = &report.dataset;
    let _ = writeln!(w, "driftscope report: {title}");
    let _ = writeln!(
        w,
        "{} current rows, {} reference rows; policy {}, alpha {}, correction {}",
        report.rows,
        model.reference_rows,
        spec.policy.as_str(),
        spec.alpha,
        crate::check::policy::FamilySettings::of(spec)
            .correction
            .as_str(),
    );
    let _ = writeln!(
        w,
        "dataset drift: {} ({} of {} features drifted, share {:.3}, threshold {})\n",
        if d.drifted { "YES" } else { "no" },
        d.drifted_features,
        d.features_evaluated,
        d.drift_share,
        d.threshold
    );
    let width = report
        .features
        .iter()
        .chain(&report.predictions)
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let _ = writeln!(
        w,
        "{:<width$}  {:<13} {:>10} {:>10} {:>10} {:>9} {:>9}  {:<7} {:>8} {:>8} {:>8} {:>8}",
        "feature",
        "test",
        "score",
        "p",
        "adj p",
        "threshold",
        "effect",
        "verdict",
        "missing",
        "invalid",
        "range",
        "new cat"
    );
    let row = |w: &mut String, c: &ColumnReport| {
        let o = &c.outcome;
        let _ = writeln!(
            w,
            "{:<width$}  {:<13} {:>10} {:>10} {:>10} {:>9} {:>9}  {:<7} {:>8} {:>8} {:>8} {:>8}",
            c.name,
            o.test.as_str(),
            number(o.score),
            number(o.p_value),
            number(o.p_value_adjusted),
            number(Some(o.threshold)),
            number(o.effect_size),
            verdict(c),
            percent(c.missing_ratio),
            percent(c.invalid_ratio),
            percent(c.out_of_range_ratio),
            percent(c.new_category_ratio),
        );
    };
    for c in &report.features {
        row(w, c);
    }
    if !report.predictions.is_empty() {
        let _ = writeln!(w, "prediction drift (not counted in dataset drift):");
        for c in &report.predictions {
            row(w, c);
        }
    }
    let drifted: Vec<&str> = report
        .features
        .iter()
        .filter(|f| f.outcome.drifted)
        .map(|f| f.name.as_str())
        .collect();
    let _ = writeln!(
        w,
        "\ndrifted features: {}",
        if drifted.is_empty() {
            "none".to_owned()
        } else {
            drifted.join(", ")
        }
    );
    out
}
