//! A short run of the soak tool (`examples/soak.rs`) in CI: the debug binary on the shipped
//! `monitors.yaml`, a 3 s probe and 12 s of load with every second request a bad one, so every
//! kind of request meets the running service. It checks answers, not memory (12 s say nothing
//! about growth); the full soak is `cargo run --release --example soak`.

// The example's `main` is its own entry point; this test calls `run` and `summarize`.
#[allow(dead_code)]
#[path = "../examples/soak.rs"]
mod soak;

use clap::Parser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_gets_only_expected_answers() {
    let root = env!("CARGO_MANIFEST_DIR");
    let state = tempfile::tempdir().unwrap();
    let args = soak::Args::parse_from([
        "soak",
        "--bin",
        env!("CARGO_BIN_EXE_driftscope"),
        "--config",
        &format!("{root}/monitors.yaml"),
        "--state-dir",
        state.path().to_str().unwrap(),
        "--rows-file",
        &format!("{root}/demo/production_2016_2018.parquet"),
        "--clients",
        "2",
        "--probe-seconds",
        "3",
        "--duration",
        "12",
        "--sample-seconds",
        "3",
        "--bad-every",
        "2",
        // Growth is not judged in 12 s.
        "--max-growth-mib",
        "100000",
    ]);
    let report = soak::run(&args).await.expect("soak run");
    let passed = soak::summarize(&args, &report);
    assert!(passed, "{report:#?}");
    assert!(report.max_rows_per_second > 0.0);
    // Every kind of request got its documented answer at least once; an oversized body may
    // instead find its connection closed while it is sent (counted apart by the tool).
    let closed = report.samples.last().map_or(0, |s| s.closed_oversized);
    for kind in [
        "good_batch",
        "malformed_json",
        "wrong_content_type",
        "unknown_monitor",
        "oversized_body",
        "wrong_types",
        "unknown_label_ids",
        "long_ids",
        "long_categories",
        "get_results",
        "get_metrics",
    ] {
        let answered = report.expected_by_kind.get(kind).copied().unwrap_or(0);
        let refused = if kind == "oversized_body" { closed } else { 0 };
        assert!(
            answered + refused > 0,
            "{kind} never got its expected answer: {report:#?}"
        );
    }
    assert!(report.samples.len() >= 4, "{:?}", report.samples);
    assert!(report.samples.iter().all(|s| s.rss_mib.is_some()));
}
