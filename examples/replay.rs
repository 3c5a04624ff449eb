//! Replays a Parquet or CSV file of production rows into a running driftscope, in batches, the
//! way a model service would.
//!
//! ```sh
//! cargo run --release &                       # the service, bundled defaults
//! cargo run --release --example replay        # demo/production_2016_2018.parquet → monitor "employment"
//! cargo run --release --example replay -- --labels   # then the delayed labels, by id
//! cargo run --release --example replay -- --file rows.csv --monitor m --batch 1000
//! DRIFTSCOPE_TOKEN=$(cat secrets/ingest_token) cargo run --release --example replay  # auth on
//! ```

use clap::Parser;
use driftscope::config::ColumnKind;
use driftscope::reference::table::{Cells, ReferenceTable};
use serde_json::{Map, Value};

/// Posts the rows of a file to `POST /v1/monitors/{monitor}/rows`.
#[derive(Debug, Parser)]
struct Args {
    /// Rows to send (.parquet or .csv); every column is sent.
    #[arg(long, default_value = "demo/production_2016_2018.parquet")]
    file: std::path::PathBuf,
    /// Monitor to send them to.
    #[arg(long, default_value = "employment")]
    monitor: String,
    /// Base URL of the service.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Rows per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Post ground truth instead of rows: `{"labels": [{"id", "target"}]}` from
    /// `--labels-file` (columns `--id-column` and `--target-column`).
    #[arg(long)]
    labels: bool,
    /// Label file for `--labels`.
    #[arg(long, default_value = "demo/labels_2016_2018.parquet")]
    labels_file: std::path::PathBuf,
    /// Id column of the label file.
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Target column of the label file.
    #[arg(long, default_value = "employed")]
    target_column: String,
    /// Numeric columns (sent as numbers); all others are sent as text.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "id,AGEP,year,prediction,predicted_probability"
    )]
    numeric: Vec<String>,
    /// Columns to send.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "id,AGEP,SCHL,MAR,RELP,DIS,ESP,CIT,MIG,MIL,ANC,NATIVITY,DEAR,DEYE,DREM,SEX,RAC1P,year,prediction,predicted_probability"
    )]
    columns: Vec<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let client = client()?;
    if args.labels {
        return post_labels(&client, &args).await;
    }
    let table = ReferenceTable::read(&args.file)?;
    let mut rows: Vec<Map<String, Value>> = vec![Map::new(); table.rows()];
    for name in &args.columns {
        let kind = if args.numeric.contains(name) {
            ColumnKind::Numerical
        } else {
            ColumnKind::Categorical
        };
        // The demo files have no missing values; replay needs complete rows.
        let values: Option<Vec<Value>> = match table.cells(name, kind)? {
            Cells::Numeric(cells) => cells.into_iter().map(|v| v.map(Value::from)).collect(),
            Cells::Categorical(cells) => cells.into_iter().map(|v| v.map(Value::from)).collect(),
        };
        let Some(values) = values else {
            return Err(
                format!("column {name:?} has missing values; replay needs complete rows").into(),
            );
        };
        for (row, v) in rows.iter_mut().zip(values) {
            row.insert(name.clone(), v);
        }
    }
    let endpoint = format!("{}/v1/monitors/{}/rows", args.url, args.monitor);
    let replies = post_in_batches(&client, &endpoint, "rows", &rows, args.batch).await?;
    let windows = total(&replies, "windows_evaluated");
    println!(
        "sent {} rows to {endpoint}; {windows} windows evaluated",
        rows.len()
    );
    Ok(())
}

/// An HTTP client that sends `Authorization: Bearer $DRIFTSCOPE_TOKEN` when that variable is
/// set (a service with `server.auth` on, e.g. the compose stack).
fn client() -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(token) = std::env::var("DRIFTSCOPE_TOKEN") {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.trim()))?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

/// POSTs `items` as `{key: [...]}` in batches of `batch`; returns every reply body, or the
/// first error reply.
async fn post_in_batches<T: serde::Serialize>(
    client: &reqwest::Client,
    endpoint: &str,
    key: &str,
    items: &[T],
    batch: usize,
) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let mut replies = Vec::new();
    for chunk in items.chunks(batch.max(1)) {
        let response = client
            .post(endpoint)
            .json(&serde_json::json!({ key: chunk }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            return Err(format!("{status}: {body}").into());
        }
        replies.push(body);
    }
    Ok(replies)
}

/// Sum of a numeric field over reply bodies.
fn total(replies: &[Value], field: &str) -> u64 {
    replies.iter().map(|r| r[field].as_u64().unwrap_or(0)).sum()
}

/// Posts the label file in batches and reports how many labels joined a prediction.
async fn post_labels(
    client: &reqwest::Client,
    args: &Args,
) -> Result<(), Box<dyn std::error::Error>> {
    let table = ReferenceTable::read(&args.labels_file)?;
    let (Cells::Numeric(ids), Cells::Categorical(targets)) = (
        table.cells(&args.id_column, ColumnKind::Numerical)?,
        table.cells(&args.target_column, ColumnKind::Categorical)?,
    ) else {
        return Err("the label file has missing ids or targets".into());
    };
    let (Some(ids), Some(targets)) = (
        ids.into_iter().collect::<Option<Vec<f64>>>(),
        targets.into_iter().collect::<Option<Vec<String>>>(),
    ) else {
        return Err("the label file has missing ids or targets".into());
    };
    let labels: Vec<Value> = ids
        .iter()
        .zip(&targets)
        .map(|(id, target)| serde_json::json!({"id": id, "target": target}))
        .collect();
    let endpoint = format!("{}/v1/monitors/{}/labels", args.url, args.monitor);
    let replies = post_in_batches(client, &endpoint, "labels", &labels, args.batch).await?;
    let (matched, windows) = (
        total(&replies, "matched"),
        total(&replies, "labelled_windows_evaluated"),
    );
    println!(
        "sent {} labels to {endpoint}; {matched} matched, {windows} labelled windows evaluated",
        labels.len()
    );
    Ok(())
}
