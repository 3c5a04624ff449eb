//! A bounded soak test: finds the service's sustainable ingest rate, then holds a share of it
//! for a while, mixed with bad requests, and watches the process's memory.
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example soak -- --bin target/release/driftscope --config monitors.yaml
//! cargo run --release --example soak -- --url http://127.0.0.1:8000 --pid "$(pidof driftscope)"
//! cargo run --release --example soak -- --bin target/release/driftscope --duration 60 --json soak.json
//! ```
//!
//! 1. **Probe** (`--probe-seconds`): `--clients` concurrent clients post pre-serialised
//!    `--batch`-row batches of `--rows-file` to `--monitor` as fast as the service answers; the
//!    accepted rows per second are the maximum rate.
//! 2. **Load** (`--duration`): open loop at `--load` × that rate (requests are sent on a fixed
//!    schedule, not when the previous one returns, so a slowing service builds a backlog instead
//!    of hiding it), with every `--bad-every`-th request a bad one: malformed JSON, wrong content
//!    type, unknown monitor, a body over `server.max_body_bytes`, rows with wrong types, labels
//!    with unknown ids, 1 KiB ids, long category strings, `GET` of the results and `/metrics`.
//!
//! Every `--sample-seconds` it prints the service's RSS (`/proc/<pid>/status`) and the counts
//! of the load phase so far. A 429 is counted on its own and pauses sending for its
//! `Retry-After`; *unexpected* (probe included) is a 5xx, a transport error, or any status
//! other than the one the request should get. One transport error is counted apart
//! (`closed_413`): the service refuses an oversized body by its Content-Length and closes the
//! connection unread, so the client, still sending, may get a broken pipe instead of the 413. Exit
//! status 1 when anything was unexpected or RSS grew by more than `--max-growth-mib` over the
//! second half of the load phase (least-squares slope × its length).
//!
//! The service is either `--url` (with `--pid` for RSS) or the binary `--bin`, started on a free
//! 127.0.0.1 port with `--config` and stopped by PID at the end. Nothing else is contacted.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use clap::Parser;
use driftscope::replay::client::{error_chain, retry_after};
use driftscope::replay::rows::Rows;
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

/// Soak-tests a driftscope service: probe the maximum ingest rate, then hold a share of it.
#[derive(Debug, Clone, Parser)]
pub struct Args {
    /// Base URL of a running service (instead of `--bin`).
    #[arg(long, conflicts_with = "bin")]
    pub url: Option<String>,
    /// PID of the `--url` service, for its RSS (without it memory is not checked).
    #[arg(long, requires = "url")]
    pub pid: Option<u32>,
    /// A driftscope binary to start on a free 127.0.0.1 port (and stop at the end).
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Config for `--bin`; also where `server.max_body_bytes` is read from.
    #[arg(long, default_value = "monitors.yaml")]
    pub config: PathBuf,
    /// With `--bin`: the service's `--state-dir` (default: the config's `server.state_dir`).
    #[arg(long, requires = "bin")]
    pub state_dir: Option<PathBuf>,
    /// Monitor the good batches go to.
    #[arg(long, default_value = "employment")]
    pub monitor: String,
    /// Rows to send (.parquet or .csv), every listed column, typed as the file stores them.
    #[arg(long, default_value = "demo/production_2016_2018.parquet")]
    pub rows_file: PathBuf,
    /// Columns of `--rows-file` to send.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "id,AGEP,SCHL,MAR,RELP,DIS,ESP,CIT,MIG,MIL,ANC,NATIVITY,DEAR,DEYE,DREM,SEX,RAC1P,year,prediction,predicted_probability"
    )]
    pub columns: Vec<String>,
    /// Rows per good batch.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Concurrent clients of the probe.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Length of the probe phase (seconds).
    #[arg(long, default_value_t = 20)]
    pub probe_seconds: u64,
    /// Length of the load phase (seconds).
    #[arg(long, default_value_t = 600)]
    pub duration: u64,
    /// Load-phase rate of good rows as a share of the probed maximum.
    #[arg(long, default_value_t = 0.8)]
    pub load: f64,
    /// Every N-th load-phase request is a bad one (10 = 10 %).
    #[arg(long, default_value_t = 10)]
    pub bad_every: u64,
    /// Seconds between RSS samples.
    #[arg(long, default_value_t = 10)]
    pub sample_seconds: u64,
    /// Fail when RSS grew by more than this over the second half of the load phase.
    #[arg(long, default_value_t = 64.0)]
    pub max_growth_mib: f64,
    /// Requests in flight at most; beyond it scheduled requests are skipped (and counted).
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: usize,
    /// Write the samples and the summary here as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// What a run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Accepted rows per second in the probe.
    pub max_rows_per_second: f64,
    /// Samples of the load phase.
    pub samples: Vec<Sample>,
    /// Responses by status code (`transport` for requests without one).
    pub statuses: BTreeMap<String, u64>,
    /// Responses with the status their request should get, per request kind.
    pub expected_by_kind: BTreeMap<String, u64>,
    /// Requests that got something they should not have.
    pub unexpected: u64,
    /// The first few unexpected outcomes, for the log.
    pub unexpected_examples: Vec<String>,
    /// Scheduled requests not sent because `max_in_flight` were pending.
    pub skipped_in_flight: u64,
    /// Scheduled requests not sent while backing off after a 429.
    pub skipped_backoff: u64,
    /// Least-squares RSS slope over the second half of the load phase (MiB per minute).
    pub rss_slope_mib_per_min: Option<f64>,
    /// That slope times the second half's length (MiB).
    pub rss_growth_mib: Option<f64>,
}

