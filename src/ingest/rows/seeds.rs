//! The serde seeds that walk a request body once and write each field into its column.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Builder, SchemaColumn, Slot};
use crate::category;
use crate::column::{ColumnData, INVALID_CODE, INVALID_NUMBER};
use crate::ingest::error::BatchErrorKind;

pub(super) struct RowSeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
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
                Some(Slot::Id) => set_id(self.builder, row, &map.next_value()?),
                Some(Slot::Latency) => map.next_value_seed(LatencySeed {
                    builder: &mut *self.builder,
                    row,
                })?,
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

/// Stores a row's id (its canonical text), counting ids of the wrong type or too long.
pub(super) fn set_id(builder: &mut Builder<'_>, row: usize, value: &serde_json::Value) {
    let max = builder.schema.limits.max_id_bytes;
    let id = crate::ingest::labels::id_text(value).filter(|id| id.len() <= max);
    if id.is_none() && !value.is_null() {
        builder.invalid_ids += 1;
    }
    if let Some(ids) = &mut builder.ids {
        ids[row] = id;
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
pub(super) struct CellSeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
    pub(super) column: usize,
    pub(super) row: usize,
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
        if let ColumnData::Numeric(values) = &mut self.builder.columns[self.column] {
            values[self.row] = x;
        }
    }

    /// A JSON integer: its value in a numeric column, its exact decimal text as a category
    /// (written from the integer itself, so values beyond 2^53 keep every digit).
    fn set_integer(self, value: f64, exact: impl std::fmt::Display) {
        if self.is_numeric() {
            self.set_number(value);
        } else {
            self.set_number_category(|t| {
                t.clear();
                let _ = write!(t, "{exact}");
            });
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
        if let ColumnData::Categorical(codes) = &mut builder.columns[column] {
            let extras = &mut builder.extras[column];
            match code {
                Some(code) => codes[row] = code,
                // Counted as invalid and never stored, so long text cannot fill memory.
                None if too_long => {
                    codes[row] = INVALID_CODE;
                    extras.invalid += 1;
                }
                None => extras.novel.push((row, v.to_owned())),
            }
        }
    }

    fn invalid(self) {
        match &mut self.builder.columns[self.column] {
            ColumnData::Numeric(values) => values[self.row] = INVALID_NUMBER,
            ColumnData::Categorical(codes) => codes[self.row] = INVALID_CODE,
        }
        self.builder.extras[self.column].invalid += 1;
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
        self.set_integer(v as f64, v);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.set_integer(v as f64, v);
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
pub(super) struct TimeSeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
    pub(super) row: usize,
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

/// Reads a row's latency: a number ≥ 0, or `null` (missing). Anything else (text, a negative
/// number, an object) is counted as invalid and kept out of the histogram.
pub(super) struct LatencySeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
    pub(super) row: usize,
}

impl<'de> DeserializeSeed<'de> for LatencySeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl LatencySeed<'_, '_> {
    fn set(self, value: Option<f64>) {
        let value = value.filter(|v| v.is_finite() && *v >= 0.0);
        if value.is_none() {
            self.builder.invalid_latency += 1;
        }
        if let Some(latency) = &mut self.builder.latency {
            latency[self.row] = value.unwrap_or(INVALID_NUMBER);
        }
    }
}

impl<'de> Visitor<'de> for LatencySeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a latency (a number >= 0) or null")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.set(Some(v as f64));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.set(Some(v as f64));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.set(Some(v));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.set(None);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.set(None);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.set(None);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.set(None);
        Ok(())
    }
}
