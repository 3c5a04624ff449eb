//! The other body formats and encodings through HTTP: NDJSON and columnar JSON give the same
//! windows as row objects; gzip and zstd bodies are inflated within `server.max_body_bytes`.

mod common;

use std::io::Write;

use common::{Rng, TestServer, config_text, rows};
use serde_json::{Map, Value, json};

const WINDOW: &str = "    window: {rows: 400}\n";
const ARROW: &str = "application/vnd.apache.arrow.stream";

/// 400 rows (one window) with a few odd values: text in a numeric column, a null category, a
/// boolean category, an object as a value.
fn batch() -> Vec<Value> {
    let mut rows = rows(&mut Rng::new(7), 400, false);
    rows[3]["x"] = json!("oops");
    rows[5]["c"] = Value::Null;
    rows[8]["b"] = json!(true);
    rows[9]["y"] = json!({"nested": 1});
    rows[11].as_object_mut().unwrap().remove("y");
    rows
}

fn ndjson(rows: &[Value]) -> String {
    let mut text = String::from("\n");
    for row in rows {
        text.push_str(&row.to_string());
        text.push_str("\n\r\n");
    }
    text
}

fn columnar(rows: &[Value]) -> Value {
    let mut columns = Map::new();
    for name in [
        "id",
        "x",
        "y",
        "c",
        "b",
        "prediction",
        "extra_column_ignored",
    ] {
        let values: Vec<Value> = rows
            .iter()
            .map(|r| r.get(name).cloned().unwrap_or(Value::Null))
            .collect();
        columns.insert(name.into(), Value::Array(values));
    }
    json!({"columns": columns})
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

async fn post(
    server: &TestServer,
    path: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = server
        .client
        .post(server.url(path))
        .header("content-type", content_type);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Checks an error answer: its status, its `code`, and a message containing `needle`.
fn assert_refused(case: &str, (status, body): &(u16, Value), want: u16, code: &str, needle: &str) {
    assert_eq!(*status, want, "{case}: {body}");
    assert_eq!(body["error"]["code"], code, "{case}: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "{case}: {message:?} lacks {needle:?}"
    );
}

/// Posts one window's body and returns the response and the window's verdict without times.
async fn window_of(content_type: &str, encoding: Option<&str>, body: Vec<u8>) -> (Value, Value) {
    let server = TestServer::start(&config_text(WINDOW, "")).await;
    let (status, response) =
        post(&server, "/v1/monitors/m/rows", content_type, encoding, body).await;
    assert_eq!(status, 200, "{response}");
    let latest = server.get_json("/v1/monitors/m").await["latest"].clone();
    let verdict = json!({
        "rows": latest["rows"],
        "dataset": latest["dataset"],
        "features": latest["features"],
        "predictions": latest["predictions"],
    });
    (response, verdict)
}

#[tokio::test]
async fn every_format_and_encoding_gives_the_same_window() {
    let rows = batch();
    let plain = json!({"rows": rows}).to_string().into_bytes();
    let (want_response, want) = window_of("application/json", None, plain.clone()).await;
    assert_eq!(want_response["accepted"], 400);
    assert_eq!(want_response["windows_evaluated"], 1);
    assert_eq!(want["rows"], 400);
    assert!(want["features"].as_array().unwrap().len() == 4, "{want}");

    let columns = columnar(&rows).to_string().into_bytes();
    let cases: Vec<(&str, &str, Option<&str>, Vec<u8>)> = vec![
        (
            "ndjson",
            "application/x-ndjson",
            None,
            ndjson(&rows).into_bytes(),
        ),
        ("columnar", "application/json", None, columns.clone()),
        ("gzip rows", "application/json", Some("gzip"), gzip(&plain)),
        (
            "zstd columnar",
            "application/json",
            Some("zstd"),
            zstd::encode_all(&columns[..], 3).unwrap(),
        ),
        (
            "gzip ndjson",
            "application/x-ndjson; charset=utf-8",
            Some("GZIP"),
            gzip(ndjson(&rows).as_bytes()),
        ),
    ];
    for (case, content_type, encoding, body) in cases {
        let (response, got) = window_of(content_type, encoding, body).await;
        assert_eq!(response, want_response, "{case}");
        assert_eq!(got, want, "{case}");
    }
}

#[tokio::test]
async fn bad_formats_and_encodings_get_clear_errors() {
    let server = TestServer::start(&config_text(WINDOW, "  max_body_bytes: 4096\n")).await;
    let rows_path = "/v1/monitors/m/rows";
    let row = r#"{"x": 1, "y": 0.5, "c": "a", "b": 0}"#;
    // A 4 KiB limit and a body of 72 bytes that inflates to 10 MB of zeros.
    let bomb = gzip(&vec![b' '; 10_000_000]);
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    let zstd_bomb = zstd::encode_all(&vec![b' '; 10_000_000][..], 3).unwrap();
    // (case, content type, encoding, body, status, code, message part)
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Vec<u8>,
        u16,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "gzip bomb",
            "application/json",
            Some("gzip"),
            bomb,
            413,
            "payload_too_large",
            "after decompression",
        ),
        (
            "zstd bomb",
            "application/json",
            Some("zstd"),
            zstd_bomb,
            413,
            "payload_too_large",
            "after decompression",
        ),
        (
            "unknown encoding",
            "application/json",
            Some("br"),
            row.into(),
            415,
            "unsupported_media_type",
            "Content-Encoding \"br\" is not supported",
        ),
        (
            "corrupt gzip",
            "application/json",
            Some("gzip"),
            b"{\"rows\": []}".to_vec(),
            400,
            "body_read_failed",
            "could not decompress the gzip request body",
        ),
        (
            "corrupt zstd",
            "application/json",
            Some("zstd"),
            b"\x28\xb5\x2f\xfd garbage".to_vec(),
            400,
            "body_read_failed",
            "could not decompress the zstd request body",
        ),
        (
            "ndjson bad line",
            "application/x-ndjson",
            None,
            format!("{row}\n\n{row}\n[1, 2]\n{row}\n").into_bytes(),
            422,
            "row_not_object",
            "line 4: ",
        ),
        (
            "ndjson malformed line",
            "application/x-ndjson",
            None,
            format!("{row}\n{{\"x\": \n").into_bytes(),
            400,
            "malformed_json",
            "line 2: malformed JSON",
        ),
        (
            "columnar length mismatch",
            "application/json",
            None,
            br#"{"columns": {"x": [1, 2, 3], "c": ["a", "b"], "unknown": [1]}}"#.to_vec(),
            422,
            "invalid_body",
            "columns[\"c\"] has 2 values but columns[\"x\"] has 3",
        ),
        (
            "columnar not an array",
            "application/json",
            None,
            br#"{"columns": {"x": 5}}"#.to_vec(),
            422,
            "invalid_body",
            "columns[\"x\"] to be an array",
        ),
        (
            "rows and columns",
            "application/json",
            None,
            br#"{"columns": {"x": [1]}, "rows": []}"#.to_vec(),
            422,
            "invalid_body",
            "unexpected key \"rows\"",
        ),
        (
            "ndjson on labels",
            "application/x-ndjson",
            None,
            b"{\"id\": 1, \"target\": 1}\n".to_vec(),
            415,
            "unsupported_media_type",
            "must be application/json",
        ),
    ];
    for (case, content_type, encoding, body, status, code, needle) in cases {
        let path = if case.contains("labels") {
            "/v1/monitors/m/labels"
        } else {
            rows_path
        };
        let answer = post(&server, path, content_type, encoding, body).await;
        assert_refused(case, &answer, status, code, needle);
    }
    // Nothing was ingested.
    assert_eq!(server.get_json("/v1/monitors/m").await["buffered_rows"], 0);
}

