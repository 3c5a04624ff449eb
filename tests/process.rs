//! The release-shaped binary as an operator runs it: signals, bounded shutdown with slow
//! clients, and resident memory under a flood of hostile but legal requests. Each test starts
//! `driftscope serve` on a free 127.0.0.1 port and stops it by PID.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// A running `driftscope serve`; killed by PID when dropped. Its stdout is read all along, as
/// a log shipper would.
struct Served {
    child: Child,
    port: u16,
    log: Option<std::thread::JoinHandle<String>>,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts the binary on a config whose `server:` gets `server_extra` and whose monitor `m`
    /// (over the test fixture) gets `monitor_extra`.
    fn start(server_extra: &str, monitor_extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("monitors.yaml");
        let text = common::config_text(monitor_extra, server_extra);
        std::fs::write(&config, text).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftscope"))
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env("RUST_LOG", "info")
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut log = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                log.push_str(&line);
                log.push('\n');
            }
            log
        });
        let served = Self {
            child,
            port,
            log: Some(log),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        served
    }

    fn signal(&self, name: &str) {
        common::signal(self.child.id(), name);
    }

    /// Waits up to `limit` for the process to exit; its exit status, or None if still running.
    fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the process logged (after it exited).
    fn log(&mut self) -> String {
        self.log
            .take()
            .map(|reader| reader.join().unwrap())
            .unwrap_or_default()
    }

    fn request(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    fn get(&self, path: &str) -> String {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        ))
    }

    /// Resident set size in bytes (Linux /proc).
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib * 1024
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn hup_and_usr_signals_are_logged_not_fatal_and_quit_drains() {
    // Item 6: SIGHUP / SIGQUIT / SIGUSR1 used to kill the process with no drain or log line.
    let mut served = Served::start("", "    window: {rows: 100}\n");
    for signal in ["HUP", "USR1", "USR2"] {
        served.signal(signal);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(served.get("/healthz").contains("200 OK"), "still serving");
    served.signal("QUIT");
    let status = served.wait_exit(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let log = served.log();
    for needle in ["SIGHUP", "SIGUSR1", "SIGUSR2", "Shutting down.", "Stopped."] {
        assert!(log.contains(needle), "{needle}: {log}");
    }
}

#[test]
fn sigterm_exits_within_the_grace_period_despite_slow_clients() {
    // Item 5: a client sending headers slowly kept a SIGTERM'd process alive indefinitely.
    let mut served = Served::start(
        "  shutdown_grace: 1s\n  header_read_timeout: 60s\n  request_timeout: 60s\n",
        "    window: {rows: 100}\n",
    );
    let mut slow_headers = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    slow_headers
        .write_all(b"GET /healthz HTTP/1.1\r\nhost")
        .unwrap();
    let mut slow_body = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    slow_body
        .write_all(b"POST /v1/monitors/m/rows HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    served.signal("TERM");
    let status = served.wait_exit(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop((slow_headers, slow_body));
}

/// What the README's memory formula needs to know about a monitor and the server limits.
struct Shape {
    window_rows: u64,
    columns: u64,
    categorical_columns: u64,
    max_queued_windows: u64,
    windows_per_request: u64,
    max_pending: u64,
    max_id_bytes: u64,
    max_new_category_bytes: u64,
    idempotency_keys: u64,
}

/// The README's worst-case resident memory of one monitor, in bytes: window buffer + queued
/// windows + labelled window + join buffer + new categories + idempotency keys + history (see
/// "Memory bounds" in the README).
fn documented_monitor_bound(s: &Shape) -> u64 {
    let window = s.window_rows * 8 * (s.columns + 1);
    let queue = (s.max_queued_windows + s.windows_per_request) * s.window_rows * 8 * s.columns;
    let labelled = s.window_rows * 8 * 4;
    let join = s.max_pending * (s.max_id_bytes + 112);
    let categories = s.categorical_columns * (s.max_new_category_bytes + 10_000 * 64);
    let keys = s.idempotency_keys * (128 + 96);
    let history = 20 * 1024;
    window + queue + labelled + join + categories + keys + history
}

#[test]
fn a_flood_of_hostile_but_legal_requests_keeps_memory_bounded() {
    // Items 3 and 4: 500 distinct 1 MB categories used to add 527 MB, kept for good; unknown-id
    // label targets were stored; ids had no length limit; a 16 MiB body of `{}` rows peaked at
    // 1.09 GB.
    let max_body = 1 << 20;
    let served = Served::start(
        &format!(
            "  max_body_bytes: {max_body}\n  max_rows_per_request: 20000\n  \
             max_concurrent_ingest: 4\n  max_id_bytes: 64\n  max_category_bytes: 64\n  \
             max_new_category_bytes: 65536\n  idempotency_keys: 1000\n"
        ),
        "    window: {rows: 1000}\n    label_join: {max_pending: 1000, max_age: 1h}\n",
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", served.port);
    let big = "z".repeat(1000);
    let megabyte = "t".repeat(max_body - 100);
    let bodies = |cycle: usize| -> Vec<(&'static str, String)> {
        let rows = |f: &dyn Fn(usize) -> serde_json::Value, n: usize| {
            json!((0..n).map(f).collect::<Vec<_>>()).to_string()
        };
        vec![
            // 20 000 empty rows: the most rows a legal body can carry.
            ("rows", format!("[{}{{}}]", "{},".repeat(19_999))),
            // New categories, each distinct, 60 bytes: bounded by max_new_category_bytes.
            (
                "rows",
                rows(
                    &|i| json!({"c": format!("{cycle:08}-{i:08}-{}", "n".repeat(43)), "id": format!("p{cycle}-{i}"), "prediction": "1"}),
                    2000,
                ),
            ),
            // 1 KB categories and 1 KB ids: invalid, never stored.
            (
                "rows",
                rows(
                    &|i| json!({"b": format!("{big}{i}"), "id": format!("{big}{i}")}),
                    400,
                ),
            ),
            // Labels of unknown ids with ~1 MB targets: reported, never stored.
            (
                "labels",
                json!([{"id": format!("nope{cycle}"), "target": megabyte}]).to_string(),
            ),
        ]
    };
    let flood = |cycles: std::ops::Range<usize>| {
        runtime.block_on(async {
            let client = reqwest::Client::new();
            for cycle in cycles {
                let mut tasks = Vec::new();
                for (kind, body) in bodies(cycle) {
                    let request = client
                        .post(url(&format!("/v1/monitors/m/{kind}")))
                        .header("content-type", "application/json")
                        .header("idempotency-key", format!("k{cycle}-{kind}-{}", body.len()))
                        .body(body);
                    tasks.push((kind, tokio::spawn(request.send())));
                }
                for (kind, task) in tasks {
                    let status = task.await.unwrap().unwrap().status().as_u16();
                    assert!(
                        status == 200 || status == 429,
                        "{kind}: unexpected {status}"
                    );
                }
            }
        });
    };
    flood(0..5);
    let warm = served.rss();
    let mut peak = warm;
    for round in 0..6 {
        flood(5 + round * 10..15 + round * 10);
        peak = peak.max(served.rss());
    }
    let end = served.rss();
    // Fixture: 4 feature columns (2 categorical), prediction (categorical), target
    // (categorical); a 1000-row count window; a request of 20 000 rows closes 20 windows.
    let state = documented_monitor_bound(&Shape {
        window_rows: 1000,
        columns: 6,
        categorical_columns: 4,
        max_queued_windows: 16,
        windows_per_request: 20,
        max_pending: 1000,
        max_id_bytes: 64,
        max_new_category_bytes: 65536,
        idempotency_keys: 1000,
    });
    let requests = 4 * (max_body as u64 + 20_000 * (6 * 8 + 8 + 64 + 24));
    let bound = state + requests;
    eprintln!(
        "rss: warm {:.1} MiB, peak {:.1} MiB, end {:.1} MiB; documented bound over warm {:.1} MiB",
        warm as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        end as f64 / 1048576.0,
        bound as f64 / 1048576.0
    );
    assert!(
        peak <= warm + bound,
        "peak {peak} > warm {warm} + bound {bound}"
    );
    // Nothing accumulates: the last rounds add (almost) nothing.
    assert!(end <= warm + bound / 2, "end {end}, warm {warm}");
    let metrics = served.get("/metrics");
    let matched = |reason: &str| {
        let series =
            format!("driftscope_labels_unmatched_total{{monitor=\"m\",reason=\"{reason}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&series)?.trim().parse::<f64>().ok())
    };
    assert!(matched("unknown_id").is_some_and(|n| n > 0.0), "{metrics}");
}
