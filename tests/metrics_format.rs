//! `/metrics` is valid Prometheus text: checked with `promtool check metrics` after a drifted
//! window has populated every series. CI installs promtool (`.ci/run`); elsewhere the test says
//! it was skipped when promtool is absent.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Rng, TestServer, config_text, rows};
use serde_json::json;

#[tokio::test]
async fn metrics_pass_promtool_check() {
    let server = TestServer::start(&config_text("    window: {rows: 200}\n", "")).await;
    let mut rng = Rng::new(2);
    server.post_rows(&json!(rows(&mut rng, 200, true))).await;
    server
        .post_raw("/v1/monitors/m/rows", "application/json", "{".into())
        .await;
    let text = server.metrics().await;
    assert!(text.contains("driftscope_feature_drift_score{"), "{text}");

    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install promtool (see .ci/run)"
        );
        eprintln!("SKIPPED: promtool not installed");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool found problems:\n{report}"
    );
}
