//! Scale-out on Kafka (README: "Scale-out on Kafka"), end to end through the binary: three
//! engines and two ingest processes share a Kafka-protocol broker — librdkafka's mock cluster,
//! hosted by this test process so that killing an engine never takes the broker with it — and
//! engines are SIGKILLed at random moments while rows flow. The window results the engines
//! publish to the results topic must equal, window by window and bit for bit, those of one
//! undisturbed single process given the same requests: none lost, none duplicated, none
//! different. Monitor `split` is split over three shards (`shards: 3`) in the cluster and not in
//! the single process: its windows, merged at the owner from the shards' parts, must equal the
//! unsplit monitor's exactly too.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{Value, json};

use common::{Rng, rows, signal, spawn_server};

const PARTITIONS: i32 = 6;
const MONITORS: [&str; 5] = ["alpha", "beta", "gamma", "delta", SPLIT];
/// The binned monitor the cluster splits over [`SHARDS`] shards.
const SPLIT: &str = "split";
const SHARDS: u32 = 3;
/// Batches per monitor, one event-time second each; 10 s windows sliding by 5 s.
const BATCHES: usize = 60;
const ROWS: usize = 100;
/// Event time of the first row (a fixed past instant: the run is the same every time).
const T0: f64 = 1_700_000_000.0;

