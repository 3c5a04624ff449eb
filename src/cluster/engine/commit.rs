//! Checkpoint transactions: what an engine commits per partition, and rewinding a partition
//! when a transaction fails.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;

use super::{Core, Ctx};
use crate::cluster::checkpoint::{self, Checkpoint, OFFSET_KEY, PublishedSeqs, encode_offset};
use crate::cluster::client::REQUEST_TIMEOUT;
use crate::engine::results::Results;

impl Core {
    /// Commits every partition with applied records.
    pub(super) fn commit_all(&mut self, consumer: &BaseConsumer<Ctx>) {
        self.commit_soon = false;
        let pending: Vec<i32> = self
            .owned
            .iter()
            .filter(|(_, o)| o.live && o.next_offset.is_some())
            .map(|(p, _)| *p)
            .collect();
        for p in pending {
            match self.commit(consumer, p) {
                Ok(()) => self.count_transaction("committed"),
                Err(failure) => {
                    self.count_transaction("aborted");
                    tracing::warn!(partition = p, error = %failure.message, "Checkpoint transaction failed; rewinding the partition.");
                    self.rewind(consumer, p, failure.fatal);
                }
            }
        }
    }

    fn count_transaction(&self, outcome: &str) {
        self.setup
            .cluster_metrics
            .transactions
            .with_label_values(&[outcome])
            .inc();
    }

    /// One transaction: checkpoints of the changed monitors, their new window summaries, and
    /// the partition's next offset for the group.
    fn commit(&mut self, consumer: &BaseConsumer<Ctx>, p: i32) -> Result<(), Failure> {
        let settings = &self.setup.settings;
        let owned = self
            .owned
            .get_mut(&p)
            .expect("committing an owned partition");
        let next_offset = owned.next_offset.expect("a partition with applied records");
        let mut records: Vec<Outgoing> = Vec::new();
        for name in &owned.dirty {
            if let Some(shard) = owned.shards.get(name) {
                // A shard's checkpoint: its state alone (it has no results of its own).
                let checkpoint = Checkpoint {
                    format: checkpoint::FORMAT,
                    monitor: name.clone(),
                    state: shard.state.clone(),
                    results: Results::default(),
                    published: PublishedSeqs::default(),
                };
                records.push(Outgoing {
                    monitor: name.clone(),
                    checkpoint: checkpoint.encode(),
                    summaries: Vec::new(),
                    published: PublishedSeqs::default(),
                });
                continue;
            }
            let monitor = &owned.monitors[name];
            let (state, results) = monitor.checkpoint().map_err(|e| Failure {
                message: e.to_string(),
                fatal: false,
            })?;
            let before = owned.published.get(name).copied().unwrap_or_default();
            let (summaries, published) = new_summaries(name, &results, before);
            let checkpoint = Checkpoint {
                format: checkpoint::FORMAT,
                monitor: name.clone(),
                state,
                results,
                published,
            };
            records.push(Outgoing {
                monitor: name.clone(),
                checkpoint: checkpoint.encode(),
                summaries,
                published,
            });
        }
        let producer = &owned.producer;
        producer.begin_transaction()?;
        for Outgoing {
            monitor: name,
            checkpoint: state,
            summaries,
            ..
        } in &records
        {
            for summary in summaries {
                send(
                    producer,
                    BaseRecord::to(&settings.topics.results)
                        .key(name)
                        .payload(summary),
                )?;
            }
            send(
                producer,
                BaseRecord::to(&settings.topics.state)
                    .key(name)
                    .partition(p)
                    .payload(state),
            )?;
        }
        // The shards' parts of windows go to their monitors' partitions of the events topic
        // in this transaction, so they are written once with the shard states that made them.
        for part in &owned.parts {
            send(
                producer,
                BaseRecord::to(&settings.topics.events)
                    .key(&part.monitor)
                    .partition(part.partition)
                    .payload(&part.record),
            )?;
        }
        let (offset_key, offset_value) = (OFFSET_KEY.to_owned(), encode_offset(next_offset));
        send(
            producer,
            BaseRecord::to(&settings.topics.state)
                .key(&offset_key)
                .partition(p)
                .payload(&offset_value),
        )?;
        // Also committed for the group, where lag monitoring reads it; the engines themselves
        // resume from the offset record above.
        let mut offsets = TopicPartitionList::new();
        offsets.add_partition_offset(&settings.topics.events, p, Offset::Offset(next_offset))?;
        let group = consumer.group_metadata().ok_or(Failure {
            message: "the consumer has no group metadata".into(),
            fatal: false,
        })?;
        producer.send_offsets_to_transaction(&offsets, &group, REQUEST_TIMEOUT)?;
        producer.commit_transaction(REQUEST_TIMEOUT)?;
        for record in records {
            owned.published.insert(record.monitor, record.published);
        }
        owned.dirty.clear();
        owned.closed.clear();
        owned.parts.clear();
        owned.next_offset = None;
        Ok(())
    }