#[tokio::test]
async fn compressed_labels_and_row_limits() {
    let server = TestServer::start(&config_text(WINDOW, "  max_rows_per_request: 3\n")).await;
    let rows = rows(&mut Rng::new(3), 3, false);
    let (status, body) = post(
        &server,
        "/v1/monitors/m/rows",
        "application/x-ndjson",
        None,
        ndjson(&rows).into_bytes(),
    )
    .await;
    assert_eq!((status, &body["accepted"]), (200, &json!(3)), "{body}");
    let labels = json!({"labels": [{"id": 0, "target": 1}, {"id": 1, "target": 0}]});
    let (status, body) = post(
        &server,
        "/v1/monitors/m/labels",
        "application/json",
        Some("zstd"),
        zstd::encode_all(labels.to_string().as_bytes(), 3).unwrap(),
    )
    .await;
    assert_eq!((status, &body["received"]), (200, &json!(2)), "{body}");
    // One row too many, in either format.
    let four = common::rows(&mut Rng::new(4), 4, false);
    let (status, body) = post(
        &server,
        "/v1/monitors/m/rows",
        "application/x-ndjson",
        None,
        ndjson(&four).into_bytes(),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("monitor \"m\": line 8: "),
        "{body}"
    );
    let (status, body) = post(
        &server,
        "/v1/monitors/m/rows",
        "application/json",
        Some("gzip"),
        gzip(columnar(&four).to_string().as_bytes()),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (413, &json!("too_many_rows")),
        "{body}"
    );
}

