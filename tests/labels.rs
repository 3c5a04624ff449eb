//! Target, prediction and concept drift, model quality, delayed labels and alert metadata,
//! through HTTP. The reference (`tests/fixtures/labelled_reference.csv`) is a model that
//! predicts 1 when x > 0 and is wrong in 10 % of rows.

mod common;

use common::{Rng, TestServer, metric};
use serde_json::{Value, json};

fn config(window: &str, extra: &str) -> String {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/labelled_reference.csv");
    format!(
        "monitors:\n  - name: m\n    reference: {}\n    features: {{numerical: [x], categorical: [c]}}\n    \
         prediction: {{column: prediction, type: categorical, probability: probability}}\n    \
         target: {{column: target, type: categorical}}\n    id: id\n    window: {window}\n{extra}",
        reference.display()
    )
}

/// Rows of the fixture's model: x ~ N(x_mean, 1), prediction = x > 0, target = prediction
/// flipped with probability `error_rate` (omitted unless `with_target`).
fn model_rows(
    rng: &mut Rng,
    n: usize,
    x_mean: f64,
    error_rate: f64,
    first_id: usize,
    with_target: bool,
) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let x = rng.normal(x_mean, 1.0);
            let prediction = i64::from(x > 0.0);
            let flipped = rng.uniform() < error_rate;
            let mut row = json!({
                "id": first_id + i,
                "x": x,
                "c": if rng.uniform() < 0.5 { "a" } else { "b" },
                "prediction": prediction,
                "probability": 1.0 / (1.0 + (-2.0 * x).exp()),
            });
            if with_target {
                row["target"] = json!(if flipped { 1 - prediction } else { prediction });
            }
            row
        })
        .collect()
}

fn concept_test<'a>(labelled: &'a Value, name: &str) -> &'a Value {
    labelled["concept"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["test"] == name)
        .unwrap()
}

fn quality<'a>(labelled: &'a Value, name: &str) -> &'a Value {
    labelled["quality"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["metric"] == name)
        .unwrap()
}

#[tokio::test]
async fn concept_drift_without_data_drift_is_detected_and_changes_the_error_stream() {
    // A faster (noisier) detector than the default, so the change shows within 500 rows.
    let detector = "    concept: {page_hinkley: {lambda: 50}}\n";
    let server = TestServer::start(&config("{rows: 500}", detector)).await;
    let mut rng = Rng::new(21);
    // Same inputs, same labelling rule: nothing drifts.
    let (_, body) = server
        .post_rows(&json!(model_rows(&mut rng, 500, 0.0, 0.1, 0, true)))
        .await;
    assert_eq!(
        (
            body["windows_evaluated"].clone(),
            body["labelled_windows_evaluated"].clone()
        ),
        (json!(1), json!(1))
    );
    let results = server.get_json("/v1/monitors/m").await;
    let labelled = &results["labelled"]["latest"];
    assert_eq!(labelled["concept"]["drifted"], false, "{labelled}");
    assert!((quality(labelled, "accuracy")["current"].as_f64().unwrap() - 0.9).abs() < 0.04);

    // Same inputs, but the label now disagrees with the prediction 40 % of the time.
    let (_, body) = server
        .post_rows(&json!(model_rows(&mut rng, 500, 0.0, 0.4, 500, true)))
        .await;
    assert_eq!(body["labelled_windows_evaluated"], 1);
    let results = server.get_json("/v1/monitors/m").await;
    assert_eq!(
        results["latest"]["dataset"]["drifted"], false,
        "{}",
        results["latest"]
    );
    assert_eq!(results["latest"]["predictions"][0]["drifted"], false);
    let labelled = &results["labelled"]["latest"];
    assert_eq!(labelled["scored_rows"], 500);
    assert_eq!(labelled["concept"]["drifted"], true, "{labelled}");
    let error_rate = concept_test(labelled, "error_rate");
    assert!(
        (error_rate["score"].as_f64().unwrap() - 0.3).abs() < 0.06,
        "{error_rate}"
    );
    assert!(error_rate["p_value"].as_f64().unwrap() < 1e-6);
    assert!(
        concept_test(labelled, "label_given_prediction")["p_value"]
            .as_f64()
            .unwrap()
            < 1e-6
    );
    // The label balance barely moves (P(y=1) stays near 0.5): no target drift.
    assert_eq!(
        labelled["target"]["drifted"], false,
        "{}",
        labelled["target"]
    );
    let accuracy = quality(labelled, "accuracy");
    assert!(
        accuracy["current"].as_f64().unwrap() < 0.7
            && accuracy["reference"].as_f64().unwrap() > 0.85
    );
    assert_eq!(accuracy["degraded"], true);
    assert!(quality(labelled, "roc_auc")["current"].as_f64().is_some());

    let text = server.metrics().await;
    let m = "monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_concept_drift_detected", m),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "driftscope_concept_drift_streak_windows", m),
        Some(1.0)
    );
    assert!(
        metric(
            &text,
            "driftscope_concept_drift_p_value",
            "monitor=\"m\",test=\"error_rate\""
        )
        .unwrap()
            < 1e-6
    );
    assert_eq!(
        metric(&text, "driftscope_dataset_drift_detected", m),
        Some(0.0)
    );
    // The error rate jumped from 0.1 to 0.4 mid-stream: Page-Hinkley found the change point.
    let detector = "detector=\"page_hinkley\",monitor=\"m\"";
    assert!(metric(&text, "driftscope_concept_change_points_total", detector).unwrap() >= 1.0);
    assert_eq!(
        metric(&text, "driftscope_concept_change_detected", detector),
        Some(1.0)
    );
    let accuracy = |dataset: &str| {
        metric(
            &text,
            "driftscope_model_quality",
            &format!("dataset=\"{dataset}\",metric=\"accuracy\",monitor=\"m\""),
        )
    };
    assert!(accuracy("reference").unwrap() > 0.85 && accuracy("current").unwrap() < 0.7);
    assert_eq!(
        metric(
            &text,
            "driftscope_model_quality_degraded",
            "metric=\"accuracy\",monitor=\"m\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "driftscope_labelled_windows_evaluated_total", m),
        Some(2.0)
    );
}

