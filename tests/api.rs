//! The service through its public HTTP interface: ingest, windows, results JSON and `/metrics`.

mod common;

use common::{Rng, TestServer, config_text, metric, rows};
use serde_json::json;

const COUNT_WINDOW: &str = "    window: {rows: 400}\n";

#[tokio::test]
async fn non_drifted_then_drifted_windows_show_in_json_and_metrics() {
    let server = TestServer::start(&config_text(COUNT_WINDOW, "")).await;
    let mut rng = Rng::new(1);

    // 399 rows: nothing closes yet.
    let (status, body) = server
        .post_rows(&json!({"rows": rows(&mut rng, 399, false)}))
        .await;
    assert_eq!(
        (status, &body),
        (
            200,
            &json!({
                "accepted": 399, "dropped": {"late": 0, "window_full": 0, "future": 0},
                "windows_evaluated": 0, "labelled_windows_evaluated": 0, "replayed": false
            })
        )
    );
    let results = server.get_json("/v1/monitors/m").await;
    assert_eq!(results["latest"], serde_json::Value::Null);
    assert_eq!(results["buffered_rows"], 399);

    // One more row closes the first window; results are visible when the response arrives.
    let (status, body) = server.post_rows(&json!(rows(&mut rng, 1, false))).await;
    assert_eq!(
        (status, &body),
        (
            200,
            &json!({
                "accepted": 1, "dropped": {"late": 0, "window_full": 0, "future": 0},
                "windows_evaluated": 1, "labelled_windows_evaluated": 0, "replayed": false
            })
        )
    );
    let latest = &server.get_json("/v1/monitors/m").await["latest"];
    assert_eq!(latest["rows"], 400);
    assert_eq!(latest["dataset"]["drifted"], false, "{latest}");
    let features = latest["features"].as_array().unwrap();
    let names: Vec<&str> = features
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "y", "c", "b"]);
    let tests: Vec<&str> = features
        .iter()
        .map(|f| f["test"].as_str().unwrap())
        .collect();
    // The calibrated default policy: KS for numerical columns, chi-square for the rest (the
    // binary `b` too: a 2-cell chi-square is the z-test squared and also sees new values).
    assert_eq!(tests, ["ks", "ks", "chisquare", "chisquare"]);
    for f in features {
        assert!(f["p_value"].as_f64().unwrap() > 0.05, "{f}");
        // Holm over the 4 features: the adjusted p-value is never below the raw one.
        assert!(
            f["p_value_adjusted"].as_f64() >= f["p_value"].as_f64(),
            "{f}"
        );
        assert_eq!(f["threshold"], 0.05);
        assert_eq!(f["missing"], 0);
    }
    assert_eq!(latest["predictions"][0]["name"], "prediction");
    assert_eq!(latest["predictions"][0]["test"], "chisquare");
    // Rows carry no target: no labelled window, no made-up verdict.
    let labelled = &server.get_json("/v1/monitors/m").await["labelled"];
    assert_eq!(labelled["latest"], serde_json::Value::Null);
    assert_eq!(labelled["buffered_rows"], 0);

    // A drifted window.
    let (_, body) = server
        .post_rows(&json!({"rows": rows(&mut rng, 400, true)}))
        .await;
    assert_eq!(body["windows_evaluated"], 1);
    let results = server.get_json("/v1/monitors/m").await;
    let latest = &results["latest"];
    assert_eq!(latest["seq"], 2);
    assert_eq!(latest["dataset"]["drifted"], true, "{latest}");
    let drifted: Vec<&str> = latest["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["drifted"] == true)
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(drifted, ["x", "y", "c"]);
    assert_eq!(latest["dataset"]["drift_share"], 0.75);
    let history = results["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[0]["drifted"].clone(), history[1]["drifted"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(history[1]["drifted_features"], json!(["x", "y", "c"]));

    let text = server.metrics().await;
    let m = "monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_dataset_drift_detected", m),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "driftscope_dataset_drift_share", m),
        Some(0.75)
    );
    assert_eq!(metric(&text, "driftscope_drifted_features", m), Some(3.0));
    assert_eq!(
        metric(&text, "driftscope_windows_evaluated_total", m),
        Some(2.0)
    );
    assert_eq!(
        metric(&text, "driftscope_drift_windows_total", m),
        Some(1.0)
    );
    assert_eq!(metric(&text, "driftscope_window_rows", m), Some(400.0));
    assert_eq!(
        metric(&text, "driftscope_rows_ingested_total", m),
        Some(800.0)
    );
    assert_eq!(metric(&text, "driftscope_reference_rows", m), Some(800.0));
    assert!(metric(&text, "driftscope_last_evaluation_timestamp_seconds", m).unwrap() > 1.7e9);
    let x = "feature=\"x\",monitor=\"m\",test=\"ks\"";
    assert_eq!(
        metric(
            &text,
            "driftscope_feature_drift_detected",
            "feature=\"x\",monitor=\"m\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_feature_drift_detected",
            "feature=\"b\",monitor=\"m\""
        ),
        Some(0.0)
    );
    assert!(metric(&text, "driftscope_feature_drift_p_value", x).unwrap() < 1e-6);
    let json_score = latest["features"][0]["score"].as_f64().unwrap();
    assert_eq!(
        metric(&text, "driftscope_feature_drift_score", x),
        Some(json_score)
    );
    assert_eq!(
        metric(&text, "driftscope_feature_drift_threshold", x),
        Some(0.05)
    );
    assert!(
        metric(
            &text,
            "driftscope_prediction_drift_p_value",
            "column=\"prediction\",monitor=\"m\",test=\"chisquare\""
        )
        .is_some()
    );
    // The target had no values: its score series is absent, not NaN.
    assert!(!text.contains("driftscope_target_drift_score{"), "{text}");
    assert!(text.contains("driftscope_evaluation_duration_seconds_count{monitor=\"m\"} 2"));
    assert!(text.contains(
        "driftscope_http_requests_total{route=\"/v1/monitors/{monitor}/rows\",status=\"200\"} 3"
    ));
    assert!(text.contains("process_resident_memory_bytes"));
}