/// One periodic sample; counts are totals since the load phase began.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    /// Seconds since the load phase began.
    pub t: f64,
    /// Service RSS, when its PID is known.
    pub rss_mib: Option<f64>,
    /// Answered with the expected 2xx.
    pub ok: u64,
    /// Answered with the expected 4xx.
    pub rejected_4xx: u64,
    /// Answered 429.
    pub too_many: u64,
    /// Anything else.
    pub unexpected: u64,
    /// Oversized requests whose connection the service closed while they were being sent.
    pub closed_oversized: u64,
    /// Rows accepted.
    pub rows: u64,
}

/// What a request is and which status it must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Good,
    Malformed,
    WrongContentType,
    UnknownMonitor,
    Oversized,
    WrongTypes,
    UnknownLabels,
    LongIds,
    LongCategories,
    GetResults,
    GetMetrics,
}

/// The bad kinds, in the order the load phase cycles through them.
const BAD: [Kind; 10] = [
    Kind::Malformed,
    Kind::WrongContentType,
    Kind::UnknownMonitor,
    Kind::Oversized,
    Kind::WrongTypes,
    Kind::UnknownLabels,
    Kind::LongIds,
    Kind::LongCategories,
    Kind::GetResults,
    Kind::GetMetrics,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Good => "good_batch",
            Kind::Malformed => "malformed_json",
            Kind::WrongContentType => "wrong_content_type",
            Kind::UnknownMonitor => "unknown_monitor",
            Kind::Oversized => "oversized_body",
            Kind::WrongTypes => "wrong_types",
            Kind::UnknownLabels => "unknown_label_ids",
            Kind::LongIds => "long_ids",
            Kind::LongCategories => "long_categories",
            Kind::GetResults => "get_results",
            Kind::GetMetrics => "get_metrics",
        }
    }

    /// The status the HTTP API documents for this request.
    fn expected(self) -> u16 {
        match self {
            Kind::Malformed => 400,
            Kind::WrongContentType => 415,
            Kind::UnknownMonitor => 404,
            Kind::Oversized => 413,
            _ => 200,
        }
    }
}

/// Response counts shared by all request tasks.
#[derive(Default)]
struct Stats {
    ok: AtomicU64,
    rejected_4xx: AtomicU64,
    too_many: AtomicU64,
    unexpected: AtomicU64,
    closed_oversized: AtomicU64,
    rows: AtomicU64,
    skipped_in_flight: AtomicU64,
    skipped_backoff: AtomicU64,
    statuses: Mutex<BTreeMap<String, u64>>,
    expected_by_kind: Mutex<BTreeMap<String, u64>>,
    unexpected_examples: Mutex<Vec<String>>,
}

impl Stats {
    fn count(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
        let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(key.to_owned()).or_default() += 1;
    }