/// `rows` as an Arrow IPC stream of two record batches: numbers as Float64 and Int64, `c` as
/// dictionary-encoded text, the ignored column as a text view; JSON nulls and absent fields are
/// Arrow nulls.
fn arrow_stream(rows: &[Value]) -> Vec<u8> {
    use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8Array, Utf8ViewArray};

    let column = |rows: &[Value], name: &str| -> Box<dyn Array> {
        let get = |r: &Value| r.get(name).cloned().unwrap_or(Value::Null);
        match name {
            "x" | "y" => Box::new(PrimitiveArray::<f64>::from(
                rows.iter().map(|r| get(r).as_f64()).collect::<Vec<_>>(),
            )),
            "c" => {
                let texts = ["a", "b", "c", "d"];
                let keys: Vec<Option<i32>> = rows
                    .iter()
                    .map(|r| {
                        let text = get(r);
                        texts
                            .iter()
                            .position(|t| Some(*t) == text.as_str())
                            .map(|k| k as i32)
                    })
                    .collect();
                let values = Utf8Array::<i32>::from_slice(texts).boxed();
                let array =
                    DictionaryArray::try_from_keys(PrimitiveArray::from(keys), values, false);
                Box::new(array.unwrap())
            }
            "extra_column_ignored" => Box::new(Utf8ViewArray::from_slice_values(
                rows.iter().map(|_| "anything").collect::<Vec<_>>(),
            )),
            _ => Box::new(PrimitiveArray::<i64>::from(
                rows.iter().map(|r| get(r).as_i64()).collect::<Vec<_>>(),
            )),
        }
    };
    let names = [
        "id",
        "x",
        "y",
        "c",
        "b",
        "prediction",
        "extra_column_ignored",
    ];
    let batches = [&rows[..150], &rows[150..]]
        .map(|part| names.iter().map(|n| column(part, n)).collect())
        .to_vec();
    driftscope::ingest::rows::write_stream(&names, batches).unwrap()
}

#[tokio::test]
async fn arrow_stream_gives_the_same_window_as_json() {
    let mut rows = rows(&mut Rng::new(11), 400, false);
    rows[5]["c"] = Value::Null;
    rows[11].as_object_mut().unwrap().remove("y");
    let plain = json!({"rows": rows}).to_string().into_bytes();
    let (want_response, want) = window_of("application/json", None, plain).await;
    assert_eq!(want_response["windows_evaluated"], 1, "{want_response}");
    let stream = arrow_stream(&rows);
    for (case, encoding, body) in [
        ("arrow", None, stream.clone()),
        (
            "zstd arrow",
            Some("zstd"),
            zstd::encode_all(&stream[..], 3).unwrap(),
        ),
    ] {
        let (response, got) = window_of(ARROW, encoding, body).await;
        assert_eq!(response, want_response, "{case}");
        assert_eq!(got, want, "{case}");
    }
}

#[tokio::test]
async fn bad_arrow_streams_get_clear_errors() {
    let server = TestServer::start(&config_text(WINDOW, "  max_rows_per_request: 200\n")).await;
    let stream = arrow_stream(&rows(&mut Rng::new(5), 160, false));
    // The first message's length, rewritten to claim 2 GB.
    let mut huge = stream.clone();
    huge[4..8].copy_from_slice(&i32::MAX.to_le_bytes());
    let too_many = arrow_stream(&rows(&mut Rng::new(6), 400, false));
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        (
            "garbage",
            b"not an arrow stream".to_vec(),
            422,
            "invalid_body",
            "invalid Arrow IPC stream",
        ),
        (
            "huge length",
            huge,
            422,
            "invalid_body",
            "longer than the body",
        ),
        (
            "truncated",
            stream[..stream.len() / 2].to_vec(),
            422,
            "invalid_body",
            "invalid Arrow IPC stream",
        ),
        (
            "too many rows",
            too_many,
            413,
            "too_many_rows",
            "more than server.max_rows_per_request (200)",
        ),
    ];
    for (case, body, status, code, needle) in cases {
        let answer = post(&server, "/v1/monitors/m/rows", ARROW, None, body).await;
        assert_refused(case, &answer, status, code, needle);
    }
    assert_eq!(server.get_json("/v1/monitors/m").await["buffered_rows"], 0);
    // Labels are JSON only.
    let (status, got) = post(&server, "/v1/monitors/m/labels", ARROW, None, stream).await;
    assert_eq!(
        (status, &got["error"]["code"]),
        (415, &json!("unsupported_media_type")),
        "{got}"
    );
}
