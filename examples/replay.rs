//! Replays a Parquet or CSV file of production rows into a running driftscope, in batches, the
//! way a model service would.
//!
//! ```sh
//! cargo run --release &                       # the service, bundled defaults
//! cargo run --release --example replay        # demo/production_2016_2018.parquet → monitor "employment"
//! cargo run --release --example replay -- --file rows.csv --monitor m --batch 1000
//! ```

use clap::Parser;
use driftscope::config::ColumnKind;
use driftscope::reference::{RawColumn, ReferenceTable};
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
    let table = ReferenceTable::read(&args.file)?;
    let mut rows: Vec<Map<String, Value>> = vec![Map::new(); table.rows()];
    for name in &args.columns {
        let kind = if args.numeric.contains(name) {
            ColumnKind::Numerical
        } else {
            ColumnKind::Categorical
        };
        // The demo files have no missing values, so values line up with rows.
        match table.column(name, kind)? {
            RawColumn::Numeric { values, missing: 0 } => {
                for (row, v) in rows.iter_mut().zip(values) {
                    row.insert(name.clone(), v.into());
                }
            }
            RawColumn::Categorical { values, missing: 0 } => {
                for (row, v) in rows.iter_mut().zip(values) {
                    row.insert(name.clone(), v.into());
                }
            }
            _ => {
                return Err(format!(
                    "column {name:?} has missing values; replay needs complete rows"
                )
                .into());
            }
        }
    }
    let client = reqwest::Client::new();
    let endpoint = format!("{}/v1/monitors/{}/rows", args.url, args.monitor);
    let (mut sent, mut windows) = (0, 0);
    for chunk in rows.chunks(args.batch.max(1)) {
        let response = client
            .post(&endpoint)
            .json(&serde_json::json!({"rows": chunk}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            return Err(format!("{status}: {body}").into());
        }
        sent += chunk.len();
        windows += body["windows_evaluated"].as_u64().unwrap_or(0);
    }
    println!("sent {sent} rows to {endpoint}; {windows} windows evaluated");
    Ok(())
}