    fn unexpected(&self, what: String) {
        self.unexpected.fetch_add(1, Ordering::Relaxed);
        let mut examples = self
            .unexpected_examples
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if examples.len() < 10 {
            examples.push(what);
        }
    }

    fn sample(&self, t: f64, rss_mib: Option<f64>) -> Sample {
        Sample {
            t,
            rss_mib,
            ok: self.ok.load(Ordering::Relaxed),
            rejected_4xx: self.rejected_4xx.load(Ordering::Relaxed),
            too_many: self.too_many.load(Ordering::Relaxed),
            unexpected: self.unexpected.load(Ordering::Relaxed),
            closed_oversized: self.closed_oversized.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
        }
    }
}

/// Everything a request task needs; built once.
struct Load {
    client: reqwest::Client,
    base: String,
    monitor: String,
    batches: Vec<(Bytes, u64)>,
    next_batch: AtomicUsize,
    oversized: Bytes,
    stats: Stats,
    /// Sending pauses until this many milliseconds after `started` (429 Retry-After).
    paused_until_ms: AtomicU64,
    started: Instant,
    /// Makes long ids and categories unique per request, so they are really new.
    serial: AtomicU64,
}

impl Load {
    fn rows_url(&self) -> String {
        format!("{}/v1/monitors/{}/rows", self.base, self.monitor)
    }

    fn paused(&self) -> bool {
        (self.started.elapsed().as_millis() as u64) < self.paused_until_ms.load(Ordering::Relaxed)
    }

