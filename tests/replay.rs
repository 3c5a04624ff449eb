//! `driftscope replay` through the binary against a running `driftscope serve` (127.0.0.1, a
//! free port, stopped by PID): rows arrive at the asked rate, injected drift is detected in the
//! later windows only, labels join, and a refused request ends the replay with the service's
//! message.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `driftscope serve` process over a temp config; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(monitor_extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("monitors.yaml");
        std::fs::write(&config, common::config_text(monitor_extra, "")).unwrap();
        let (child, port) = common::spawn_server(&config, &[], Stdio::null());
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (_, body) = answer.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap()
    }

    /// Replays `file` with `args` into this server.
    fn replay(&self, file: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_driftscope"))
            .arg("replay")
            .arg(file)
            .args(["--url", &self.url()])
            .args(args)
            .env_remove("DRIFTSCOPE_TOKEN")
            .output()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixture reference without its last column (the target), written into `dir`.
fn without_target(reference: &Path, dir: &Path) -> std::path::PathBuf {
    let file = dir.join("rows.csv");
    let csv = std::fs::read_to_string(reference).unwrap();
    let rows: Vec<&str> = csv.lines().map(|l| l.rsplit_once(',').unwrap().0).collect();
    std::fs::write(&file, rows.join("\n")).unwrap();
    file
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn replays_at_the_rate_with_injected_drift_in_the_later_windows_and_labels() {
    let server = Server::start("    window: {rows: 200}\n");
    // The reference without its target: 800 rows, four windows; x shifted from row 400 on.
    // The ground truth follows from the reference itself (--labels), joined by id.
    let labels = common::fixture_reference();
    let dir = tempfile::tempdir().unwrap();
    let file = without_target(&labels, dir.path());
    let started = Instant::now();
    let output = server.replay(
        &file,
        &[
            "--monitor",
            "m",
            "--rate",
            "2000",
            "--batch",
            "100",
            "--inject",
            "x+=25",
            "--labels",
            labels.to_str().unwrap(),
            "--target-column",
            "target",
        ],
    );
    let elapsed = started.elapsed();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // 8 batches of 100 at 2 000 rows/s: the last goes out 0.35 s after the first.
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    for line in [
        "replay: 800 rows of ",
        ", in file order, target 2000 rows/s",
        "inject: x+=25 on replay rows 400..800 (400 rows)",
        "rows: 800 sent in ",
        "latency: p50 ",
        "responses: 200 × 8",
        "retries: 0, errors: 0 batches (0 rows not accepted)",
        "service: accepted 800, windows_evaluated 4, labelled_windows_evaluated 0, dropped 0",
        "labels: 800 sent in ",
        "service: matched 800, labelled_windows_evaluated 4",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    let achieved: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("rows: 800 sent in "))
        .and_then(|l| l.split(" (").nth(1)?.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(
        achieved <= 2_300.0,
        "achieved {achieved} rows/s, target 2000"
    );

    let results = server.get("/v1/monitors/m");
    let history = results["history"].as_array().unwrap();
    assert_eq!(history.len(), 4, "{results}");
    let drifted: Vec<bool> = history
        .iter()
        .map(|w| {
            w["drifted_features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "x")
        })
        .collect();
    assert_eq!(drifted, [false, false, true, true], "{results}");
    assert_eq!(results["labelled"]["history"].as_array().unwrap().len(), 4);
}

#[test]
fn an_unknown_monitor_fails_with_the_services_message() {
    let server = Server::start("    window: {rows: 200}\n");
    let output = server.replay(&common::fixture_reference(), &["--monitor", "nope"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the service refused")
            && stderr.contains("HTTP 404 Not Found: monitor \"nope\" is not configured"),
        "{stderr}"
    );
    assert!(stdout.contains("responses: 404 × 1"), "{stdout}");
}

#[test]
fn bad_inject_specs_and_columns_are_named() {
    let file = common::fixture_reference();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_driftscope"))
            .arg("replay")
            .arg(&file)
            .args(["--monitor", "m", "--url", "http://127.0.0.1:9"])
            .args(args)
            .output()
            .unwrap();
        (output.status.code(), text(&output).1)
    };
    let (code, stderr) = run(&["--inject", "x+=ten"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(r#"bad inject spec "x+=ten": "ten" is not a number"#),
        "{stderr}"
    );
    let (code, stderr) = run(&["--inject", "z+=1"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(r#"--inject z+=1: no column "z"; columns: id, x, y, c, b"#),
        "{stderr}"
    );
    let (code, stderr) = run(&["--inject", "c*=2"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains(r#"column "c" is text"#), "{stderr}");
}

#[test]
fn every_body_format_and_encoding_gives_the_same_windows() {
    let labels = common::fixture_reference();
    let dir = tempfile::tempdir().unwrap();
    let file = without_target(&labels, dir.path());
    let mut histories = Vec::new();
    for args in [
        &["--format", "rows"][..],
        &["--format", "ndjson", "--compress", "gzip"],
        &["--format", "columns", "--compress", "zstd"],
        &["--format", "arrow"],
    ] {
        let server = Server::start("    window: {rows: 200}\n");
        let mut all = vec!["--monitor", "m", "--batch", "150", "--inject", "x+=25"];
        all.extend(args);
        all.extend([
            "--labels",
            labels.to_str().unwrap(),
            "--target-column",
            "target",
        ]);
        let output = server.replay(&file, &all);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{args:?}\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("service: accepted 800, windows_evaluated 4"),
            "{args:?}\n{stdout}"
        );
        assert!(
            stdout.contains("service: matched 800"),
            "{args:?}\n{stdout}"
        );
        let results = server.get("/v1/monitors/m");
        // Windows run on arrival time: everything but their times must agree.
        let mut windows = vec![
            results["history"].clone(),
            results["labelled"]["history"].clone(),
        ];
        for window in windows.iter_mut().flat_map(|h| h.as_array_mut().unwrap()) {
            let window = window.as_object_mut().unwrap();
            window.remove("start");
            window.remove("end");
        }
        histories.push(windows);
    }
    assert_eq!(histories[0], histories[1]);
    assert_eq!(histories[0], histories[2]);
}
