//! Calibrated alarms through the public interfaces: `driftscope calibrate --format json` on a
//! seeded synthetic reference (false-alarm rate of the default policy, power on the standard
//! shifts) and the HTTP service on 100 000-row windows (the effect-size floor).
//!
//! The fast tests run in every `cargo test`. All references have 12 000 rows, so after a
//! window's rows are left out the comparison reference exceeds 10 000 rows and KS takes scipy's
//! asymptotic branch: the exact small-sample branch is what a calibration run spends its time
//! on, and it crawls in the unoptimised dev profile. The benchmark-sized runs (1 000 windows of
//! 1 000 rows against 11 000 reference rows, 7 and 20 features) are `#[ignore]`d:
//! `cargo test --test calibration -- --ignored` (about a minute each in the dev profile).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Rng, TestServer};
use serde_json::{Value, json};

/// Writes a reference CSV: `numeric` columns (normal, log-normal and uniform in turn) and
/// `categorical` columns (12 categories with Zipf(1.1) shares, category 11 the rarest).
fn write_reference(path: &Path, rows: usize, numeric: usize, categorical: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let weights: Vec<f64> = (1..=12).map(|k| 1.0 / f64::from(k).powf(1.1)).collect();
    let total: f64 = weights.iter().sum();
    let shares: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let names: Vec<String> = (0..12).map(|k| format!("k{k}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut header: Vec<String> = (0..numeric).map(|j| format!("x{j}")).collect();
    header.extend((0..categorical).map(|j| format!("c{j}")));
    let mut text = header.join(",") + "\n";
    for _ in 0..rows {
        let mut row: Vec<String> = (0..numeric)
            .map(|j| {
                let v = match j % 3 {
                    0 => rng.normal(10.0, 2.0),
                    1 => rng.normal(0.0, 0.5).exp(),
                    _ => rng.uniform() * 100.0,
                };
                format!("{v:.6}")
            })
            .collect();
        row.extend((0..categorical).map(|_| rng.choose(&names, &shares).to_owned()));
        text += &row.join(",");
        text += "\n";
    }
    std::fs::write(path, text).unwrap();
}

/// A config for one monitor over `reference`, with `extra` spliced into the monitor.
fn config(
    reference: &Path,
    numeric: usize,
    categorical: usize,
    rows: usize,
    extra: &str,
) -> String {
    let list = |prefix: &str, n: usize| {
        (0..n)
            .map(|j| format!("{prefix}{j}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "monitors:\n  - name: synthetic\n    reference: {}\n    features:\n      \
         numerical: [{}]\n      categorical: [{}]\n    window: {{rows: {rows}}}\n{extra}",
        reference.display(),
        list("x", numeric),
        list("c", categorical),
    )
}

/// Runs `driftscope calibrate --format json` on a fresh synthetic reference.
fn calibrate(
    reference_rows: usize,
    numeric: usize,
    categorical: usize,
    window_rows: usize,
    windows: usize,
    extra: &str,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    write_reference(&reference, reference_rows, numeric, categorical, 7);
    let config_path = dir.path().join("monitors.yaml");
    let text = config(&reference, numeric, categorical, window_rows, extra);
    std::fs::write(&config_path, text).unwrap();
    run_calibrate(&config_path, 3, windows)
}

/// `driftscope calibrate --format json` on `config_path`: the parsed report.
fn run_calibrate(config_path: &Path, seed: u64, windows: usize) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_driftscope"))
        .args([
            "calibrate",
            "--format",
            "json",
            "--seed",
            &seed.to_string(),
            "--config",
        ])
        .arg(config_path)
        .args(["--windows", &windows.to_string()])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The `test` of each feature in a report, in config order.
fn tests_of(report: &Value) -> Vec<&str> {
    report["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"].as_str().unwrap())
        .collect()
}

fn rate(report: &Value, key: &str) -> f64 {
    report["detection"][key]["rate"].as_f64().unwrap()
}

/// One-sided 99 % binomial upper tolerance of a rate whose true value is at most `alpha`:
/// `alpha + 2.326 · sqrt(alpha (1 − alpha) / n)`.
fn upper_tolerance(alpha: f64, n: usize) -> f64 {
    alpha + 2.326 * (alpha * (1.0 - alpha) / n as f64).sqrt()
}

#[test]
fn calibrate_reports_every_feature_and_shift_with_intervals() {
    let report = calibrate(12_000, 5, 2, 200, 60, "");
    assert_eq!(report["policy"], "calibrated");
    assert_eq!(report["correction"], "holm");
    assert_eq!(report["windows"], 60);
    // 60 windows of 200 rows fit in 12 000 rows: disjoint.
    assert_eq!(report["disjoint"], true);
    let features = report["features"].as_array().unwrap();
    assert_eq!(
        tests_of(&report),
        ["ks", "ks", "ks", "ks", "ks", "chisquare", "chisquare"]
    );
    for f in features {
        let r = &f["false_alarm"];
        assert!(
            r["low"].as_f64() <= r["rate"].as_f64() && r["rate"].as_f64() <= r["high"].as_f64()
        );
    }
    let numeric = &features[0]["detection"];
    assert!(numeric.get("mean+0.25sd").is_some() && numeric.get("scale*1.5").is_some());
    let categorical = &features[5]["detection"];
    assert!(
        categorical.get("frequency20%").is_some() && categorical.get("new_category5%").is_some()
    );
    // A large shift is found even at 200 rows against 1 800; smaller ones need larger
    // windows (the benchmark tests below).
    assert!(rate(&report, "mean+0.5sd") > 0.9, "{report}");
}

/// 20 features, 400 windows of 200 rows against a 12 000-row reference: the default policy's
/// any-feature false-alarm rate stays within the one-sided 99 % binomial tolerance of α.
/// (400 windows do not fit disjointly, so they overlap, and the report says so; each is still
/// an exact null draw, as each is compared with the reference without its rows.)
#[test]
fn default_policy_any_feature_false_alarm_rate_is_at_most_alpha() {
    let report = calibrate(12_000, 15, 5, 200, 400, "");
    assert_eq!(report["disjoint"], false);
    let any = report["any_feature_false_alarm"]["rate"].as_f64().unwrap();
    assert!(any <= upper_tolerance(0.05, 400), "any-feature rate {any}");
}

/// The same windows without correction: the rate Holm removes.
#[test]
fn uncorrected_p_values_raise_many_more_false_alarms() {
    let report = calibrate(12_000, 15, 5, 200, 150, "    correction: none\n");
    let any = report["any_feature_false_alarm"]["rate"].as_f64().unwrap();
    // 1 − 0.95²⁰ ≈ 0.64 for independent tests at 5 % each.
    assert!(any > 0.4, "uncorrected any-feature rate {any}");
}

/// The benchmark: with 1 000-row windows the default policy's any-feature false-alarm
/// rate stays within the one-sided 99 % tolerance of α, and a +0.25σ mean shift of a numerical
/// feature and a 20 % frequency shift of a categorical one are each detected in ≥ 99 % of
/// windows.
fn benchmark(features: (usize, usize)) {
    let (numeric, categorical) = features;
    let report = calibrate(12_000, numeric, categorical, 1000, 1000, "");
    let any = report["any_feature_false_alarm"]["rate"].as_f64().unwrap();
    assert!(any <= upper_tolerance(0.05, 1000), "any-feature rate {any}");
    for shift in ["mean+0.25sd", "frequency20%"] {
        let power = rate(&report, shift);
        assert!(power >= 0.99, "{shift}: detected in {power} of windows");
    }
}

#[test]
#[ignore = "benchmark-sized calibration (1 000 windows); run with --ignored"]
fn benchmark_seven_features() {
    benchmark((5, 2));
}

#[test]
#[ignore = "benchmark-sized calibration (1 000 windows); run with --ignored"]
fn benchmark_twenty_features() {
    benchmark((15, 5));
}

/// Normal quantile grid: a "sample" of `n` values with exactly the N(mean, 1) shape, so the
/// only difference between reference and window is the shift under test.
fn normal_grid(n: usize, mean: f64) -> Vec<f64> {
    use statrs::distribution::{ContinuousCDF, Normal};
    let normal = Normal::new(mean, 1.0).unwrap();
    (0..n)
        .map(|i| normal.inverse_cdf((i as f64 + 0.5) / n as f64))
        .collect()
}

/// On 100 000-row windows a 0.02σ mean shift is statistically significant but practically
/// nothing: no alarm. A 0.25σ shift is flagged. Both effect sizes are exported.
#[tokio::test]
async fn large_windows_flag_practical_shifts_only() {
    const N: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("big.csv");
    let text: String = std::iter::once("x\n".to_owned())
        .chain(normal_grid(N, 0.0).iter().map(|v| format!("{v:.9}\n")))
        .collect();
    std::fs::write(&reference, text).unwrap();
    let config = format!(
        "server:\n  listen: 127.0.0.1:0\nmonitors:\n  - name: m\n    reference: {}\n    \
         features:\n      numerical: [x]\n    window: {{rows: {N}}}\n",
        reference.display()
    );
    let server = TestServer::start(&config).await;
    let mut results = Vec::new();
    for shift in [0.02, 0.25] {
        let rows: Vec<Value> = normal_grid(N, shift)
            .iter()
            .map(|v| json!({"x": (v * 1e9).round() / 1e9}))
            .collect();
        for chunk in rows.chunks(N / 2) {
            let (status, body) = server.post_rows(&json!({"rows": chunk})).await;
            assert_eq!(status, 200, "{body}");
        }
        let latest = server.get_json("/v1/monitors/m").await["latest"]["features"][0].clone();
        results.push(latest);
    }
    let small = &results[0];
    assert!(small["p_value"].as_f64().unwrap() < 0.05, "{small}");
    assert!(small["effect_size"].as_f64().unwrap() < 0.01, "{small}");
    assert_eq!(small["min_effect"], 0.05);
    assert_eq!(small["drifted"], false, "{small}");
    let large = &results[1];
    assert!(large["effect_size"].as_f64().unwrap() > 0.09, "{large}");
    assert_eq!(large["drifted"], true, "{large}");
    let metrics = server.metrics().await;
    let labels = "feature=\"x\",monitor=\"m\",test=\"ks\"";
    for name in [
        "driftscope_feature_drift_effect_size",
        "driftscope_feature_drift_p_value_adjusted",
        "driftscope_feature_drift_min_effect",
    ] {
        assert!(common::metric(&metrics, name, labels).is_some(), "{name}");
    }
}

/// `threshold: auto`: distances get a learned null and a p-value, join the Holm family, and
/// keep the any-feature false-alarm rate at α while still catching a real shift.
#[test]
fn learned_thresholds_give_distances_calibrated_p_values() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    write_reference(&reference, 12_000, 4, 2, 11);
    let config_path = dir.path().join("monitors.yaml");
    let text = format!(
        "monitors:\n  - name: learned\n    reference: {}\n    features:\n      numerical:\n        \
         - {{name: x0, test: wasserstein, threshold: auto}}\n        \
         - {{name: x1, test: psi, threshold: auto}}\n        - x2\n        - x3\n      \
         categorical:\n        - {{name: c0, test: jensenshannon, threshold: auto}}\n        - c1\n    \
         window: {{rows: 200}}\n",
        reference.display()
    );
    std::fs::write(&config_path, &text).unwrap();
    let report = run_calibrate(&config_path, 5, 300);
    let any = report["any_feature_false_alarm"]["rate"].as_f64().unwrap();
    assert!(any <= upper_tolerance(0.05, 300), "any-feature rate {any}");
    assert_eq!(
        tests_of(&report),
        [
            "wasserstein",
            "psi",
            "ks",
            "ks",
            "jensenshannon",
            "chisquare"
        ]
    );
    let features = report["features"].as_array().unwrap();
    let wasserstein = &features[0]["detection"]["mean+0.5sd"]["rate"];
    assert!(wasserstein.as_f64().unwrap() > 0.9, "{report}");

    // Exact-p-value tests refuse `auto`, naming the key.
    std::fs::write(
        &config_path,
        text.replace("test: psi, threshold: auto", "test: ks, threshold: auto"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_driftscope"))
        .args(["check", "--config"])
        .arg(&config_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("monitors[0].features.numerical[1].threshold: `auto` learns thresholds"),
        "{stderr}"
    );
}
