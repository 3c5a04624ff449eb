//! `server.role` and `kafka:`: the scale-out roles and how they reach the broker.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::Problem;
use super::duration::de_duration;

/// What this process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One process: HTTP API, windows, evaluation and metrics (the default).
    #[default]
    Single,
    /// HTTP API only: validates each batch and writes it to the events topic, answering once
    /// the broker has it. Exports no per-monitor series.
    Ingest,
    /// A member of the engines' consumer group: owns the monitors of its partitions, evaluates
    /// their windows and exports their series. Takes no rows over HTTP.
    Engine,
}

impl Role {
    /// Lower-case name, as in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Single => "single",
            Role::Ingest => "ingest",
            Role::Engine => "engine",
        }
    }
}

/// `kafka:`: the broker, topics and consumer group of the `ingest` and `engine` roles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSettings {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// The engines' consumer group; also the prefix of their transactional ids.
    pub group: String,
    /// Topic names.
    pub topics: Topics,
    /// Partitions of the events and state topics when driftscope creates them. A monitor lives
    /// on one partition, so this bounds how many engines share the work.
    pub partitions: i32,
    /// Replication factor when driftscope creates the topics.
    pub replication_factor: i32,
    /// How often an engine checkpoints: state, results and consumed offsets in one transaction.
    /// Shorter means less to replay after a failover and more, smaller transactions.
    #[serde(deserialize_with = "de_duration")]
    pub commit_interval: Duration,
    /// How long the group waits for a silent engine before moving its partitions: the bulk of
    /// the failover time after a crash. Heartbeats go every fifth of it.
    #[serde(deserialize_with = "de_duration")]
    pub session_timeout: Duration,
    /// How often the ingest role writes a clock tick per monitor (closes arrival-time windows
    /// and expires waiting predictions on the engines, at the same place in every replay).
    #[serde(deserialize_with = "de_duration")]
    pub tick_interval: Duration,
    /// Largest record in bytes (a batch, or a monitor's compressed checkpoint); also the state
    /// topic's `max.message.bytes` when driftscope creates it.
    pub max_record_bytes: usize,
    /// Further librdkafka properties for every client (e.g. `security.protocol`, `sasl.*`).
    pub properties: BTreeMap<String, String>,
}

/// `kafka.topics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Topics {
    /// Accepted batches, labels and clock ticks, keyed by monitor.
    pub events: String,
    /// Compacted: each monitor's latest checkpoint, on its events partition's number.
    pub state: String,
    /// Every published window's summary, keyed by monitor.
    pub results: String,
}

impl Default for Topics {
    fn default() -> Self {
        Self {
            events: "driftscope.events".into(),
            state: "driftscope.state".into(),
            results: "driftscope.results".into(),
        }
    }
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            group: "driftscope-engine".into(),
            topics: Topics::default(),
            partitions: 12,
            replication_factor: 3,
            commit_interval: Duration::from_secs(1),
            session_timeout: Duration::from_secs(10),
            tick_interval: Duration::from_secs(1),
            max_record_bytes: 32 * 1024 * 1024,
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaSettings {
    /// Problems with these settings for `role` (nothing is checked for `single`).
    pub(super) fn validate(&self, role: Role, problems: &mut Vec<Problem>) {
        if role == Role::Single {
            return;
        }
        if self.brokers.trim().is_empty() {
            problems.push(Problem::new(
                "kafka.brokers",
                format!(
                    "server.role {} needs the broker addresses, e.g. `brokers: kafka:9092`",
                    role.as_str()
                ),
            ));
        }
        if self.group.trim().is_empty() {
            problems.push(Problem::new("kafka.group", "must not be empty"));
        }
        let topics = [
            ("events", &self.topics.events),
            ("state", &self.topics.state),
            ("results", &self.topics.results),
        ];
        for (key, name) in topics {
            if name.is_empty()
                || name.len() > 249
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                problems.push(Problem::new(
                    format!("kafka.topics.{key}"),
                    "a topic name is 1-249 characters of [A-Za-z0-9._-]",
                ));
            }
        }
        if topics[0].1 == topics[1].1 || topics[0].1 == topics[2].1 || topics[1].1 == topics[2].1 {
            problems.push(Problem::new(
                "kafka.topics",
                "events, state and results must be three different topics",
            ));
        }
        for (key, value) in [
            ("partitions", self.partitions),
            ("replication_factor", self.replication_factor),
        ] {
            if value < 1 {
                problems.push(Problem::new(format!("kafka.{key}"), "must be at least 1"));
            }
        }
        if self.session_timeout < Duration::from_secs(1) {
            problems.push(Problem::new(
                "kafka.session_timeout",
                "must be at least 1s (Kafka brokers also refuse sessions shorter than their group.min.session.timeout.ms, 6s by default)",
            ));
        }
        if self.max_record_bytes < 1024 * 1024 {
            problems.push(Problem::new(
                "kafka.max_record_bytes",
                "must be at least 1048576 (1 MiB)",
            ));
        }
    }
}
