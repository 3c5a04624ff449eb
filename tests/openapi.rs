//! `docs/openapi.json` stays true: every route of the router is documented and nothing else is,
//! every rejection code is in the error enum, and real responses of a running server validate
//! against the document's schemas (and carry the documented headers).
//!
//! The validator is a small JSON Schema subset written here rather than the `jsonschema` crate
//! (a large dependency tree for one test). It understands exactly the keywords the document
//! uses, and `the_validator_knows_every_keyword_the_document_uses` fails when the document
//! starts using one it does not, so a schema can never be silently half-checked.
//! schemathesis (`tests/openapi/schemathesis.sh`) fuzzes the live service with a full validator.

mod common;

use std::collections::BTreeSet;

use common::{Rng, TestServer, config_text, rows};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(driftscope::api::handlers::OPENAPI_DOCUMENT)
        .expect("docs/openapi.json is JSON")
}

/// `(METHOD, path)` of every `.route(...)` in the router source.
fn router_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../src/api/mod.rs");
    let mut routes = BTreeSet::new();
    for chunk in source.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).expect("a route path literal");
        let handlers = chunk.split(".route(").next().unwrap();
        let handlers = &handlers[..handlers.find(".fallback").unwrap_or(handlers.len())];
        let mut found = false;
        for method in ["get", "post", "put", "delete", "patch", "head", "options"] {
            // `get(handlers::x)` or a chained `.post(handlers::y)`.
            if handlers.contains(&format!(" {method}("))
                || handlers.contains(&format!("\n{method}("))
                || handlers.contains(&format!(".{method}("))
                || handlers.contains(&format!("({method}("))
            {
                routes.insert((method.to_uppercase(), path.to_owned()));
                found = true;
            }
        }
        assert!(found, "no method found for route {path}");
    }
    routes
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method != "parameters" {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let routes = router_routes();
    assert!(
        routes.len() >= 9,
        "the route parser found too few: {routes:?}"
    );
    assert!(routes.contains(&("POST".into(), "/v1/monitors/{monitor}/labels".into())));
    assert_eq!(routes, documented_routes(&document()));
}

#[test]
fn every_rejection_code_is_in_the_error_enum() {
    let doc = document();
    let documented: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let counted: BTreeSet<&str> = driftscope::export::metrics::REJECTION_CODES
        .iter()
        .copied()
        .collect();
    assert_eq!(documented, counted);
}

#[test]
fn operations_document_auth_and_error_headers() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let open = matches!(path.as_str(), "/healthz" | "/readyz");
            let scope = if open {
                None
            } else if method == "post" && path.starts_with("/-/") {
                Some("admin")
            } else if method == "post" {
                Some("ingest")
            } else {
                Some("read")
            };
            let expected = match scope {
                None => json!([]),
                Some(s) => json!([{"bearer": [s]}]),
            };
            assert_eq!(op["security"], expected, "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            for status in ["408", "414", "431"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
            if scope.is_some() {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
                let unauthorized = resolve(&doc, &responses["401"]);
                assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
            }
            if let Some(too_many) = responses.get("429") {
                assert!(resolve(&doc, too_many)["headers"]["Retry-After"].is_object());
            }
        }
    }
}

#[test]
fn the_validator_knows_every_keyword_the_document_uses() {
    fn walk(schema: &Value, at: &str) {
        let Some(map) = schema.as_object() else {
            return;
        };
        for (key, value) in map {
            assert!(
                KEYWORDS.contains(&key.as_str()),
                "{at}: keyword {key:?} is not checked by tests/openapi.rs"
            );
            match key.as_str() {
                "properties" => {
                    for (name, s) in value.as_object().unwrap() {
                        walk(s, &format!("{at}.{name}"));
                    }
                }
                "items" | "additionalProperties" => walk(value, at),
                "oneOf" | "anyOf" | "prefixItems" => {
                    for s in value.as_array().unwrap() {
                        walk(s, at);
                    }
                }
                _ => {}
            }
        }
    }
    let doc = document();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        walk(schema, name);
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"].as_object().unwrap().values() {
                let response = resolve(&doc, response);
                if let Some(content) = response["content"].as_object() {
                    for media in content.values() {
                        walk(&media["schema"], path);
                    }
                }
            }
        }
    }
}

