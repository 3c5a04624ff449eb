//! `driftscope report` on files (the binary: exit codes, text, JSON and HTML) and the live
//! report page `GET /ui/monitors/{name}`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Rng, TestServer, config_text, rows};
use serde_json::{Value, json};

fn driftscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const FIXTURE: &str = "tests/fixtures/reference.csv";

/// Writes rows like the fixture's (`common::rows`, plus a random target) as CSV, with `edit`
/// applied to each row first.
fn current_csv(dir: &Path, drifted: bool, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut rng = Rng::new(7);
    let mut csv = String::from("id,x,y,c,b,prediction,target\n");
    for (i, mut row) in rows(&mut rng, 800, drifted).into_iter().enumerate() {
        edit(&mut row);
        let field = |k: &str| match &row[k] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            field("id"),
            field("x"),
            field("y"),
            field("c"),
            field("b"),
            field("prediction"),
            i % 2
        ));
    }
    let path = dir.join(if drifted {
        "drifted.csv"
    } else {
        "current.csv"
    });
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn a_drifted_file_exits_1_and_names_the_drifted_features() {
    let dir = tempfile::tempdir().unwrap();
    let current = current_csv(dir.path(), true, |_| {});
    let output = driftscope(&[
        "report",
        "--reference",
        FIXTURE,
        "--current",
        current.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    let drifted = stdout
        .lines()
        .find(|l| l.starts_with("drifted features:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    for feature in ["x", "y", "c"] {
        assert!(
            drifted.split([' ', ',']).any(|w| w == feature),
            "{feature} not in {drifted:?}\n{stdout}"
        );
    }
    assert!(stdout.contains("dataset drift: YES"), "{stdout}");
}

#[test]
fn the_reference_against_itself_exits_0() {
    for args in [
        vec![
            "report",
            "--reference",
            "reference_data/employment_ma_2015.parquet",
            "--current",
            "reference_data/employment_ma_2015.parquet",
        ],
        vec![
            "report",
            "--config",
            "monitors.yaml",
            "--current",
            "reference_data/employment_ma_2015.parquet",
            "--format",
            "json",
        ],
    ] {
        let output = driftscope(&args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?}\n{stdout}{stderr}");
    }
}

#[test]
fn fail_on_dataset_ignores_a_single_drifted_feature() {
    let dir = tempfile::tempdir().unwrap();
    let current = current_csv(dir.path(), false, |row| {
        row["x"] = json!(row["x"].as_f64().unwrap() + 8.0);
    });
    let current = current.to_str().unwrap();
    let any = driftscope(&["report", "--reference", FIXTURE, "--current", current]);
    let (stdout, stderr) = text(&any);
    assert_eq!(any.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("drifted features: x\n"), "{stdout}");
    let dataset = driftscope(&[
        "report",
        "--reference",
        FIXTURE,
        "--current",
        current,
        "--fail-on",
        "dataset",
    ]);
    let (stdout, stderr) = text(&dataset);
    assert_eq!(dataset.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("dataset drift: no"), "{stdout}");
}

#[test]
fn json_is_the_services_window_report() {
    let dir = tempfile::tempdir().unwrap();
    let current = current_csv(dir.path(), true, |_| {});
    let out = dir.path().join("report.json");
    let output = driftscope(&[
        "report",
        "--config",
        "monitors.yaml",
        "--reference",
        FIXTURE,
        "--current",
        current.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    // monitors.yaml's columns are not in the fixture: an input problem of the config (78).
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(78), "{stdout}{stderr}");
    assert!(stderr.contains("AGEP"), "{stderr}");

    let config = dir.path().join("monitors.yaml");
    std::fs::write(
        &config,
        config_text("    window: {rows: 100}\n    policy: evidently\n", ""),
    )
    .unwrap();
    let output = driftscope(&[
        "report",
        "--config",
        config.to_str().unwrap(),
        "--monitor",
        "m",
        "--current",
        current.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["rows"], 800);
    assert_eq!(report["dataset"]["drifted"], true, "{report}");
    let names: Vec<&str> = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "y", "c", "b"]);
    let x = &report["features"][0];
    for key in [
        "test",
        "score",
        "p_value",
        "p_value_adjusted",
        "threshold",
        "drifted",
    ] {
        assert!(x.get(key).is_some(), "{key} missing in {x}");
    }
    // The config's policy applies: evidently's matrix on an 800-row reference.
    assert_eq!(x["test"], "ks");
    assert_eq!(report["predictions"][0]["name"], "prediction");
}

#[test]
fn html_draws_every_feature_and_escapes_hostile_names() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<script>alert(1)</script>";
    let (mut reference, mut current) = (
        String::from("\"n<i>\",cat\n"),
        String::from("\"n<i>\",cat\n"),
    );
    let mut rng = Rng::new(3);
    for i in 0..400 {
        let cat = ["a", "b", hostile][i % 3];
        reference.push_str(&format!("{:.3},\"{cat}\"\n", rng.normal(0.0, 1.0)));
        current.push_str(&format!("{:.3},\"{cat}\"\n", rng.normal(0.5, 1.0)));
    }
    current.push_str("1.0,\"<img src=x onerror=alert(2)>\"\n");
    let (r, c) = (dir.path().join("r.csv"), dir.path().join("c.csv"));
    std::fs::write(&r, reference).unwrap();
    std::fs::write(&c, current).unwrap();
    let output = driftscope(&[
        "report",
        "--reference",
        r.to_str().unwrap(),
        "--current",
        c.to_str().unwrap(),
        "--format",
        "html",
    ]);
    let (html, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 2, "{html}");
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<i>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("n&lt;i&gt;"), "{html}");
    assert!(html.contains("new categories"), "{html}");
    assert!(
        !html.contains("http://") || !html.contains("<link"),
        "no external resources"
    );
}

#[test]
fn bad_inputs_exit_non_zero_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let narrow = dir.path().join("narrow.csv");
    std::fs::write(&narrow, "x,y\n1,2\n3,4\n").unwrap();
    let bad_config = dir.path().join("bad.yaml");
    std::fs::write(&bad_config, "monitors: [{name: m}]\n").unwrap();
    let cases: [(&[&str], i32, &str); 5] = [
        (&["report", "--current", FIXTURE], 2, "--reference"),
        (
            &["report", "--reference", FIXTURE, "--current", "missing.csv"],
            2,
            "missing.csv",
        ),
        (
            &[
                "report",
                "--reference",
                FIXTURE,
                "--current",
                narrow.to_str().unwrap(),
            ],
            2,
            "not found",
        ),
        (
            &[
                "report",
                "--reference",
                FIXTURE,
                "--current",
                FIXTURE,
                "--format",
                "pdf",
            ],
            2,
            "pdf",
        ),
        (
            &[
                "report",
                "--config",
                bad_config.to_str().unwrap(),
                "--current",
                FIXTURE,
            ],
            78,
            "reference",
        ),
    ];
    for (args, code, needle) in cases {
        let output = driftscope(args);
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}\n{stdout}{stderr}"
        );
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn the_live_page_shows_the_latest_window_with_charts_and_history() {
    let server = TestServer::start(&config_text("    window: {rows: 200}\n", "")).await;
    let page = server
        .client
        .get(server.url("/ui/monitors/m"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("No window has been evaluated yet")
    );
    let mut rng = Rng::new(11);
    for drifted in [false, false, true] {
        let (status, body) = server
            .post_rows(&json!({"rows": rows(&mut rng, 200, drifted)}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let page = server
        .client
        .get(server.url("/ui/monitors/m"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = page.text().await.unwrap();
    for name in ["x", "y", "c", "b", "prediction"] {
        assert!(html.contains(&format!("<td>{name}</td>")), "{name}: {html}");
    }
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 5, "{html}");
    assert!(html.matches("<svg class=\"spark\"").count() >= 4, "{html}");
    assert!(html.contains("Dataset drift: yes"), "{html}");

    let unknown = server
        .client
        .get(server.url("/ui/monitors/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_monitor", "{body}");
}
