//! Binned windows (`window.summary: binned`, time and count) through HTTP, next to an exact monitor fed
//! the same rows: the same windows, the same results where counts determine them, a bracketed
//! KS where they do not; and the config errors `driftscope check` gives.

mod common;

use std::fmt::Write as _;

use common::{Rng, TestServer, metric};
use serde_json::{Value, json};

const T0: i64 = 1_767_225_600;

/// A reference with a continuous column (too many distinct values for a bin each), a whole
/// number column and a categorical one.
fn reference(dir: &std::path::Path) -> std::path::PathBuf {
    let mut rng = Rng::new(3);
    let mut text = String::from("x,k,c\n");
    for _ in 0..6000 {
        let x = rng.normal(0.0, 1.0);
        let k = (rng.uniform() * 20.0).floor();
        let c = rng.choose(&["a", "b", "c", "d"], &[0.4, 0.3, 0.2, 0.1]);
        writeln!(text, "{x:.6},{k},{c}").unwrap();
    }
    let path = dir.join("reference.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Two monitors with the same `window` keys, `exact` and `binned` (`summary: binned`).
fn config(reference: &std::path::Path, window: &str) -> String {
    let monitor = |name: &str, extra: &str| {
        format!(
            "  - name: {name}\n    reference: {}\n    timestamp: ts\n    policy: evidently\n    \
             features:\n      numerical: [{{name: x, test: ks}}, {{name: k, test: ks}}]\n      \
             categorical: [c]\n    window: {{{window}{extra}}}\n",
            reference.display()
        )
    };
    format!(
        "server:\n  listen: 127.0.0.1:0\nmonitors:\n{}{}",
        monitor("exact", ""),
        monitor("binned", ", summary: binned, fine_bins: 256")
    )
}

/// 20 s of rows starting at `T0 + 20·i`; from batch 6 on, x is shifted.
fn batch(rng: &mut Rng, i: i64) -> Value {
    let shift = if i >= 6 { 0.3 } else { 0.0 };
    let rows: Vec<Value> = (0..400)
        .map(|j| {
            json!({
                "ts": T0 + 20 * i + j / 20,
                "x": (rng.normal(shift, 1.0) * 1e6).round() / 1e6,
                "k": (rng.uniform() * 21.0).floor(),
                "c": rng.choose(&["a", "b", "c", "d", "e"], &[0.38, 0.3, 0.2, 0.1, 0.02]),
            })
        })
        .collect();
    json!({ "rows": rows })
}

fn feature<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
}

#[tokio::test]
async fn binned_windows_match_exact_ones_and_bracket_what_counts_cannot_fix() {
    // Windows end every 20 s once the first 60 s are in: 12 batches close 11 ends.
    same_windows("duration: 60s, step: 20s", 11).await;
}

#[tokio::test]
async fn binned_count_windows_match_exact_ones() {
    // 1 200 rows evaluated every 600: 12 batches of 400 rows close 7 windows.
    same_windows("rows: 1200, step: 600", 7).await;
}

/// Posts the same 12 batches to an exact and a binned monitor with `window` and compares every
/// window published: the same where counts determine the result, bracketed where they do not.
async fn same_windows(window: &str, expected_windows: u64) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&config(&reference(dir.path()), window)).await;
    let listed = server.get_json("/v1/monitors").await;
    let windows: Vec<_> = listed["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["window"]["summary"].clone(),
                m["window"]["fine_bins"].clone(),
            )
        })
        .collect();
    assert_eq!(
        windows,
        [(json!("exact"), json!(null)), (json!("binned"), json!(256))]
    );
    let mut rng = Rng::new(9);
    let mut compared = 0_u64;
    for i in 0..12 {
        let body = batch(&mut rng, i);
        for monitor in ["exact", "binned"] {
            let path = format!("/v1/monitors/{monitor}/rows");
            let (status, reply) = server
                .post_raw(&path, "application/json", body.to_string())
                .await;
            assert_eq!((status, &reply["accepted"]), (200, &json!(400)), "{reply}");
        }
        let exact = server.get_json("/v1/monitors/exact").await["latest"].clone();
        let binned = server.get_json("/v1/monitors/binned").await["latest"].clone();
        if exact.is_null() || exact["seq"].as_u64() == Some(compared) {
            assert_eq!(exact["seq"], binned["seq"]);
            continue;
        }
        compared += 1;
        for key in ["seq", "start", "end", "rows"] {
            assert_eq!(exact[key], binned[key], "{key}");
        }
        // Few distinct values (k) and categories (c): counts fix the result exactly.
        for name in ["k", "c"] {
            let (e, b) = (feature(&exact, name), feature(&binned, name));
            for key in [
                "score",
                "p_value",
                "drifted",
                "values",
                "out_of_range",
                "new_category",
            ] {
                assert_eq!(e[key], b[key], "{name}.{key} in window {}", exact["seq"]);
            }
            assert!(b.get("approximation").is_none());
        }
        // Continuous x: the binned score is a lower bound, the approximation an upper one.
        let (e, b) = (feature(&exact, "x"), feature(&binned, "x"));
        let d = e["score"].as_f64().unwrap();
        let (lower, upper) = (
            b["score"].as_f64().unwrap(),
            b["approximation"]["score_upper"].as_f64().unwrap(),
        );
        assert!(lower <= d && d <= upper, "{lower} <= {d} <= {upper}");
        let p = e["p_value"].as_f64().unwrap();
        let (p_high, p_low) = (
            b["p_value"].as_f64().unwrap(),
            b["approximation"]["p_value_lower"].as_f64().unwrap(),
        );
        assert!(p_low <= p && p <= p_high, "{p_low} <= {p} <= {p_high}");
        assert_eq!(e["drifted"], b["drifted"], "window {}", exact["seq"]);
    }
    assert_eq!(compared, expected_windows, "{window}");
    let latest = server.get_json("/v1/monitors/binned").await["latest"].clone();
    assert_eq!(
        feature(&latest, "x")["drifted"],
        true,
        "x is shifted by 0.3 sd"
    );
    let text = server.metrics().await;
    let lower_bound = "driftscope_feature_drift_p_value_lower_bound";
    let at = |monitor: &str| format!("feature=\"x\",monitor=\"{monitor}\",test=\"ks\"");
    assert!(metric(&text, lower_bound, &at("binned")).is_some());
    assert!(metric(&text, lower_bound, &at("exact")).is_none());
}