/// The monitors' config; with `kafka` (the cluster's), monitor [`SPLIT`] is split.
fn config(dir: &Path, name: &str, kafka: &str) -> PathBuf {
    let reference = common::fixture_reference();
    let mut text = format!("server:\n  listen: 127.0.0.1:0\n{kafka}monitors:\n");
    for monitor in MONITORS {
        let (summary, shards) = match monitor {
            SPLIT if kafka.is_empty() => (", summary: binned", String::new()),
            SPLIT => (", summary: binned", format!("    shards: {SHARDS}\n")),
            _ => ("", String::new()),
        };
        text.push_str(&format!(
            "  - name: {monitor}\n    reference: {}\n    features:\n      numerical: [x, y]\n      \
             categorical: [c, b]\n    prediction: {{column: prediction, type: categorical}}\n    \
             timestamp: ts\n    window: {{duration: 10s, step: 5s, min_rows: 20{summary}}}\n    \
             history: 1000\n{shards}",
            reference.display()
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Every request of the run, in sending order: (monitor, body, `Idempotency-Key`). Drift comes
/// and goes so the verdicts vary. Every other early request of the split monitor has a key
/// and is sent twice, as a client retries: the retry must reach the shard that has the first.
fn requests() -> Vec<(&'static str, Value, Option<String>)> {
    let mut rng = Rng::new(13);
    let mut out = Vec::new();
    for b in 0..BATCHES {
        for (m, monitor) in MONITORS.iter().enumerate() {
            let drifted = (20 + 5 * m..35 + 5 * m).contains(&b);
            let mut batch = rows(&mut rng, ROWS, drifted);
            for (i, row) in batch.iter_mut().enumerate() {
                row["ts"] = json!(T0 + b as f64 + i as f64 / ROWS as f64);
            }
            let key = (*monitor == SPLIT && b < 40 && b % 2 == 0).then(|| format!("split-{b}"));
            out.push((*monitor, json!(batch), key));
        }
    }
    out
}

/// Posts `body` and returns the status and answer, retrying while the service answers 503 (a
/// broker hand-over) for at most a minute.
async fn post(
    client: &reqwest::Client,
    port: u16,
    monitor: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut request = client
            .post(format!(
                "http://127.0.0.1:{port}/v1/monitors/{monitor}/rows"
            ))
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status != 503 || Instant::now() > deadline {
            return (status, response.json().await.unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The single process's window summaries per monitor.
async fn single_process_windows(dir: &Path) -> BTreeMap<String, Vec<Value>> {
    let config = config(dir, "single.yaml", "");
    let (mut child, port) = spawn_server(&config, &[], Stdio::null());
    let client = reqwest::Client::new();
    for (monitor, body, key) in requests() {
        assert_eq!(
            post(&client, port, monitor, &body, key.as_deref()).await.0,
            200
        );
        if key.is_some() {
            let (status, answer) = post(&client, port, monitor, &body, key.as_deref()).await;
            assert_eq!(
                (status, &answer["replayed"]),
                (200, &json!(true)),
                "{answer}"
            );
        }
    }
    let mut windows = BTreeMap::new();
    for monitor in MONITORS {
        let results: Value = client
            .get(format!("http://127.0.0.1:{port}/v1/monitors/{monitor}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        windows.insert(
            monitor.to_owned(),
            results["history"].as_array().unwrap().clone(),
        );
    }
    signal(child.id(), "TERM");
    child.wait().unwrap();
    windows
}

/// Starts a process of `role`, logging to `dir/<name>.log`; returns it and its port.
fn start(config: &Path, role: &str, dir: &Path, name: &str) -> (Child, u16) {
    let log = File::create(dir.join(format!("{name}.log"))).unwrap();
    let args = [std::ffi::OsStr::new("--role"), std::ffi::OsStr::new(role)];
    spawn_server(config, &args, Stdio::from(log))
}

/// What each role answers on the routes that are not its own, and who serves a monitor's
/// results: exactly one engine per monitor, with the windows the topic holds.
async fn check_roles(
    engines: &[(Child, u16)],
    ingest_port: u16,
    published: &BTreeMap<String, Vec<Value>>,
) {
    let client = reqwest::Client::new();
    let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");
    let response = client
        .post(url(engines[0].1, "/v1/monitors/alpha/rows"))
        .json(&json!([{"x": 1}]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wrong_role");
    let response = client
        .get(url(ingest_port, "/v1/monitors/alpha"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_owned");
    let ready: Value = client
        .get(url(ingest_port, "/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["role"], "ingest");
    assert_eq!(ready["monitors"].as_array().unwrap().len(), MONITORS.len());
    let mut partitions = 0.0;
    for (_, port) in engines {
        let text = client
            .get(url(*port, "/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        partitions += common::metric(&text, "driftscope_kafka_partitions_owned", "").unwrap();
    }
    assert_eq!(
        partitions,
        f64::from(PARTITIONS),
        "every partition has one owner"
    );
    for monitor in MONITORS {
        let mut owners = 0;
        for (_, port) in engines {
            let response = client
                .get(url(*port, &format!("/v1/monitors/{monitor}")))
                .send()
                .await
                .unwrap();
            if response.status().as_u16() == 200 {
                owners += 1;
                let results: Value = response.json().await.unwrap();
                // The owner's history ends with the windows published (it may hold fewer:
                // history restarts nothing, but an engine only knows what it restored).
                let history = results["history"].as_array().unwrap();
                let topic = &published[monitor];
                assert_eq!(history.last(), topic.last(), "{monitor}: latest window");
            }
        }
        assert_eq!(owners, 1, "{monitor} is served by exactly one engine");
    }
}

/// Reads the results topic (committed records only) until every monitor has `expected`'s
/// number of feature windows, or `timeout` passes; returns the summaries per monitor, in order.
fn published_windows(
    brokers: &str,
    topic: &str,
    expected: &BTreeMap<String, Vec<Value>>,
    timeout: Duration,
) -> BTreeMap<String, Vec<Value>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "scale-out-test-reader")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        list.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&list).unwrap();
    let mut got: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let deadline = Instant::now() + timeout;
    let done = |got: &BTreeMap<String, Vec<Value>>| {
        expected
            .iter()
            .all(|(m, w)| got.get(m).map_or(0, Vec::len) >= w.len())
    };
    while !done(&got) && Instant::now() < deadline {
        read_window(&consumer, &mut got);
    }
    // Anything published after the expected windows would be a duplicate: read a little more.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle {
        read_window(&consumer, &mut got);
    }
    got
}

/// Polls one record of the results topic; a feature window's summary joins its monitor's list.
fn read_window(consumer: &BaseConsumer, got: &mut BTreeMap<String, Vec<Value>>) {
    if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
        let record: Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
        if record["kind"] == "window" {
            let monitor = record["monitor"].as_str().unwrap().to_owned();
            got.entry(monitor)
                .or_default()
                .push(record["summary"].clone());
        }
    }
}

/// The processes a test started: SIGKILLed if the test fails before stopping them itself.
#[derive(Default)]
struct Reaper(std::sync::Mutex<Vec<u32>>);

impl Reaper {
    fn watch(&self, started: (Child, u16)) -> (Child, u16) {
        self.0.lock().unwrap().push(started.0.id());
        started
    }

    /// `pid` was stopped and waited for: its id may be reused.
    fn forget(&self, pid: u32) {
        self.0.lock().unwrap().retain(|&p| p != pid);
    }

    /// Every process was stopped: forget them all.
    fn release(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in self.0.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Waits (at most a minute) until the engines own every partition between them.
async fn wait_for_owners(engines: &[(Child, u16)]) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let mut owned = 0.0;
        for (_, port) in engines {
            if let Ok(response) = client
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .send()
                .await
            {
                let text = response.text().await.unwrap_or_default();
                owned +=
                    common::metric(&text, "driftscope_kafka_partitions_owned", "").unwrap_or(0.0);
            }
        }
        if owned == f64::from(PARTITIONS) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_engines_publish_exactly_the_windows_of_one_undisturbed_process() {
    let dir = tempfile::tempdir().unwrap();
    let expected = single_process_windows(dir.path()).await;
    for (monitor, windows) in &expected {
        assert!(windows.len() >= 10, "{monitor}: {} windows", windows.len());
        assert!(
            windows.iter().any(|w| w["drifted"] == true),
            "{monitor}: no drifted window, the comparison would be weak"
        );
    }

    // DRIFTSCOPE_TEST_KAFKA=host:port runs the same test against a broker process (one broker:
    // replication factor 1); driftscope then creates the topics itself, the state topic
    // compacted. Topic and group names are new each run, so a broker can be reused.
    let run = format!("t{}", std::process::id());
    let (_cluster, brokers, replication) = match std::env::var("DRIFTSCOPE_TEST_KAFKA") {
        Ok(brokers) => (None, brokers, 1),
        Err(_) => {
            let cluster = MockCluster::new(3).unwrap();
            for topic in ["events", "state", "results"] {
                cluster
                    .create_topic(&format!("{run}.{topic}"), PARTITIONS, 3)
                    .unwrap();
            }
            let brokers = cluster.bootstrap_servers();
            (Some(cluster), brokers, 3)
        }
    };
    let kafka = format!(
        "kafka:\n  brokers: \"{brokers}\"\n  partitions: {PARTITIONS}\n  \
         replication_factor: {replication}\n  group: {run}\n  \
         topics: {{events: {run}.events, state: {run}.state, results: {run}.results}}\n  \
         commit_interval: 200ms\n  tick_interval: 500ms\n  session_timeout: 6s\n"
    );
    let config = config(dir.path(), "cluster.yaml", &kafka);
    let logs = dir.path();
    let reaper = Reaper::default();
    let mut engines: Vec<(Child, u16)> = (0..3)
        .map(|i| reaper.watch(start(&config, "engine", logs, &format!("engine-{i}"))))
        .collect();
    let ingest: Vec<(Child, u16)> = (0..2)
        .map(|i| {
            let log = File::create(logs.join(format!("ingest-{i}.log"))).unwrap();
            let args = [
                std::ffi::OsStr::new("--role"),
                std::ffi::OsStr::new("ingest"),
            ];
            reaper.watch(spawn_server(&config, &args, Stdio::from(log)))
        })
        .collect();
    let ports: Vec<u16> = ingest.iter().map(|(_, port)| *port).collect();
    let ports_for_checks = ports.clone();

    // Rows flow from one task, alternating between the two ingest processes; each request is
    // acknowledged (the broker has it) before the monitor's next one is sent.
    // The split monitor's requests go to its shards' partitions, each ingest process taking
    // the shards in turn.
    let sender = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut hot_partitions = std::collections::BTreeSet::new();
        for (i, (monitor, body, key)) in requests().into_iter().enumerate() {
            let port = ports[i % 2];
            let (status, answer) = post(&client, port, monitor, &body, key.as_deref()).await;
            assert_eq!(status, 202, "request {i} to {monitor}");
            if key.is_some() {
                // The retry goes through the other ingest process, to the same shard.
                let other = ports[(i + 1) % 2];
                let (status, again) = post(&client, other, monitor, &body, key.as_deref()).await;
                assert_eq!(status, 202, "retry of request {i}");
                assert_eq!(
                    again["partition"], answer["partition"],
                    "retry of request {i}"
                );
            }
            if monitor == SPLIT {
                hot_partitions.insert(answer["partition"].as_i64().unwrap());
            }
            if i % MONITORS.len() == MONITORS.len() - 1 {
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
        let shard_partitions: std::collections::BTreeSet<i64> = (0..SHARDS)
            .map(|k| {
                i64::from(crc32fast::hash(format!("{SPLIT}#{k}").as_bytes()) % PARTITIONS as u32)
            })
            .collect();
        assert_eq!(
            hot_partitions, shard_partitions,
            "{SPLIT}'s rows reach its shards"
        );
    });
    // Meanwhile engines die at random moments and come back.
    let mut rng = Rng::new(7);
    let mut kills = 0;
    while !sender.is_finished() || kills < 3 {
        tokio::time::sleep(Duration::from_millis(
            1000 + (rng.uniform() * 2500.0) as u64,
        ))
        .await;
        let victim = (rng.uniform() * engines.len() as f64) as usize % engines.len();
        signal(engines[victim].0.id(), "KILL");
        engines[victim].0.wait().unwrap();
        reaper.forget(engines[victim].0.id());
        kills += 1;
        tokio::time::sleep(Duration::from_millis((rng.uniform() * 1500.0) as u64)).await;
        engines[victim] = reaper.watch(start(
            &config,
            "engine",
            logs,
            &format!("engine-{victim}-{kills}"),
        ));
    }
    sender.await.unwrap();

    let brokers_for_reader = brokers.clone();
    let results_topic = format!("{run}.results");
    let expected_for_reader = expected.clone();
    let published = tokio::task::spawn_blocking(move || {
        published_windows(
            &brokers_for_reader,
            &results_topic,
            &expected_for_reader,
            Duration::from_secs(180),
        )
    })
    .await
    .unwrap();
    // Engines restarted last may still be joining the group: wait until the partitions are
    // shared out again before checking who serves what.
    wait_for_owners(&engines).await;
    check_roles(&engines, ports_for_checks[0], &published).await;
    for (child, _) in ingest {
        signal(child.id(), "TERM");
    }
    for (engine, _) in &engines {
        signal(engine.id(), "TERM");
    }
    for (mut engine, _) in engines {
        engine.wait().unwrap();
    }
    reaper.release();

    for (monitor, windows) in &expected {
        let got = published.get(monitor).cloned().unwrap_or_default();
        if &got != windows {
            let first = got
                .iter()
                .zip(windows)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(windows.len()));
            for entry in std::fs::read_dir(logs).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "log") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let tail: Vec<&str> = text.lines().rev().take(15).collect();
                    eprintln!(
                        "--- {}:\n{}",
                        path.display(),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
            }
            panic!(
                "{monitor}: {} windows published, {} expected; first difference at {first}:\n got {:?}\n expected {:?}",
                got.len(),
                windows.len(),
                got.get(first),
                windows.get(first)
            );
        }
    }
    eprintln!(
        "{kills} engines killed; {} windows over {} monitors identical to the single process",
        expected.values().map(Vec::len).sum::<usize>(),
        expected.len()
    );
}

#[test]
fn driftscope_check_names_every_bad_kafka_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(config(dir.path(), "base.yaml", "")).unwrap();
    let base = base.replace("history: 1000\n", "history: 1000\n    shards: 1\n");
    let with = |server: &str, kafka: &str| {
        base.replace("server:\n", &format!("server:\n{server}"))
            .replace("monitors:\n", &format!("{kafka}monitors:\n"))
    };
    let output = common::driftscope_check(dir.path(), &with("  role: engine\n", ""));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        text.contains("kafka.brokers: server.role engine needs the broker addresses"),
        "{text}"
    );
    let kafka = "kafka:\n  brokers: b:9092\n  topics: {events: a, state: a, results: r}\n  \
                 partitions: 0\n  session_timeout: 500ms\n  max_record_bytes: 10\n";
    let output = common::driftscope_check(dir.path(), &with("  role: ingest\n", kafka));
    let text = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "kafka.topics: events, state and results must be three different topics",
        "kafka.partitions: must be at least 1",
        "kafka.session_timeout: must be at least 1s",
        "kafka.max_record_bytes: must be at least 1048576",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    // The single role ignores the section.
    let output = common::driftscope_check(dir.path(), &with("", kafka));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn driftscope_check_refuses_monitors_that_cannot_be_split() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(config(dir.path(), "base.yaml", "")).unwrap();
    let split = base.replace("history: 1000\n", "history: 1000\n    shards: 4\n");
    let output = common::driftscope_check(dir.path(), &split);
    let text = String::from_utf8_lossy(&output.stderr);
    // Every monitor but the binned one is refused: exact windows.
    assert_eq!(
        text.matches("needs `window.summary: binned`").count(),
        4,
        "{text}"
    );
    let hot = |from: &str, to: &str| {
        base.replace(
            "binned}\n    history: 1000\n",
            "binned}\n    history: 1000\n    shards: 4\n",
        )
        .replace(from, to)
    };
    let refused = [
        (
            hot(
                "timestamp: ts\n    window: {duration: 10s, step: 5s, min_rows: 20, summary",
                "window: {duration: 10s, step: 5s, min_rows: 20, summary",
            ),
            "needs a `timestamp` column",
        ),
        (
            hot(
                "    shards: 4\n",
                "    shards: 4\n    target: {column: prediction, type: categorical}\n",
            ),
            "cannot have a `target`",
        ),
        (
            hot("    shards: 4\n", "    shards: 65\n"),
            "must be in 1..=64, got 65",
        ),
        (
            hot("    shards: 4\n", "    shards: 0\n"),
            "must be in 1..=64, got 0",
        ),
    ];
    for (text, expected) in refused {
        let output = common::driftscope_check(dir.path(), &text);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{expected}: accepted");
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    // Count windows: binned is time-only, so the split is refused for the window too.
    let counted = hot(
        "duration: 10s, step: 5s, min_rows: 20, summary: binned",
        "rows: 100, summary: binned",
    );
    let stderr = String::from_utf8_lossy(&common::driftscope_check(dir.path(), &counted).stderr)
        .into_owned();
    assert!(
        stderr.contains("needs a time window (`window.duration`)"),
        "{stderr}"
    );
    // The split binned event-time monitor passes.
    let output = common::driftscope_check(dir.path(), &hot("", ""));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
