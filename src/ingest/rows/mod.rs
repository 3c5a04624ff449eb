//! Parses an ingest request body straight into columns.
//!
//! The body is `{"rows": [{...}, ...]}`, a bare array of row objects, columnar
//! `{"columns": {"name": [...], ...}}` ([`Schema::parse`]) or NDJSON, one row object per line
//! ([`Schema::parse_ndjson`]). Instead of building a
//! `serde_json::Value` per row, a [`serde::de::DeserializeSeed`] walks the JSON once and writes
//! each known field into its column: numbers into `f64` vectors, categories into reference codes
//! (a hash lookup on the borrowed text, no allocation unless the category is new). Unknown fields
//! are skipped. Per-value problems (text in a numeric column, objects as values) count as invalid
//! and are stored as the invalid sentinels of [`crate::column`]; whole-request problems return a [`BatchError`] and nothing is kept.
//!
//! The seeds that walk the JSON live in `body.rs` (the top level), `seeds.rs` (a row and its
//! values) and `columnar.rs` (columnar JSON and NDJSON); `arrow.rs` reads Arrow IPC streams
//! ([`Schema::parse_arrow`]) and hands every value to the same seeds. This file holds the schema
//! and the columns they fill.

mod arrow;
mod body;
mod columnar;
mod seeds;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::de::{self, DeserializeSeed};

use crate::column::{ColumnData, MISSING_CODE};
use crate::config::IngestLimits;
use crate::ingest::error::{BatchError, BatchErrorKind};
use crate::reference::profile::ReferenceProfile;
pub use arrow::write_stream;
use body::BatchSeed;

/// Which columns a monitor reads from a row, built once per monitor.
#[derive(Debug, Clone)]
pub struct Schema {
    columns: Vec<SchemaColumn>,
    slots: HashMap<String, Slot>,
    timestamp: Option<String>,
    has_id: bool,
    has_latency: bool,
    limits: IngestLimits,
}

#[derive(Debug, Clone)]
enum SchemaColumn {
    Numeric,
    Categorical(HashMap<String, u32>),
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Column(usize),
    Timestamp,
    Id,
    Latency,
}

/// What the parser found in one column besides its values.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParsedExtras {
    /// Categorical columns: `(row, text)` of values absent from the reference, coded later by
    /// the monitor (their code is [`MISSING_CODE`] until then).
    pub novel: Vec<(usize, String)>,
    /// Values of the wrong type.
    pub invalid: u64,
}

/// A parsed request body.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParsedBatch {
    /// Number of rows.
    pub rows: usize,
    /// One entry per schema column, in schema order: numbers (NaN = missing,
    /// [`INVALID_NUMBER`](crate::column::INVALID_NUMBER) = invalid) or reference codes
    /// ([`MISSING_CODE`] for missing and not-yet-coded values,
    /// [`INVALID_CODE`](crate::column::INVALID_CODE) for invalid ones).
    pub columns: Vec<ColumnData>,
    /// One entry per schema column, parallel to `columns`.
    pub extras: Vec<ParsedExtras>,
    /// Event times (unix seconds) when the monitor has a timestamp column.
    pub timestamps: Option<Vec<f64>>,
    /// Canonical row ids when the monitor has an id column (`None` = absent or not a string or
    /// number).
    pub ids: Option<Vec<Option<String>>>,
    /// Ids of the wrong type (objects, arrays, booleans).
    pub invalid_ids: u64,
    /// Latencies in the configured unit when the monitor has a latency column (NaN =
    /// missing, [`INVALID_NUMBER`](crate::column::INVALID_NUMBER) = invalid); absent in logs
    /// of older versions.
    #[serde(default)]
    pub latency: Option<Vec<f64>>,
    /// Latencies that are not a number ≥ 0.
    #[serde(default)]
    pub invalid_latency: u64,
}