fn check(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    let text = config.replace("REFERENCE", &reference.display().to_string());
    let out = common::driftscope_check(dir.path(), &text);
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn check_explains_what_a_binned_window_cannot_do() {
    let monitor = |features: &str, window: &str| {
        format!(
            "monitors:\n  - name: m\n    reference: REFERENCE\n    features:\n      \
             numerical: [{features}]\n    window: {{{window}}}\n"
        )
    };
    let out = check(&monitor("x", "rows: 1000, step: 300, summary: binned"));
    assert!(
        out.contains("window") && out.contains("whole number of steps (300)"),
        "{out}"
    );
    let out = check(&monitor(
        "{name: x, test: wasserstein}",
        "duration: 1h, summary: binned",
    ));
    assert!(
        out.contains("wasserstein needs the window's values"),
        "{out}"
    );
    let out = check(&monitor(
        "{name: x, test: anderson}",
        "duration: 1h, summary: binned",
    ));
    assert!(out.contains("anderson needs the window's values"), "{out}");
    let out = check(&monitor("x", "duration: 1h, step: 7m, summary: binned"));
    assert!(out.contains("whole number of steps"), "{out}");
    let out = check(&monitor("x", "duration: 1h, summary: binned, fine_bins: 3"));
    assert!(out.contains("window.fine_bins"), "{out}");
    let out = check(&monitor("x", "duration: 1h, summary: binned, max_rows: 10"));
    assert!(out.contains("window.max_rows"), "{out}");
    let latency = "duration: 1h, summary: binned}\n    latency: {column: ms, unit: ms";
    let out = check(&monitor("x", latency));
    assert!(
        out.contains(".latency") && out.contains("summary: exact"),
        "{out}"
    );
    // 24 h in 5 min steps: too many re-tests for an exact window, fine for a binned one.
    let out = check(&monitor("x", "duration: 24h, step: 5m"));
    assert!(out.contains("summary: binned"), "{out}");
}