#[tokio::test]
async fn covariate_shift_with_an_unchanged_labelling_rule_is_data_drift_only() {
    let server = TestServer::start(&config("{rows: 500}", "")).await;
    let mut rng = Rng::new(22);
    let (_, body) = server
        .post_rows(&json!(model_rows(&mut rng, 500, 1.5, 0.1, 0, true)))
        .await;
    assert_eq!(body["labelled_windows_evaluated"], 1);
    let results = server.get_json("/v1/monitors/m").await;
    let latest = &results["latest"];
    assert_eq!(latest["dataset"]["drifted"], true, "{latest}");
    assert_eq!(latest["features"][0]["drifted"], true);
    // More positive inputs: the model predicts 1 more often.
    assert_eq!(latest["predictions"][0]["drifted"], true);
    let labelled = &results["labelled"]["latest"];
    assert_eq!(labelled["concept"]["drifted"], false, "{labelled}");
    assert!(
        concept_test(labelled, "error_rate")["score"]
            .as_f64()
            .unwrap()
            .abs()
            < 0.05
    );
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_concept_drift_detected", "monitor=\"m\""),
        Some(0.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_prediction_drift_detected",
            "column=\"prediction\",monitor=\"m\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_prediction_drift_detected",
            "column=\"probability\",monitor=\"m\""
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn delayed_labels_join_across_window_boundaries_and_expire() {
    let server = TestServer::start(&config(
        "{rows: 100}",
        "    label_join: {max_pending: 120, max_age: 1s}\n",
    ))
    .await;
    let mut rng = Rng::new(23);
    // 150 predictions without labels: one feature window closes; the 30 oldest are pushed
    // out of the 120-prediction join buffer.
    let (_, body) = server
        .post_rows(&json!(model_rows(&mut rng, 150, 0.0, 0.1, 0, false)))
        .await;
    assert_eq!(
        (
            body["windows_evaluated"].clone(),
            body["labelled_windows_evaluated"].clone()
        ),
        (json!(1), json!(0))
    );
    let text = server.metrics().await;
    assert_eq!(
        metric(
            &text,
            "driftscope_predictions_expired_unlabelled_total",
            "monitor=\"m\""
        ),
        Some(30.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_labels_pending_predictions",
            "monitor=\"m\""
        ),
        Some(120.0)
    );

    // Labels for ids 20..130 (x > 0 ⇔ label 1, i.e. always right): 10 pushed-out ids are
    // unknown and 100 join, exactly filling one labelled window; ids 130..150 keep waiting.
    let mut labels: Vec<Value> = (20..130).map(|id| json!({"id": id, "target": 1})).collect();
    labels.extend([
        json!({"id": 40, "target": 1}),   // duplicate of an id labelled above
        json!({"id": 9999, "target": 0}), // never predicted
        json!({"id": 131, "target": {"x": 1}}), // wrong type
        json!({"target": 1}),             // no id
        json!(7),                         // not an object
    ]);
    let (status, body) = server
        .post_raw(
            "/v1/monitors/m/labels",
            "application/json",
            json!({"labels": labels}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["received"].clone(), body["matched"].clone()),
        (json!(115), json!(100))
    );
    assert_eq!(body["labelled_windows_evaluated"], 1);
    let outcomes = body["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[0], "unknown_id");
    assert_eq!(outcomes[10], "matched");
    assert_eq!(
        outcomes[110..],
        [
            json!("duplicate"),
            json!("unknown_id"),
            json!("invalid_target"),
            json!("invalid_id"),
            json!("invalid_id")
        ]
    );
    let results = server.get_json("/v1/monitors/m").await;
    let labelled = &results["labelled"];
    assert_eq!(labelled["latest"]["rows"], 100);
    assert_eq!(
        labelled["buffered_rows"], 0,
        "the 100 joined rows exactly filled one window"
    );
    assert_eq!(labelled["pending_predictions"], 20);

    // The remaining 20 predictions are older than max_age after ~1 s: the ticker expires them.
    let mut expired = 0.0;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        expired = metric(
            &server.metrics().await,
            "driftscope_predictions_expired_unlabelled_total",
            "monitor=\"m\"",
        )
        .unwrap();
        if expired >= 50.0 {
            break;
        }
    }
    assert_eq!(expired, 50.0);
    let (_, body) = server
        .post_raw(
            "/v1/monitors/m/labels",
            "application/json",
            json!([{"id": 140, "target": 1}]).to_string(),
        )
        .await;
    assert_eq!(body["outcomes"], json!(["unknown_id"]));
    let text = server.metrics().await;
    let m = "monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_labels_received_total", m),
        Some(116.0)
    );
    assert_eq!(
        metric(&text, "driftscope_labels_matched_total", m),
        Some(100.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_labels_unmatched_total",
            "monitor=\"m\",reason=\"unknown_id\""
        ),
        Some(12.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_labels_unmatched_total",
            "monitor=\"m\",reason=\"duplicate\""
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn label_requests_are_validated_like_rows() {
    let server = TestServer::start(&config("{rows: 100}", "")).await;
    let cases = [
        (
            "/v1/monitors/nope/labels",
            "application/json",
            "[]",
            404,
            "unknown_monitor",
        ),
        (
            "/v1/monitors/m/labels",
            "text/plain",
            "[]",
            415,
            "unsupported_media_type",
        ),
        (
            "/v1/monitors/m/labels",
            "application/json",
            "{\"labels\": [",
            400,
            "malformed_json",
        ),
        (
            "/v1/monitors/m/labels",
            "application/json",
            "{\"labels\": []}",
            422,
            "empty_batch",
        ),
        (
            "/v1/monitors/m/labels",
            "application/json",
            "{\"rows\": []}",
            422,
            "invalid_body",
        ),
    ];
    for (path, content_type, body, status, code) in cases {
        let (got, reply) = server.post_raw(path, content_type, body.into()).await;
        assert_eq!(
            (got, reply["error"]["code"].clone()),
            (status, json!(code)),
            "{body}: {reply}"
        );
    }
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_labels_received_total", "monitor=\"m\""),
        Some(0.0)
    );

    let no_target = common::config_text("    window: {rows: 10}\n", "")
        .replace("    target: {column: target, type: categorical}\n", "");
    let server = TestServer::start(&no_target).await;
    let (status, reply) = server
        .post_raw(
            "/v1/monitors/m/labels",
            "application/json",
            "[{\"id\": 1, \"target\": 1}]".into(),
        )
        .await;
    assert_eq!(
        (status, reply["error"]["code"].clone()),
        (422, json!("no_target"))
    );
}