/// Keywords [`validate`] checks, plus annotations it may ignore.
const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "oneOf",
    "anyOf",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    // Annotations.
    "description",
    "format",
    "pattern",
    "example",
];

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(doc, doc.pointer(pointer).expect("$ref target exists"))
        }
        None => value,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown type {other}"),
    }
}

/// Problems of `value` against `schema` (a subset of JSON Schema 2020-12), with their paths.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let mut fail = |what: String| problems.push(format!("{at}: {what}"));
    if let Some(types) = schema.get("type") {
        let ok = match types {
            Value::String(t) => type_matches(t, value),
            Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), value)),
            _ => panic!("bad type keyword"),
        };
        if !ok {
            fail(format!("{value} is not of type {types}"));
            return;
        }
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        fail(format!("{value} is not one of {options:?}"));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        fail(format!("{value} is not {constant}"));
    }
    if let Some(n) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|m| n < m) {
            fail(format!("{n} < minimum"));
        }
        if schema["maximum"].as_f64().is_some_and(|m| n > m) {
            fail(format!("{n} > maximum"));
        }
    }
    if let Some(s) = value.as_str() {
        let chars = s.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|m| chars < m) {
            fail(format!("{s:?} shorter than minLength"));
        }
        if schema["maxLength"].as_u64().is_some_and(|m| chars > m) {
            fail(format!("{s:?} longer than maxLength"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                fail(format!("missing required {name:?}"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, v) in object {
            let path = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(s) => validate(doc, s, v, &path, problems),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => problems.push(format!("{path}: not documented")),
                    Some(s @ Value::Object(_)) => validate(doc, s, v, &path, problems),
                    _ => {}
                },
            }
        }
    }
    if let Some(items) = value.as_array() {
        let mut fail = |what: String| problems.push(format!("{at}: {what}"));
        if schema["minItems"]
            .as_u64()
            .is_some_and(|m| (items.len() as u64) < m)
        {
            fail("fewer than minItems".into());
        }
        if schema["maxItems"]
            .as_u64()
            .is_some_and(|m| (items.len() as u64) > m)
        {
            fail("more than maxItems".into());
        }
        let prefix = schema["prefixItems"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for (i, item) in items.iter().enumerate() {
            let path = format!("{at}[{i}]");
            match prefix.get(i) {
                Some(s) => validate(doc, s, item, &path, problems),
                None => {
                    if let Some(s) = schema.get("items") {
                        validate(doc, s, item, &path, problems);
                    }
                }
            }
        }
    }
    let passing = |options: &Value| {
        options
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                let mut p = Vec::new();
                validate(doc, s, value, at, &mut p);
                p.is_empty()
            })
            .count()
    };
    if schema.get("oneOf").is_some() && passing(&schema["oneOf"]) != 1 {
        problems.push(format!("{at}: {value} does not match exactly one of oneOf"));
    }
    if schema.get("anyOf").is_some() && passing(&schema["anyOf"]) == 0 {
        problems.push(format!("{at}: {value} matches none of anyOf"));
    }
}