    /// After a failed transaction: abort it, restart the partition's monitors from the last
    /// committed checkpoints and read its records again from the committed offset. A fenced
    /// producer means another engine owns the partition now: drop it and wait for the group.
    fn rewind(&mut self, consumer: &BaseConsumer<Ctx>, p: i32, fatal: bool) {
        if let Some(owned) = self.owned.get(&p)
            && !fatal
            && let Err(e) = owned.producer.abort_transaction(REQUEST_TIMEOUT)
        {
            tracing::warn!(partition = p, error = %e, "Abort failed.");
        }
        let Some(owned) = self.owned.get_mut(&p) else {
            return;
        };
        for name in owned.monitors.keys() {
            self.service.metrics.forget(name, &|_| false);
        }
        owned.monitors.clear();
        owned.published.clear();
        owned.shards.clear();
        owned.parts.clear();
        owned.dirty.clear();
        owned.closed.clear();
        owned.next_offset = None;
        owned.live = false;
        if fatal {
            self.release(p);
            return;
        }
        let offset = self.restore(&[p]).remove(&p).unwrap_or(Offset::Beginning);
        self.publish_ownership();
        let topic = &self.setup.settings.topics.events;
        if let Err(e) = consumer.seek(topic, p, offset, REQUEST_TIMEOUT) {
            tracing::error!(partition = p, error = %e, "Cannot rewind a partition; exiting.");
            std::process::exit(1);
        }
    }
}

/// What one transaction writes for one monitor.
struct Outgoing {
    monitor: String,
    /// The encoded [`Checkpoint`].
    checkpoint: Vec<u8>,
    /// Results-topic records of the windows published since the last commit.
    summaries: Vec<Vec<u8>>,
    /// What the results topic holds after the transaction.
    published: PublishedSeqs,
}

/// Why a checkpoint transaction failed.
#[derive(Debug)]
struct Failure {
    message: String,
    /// The producer was fenced (another engine owns the partition) or is broken.
    fatal: bool,
}

impl From<KafkaError> for Failure {
    fn from(e: KafkaError) -> Self {
        Self {
            fatal: matches!(&e, KafkaError::Transaction(t) if t.is_fatal()),
            message: e.to_string(),
        }
    }
}

/// Queues one record of the open transaction, waiting while the producer's queue is full.
fn send(
    producer: &ThreadedProducer<DefaultProducerContext>,
    record: BaseRecord<'_, String, Vec<u8>>,
) -> Result<(), KafkaError> {
    let mut record = record;
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((
                KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                back,
            )) => {
                record = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// The window summaries of `results` newer than `before`, as results-topic records, and the
/// sequence numbers they bring the monitor to.
fn new_summaries(
    name: &str,
    results: &Results,
    before: PublishedSeqs,
) -> (Vec<Vec<u8>>, PublishedSeqs) {
    let mut records = Vec::new();
    let mut after = before;
    for summary in results.history.iter().filter(|s| s.seq > before.window) {
        records.push(
            serde_json::to_vec(&json!({"monitor": name, "kind": "window", "summary": summary}))
                .expect("summaries serialize"),
        );
        after.window = summary.seq;
    }
    for summary in results
        .labelled_history
        .iter()
        .filter(|s| s.seq > before.labelled)
    {
        records.push(
            serde_json::to_vec(&json!({"monitor": name, "kind": "labelled", "summary": summary}))
                .expect("summaries serialize"),
        );
        after.labelled = summary.seq;
    }
    (records, after)
}