#[tokio::test]
async fn alerting_metadata_and_drift_streaks_are_exported() {
    let alerting = "    alerting:\n      severity: critical\n      team: growth\n      labels: {service: checkout}\n      \
                    for_windows: 2\n      no_data_after: 15m\n      max_missing_ratio: 0.2\n";
    let server = TestServer::start(&config("{rows: 200}", alerting)).await;
    let text = server.metrics().await;
    assert!(text.contains("driftscope_monitor_info{monitor=\"m\",service=\"checkout\",severity=\"critical\",team=\"growth\"} 1"), "{text}");
    assert_eq!(
        metric(
            &text,
            "driftscope_monitor_alert_for_windows",
            "monitor=\"m\""
        ),
        Some(2.0)
    );
    assert_eq!(
        metric(&text, "driftscope_monitor_no_data_seconds", "monitor=\"m\""),
        Some(900.0)
    );
    assert_eq!(
        metric(
            &text,
            "driftscope_monitor_data_quality_threshold",
            "check=\"missing\",monitor=\"m\""
        ),
        Some(0.2)
    );
    // Before any traffic the "last seen" clocks start at the service start, so no-data alerts
    // can fire for a monitor that never receives anything.
    let started = metric(
        &text,
        "driftscope_last_ingest_timestamp_seconds",
        "monitor=\"m\"",
    )
    .unwrap();
    assert!(started > 1.7e9);
    assert_eq!(
        metric(
            &text,
            "driftscope_last_evaluation_timestamp_seconds",
            "monitor=\"m\""
        ),
        Some(started)
    );
    // Reference quality is there before any label.
    assert!(
        metric(
            &text,
            "driftscope_model_quality",
            "dataset=\"reference\",metric=\"accuracy\",monitor=\"m\""
        )
        .unwrap()
            > 0.85
    );

    let mut rng = Rng::new(24);
    for expected in [1.0, 2.0] {
        server
            .post_rows(&json!(model_rows(&mut rng, 200, 1.5, 0.1, 0, false)))
            .await;
        let text = server.metrics().await;
        assert_eq!(
            metric(
                &text,
                "driftscope_dataset_drift_streak_windows",
                "monitor=\"m\""
            ),
            Some(expected)
        );
        assert_eq!(
            metric(
                &text,
                "driftscope_feature_drift_streak_windows",
                "feature=\"x\",monitor=\"m\""
            ),
            Some(expected)
        );
    }
    server
        .post_rows(&json!(model_rows(&mut rng, 200, 0.0, 0.1, 0, false)))
        .await;
    let text = server.metrics().await;
    assert_eq!(
        metric(
            &text,
            "driftscope_dataset_drift_streak_windows",
            "monitor=\"m\""
        ),
        Some(0.0)
    );
    assert!(
        metric(
            &text,
            "driftscope_last_ingest_timestamp_seconds",
            "monitor=\"m\""
        )
        .unwrap()
            >= started
    );
}

