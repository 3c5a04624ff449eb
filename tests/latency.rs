//! Prediction latency through the public interfaces: latencies in milliseconds sent as row JSON,
//! NDJSON and columnar JSON; the histogram, slow counter and latency drift in `/metrics` and
//! the window JSON; `driftscope check` on bad latency keys; a restart that replays the log
//! without counting a window twice; a reload that keeps the latency series and buffer.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{TestServer, metric};
use serde_json::{Value, json};

/// A reference with a feature `x` and latencies of 20–119 ms.
fn write_reference(dir: &Path) -> PathBuf {
    let mut csv = String::from("x,latency_ms\n");
    for i in 0..200 {
        csv += &format!("{},{}\n", 50 + i % 20, 20 + (i * 7) % 100);
    }
    let path = dir.join("reference.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn config(reference: &Path, extra: &str) -> String {
    format!(
        "server:\n  listen: 127.0.0.1:0\nmonitors:\n  - name: m\n    reference: {}\n    \
         features:\n      numerical: [x]\n    latency: {{column: latency_ms, unit: ms}}\n    \
         window: {{rows: 10}}\n    alerting: {{slow_prediction_seconds: 0.5}}\n{extra}",
        reference.display()
    )
}

/// The first window's latencies (ms): one negative, so invalid.
const LATENCIES: [f64; 10] = [
    3.0, 7.0, 12.0, 40.0, 90.0, 120.0, 600.0, 2500.0, 12000.0, -1.0,
];

/// Cumulative bucket counts of the valid latencies above, per upper bound (seconds).
const BUCKETS: [(&str, f64); 14] = [
    ("0.005", 1.0),
    ("0.01", 2.0),
    ("0.025", 3.0),
    ("0.05", 4.0),
    ("0.1", 5.0),
    ("0.25", 6.0),
    ("0.5", 6.0),
    ("1", 7.0),
    ("2.5", 8.0),
    ("5", 8.0),
    ("10", 8.0),
    ("30", 9.0),
    ("60", 9.0),
    ("+Inf", 9.0),
];

fn row(i: usize, latency: f64) -> Value {
    json!({"x": 50 + (2 * i) % 20, "latency_ms": latency})
}

/// POSTs a rows body to monitor `m` of the server at `base`; the answer's JSON.
async fn post(base: &str, content_type: &str, body: String) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/monitors/m/rows"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// Sends the first window in the three body formats: 4 row objects, 3 NDJSON lines, 3 as
/// columns.
async fn send_first_window(base: &str) {
    let rows: Vec<Value> = (0..4).map(|i| row(i, LATENCIES[i])).collect();
    let json = "application/json";
    post(base, json, json!({ "rows": rows }).to_string()).await;
    let ndjson: String = (4..7)
        .map(|i| format!("{}\n", row(i, LATENCIES[i])))
        .collect();
    post(base, "application/x-ndjson", ndjson).await;
    let columns = json!({"columns": {
        "x": [64, 66, 68],
        "latency_ms": &LATENCIES[7..],
    }});
    let body = post(base, json, columns.to_string()).await;
    assert_eq!(body["windows_evaluated"], 1, "{body}");
}

fn assert_first_window_metrics(text: &str, windows: f64) {
    let m = "monitor=\"m\"";
    for (le, count) in BUCKETS {
        let labels = format!("{m},le=\"{le}\"");
        assert_eq!(
            metric(
                text,
                "driftscope_prediction_latency_seconds_bucket",
                &labels
            ),
            Some(count * windows),
            "le {le}\n{text}"
        );
    }
    let count = metric(text, "driftscope_prediction_latency_seconds_count", m);
    assert_eq!(count, Some(9.0 * windows));
    let sum = metric(text, "driftscope_prediction_latency_seconds_sum", m).unwrap();
    assert!((sum - 15.372 * windows).abs() < 1e-9, "{sum}");
    // 0.6 s, 2.5 s and 12 s are over the configured 0.5 s.
    let slow = metric(text, "driftscope_slow_predictions_total", m);
    assert_eq!(slow, Some(3.0 * windows));
}

#[tokio::test]
async fn latencies_fill_the_histogram_the_slow_counter_and_the_window_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&config(&write_reference(dir.path()), "")).await;
    send_first_window(&server.url("")).await;

    let text = server.metrics().await;
    assert_first_window_metrics(&text, 1.0);
    let m = "monitor=\"m\"";
    let column = "column=\"latency_ms\",monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_slow_prediction_threshold_seconds", m),
        Some(0.5)
    );
    assert_eq!(
        metric(&text, "driftscope_slow_prediction_max_ratio", m),
        Some(0.05)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_values_invalid_total",
            "feature=\"latency_ms\",monitor=\"m\""
        ),
        Some(1.0)
    );
    // Latencies far from the reference's 20–119 ms: latency drifts, the dataset does not.
    assert_eq!(
        metric(&text, "driftscope_latency_drift_detected", column),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "driftscope_dataset_drift_share", m),
        Some(0.0)
    );

    let results = server.get_json("/v1/monitors/m").await;
    let latency = &results["latest"]["latency"];
    assert_eq!(latency["column"], "latency_ms");
    assert_eq!(
        (&latency["count"], &latency["missing"], &latency["invalid"]),
        (&json!(9), &json!(0), &json!(1))
    );
    assert_eq!(
        (&latency["slow"], &latency["slow_threshold_seconds"]),
        (&json!(3), &json!(0.5))
    );
    // Sorted: 0.003 0.007 0.012 0.04 0.09 0.12 0.6 2.5 12; numpy.quantile (linear).
    assert_eq!(latency["p50_seconds"], json!(0.09));
    let p90 = latency["p90_seconds"].as_f64().unwrap();
    assert!((p90 - 4.4).abs() < 1e-12, "{p90}");
    let p99 = latency["p99_seconds"].as_f64().unwrap();
    assert!((p99 - 11.24).abs() < 1e-12, "{p99}");
    let buckets = latency["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), BUCKETS.len() - 1);
    assert_eq!(buckets[8], json!({"le": 2.5, "count": 8}));
    let drift = &latency["drift"];
    assert_eq!(
        (&drift["name"], &drift["test"]),
        (&json!("latency_ms"), &json!("ks"))
    );
    assert_eq!(drift["drifted"], true);
    assert_eq!(results["latest"]["dataset"]["features_evaluated"], 1);

    // A window like the reference: no latency drift; the histogram grows by exactly its rows.
    let rows: Vec<Value> = (0..10).map(|i| row(i, (20 + i * 11) as f64)).collect();
    let (_, body) = server.post_rows(&json!({ "rows": rows })).await;
    assert_eq!(body["windows_evaluated"], 1);
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_prediction_latency_seconds_count", m),
        Some(19.0)
    );
    assert_eq!(
        metric(&text, "driftscope_slow_predictions_total", m),
        Some(3.0)
    );
    assert_eq!(
        metric(&text, "driftscope_latency_drift_detected", column),
        Some(0.0)
    );
}