#[tokio::test]
async fn missing_and_invalid_values_are_counted_not_fatal() {
    let server = TestServer::start(&config_text("    window: {rows: 4}\n", "")).await;
    let batch = json!([
        {"x": "not a number", "y": 0.5, "c": "a", "b": 1},
        {"x": null, "y": 0.2, "c": 7, "b": "1"},
        {"y": 0.3, "c": {"nested": 1}, "b": 0},
        {"x": 51.0, "y": [1, 2], "c": "zzz", "b": 1.0},
    ]);
    let (status, body) = server.post_rows(&batch).await;
    assert_eq!((status, body["windows_evaluated"].clone()), (200, json!(1)));
    let latest = &server.get_json("/v1/monitors/m").await["latest"];
    let by_name = |n: &str| {
        latest["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()
            .clone()
    };
    // x: text (invalid), null and absent (missing); only 51.0 is tested.
    assert_eq!(
        (
            by_name("x")["missing"].clone(),
            by_name("x")["invalid"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(
        (
            by_name("x")["missing_ratio"].clone(),
            by_name("x")["invalid_ratio"].clone()
        ),
        (json!(0.5), json!(0.25))
    );
    assert_eq!(
        (
            by_name("x")["values"].clone(),
            by_name("x")["out_of_range_ratio"].clone()
        ),
        (json!(1), json!(0.0))
    );
    assert_eq!(
        (
            by_name("y")["missing"].clone(),
            by_name("y")["invalid"].clone()
        ),
        (json!(0), json!(1))
    );
    // "7" and "zzz" are categories the reference never saw: values, not missing.
    let c = by_name("c");
    assert_eq!(
        (
            c["missing"].clone(),
            c["invalid"].clone(),
            c["new_category"].clone()
        ),
        (json!(0), json!(1), json!(2))
    );
    assert_eq!(c["new_category_ratio"], 0.5);
    // 1, "1" and 1.0 are the same category.
    assert_eq!(
        (
            by_name("b")["missing"].clone(),
            by_name("b")["new_category"].clone()
        ),
        (json!(0), json!(0))
    );
    let text = server.metrics().await;
    assert_eq!(
        metric(
            &text,
            "driftscope_values_invalid_total",
            "feature=\"x\",monitor=\"m\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_values_invalid_total",
            "feature=\"c\",monitor=\"m\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_values_invalid_total",
            "feature=\"y\",monitor=\"m\""
        ),
        Some(1.0)
    );
    let x = "feature=\"x\",monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_feature_missing_ratio", x),
        Some(0.5)
    );
    assert_eq!(
        metric(&text, "driftscope_feature_invalid_ratio", x),
        Some(0.25)
    );
    let c = "feature=\"c\",monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_feature_new_category_ratio", c),
        Some(0.5)
    );
}

