//! Parses an ingest request body straight into columns.
//!
//! The body is `{"rows": [{...}, ...]}` or a bare array of row objects. Instead of building a
//! `serde_json::Value` per row, a [`serde::de::DeserializeSeed`] walks the JSON once and writes
//! each known field into its column: numbers into `f64` vectors, categories into reference codes
//! (a hash lookup on the borrowed text, no allocation unless the category is new). Unknown fields
//! are skipped. Per-value problems (text in a numeric column, objects as values) count as invalid
//! and are stored as the invalid sentinels of [`crate::engine::check`]; whole-request problems return a [`BatchError`] and nothing is kept.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::config::IngestLimits;
use crate::engine::check::{
    ColumnCheck, INVALID_CODE, INVALID_NUMBER, MISSING_CODE, ReferenceProfile,
};
use crate::ingest::category;

/// Which columns a monitor reads from a row, built once per monitor.
#[derive(Debug, Clone)]
pub struct Schema {
    columns: Vec<SchemaColumn>,
    slots: HashMap<String, Slot>,
    timestamp: Option<String>,
    has_id: bool,
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
}

/// One parsed column of a batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ParsedColumn {
    /// Values (NaN = missing, [`INVALID_NUMBER`] = invalid) and the count of invalid values.
    Numeric {
        /// One value per row.
        values: Vec<f64>,
        /// Values of the wrong type.
        invalid: u64,
    },
    /// Reference codes, categories not in the reference, and the count of invalid values.
    Categorical {
        /// One code per row; [`MISSING_CODE`] for missing and not-yet-coded values,
        /// [`INVALID_CODE`] for invalid ones.
        codes: Vec<u32>,
        /// `(row, text)` of values absent from the reference, coded later by the monitor.
        novel: Vec<(usize, String)>,
        /// Values of the wrong type.
        invalid: u64,
    },
}

/// A parsed request body.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParsedBatch {
    /// Number of rows.
    pub rows: usize,
    /// One entry per schema column, in schema order.
    pub columns: Vec<ParsedColumn>,
    /// Event times (unix seconds) when the monitor has a timestamp column.
    pub timestamps: Option<Vec<f64>>,
    /// Canonical row ids when the monitor has an id column (`None` = absent or not a string or
    /// number).
    pub ids: Option<Vec<Option<String>>>,
    /// Ids of the wrong type (objects, arrays, booleans).
    pub invalid_ids: u64,
}

/// Why a whole request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchErrorKind {
    /// Not JSON (400).
    MalformedJson,
    /// JSON, but not `{"rows": [...]}` or an array of rows (422).
    InvalidBody,
    /// No rows (422).
    EmptyBatch,
    /// A row is not a JSON object (422).
    RowNotObject,
    /// A row's timestamp is missing or unreadable (422).
    InvalidTimestamp,
    /// More rows than `server.max_rows_per_request` (413).
    TooManyRows,
}

/// A whole-request error with a message naming the row/field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    /// Category, mapped to an HTTP status and error code.
    pub kind: BatchErrorKind,
    /// Human-readable explanation.
    pub message: String,
}

