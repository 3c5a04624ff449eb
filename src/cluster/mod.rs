//! Scale-out on Kafka: the `ingest` and `engine` roles (`server.role`).
//!
//! The events topic *is* the log of [`Event`]s that a single process keeps in its write-ahead
//! log. Ingest processes validate and stamp each request exactly as a single process does, and
//! write it, keyed by monitor, to the monitor's partition; engines form one consumer group,
//! each owning the monitors of its partitions, and run the same pure
//! [`MonitorState::apply`](crate::engine::state::MonitorState::apply). An engine checkpoints
//! every monitor it changed (state, results, the last published window) to the state topic,
//! the window summaries it published to the results topic, and the consumed offsets, in one
//! transaction; a new owner restores the checkpoints and resumes from those offsets, so every
//! window is published exactly once whatever crashes in between. A hot monitor can be split
//! over several partitions (`shards`); its shards send their parts of each window to the
//! monitor's partition, where its owner merges them (`engine/shards.rs`, `state/partial.rs`).
//!
//! - [`client`]: client settings shared by both roles, topic creation, the partition of a monitor;
//! - [`ingest`]: the producer behind the HTTP API, and the clock ticks;
//! - [`checkpoint`]: what the state topic holds, and reading it back;
//! - [`engine`]: the consumer-group member (its transactions in `engine/commit.rs`).

pub mod checkpoint;
pub mod client;
pub mod engine;
pub mod ingest;

use serde::{Deserialize, Serialize};

use crate::engine::state::Event;

/// One record of the events topic.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The monitor the event belongs to, or for a split monitor's rows its shard `name#k`
    /// (also the record's key).
    pub monitor: String,
    /// SHA-256 of the reference the ingest process coded the event against: category codes
    /// mean something only against that reference.
    pub fingerprint: String,
    /// The event, as a single process would log it.
    pub event: Event,
}

impl Envelope {
    /// CBOR, like the write-ahead log's frames (keeps NaN and infinities exactly).
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::into_writer(self, &mut bytes).expect("events serialize to memory");
        bytes
    }

    /// Reads a record written by [`Envelope::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        ciborium::from_reader(bytes).map_err(|e| e.to_string())
    }
}