/// Checks a response against the document's operation `method path`: documented status, media
/// type, schema and headers. Returns the body.
async fn check(doc: &Value, method: &str, path: &str, response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let documented = &op["responses"][status.to_string()];
    assert!(
        documented.is_object(),
        "{method} {path}: status {status} is not documented ({text})"
    );
    let documented = resolve(doc, documented);
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap().trim();
    let content = &documented["content"];
    assert!(
        content[media].is_object(),
        "{method} {path} {status}: content type {content_type:?} is not documented"
    );
    for (name, header) in documented["headers"].as_object().into_iter().flatten() {
        let header = resolve(doc, header);
        if header["required"] == true {
            assert!(
                headers.contains_key(name.as_str()),
                "{method} {path} {status}: header {name} missing"
            );
        }
    }
    let body = if media == "application/json" {
        serde_json::from_str(&text).unwrap()
    } else {
        Value::String(text)
    };
    let mut problems = Vec::new();
    validate(doc, &content[media]["schema"], &body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: the body does not match the document:\n{}\n{body:#}",
        problems.join("\n")
    );
    (status, body)
}

#[test]
fn the_validator_rejects_what_it_should() {
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/IngestAnswer"});
    let good = json!({"accepted": 1, "dropped": {"late": 0, "window_full": 0, "future": 0},
        "windows_evaluated": 0, "labelled_windows_evaluated": 0, "replayed": false});
    let mut problems = Vec::new();
    validate(&doc, &schema, &good, "$", &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    for bad in [
        json!({"accepted": -1}),
        json!({"accepted": "1"}),
        json!({"unknown": 1}),
        json!({"dropped": {"late": 0, "window_full": 0}}),
    ] {
        let mut value = good.clone();
        for (k, v) in bad.as_object().unwrap() {
            value[k] = v.clone();
        }
        let mut problems = Vec::new();
        validate(&doc, &schema, &value, "$", &mut problems);
        assert!(!problems.is_empty(), "{value} passed");
    }
    let mut problems = Vec::new();
    let error = json!({"error": {"code": "no_such_code", "message": ""}});
    validate(
        &doc,
        &json!({"$ref": "#/components/schemas/Error"}),
        &error,
        "$",
        &mut problems,
    );
    assert!(!problems.is_empty());
}

#[tokio::test]
async fn live_responses_match_the_document() {
    let doc = document();
    let monitor = "    window: {rows: 20}\n    latency: {column: latency_ms, unit: ms}\n";
    let server = TestServer::start(&config_text(monitor, "")).await;
    let c = &server.client;
    let rows_path = "/v1/monitors/{monitor}/rows";
    let labels_path = "/v1/monitors/{monitor}/labels";
    let results_path = "/v1/monitors/{monitor}";

    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/v1/monitors",
    ] {
        let (status, _) = check(
            &doc,
            "get",
            path,
            c.get(server.url(path)).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{path}");
    }
    let served = c.get(server.url("/openapi.json")).send().await.unwrap();
    assert_eq!(served.json::<Value>().await.unwrap(), doc);

    // Empty results before any window closed.
    let (_, body) = check(
        &doc,
        "get",
        results_path,
        c.get(server.url("/v1/monitors/m")).send().await.unwrap(),
    )
    .await;
    assert!(body["latest"].is_null());

    // Two windows of rows with distinct ids, both body forms, then labels for all of them.
    let mut rng = Rng::new(7);
    let mut batch = rows(&mut rng, 40, true);
    for (i, row) in batch.iter_mut().enumerate() {
        row["id"] = json!(format!("r{i}"));
        row["latency_ms"] = json!(10 * i);
    }
    let post = |path: &str, body: Value, key: Option<&str>| {
        let mut request = c
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send()
    };
    let (status, body) = check(
        &doc,
        "post",
        rows_path,
        post(
            "/v1/monitors/m/rows",
            json!({"rows": batch[..20]}),
            Some("k-1"),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, body["windows_evaluated"].as_u64()), (200, Some(1)));
    let replay = post(
        "/v1/monitors/m/rows",
        json!({"rows": batch[..20]}),
        Some("k-1"),
    )
    .await
    .unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let (_, body) = check(&doc, "post", rows_path, replay).await;
    assert_eq!(body["replayed"], true);
    let (status, _) = check(
        &doc,
        "post",
        rows_path,
        post("/v1/monitors/m/rows", json!(batch[20..]), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let mut labels: Vec<Value> = (0..40)
        .map(|i| json!({"id": format!("r{i}"), "target": i % 2}))
        .collect();
    labels.push(json!({"id": "never-predicted", "target": 1}));
    labels.push(json!({"target": 1}));
    labels.push(json!({"id": "r0", "target": [1]}));
    let (status, body) = check(
        &doc,
        "post",
        labels_path,
        post("/v1/monitors/m/labels", json!({"labels": labels}), None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["labelled_windows_evaluated"].as_u64()),
        (200, Some(2))
    );
    let (status, _) = check(
        &doc,
        "post",
        labels_path,
        post(
            "/v1/monitors/m/labels",
            json!([{"id": "r1", "target": 1}]),
            None,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    // Full results: a window report, history with scores, a labelled report with concept drift
    // and quality.
    let (_, body) = check(
        &doc,
        "get",
        results_path,
        c.get(server.url("/v1/monitors/m")).send().await.unwrap(),
    )
    .await;
    assert_eq!(body["history"].as_array().unwrap().len(), 2);
    assert!(body["history"][0]["scores"]["x"].is_number());
    assert_eq!(body["latest"]["latency"]["count"], 20, "{body}");
    assert!(body["labelled"]["latest"]["concept"]["tests"].is_array());
    assert!(
        !body["labelled"]["latest"]["quality"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (status, _) = check(
        &doc,
        "post",
        "/-/reload",
        c.post(server.url("/-/reload")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    // Errors.
    let cases: Vec<(&str, &str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/nope/rows"))
                .header("content-type", "application/json")
                .body("[{}]"),
            404,
            "unknown_monitor",
        ),
        (
            "get",
            results_path,
            c.get(server.url("/v1/monitors/nope")),
            404,
            "unknown_monitor",
        ),
        (
            "get",
            results_path,
            c.get(server.url("/v1/monitors/%FF")),
            400,
            "invalid_path",
        ),
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/m/rows"))
                .header("content-type", "application/json")
                .body("{"),
            400,
            "malformed_json",
        ),
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/m/rows"))
                .header("content-type", "text/csv")
                .body("x\n1"),
            415,
            "unsupported_media_type",
        ),
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/m/rows"))
                .header("content-type", "application/json")
                .body("[]"),
            422,
            "empty_batch",
        ),
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/m/rows"))
                .header("content-type", "application/json")
                .body("[1]"),
            422,
            "row_not_object",
        ),
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/m/rows"))
                .header("content-type", "application/json")
                .body(r#"{"data": []}"#),
            422,
            "invalid_body",
        ),
        (
            "post",
            rows_path,
            c.post(server.url("/v1/monitors/m/rows"))
                .header("content-type", "application/json")
                .header("idempotency-key", "a b")
                .body("[{}]"),
            400,
            "invalid_idempotency_key",
        ),
        (
            "post",
            labels_path,
            c.post(server.url("/v1/monitors/m/labels"))
                .header("content-type", "application/json")
                .body("{}"),
            422,
            "invalid_body",
        ),
        (
            "get",
            "/healthz",
            c.get(server.url(&format!("/healthz?{}", "a".repeat(9000)))),
            414,
            "uri_too_long",
        ),
    ];
    for (method, path, request, expected, code) in cases {
        let (status, body) = check(&doc, method, path, request.send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (expected, Some(code)),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn auth_rejections_match_the_document() {
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("read");
    std::fs::write(&token, "read-0123456789abcdef\n").unwrap();
    let auth = format!(
        "  auth:\n    tokens:\n      - {{name: prom, scopes: [read], from_file: {}}}\n",
        token.display()
    );
    let server = TestServer::start(&config_text("    window: {rows: 20}\n", &auth)).await;
    let c = &server.client;
    let (status, body) = check(
        &doc,
        "get",
        "/openapi.json",
        c.get(server.url("/openapi.json")).send().await.unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = check(
        &doc,
        "get",
        "/openapi.json",
        c.get(server.url("/openapi.json"))
            .bearer_auth("read-0123456789abcdef")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = check(
        &doc,
        "post",
        "/v1/monitors/{monitor}/rows",
        c.post(server.url("/v1/monitors/m/rows"))
            .bearer_auth("read-0123456789abcdef")
            .header("content-type", "application/json")
            .body("[{}]")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = check(
        &doc,
        "post",
        "/-/reload",
        c.post(server.url("/-/reload"))
            .bearer_auth("wrong-token-0123456789")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = check(
        &doc,
        "get",
        "/healthz",
        c.get(server.url("/healthz")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn estimated_quality_matches_the_document() {
    // A binary classifier with a probability column: its windows carry `estimated`.
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/labelled_reference.csv");
    let config = format!(
        "monitors:\n  - name: m\n    reference: {}\n    features: {{numerical: [x]}}\n    \
         prediction: {{column: prediction, type: categorical, probability: probability}}\n    \
         target: {{column: target, type: categorical}}\n    window: {{rows: 20}}\n",
        reference.display()
    );
    let doc = document();
    let server = TestServer::start(&config).await;
    let mut rng = Rng::new(3);
    let batch: Vec<Value> = (0..20)
        .map(|_| {
            let x = rng.normal(0.0, 1.0);
            json!({"x": x, "prediction": i64::from(x > 0.0), "probability": 1.0 / (1.0 + (-2.0 * x).exp())})
        })
        .collect();
    server.post_rows(&json!({ "rows": batch })).await;
    let (_, body) = check(
        &doc,
        "get",
        "/v1/monitors/{monitor}",
        server
            .client
            .get(server.url("/v1/monitors/m"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["latest"]["estimated"].as_array().map(Vec::len),
        Some(5),
        "{body:#}"
    );
}