    /// Sends one request of `kind` and counts its outcome.
    async fn send(&self, kind: Kind) {
        let json = "application/json";
        let request = match kind {
            Kind::Good => {
                let i = self.next_batch.fetch_add(1, Ordering::Relaxed) % self.batches.len();
                let (body, rows) = self.batches[i].clone();
                let response = self
                    .client
                    .post(self.rows_url())
                    .header("content-type", json)
                    .body(body)
                    .send()
                    .await;
                return self.record(kind, response, rows).await;
            }
            Kind::Malformed => self
                .client
                .post(self.rows_url())
                .header("content-type", json)
                .body(r#"{"rows": [{"AGEP": 37, "SCHL": "21""#),
            Kind::WrongContentType => self
                .client
                .post(self.rows_url())
                .header("content-type", "text/csv")
                .body("AGEP,SCHL\n37,21\n"),
            Kind::UnknownMonitor => self
                .client
                .post(format!(
                    "{}/v1/monitors/soak-no-such-monitor/rows",
                    self.base
                ))
                .header("content-type", json)
                .body(r#"{"rows": [{"AGEP": 37}]}"#),
            Kind::Oversized => self
                .client
                .post(self.rows_url())
                .header("content-type", json)
                .body(self.oversized.clone()),
            Kind::WrongTypes => {
                let rows: Vec<Value> = (0..50)
                    .map(|i| {
                        json!({"id": format!("soak-types-{i}"), "AGEP": "thirty", "SCHL": {"a": 1},
                               "MAR": [1, 2], "SEX": true, "prediction": {"p": 1},
                               "predicted_probability": "high"})
                    })
                    .collect();
                self.client
                    .post(self.rows_url())
                    .header("content-type", json)
                    .body(json!({ "rows": rows }).to_string())
            }
            Kind::UnknownLabels => {
                let n = self.serial.fetch_add(1, Ordering::Relaxed);
                let labels: Vec<Value> = (0..50)
                    .map(|i| json!({"id": format!("soak-unknown-{n}-{i}"), "target": 1}))
                    .collect();
                self.client
                    .post(format!("{}/v1/monitors/{}/labels", self.base, self.monitor))
                    .header("content-type", json)
                    .body(json!({ "labels": labels }).to_string())
            }
            Kind::LongIds => {
                let n = self.serial.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<Value> = (0..20)
                    .map(|i| json!({"id": format!("{:x<1024}", format!("{n}-{i}-")), "AGEP": 40, "SCHL": "21", "prediction": 1}))
                    .collect();
                self.client
                    .post(self.rows_url())
                    .header("content-type", json)
                    .body(json!({ "rows": rows }).to_string())
            }
            Kind::LongCategories => {
                let n = self.serial.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<Value> = (0..20)
                    .map(|i| json!({"AGEP": 40, "SCHL": format!("{:c<4096}", format!("{n}-{i}-")), "RAC1P": format!("{:r<1024}", format!("{n}-{i}-")), "prediction": 1}))
                    .collect();
                self.client
                    .post(self.rows_url())
                    .header("content-type", json)
                    .body(json!({ "rows": rows }).to_string())
            }
            Kind::GetResults => self
                .client
                .get(format!("{}/v1/monitors/{}", self.base, self.monitor)),
            Kind::GetMetrics => self.client.get(format!("{}/metrics", self.base)),
        };
        let response = request.send().await;
        self.record(kind, response, 0).await;
    }

    /// Counts one outcome; a 429 pauses sending for its Retry-After (1 s when absent, at most
    /// 30 s).
    async fn record(&self, kind: Kind, response: reqwest::Result<reqwest::Response>, rows: u64) {
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                let chain = error_chain(&e);
                // The service refuses an oversized body by its Content-Length and closes the
                // connection without reading it; the client, still writing, may see the close
                // (EPIPE / reset) instead of the 413. Counted apart: the request was refused.
                let closed = ["Broken pipe", "Connection reset"]
                    .iter()
                    .any(|m| chain.contains(m));
                if kind == Kind::Oversized && closed {
                    Stats::count(&self.stats.statuses, "closed_while_sending");
                    self.stats.closed_oversized.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Stats::count(&self.stats.statuses, "transport");
                self.stats
                    .unexpected(format!("{}: transport error: {chain}", kind.name()));
                return;
            }
        };
        let status = response.status().as_u16();
        Stats::count(&self.stats.statuses, &status.to_string());
        if status == 429 {
            self.stats.too_many.fetch_add(1, Ordering::Relaxed);
            let wait = retry_after(response.headers())
                .unwrap_or(driftscope::replay::client::DEFAULT_RETRY_WAIT);
            let until = (self.started.elapsed() + wait).as_millis() as u64;
            self.paused_until_ms.fetch_max(until, Ordering::Relaxed);
            return;
        }
        // Read the body so the connection can be reused, and for the log.
        let body = response.text().await.unwrap_or_default();
        if status != kind.expected() {
            let snippet: String = body.chars().take(200).collect();
            self.stats
                .unexpected(format!("{}: HTTP {status}: {snippet}", kind.name()));
            return;
        }
        Stats::count(&self.stats.expected_by_kind, kind.name());
        if status < 300 {
            self.stats.ok.fetch_add(1, Ordering::Relaxed);
            self.stats.rows.fetch_add(rows, Ordering::Relaxed);
        } else {
            self.stats.rejected_4xx.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A service started from `--bin`; stopped (SIGTERM, then SIGKILL after 10 s) when dropped.
struct Spawned {
    child: Child,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("soak: driftscope (pid {pid}) ignored SIGTERM for 10 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin` on a free loopback port and waits (at most 120 s) until `/readyz` answers.
async fn spawn_service(
    client: &reqwest::Client,
    args: &Args,
    bin: &PathBuf,
) -> Result<(Spawned, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin)
        .arg("serve")
        .arg("--config")
        .arg(&args.config)
        .args(["--listen", &listen])
        .args(
            args.state_dir
                .iter()
                .flat_map(|d| [OsStr::new("--state-dir"), d.as_os_str()]),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut spawned = Spawned { child };
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok((spawned, base));
        }
        if let Ok(Some(status)) = spawned.child.try_wait() {
            return Err(format!(
                "{} exited with {status} before it was ready; try `{} check --config {}`",
                bin.display(),
                bin.display(),
                args.config.display()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!("{} not ready within 120 s", bin.display()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The rows of `--rows-file` as pre-serialised batches, with their row counts: the listed
/// columns as `driftscope replay` reads them (typed as the file stores them).
fn batches(args: &Args) -> Result<Vec<(Bytes, u64)>, String> {
    let file = Rows::read(&args.rows_file)?;
    let columns: Vec<usize> = args
        .columns
        .iter()
        .map(|name| file.position(name))
        .collect::<Result<_, _>>()?;
    let rows: Vec<Map<String, Value>> = (0..file.len)
        .map(|i| {
            columns
                .iter()
                .map(|&c| (file.columns[c].name.clone(), file.columns[c].values.json(i)))
                .collect()
        })
        .collect();
    let batches: Vec<(Bytes, u64)> = rows
        .chunks(args.batch.max(1))
        .map(|chunk| {
            let body = json!({ "rows": chunk }).to_string();
            (Bytes::from(body), chunk.len() as u64)
        })
        .collect();
    if batches.is_empty() {
        return Err(format!("{} has no rows", args.rows_file.display()));
    }
    Ok(batches)
}

/// `server.max_body_bytes` of `--config` (16 MiB, the default, when it cannot be read).
fn max_body_bytes(args: &Args) -> usize {
    driftscope::config::load(&args.config, None)
        .map(|s| s.server.max_body_bytes)
        .unwrap_or(16 * 1024 * 1024)
}

/// Resident set size of `pid` in MiB, from `/proc/<pid>/status`.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Least-squares slope of `(x, y)` points; `None` for fewer than two distinct x.
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (points.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
}

/// Phase 1: closed loop with `clients` clients; returns accepted rows per second.
async fn probe(load: &Arc<Load>, clients: usize, seconds: u64) -> f64 {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let load = Arc::clone(load);
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if load.paused() {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    load.send(Kind::Good).await;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    load.stats.rows.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Runs both phases against the service and returns what they measured.
pub async fn run(args: &Args) -> Result<Report, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let (spawned, base, pid) = match (&args.url, &args.bin) {
        (Some(url), _) => (None, url.trim_end_matches('/').to_owned(), args.pid),
        (None, Some(bin)) => {
            let (spawned, base) = spawn_service(&client, args, bin).await?;
            let pid = spawned.child.id();
            (Some(spawned), base, Some(pid))
        }
        (None, None) => return Err("give --url or --bin".into()),
    };
    if pid.is_none() {
        println!("soak: no --pid: RSS is not sampled and growth not checked");
    }
    let batches = batches(args)?;
    let limit = max_body_bytes(args);
    let load = Arc::new(Load {
        client,
        base,
        monitor: args.monitor.clone(),
        batches,
        next_batch: AtomicUsize::new(0),
        oversized: Bytes::from(vec![b' '; limit + 1]),
        stats: Stats::default(),
        paused_until_ms: AtomicU64::new(0),
        started: Instant::now(),
        serial: AtomicU64::new(0),
    });

    let max = probe(&load, args.clients, args.probe_seconds).await;
    println!(
        "probe: {} clients, {:.0} rows/s ({} batches of {} rows in {} s)",
        args.clients,
        max,
        load.stats.ok.load(Ordering::Relaxed),
        args.batch,
        args.probe_seconds
    );
    if max <= 0.0 {
        return Err(format!(
            "the probe got no batch accepted; unexpected: {:?}",
            load.stats.unexpected_examples.lock().map(|e| e.clone())
        ));
    }
    // The load phase counts from zero, except unexpected outcomes and statuses: the probe's
    // count too.
    let stats = &load.stats;
    let counters = [
        &stats.ok,
        &stats.rejected_4xx,
        &stats.too_many,
        &stats.closed_oversized,
        &stats.rows,
    ];
    for counter in counters {
        counter.store(0, Ordering::Relaxed);
    }

    let rows_per_batch = load.batches[0].1.max(1) as f64;
    let good_per_second = args.load * max / rows_per_batch;
    let bad_every = args.bad_every.max(2);
    let per_second = good_per_second * bad_every as f64 / (bad_every - 1) as f64;
    let interval = Duration::from_secs_f64(1.0 / per_second.max(0.01));
    println!(
        "load: {:.0} good rows/s ({:.0} % of the probe) = {:.2} requests/s, 1 in {bad_every} bad, for {} s",
        args.load * max,
        args.load * 100.0,
        per_second,
        args.duration
    );

    let in_flight = Arc::new(Semaphore::new(args.max_in_flight.max(1)));
    let started = Instant::now();
    let end = started + Duration::from_secs(args.duration);
    let sample_every = Duration::from_secs(args.sample_seconds.max(1));
    let mut next_sample = started;
    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent: u64 = 0;
    loop {
        let now = Instant::now();
        if now >= next_sample || now >= end {
            let t = started.elapsed().as_secs_f64();
            let sample = stats.sample(t, pid.and_then(rss_mib));
            println!(
                "t={:.0}s rss_mib={} ok={} rejected_4xx={} 429={} unexpected={} closed_413={}",
                sample.t,
                sample.rss_mib.map_or("n/a".into(), |r| format!("{r:.1}")),
                sample.ok,
                sample.rejected_4xx,
                sample.too_many,
                sample.unexpected,
                sample.closed_oversized
            );
            samples.push(sample);
            next_sample += sample_every;
        }
        if now >= end {
            break;
        }
        ticker.tick().await;
        if load.paused() {
            stats.skipped_backoff.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            stats.skipped_in_flight.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        sent += 1;
        let kind = if sent.is_multiple_of(bad_every) {
            BAD[(sent / bad_every) as usize % BAD.len()]
        } else {
            Kind::Good
        };
        let load = Arc::clone(&load);
        tokio::spawn(async move {
            load.send(kind).await;
            drop(permit);
        });
    }
    // Let the requests in flight finish (their client timeout bounds this).
    let _ = tokio::time::timeout(
        Duration::from_secs(70),
        in_flight.acquire_many(args.max_in_flight.max(1) as u32),
    )
    .await;
    drop(spawned);

    let half = args.duration as f64 / 2.0;
    let second_half: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.t >= half)
        .filter_map(|s| Some((s.t, s.rss_mib?)))
        .collect();
    let per_second_slope = slope(&second_half);
    let span = second_half.last().map_or(0.0, |l| l.0) - second_half.first().map_or(0.0, |f| f.0);
    let lock =
        |m: &Mutex<BTreeMap<String, u64>>| m.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Report {
        max_rows_per_second: max,
        statuses: lock(&stats.statuses),
        expected_by_kind: lock(&stats.expected_by_kind),
        unexpected: stats.unexpected.load(Ordering::Relaxed),
        unexpected_examples: stats
            .unexpected_examples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        skipped_in_flight: stats.skipped_in_flight.load(Ordering::Relaxed),
        skipped_backoff: stats.skipped_backoff.load(Ordering::Relaxed),
        rss_slope_mib_per_min: per_second_slope.map(|s| s * 60.0),
        rss_growth_mib: per_second_slope.map(|s| s * span),
        samples,
    })
}

/// Prints the summary; true when the run passed.
pub fn summarize(args: &Args, report: &Report) -> bool {
    let rss: Vec<f64> = report.samples.iter().filter_map(|s| s.rss_mib).collect();
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        let min = rss.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rss.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!("rss_mib: first {first:.1} min {min:.1} max {max:.1} last {last:.1}");
    }
    if let (Some(slope), Some(growth)) = (report.rss_slope_mib_per_min, report.rss_growth_mib) {
        println!(
            "rss second half: {slope:+.2} MiB/min, {growth:+.1} MiB (limit {} MiB)",
            args.max_growth_mib
        );
    }
    println!("statuses: {:?}", report.statuses);
    println!("expected answers by kind: {:?}", report.expected_by_kind);
    println!(
        "skipped: {} (max in flight), {} (429 back-off)",
        report.skipped_in_flight, report.skipped_backoff
    );
    let closed = report.samples.last().map_or(0, |s| s.closed_oversized);
    if closed > 0 {
        println!(
            "oversized bodies: {closed} connections closed while sending (refused by \
             Content-Length without reading the body; the client saw no 413)"
        );
    }
    for example in &report.unexpected_examples {
        println!("unexpected: {example}");
    }
    let grew = report
        .rss_growth_mib
        .is_some_and(|g| g > args.max_growth_mib);
    let passed = report.unexpected == 0 && !grew;
    println!(
        "soak: {} (unexpected {}, rss growth {})",
        if passed { "PASS" } else { "FAIL" },
        report.unexpected,
        report
            .rss_growth_mib
            .map_or("not measured".into(), |g| format!("{g:+.1} MiB"))
    );
    passed
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let report = match run(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let passed = summarize(&args, &report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("soak: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
