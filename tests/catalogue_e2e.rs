//! The drift-test catalogue through the public interface: a config naming every new test
//! (several by Evidently's spellings) passes `driftscope check`, misuses get clear errors, and a
//! running server reports each test's score, p-value and verdict with the right `test` label on
//! `/metrics` and in the window JSON, including a window where a test is not computable.

mod common;

use std::process::Command;

use common::{Rng, TestServer, fixture_reference, metric, rows};
use serde_json::{Value, json};

/// Per monitor: (name, x's test, y's test, c's test, b's test, prediction's test), as written in
/// the config, and the name each reports.
const MONITORS: [[(&str, &str); 5]; 3] = [
    [
        ("anderson", "anderson"),
        ("energy_distance", "ed"),
        ("g_test", "g_test"),
        ("fisher_exact", "fisher_exact"),
        ("TVD", "tvd"),
    ],
    [
        ("mannw", "mannw"),
        ("epps_singleton", "es"),
        ("kl_div", "kl_div"),
        ("hellinger", "hellinger"),
        ("g_test", "g_test"),
    ],
    [
        ("t_test", "t_test"),
        ("cramer_von_mises", "cramer_von_mises"),
        ("tvd", "tvd"),
        ("es", "es"),
        ("hellinger", "hellinger"),
    ],
];

fn config() -> String {
    let mut text = "server:\n  listen: 127.0.0.1:0\nmonitors:\n".to_owned();
    for (i, tests) in MONITORS.iter().enumerate() {
        let [x, y, c, b, prediction] = tests.map(|t| t.0);
        // The last monitor's `b` is numerical, so Epps–Singleton applies to it.
        let (numerical, categorical) = if i == 2 {
            (
                format!("[{{name: x, test: {x}}}, {{name: y, test: {y}}}, {{name: b, test: {b}}}]"),
                format!("[{{name: c, test: {c}}}]"),
            )
        } else {
            (
                format!("[{{name: x, test: {x}}}, {{name: y, test: {y}}}]"),
                format!("[{{name: c, test: {c}}}, {{name: b, test: {b}}}]"),
            )
        };
        text += &format!(
            "  - name: m{i}\n    reference: {}\n    features:\n      numerical: {numerical}\n      \
             categorical: {categorical}\n    prediction: {{column: prediction, type: categorical, \
             test: {prediction}}}\n    target: {{column: target, type: categorical, test: \
             fisher_exact}}\n    id: id\n    window: {{rows: 400}}\n",
            fixture_reference().display()
        );
    }
    text
}