#[tokio::test]
async fn without_a_reference_latency_column_only_drift_testing_is_off() {
    let config = common::config_text(
        "    window: {rows: 4}\n    latency: {column: latency_s, unit: s}\n",
        "",
    );
    let server = TestServer::start(&config).await;
    let mut rows = common::rows(&mut common::Rng::new(3), 4, false);
    for (row, latency) in rows.iter_mut().zip([0.2, 11.0, 0.03, 9.5]) {
        row["latency_s"] = json!(latency);
    }
    let (_, body) = server.post_rows(&json!({ "rows": rows })).await;
    assert_eq!(body["windows_evaluated"], 1, "{body}");
    let latest = &server.get_json("/v1/monitors/m").await["latest"];
    // The target belongs to labelled windows: not tested on the latency column.
    let predictions: Vec<&Value> = latest["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(predictions, [&json!("prediction")]);
    let latency = &latest["latency"];
    assert_eq!(
        (&latency["count"], &latency["slow"]),
        (&json!(4), &json!(1))
    );
    assert_eq!(latency["drift"], Value::Null);
    let text = server.metrics().await;
    assert_eq!(
        metric(
            &text,
            "driftscope_prediction_latency_seconds_count",
            "monitor=\"m\""
        ),
        Some(4.0)
    );
    assert!(!text.contains("driftscope_latency_drift_score{"), "{text}");
}

/// `driftscope check` on `config` next to the latency reference: exit status, stdout, stderr.
fn check(config: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    write_reference(dir.path());
    let output = common::driftscope_check(dir.path(), config);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_explains_bad_latency_settings() {
    let reference = Path::new("reference.csv");
    let (status, _, stderr) = check(&config(reference, "").replace("unit: ms", "unit: us"));
    assert_eq!(status, Some(78), "{stderr}");
    assert!(
        stderr.contains("unknown latency unit \"us\"; use `s` (seconds) or `ms`"),
        "{stderr}"
    );

    let clash = config(reference, "")
        .replace("column: latency_ms", "column: x")
        .replace(
            "slow_prediction_seconds: 0.5",
            "slow_prediction_seconds: -1",
        );
    let (status, _, stderr) = check(&clash);
    assert_eq!(status, Some(78), "{stderr}");
    for needle in [
        "monitors[0].latency.column: column \"x\" is also a feature",
        "monitors[0].alerting.slow_prediction_seconds: must be a number of seconds > 0, got -1",
    ] {
        assert!(stderr.contains(needle), "{needle} missing from {stderr}");
    }

    // A latency column the reference lacks is valid, with a note.
    let elsewhere = config(reference, "").replace("column: latency_ms", "column: latency_s");
    let (status, stdout, stderr) = check(&elsewhere.replace("unit: ms", "unit: s"));
    assert_eq!(status, Some(0), "{stderr}");
    assert!(
        stdout.contains("note: monitor \"m\": the reference has no latency column \"latency_s\""),
        "{stdout}"
    );
}

/// GET over a fresh connection (the process variant of `TestServer::metrics`).
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[tokio::test]
async fn a_killed_server_replays_its_log_without_counting_a_window_twice() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_reference(dir.path());
    let path = dir.path().join("monitors.yaml");
    std::fs::write(&path, config(&reference, "")).unwrap();
    let state = dir.path().join("state");
    let args = [std::ffi::OsStr::new("--state-dir"), state.as_os_str()];
    let (mut child, port) = common::spawn_server(&path, &args, Stdio::null());
    let base = format!("http://127.0.0.1:{port}");
    send_first_window(&base).await;
    assert_first_window_metrics(&get(port, "/metrics"), 1.0);
    common::signal(child.id(), "9");
    child.wait().unwrap();

    // The log is replayed: the window is evaluated again into the results, not the metrics.
    let (mut child, port) = common::spawn_server(&path, &args, Stdio::null());
    let results: Value = serde_json::from_str(&get(port, "/v1/monitors/m")).unwrap();
    assert_eq!(results["latest"]["latency"]["count"], 9, "{results}");
    let text = get(port, "/metrics");
    let m = "monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_prediction_latency_seconds_count", m),
        Some(0.0)
    );
    assert_eq!(
        metric(&text, "driftscope_slow_predictions_total", m),
        Some(0.0)
    );
    // The next window counts once.
    send_first_window(&format!("http://127.0.0.1:{port}")).await;
    assert_first_window_metrics(&get(port, "/metrics"), 1.0);
    common::signal(child.id(), "TERM");
    child.wait().unwrap();
}

