//! `driftscope init`: writes a commented `monitors.yaml` for a reference file, so nobody lists
//! fifty features by hand. Column types are inferred by a stated rule, ids and timestamps are
//! recognised (or named), and the window size is suggested from the reference size. The file
//! passes `driftscope check` as written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::Problem;
use crate::reference::plan::{self, Named, Plan};
use crate::reference::table::{ColumnSummary, ReferenceTable};

pub use crate::reference::plan::MAX_CODE_VALUES;

/// Arguments of `driftscope init`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Reference data (.csv or .parquet).
    #[arg(long)]
    pub reference: PathBuf,
    /// Ground-truth column (target drift, concept drift, quality).
    #[arg(long)]
    pub target: Option<String>,
    /// The model's prediction column.
    #[arg(long)]
    pub prediction: Option<String>,
    /// A classifier's probability of the positive class (needs --prediction).
    #[arg(long, requires = "prediction")]
    pub probability: Option<String>,
    /// Row id column (default: recognised by name when its values are unique).
    #[arg(long)]
    pub id: Option<String>,
    /// Event-time column (default: recognised by name or type).
    #[arg(long)]
    pub timestamp: Option<String>,
    /// Monitor name (default: from the file name).
    #[arg(long)]
    pub name: Option<String>,
    /// File to write.
    #[arg(long, default_value = "monitors.yaml")]
    pub output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Runs `driftscope init`: writes the file and returns its path, or the problems.
pub fn main(args: &Args) -> Result<PathBuf, Vec<Problem>> {
    let problem = |path: &str, message: String| vec![Problem::new(path, message)];
    if args.output.exists() && !args.force {
        return Err(problem(
            "--output",
            format!(
                "{} exists; pass --force to overwrite it",
                args.output.display()
            ),
        ));
    }
    let table = ReferenceTable::read(&args.reference)
        .map_err(|e| problem("--reference", format!("{}: {e}", args.reference.display())))?;
    let columns = table.summaries().map_err(|e| problem("--reference", e))?;
    for (flag, name) in [
        ("--target", &args.target),
        ("--prediction", &args.prediction),
        ("--probability", &args.probability),
        ("--id", &args.id),
        ("--timestamp", &args.timestamp),
    ] {
        if let Some(name) = name
            && !columns.iter().any(|c| &c.name == name)
        {
            let known: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            return Err(problem(
                flag,
                format!("no column {name:?}; columns: {}", known.join(", ")),
            ));
        }
    }
    let plan = plan::plan(named(args), &columns, table.rows());
    if plan.numerical.is_empty() && plan.categorical.is_empty() {
        return Err(problem(
            "--reference",
            "no column is left to monitor as a feature".into(),
        ));
    }
    let text = render(args, &plan, &columns, table.rows());
    std::fs::write(&args.output, text)
        .map_err(|e| problem("--output", format!("{}: {e}", args.output.display())))?;
    Ok(args.output.clone())
}

/// The columns named on the command line.
fn named(args: &Args) -> Named<'_> {
    Named {
        target: args.target.as_deref(),
        prediction: args.prediction.as_deref(),
        probability: args.probability.as_deref(),
        id: args.id.as_deref(),
        timestamp: args.timestamp.as_deref(),
    }
}

/// A window of about a fifth of the reference, in hundreds, between 200 and 5 000 rows: the
/// reference stays the larger sample, and windows stay quick to fill.
fn window_rows(reference_rows: usize) -> usize {
    ((reference_rows / 5).div_ceil(100) * 100).clamp(200, 5_000)
}

/// The monitor name: `--name`, or the file name reduced to `[A-Za-z0-9_-]`.
fn monitor_name(args: &Args) -> String {
    if let Some(name) = &args.name {
        return name.clone();
    }
    let stem = args
        .reference
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "model".into()
    } else {
        name
    }
}

/// The reference path as the config should name it: relative to the config's directory when
/// the file is under it, else absolute.
fn reference_path(reference: &Path, output: &Path) -> String {
    let file = std::fs::canonicalize(reference).unwrap_or_else(|_| reference.to_path_buf());
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok();
    let shown = dir
        .and_then(|d| file.strip_prefix(d).ok().map(Path::to_path_buf))
        .unwrap_or(file);
    shown.display().to_string()
}