impl Schema {
    /// The schema for `checks` (in order), an optional event-time column and an optional row
    /// id column (kept for joining labels).
    pub fn new(checks: &[ColumnCheck], timestamp: Option<&str>, id: Option<&str>) -> Self {
        let mut slots = HashMap::new();
        let columns = checks
            .iter()
            .enumerate()
            .map(|(i, check)| {
                slots.insert(check.name.clone(), Slot::Column(i));
                match &check.reference {
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
            limits: IngestLimits::default(),
        }
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
            if let Some(failure) = builder.failure.take() {
                return Err(failure);
            }
            let (kind, message) = match e.classify() {
                serde_json::error::Category::Data => (BatchErrorKind::InvalidBody, e.to_string()),
                _ => (
                    BatchErrorKind::MalformedJson,
                    format!("malformed JSON: {e}"),
                ),
            };
            return Err(BatchError { kind, message });
        }
        if builder.rows == 0 {
            return Err(BatchError {
                kind: BatchErrorKind::EmptyBatch,
                message: "the batch has no rows; send at least one row object".into(),
            });
        }
        Ok(ParsedBatch {
            rows: builder.rows,
            columns: builder.columns,
            timestamps: builder.timestamps,
            ids: builder.ids,
            invalid_ids: builder.invalid_ids,
        })
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
        for column in &mut self.columns {
            match column {
                ParsedColumn::Numeric { values, .. } => retain(values, keep),
                ParsedColumn::Categorical { codes, novel, .. } => {
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
                    retain(codes, keep);
                }
            }
        }
        if let Some(times) = &mut self.timestamps {
            retain(times, keep);
        }
        if let Some(ids) = &mut self.ids {
            retain(ids, keep);
        }
        self.rows = keep.iter().filter(|&&k| k).count();
    }
}

struct Builder<'s> {
    schema: &'s Schema,
    rows: usize,
    columns: Vec<ParsedColumn>,
    timestamps: Option<Vec<f64>>,
    ids: Option<Vec<Option<String>>>,
    invalid_ids: u64,
    failure: Option<BatchError>,
    text: String,
}

impl<'s> Builder<'s> {
    fn new(schema: &'s Schema) -> Self {
        let columns = schema
            .columns
            .iter()
            .map(|c| match c {
                SchemaColumn::Numeric => ParsedColumn::Numeric {
                    values: Vec::new(),
                    invalid: 0,
                },
                SchemaColumn::Categorical(_) => ParsedColumn::Categorical {
                    codes: Vec::new(),
                    novel: Vec::new(),
                    invalid: 0,
                },
            })
            .collect();
        Self {
            schema,
            rows: 0,
            columns,
            timestamps: schema.timestamp.as_ref().map(|_| Vec::new()),
            ids: schema.has_id.then(Vec::new),
            invalid_ids: 0,
            failure: None,
            text: String::new(),
        }
    }

    /// Adds a row of missing values that the row's fields then overwrite.
    fn begin_row(&mut self) {
        for column in &mut self.columns {
            match column {
                ParsedColumn::Numeric { values, .. } => values.push(f64::NAN),
                ParsedColumn::Categorical { codes, .. } => codes.push(MISSING_CODE),
            }
        }
        if let Some(t) = &mut self.timestamps {
            t.push(f64::NAN);
        }
        if let Some(ids) = &mut self.ids {
            ids.push(None);
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

    fn fail<E: de::Error>(&mut self, kind: BatchErrorKind, message: String) -> E {
        let error = E::custom(&message);
        self.failure = Some(BatchError { kind, message });
        error
    }
}

struct BatchSeed<'b, 's> {
    builder: &'b mut Builder<'s>,
}

impl<'de> DeserializeSeed<'de> for BatchSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object {\"rows\": [...]} or an array of row objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RowsSeed {
            builder: self.builder,
        }
        .visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut saw_rows = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "rows" && !saw_rows {
                saw_rows = true;
                map.next_value_seed(RowsSeed {
                    builder: &mut *self.builder,
                })?;
            } else {
                let message = format!(
                    "unexpected key {key:?} in the body; send {{\"rows\": [...]}} or a JSON array of rows"
                );
                return Err(self.builder.fail(BatchErrorKind::InvalidBody, message));
            }
        }
        if !saw_rows {
            let message = "the body has no \"rows\" key; send {\"rows\": [...]}".to_string();
            return Err(self.builder.fail(BatchErrorKind::InvalidBody, message));
        }
        Ok(())
    }
}

