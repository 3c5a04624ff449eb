//! Delayed ground truth: predictions wait here, by id, for their labels.
//!
//! The buffer is bounded twice, both explicit and counted: at most `max_pending` predictions
//! (inserting beyond it expires the oldest) and at most `max_age` of waiting (older ones expire
//! on the next ingest, label request or clock tick). A label for an id that was already
//! labelled recently is reported as a duplicate rather than as unknown.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::ingest::category;
use crate::ingest::error::{BatchError, BatchErrorKind};

/// A prediction as the window engine codes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// Numerical prediction.
    Number(f64),
    /// Category code of a categorical prediction.
    Code(u32),
}

/// A prediction waiting for its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pending {
    /// The model's prediction.
    pub prediction: Cell,
    /// The model's probability for the positive class (NaN when none).
    pub probability: f64,
    /// Arrival time (unix seconds).
    pub arrived: f64,
    generation: u64,
}

/// Why a label found no prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// No waiting prediction has this id (never sent, expired, or sent after the label).
    UnknownId,
    /// This id was labelled recently already.
    Duplicate,
}

/// Predictions waiting for labels, bounded by count and age.
#[derive(Debug)]
pub struct JoinBuffer {
    pending: HashMap<String, Pending>,
    /// Insertion order for expiry; entries whose generation no longer matches are stale.
    order: VecDeque<(String, u64)>,
    next_generation: u64,
    labelled: HashSet<String>,
    labelled_order: VecDeque<String>,
    max_pending: usize,
    max_age: f64,
}

impl JoinBuffer {
    /// An empty buffer with the monitor's bounds.
    pub fn new(max_pending: usize, max_age_seconds: f64) -> Self {
        Self {
            pending: HashMap::new(),
            order: VecDeque::new(),
            next_generation: 0,
            labelled: HashSet::new(),
            labelled_order: VecDeque::new(),
            max_pending,
            max_age: max_age_seconds,
        }
    }

    /// Predictions currently waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Adds (or replaces) the prediction for `id`; returns how many predictions expired to make
    /// room.
    pub fn insert(&mut self, id: String, prediction: Cell, probability: f64, now: f64) -> u64 {
        let generation = self.next_generation;
        self.next_generation += 1;
        self.labelled.remove(&id);
        self.pending.insert(
            id.clone(),
            Pending {
                prediction,
                probability,
                arrived: now,
                generation,
            },
        );
        self.order.push_back((id, generation));
        let mut expired = 0;
        while self.pending.len() > self.max_pending {
            if self.pop_oldest() {
                expired += 1;
            }
        }
        // Re-sent ids leave stale order entries; rebuild when they dominate so memory stays
        // proportional to what is pending.
        if self.order.len() > 2 * self.max_pending.max(self.pending.len()) + 1024 {
            let mut live: Vec<(String, u64)> = self
                .pending
                .iter()
                .map(|(id, p)| (id.clone(), p.generation))
                .collect();
            live.sort_unstable_by_key(|(_, g)| *g);
            self.order = live.into();
        }
        expired
    }

    /// Whether a prediction is waiting for `id`.
    pub fn is_pending(&self, id: &str) -> bool {
        self.pending.contains_key(id)
    }

    /// Removes and returns the prediction waiting under `id`.
    pub fn take(&mut self, id: &str) -> Result<Pending, Unmatched> {
        match self.pending.remove(id) {
            Some(p) => {
                self.remember_labelled(id);
                Ok(p)
            }
            None if self.labelled.contains(id) => Err(Unmatched::Duplicate),
            None => Err(Unmatched::UnknownId),
        }
    }

    /// Expires predictions that waited longer than `max_age`; returns how many.
    pub fn expire(&mut self, now: f64) -> u64 {
        let mut expired = 0;
        while let Some((id, generation)) = self.order.front() {
            match self.pending.get(id) {
                Some(p) if p.generation == *generation => {
                    if now - p.arrived <= self.max_age {
                        break;
                    }
                    self.pending.remove(id);
                    expired += 1;
                }
                // Stale entry: replaced or already labelled.
                _ => {}
            }
            self.order.pop_front();
        }
        expired
    }

    /// Removes the oldest live prediction; false if only stale entries were left.
    fn pop_oldest(&mut self) -> bool {
        while let Some((id, generation)) = self.order.pop_front() {
            if self
                .pending
                .get(&id)
                .is_some_and(|p| p.generation == generation)
            {
                self.pending.remove(&id);
                return true;
            }
        }
        false
    }

    fn remember_labelled(&mut self, id: &str) {
        if self.labelled.insert(id.to_owned()) {
            self.labelled_order.push_back(id.to_owned());
            while self.labelled_order.len() > self.max_pending {
                if let Some(old) = self.labelled_order.pop_front() {
                    self.labelled.remove(&old);
                }
            }
        }
    }
}

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
    fn joins_by_id_and_reports_unknown_and_duplicate_labels() {
        let mut b = JoinBuffer::new(10, 60.0);
        b.insert("a".into(), Cell::Code(1), 0.9, 0.0);
        b.insert("7".into(), Cell::Number(3.5), f64::NAN, 0.0);
        assert_eq!(b.take("a").unwrap().prediction, Cell::Code(1));
        assert_eq!(b.take("a"), Err(Unmatched::Duplicate));
        assert_eq!(b.take("zz"), Err(Unmatched::UnknownId));
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn bounded_by_count_and_by_age() {
        let mut b = JoinBuffer::new(3, 10.0);
        let expired: u64 = (0..5)
            .map(|i| b.insert(i.to_string(), Cell::Code(0), f64::NAN, f64::from(i)))
            .sum();
        assert_eq!((expired, b.len()), (2, 3));
        assert_eq!(
            b.take("0"),
            Err(Unmatched::UnknownId),
            "oldest expired first"
        );
        // Ids 2, 3, 4 arrived at t = 2, 3, 4; at t = 13.5 ids 2 and 3 are older than 10 s.
        assert_eq!(b.expire(13.5), 2);
        assert!(b.take("4").is_ok());
        assert!(b.is_empty());
    }

    #[test]
    fn re_sent_ids_keep_the_newest_prediction_and_memory_bounded() {
        let mut b = JoinBuffer::new(2, 1e9);
        for i in 0..10_000 {
            b.insert("same".into(), Cell::Number(f64::from(i)), f64::NAN, 0.0);
        }
        assert_eq!(b.len(), 1);
        assert!(b.order.len() <= 2 * 2 + 1024 + 1);
        assert_eq!(b.take("same").unwrap().prediction, Cell::Number(9999.0));
    }

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
