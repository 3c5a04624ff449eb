//! What both roles share: client settings, the topics, and which partition holds a monitor.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::config::KafkaSettings;

/// How long a metadata or admin request may take before start-up fails.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The partition of monitor `name` among `partitions`: CRC-32 of the name, as librdkafka's
/// default partitioner, but computed here so ingest and engines agree without relying on a
/// client's partitioner (Java clients default to murmur2).
pub fn partition_of(name: &str, partitions: i32) -> i32 {
    (crc32fast::hash(name.as_bytes()) % partitions.max(1) as u32) as i32
}

/// Client settings for every Kafka client: the brokers, then `kafka.properties`.
pub fn client_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &settings.brokers);
    for (key, value) in &settings.properties {
        config.set(key, value);
    }
    config
}

/// Settings for a consumer: the brokers, fetch sizes that let a record of `max_record_bytes`
/// through (a fetch smaller than one record can stall on brokers that do not return at least
/// one record), then `kafka.properties`.
pub fn consumer_config(settings: &KafkaSettings) -> ClientConfig {
    let record = settings.max_record_bytes;
    let fetch = record.max(52_428_800);
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("fetch.message.max.bytes", record.to_string())
        .set("fetch.max.bytes", fetch.to_string())
        .set("receive.message.max.bytes", (fetch + 1_048_576).to_string());
    for (key, value) in &settings.properties {
        config.set(key, value);
    }
    config
}

/// Creates the three topics when they do not exist (the state topic compacted), then returns
/// the partition count of the events topic, checking the state topic has the same: a monitor's
/// checkpoint lives on the state partition with its events partition's number.
pub async fn ensure_topics(settings: &KafkaSettings) -> Result<i32, String> {
    let names = [
        &settings.topics.events,
        &settings.topics.state,
        &settings.topics.results,
    ];
    let mut missing = Vec::new();
    for name in names {
        if partition_count(settings, name)?.is_none() {
            missing.push(name.as_str());
        }
    }
    if !missing.is_empty() {
        create_topics(settings, &missing).await?;
    }
    let count = |topic: &str| {
        partition_count(settings, topic)?
            .ok_or_else(|| format!("topic {topic} is still missing after creating it"))
    };
    let events = count(&settings.topics.events)?;
    let state = count(&settings.topics.state)?;
    if events != state {
        return Err(format!(
            "topic {} has {events} partitions but {} has {state}; they must have the same count",
            settings.topics.events, settings.topics.state
        ));
    }
    Ok(events)
}

/// Creates `topics` (the state topic compacted); one that appeared meanwhile is fine.
async fn create_topics(settings: &KafkaSettings, topics: &[&str]) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = client_config(settings)
        .create()
        .map_err(|e| format!("cannot create a Kafka admin client: {e}"))?;
    let replication = || TopicReplication::Fixed(settings.replication_factor);
    let max_bytes = settings.max_record_bytes.to_string();
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|&name| {
            let topic = NewTopic::new(name, settings.partitions, replication());
            if name == settings.topics.state {
                topic
                    .set("cleanup.policy", "compact")
                    .set("max.message.bytes", &max_bytes)
            } else {
                topic
            }
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    let created = admin
        .create_topics(&new, &options)
        .await
        .map_err(|e| format!("cannot create the Kafka topics {topics:?}: {e}"))?;
    for outcome in created {
        match outcome {
            Ok(topic) => tracing::info!(topic, "Created Kafka topic."),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("cannot create topic {topic}: {code}")),
        }
    }
    Ok(())
}

/// The number of partitions of `topic`, or `None` when it does not exist.
fn partition_count(settings: &KafkaSettings, topic: &str) -> Result<Option<i32>, String> {
    let consumer: BaseConsumer = client_config(settings)
        .set("allow.auto.create.topics", "false")
        .create()
        .map_err(|e| format!("cannot create a Kafka client: {e}"))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(|e| format!("cannot read the metadata of topic {topic}: {e}"))?;
    Ok(metadata
        .topics()
        .first()
        .filter(|t| t.error().is_none())
        .map(|t| t.partitions().len() as i32)
        .filter(|&n| n > 0))
}
