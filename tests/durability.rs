//! Durable state and hot reload, through the real binary: `kill -9` at random moments while a
//! client streams batches and labels, restarts on the same `--state-dir`, and the published
//! windows compared with an undisturbed run; graceful restarts; reloads by SIGHUP and
//! `POST /-/reload`. Servers bind 127.0.0.1 and are stopped by PID.

mod common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A `driftscope serve` process on a config file and state directory that outlive it.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    fn start(config: &Path, state: &Path) -> Self {
        let args = [OsStr::new("--state-dir"), state.as_os_str()];
        let (child, port) = common::spawn_server(config, &args, Stdio::null());
        Self { child, port }
    }

    fn signal(&self, name: &str) {
        common::signal(self.child.id(), name);
    }

    fn wait(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "process did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one request; `None` when the connection failed or broke before a full answer
    /// (the process died): the request's outcome is then unknown.
    fn send(&self, method: &str, path: &str, headers: &str, body: &str) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        let value = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
        Some((status, value))
    }

    /// Posts a rows body to monitor `m`; the status code.
    fn post_rows(&self, body: &str) -> u16 {
        self.send("POST", "/v1/monitors/m/rows", "", body)
            .expect("server answers")
            .0
    }

    fn get(&self, path: &str) -> Value {
        self.send("GET", path, "", "").expect("server answers").1
    }

    fn metrics(&self) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` rows like the reference, one second apart from 2026-01-01 on (event time).
fn timed_rows(seed: u64, n: usize) -> Vec<Value> {
    let mut rng = common::Rng::new(seed);
    let mut rows = common::rows(&mut rng, n, false);
    for (i, row) in rows.iter_mut().enumerate() {
        row["ts"] = json!(1_767_225_600 + i as i64);
    }
    rows
}

/// Monitor `m` over the test fixture on event time, with count windows, so what a window
/// holds depends only on the requests, never on when they arrived.
fn config(dir: &Path, monitor_extra: &str) -> PathBuf {
    let path = dir.join("monitors.yaml");
    let text = common::config_text(
        &format!("    timestamp: ts\n    history: 1000\n{monitor_extra}"),
        "",
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The client's script: row batches (some drifted) with idempotency keys, and labels for
/// part of the ids sent so far.
fn script() -> Vec<(String, String)> {
    let mut rng = common::Rng::new(11);
    let mut requests = Vec::new();
    for i in 0..150 {
        let mut rows = common::rows(&mut rng, 60, i % 10 >= 6);
        for (j, row) in rows.iter_mut().enumerate() {
            let n = i * 60 + j;
            row["id"] = json!(format!("r{n}"));
            row["ts"] = json!(1_767_225_600 + n as i64);
        }
        requests.push(("rows".to_owned(), json!({ "rows": rows }).to_string()));
        if i % 3 == 2 {
            let labels: Vec<Value> = (0..120)
                .map(|k| {
                    let n = (i - 2) * 60 + k;
                    json!({"id": format!("r{n}"), "target": (n % 3 == 0) as i64})
                })
                .collect();
            requests.push(("labels".to_owned(), json!({ "labels": labels }).to_string()));
        }
    }
    requests
}

/// Sends request `i` of the script until it is acknowledged (200).
fn deliver(process: &Process, i: usize, kind: &str, body: &str) -> Option<()> {
    let headers = format!("idempotency-key: req-{i}\r\n");
    let path = format!("/v1/monitors/m/{kind}");
    let (status, answer) = process.send("POST", &path, &headers, body)?;
    assert_eq!(status, 200, "{answer}");
    Some(())
}

/// What must be identical between runs: every published window, in order.
fn published(results: &Value) -> (Value, Vec<Value>) {
    let labelled = results["labelled"]["history"]
        .as_array()
        .unwrap()
        .iter()
        // Labelled windows are timed by label arrival; their content and verdicts must match.
        .map(|w| {
            json!([
                w["seq"],
                w["rows"],
                w["target_drifted"],
                w["concept_drifted"]
            ])
        })
        .collect();
    (results["history"].clone(), labelled)
}

#[test]
fn kill_9_at_random_moments_loses_no_acknowledged_row_and_publishes_identical_windows() {
    let requests = script();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "    window: {rows: 100}\n");

    let mut undisturbed = Process::start(&config, &dir.path().join("state-a"));
    for (i, (kind, body)) in requests.iter().enumerate() {
        deliver(&undisturbed, i, kind, body).expect("undisturbed run");
    }
    let expected = undisturbed.get("/v1/monitors/m");
    undisturbed.signal("TERM");
    undisturbed.wait();
    let (history, labelled) = published(&expected);
    assert!(history.as_array().unwrap().len() >= 80, "{expected}");
    assert!(labelled.len() >= 20, "{expected}");

    // Kill the second run at random moments; after each restart, resend from the first
    // request that was not acknowledged, with the same idempotency key.
    let state = dir.path().join("state-b");
    let mut rng = common::Rng::new(5);
    let mut next = 0;
    let mut kills = 0;
    while next < requests.len() {
        let process = Process::start(&config, &state);
        let pid = process.child.id();
        let delay = Duration::from_micros((rng.uniform() * 15_000.0) as u64);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            common::signal(pid, "9");
        });
        while next < requests.len() {
            let (kind, body) = &requests[next];
            if deliver(&process, next, kind, body).is_none() {
                break;
            }
            next += 1;
        }
        killer.join().unwrap();
        kills += 1;
        drop(process);
    }
    eprintln!("{kills} kill -9s over {} requests", requests.len());
    assert!(
        kills >= 5,
        "only {kills} kills: the script ran faster than the killer"
    );
    let survivor = Process::start(&config, &state);
    let recovered = survivor.get("/v1/monitors/m");
    assert_eq!(
        published(&recovered),
        published(&expected),
        "after {kills} kills"
    );
    assert_eq!(recovered["buffered_rows"], expected["buffered_rows"]);
    assert_eq!(
        recovered["labelled"]["pending_predictions"],
        expected["labelled"]["pending_predictions"]
    );
}

#[test]
fn a_graceful_restart_resumes_open_windows_and_reload_keeps_state() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "    window: {rows: 1000}\n");
    let state = dir.path().join("state");
    let mut process = Process::start(&config, &state);
    let rows = timed_rows(3, 300);
    let body = json!({ "rows": rows }).to_string();
    assert_eq!(process.post_rows(&body), 200);
    process.signal("TERM");
    process.wait();
    let process = Process::start(&config, &state);
    let resumed = process.get("/v1/monitors/m");
    assert_eq!(resumed["buffered_rows"], 300, "{resumed}");
    assert_eq!(resumed["labelled"]["pending_predictions"], 300);

    // A changed threshold keeps the open window; the new column set drops a feature's
    // series from /metrics; a second monitor appears.
    let before = process.metrics();
    assert!(before.contains("driftscope_reference_info{"), "{before}");
    assert!(before.contains("feature=\"y\""));
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("numerical: [x, y]", "numerical: [x]")
        .replace(
            "    window: {rows: 1000}\n",
            "    window: {rows: 1000}\n    drift_share: 0.9\n",
        );
    let second = text.replace("  - name: m\n", "  - name: m2\n");
    let monitors_at = second.find("  - name: m2\n").unwrap();
    std::fs::write(&config, format!("{text}{}", &second[monitors_at..])).unwrap();
    let (status, answer) = process.send("POST", "/-/reload", "", "").unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["changes"]["added"], json!(["m2"]), "{answer}");
    // m changed only policy and lost a column: its profiles are reused, its file not re-read.
    assert_eq!(
        answer["changes"]["references_read"],
        json!(["m2"]),
        "{answer}"
    );
    let after = process.get("/v1/monitors/m");
    assert_eq!(after["buffered_rows"], 300, "{after}");
    let metrics = process.metrics();
    assert!(
        !metrics.contains("feature=\"y\""),
        "removed column's series remain"
    );
    assert!(metrics.contains("monitor=\"m2\""));
    assert!(metrics.contains("driftscope_config_last_reload_successful 1"));

    // A broken config is refused; the old one keeps serving.
    std::fs::write(&config, "monitors: [{name: m, reference: nowhere.csv}]\n").unwrap();
    let (status, answer) = process.send("POST", "/-/reload", "", "").unwrap();
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_config");
    assert!(
        process
            .metrics()
            .contains("driftscope_config_last_reload_successful 0")
    );
    assert_eq!(process.get("/v1/monitors/m")["buffered_rows"], 300);

    // SIGHUP reloads too: the original config removes m2 again.
    std::fs::write(&config, text).unwrap();
    process.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while process.metrics().contains("monitor=\"m2\"") {
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        process
            .metrics()
            .contains("driftscope_config_last_reload_successful 1")
    );
    assert_eq!(process.get("/v1/monitors/m")["buffered_rows"], 300);
}

#[test]
fn torn_logs_changed_references_and_changed_windows_restart_only_what_they_must() {
    let dir = tempfile::tempdir().unwrap();
    // A private copy of the reference, so the test can change its content.
    let reference = dir.path().join("reference.csv");
    std::fs::copy(common::fixture_reference(), &reference).unwrap();
    let config = config(dir.path(), "    window: {rows: 1000}\n");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &common::fixture_reference().display().to_string(),
        "reference.csv",
    );
    std::fs::write(&config, &text).unwrap();
    let state = dir.path().join("state");
    let monitor_dir = state.join("monitors/m");
    let rows = timed_rows(9, 200);
    let body = json!({ "rows": rows }).to_string();

    // A torn write at the end of the log (the process died mid-frame) is cut at start-up.
    let process = Process::start(&config, &state);
    assert_eq!(process.post_rows(&body), 200);
    drop(process); // SIGKILL
    let segment = std::fs::read_dir(&monitor_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .max()
        .unwrap();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap();
    log.write_all(&[0x20, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3])
        .unwrap();
    drop(log);
    let process = Process::start(&config, &state);
    let results = process.get("/v1/monitors/m");
    assert_eq!(results["buffered_rows"], 200, "{results}");

    // A changed window definition restarts the windows and nothing else.
    std::fs::write(
        &config,
        text.replace("window: {rows: 1000}", "window: {rows: 500}"),
    )
    .unwrap();
    let (status, answer) = process.send("POST", "/-/reload", "", "").unwrap();
    assert_eq!(status, 200, "{answer}");
    // Labelled windows share the window definition; waiting predictions stay.
    assert_eq!(
        answer["changes"]["changed"],
        json!([["m", ["window", "labelled"]]])
    );
    assert_eq!(answer["changes"]["references_read"], json!([]));
    let results = process.get("/v1/monitors/m");
    assert_eq!(results["buffered_rows"], 0, "{results}");
    assert_eq!(results["labelled"]["pending_predictions"], 200);
    assert_eq!(process.post_rows(&body), 200);

    // New reference content: what was coded against the old file restarts at the next
    // start, the fingerprint changes, and the log says why.
    let before = process.get("/v1/monitors")["monitors"][0]["reference_fingerprint"].clone();
    process.signal("TERM");
    let mut process = process;
    process.wait();
    let mut csv = std::fs::read_to_string(&reference).unwrap();
    let first_row = csv.lines().nth(1).unwrap().to_owned();
    csv.push_str(&first_row);
    csv.push('\n');
    std::fs::write(&reference, csv).unwrap();
    let process = Process::start(&config, &state);
    let results = process.get("/v1/monitors/m");
    assert_eq!(results["buffered_rows"], 0, "{results}");
    assert_eq!(results["labelled"]["pending_predictions"], 0);
    let after = process.get("/v1/monitors")["monitors"][0]["reference_fingerprint"].clone();
    assert_ne!(before, after);
    let short = after.as_str().unwrap()[..16].to_owned();
    assert!(
        process.metrics().contains(&format!(
            "driftscope_reference_info{{fingerprint=\"{short}\",monitor=\"m\"}} 1"
        )),
        "{}",
        process.metrics()
    );
}

#[test]
fn events_logged_under_an_older_config_replay_into_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "    window: {rows: 250}\n");
    let state = dir.path().join("state");
    let process = Process::start(&config, &state);
    let rows = timed_rows(4, 200);
    let body = json!({ "rows": rows }).to_string();
    assert_eq!(process.post_rows(&body), 200);
    drop(process); // SIGKILL: the rows are only in the log.
    // While the service is down, feature y is dropped from the config.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("numerical: [x, y]", "numerical: [x]")).unwrap();
    let process = Process::start(&config, &state);
    let results = process.get("/v1/monitors/m");
    assert_eq!(results["buffered_rows"], 200, "{results}");
    // The replayed rows fill the window with the new columns: 50 more close it.
    let more = json!({ "rows": &rows[..50] }).to_string();
    let (_, answer) = process
        .send("POST", "/v1/monitors/m/rows", "", &more)
        .unwrap();
    assert_eq!(answer["windows_evaluated"], 1, "{answer}");
    let latest = &process.get("/v1/monitors/m")["latest"];
    let features: Vec<&str> = latest["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(features, ["x", "c", "b"], "{latest}");
    assert_eq!(latest["rows"], 250);
}
