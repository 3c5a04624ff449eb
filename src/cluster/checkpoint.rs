//! What the state topic holds: each monitor's latest checkpoint (and each split monitor's
//! shard's, under `name#k`), and reading a partition back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::ConsumerContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::client::consumer_config;
use crate::config::KafkaSettings;
use crate::engine::results::Results;
use crate::engine::state::MonitorState;

/// Format of [`Checkpoint`] records; a record of another version stops the restore. Shard
/// checkpoints and the state's windows being merged (read as empty when absent) did not change
/// it: an older engine reads them, and ignores shards, whose keys name no monitor.
pub const FORMAT: u32 = 1;

/// zstd level of checkpoint records: states are mostly numbers in windows, which compress well,
/// and level 1 keeps a checkpoint cheap next to the transaction's round trips.
const COMPRESSION_LEVEL: i32 = 1;

/// How long reading one state partition back may take.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60);

/// The last window sequence numbers written to the results topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedSeqs {
    /// Feature windows.
    pub window: u64,
    /// Labelled windows.
    pub labelled: u64,
}

/// A monitor's checkpoint: everything a new owner needs to carry on where the last committed
/// transaction left it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`FORMAT`].
    pub format: u32,
    /// The monitor, or a split monitor's shard `name#k` (also the record key; a shard's
    /// checkpoint has empty results: shards publish nothing themselves).
    pub monitor: String,
    /// The ingest state.
    pub state: MonitorState,
    /// The published results, consistent with `state`.
    pub results: Results,
    /// What the results topic already holds.
    pub published: PublishedSeqs,
}

impl Checkpoint {
    /// CBOR, compressed with zstd.
    pub fn encode(&self) -> Vec<u8> {
        let mut cbor = Vec::new();
        ciborium::into_writer(self, &mut cbor).expect("checkpoints serialize to memory");
        zstd::encode_all(&cbor[..], COMPRESSION_LEVEL).expect("compressing to memory")
    }

    /// Reads a record written by [`Checkpoint::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let cbor = zstd::decode_all(bytes).map_err(|e| e.to_string())?;
        let checkpoint: Self = ciborium::from_reader(&cbor[..]).map_err(|e| e.to_string())?;
        if checkpoint.format != FORMAT {
            return Err(format!(
                "checkpoint of monitor {} has format {}, this driftscope reads {FORMAT}",
                checkpoint.monitor, checkpoint.format
            ));
        }
        Ok(checkpoint)
    }
}

/// Key of the record every checkpoint transaction writes to its state partition, holding the
/// events partition's next offset. Monitor names cannot contain `#`.
pub const OFFSET_KEY: &str = "#offset";

/// What a state partition says: where to resume, and each monitor's latest checkpoint.
#[derive(Debug, Default)]
pub struct Saved {
    /// The events partition's next offset as of the last committed transaction (`None`: no
    /// transaction yet, start at the beginning).
    pub next_offset: Option<i64>,
    /// Per monitor, its latest checkpoint.
    pub checkpoints: BTreeMap<String, Checkpoint>,
}

/// The value of an [`OFFSET_KEY`] record.
pub fn encode_offset(next_offset: i64) -> Vec<u8> {
    next_offset.to_be_bytes().to_vec()
}

/// Reads `partitions` of the state topic to their ends (committed records only). Resume
/// offsets come from here, not from the group's committed offsets, so they are by construction
/// those of the checkpoints read. Call it only after fencing the partitions' previous owners,
/// so no transaction is left open on them.
pub fn read_partitions(
    settings: &KafkaSettings,
    partitions: &[i32],
) -> Result<BTreeMap<i32, Saved>, String> {
    let reader: BaseConsumer<Quiet> = consumer_config(settings)
        .set("group.id", format!("{}-restore", settings.group))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create_with_context(Quiet)
        .map_err(|e| format!("cannot create the state reader: {e}"))?;
    let topic = &settings.topics.state;
    let mut assignment = TopicPartitionList::new();
    for &p in partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    reader.assign(&assignment).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + RESTORE_TIMEOUT;
    let mut latest: BTreeMap<i32, Saved> =
        partitions.iter().map(|&p| (p, Saved::default())).collect();
    let mut open: Vec<i32> = partitions.to_vec();
    while !open.is_empty() {
        if Instant::now() > deadline {
            return Err(format!(
                "reading {topic} partitions {open:?} took longer than {}s",
                RESTORE_TIMEOUT.as_secs()
            ));
        }
        match reader.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => open.retain(|&o| o != p),
            Some(Err(e)) if is_transient(&e) => {}
            Some(Err(e)) => return Err(format!("cannot read {topic}: {e}")),
            Some(Ok(message)) => {
                let (Some(key), Some(payload)) = (message.key(), message.payload()) else {
                    continue;
                };
                let saved = latest.entry(message.partition()).or_default();
                if key == OFFSET_KEY.as_bytes() {
                    let bytes: [u8; 8] = payload.try_into().map_err(|_| {
                        format!(
                            "{topic}[{}]: an offset record of {} bytes",
                            message.partition(),
                            payload.len()
                        )
                    })?;
                    saved.next_offset = Some(i64::from_be_bytes(bytes));
                    continue;
                }
                let checkpoint = Checkpoint::decode(payload).map_err(|e| {
                    format!(
                        "{topic}[{}] offset {}: cannot read the checkpoint: {e}",
                        message.partition(),
                        message.offset()
                    )
                })?;
                saved
                    .checkpoints
                    .insert(String::from_utf8_lossy(key).into_owned(), checkpoint);
            }
        }
    }
    Ok(latest)
}

/// The state reader's context: reaching a partition's end is how it knows it is done, not an
/// error to log.
struct Quiet;

impl ClientContext for Quiet {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::warn!(error = %error, reason, "State reader error.");
        }
    }
}

impl ConsumerContext for Quiet {}

/// Errors a client recovers from by itself (a broker restarting, a leader moving).
fn is_transient(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::RequestTimedOut
        )
    )
}
