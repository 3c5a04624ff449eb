//! The top level of a JSON body: `{"rows": [...]}`, a bare array of rows, or
//! `{"columns": {...}}`, handing each row to `seeds.rs` and columns to `columnar.rs`.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::Builder;
use super::columnar::ColumnsSeed;
use super::seeds::RowSeed;
use crate::column::ColumnData;
use crate::ingest::error::BatchErrorKind;

pub(super) struct BatchSeed<'b, 's> {
    pub(super) builder: &'b mut Builder<'s>,
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
        let mut saw_body = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "rows" && !saw_body {
                saw_body = true;
                map.next_value_seed(RowsSeed {
                    builder: &mut *self.builder,
                })?;
            } else if key == "columns" && !saw_body {
                saw_body = true;
                map.next_value_seed(ColumnsSeed {
                    builder: &mut *self.builder,
                })?;
            } else {
                let message = format!(
                    "unexpected key {key:?} in the body; send {{\"rows\": [...]}}, {{\"columns\": {{...}}}} or a JSON array of rows"
                );
                return Err(self.builder.fail(BatchErrorKind::InvalidBody, message));
            }
        }
        if !saw_body {
            let message =
                "the body has no \"rows\" key; send {\"rows\": [...]} or {\"columns\": {...}}"
                    .to_string();
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
                        ColumnData::Numeric(values) => values.truncate(self.builder.rows),
                        ColumnData::Categorical(codes) => codes.truncate(self.builder.rows),
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
