//! Every whole-request error: the status, the JSON error body naming what is wrong, the
//! rejection counter, and that nothing was ingested.

mod common;

use common::{TestServer, config_text, metric};
use serde_json::{Value, json};

const WINDOW: &str = "    window: {rows: 3}\n    timestamp: ts\n";

async fn server() -> TestServer {
    TestServer::start(&config_text(WINDOW, "  max_body_bytes: 2048\n")).await
}

fn assert_error(status: u16, body: &Value, want_status: u16, code: &str, needle: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} should contain {needle:?}"
    );
}

#[tokio::test]
async fn each_bad_request_gets_a_clear_error_and_changes_nothing() {
    let s = server().await;
    let ok_row = r#"{"ts": 1, "x": 1, "y": 0.5, "c": "a", "b": 0}"#;
    let cases: Vec<(&str, &str, String, u16, &str, &str)> = vec![
        (
            "/v1/monitors/nope/rows",
            "application/json",
            format!("[{ok_row}]"),
            404,
            "unknown_monitor",
            "monitor \"nope\" is not configured; known monitors: m",
        ),
        (
            "/v1/monitors/m/rows",
            "text/csv",
            "x\n1\n".into(),
            415,
            "unsupported_media_type",
            "application/json",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            format!("[{ok_row}, {{\"x\": 1"),
            400,
            "malformed_json",
            "malformed JSON",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            format!("[{}]", vec![ok_row; 60].join(",")),
            413,
            "payload_too_large",
            "2048 bytes",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            "{\"rows\": []}".into(),
            422,
            "empty_batch",
            "no rows",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            format!("[{ok_row}, [1, 2]]"),
            422,
            "row_not_object",
            "rows[1] is an array",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            "{\"rowz\": []}".into(),
            422,
            "invalid_body",
            "unexpected key \"rowz\"",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            format!("[{ok_row}, {{\"ts\": \"soon\"}}]"),
            422,
            "invalid_timestamp",
            "rows[1].ts: \"soon\" is not a timestamp",
        ),
        (
            "/v1/monitors/m/rows",
            "application/json",
            format!("[{ok_row}, {{\"x\": 2}}]"),
            422,
            "invalid_timestamp",
            "rows[1] has no timestamp",
        ),
    ];
    for (path, content_type, body, status, code, needle) in cases {
        let (got_status, got) = s.post_raw(path, content_type, body).await;
        assert_error(got_status, &got, status, code, needle);
    }
    let text = s.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_rows_ingested_total", "monitor=\"m\""),
        Some(0.0)
    );
    assert_eq!(s.get_json("/v1/monitors/m").await["buffered_rows"], 0);
    assert_eq!(
        metric(
            &text,
            "driftscope_requests_rejected_total",
            "code=\"unknown_monitor\",monitor=\"_unknown\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_requests_rejected_total",
            "code=\"invalid_timestamp\",monitor=\"m\""
        ),
        Some(2.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_requests_rejected_total",
            "code=\"payload_too_large\",monitor=\"m\""
        ),
        Some(1.0)
    );
    // The raw path segment never becomes a label value.
    assert!(!text.contains("nope"), "{text}");
    assert!(text.contains("route=\"/v1/monitors/{monitor}/rows\",status=\"422\""));

    // And the service still works.
    let (status, body) = s.post_rows(&json!([{"ts": 1, "x": 1}])).await;
    assert_eq!((status, body["accepted"].clone()), (200, json!(1)));
}

#[tokio::test]
async fn missing_content_type_and_unknown_routes_are_json_errors() {
    let s = server().await;
    let response = s
        .client
        .post(s.url("/v1/monitors/m/rows"))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media_type");
    let response = s.client.get(s.url("/v2/nothing")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = (404, s.get_json("/v1/monitors/other").await);
    assert_error(status, &body, 404, "unknown_monitor", "\"other\"");
}

#[tokio::test]
async fn hostile_bodies_never_crash_the_service() {
    let s = server().await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies = [
        deep,
        "\u{0}\u{1}garbage".to_string(),
        "[{\"ts\": 1, \"x\": 1e999}]".to_string(),
        "[{\"ts\": 1, \"c\": \"\\ud800\"}]".to_string(),
        "[{\"ts\": 1e308, \"x\": -1e308}]".to_string(),
        "null".to_string(),
        String::new(),
    ];
    for body in bodies {
        let (status, reply) = s
            .post_raw("/v1/monitors/m/rows", "application/json", body.clone())
            .await;
        assert!((200..500).contains(&status), "{body:.40}: {status} {reply}");
        if status != 200 {
            assert!(reply["error"]["code"].is_string(), "{reply}");
        }
    }
    assert_eq!(s.get_json("/healthz").await["status"], "ok");
}