#[tokio::test]
async fn regression_monitors_test_residuals_and_report_regression_quality() {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/regression_reference.csv");
    let config = format!(
        "monitors:\n  - name: m\n    reference: {}\n    features: {{numerical: [x]}}\n    \
         prediction: {{column: prediction, type: numerical}}\n    \
         target: {{column: target, type: numerical}}\n    window: {{rows: 400}}\n",
        reference.display()
    );
    let server = TestServer::start(&config).await;
    let mut rng = Rng::new(25);
    // Same inputs and model; the truth moves from 2x + noise to 2.3x + noise.
    let rows: Vec<Value> = (0..400)
        .map(|_| {
            let x = rng.uniform() * 10.0;
            json!({"x": x, "prediction": 2.0 * x, "target": 2.3 * x + rng.normal(0.0, 1.0)})
        })
        .collect();
    let (_, body) = server.post_rows(&json!(rows)).await;
    assert_eq!(
        (
            body["windows_evaluated"].clone(),
            body["labelled_windows_evaluated"].clone()
        ),
        (json!(1), json!(1))
    );
    let results = server.get_json("/v1/monitors/m").await;
    assert_eq!(
        results["latest"]["dataset"]["drifted"], false,
        "{}",
        results["latest"]
    );
    let labelled = &results["labelled"]["latest"];
    let residuals = concept_test(labelled, "residual_ks");
    assert!(residuals["p_value"].as_f64().unwrap() < 1e-6, "{residuals}");
    assert_eq!(labelled["concept"]["drifted"], true);
    // The model now under-predicts by 0.3x on average (x ~ U(0, 10): ~1.5).
    let mean_error = quality(labelled, "mean_error")["current"].as_f64().unwrap();
    assert!((mean_error - 1.5).abs() < 0.3, "{mean_error}");
    let mae = quality(labelled, "mae");
    assert!(mae["current"].as_f64().unwrap() > mae["reference"].as_f64().unwrap());
    assert_eq!(mae["degraded"], true);
    for metric in ["rmse", "mape", "r2"] {
        assert!(
            quality(labelled, metric)["current"].as_f64().is_some(),
            "{metric}"
        );
    }
    let text = server.metrics().await;
    assert!(
        metric(
            &text,
            "driftscope_concept_drift_score",
            "monitor=\"m\",test=\"residual_ks\""
        )
        .unwrap()
            > 0.2
    );
    assert!(
        metric(
            &text,
            "driftscope_model_quality",
            "dataset=\"reference\",metric=\"r2\",monitor=\"m\""
        )
        .unwrap()
            > 0.9
    );
}