impl Schema {
    /// The schema for `columns` (name and reference profile, in order), an optional event-time
    /// column and an optional row id column (kept for joining labels).
    pub fn new<'a>(
        columns: impl IntoIterator<Item = (&'a str, &'a ReferenceProfile)>,
        timestamp: Option<&str>,
        id: Option<&str>,
    ) -> Self {
        let mut slots = HashMap::new();
        let columns = columns
            .into_iter()
            .enumerate()
            .map(|(i, (name, reference))| {
                slots.insert(name.to_owned(), Slot::Column(i));
                match reference {
                    ReferenceProfile::Numeric(_) => SchemaColumn::Numeric,
                    ReferenceProfile::Categorical(c) => SchemaColumn::Categorical(c.index.clone()),
                }
            })
            .collect();
        if let Some(ts) = timestamp {
            slots.insert(ts.to_owned(), Slot::Timestamp);
        }
        if let Some(id) = id {
            slots.insert(id.to_owned(), Slot::Id);
        }
        Self {
            columns,
            slots,
            timestamp: timestamp.map(str::to_owned),
            has_id: id.is_some(),
            has_latency: false,
            limits: IngestLimits::default(),
        }
    }

    /// The same schema also reading each row's latency from field `column`.
    pub fn with_latency(mut self, column: &str) -> Self {
        self.slots.insert(column.to_owned(), Slot::Latency);
        self.has_latency = true;
        self
    }

    /// The same schema enforcing `limits` (rows per request, id and category length).
    pub fn with_limits(mut self, limits: IngestLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Parses a request body.
    pub fn parse(&self, body: &[u8]) -> Result<ParsedBatch, BatchError> {
        let mut builder = Builder::new(self);
        let mut de = serde_json::Deserializer::from_slice(body);
        let result = BatchSeed {
            builder: &mut builder,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if let Err(e) = result {
            return Err(builder.error(&e));
        }
        builder.finish()
    }

    /// Parses an NDJSON body: one row object per line, blank lines ignored; errors name the
    /// line (`line 12: ...`).
    pub fn parse_ndjson(&self, body: &[u8]) -> Result<ParsedBatch, BatchError> {
        let mut builder = Builder::new(self);
        columnar::parse_ndjson(&mut builder, body)?;
        builder.finish()
    }
}

/// The shapes a row body comes in, chosen by its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`: row objects or columnar JSON ([`Schema::parse`]).
    Json,
    /// `application/x-ndjson` ([`Schema::parse_ndjson`]).
    Ndjson,
    /// `application/vnd.apache.arrow.stream` ([`Schema::parse_arrow`]).
    Arrow,
}

impl BodyFormat {
    /// Every accepted `Content-Type`, for error messages and the API description.
    pub const MEDIA_TYPES: &str =
        "application/json, application/x-ndjson or application/vnd.apache.arrow.stream";

    /// The format of a `Content-Type` essence (no parameters), if it is one of ours.
    #[must_use]
    pub fn of_media_type(essence: &str) -> Option<Self> {
        [
            ("application/json", Self::Json),
            ("application/x-ndjson", Self::Ndjson),
            ("application/vnd.apache.arrow.stream", Self::Arrow),
        ]
        .into_iter()
        .find(|(name, _)| essence.eq_ignore_ascii_case(name))
        .map(|(_, format)| format)
    }
}

impl Schema {
    /// Parses an Arrow IPC stream body (record batches of columns named like the fields);
    /// errors name the column.
    pub fn parse_arrow(&self, body: &[u8]) -> Result<ParsedBatch, BatchError> {
        let mut builder = Builder::new(self);
        arrow::parse_arrow(&mut builder, body)?;
        builder.finish()
    }

    /// Parses a body of `format`.
    pub fn parse_as(&self, format: BodyFormat, body: &[u8]) -> Result<ParsedBatch, BatchError> {
        match format {
            BodyFormat::Json => self.parse(body),
            BodyFormat::Ndjson => self.parse_ndjson(body),
            BodyFormat::Arrow => self.parse_arrow(body),
        }
    }
}

