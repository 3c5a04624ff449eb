//! Label request bodies: `{"labels": [{"id", "target"}, ...]}`, bounded while parsing, and the
//! canonical text of ids (the join itself is [`crate::labelled::join`]).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::category;
use crate::ingest::error::{BatchError, BatchErrorKind};

/// The canonical text of a row or label id: strings as given, integral numbers without a
/// fraction (so `7`, `7.0` and `"7"` are one id). `None` for other JSON types.
pub fn id_text(value: &Value) -> Option<String> {
    if value.is_boolean() {
        None
    } else {
        category::json_text(value)
    }
}

/// Parses `{"labels": [...]}` or a bare array of label items; at most `max_items` items (more
/// is refused while parsing, before they take memory).
pub fn parse_body(body: &[u8], max_items: usize) -> Result<Vec<Value>, BatchError> {
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = LabelsBody {
        max_items,
        failure: &mut failure,
    }
    .deserialize(&mut de)
    .and_then(|items| de.end().map(|()| items));
    let items = match parsed {
        Ok(items) => items,
        Err(e) => {
            return Err(failure.unwrap_or_else(|| BatchError {
                kind: if e.is_data() {
                    BatchErrorKind::InvalidBody
                } else {
                    BatchErrorKind::MalformedJson
                },
                message: format!("malformed JSON: {e}"),
            }));
        }
    };
    if items.is_empty() {
        return Err(BatchError {
            kind: BatchErrorKind::EmptyBatch,
            message: "the request has no labels".into(),
        });
    }
    Ok(items)
}

/// The body's shape, with the item bound applied while reading.
struct LabelsBody<'f> {
    max_items: usize,
    failure: &'f mut Option<BatchError>,
}

impl LabelsBody<'_> {
    fn fail<E: de::Error>(&mut self, kind: BatchErrorKind, message: String) -> E {
        let error = E::custom(&message);
        *self.failure = Some(BatchError { kind, message });
        error
    }
}

impl<'de> DeserializeSeed<'de> for LabelsBody<'_> {
    type Value = Vec<Value>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LabelsBody<'_> {
    type Value = Vec<Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{\"labels\": [...]} or an array of label objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            if items.len() == self.max_items {
                let message = format!(
                    "more than server.max_rows_per_request ({}) labels; send smaller batches",
                    self.max_items
                );
                return Err(self.fail(BatchErrorKind::TooManyRows, message));
            }
            items.push(item);
        }
        Ok(items)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Vec<Value>, A::Error> {
        let mut items = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key != "labels" || items.is_some() {
                let message = format!(
                    "unexpected key {key:?}; send {{\"labels\": [{{\"id\": ..., \"target\": ...}}]}}"
                );
                return Err(self.fail(BatchErrorKind::InvalidBody, message));
            }
            items = Some(map.next_value_seed(LabelsArray {
                body: LabelsBody {
                    max_items: self.max_items,
                    failure: &mut *self.failure,
                },
            })?);
        }
        match items {
            Some(items) => Ok(items),
            None => {
                let message = "the body has no \"labels\" key; send {\"labels\": [...]}".into();
                Err(self.fail(BatchErrorKind::InvalidBody, message))
            }
        }
    }
}

/// The value of `"labels"`: must be an array.
struct LabelsArray<'f> {
    body: LabelsBody<'f>,
}

impl<'de> DeserializeSeed<'de> for LabelsArray<'_> {
    type Value = Vec<Value>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LabelsArray<'_> {
    type Value = Vec<Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of {\"id\", \"target\"} objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<Value>, A::Error> {
        self.body.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, _: A) -> Result<Vec<Value>, A::Error> {
        Err(self.not_array())
    }
    fn visit_str<E: de::Error>(mut self, _: &str) -> Result<Vec<Value>, E> {
        Err(self.not_array())
    }
    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<Vec<Value>, E> {
        Err(self.not_array())
    }
    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<Vec<Value>, E> {
        Err(self.not_array())
    }
    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<Vec<Value>, E> {
        Err(self.not_array())
    }
    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<Vec<Value>, E> {
        Err(self.not_array())
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<Vec<Value>, E> {
        Err(self.not_array())
    }
}

impl LabelsArray<'_> {
    fn not_array<E: de::Error>(&mut self) -> E {
        let message = "\"labels\" must be an array of {\"id\", \"target\"} objects".into();
        self.body.fail(BatchErrorKind::InvalidBody, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_canonical_and_bodies_validated() {
        assert_eq!(id_text(&json!(7)), Some("7".into()));
        assert_eq!(id_text(&json!(7.0)), Some("7".into()));
        assert_eq!(id_text(&json!("7")), Some("7".into()));
        assert_eq!(id_text(&json!(null)), None);
        assert_eq!(
            parse_body(br#"{"labels": [{"id": 1}]}"#, 10).unwrap().len(),
            1
        );
        assert_eq!(parse_body(br#"[{"id": 1}, 5]"#, 10).unwrap().len(), 2);
        for (body, kind) in [
            (&b"{"[..], BatchErrorKind::MalformedJson),
            (br#"{"labels": []}"#, BatchErrorKind::EmptyBatch),
            (br#"{"rows": []}"#, BatchErrorKind::InvalidBody),
            (br#"{"labels": 3}"#, BatchErrorKind::InvalidBody),
            (br#""x""#, BatchErrorKind::InvalidBody),
            (b"[1,1,1,1,1,1,1,1,1,1,1]", BatchErrorKind::TooManyRows),
            (
                br#"{"labels": [1,1,1,1,1,1,1,1,1,1,1]}"#,
                BatchErrorKind::TooManyRows,
            ),
        ] {
            assert_eq!(
                parse_body(body, 10).unwrap_err().kind,
                kind,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