#[tokio::test]
async fn a_reload_keeps_latency_series_and_the_open_windows_latencies() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_reference(dir.path());
    let path = dir.path().join("monitors.yaml");
    std::fs::write(&path, config(&reference, "")).unwrap();
    let (mut child, port) = common::spawn_server(&path, &[], Stdio::null());
    let base = format!("http://127.0.0.1:{port}");
    send_first_window(&base).await;
    // Half a window before the reload, half after: the latency buffer is carried over.
    let rows = |from: usize| -> Vec<Value> { (from..from + 5).map(|i| row(i, 50.0)).collect() };
    post(
        &base,
        "application/json",
        json!({ "rows": rows(0) }).to_string(),
    )
    .await;

    let faster = config(&reference, "").replace(
        "slow_prediction_seconds: 0.5",
        "slow_prediction_seconds: 0.04",
    );
    std::fs::write(&path, faster).unwrap();
    let reload = reqwest::Client::new()
        .post(format!("{base}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status().as_u16(), 200);
    let text = get(port, "/metrics");
    assert_first_window_metrics(&text, 1.0);
    let column = "column=\"latency_ms\",monitor=\"m\"";
    assert!(metric(&text, "driftscope_latency_drift_detected", column).is_some());
    let invalid = "feature=\"latency_ms\",monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_values_invalid_total", invalid),
        Some(1.0)
    );

    let body = post(
        &base,
        "application/json",
        json!({ "rows": rows(5) }).to_string(),
    )
    .await;
    assert_eq!(body["windows_evaluated"], 1, "{body}");
    let results: Value = serde_json::from_str(&get(port, "/v1/monitors/m")).unwrap();
    let latency = &results["latest"]["latency"];
    // All 10 rows kept their 50 ms latency, now over the reloaded 40 ms threshold.
    assert_eq!(
        (&latency["count"], &latency["slow"]),
        (&json!(10), &json!(10)),
        "{latency}"
    );
    common::signal(child.id(), "TERM");
    child.wait().unwrap();
}