fn driftscope_check(config: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = common::driftscope_check(dir.path(), config);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_accepts_the_catalogue_and_names_misuse() {
    let (code, stderr) = driftscope_check(&config());
    assert_eq!(code, Some(0), "{stderr}");
    let bad = config()
        .replacen("{name: c, test: g_test}", "{name: c, test: anderson}", 1)
        .replacen(
            "{name: b, test: hellinger}",
            "{name: c, test: fisher_exact}",
            1,
        )
        .replacen(
            "{name: x, test: t_test}",
            "{name: x, test: mannw, threshold: auto}",
            1,
        );
    let (code, stderr) = driftscope_check(&bad);
    assert_eq!(code, Some(78), "{stderr}");
    for needle in [
        "monitors[0].features.categorical[0].test: anderson needs numeric values",
        "test fisher_exact needs a binary column, but \"c\" has 4 distinct values",
        "monitors[2].features.numerical[0].threshold: `auto` learns thresholds for distance tests",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

/// Posts rows to monitor `m{monitor}`; returns the response body.
async fn post(server: &TestServer, monitor: usize, rows: &[Value]) -> Value {
    let path = format!("/v1/monitors/m{monitor}/rows");
    let (status, body) = server
        .post_raw(
            &path,
            "application/json",
            json!({ "rows": rows }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn every_test_reports_scores_and_verdicts() {
    let server = TestServer::start(&config()).await;
    let mut rng = Rng::new(7);
    let (clean, drifted) = (rows(&mut rng, 400, false), rows(&mut rng, 400, true));
    for i in 0..MONITORS.len() {
        assert_eq!(post(&server, i, &clean).await["windows_evaluated"], 1);
        let latest = &server.get_json(&format!("/v1/monitors/m{i}")).await["latest"];
        assert_eq!(latest["dataset"]["drifted"], false, "m{i} clean: {latest}");
        assert_eq!(post(&server, i, &drifted).await["windows_evaluated"], 1);
    }
    let text = server.metrics().await;
    for (i, tests) in MONITORS.iter().enumerate() {
        let latest = &server.get_json(&format!("/v1/monitors/m{i}")).await["latest"];
        let mut columns: Vec<&Value> = latest["features"].as_array().unwrap().iter().collect();
        columns.extend(latest["predictions"].as_array().unwrap());
        for (column, (_, test)) in ["x", "y", "c", "b", "prediction"].iter().zip(tests) {
            let report = columns.iter().find(|r| r["name"] == *column).unwrap();
            let what = format!("m{i}/{column}/{test}: {report}");
            assert_eq!(report["test"], *test, "{what}");
            assert_eq!(report["not_computable"], Value::Null, "{what}");
            // x, y and c are shifted in the drifted rows; b and the prediction are not.
            let shifted = ["x", "y", "c"].contains(column);
            assert_eq!(report["drifted"], shifted, "{what}");
            let score = report["score"].as_f64().unwrap();
            let kind = if *column == "prediction" {
                "prediction"
            } else {
                "feature"
            };
            let label = if *column == "prediction" {
                "column"
            } else {
                "feature"
            };
            let labels = format!("{label}=\"{column}\",monitor=\"m{i}\",test=\"{test}\"");
            // The exposition prints 16 significant digits, JSON the shortest round trip.
            let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-14 * b.abs(),
                (a, b) => a == b,
            };
            let exported = metric(&text, &format!("driftscope_{kind}_drift_score"), &labels);
            assert!(same(exported, Some(score)), "{exported:?} {what}");
            let p = metric(&text, &format!("driftscope_{kind}_drift_p_value"), &labels);
            assert!(same(p, report["p_value"].as_f64()), "{p:?} {what}");
            let detected = format!("{label}=\"{column}\",monitor=\"m{i}\"");
            let flag = metric(
                &text,
                &format!("driftscope_{kind}_drift_detected"),
                &detected,
            );
            assert_eq!(flag, Some(f64::from(u8::from(shifted))), "{what}");
        }
    }
}

/// A window where `x` and `y` hold one value each: Welch's t and Cramér–von Mises need two per
/// side, so they report `too_few_values` with no score and no verdict, and their score series
/// is removed from `/metrics` rather than left stale.
#[tokio::test]
async fn a_test_without_an_answer_says_why() {
    let server = TestServer::start(&config()).await;
    let mut rng = Rng::new(3);
    let mut sparse = rows(&mut rng, 400, true);
    for row in &mut sparse[1..] {
        row["x"] = Value::Null;
        row["y"] = Value::Null;
    }
    post(&server, 2, &sparse).await;
    let latest = &server.get_json("/v1/monitors/m2").await["latest"];
    for (column, test) in [("x", "t_test"), ("y", "cramer_von_mises")] {
        let features = latest["features"].as_array().unwrap();
        let report = features.iter().find(|r| r["name"] == column).unwrap();
        assert_eq!(report["test"], test);
        assert_eq!(report["not_computable"], "too_few_values", "{report}");
        assert_eq!(report["values"], 1);
        assert_eq!(report["missing"], 399);
        for key in ["score", "p_value", "p_value_adjusted", "effect_size"] {
            assert_eq!(report[key], Value::Null, "{key}: {report}");
        }
        assert_eq!(report["drifted"], false);
        let labels = format!("feature=\"{column}\",monitor=\"m2\",test=\"{test}\"");
        let text = server.metrics().await;
        assert_eq!(
            metric(&text, "driftscope_feature_drift_score", &labels),
            None
        );
    }
}

/// `driftscope calibrate` runs the new p-value tests in the monitor's Holm family: clean
/// windows stay within α's binomial tolerance, a 0.5σ mean shift is caught. Not `es`: its χ²
/// approximation is liberal when the window is much smaller than the reference (scipy's too:
/// 15 % of 100-vs-700 splits below 0.05; README), which this 100-row window would show.
#[test]
fn calibrate_measures_the_new_p_value_tests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitors.yaml");
    for (x, y) in [("anderson", "mannw"), ("t_test", "cramer_von_mises")] {
        let config = format!(
            "monitors:\n  - name: m\n    reference: {}\n    features:\n      numerical: \
             [{{name: x, test: {x}}}, {{name: y, test: {y}}}]\n      categorical: \
             [{{name: c, test: g_test}}, {{name: b, test: fisher_exact}}]\n    \
             window: {{rows: 100}}\n",
            fixture_reference().display()
        );
        std::fs::write(&path, config).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_driftscope"))
            .args([
                "calibrate",
                "--format",
                "json",
                "--windows",
                "200",
                "--config",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let features = report["features"].as_array().unwrap();
        let tests: Vec<&str> = features
            .iter()
            .map(|f| f["test"].as_str().unwrap())
            .collect();
        assert_eq!(tests, [x, y, "g_test", "fisher_exact"]);
        // α + the one-sided 99 % binomial tolerance for 200 windows.
        let any = report["any_feature_false_alarm"]["rate"].as_f64().unwrap();
        assert!(
            any <= 0.05 + 2.326 * (0.05f64 * 0.95 / 200.0).sqrt(),
            "{x}/{y}: {any}"
        );
        for feature in &features[..2] {
            let caught = feature["detection"]["mean+0.5sd"]["rate"].as_f64().unwrap();
            eprintln!(
                "{}: false {}, mean+0.5sd {caught}",
                feature["test"], feature["false_alarm"]["rate"]
            );
            assert!(caught > 0.8, "{feature}");
        }
    }
}

/// `driftscope report` says so when a test has no answer: x holds one value in the current
/// file, too few for Welch's t.
#[test]
fn report_names_a_test_without_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("monitors.yaml");
    std::fs::write(
        &config,
        format!(
            "monitors:\n  - name: r\n    reference: {}\n    features:\n      numerical: \
             [{{name: x, test: t_test}}, {{name: y, test: anderson}}]\n    window: {{rows: 100}}\n",
            fixture_reference().display()
        ),
    )
    .unwrap();
    let current = dir.path().join("current.csv");
    let mut csv = String::from("x,y\n50.5,0.5\n");
    for i in 0..99 {
        csv += &format!(",{}\n", f64::from(i) / 99.0);
    }
    std::fs::write(&current, csv).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_driftscope"))
        .args(["report", "--reference"])
        .arg(fixture_reference())
        .arg("--current")
        .arg(&current)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = |name: &str| {
        let found = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name));
        found
            .unwrap_or_else(|| panic!("no {name} line in\n{stdout}"))
            .to_owned()
    };
    assert!(line("x").contains("not computable"), "{stdout}");
    assert!(!line("y").contains("not computable"), "{stdout}");
}
