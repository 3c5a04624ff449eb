//! The `engine` role: one member of the engines' consumer group.
//!
//! All Kafka work runs on one thread: `poll` delivers records and, inside it, the group's
//! rebalance callbacks, so the engine's bookkeeping needs no locking against itself.
//! - **Assign**: for each new partition, a transactional producer whose id names the partition
//!   is initialised first — that fences a previous owner and aborts its open transaction —
//!   then the partition's checkpoints are read back and its monitors started.
//! - **Records**: decoded and applied to their monitor (the same `apply` as a single process),
//!   or to a split monitor's shard (`engine/shards.rs`), whose window parts join the next
//!   transaction.
//! - **Every `commit_interval`**, per partition: the changed monitors' checkpoints, the window
//!   summaries published since the last commit and the next offset go out in one transaction.
//!   A failed transaction is aborted and the partition rewound to its last committed checkpoint.
//! - **Revoke** (and shutdown): a last commit, then the partition's monitors and series go.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use super::Envelope;

mod commit;
mod shards;
use super::checkpoint::{self, PublishedSeqs};
use super::client::{REQUEST_TIMEOUT, client_config, partition_of};
use crate::config::KafkaSettings;
use crate::engine::model::MonitorModel;
use crate::engine::monitor::Monitor;
use crate::engine::persist;
use crate::engine::results::Results;
use crate::engine::state::MonitorState;
use crate::export::metrics::{ClusterMetrics, Metrics};
use crate::service::Service;

/// What an engine needs to run.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    /// `kafka:`.
    pub settings: KafkaSettings,
    /// Partitions of the events and state topics.
    pub partitions: i32,
    /// Every configured monitor's model.
    pub models: Arc<BTreeMap<String, Arc<MonitorModel>>>,
    /// The scale-out series.
    pub cluster_metrics: ClusterMetrics,
}

/// Runs the engine until `stop` is set: then commits, leaves the group and returns.
pub fn run(service: Arc<Service>, setup: EngineSetup, stop: Arc<AtomicBool>) -> Result<(), String> {
    let settings = setup.settings.clone();
    let context = Ctx {
        core: Mutex::new(Core {
            owned: BTreeMap::new(),
            commit_soon: false,
            service,
            setup,
        }),
    };
    let session = settings.session_timeout.as_millis();
    let consumer: BaseConsumer<Ctx> = client_config(&settings)
        .set("session.timeout.ms", session.to_string())
        .set("heartbeat.interval.ms", (session / 5).max(100).to_string())
        .set("group.id", &settings.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .create_with_context(context)
        .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
    consumer
        .subscribe(&[&settings.topics.events])
        .map_err(|e| format!("cannot subscribe to {}: {e}", settings.topics.events))?;
    let mut last_commit = Instant::now();
    while !stop.load(Ordering::Acquire) {
        let message = consumer.poll(Duration::from_millis(100));
        let mut core = consumer.context().lock();
        match message {
            None => {}
            Some(Ok(message)) => core.apply(
                message.partition(),
                message.offset(),
                message.payload().unwrap_or_default(),
            ),
            Some(Err(e)) => tracing::warn!(error = %e, "Kafka consumer error."),
        }
        if core.commit_soon || last_commit.elapsed() >= settings.commit_interval {
            core.commit_all(&consumer);
            last_commit = Instant::now();
        }
    }
    {
        let mut core = consumer.context().lock();
        core.commit_all(&consumer);
    }
    // Leaving the group revokes every partition (a last, empty commit) and hands them over now
    // rather than after the session timeout.
    consumer.unsubscribe();
    let mut core = consumer.context().lock();
    let partitions: Vec<i32> = core.owned.keys().copied().collect();
    for p in partitions {
        core.release(p);
    }
    Ok(())
}

/// The consumer's context: the engine's bookkeeping, reached from the rebalance callbacks.
struct Ctx {
    core: Mutex<Core>,
}

impl Ctx {
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ClientContext for Ctx {}

impl ConsumerContext for Ctx {
    /// Replaces the default rebalance so that assigned partitions start at the offsets their
    /// checkpoints were committed with, not at the group's committed offsets.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        list: &mut TopicPartitionList,
    ) {
        let mut core = self.lock();
        if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            let assigned = partitions(list);
            // Fence the previous owners first, so the checkpoints read next are final.
            for &p in &assigned {
                core.fence(p);
            }
            let offsets = core.restore(&assigned);
            for (p, offset) in offsets {
                if let Err(e) =
                    list.set_partition_offset(&core.setup.settings.topics.events, p, offset)
                {
                    tracing::error!(partition = p, error = %e, "Cannot set a start offset.");
                }
            }
            if let Err(e) = consumer.assign(list) {
                tracing::error!(error = %e, "Cannot take the assigned partitions; exiting.");
                std::process::exit(1);
            }
            core.publish_ownership();
        } else {
            if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
                core.commit_all(consumer);
            } else {
                tracing::error!(error = ?err, "Kafka rebalance failed; dropping every partition.");
            }
            for p in partitions(list) {
                core.release(p);
            }
            if let Err(e) = consumer.unassign() {
                tracing::error!(error = %e, "Cannot give the revoked partitions up.");
            }
        }
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}

