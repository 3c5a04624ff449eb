//! The two other body shapes, written into the same columns by the same per-value seeds as the
//! row objects of `seeds.rs`:
//! - columnar JSON, `{"columns": {"AGEP": [..], "SCHL": [..]}}`: one array per column, all of
//!   the same length; unknown columns are skipped;
//! - NDJSON: one row object per line, blank lines ignored, errors naming the line.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::seeds::{CellSeed, LatencySeed, RowSeed, TimeSeed, set_id};
use super::{Builder, Slot};
use crate::ingest::error::{BatchError, BatchErrorKind};

/// The value of `"columns"`: an object of column arrays.
pub(super) struct ColumnsSeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
}

impl<'de> DeserializeSeed<'de> for ColumnsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ColumnsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"columns\" to be an object of column arrays")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let builder = self.builder;
        // (column, number of values) of every known column, in body order.
        let mut lengths: Vec<(String, usize)> = Vec::new();
        let mut saw_timestamp = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let Some(slot) = builder.schema.slots.get(key.as_ref()).copied() else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            saw_timestamp |= matches!(slot, Slot::Timestamp);
            let length = map.next_value_seed(ColumnSeed {
                builder: &mut *builder,
                slot,
                name: &key,
            })?;
            lengths.push((key.into_owned(), length));
        }
        if let Some((first, expected)) = lengths.first()
            && let Some((name, length)) = lengths.iter().find(|(_, n)| n != expected)
        {
            let message = format!(
                "columns[{name:?}] has {length} values but columns[{first:?}] has {expected}; \
                 every column must have the same length"
            );
            return Err(builder.fail(BatchErrorKind::InvalidBody, message));
        }
        if let Some(name) = &builder.schema.timestamp
            && !saw_timestamp
            && builder.rows > 0
        {
            let message = format!(
                "the columns have no timestamp: column {name:?} is required (unix seconds or RFC 3339)"
            );
            return Err(builder.fail(BatchErrorKind::InvalidTimestamp, message));
        }
        Ok(())
    }
}

/// One column's array; returns its length.
struct ColumnSeed<'b, 's, 'k> {
    builder: &'b mut Builder<'s>,
    slot: Slot,
    name: &'k str,
}

impl<'de> DeserializeSeed<'de> for ColumnSeed<'_, '_, '_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ColumnSeed<'_, '_, '_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "columns[{:?}] to be an array", self.name)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut row = 0;
        while seq
            .next_element_seed(ValueSeed {
                builder: &mut *self.builder,
                slot: self.slot,
                row,
            })?
            .is_some()
        {
            row += 1;
        }
        Ok(row)
    }
}

/// One value of a column array, written at `row` (opening the row if no column reached it yet).
pub(super) struct ValueSeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
    pub(super) slot: Slot,
    pub(super) row: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let (builder, row) = (self.builder, self.row);
        if row == builder.rows {
            builder.begin_row();
            builder.check_row_limit()?;
        }
        match self.slot {
            Slot::Column(column) => CellSeed {
                builder,
                column,
                row,
            }
            .deserialize(deserializer),
            Slot::Timestamp => TimeSeed { builder, row }.deserialize(deserializer),
            Slot::Latency => LatencySeed { builder, row }.deserialize(deserializer),
            Slot::Id => {
                let value = serde::Deserialize::deserialize(deserializer)?;
                set_id(builder, row, &value);
                Ok(())
            }
        }
    }
}

/// Parses NDJSON: each non-blank line is one row object.
pub(super) fn parse_ndjson(builder: &mut Builder<'_>, body: &[u8]) -> Result<(), BatchError> {
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        builder.begin_row();
        let mut de = serde_json::Deserializer::from_slice(line);
        let result = RowSeed {
            builder: &mut *builder,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .and_then(|()| builder.check_row_limit::<serde_json::Error>());
        if let Err(e) = result {
            let mut error = builder.error(&e);
            error.message = format!("line {}: {}", index + 1, error.message);
            return Err(error);
        }
    }
    Ok(())
}