impl ParsedBatch {
    /// Keeps the rows whose `keep` entry is true (`keep` has one entry per row).
    pub fn retain_rows(&mut self, keep: &[bool]) {
        fn retain<T>(values: &mut Vec<T>, keep: &[bool]) {
            let mut row = 0;
            values.retain(|_| {
                row += 1;
                keep[row - 1]
            });
        }
        for (column, extras) in self.columns.iter_mut().zip(&mut self.extras) {
            match column {
                ColumnData::Numeric(values) => retain(values, keep),
                ColumnData::Categorical(codes) => retain(codes, keep),
            }
            let novel = &mut extras.novel;
            if !novel.is_empty() {
                // Novel entries point at rows; renumber them for the rows kept.
                let mut new_index = Vec::with_capacity(keep.len());
                let mut next = 0;
                for &k in keep {
                    new_index.push(next);
                    next += usize::from(k);
                }
                novel.retain(|(row, _)| keep[*row]);
                for (row, _) in novel.iter_mut() {
                    *row = new_index[*row];
                }
            }
        }
        if let Some(times) = &mut self.timestamps {
            retain(times, keep);
        }
        if let Some(ids) = &mut self.ids {
            retain(ids, keep);
        }
        if let Some(latency) = &mut self.latency {
            retain(latency, keep);
        }
        self.rows = keep.iter().filter(|&&k| k).count();
    }
}

struct Builder<'s> {
    schema: &'s Schema,
    rows: usize,
    columns: Vec<ColumnData>,
    extras: Vec<ParsedExtras>,
    timestamps: Option<Vec<f64>>,
    ids: Option<Vec<Option<String>>>,
    invalid_ids: u64,
    latency: Option<Vec<f64>>,
    invalid_latency: u64,
    failure: Option<BatchError>,
    text: String,
}

impl<'s> Builder<'s> {
    fn new(schema: &'s Schema) -> Self {
        let columns = schema
            .columns
            .iter()
            .map(|c| match c {
                SchemaColumn::Numeric => ColumnData::Numeric(Vec::new()),
                SchemaColumn::Categorical(_) => ColumnData::Categorical(Vec::new()),
            })
            .collect();
        let extras = vec![ParsedExtras::default(); schema.columns.len()];
        Self {
            schema,
            rows: 0,
            columns,
            extras,
            timestamps: schema.timestamp.as_ref().map(|_| Vec::new()),
            ids: schema.has_id.then(Vec::new),
            invalid_ids: 0,
            latency: schema.has_latency.then(Vec::new),
            invalid_latency: 0,
            failure: None,
            text: String::new(),
        }
    }

    /// Adds a row of missing values that the row's fields then overwrite.
    fn begin_row(&mut self) {
        for column in &mut self.columns {
            match column {
                ColumnData::Numeric(values) => values.push(f64::NAN),
                ColumnData::Categorical(codes) => codes.push(MISSING_CODE),
            }
        }
        if let Some(t) = &mut self.timestamps {
            t.push(f64::NAN);
        }
        if let Some(ids) = &mut self.ids {
            ids.push(None);
        }
        if let Some(latency) = &mut self.latency {
            latency.push(f64::NAN);
        }
        self.rows += 1;
    }

    /// Fails once a row beyond `max_rows_per_request` was read, before the batch grows further.
    fn check_row_limit<E: de::Error>(&mut self) -> Result<(), E> {
        let max = self.schema.limits.max_rows_per_request;
        if self.rows <= max {
            return Ok(());
        }
        let message = format!(
            "the batch has more than server.max_rows_per_request ({max}) rows; send smaller \
             batches"
        );
        Err(self.fail(BatchErrorKind::TooManyRows, message))
    }

    /// The whole-request error for a failed parse: the recorded failure, else serde's error.
    fn error(&mut self, e: &serde_json::Error) -> BatchError {
        if let Some(failure) = self.failure.take() {
            return failure;
        }
        let (kind, message) = match e.classify() {
            serde_json::error::Category::Data => (BatchErrorKind::InvalidBody, e.to_string()),
            _ => (
                BatchErrorKind::MalformedJson,
                format!("malformed JSON: {e}"),
            ),
        };
        BatchError { kind, message }
    }

    fn finish(self) -> Result<ParsedBatch, BatchError> {
        if self.rows == 0 {
            return Err(BatchError {
                kind: BatchErrorKind::EmptyBatch,
                message: "the batch has no rows; send at least one row object".into(),
            });
        }
        Ok(ParsedBatch {
            rows: self.rows,
            columns: self.columns,
            extras: self.extras,
            timestamps: self.timestamps,
            ids: self.ids,
            invalid_ids: self.invalid_ids,
            latency: self.latency,
            invalid_latency: self.invalid_latency,
        })
    }

    fn fail<E: de::Error>(&mut self, kind: BatchErrorKind, message: String) -> E {
        let error = E::custom(&message);
        self.failure = Some(BatchError { kind, message });
        error
    }
}