struct RowsSeed<'b, 's> {
    builder: &'b mut Builder<'s>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"rows\" to be an array of row objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.builder.begin_row();
            if seq
                .next_element_seed(RowSeed {
                    builder: &mut *self.builder,
                })?
                .is_none()
            {
                // The row opened for an element that was not there.
                self.builder.rows -= 1;
                for column in &mut self.builder.columns {
                    match column {
                        ParsedColumn::Numeric { values, .. } => values.truncate(self.builder.rows),
                        ParsedColumn::Categorical { codes, .. } => {
                            codes.truncate(self.builder.rows)
                        }
                    }
                }
                if let Some(t) = &mut self.builder.timestamps {
                    t.truncate(self.builder.rows);
                }
                if let Some(ids) = &mut self.builder.ids {
                    ids.truncate(self.builder.rows);
                }
                return Ok(());
            }
            self.builder.check_row_limit()?;
        }
    }
}

struct RowSeed<'b, 's> {
    builder: &'b mut Builder<'s>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl RowSeed<'_, '_> {
    fn not_object<E: de::Error>(self, what: &str) -> E {
        let row = self.builder.rows - 1;
        let message = format!("rows[{row}] is {what}, but each row must be a JSON object");
        self.builder.fail(BatchErrorKind::RowNotObject, message)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.not_object("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.not_object("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.not_object("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.not_object("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.not_object("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.not_object("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_object("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let row = self.builder.rows - 1;
        while let Some(slot) = map.next_key_seed(KeySeed {
            slots: &self.builder.schema.slots,
        })? {
            match slot {
                Some(Slot::Column(i)) => map.next_value_seed(CellSeed {
                    builder: &mut *self.builder,
                    column: i,
                    row,
                })?,
                Some(Slot::Timestamp) => map.next_value_seed(TimeSeed {
                    builder: &mut *self.builder,
                    row,
                })?,
                Some(Slot::Id) => {
                    let value: serde_json::Value = map.next_value()?;
                    let max = self.builder.schema.limits.max_id_bytes;
                    let id = crate::ingest::labels::id_text(&value).filter(|id| id.len() <= max);
                    if id.is_none() && !value.is_null() {
                        self.builder.invalid_ids += 1;
                    }
                    if let Some(ids) = &mut self.builder.ids {
                        ids[row] = id;
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let (Some(times), Some(name)) =
            (&self.builder.timestamps, &self.builder.schema.timestamp)
            && times[row].is_nan()
        {
            let message = format!(
                "rows[{row}] has no timestamp: field {name:?} is required (unix seconds or RFC 3339)"
            );
            return Err(self.builder.fail(BatchErrorKind::InvalidTimestamp, message));
        }
        Ok(())
    }
}

/// Resolves a field name to its slot without allocating.
struct KeySeed<'a> {
    slots: &'a HashMap<String, Slot>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<Slot>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Slot>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<Slot>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Slot>, E> {
        Ok(self.slots.get(v).copied())
    }
}

/// Writes one field's value into its column.
struct CellSeed<'b, 's> {
    builder: &'b mut Builder<'s>,
    column: usize,
    row: usize,
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl CellSeed<'_, '_> {
    fn is_numeric(&self) -> bool {
        matches!(
            self.builder.schema.columns[self.column],
            SchemaColumn::Numeric
        )
    }

    fn set_number(self, x: f64) {
        if let ParsedColumn::Numeric { values, .. } = &mut self.builder.columns[self.column] {
            values[self.row] = x;
        }
    }

    /// Codes a number given to a categorical column by its canonical text (`21.0` → `"21"`).
    fn set_number_category(self, write_text: impl FnOnce(&mut String)) {
        let mut text = std::mem::take(&mut self.builder.text);
        write_text(&mut text);
        let builder = self.builder;
        Self::set_category(builder, self.column, self.row, &text);
        builder.text = text;
    }

    fn set_category(builder: &mut Builder<'_>, column: usize, row: usize, v: &str) {
        let SchemaColumn::Categorical(index) = &builder.schema.columns[column] else {
            return;
        };
        let code = index.get(v).copied();
        let too_long = v.len() > builder.schema.limits.max_category_bytes;
        if let ParsedColumn::Categorical {
            codes,
            novel,
            invalid,
        } = &mut builder.columns[column]
        {
            match code {
                Some(code) => codes[row] = code,
                // Counted as invalid and never stored, so long text cannot fill memory.
                None if too_long => {
                    codes[row] = INVALID_CODE;
                    *invalid += 1;
                }
                None => novel.push((row, v.to_owned())),
            }
        }
    }

    fn invalid(self) {
        match &mut self.builder.columns[self.column] {
            ParsedColumn::Numeric { values, invalid } => {
                values[self.row] = INVALID_NUMBER;
                *invalid += 1;
            }
            ParsedColumn::Categorical { codes, invalid, .. } => {
                codes[self.row] = INVALID_CODE;
                *invalid += 1;
            }
        }
    }
}

impl<'de> Visitor<'de> for CellSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, string, boolean or null")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        if self.is_numeric() {
            self.invalid();
        } else {
            Self::set_category(self.builder, self.column, self.row, category::bool_text(v));
        }
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        if self.is_numeric() {
            self.set_number(v as f64);
        } else {
            self.set_number_category(|t| {
                t.clear();
                let _ = write!(t, "{v}");
            });
        }
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        if self.is_numeric() {
            self.set_number(v as f64);
        } else {
            self.set_number_category(|t| {
                t.clear();
                let _ = write!(t, "{v}");
            });
        }
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        if self.is_numeric() {
            self.set_number(v);
        } else {
            self.set_number_category(|t| category::number_text(v, t));
        }
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.is_numeric() {
            self.invalid();
        } else {
            Self::set_category(self.builder, self.column, self.row, v);
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.invalid();
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.invalid();
        Ok(())
    }
}

/// Reads a row's event time: unix seconds, or RFC 3339 text.
struct TimeSeed<'b, 's> {
    builder: &'b mut Builder<'s>,
    row: usize,
}

impl<'de> DeserializeSeed<'de> for TimeSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl TimeSeed<'_, '_> {
    fn set<E: de::Error>(self, seconds: Option<f64>, shown: &dyn fmt::Display) -> Result<(), E> {
        match seconds {
            Some(s) if s.is_finite() => {
                if let Some(t) = &mut self.builder.timestamps {
                    t[self.row] = s;
                }
                Ok(())
            }
            _ => {
                let name = self.builder.schema.timestamp.as_deref().unwrap_or_default();
                let message = format!(
                    "rows[{}].{name}: {shown} is not a timestamp; use unix seconds or RFC 3339 \
                     such as \"2026-11-21T12:00:00Z\"",
                    self.row
                );
                Err(self.builder.fail(BatchErrorKind::InvalidTimestamp, message))
            }
        }
    }
}

impl<'de> Visitor<'de> for TimeSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unix seconds or an RFC 3339 timestamp")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.set(Some(v as f64), &v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.set(Some(v as f64), &v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.set(Some(v), &v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let parsed = chrono::DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|t| t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9);
        self.set(parsed, &format_args!("{v:?}"))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.set(None, &v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.set(None, &"null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.set(None, &"an array")
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.set(None, &"an object")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::check::Role;
    use crate::reference::table::RawColumn;

    fn schema(timestamp: Option<&str>) -> Schema {
        let x = ColumnCheck::new(
            "x",
            Role::Feature,
            RawColumn::Numeric {
                values: vec![1.0, 2.0, 3.0],
                missing: 0,
            },
            None,
            None,
            10,
        )
        .unwrap();
        let c = ColumnCheck::new(
            "c",
            Role::Feature,
            RawColumn::Categorical {
                values: vec!["21".into(), "a".into(), "true".into()],
                missing: 0,
            },
            None,
            None,
            10,
        )
        .unwrap();
        Schema::new(&[x, c], timestamp, None)
    }

    fn parse(body: &str) -> Result<ParsedBatch, BatchError> {
        schema(None).parse(body.as_bytes())
    }

    #[test]
    fn parses_values_missing_invalid_and_unknown_fields() {
        let batch = parse(
            r#"{"rows": [{"x": 1.5, "c": 21, "other": [1, {"a": 2}]},
                         {"x": "oops", "c": "21"},
                         {"x": null, "c": "new"},
                         {"c": {"nested": true}, "x": 7},
                         {"c": true, "x": 2.0e0}]}"#,
        )
        .unwrap();
        assert_eq!(batch.rows, 5);
        let ParsedColumn::Numeric { values, invalid } = &batch.columns[0] else {
            panic!()
        };
        assert_eq!(values[0], 1.5);
        assert!(values[1] == INVALID_NUMBER && values[2].is_nan());
        assert_eq!((values[3], values[4], *invalid), (7.0, 2.0, 1));
        let ParsedColumn::Categorical {
            codes,
            novel,
            invalid,
        } = &batch.columns[1]
        else {
            panic!()
        };
        // Reference categories sorted: "21" = 0, "a" = 1, "true" = 2.
        assert_eq!(codes, &vec![0, 0, MISSING_CODE, INVALID_CODE, 2]);
        assert_eq!(novel, &vec![(2, "new".to_string())]);
        assert_eq!(*invalid, 1);
    }

    #[test]
    fn accepts_a_bare_array_and_float_codes() {
        let batch = parse(r#"[{"c": 21.0}, {"c": "a"}]"#).unwrap();
        let ParsedColumn::Categorical { codes, .. } = &batch.columns[1] else {
            panic!()
        };
        assert_eq!(codes, &vec![0, 1]);
    }

    #[test]
    fn whole_request_errors_name_the_row() {
        let cases = [
            (
                "{\"rows\": [",
                BatchErrorKind::MalformedJson,
                "malformed JSON",
            ),
            ("{\"rows\": []}", BatchErrorKind::EmptyBatch, "no rows"),
            ("[]", BatchErrorKind::EmptyBatch, "no rows"),
            (
                "[{\"x\": 1}, 5]",
                BatchErrorKind::RowNotObject,
                "rows[1] is a number",
            ),
            (
                "{\"rows\": [{}], \"extra\": 1}",
                BatchErrorKind::InvalidBody,
                "unexpected key \"extra\"",
            ),
            (
                "{\"data\": []}",
                BatchErrorKind::InvalidBody,
                "unexpected key \"data\"",
            ),
            ("{}", BatchErrorKind::InvalidBody, "no \"rows\" key"),
            ("\"rows\"", BatchErrorKind::InvalidBody, "invalid type"),
            ("{\"rows\": 3}", BatchErrorKind::InvalidBody, "invalid type"),
            (
                "[{\"x\": 1}] trailing",
                BatchErrorKind::MalformedJson,
                "trailing",
            ),
        ];
        for (body, kind, needle) in cases {
            let err = parse(body).unwrap_err();
            assert_eq!(err.kind, kind, "{body}: {err:?}");
            assert!(err.message.contains(needle), "{body}: {}", err.message);
        }
    }

    #[test]
    fn timestamps_are_required_and_parsed_when_configured() {
        let s = schema(Some("ts"));
        let batch = s.parse(br#"[{"ts": 10, "x": 1}, {"ts": "1970-01-01T00:00:20.5Z"}, {"ts": "1970-01-01T01:00:00+01:00"}]"#).unwrap();
        assert_eq!(batch.timestamps, Some(vec![10.0, 20.5, 0.0]));
        let err = s.parse(br#"[{"ts": 10}, {"x": 1}]"#).unwrap_err();
        assert_eq!(err.kind, BatchErrorKind::InvalidTimestamp);
        assert!(
            err.message.contains("rows[1] has no timestamp"),
            "{}",
            err.message
        );
        let err = s.parse(br#"[{"ts": "yesterday"}]"#).unwrap_err();
        assert!(
            err.message
                .contains("rows[0].ts: \"yesterday\" is not a timestamp"),
            "{}",
            err.message
        );
    }
}
