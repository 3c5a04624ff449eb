//! Parsing an ingest body: driftscope's column-direct parser against the obvious baseline,
//! `serde_json::Value` per body (one allocated map per row), measured in the same run.
//!
//! Body: 10 000 rows of the demo's shape (1 numeric feature, 15 categorical codes, a
//! prediction, a probability and an id), about 2.3 MB of JSON.
//!
//! The same rows as NDJSON, as columnar JSON and as an Arrow IPC stream, and the cost of inflating a gzip or zstd
//! body first, are measured in a second group, per row, in the same run.
//!
//! Run: `cargo bench --bench ingest`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftscope::check::{ColumnCheck, Role};
use driftscope::config::TestKind;
use driftscope::ingest::encoding::Encoding;
use driftscope::ingest::rows::Schema;
use driftscope::reference::table::Cells;
use serde_json::json;

const ROWS: usize = 10_000;
const CODES: &[&str] = &[
    "SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE",
    "DREM", "SEX", "RAC1P",
];

fn schema() -> Schema {
    let mut checks = vec![
        ColumnCheck::new(
            "AGEP",
            Role::Feature,
            Cells::numbers((0..100).map(f64::from).collect()),
            Some(TestKind::Ks),
            None,
            10,
        )
        .expect("valid check"),
    ];
    for name in CODES {
        let values = (0..100).map(|i| (i % 20).to_string()).collect();
        checks.push(
            ColumnCheck::new(name, Role::Feature, Cells::texts(values), None, None, 10)
                .expect("valid check"),
        );
    }
    let values = (0..100).map(|i| (i % 2).to_string()).collect();
    checks.push(
        ColumnCheck::new(
            "prediction",
            Role::Prediction,
            Cells::texts(values),
            None,
            None,
            10,
        )
        .expect("valid check"),
    );
    let values = (0..100).map(|i| f64::from(i) / 100.0).collect();
    checks.push(
        ColumnCheck::new(
            "predicted_probability",
            Role::Prediction,
            Cells::numbers(values),
            None,
            None,
            10,
        )
        .expect("valid check"),
    );
    Schema::new(
        checks.iter().map(|c| (c.name.as_str(), &*c.reference)),
        None,
        Some("id"),
    )
}

fn rows() -> Vec<serde_json::Value> {
    (0..ROWS)
        .map(|i| {
            let mut row = json!({"id": i, "AGEP": (i % 90) as f64, "prediction": i % 2, "predicted_probability": (i % 100) as f64 / 100.0});
            for (j, name) in CODES.iter().enumerate() {
                row[*name] = json!(((i + j) % 20).to_string());
            }
            row
        })
        .collect()
}

fn body() -> Vec<u8> {
    serde_json::to_vec(&json!({ "rows": rows() })).expect("serializable")
}

fn ndjson_body() -> Vec<u8> {
    let mut text = Vec::new();
    for row in rows() {
        serde_json::to_writer(&mut text, &row).expect("serializable");
        text.push(b'\n');
    }
    text
}

fn columnar_body() -> Vec<u8> {
    let rows = rows();
    let mut columns = serde_json::Map::new();
    for name in rows[0].as_object().expect("object").keys() {
        let values = rows.iter().map(|r| r[name].clone()).collect();
        columns.insert(name.clone(), serde_json::Value::Array(values));
    }
    serde_json::to_vec(&json!({ "columns": columns })).expect("serializable")
}

/// The same rows as an Arrow IPC stream of one record batch: numbers as Int64 / Float64, the
/// codes as Utf8View text (what pyarrow writes for Python strings is Utf8; both are read alike).
fn arrow_body() -> Vec<u8> {
    use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray};

    let rows = rows();
    let names: Vec<String> = rows[0]
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    let arrays: Vec<Box<dyn Array>> = names
        .iter()
        .map(|name| -> Box<dyn Array> {
            let values = rows.iter().map(|r| &r[name]);
            if let Some(texts) = values
                .clone()
                .map(|v| v.as_str())
                .collect::<Option<Vec<_>>>()
            {
                Box::new(Utf8ViewArray::from_slice_values(texts))
            } else if name == "AGEP" || name == "predicted_probability" {
                Box::new(PrimitiveArray::<f64>::from_vec(
                    values.map(|v| v.as_f64().expect("number")).collect(),
                ))
            } else {
                Box::new(PrimitiveArray::<i64>::from_vec(
                    values.map(|v| v.as_i64().expect("integer")).collect(),
                ))
            }
        })
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    driftscope::ingest::rows::write_stream(&names, vec![arrays]).expect("in memory")
}

fn bench_ingest(c: &mut Criterion) {
    let schema = schema();
    let body = body();
    let mut group = c.benchmark_group("parse_10k_row_body");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(30);
    group.bench_function("columns_direct", |b| {
        b.iter(|| schema.parse(&body).expect("valid body"))
    });
    group.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&body).expect("valid body"));
    });
    group.finish();
}

/// The same 10 000 rows in each format, per row; and gzip/zstd inflation of the row body.
fn bench_formats(c: &mut Criterion) {
    let schema = schema();
    let (rows, ndjson, columnar, arrow) = (body(), ndjson_body(), columnar_body(), arrow_body());
    let limit = 64 << 20;
    let gzip = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&rows).expect("in memory");
        e.finish().expect("in memory")
    };
    let zstd = zstd::encode_all(&rows[..], 3).expect("in memory");
    println!(
        "body bytes: rows {}, ndjson {}, columnar {}, arrow {}, rows gzip {}, rows zstd {}",
        rows.len(),
        ndjson.len(),
        columnar.len(),
        arrow.len(),
        gzip.len(),
        zstd.len()
    );
    let mut group = c.benchmark_group("formats_10k_rows");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(30);
    group.bench_function("rows_json", |b| {
        b.iter(|| schema.parse(&rows).expect("valid body"))
    });
    group.bench_function("ndjson", |b| {
        b.iter(|| schema.parse_ndjson(&ndjson).expect("valid body"))
    });
    group.bench_function("columnar_json", |b| {
        b.iter(|| schema.parse(&columnar).expect("valid body"))
    });
    group.bench_function("arrow_ipc", |b| {
        b.iter(|| schema.parse_arrow(&arrow).expect("valid body"))
    });
    group.bench_function("gzip_inflate_rows_json", |b| {
        b.iter(|| Encoding::Gzip.decode(&gzip, limit).expect("valid gzip"))
    });
    group.bench_function("zstd_inflate_rows_json", |b| {
        b.iter(|| Encoding::Zstd.decode(&zstd, limit).expect("valid zstd"))
    });
    group.finish();
}

criterion_group!(benches, bench_ingest, bench_formats);
criterion_main!(benches);