/// A partition this engine owns.
struct Owned {
    /// Transactional id `<group>-<partition>`: the next owner's initialisation fences this one.
    producer: ThreadedProducer<DefaultProducerContext>,
    /// The partition's monitors (every configured monitor whose name maps here).
    monitors: BTreeMap<String, Arc<Monitor>>,
    /// Per monitor, what the results topic holds.
    published: BTreeMap<String, PublishedSeqs>,
    /// Shards of split monitors whose keys (`name#k`) map here.
    shards: BTreeMap<String, shards::Shard>,
    /// Parts of windows the shards closed since the last commit, for their monitors' partitions.
    parts: Vec<shards::Part>,
    /// Monitors and shards changed since the last commit.
    dirty: BTreeSet<String>,
    /// Per monitor, windows closed since the last commit.
    closed: BTreeMap<String, usize>,
    /// The offset after the last record applied since the last commit.
    next_offset: Option<i64>,
    /// Restored and running (false between fencing and restoring, or after a fatal error).
    live: bool,
}

struct Core {
    owned: BTreeMap<i32, Owned>,
    /// A monitor closed half its `history` of windows since the last commit: commit now.
    commit_soon: bool,
    service: Arc<Service>,
    setup: EngineSetup,
}

impl Core {
    fn metrics(&self) -> &Arc<Metrics> {
        &self.service.metrics
    }

    /// Creates partition `p`'s transactional producer, fencing any previous owner.
    fn fence(&mut self, p: i32) {
        let settings = &self.setup.settings;
        let producer: Result<ThreadedProducer<DefaultProducerContext>, KafkaError> =
            client_config(settings)
                .set("transactional.id", format!("{}-{p}", settings.group))
                .set("message.max.bytes", settings.max_record_bytes.to_string())
                .set("transaction.timeout.ms", "60000")
                .set("linger.ms", "1")
                .create();
        let producer = match producer.and_then(|producer| {
            producer.init_transactions(REQUEST_TIMEOUT)?;
            Ok(producer)
        }) {
            Ok(producer) => producer,
            Err(e) => {
                // Without a producer the partition cannot be checkpointed: stop, so the group
                // gives it to a healthy engine.
                tracing::error!(partition = p, error = %e, "Cannot take over a partition; exiting.");
                std::process::exit(1);
            }
        };
        self.owned.insert(
            p,
            Owned {
                producer,
                monitors: BTreeMap::new(),
                published: BTreeMap::new(),
                shards: BTreeMap::new(),
                parts: Vec::new(),
                dirty: BTreeSet::new(),
                closed: BTreeMap::new(),
                next_offset: None,
                live: false,
            },
        );
    }

