//! The shards of split monitors (`shards: N`) on an engine's partitions.
//!
//! A shard `name#k` is a bare [`MonitorState`]: no metrics, no evaluation, no results. Its rows
//! are applied with the same pure `apply` as a monitor's; the windows it closes leave as one
//! [`Event::Partial`] record for the monitor's own partition, held until the partition's next
//! transaction, which also holds the shard's checkpoint and the offsets. So a part is written
//! exactly once: when the transaction fails, the parts go with it, the shard is restored from
//! its last checkpoint and the same records make the same parts again.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Owned;
use crate::cluster::Envelope;
use crate::cluster::checkpoint::Checkpoint;
use crate::cluster::client::partition_of;
use crate::engine::model::MonitorModel;
use crate::engine::persist;
use crate::engine::results::Results;
use crate::engine::state::{Event, MonitorState};

/// One shard of a split monitor.
pub(super) struct Shard {
    model: Arc<MonitorModel>,
    /// `k` of `name#k`.
    index: u32,
    pub(super) state: MonitorState,
}

/// What applying an event to a shard did.
pub(super) enum Applied {
    /// The key names no shard of this partition.
    NotAShard,
    /// The event was coded against another reference than the engine's.
    ReferenceMismatch,
    /// Applied (its parts, if any, wait for the next transaction).
    Done,
}

/// Starts the shards of partition `p` of `partitions` from their checkpoints in `saved`, or
/// fresh.
pub(super) fn restore(
    owned: &mut Owned,
    p: i32,
    partitions: i32,
    models: &BTreeMap<String, Arc<MonitorModel>>,
    saved: &mut BTreeMap<String, Checkpoint>,
) {
    for (name, model) in models {
        for index in 0..model.spec.shards.max(1) {
            if model.spec.shards <= 1 {
                break;
            }
            let key = format!("{name}#{index}");
            if partition_of(&key, partitions) != p {
                continue;
            }
            let state = match saved.remove(&key) {
                Some(c) => persist::carry_over(model, c.state, Results::default()).0,
                None => MonitorState::new(model),
            };
            owned.shards.insert(
                key,
                Shard {
                    model: Arc::clone(model),
                    index,
                    state,
                },
            );
        }
    }
}

/// Applies `envelope` to the shard it names, queueing the parts it closed for the monitor's
/// partition.
pub(super) fn apply(owned: &mut Owned, partitions: i32, envelope: Envelope) -> Applied {
    let Some(shard) = owned.shards.get_mut(&envelope.monitor) else {
        return Applied::NotAShard;
    };
    let model = Arc::clone(&shard.model);
    if envelope.fingerprint != model.fingerprint {
        return Applied::ReferenceMismatch;
    }
    let before = shard.state.windows.closed_through();
    let seq = shard.state.applied + 1;
    let out = shard.state.apply(&model, seq, envelope.event);
    if let Some((windows, through)) = shard.state.parts(&model, &out.closed.windows, before) {
        let record = Envelope {
            monitor: model.name().to_owned(),
            fingerprint: model.fingerprint.clone(),
            event: Event::Partial {
                shard: shard.index,
                shards: model.spec.shards,
                windows,
                through,
            },
        };
        owned.parts.push(Part {
            monitor: model.name().to_owned(),
            partition: partition_of(model.name(), partitions),
            record: record.encode(),
        });
    }
    owned.dirty.insert(envelope.monitor);
    Applied::Done
}

/// An [`Event::Partial`] record waiting for its transaction.
pub(super) struct Part {
    /// The split monitor (the record's key).
    pub(super) monitor: String,
    /// Its partition of the events topic.
    pub(super) partition: i32,
    /// The encoded [`Envelope`].
    pub(super) record: Vec<u8>,
}