/// A YAML double-quoted string (JSON's escaping is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn render(args: &Args, plan: &Plan, columns: &[ColumnSummary], rows: usize) -> String {
    let window = window_rows(rows);
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# driftscope configuration written by `driftscope init` for {} ({rows} rows, {} columns).",
        args.reference.display(),
        columns.len()
    );
    let _ = writeln!(
        w,
        "# Column types were inferred: text and true/false columns are categorical; numbers are\n\
         # numerical unless they are whole numbers with at most {MAX_CODE_VALUES} distinct values (codes\n\
         # such as an education level), which are categorical. Check them, then validate with:\n\
         #   driftscope check --config {}\n\
         # Every key is documented in the bundled monitors.yaml and in the README.\n",
        args.output.display()
    );
    let _ = writeln!(
        w,
        "server:\n  listen: 127.0.0.1:8000\n  # Write-ahead log and snapshots (relative to this file); remove for memory-only state.\n  state_dir: state\n"
    );
    let _ = writeln!(w, "monitors:");
    let _ = writeln!(w, "  - name: {}", quoted(&monitor_name(args)));
    let _ = writeln!(
        w,
        "    reference: {}",
        quoted(&reference_path(&args.reference, &args.output))
    );
    let _ = writeln!(w, "    features:");
    for (group, list) in [
        ("numerical", &plan.numerical),
        ("categorical", &plan.categorical),
    ] {
        if list.is_empty() {
            let _ = writeln!(w, "      {group}: []");
            continue;
        }
        let _ = writeln!(w, "      {group}:");
        for (name, why) in list {
            let _ = writeln!(w, "        - {:<24} # {why}", quoted(name));
        }
    }
    for (name, why) in &plan.skipped {
        let _ = writeln!(w, "    # not monitored: {} ({why})", quoted(name));
    }
    let type_of = |name: &str| {
        columns
            .iter()
            .find(|c| c.name == name)
            .map_or("categorical", |c| {
                if plan::kind(c).0 {
                    "categorical"
                } else {
                    "numerical"
                }
            })
    };
    // Concept drift and quality compare prediction with target: one type for both.
    let task_type = args
        .target
        .as_deref()
        .or(args.prediction.as_deref())
        .map(type_of);
    if let (Some(prediction), Some(task)) = (&args.prediction, task_type) {
        let probability = args
            .probability
            .as_ref()
            .map_or(String::new(), |p| format!(", probability: {}", quoted(p)));
        let _ = writeln!(
            w,
            "    # The model's output (prediction drift). For classifiers, `probability: COLUMN` adds\n    # ROC AUC and log loss.\n    prediction: {{column: {}, type: {task}{probability}}}",
            quoted(prediction)
        );
    }
    if let (Some(target), Some(task)) = (&args.target, task_type) {
        let _ = writeln!(
            w,
            "    # Ground truth, inline with rows or later via POST /v1/monitors/{{name}}/labels.\n    target: {{column: {}, type: {task}}}",
            quoted(target)
        );
    }
    match &plan.id {
        Some(id) => {
            let _ = writeln!(
                w,
                "    # Row id: predictions wait under it for their labels.\n    id: {}",
                quoted(id)
            );
        }
        None => {
            let _ = writeln!(
                w,
                "    # id: COLUMN          # row id, to join labels sent later"
            );
        }
    }
    match &plan.timestamp {
        Some(ts) => {
            let _ = writeln!(
                w,
                "    # Event time (unix seconds or RFC 3339), used by time windows.\n    timestamp: {}",
                quoted(ts)
            );
        }
        None => {
            let _ = writeln!(
                w,
                "    # timestamp: COLUMN   # event time, for time windows"
            );
        }
    }
    let _ = writeln!(
        w,
        "    # About a fifth of the {rows} reference rows; `driftscope calibrate` measures the false-alarm\n    # rate and the power of this size before you go live.\n    window:\n      rows: {window}\n      min_rows: {}",
        window / 4
    );
    let _ = writeln!(
        w,
        "    # Calibrated alarms: the window's feature p-values corrected together (holm) at alpha.\n    policy: calibrated\n    alpha: 0.05"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_a_fifth_of_the_reference_and_names_are_quoted() {
        assert_eq!(window_rows(12_000), 2_400);
        assert_eq!(window_rows(100), 200);
        assert_eq!(window_rows(1_000_000), 5_000);
        assert_eq!(quoted("a \"b\""), r#""a \"b\"""#);
    }
}
