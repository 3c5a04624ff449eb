//! Estimated performance (CBPE) on the bundled demo: driftscope's estimator against NannyML's
//! CBPE on the same chunks (`tests/golden/cbpe.json`, from `tools/golden/gen_cbpe.py`), and
//! the estimate of a window through HTTP (window JSON and `/metrics`).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{TestServer, metric};
use driftscope::config::ColumnKind;
use driftscope::labelled::estimate::Cbpe;
use driftscope::reference::table::{Cells, ReferenceTable};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Chunk {
    chunking: String,
    key: String,
    start: usize,
    end: usize,
    estimated: HashMap<String, f64>,
    realised: HashMap<String, f64>,
}

#[derive(Deserialize)]
struct Demo {
    reference: String,
    analysis: String,
    nannyml_calibrates: bool,
    chunks: Vec<Chunk>,
}

#[derive(Deserialize)]
struct Golden {
    tolerance: f64,
    roc_auc_tolerance: f64,
    demo: Demo,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("golden/cbpe.json")).unwrap()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A file's columns as the demo monitor reads them.
struct Columns {
    age: Vec<Option<f64>>,
    prediction: Vec<Option<String>>,
    probability: Vec<Option<f64>>,
}

fn read(path: &str) -> (ReferenceTable, Columns) {
    let table = ReferenceTable::read(&repo(path)).unwrap();
    let numeric = |name| match table.cells(name, ColumnKind::Numerical).unwrap() {
        Cells::Numeric(v) => v,
        Cells::Categorical(_) => unreachable!(),
    };
    let columns = Columns {
        age: numeric("AGEP"),
        prediction: match table.cells("prediction", ColumnKind::Categorical).unwrap() {
            Cells::Categorical(v) => v,
            Cells::Numeric(_) => unreachable!(),
        },
        probability: numeric("predicted_probability"),
    };
    (table, columns)
}

/// The estimator as the service builds it from the demo reference (positive class "1").
fn fit(demo: &Demo) -> Cbpe {
    let (table, columns) = read(&demo.reference);
    let Cells::Categorical(target) = table.cells("employed", ColumnKind::Categorical).unwrap()
    else {
        unreachable!()
    };
    let (mut scores, mut positive) = (Vec::new(), Vec::new());
    for ((p, t), score) in columns
        .prediction
        .iter()
        .zip(&target)
        .zip(&columns.probability)
    {
        if let (Some(_), Some(t)) = (p, t) {
            scores.push(score.unwrap_or(f64::NAN));
            positive.push(t == "1");
        }
    }
    Cbpe::fit(&scores, &positive)
}

fn estimate(cbpe: &Cbpe, columns: &Columns, rows: std::ops::Range<usize>) -> HashMap<String, f64> {
    let predicted: Vec<bool> = columns.prediction[rows.clone()]
        .iter()
        .map(|p| p.as_deref() == Some("1"))
        .collect();
    let scores: Vec<f64> = columns.probability[rows]
        .iter()
        .map(|p| p.unwrap_or(f64::NAN))
        .collect();
    cbpe.estimate(&predicted, &scores)
        .into_iter()
        .map(|(m, v)| (m.as_str().to_owned(), v))
        .collect()
}

fn assert_close(
    got: &HashMap<String, f64>,
    expected: &HashMap<String, f64>,
    golden: &Golden,
    what: &str,
) {
    assert_eq!(got.len(), expected.len(), "{what}: {got:?}");
    for (metric, &value) in expected {
        let tolerance = if metric == "roc_auc" {
            golden.roc_auc_tolerance
        } else {
            golden.tolerance
        };
        let diff = (got[metric] - value).abs();
        assert!(
            diff <= tolerance,
            "{what} {metric}: {} vs NannyML {value}",
            got[metric]
        );
    }
}

#[test]
fn demo_estimates_match_nannyml_per_year_and_per_2000_rows() {
    let golden = golden();
    let cbpe = fit(&golden.demo);
    assert_eq!(cbpe.calibrator.is_some(), golden.demo.nannyml_calibrates);
    let (_, columns) = read(&golden.demo.analysis);
    let mut worst_auc = 0.0_f64;
    println!(
        "| chunk | estimated accuracy | realised accuracy | estimated ROC AUC | realised ROC AUC |"
    );
    for chunk in &golden.demo.chunks {
        let got = estimate(&cbpe, &columns, chunk.start..chunk.end);
        let what = format!("{} {}", chunk.chunking, chunk.key);
        assert_close(&got, &chunk.estimated, &golden, &what);
        worst_auc = worst_auc.max((got["roc_auc"] - chunk.estimated["roc_auc"]).abs());
        println!(
            "| {what} | {:.4} | {:.4} | {:.4} | {:.4} |",
            got["accuracy"], chunk.realised["accuracy"], got["roc_auc"], chunk.realised["roc_auc"]
        );
    }
    println!("largest ROC AUC difference from NannyML: {worst_auc:.2e}");
    assert_eq!(
        golden
            .demo
            .chunks
            .iter()
            .filter(|c| c.chunking == "year")
            .count(),
        3
    );
}

