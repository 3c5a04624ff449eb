//! Delayed ground truth: predictions wait here, by id, for their labels.
//!
//! The buffer is bounded twice, both explicit and counted: at most `max_pending` predictions
//! (inserting beyond it expires the oldest) and at most `max_age` of waiting (older ones expire
//! on the next ingest, label request or clock tick). A label for an id that was already
//! labelled recently is reported as a duplicate rather than as unknown. Plain data, part of the
//! monitor's state.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

/// A prediction as the window engine codes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Numerical prediction.
    Number(f64),
    /// Category code of a categorical prediction.
    Code(u32),
}

/// A prediction waiting for its label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

/// Per-item result of a labels request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelOutcome {
    /// Joined to a waiting prediction.
    Matched,
    /// No waiting prediction has this id.
    UnknownId,
    /// The id was already labelled (earlier or in this request).
    Duplicate,
    /// The item is not an object or its `id` is missing or not a string/number.
    InvalidId,
    /// The `target` is missing or of the wrong type for the target column.
    InvalidTarget,
}

impl LabelOutcome {
    /// Label value of `driftscope_labels_unmatched_total{reason}`.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelOutcome::Matched => "matched",
            LabelOutcome::UnknownId => "unknown_id",
            LabelOutcome::Duplicate => "duplicate",
            LabelOutcome::InvalidId => "invalid_id",
            LabelOutcome::InvalidTarget => "invalid_target",
        }
    }
}

/// Reasons a label can go unmatched, for metric initialisation.
pub const UNMATCHED_REASONS: &[LabelOutcome] = &[
    LabelOutcome::UnknownId,
    LabelOutcome::Duplicate,
    LabelOutcome::InvalidId,
    LabelOutcome::InvalidTarget,
];

/// Predictions waiting for labels, bounded by count and age.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    /// This buffer's contents under new bounds (applied from the next insert or expiry).
    pub fn with_bounds(mut self, max_pending: usize, max_age_seconds: f64) -> Self {
        self.max_pending = max_pending;
        self.max_age = max_age_seconds;
        self
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
