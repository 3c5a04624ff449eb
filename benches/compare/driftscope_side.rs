//! driftscope's side of the Evidently comparison (`benches/compare/run.sh`): times the stages of
//! `driftscope report` on the files the script generated, and prints them as one JSON object.
//!
//! - `load_profile_seconds`: read the reference file and profile it (done once at start-up in the
//!   service);
//! - `code_current_seconds`: read the current file and code it into window columns (done by
//!   ingest, row batch by row batch, in the service);
//! - `evaluate_seconds`: evaluate the window against the profiled reference — the per-window
//!   cost of the service, and the number the "≥ 1 000× Evidently" is about;
//! - `end_to_end_seconds`: the three together, comparable to Evidently reading two files and
//!   running its `Report`;
//! - `count_binned_seconds`: the window's values counted over the reference-anchored bins of a
//!   binned window (`window: {rows: 100000, summary: binned}` is one such pane; done by ingest,
//!   row by row, in the service);
//! - `evaluate_binned_seconds`: that binned window evaluated (KS bracketed, chi-square exact).
//!
//! Each stage's figure is the median of `--repeat` runs.
//!
//! Run: `cargo bench --bench compare -- --config DIR/monitors.yaml --current DIR/current.parquet`

use std::path::PathBuf;
use std::time::Instant;

use driftscope::engine::evaluate::evaluate;
use driftscope::reference::table::ReferenceTable;
use driftscope::report::current;
use driftscope::window::ClosedWindow;
use driftscope::window::panes::Panes;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut config, mut current_file, mut repeat) = (None, None, 7usize);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config = args.next().map(PathBuf::from),
            "--current" => current_file = args.next().map(PathBuf::from),
            "--repeat" => repeat = args.next().and_then(|r| r.parse().ok()).unwrap_or(repeat),
            // `cargo bench` passes `--bench`; anything else is a usage error.
            "--bench" => {}
            other => panic!("unknown argument {other:?}"),
        }
    }
    let (Some(config), Some(current_file)) = (config, current_file) else {
        eprintln!(
            "usage: cargo bench --bench compare -- --config FILE --current FILE [--repeat N]"
        );
        std::process::exit(2);
    };
    let (mut load, mut code, mut eval, mut total) = (vec![], vec![], vec![], vec![]);
    let (mut count_binned, mut eval_binned) = (vec![], vec![]);
    let (mut drifted, mut drifted_binned) = (0, 0);
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let table = ReferenceTable::read(&current_file).expect("current file");
        let rows = table.rows();
        let t0 = Instant::now();
        let model = current::monitor(Some(&config), None, None, rows).expect("monitor");
        let t1 = Instant::now();
        let (checks, window, _) = current::window(&model, &table).expect("window");
        let t2 = Instant::now();
        let report = evaluate(&checks, model.spec.drift_share, &window);
        let t3 = Instant::now();
        drifted = report.features.iter().filter(|f| f.outcome.drifted).count();
        load.push((t1 - t0).as_secs_f64());
        code.push((t2 - t1).as_secs_f64() + (t0 - started).as_secs_f64());
        eval.push((t3 - t2).as_secs_f64());
        total.push((t3 - started).as_secs_f64());
        // The window counted as a binned window's pane counts it (`window::panes`, row by row
        // into the pane and the running total); the bins are made at start-up, untimed.
        let mut panes = Panes::new(model.feature_bins(), 1);
        assert_eq!(checks.len(), window.columns.len(), "features only");
        let t4 = Instant::now();
        for row in 0..window.rows {
            panes.add(&window.columns, row, 0);
        }
        let binned = ClosedWindow {
            binned: Some(panes.window(1).1),
            columns: Vec::new(),
            ..window
        };
        let t5 = Instant::now();
        let report = evaluate(&checks, model.spec.drift_share, &binned);
        count_binned.push((t5 - t4).as_secs_f64());
        eval_binned.push(t5.elapsed().as_secs_f64());
        drifted_binned = report.features.iter().filter(|f| f.outcome.drifted).count();
    }
    println!(
        "{{\"load_profile_seconds\": {}, \"code_current_seconds\": {}, \"evaluate_seconds\": {}, \
         \"end_to_end_seconds\": {}, \"count_binned_seconds\": {}, \
         \"evaluate_binned_seconds\": {}, \"drifted_features\": {drifted}, \
         \"drifted_features_binned\": {drifted_binned}, \"repeat\": {repeat}}}",
        median(load),
        median(code),
        median(eval),
        median(total),
        median(count_binned),
        median(eval_binned)
    );
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