#[tokio::test]
async fn all_missing_feature_has_no_verdict_and_no_nan() {
    let server = TestServer::start(&config_text("    window: {rows: 50}\n", "")).await;
    let mut rng = Rng::new(3);
    let mut batch = rows(&mut rng, 50, false);
    for row in &mut batch {
        row.as_object_mut().unwrap().remove("x");
    }
    server.post_rows(&json!(batch)).await;
    let latest = &server.get_json("/v1/monitors/m").await["latest"];
    let x = &latest["features"][0];
    assert_eq!(
        (
            x["score"].clone(),
            x["drifted"].clone(),
            x["missing"].clone()
        ),
        (json!(null), json!(false), json!(50))
    );
    assert_eq!(latest["dataset"]["features_evaluated"], 3);
    let text = server.metrics().await;
    assert!(!text.contains("NaN"), "{text}");
    assert!(!text.contains("driftscope_feature_drift_score{feature=\"x\""));
    assert_eq!(
        metric(
            &text,
            "driftscope_feature_missing_ratio",
            "feature=\"x\",monitor=\"m\""
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn min_rows_withholds_the_verdict_of_small_windows() {
    let config = config_text(
        "    window: {duration: 10s, min_rows: 5}\n    timestamp: ts\n",
        "",
    );
    let server = TestServer::start(&config).await;
    let row = |ts: f64| json!({"ts": ts, "x": 50, "y": 0.5, "c": "a", "b": 0});
    // Window [100, 110) gets 3 rows; a row at 112 closes it: below min_rows, skipped.
    let batch: Vec<_> = [101.0, 102.0, 103.0, 112.0].into_iter().map(row).collect();
    let (_, body) = server.post_rows(&json!(batch)).await;
    assert_eq!(body["windows_evaluated"], 0);
    let text = server.metrics().await;
    assert_eq!(
        metric(
            &text,
            "driftscope_windows_skipped_total",
            "monitor=\"m\",reason=\"below_min_rows\""
        ),
        Some(1.0)
    );
    assert_eq!(
        server.get_json("/v1/monitors/m").await["latest"],
        json!(null)
    );
}

#[tokio::test]
async fn count_sliding_window_evaluates_every_step() {
    let server = TestServer::start(&config_text("    window: {rows: 100, step: 25}\n", "")).await;
    let mut rng = Rng::new(5);
    let (_, body) = server.post_rows(&json!(rows(&mut rng, 99, false))).await;
    assert_eq!(body["windows_evaluated"], 0);
    let (_, body) = server.post_rows(&json!(rows(&mut rng, 51, false))).await;
    // Row 100 closes the first window, rows 125 and 150 the next two.
    assert_eq!(body["windows_evaluated"], 3);
    let results = server.get_json("/v1/monitors/m").await;
    assert_eq!(results["latest"]["rows"], 100);
    assert_eq!(results["history"].as_array().unwrap().len(), 3);
    assert_eq!(results["buffered_rows"], 100);
}

#[tokio::test]
async fn time_windows_on_event_time_tumble_and_slide() {
    let tumbling = TestServer::start(&config_text(
        "    window: {duration: 1m}\n    timestamp: ts\n",
        "",
    ))
    .await;
    let mut rng = Rng::new(9);
    let mut batch = rows(&mut rng, 30, false);
    for (i, row) in batch.iter_mut().enumerate() {
        // Rows every 5 s from 2026-01-01T00:00:00Z: minute 0 holds 12 rows, minute 1 12, minute 2 6.
        let ts = if i % 2 == 0 {
            json!(1_767_225_600 + 5 * i)
        } else {
            json!(rfc3339(1_767_225_600 + 5 * i as i64))
        };
        row["ts"] = ts;
    }
    let (_, body) = tumbling.post_rows(&json!(batch)).await;
    assert_eq!(body["windows_evaluated"], 2);
    let results = tumbling.get_json("/v1/monitors/m").await;
    let history = results["history"].as_array().unwrap();
    assert_eq!(history[0]["start"], "2026-01-01T00:00:00.000Z");
    assert_eq!(history[0]["end"], "2026-01-01T00:01:00.000Z");
    assert_eq!(
        (history[0]["rows"].clone(), history[1]["rows"].clone()),
        (json!(12), json!(12))
    );
    // A row older than the open window is late: accepted, counted, dropped.
    let (status, _) = tumbling
        .post_rows(&json!([{"ts": 1_767_225_600, "x": 1}]))
        .await;
    assert_eq!(status, 200);
    let text = tumbling.metrics().await;
    assert_eq!(
        metric(
            &text,
            "driftscope_rows_dropped_total",
            "monitor=\"m\",reason=\"late\""
        ),
        Some(1.0)
    );

    let sliding = TestServer::start(&config_text(
        "    window: {duration: 1m, step: 30s}\n    timestamp: ts\n",
        "",
    ))
    .await;
    let mut batch = rows(&mut rng, 30, false);
    for (i, row) in batch.iter_mut().enumerate() {
        row["ts"] = json!(1_767_225_600 + 5 * i);
    }
    let (_, body) = sliding.post_rows(&json!(batch)).await;
    // Boundaries at :30, 1:00, 1:30, 2:00, 2:30 passed by the last row (2:25)? Up to 2:00: four.
    assert_eq!(body["windows_evaluated"], 4);
    let history = sliding.get_json("/v1/monitors/m").await["history"].clone();
    let sizes: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["rows"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [6, 12, 12, 12]);
}

#[tokio::test]
async fn arrival_time_windows_close_on_the_clock_without_more_traffic() {
    let server = TestServer::start(&config_text("    window: {duration: 1s}\n", "")).await;
    let mut rng = Rng::new(11);
    let (_, body) = server.post_rows(&json!(rows(&mut rng, 20, false))).await;
    assert_eq!(body["windows_evaluated"], 0);
    // The ticker closes the window within ~1 s + 250 ms; poll the counter, as a client would.
    let mut evaluated = 0.0;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        evaluated = metric(
            &server.metrics().await,
            "driftscope_windows_evaluated_total",
            "monitor=\"m\"",
        )
        .unwrap();
        if evaluated >= 1.0 {
            break;
        }
    }
    assert_eq!(evaluated, 1.0);
    assert_eq!(
        server.get_json("/v1/monitors/m").await["latest"]["rows"],
        20
    );
}

#[tokio::test]
async fn monitor_listing_health_and_readiness() {
    let server = TestServer::start(&config_text(COUNT_WINDOW, "")).await;
    assert_eq!(server.get_json("/healthz").await, json!({"status": "ok"}));
    let ready = server.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        ready["monitors"][0],
        json!({"name": "m", "reference_rows": 800})
    );
    let list = server.get_json("/v1/monitors").await;
    let m = &list["monitors"][0];
    assert_eq!(m["name"], "m");
    assert_eq!(m["window"]["kind"], "count_tumbling");
    assert_eq!(m["window"]["rows"], 400);
    let columns = m["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 6);
    assert_eq!(
        columns[0],
        json!({"name": "x", "role": "feature", "type": "numerical", "test": "ks", "threshold": 0.05})
    );
    assert_eq!(columns[5]["role"], "target");
    assert_eq!(m["labels"]["max_pending"], 100_000);
    assert_eq!(m["alerting"]["severity"], "warning");
}

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batches_are_all_counted_and_windows_stay_ordered() {
    let server = std::sync::Arc::new(
        TestServer::start(&config_text(
            "    window: {rows: 300, step: 100}\n    history: 100\n",
            "  max_concurrent_ingest: 8\n",
        ))
        .await,
    );
    let mut tasks = Vec::new();
    for client in 0..8u64 {
        let server = std::sync::Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(100 + client);
            let mut evaluated = 0;
            for _ in 0..10 {
                let (status, body) = server.post_rows(&json!(rows(&mut rng, 50, false))).await;
                assert_eq!(status, 200, "{body}");
                evaluated += body["windows_evaluated"].as_u64().unwrap();
            }
            evaluated
        }));
    }
    let mut evaluated = 0;
    for task in tasks {
        evaluated += task.await.unwrap();
    }
    // 4000 rows: the first window at row 300, then one every 100 rows.
    assert_eq!(evaluated, 38);
    let results = server.get_json("/v1/monitors/m").await;
    let seqs: Vec<u64> = results["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=38).collect::<Vec<u64>>(),
        "history is ordered by window"
    );
    assert_eq!(
        results["latest"]["seq"], 38,
        "the newest window is the one published last"
    );
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_rows_ingested_total", "monitor=\"m\""),
        Some(4000.0)
    );
    assert_eq!(
        metric(&text, "driftscope_windows_evaluated_total", "monitor=\"m\""),
        Some(38.0)
    );
}