#[tokio::test]
async fn a_window_gets_estimated_quality_in_json_and_metrics() {
    let golden = golden();
    let config = format!(
        "monitors:\n  - name: m\n    reference: {}\n    features: {{numerical: [AGEP]}}\n    \
         prediction: {{column: prediction, type: categorical, probability: predicted_probability}}\n    \
         target: {{column: employed, type: categorical}}\n    window: {{rows: 2000}}\n",
        repo(&golden.demo.reference).display()
    );
    let server = TestServer::start(&config).await;
    let (_, columns) = read(&golden.demo.analysis);
    let rows: Vec<Value> = (0..2000)
        .map(|i| {
            json!({
                "AGEP": columns.age[i],
                "prediction": columns.prediction[i].as_deref().map(|p| p.parse::<i64>().unwrap()),
                "predicted_probability": columns.probability[i],
            })
        })
        .collect();
    let (status, body) = server.post_rows(&json!({ "rows": rows })).await;
    assert_eq!(
        (status, &body["windows_evaluated"]),
        (200, &json!(1)),
        "{body}"
    );

    let results = server.get_json("/v1/monitors/m").await;
    let estimated = results["latest"]["estimated"].as_array().unwrap();
    let from_json: HashMap<String, f64> = estimated
        .iter()
        .map(|q| {
            (
                q["metric"].as_str().unwrap().to_owned(),
                q["estimated"].as_f64().unwrap(),
            )
        })
        .collect();
    // What the estimator gives for these rows, and what NannyML gave for the same chunk.
    // Within 1e-12: the probabilities and the answer pass through JSON, whose float parsing
    // (serde_json without `float_roundtrip`) may be an ulp off.
    let direct = estimate(&fit(&golden.demo), &columns, 0..2000);
    assert_eq!(from_json.len(), direct.len());
    for (metric, value) in &direct {
        assert!(
            (from_json[metric] - value).abs() < 1e-12,
            "{metric}: {from_json:?} vs {direct:?}"
        );
    }
    let chunk = golden
        .demo
        .chunks
        .iter()
        .find(|c| c.chunking == "rows_2000" && c.start == 0)
        .unwrap();
    assert_close(&from_json, &chunk.estimated, &golden, "window 1");

    // Same values as the JSON (to an ulp of float parsing, see above).
    let near = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-12,
        _ => false,
    };
    let text = server.metrics().await;
    for q in estimated {
        let name = q["metric"].as_str().unwrap();
        let labels = format!("dataset=\"estimated\",metric=\"{name}\",monitor=\"m\"");
        let exported = metric(&text, "driftscope_model_quality", &labels);
        assert!(
            near(exported, q["estimated"].as_f64()),
            "{name}: {exported:?} vs {q}"
        );
        let reference = format!("dataset=\"reference\",metric=\"{name}\",monitor=\"m\"");
        let exported = metric(&text, "driftscope_model_quality", &reference);
        assert!(
            near(exported, q["reference"].as_f64()),
            "{name}: {exported:?} vs {q}"
        );
        let degraded = metric(
            &text,
            "driftscope_model_quality_estimated_degraded",
            &format!("metric=\"{name}\",monitor=\"m\""),
        );
        assert_eq!(
            degraded,
            Some(f64::from(u8::from(q["degraded"].as_bool().unwrap())))
        );
    }
    // The demo's first 2 000 rows keep the reference quality: nothing degraded.
    assert!(
        estimated.iter().all(|q| q["degraded"] == false),
        "{estimated:?}"
    );

    // A model that has lost its confidence (every score 0.5, every prediction positive) is
    // about as good as a coin: the estimate says so without a single label.
    let unsure: Vec<Value> = (0..2000)
        .map(|i| json!({"AGEP": columns.age[i], "prediction": 1, "predicted_probability": 0.5}))
        .collect();
    server.post_rows(&json!({ "rows": unsure })).await;
    let results = server.get_json("/v1/monitors/m").await;
    let accuracy = results["latest"]["estimated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["metric"] == "accuracy")
        .unwrap()
        .clone();
    let calibrated = fit(&golden.demo).probability(0.5);
    assert!(
        (accuracy["estimated"].as_f64().unwrap() - calibrated).abs() < 1e-12,
        "{accuracy}"
    );
    assert_eq!(accuracy["degraded"], true, "{accuracy}");
    let text = server.metrics().await;
    let labels = "metric=\"accuracy\",monitor=\"m\"";
    assert_eq!(
        metric(&text, "driftscope_model_quality_estimated_degraded", labels),
        Some(1.0)
    );
    // A window without a usable probability has no estimate: no JSON field, no stale series.
    let blind: Vec<Value> = (0..2000)
        .map(|i| json!({"AGEP": columns.age[i], "prediction": 1, "predicted_probability": null}))
        .collect();
    server.post_rows(&json!({ "rows": blind })).await;
    let results = server.get_json("/v1/monitors/m").await;
    assert_eq!(results["latest"]["seq"], 3, "{results}");
    assert!(results["latest"].get("estimated").is_none(), "{results}");
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "driftscope_model_quality_estimated_degraded", labels),
        None
    );
    let estimated = "dataset=\"estimated\",metric=\"accuracy\",monitor=\"m\"";
    assert_eq!(metric(&text, "driftscope_model_quality", estimated), None);
}

#[test]
fn check_refuses_a_probability_column_for_a_multiclass_target() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "monitors:\n  - name: m\n    reference: {}\n    features: {{numerical: [x]}}\n    \
         prediction: {{column: c, type: categorical, probability: y}}\n    \
         target: {{column: c, type: categorical}}\n    window: {{rows: 100}}\n",
        repo("tests/fixtures/reference.csv").display()
    );
    let output = common::driftscope_check(dir.path(), &text);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("monitors[0].prediction.probability: a probability column is the positive class's probability, so it needs a binary target")
            && stderr.contains("the reference target has 4 classes"),
        "{stderr}"
    );
}
