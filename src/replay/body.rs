//! Request bodies as `replay` sends them: every body format and content encoding the service
//! accepts (`--format`, `--compress`), so a replay can measure or exercise each.

use std::io::Write;

use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray};
use serde_json::{Map, Value, json};

use super::rows::{Rows, Values};
use crate::ingest::rows::write_stream;

/// How rows are laid out in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `{"rows": [{...}, ...]}`.
    Rows,
    /// One JSON object per line (`application/x-ndjson`).
    Ndjson,
    /// `{"columns": {"name": [...], ...}}`: field names once per body, not per row.
    Columns,
    /// An Arrow IPC stream (`application/vnd.apache.arrow.stream`): numbers as Float64, text as
    /// Utf8View, no text parsing on the service.
    Arrow,
}

/// Content encoding of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compress {
    /// As is.
    None,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: zstd`.
    Zstd,
}

/// A request body with its headers.
#[derive(Debug, Clone)]
pub struct Body {
    /// The bytes sent.
    pub bytes: Vec<u8>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Content-Encoding`, when compressed.
    pub encoding: Option<&'static str>,
}

impl Body {
    /// A JSON body (labels), compressed as asked.
    pub fn json(value: &Value, compress: Compress) -> Result<Self, String> {
        Self::encoded(value.to_string().into_bytes(), "application/json", compress)
    }

    /// Rows `indices` of `rows` in `format`, compressed as asked.
    pub fn rows(
        rows: &Rows,
        indices: &[usize],
        format: Format,
        compress: Compress,
    ) -> Result<Self, String> {
        let (text, content_type) = match format {
            Format::Rows => {
                let batch: Vec<Value> = indices
                    .iter()
                    .map(|&i| Value::Object(rows.json_row(i)))
                    .collect();
                (json!({ "rows": batch }).to_string(), "application/json")
            }
            Format::Ndjson => {
                let mut text = String::new();
                for &i in indices {
                    text.push_str(&Value::Object(rows.json_row(i)).to_string());
                    text.push('\n');
                }
                (text, "application/x-ndjson")
            }
            Format::Columns => {
                let columns: Map<String, Value> = rows
                    .columns
                    .iter()
                    .map(|c| {
                        let values = indices.iter().map(|&i| c.values.json(i)).collect();
                        (c.name.clone(), Value::Array(values))
                    })
                    .collect();
                (
                    json!({ "columns": columns }).to_string(),
                    "application/json",
                )
            }
            Format::Arrow => {
                let stream = arrow_stream(rows, indices)?;
                return Self::encoded(stream, "application/vnd.apache.arrow.stream", compress);
            }
        };
        Self::encoded(text.into_bytes(), content_type, compress)
    }

    fn encoded(
        bytes: Vec<u8>,
        content_type: &'static str,
        compress: Compress,
    ) -> Result<Self, String> {
        let (bytes, encoding) = match compress {
            Compress::None => (bytes, None),
            Compress::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder
                    .write_all(&bytes)
                    .and_then(|()| encoder.finish())
                    .map(|b| (b, Some("gzip")))
                    .map_err(|e| format!("gzip: {e}"))?
            }
            Compress::Zstd => zstd::encode_all(bytes.as_slice(), 3)
                .map(|b| (b, Some("zstd")))
                .map_err(|e| format!("zstd: {e}"))?,
        };
        Ok(Self {
            bytes,
            content_type,
            encoding,
        })
    }
}

/// Rows `indices` of `rows` as an Arrow IPC stream of one record batch.
fn arrow_stream(rows: &Rows, indices: &[usize]) -> Result<Vec<u8>, String> {
    let arrays: Vec<Box<dyn Array>> = rows
        .columns
        .iter()
        .map(|c| -> Box<dyn Array> {
            match &c.values {
                Values::Numbers(v) => Box::new(PrimitiveArray::<f64>::from(
                    indices.iter().map(|&i| v[i]).collect::<Vec<_>>(),
                )),
                Values::Texts(v) => Box::new(Utf8ViewArray::from_slice(
                    indices.iter().map(|&i| v[i].as_deref()).collect::<Vec<_>>(),
                )),
            }
        })
        .collect();
    let names: Vec<&str> = rows.columns.iter().map(|c| c.name.as_str()).collect();
    write_stream(&names, vec![arrays])
}
