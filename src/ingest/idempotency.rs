//! Remembered `Idempotency-Key`s: a retried ingest request is acknowledged again without its
//! rows being counted twice.
//!
//! Part of the monitor's ingest state, written under the same lock as the rows it
//! acknowledges, so a key is either recorded together with its rows or not at all. Bounded in
//! count (`server.idempotency_keys`, oldest forgotten first) and age
//! (`server.idempotency_horizon`); keys are at most [`MAX_KEY_BYTES`].

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Longest accepted key. UUIDs (36) and ULIDs (26) fit with room to spare.
pub const MAX_KEY_BYTES: usize = 128;

/// Rows of one ingest request that no window kept, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// Older than every open time window.
    pub late: u64,
    /// The time window already held `max_rows`.
    pub window_full: u64,
    /// Event time more than `max_future_skew` ahead of the server clock.
    pub future: u64,
}

impl Dropped {
    /// All dropped rows.
    pub fn total(&self) -> u64 {
        self.late + self.window_full + self.future
    }
}

/// What an ingest request did to the monitor, as acknowledged to the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestAck {
    /// Rows kept by the window.
    pub accepted: u64,
    /// Rows dropped, by reason.
    pub dropped: Dropped,
}

/// Keys seen recently, with the acknowledgement each got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyCache {
    max_keys: usize,
    horizon: f64,
    order: VecDeque<(f64, String)>,
    /// Key → (time recorded, acknowledgement).
    acks: HashMap<String, (f64, IngestAck)>,
}

impl IdempotencyCache {
    /// An empty cache holding at most `max_keys` keys for `horizon` seconds.
    pub fn new(max_keys: usize, horizon: f64) -> Self {
        Self {
            max_keys,
            horizon,
            order: VecDeque::new(),
            acks: HashMap::new(),
        }
    }

    /// This cache's keys under new bounds (applied from the next insert or expiry).
    pub fn with_bounds(mut self, max_keys: usize, horizon: f64) -> Self {
        self.max_keys = max_keys;
        self.horizon = horizon;
        self
    }

    /// The acknowledgement of an earlier request with `key`, if still remembered at `now`.
    pub fn get(&mut self, key: &str, now: f64) -> Option<IngestAck> {
        self.expire(now);
        self.acks.get(key).map(|&(_, ack)| ack)
    }

    /// Whether `key` is remembered at `now` (no expiry is applied).
    pub fn contains(&self, key: &str, now: f64) -> bool {
        self.acks
            .get(key)
            .is_some_and(|(at, _)| now - at <= self.horizon)
    }

    /// Remembers `key`'s acknowledgement.
    pub fn insert(&mut self, key: String, ack: IngestAck, now: f64) {
        if self.max_keys == 0 {
            return;
        }
        while self.order.len() >= self.max_keys {
            self.forget_oldest();
        }
        self.order.push_back((now, key.clone()));
        self.acks.insert(key, (now, ack));
    }

    fn expire(&mut self, now: f64) {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| now - at > self.horizon)
        {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_front() {
            self.acks.remove(&key);
        }
    }
}

/// Whether `key` is acceptable: 1 to [`MAX_KEY_BYTES`] visible ASCII characters.
pub fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_BYTES && key.iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_within_count_and_horizon() {
        let ack = IngestAck {
            accepted: 3,
            dropped: Dropped::default(),
        };
        let mut cache = IdempotencyCache::new(2, 60.0);
        cache.insert("a".into(), ack, 0.0);
        assert_eq!(cache.get("a", 10.0), Some(ack));
        cache.insert("b".into(), ack, 20.0);
        cache.insert("c".into(), ack, 30.0);
        assert_eq!(cache.get("a", 30.0), None, "evicted by count");
        assert_eq!(cache.get("b", 79.0), Some(ack));
        assert_eq!(cache.get("b", 81.0), None, "expired");
        assert!(valid_key(b"0b7c-uuid"));
        assert!(!valid_key(b"") && !valid_key(b"has space") && !valid_key(&[b'x'; 129]));
    }
}
