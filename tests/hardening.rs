//! Hostile clients (issue 8): every reproduction from the hardening report, through HTTP.
//! Each test starts an in-process server on 127.0.0.1:0 (tests/common).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TestServer, config_text, metric};
use driftscope::engine::monitor::Refused;
use serde_json::{Value, json};

/// An event-time monitor (timestamp column `ts`) with `window`.
fn event_time(window: &str, server: &str) -> String {
    config_text(
        &format!("    timestamp: ts\n    window: {window}\n"),
        server,
    )
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn row(ts: f64) -> Value {
    json!({"ts": ts, "x": 50.0, "y": 0.5, "c": "a", "b": "1", "prediction": "1"})
}

/// Sends `request` on a raw socket and returns what the server answered before closing or
/// `wait` elapsed.
fn raw(server: &TestServer, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.write_all(request).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn json_body(http: &str) -> Value {
    let body = http.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nanosecond_timestamps_neither_hang_nor_move_the_window() {
    // Item 1: two rows at a nanosecond epoch once spun the sliding-window loop forever.
    let server = TestServer::start(&event_time("{duration: 60s, step: 10s}", "")).await;
    let ns = 1.7644e18;
    let started = Instant::now();
    let (status, body) = server.post_rows(&json!([row(ns), row(ns + 1e6)])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dropped"]["future"], 2);
    assert_eq!(body["accepted"], 0);
    // Even when the skew allows them (3 billion years ahead), the engine does not spin.
    let lax = TestServer::start(&event_time(
        "{duration: 60s, step: 10s, max_future_skew: 100000000000y}",
        "",
    ))
    .await;
    let (status, body) = lax
        .post_rows(&json!([row(ns), row(ns + 1e6), row(ns * 2.0)]))
        .await;
    assert_eq!(status, 200, "{body}");
    let health = lax.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn future_rows_are_dropped_and_counted_and_later_rows_still_count() {
    // Item 2: one row in milliseconds used to move the window to the year 57000.
    let server = TestServer::start(&event_time("{duration: 60s}", "")).await;
    let t = now();
    let (_, body) = server.post_rows(&json!([row(t * 1000.0), row(t)])).await;
    assert_eq!(
        (body["accepted"].clone(), body["dropped"].clone()),
        (json!(1), json!({"late": 0, "window_full": 0, "future": 1}))
    );
    let (_, body) = server.post_rows(&json!([row(t + 1.0), row(t + 2.0)])).await;
    assert_eq!(
        body["accepted"], 2,
        "correct rows after a future one are kept: {body}"
    );
    // Item 8: a late row is reported as dropped, not accepted.
    let (_, body) = server.post_rows(&json!([row(t - 3600.0)])).await;
    assert_eq!(
        (body["accepted"].clone(), body["dropped"]["late"].clone()),
        (json!(0), json!(1))
    );
    let text = server.metrics().await;
    for (reason, n) in [("future", 1.0), ("late", 1.0)] {
        let labels = format!("monitor=\"m\",reason=\"{reason}\"");
        assert_eq!(
            metric(&text, "driftscope_rows_dropped_total", &labels),
            Some(n)
        );
    }
    assert_eq!(
        metric(&text, "driftscope_rows_ingested_total", "monitor=\"m\""),
        Some(3.0)
    );
}

#[tokio::test]
async fn allowed_lateness_is_configurable() {
    let server = TestServer::start(&event_time("{duration: 10s, allowed_lateness: 30s}", "")).await;
    let t = (now() / 10.0).floor() * 10.0;
    let (_, body) = server
        .post_rows(&json!([row(t + 25.0), row(t + 1.0)]))
        .await;
    assert_eq!(
        body["accepted"], 2,
        "20 s late but within 30 s of lateness: {body}"
    );
    let (_, body) = server
        .post_rows(&json!([row(t + 60.0), row(t - 30.0)]))
        .await;
    assert_eq!(body["dropped"]["late"], 1, "{body}");
}

#[tokio::test]
async fn ids_categories_and_batches_are_bounded_in_bytes() {
    // Item 3: 1 MB categories, 1 KiB ids and label targets of unknown ids used to be kept.
    let server = TestServer::start(&config_text(
        "    window: {rows: 1000}\n",
        "  max_rows_per_request: 50\n  max_id_bytes: 64\n  max_category_bytes: 32\n",
    ))
    .await;
    let huge = "z".repeat(1 << 20);
    let long_id = "i".repeat(1024);
    let rows: Vec<Value> = (0..5)
        .map(|i| json!({"id": format!("{long_id}{i}"), "x": 1.0, "y": 0.1, "c": format!("{huge}{i}"), "b": "1", "prediction": "1"}))
        .collect();
    let (status, body) = server.post_rows(&json!(rows)).await;
    assert_eq!(
        (status, body["accepted"].clone()),
        (200, json!(5)),
        "{body}"
    );
    let text = server.metrics().await;
    let invalid = |column: &str| {
        metric(
            &text,
            "driftscope_values_invalid_total",
            &format!("feature=\"{column}\",monitor=\"m\""),
        )
    };
    assert_eq!((invalid("c"), invalid("id")), (Some(5.0), Some(5.0)));
    // Too many rows: refused while parsing, before they take memory.
    let many: Vec<Value> = (0..51).map(|_| json!({})).collect();
    let (status, body) = server.post_rows(&json!(many)).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("too_many_rows"))
    );
    let labels: Vec<Value> = (0..51).map(|i| json!({"id": i, "target": "1"})).collect();
    let (status, body) = server
        .post_raw(
            "/v1/monitors/m/labels",
            "application/json",
            json!({"labels": labels}).to_string(),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("too_many_rows"))
    );
    // Labels for unknown ids with huge targets: reported, not stored.
    let labels: Vec<Value> = (0..5)
        .map(|i| json!({"id": 9000 + i, "target": huge}))
        .collect();
    let (status, body) = server
        .post_raw(
            "/v1/monitors/m/labels",
            "application/json",
            json!(labels).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["outcomes"],
        json!([
            "unknown_id",
            "unknown_id",
            "unknown_id",
            "unknown_id",
            "unknown_id"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingest_beyond_the_limit_gets_429_with_retry_after() {
    // Item 4: a slow body holds the only ingest slot; the next request is refused at once.
    let server = TestServer::start(&config_text(
        "    window: {rows: 100}\n",
        "  max_concurrent_ingest: 1\n",
    ))
    .await;
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(
        b"POST /v1/monitors/m/rows HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let response = server
        .client
        .post(server.url("/v1/monitors/m/rows"))
        .header("content-type", "application/json")
        .body(json!([row(1.0)]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    drop(slow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_and_capped() {
    // Item 5: idle sockets and slow headers used to be kept forever.
    let server = TestServer::start(&config_text(
        "    window: {rows: 100}\n",
        "  header_read_timeout: 1s\n  max_connections: 3\n",
    ))
    .await;
    let started = Instant::now();
    let slow = raw(
        &server,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n",
        Duration::from_secs(5),
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "slow headers closed by the server"
    );
    assert!(!slow.contains("200 OK"), "{slow}");
    // A keep-alive connection is closed after a request once idle for the same time.
    let started = Instant::now();
    let idle = raw(
        &server,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(idle.contains("200 OK"), "{idle}");
    assert!(started.elapsed() < Duration::from_secs(4));
    // Beyond max_connections, connections are closed at once; /healthz works again after.
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = raw(
        &server,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(2),
    );
    assert!(refused.is_empty(), "{refused}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.get_json("/healthz").await["status"], "ok");
    let text = server.metrics().await;
    assert!(
        metric(
            &text,
            "driftscope_http_connection_errors_total",
            "kind=\"over_limit\""
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        metric(
            &text,
            "driftscope_http_connection_errors_total",
            "kind=\"header_timeout\""
        )
        .unwrap()
            >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json_with_a_counted_code() {
    // Item 7: 405, 408, 414, 431, bad paths and odd content types had empty or text bodies.
    let server = TestServer::start(&config_text(
        "    window: {rows: 100}\n",
        "  request_timeout: 1s\n",
    ))
    .await;
    let long_uri = format!(
        "GET /v1/monitors/{} HTTP/1.1\r\nhost: x\r\n\r\n",
        "m".repeat(9000)
    );
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\n{}\r\n",
        (0..70)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let wait = Duration::from_secs(3);
    let cases = [
        ("GET /v1/monitors/m/rows HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_owned(), "405", "method_not_allowed"),
        ("GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_owned(), "404", "not_found"),
        (long_uri, "414", "uri_too_long"),
        (many_headers, "431", "headers_too_large"),
        ("GET /v1/monitors/%FF%FE HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_owned(), "400", "invalid_path"),
        (
            "POST /v1/monitors/m/rows HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n[".to_owned(),
            "408",
            "request_timeout",
        ),
        (
            "POST /v1/monitors/m/rows HTTP/1.1\r\nhost: x\r\ncontent-type: t\u{e9}xt\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]".to_owned(),
            "415",
            "unsupported_media_type",
        ),
    ];
    for (request, status, code) in &cases {
        let answer = raw(&server, request.as_bytes(), wait);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{code}: {answer}"
        );
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{answer}"
        );
        assert_eq!(json_body(&answer)["error"]["code"], *code, "{answer}");
    }
    let answer = raw(&server, cases[6].0.as_bytes(), wait);
    assert!(
        json_body(&answer)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("t\u{fffd}xt")
            || json_body(&answer)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("téxt"),
        "{answer}"
    );
    let text = server.metrics().await;
    for (label, code) in [
        ("_none", "not_found"),
        ("_none", "headers_too_large"),
        ("m", "method_not_allowed"),
        ("m", "request_timeout"),
        ("_unknown", "uri_too_long"),
    ] {
        let labels = format!("code=\"{code}\",monitor=\"{label}\"");
        assert!(
            metric(&text, "driftscope_requests_rejected_total", &labels).unwrap_or(0.0) >= 1.0,
            "{labels}: {}",
            text.lines()
                .filter(|l| l.contains("rejected"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_never_publish_a_window_that_ends_before_it_starts() {
    // Item 9: arrival times taken before the monitor lock made 6 of 300 windows start > end.
    let server = std::sync::Arc::new(
        TestServer::start(&config_text(
            "    window: {duration: 100ms}\n    history: 1000\n",
            "  max_concurrent_ingest: 8\n",
        ))
        .await,
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let server = std::sync::Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                let (status, body) = server.post_rows(&json!([row(0.0), row(0.0)])).await;
                assert_eq!(status, 200, "{body}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let history = server.get_json("/v1/monitors/m").await["history"].clone();
    let windows = history.as_array().unwrap();
    assert!(windows.len() >= 2, "{history}");
    let mut ends = std::collections::HashSet::new();
    for w in windows {
        assert!(w["start"].as_str() < w["end"].as_str(), "{w}");
        assert!(
            ends.insert(w["end"].as_str().unwrap().to_owned()),
            "period published twice: {w}"
        );
    }
    let rows: u64 = windows.iter().map(|w| w["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 8 * 40 * 2);
}

#[tokio::test]
async fn extreme_finite_values_give_numbers_not_null() {
    // Item 10: ±1.7e308 overflowed Wasserstein to inf, shown as null.
    let server = TestServer::start(&config_text("    window: {rows: 4}\n", "").replace(
        "numerical: [x, y]",
        "numerical: [{name: x, test: wasserstein}, y]",
    ))
    .await;
    let rows: Vec<Value> = [1.7e308, -1.7e308, 1.7e308, -1.7e308]
        .iter()
        .map(|x| json!({"x": x, "y": 0.5, "c": "a", "b": "1", "prediction": "1"}))
        .collect();
    let (status, body) = server.post_rows(&json!(rows)).await;
    assert_eq!(
        (status, body["windows_evaluated"].clone()),
        (200, json!(1)),
        "{body}"
    );
    let latest = server.get_json("/v1/monitors/m").await["latest"].clone();
    let x = &latest["features"][0];
    assert_eq!(x["name"], "x");
    assert!(x["score"].as_f64().is_some_and(f64::is_finite), "{x}");
    assert_eq!(x["drifted"], true);
}

#[tokio::test]
async fn a_retried_batch_with_the_same_idempotency_key_counts_once() {
    let server = TestServer::start(&config_text("    window: {rows: 100}\n", "")).await;
    let send = |key: &'static str| {
        server
            .client
            .post(server.url("/v1/monitors/m/rows"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(json!([row(0.0), row(0.0), row(0.0)]).to_string())
            .send()
    };
    let first = send("batch-0001").await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send("batch-0001").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (first["accepted"].clone(), again["accepted"].clone()),
        (json!(3), json!(3))
    );
    assert_eq!(again["replayed"], true);
    send("batch-0002").await.unwrap();
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_rows_ingested_total", "monitor=\"m\""),
        Some(6.0)
    );
    assert_eq!(server.get_json("/v1/monitors/m").await["buffered_rows"], 6);
    let bad = send("has space").await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

#[tokio::test]
async fn bearer_tokens_with_scopes_guard_every_route_but_health() {
    // Item 12: no authentication anywhere; /v1/monitors showed absolute paths.
    let dir = tempfile::tempdir().unwrap();
    let token = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        path.display().to_string()
    };
    let auth = format!(
        "  auth:\n    tokens:\n      - {{name: svc, scopes: [ingest], from_file: {}}}\n      \
         - {{name: prom, scopes: [read], from_file: {}}}\n      - {{name: ops, scopes: [admin], from_file: {}}}\n",
        token("ingest", "ingest-0123456789abcdef"),
        token("read", "read-0123456789abcdef"),
        token("admin", "admin-0123456789abcdef"),
    );
    let server = TestServer::start(&config_text("    window: {rows: 100}\n", &auth)).await;
    let post = |bearer: Option<&str>| {
        let mut request = server
            .client
            .post(server.url("/v1/monitors/m/rows"))
            .header("content-type", "application/json")
            .body(json!([row(0.0)]).to_string());
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        request.send()
    };
    let get = |path: &str, bearer: Option<&str>| {
        let mut request = server.client.get(server.url(path));
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    let missing = post(None).await.unwrap();
    assert_eq!(missing.status().as_u16(), 401);
    assert!(
        missing.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(
        status(post(Some("wrong-0123456789abcdef")).await.unwrap()),
        401
    );
    assert_eq!(
        status(post(Some("read-0123456789abcdef")).await.unwrap()),
        403
    );
    assert_eq!(
        status(post(Some("admin-0123456789abcdef")).await.unwrap()),
        403
    );
    assert_eq!(
        status(post(Some("ingest-0123456789abcdef")).await.unwrap()),
        200
    );
    assert_eq!(status(get("/metrics", None).await.unwrap()), 401);
    assert_eq!(
        status(
            get("/metrics", Some("ingest-0123456789abcdef"))
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            get("/metrics", Some("read-0123456789abcdef"))
                .await
                .unwrap()
        ),
        200
    );
    assert_eq!(status(get("/healthz", None).await.unwrap()), 200);
    assert_eq!(status(get("/readyz", None).await.unwrap()), 200);
    let listed: Value = get("/v1/monitors", Some("read-0123456789abcdef"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = listed["monitors"][0]["reference"].as_str().unwrap();
    assert_eq!(shown, "reference.csv", "no absolute server paths");
    // Reload is an operator action: only `admin` may trigger it.
    let reload = |bearer: &str| {
        server
            .client
            .post(server.url("/-/reload"))
            .bearer_auth(bearer)
            .send()
    };
    for other in ["ingest-0123456789abcdef", "read-0123456789abcdef"] {
        assert_eq!(status(reload(other).await.unwrap()), 403, "{other}");
    }
    assert_eq!(status(reload("admin-0123456789abcdef").await.unwrap()), 200);
}

#[tokio::test]
async fn ingest_is_refused_while_the_evaluator_is_behind() {
    // Item 4: the evaluator queue was an unbounded channel. Driven through the library (the
    // HTTP mapping to 429 `evaluation_backlog` is in api::handlers), because only there can a
    // test be sure the evaluator is still busy: one batch closes 200 windows, the next call
    // comes microseconds later.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitors.yaml");
    std::fs::write(
        &path,
        config_text("    window: {rows: 200}\n", "  max_queued_windows: 2\n"),
    )
    .unwrap();
    let service = driftscope::service::load_service(&path).unwrap();
    let monitors = service.monitors();
    let monitor = &monitors.ordered[0];
    let mut rng = common::Rng::new(7);
    let body = json!(common::rows(&mut rng, 40_000, false)).to_string();
    let batch = monitor.model.schema.parse(body.as_bytes()).unwrap();
    let first = monitor
        .ingest(batch.clone(), 1.0, None)
        .expect("queue empty");
    let refused = monitor.ingest(batch.clone(), 1.0, None);
    assert!(
        matches!(&refused, Err(Refused::Backlog { queued }) if *queued >= 2),
        "{:?}",
        refused.map(|i| i.ack)
    );
    let (windows, _) = first.published.wait().await;
    assert_eq!(windows, 200);
    assert!(
        monitor.ingest(batch, 1.0, None).is_ok(),
        "accepted again once caught up"
    );
}