    /// Starts the monitors of `partitions` from their checkpoints (or fresh); returns where
    /// each partition resumes.
    fn restore(&mut self, partitions: &[i32]) -> BTreeMap<i32, Offset> {
        let started = Instant::now();
        let mut checkpoints = match checkpoint::read_partitions(&self.setup.settings, partitions) {
            Ok(checkpoints) => checkpoints,
            Err(e) => {
                tracing::error!(?partitions, error = %e, "Cannot restore partitions; exiting.");
                std::process::exit(1);
            }
        };
        let metrics = Arc::clone(self.metrics());
        let mut offsets = BTreeMap::new();
        for &p in partitions {
            let Some(owned) = self.owned.get_mut(&p) else {
                continue;
            };
            let saved = checkpoints.remove(&p).unwrap_or_default();
            offsets.insert(
                p,
                saved.next_offset.map_or(Offset::Beginning, Offset::Offset),
            );
            let mut saved = saved.checkpoints;
            for (name, model) in self.setup.models.iter() {
                if partition_of(name, self.setup.partitions) != p {
                    continue;
                }
                let (state, results, published) = match saved.remove(name) {
                    Some(c) => {
                        let (state, results, restarted) =
                            persist::carry_over(model, c.state, c.results);
                        if !restarted.is_empty() {
                            tracing::warn!(monitor = %name, ?restarted, "The config or reference changed since the checkpoint.");
                        }
                        (state, results, c.published)
                    }
                    None => (
                        MonitorState::new(model),
                        Results::default(),
                        PublishedSeqs::default(),
                    ),
                };
                let monitor = Monitor::start(
                    Arc::clone(model),
                    state,
                    results,
                    Arc::clone(&metrics),
                    None,
                );
                owned.monitors.insert(name.clone(), monitor);
                owned.published.insert(name.clone(), published);
            }
            shards::restore(
                owned,
                p,
                self.setup.partitions,
                &self.setup.models,
                &mut saved,
            );
            owned.live = true;
        }
        let seconds = started.elapsed().as_secs_f64();
        self.setup.cluster_metrics.restore_seconds.observe(seconds);
        tracing::info!(?partitions, ?offsets, seconds, "Partitions restored.");
        offsets
    }

    /// Stops partition `p`'s monitors and removes their series (the new owner exports them).
    fn release(&mut self, p: i32) {
        if let Some(owned) = self.owned.remove(&p) {
            for name in owned.monitors.keys() {
                self.service.metrics.forget(name, &|_| false);
            }
        }
        self.publish_ownership();
    }

    /// Tells the service (HTTP reads, `/metrics`) which monitors this engine runs.
    fn publish_ownership(&self) {
        let monitors: Vec<Arc<Monitor>> = self
            .owned
            .values()
            .flat_map(|o| o.monitors.values().cloned())
            .collect();
        let cluster = &self.setup.cluster_metrics;
        cluster.partitions_owned.set(self.owned.len() as i64);
        cluster.monitors_owned.set(monitors.len() as i64);
        self.service.set_monitors(monitors);
    }

    /// Applies one record of partition `p`.
    fn apply(&mut self, p: i32, offset: i64, payload: &[u8]) {
        let cluster = self.setup.cluster_metrics.clone();
        let Some(owned) = self.owned.get_mut(&p).filter(|o| o.live) else {
            return;
        };
        owned.next_offset = Some(offset + 1);
        let skip = |reason: &str| cluster.events_skipped.with_label_values(&[reason]).inc();
        let envelope = match Envelope::decode(payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(partition = p, offset, error = %e, "Undecodable event skipped.");
                return skip("undecodable");
            }
        };
        let Some(monitor) = owned.monitors.get(&envelope.monitor) else {
            return match shards::apply(owned, self.setup.partitions, envelope) {
                shards::Applied::NotAShard => skip("unknown_monitor"),
                shards::Applied::ReferenceMismatch => skip("reference_mismatch"),
                shards::Applied::Done => cluster.events_consumed.inc(),
            };
        };
        if envelope.fingerprint != monitor.model.fingerprint {
            return skip("reference_mismatch");
        }
        let closed = match monitor.apply_from_log(envelope.event) {
            Ok(closed) => closed,
            Err(e) => {
                tracing::error!(monitor = %envelope.monitor, error = ?e, "Event not applied.");
                return;
            }
        };
        cluster.events_consumed.inc();
        // Summaries reach the results topic from the monitor's `history`: commit before more
        // windows close than it holds.
        let unpublished = owned.closed.entry(envelope.monitor.clone()).or_default();
        *unpublished += closed;
        if *unpublished >= (monitor.model.spec.history / 2).max(1) {
            self.commit_soon = true;
        }
        owned.dirty.insert(envelope.monitor);
    }
}
