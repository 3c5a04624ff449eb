//! Shared helpers for the integration tests: a real server on 127.0.0.1:0 over a temp config
//! that points at the committed `tests/fixtures/reference.csv`, an HTTP client, and a seeded
//! generator for batches.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A running in-process server; dropping it shuts the server down.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// Path of the committed test reference.
pub fn fixture_reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference.csv")
}

/// A config with one monitor `m` over the fixture; `monitor_extra` is spliced into the monitor
/// (e.g. its window) and `server_extra` into `server:`.
pub fn config_text(monitor_extra: &str, server_extra: &str) -> String {
    format!(
        "server:\n  listen: 127.0.0.1:0\n{server_extra}monitors:\n  - name: m\n    reference: {}\n    \
         features:\n      numerical: [x, y]\n      categorical: [c, b]\n    \
         prediction: {{column: prediction, type: categorical}}\n    \
         target: {{column: target, type: categorical}}\n    id: id\n{monitor_extra}",
        fixture_reference().display()
    )
}

impl TestServer {
    /// Starts a server for `config` (YAML text).
    pub async fn start(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("monitors.yaml");
        std::fs::write(&path, config).unwrap();
        let service = driftscope::service::load_service(&path)
            .unwrap_or_else(|p| panic!("config problems: {p:?}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(driftscope::run(listener, service, async {
            let _ = rx.await;
        }));
        Self {
            addr,
            client: reqwest::Client::new(),
            _shutdown: tx,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs JSON rows to monitor `m`; returns status and body.
    pub async fn post_rows(&self, body: &Value) -> (u16, Value) {
        self.post_raw("/v1/monitors/m/rows", "application/json", body.to_string())
            .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: String) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// The value of the series `name{labels}` in a Prometheus text exposition, e.g.
/// `metric(&text, "driftscope_window_rows", "monitor=\"m\"")`; `labels` empty for a series
/// without labels.
pub fn metric(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
}

/// A small seeded generator (xorshift64*), so batches are reproducible without a crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    pub fn choose<'a>(&mut self, items: &[&'a str], p: &[f64]) -> &'a str {
        let mut u = self.uniform();
        for (item, w) in items.iter().zip(p) {
            if u < *w {
                return item;
            }
            u -= w;
        }
        items[items.len() - 1]
    }
}

/// Rows like the fixture's reference (`drifted = false`) or with x, y and c shifted.
pub fn rows(rng: &mut Rng, n: usize, drifted: bool) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let (mean, y_scale, probs) = if drifted {
                (58.0, 0.6, [0.1, 0.2, 0.3, 0.4])
            } else {
                (50.0, 1.0, [0.4, 0.3, 0.2, 0.1])
            };
            json!({
                "id": i,
                "x": (rng.normal(mean, 10.0) * 100.0).round() / 100.0,
                "y": rng.uniform() * y_scale,
                "c": rng.choose(&["a", "b", "c", "d"], &probs),
                "b": i64::from(rng.uniform() < 0.3),
                "prediction": i64::from(rng.uniform() < 0.5),
                "extra_column_ignored": "anything",
            })
        })
        .collect()
}

/// Writes `text` to `dir/monitors.yaml` and runs `driftscope check` on it.
pub fn driftscope_check(dir: &Path, text: &str) -> std::process::Output {
    let path = dir.join("monitors.yaml");
    std::fs::write(&path, text).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_driftscope"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap()
}

/// Sends signal `name` (`TERM`, `HUP`, `9`, …) to process `pid` with `kill`.
pub fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// Starts `driftscope serve --config CONFIG ARGS…` on a free 127.0.0.1 port and waits until it
/// listens; returns the child (stop it by PID) and the port.
pub fn spawn_server(
    config: &Path,
    args: &[&std::ffi::OsStr],
    stdout: std::process::Stdio,
) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_driftscope"))
        .args(["serve", "--config"])
        .arg(config)
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(stdout)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("server did not start");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, port)
}
