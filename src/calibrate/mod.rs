//! `driftscope calibrate`: measures a monitor's false-alarm rate and power on its own
//! reference, before it pages anyone.
//!
//! It draws `--windows` windows of the monitor's size from the reference — disjoint when the
//! reference holds them all, otherwise independent random subsets (windows then share rows,
//! and the report says so) — compares each with the reference *without its rows* (see
//! [`sample`]) through the monitor's own checks and [`crate::check::decide_families`], the
//! code the service runs, and then repeats each window with one feature shifted by each
//! standard shift. Everything is seeded (`--seed`): the same command prints the same numbers,
//! and configs that differ only in policy see the same windows.

mod report;
pub mod sample;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use rayon::prelude::*;

use crate::check::policy::FamilySettings;
use crate::check::{ColumnCheck, ColumnOutcome, Role};
use crate::column::ColumnData;
use crate::config::{Problem, Window};
use crate::reference::table::ReferenceTable;
pub use report::{Calibration, FeatureRates, Rate};
use sample::Shift;

/// Options of `driftscope calibrate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Config file.
    #[arg(long, default_value = "monitors.yaml")]
    pub config: PathBuf,
    /// Monitor to calibrate (default: the first).
    #[arg(long)]
    pub monitor: Option<String>,
    /// Windows to draw.
    #[arg(long, default_value_t = 200)]
    pub windows: usize,
    /// Rows per window (default: the monitor's count-window size; required for time windows).
    #[arg(long)]
    pub rows: Option<usize>,
    /// Seed of the window draws and shifts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Windows evaluated per day, for the expected false alerts per day (default: from a time
    /// window's step, 24 for count windows).
    #[arg(long)]
    pub windows_per_day: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format of `driftscope calibrate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// One JSON document for scripts and tests.
    Json,
}

/// Runs `driftscope calibrate`: prints the report, or returns the problems (config, monitor
/// name, window size) for the caller to report.
pub fn main(args: &Args) -> Result<(), Vec<Problem>> {
    let service = crate::service::load_service(&args.config)?;
    let problem = |message: String| vec![Problem::new("", message)];
    let monitors = service.monitors();
    let monitor = match &args.monitor {
        Some(name) => monitors.ordered.iter().find(|m| m.name() == name),
        None => monitors.ordered.first(),
    }
    .ok_or_else(|| {
        let names: Vec<&str> = monitors.ordered.iter().map(|m| m.name()).collect();
        problem(format!(
            "no monitor {:?}; monitors: {}",
            args.monitor.as_deref().unwrap_or(""),
            names.join(", ")
        ))
    })?;
    let monitor = &monitor.model;
    let spec = &monitor.spec;
    let rows = match (args.rows, monitor.window) {
        (Some(rows), _) => rows,
        (None, Window::CountTumbling { size } | Window::CountSliding { size, .. }) => size,
        (None, _) => {
            return Err(problem(
                "a time window has no fixed size: pass --rows N (typical rows per window)".into(),
            ));
        }
    };
    let windows_per_day = args.windows_per_day.unwrap_or(match monitor.window {
        Window::TimeTumbling { length: step } | Window::TimeSliding { step, .. } => {
            86_400.0 / step.as_secs_f64()
        }
        _ => 24.0,
    });
    let path = service.settings.reference_path(spec);
    let table = ReferenceTable::read(&path).map_err(problem)?;
    let features: Vec<&ColumnCheck> = monitor
        .checks
        .iter()
        .filter(|c| c.role == Role::Feature)
        .collect();
    let columns = features
        .iter()
        .map(|c| sample::read(&table, c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(problem)?;
    if rows == 0 || rows >= table.rows() || args.windows == 0 {
        return Err(problem(format!(
            "need --windows >= 1 and 1 <= rows < reference rows ({}), got {} windows of {rows} rows",
            table.rows(),
            args.windows
        )));
    }
    let show_progress = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    let progress = if show_progress {
        indicatif::ProgressBar::new(args.windows as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let outcomes = run(
        &features,
        &columns,
        rows,
        args.windows,
        args.seed,
        &progress,
    );
    progress.finish_and_clear();
    let family = FamilySettings::of(spec);
    let calibration = Calibration::new(
        spec,
        family,
        &features,
        &outcomes,
        report::Setup {
            window_rows: rows,
            reference_rows: table.rows(),
            disjoint: args.windows * rows <= table.rows(),
            seed: args.seed,
            windows_per_day,
        },
    );
    match args.format {
        Format::Text => print!("{}", calibration.text()),
        Format::Json => println!("{}", calibration.json()),
    }
    Ok(())
}

/// Verdicts of one window: per feature without a shift, and per (feature, shift) with that
/// feature shifted.
pub struct WindowVerdicts {
    /// `drifted[j]`: feature j drifted in the clean window.
    pub drifted: Vec<bool>,
    /// `(feature, shift label) → drifted` with only that feature shifted.
    pub shifted: BTreeMap<(usize, String), bool>,
}

/// Draws the windows and evaluates them, in parallel but deterministically: window `k`'s rows
/// come from one seeded permutation (or draw) and its shifts from an RNG seeded by `(seed, k)`.
pub fn run(
    features: &[&ColumnCheck],
    columns: &[ColumnData],
    rows: usize,
    windows: usize,
    seed: u64,
    progress: &indicatif::ProgressBar,
) -> Vec<WindowVerdicts> {
    let reference_rows = columns.first().map_or(0, ColumnData::len);
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..reference_rows).collect();
    let draws: Vec<Vec<usize>> = if windows * rows <= reference_rows {
        order.shuffle(&mut rng);
        order
            .chunks(rows)
            .take(windows)
            .map(<[usize]>::to_vec)
            .collect()
    } else {
        (0..windows)
            .map(|_| {
                let (chosen, _) = order.partial_shuffle(&mut rng, rows);
                chosen.to_vec()
            })
            .collect()
    };
    draws
        .par_iter()
        .enumerate()
        .map(|(k, draw)| {
            let mut rng =
                Pcg64::seed_from_u64(seed ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let verdicts = evaluate_window(features, columns, draw, &mut rng);
            progress.inc(1);
            verdicts
        })
        .collect()
}

fn evaluate_window(
    features: &[&ColumnCheck],
    columns: &[ColumnData],
    draw: &[usize],
    rng: &mut Pcg64,
) -> WindowVerdicts {
    let values: Vec<ColumnData> = columns.iter().map(|c| sample::take(c, draw)).collect();
    let checks: Vec<ColumnCheck> = features
        .iter()
        .zip(&values)
        .map(|(check, window)| sample::leave_out(check, window))
        .collect();
    let base: Vec<ColumnOutcome> = checks
        .iter()
        .zip(&values)
        .map(|(check, window)| check.evaluate(window))
        .collect();
    let decide = |outcomes: &mut Vec<ColumnOutcome>| {
        let mut paired: Vec<_> = checks.iter().zip(outcomes.iter_mut()).collect();
        crate::check::decide_families(&mut paired);
    };
    let mut clean = base.clone();
    decide(&mut clean);
    let mut shifted = BTreeMap::new();
    for (j, check) in checks.iter().enumerate() {
        for &shift in Shift::for_check(check) {
            let moved = shift.apply(check, &values[j], rng);
            let mut outcomes = base.clone();
            outcomes[j] = check.evaluate(&moved);
            decide(&mut outcomes);
            shifted.insert((j, shift.label()), outcomes[j].drifted);
        }
    }
    WindowVerdicts {
        drifted: clean.iter().map(|o| o.drifted).collect(),
        shifted,
    }
}