#[tokio::test]
async fn learned_thresholds_put_a_p_value_on_distances() {
    let server = TestServer::start(&config_text("    window: {rows: 200}\n", "").replace(
        "numerical: [x, y]",
        "numerical: [{name: x, test: wasserstein, threshold: auto}, y]",
    ))
    .await;
    let mut rng = Rng::new(5);
    let (status, body) = server.post_rows(&json!(rows(&mut rng, 200, false))).await;
    assert_eq!((status, body["windows_evaluated"].clone()), (200, json!(1)));
    let x = server.get_json("/v1/monitors/m").await["latest"]["features"][0].clone();
    assert_eq!(
        (x["name"].as_str(), x["test"].as_str()),
        (Some("x"), Some("wasserstein"))
    );
    let p = x["p_value"].as_f64().expect("a learned p-value");
    assert!(
        p > 0.0 && p <= 1.0 && x["p_value_adjusted"].as_f64() >= Some(p),
        "{x}"
    );
    assert_eq!(x["threshold"], 0.05, "the family level, not a distance");
    let (_, body) = server.post_rows(&json!(rows(&mut rng, 200, true))).await;
    assert_eq!(body["windows_evaluated"], 1);
    let x = server.get_json("/v1/monitors/m").await["latest"]["features"][0].clone();
    assert!(
        x["p_value"].as_f64() < Some(0.01) && x["drifted"] == true,
        "{x}"
    );
}
