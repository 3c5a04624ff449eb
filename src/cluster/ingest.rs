//! The `ingest` role's producer: an accepted request becomes one record of the events topic,
//! and the client is answered only once the broker has acknowledged it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::producer::{FutureProducer, FutureRecord};

use super::Envelope;
use super::client::{client_config, partition_of};
use crate::check::report::unix_now;
use crate::config::KafkaSettings;
use crate::engine::model::MonitorModel;
use crate::engine::state::Event;
use crate::export::metrics::ClusterMetrics;

/// How long a write may wait for the broker before the request gets 503.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes events to the events topic.
pub struct EventSink {
    producer: FutureProducer,
    topic: String,
    partitions: i32,
    metrics: ClusterMetrics,
    /// Per split monitor, the shard its next request without an `Idempotency-Key` goes to.
    turns: Mutex<BTreeMap<String, u32>>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("topic", &self.topic)
            .field("partitions", &self.partitions)
            .finish_non_exhaustive()
    }
}

/// Where the broker stored an event.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    /// Partition of the events topic.
    pub partition: i32,
    /// Offset in it.
    pub offset: i64,
}

impl EventSink {
    /// An idempotent producer (`acks=all`): a retried send is written once, in order.
    pub fn new(
        settings: &KafkaSettings,
        partitions: i32,
        metrics: ClusterMetrics,
    ) -> Result<Self, String> {
        let producer = client_config(settings)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set("compression.type", "lz4")
            .set("message.max.bytes", settings.max_record_bytes.to_string())
            .set(
                "message.timeout.ms",
                DELIVERY_TIMEOUT.as_millis().to_string(),
            )
            .create()
            .map_err(|e| format!("cannot create the Kafka producer: {e}"))?;
        Ok(Self {
            producer,
            topic: settings.topics.events.clone(),
            partitions,
            metrics,
            turns: Mutex::new(BTreeMap::new()),
        })
    }

    /// The key (and so the partition) of a rows request to `model`: its name, or for a monitor
    /// split over N `shards`, `name#k`. With an `Idempotency-Key`, k is the key's CRC-32 modulo
    /// N, so a retry reaches the shard whose state remembers the key and is answered from it;
    /// without one, the shards take requests in turn. Labels and clock ticks keep the name.
    pub fn rows_key(&self, model: &MonitorModel, idempotency_key: Option<&str>) -> String {
        let shards = model.spec.shards;
        if shards <= 1 {
            return model.name().to_owned();
        }
        let shard = match idempotency_key {
            Some(key) => crc32fast::hash(key.as_bytes()) % shards,
            None => {
                let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
                let turn = turns.entry(model.name().to_owned()).or_default();
                let shard = *turn % shards;
                *turn = turn.wrapping_add(1);
                shard
            }
        };
        format!("{}#{shard}", model.name())
    }

    /// The record of `event` for monitor `model`, under `key` (its name, or a shard's
    /// [`EventSink::rows_key`]); CPU work: call it off the async workers.
    pub fn encode(model: &MonitorModel, key: &str, event: Event) -> Vec<u8> {
        Envelope {
            monitor: key.to_owned(),
            fingerprint: model.fingerprint.clone(),
            event,
        }
        .encode()
    }

    /// Writes an encoded event of `monitor` (of `kind`, one of
    /// [`EVENT_KINDS`](crate::export::metrics::EVENT_KINDS)) and waits for the broker.
    pub async fn send(&self, monitor: &str, kind: &str, record: Vec<u8>) -> Result<Stored, String> {
        let partition = partition_of(monitor, self.partitions);
        let started = Instant::now();
        let outcome = self
            .producer
            .send(
                FutureRecord::to(&self.topic)
                    .key(monitor)
                    .partition(partition)
                    .payload(&record),
                DELIVERY_TIMEOUT,
            )
            .await;
        self.metrics
            .produce_seconds
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            Ok(delivery) => {
                self.metrics
                    .events_produced
                    .with_label_values(&[kind])
                    .inc();
                Ok(Stored {
                    partition: delivery.partition,
                    offset: delivery.offset,
                })
            }
            Err((e, _)) => {
                self.metrics.produce_errors.inc();
                Err(e.to_string())
            }
        }
    }
}

/// Writes a clock tick for every monitor every `interval`: the engines' windows that close on
/// arrival time close at the tick's place in the log, so a replay closes them at the same rows.
pub async fn run_ticks(
    sink: Arc<EventSink>,
    models: Arc<BTreeMap<String, Arc<MonitorModel>>>,
    interval: Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let time = unix_now();
        for model in models.values() {
            let record = EventSink::encode(model, model.name(), Event::Tick { time });
            if let Err(e) = sink.send(model.name(), "tick", record).await {
                tracing::warn!(monitor = model.name(), error = %e, "Cannot write a clock tick.");
            }
        }
    }
}
