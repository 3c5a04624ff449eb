//! `driftscope report`: the service's checks on two files, once. The whole current file is one
//! window, evaluated by the monitor's own checks and alarm policy ([`crate::engine::evaluate`])
//! and printed as a table, the service's JSON (`WindowReport`) or a self-contained HTML page.
//!
//! - [`current`]: the monitor (from `--config` or planned from the reference) and the window;
//! - [`text`]: the table;
//! - [`html`] and [`svg`]: the page, shared with the service's live page
//!   `GET /ui/monitors/{name}`.

pub mod current;
pub mod html;
pub mod svg;
pub mod text;

use std::path::PathBuf;

use crate::engine::evaluate::{WindowReport, evaluate};
use crate::engine::histogram;
use crate::reference::table::ReferenceTable;
pub use current::{EXIT_CONFIG, EXIT_INPUT, Failure};

/// Exit status when drift was found (`--fail-on`).
pub const EXIT_DRIFT: u8 = 1;

/// Arguments of `driftscope report`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Reference data (.csv or .parquet); with --config, replaces the monitor's reference.
    #[arg(long, required_unless_present = "config")]
    pub reference: Option<PathBuf>,
    /// Current data (.csv or .parquet): all of it is one window.
    #[arg(long)]
    pub current: PathBuf,
    /// Config file whose monitor's columns, tests and policy apply (default: columns inferred
    /// from the reference like `driftscope init`, default policy).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Monitor of --config (default: the first).
    #[arg(long, requires = "config")]
    pub monitor: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// What makes the exit status 1: any feature drifting (after the monitor's correction) or
    /// only dataset drift.
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

/// Output format of `driftscope report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// The service's window report (`GET /v1/monitors/{name}` → `latest`).
    Json,
    /// One self-contained page with charts (no scripts, no network).
    Html,
}

/// Which verdict fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any feature drifted.
    Any,
    /// Dataset drift (drifted share ≥ the monitor's `drift_share`).
    Dataset,
}

/// What a report found.
#[derive(Debug)]
pub struct Outcome {
    /// The window's report, as the service publishes it.
    pub report: WindowReport,
    /// Whether `--fail-on` is met: exit status 1.
    pub failed: bool,
}

/// Runs `driftscope report`: writes the report and returns the verdict, or the problems.
pub fn main(args: &Args) -> Result<Outcome, Failure> {
    let table = ReferenceTable::read(&args.current)
        .map_err(|e| Failure::input("--current", format!("{}: {e}", args.current.display())))?;
    let model = current::monitor(
        args.config.as_deref(),
        args.monitor.as_deref(),
        args.reference.as_deref(),
        table.rows(),
    )?;
    let (checks, window, notes) = current::window(&model, &table)?;
    for note in &notes {
        eprintln!("note: {note}");
    }
    let report = evaluate(&checks, model.spec.drift_share, &window);
    let reference = match &args.reference {
        Some(path) => path.display().to_string(),
        None => model.spec.reference.display().to_string(),
    };
    let title = format!("{} vs {}", args.current.display(), reference);
    let text = match args.format {
        Format::Text => text::render(&title, &model, &report),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::input("--format", e.to_string()))?;
            json.push('\n');
            json
        }
        Format::Html => {
            let histograms = histogram::of_window(&checks, &window);
            let page = html::Page {
                title: &title,
                monitor: &model,
                report: Some(&report),
                histograms: &histograms,
                history: &[],
                note: "driftscope report: the current file as one window.",
            };
            html::render(&page)
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Failure::input("--output", format!("{}: {e}", path.display())))?,
        None => print!("{text}"),
    }
    let failed = match args.fail_on {
        FailOn::Any => report.features.iter().any(|f| f.outcome.drifted),
        FailOn::Dataset => report.dataset.drifted,
    };
    Ok(Outcome { report, failed })
}
