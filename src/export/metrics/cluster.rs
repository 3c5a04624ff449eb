//! Series of the scale-out roles, registered only by a process running one.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts};

use super::{Metrics, counter, int_gauge};

/// `outcome` label values of `driftscope_kafka_transactions_total`.
pub const TRANSACTION_OUTCOMES: &[&str] = &["committed", "aborted"];

/// `reason` label values of `driftscope_kafka_events_skipped_total`.
pub const SKIP_REASONS: &[&str] = &["undecodable", "unknown_monitor", "reference_mismatch"];

/// `kind` label values of `driftscope_kafka_events_produced_total`.
pub const EVENT_KINDS: &[&str] = &["rows", "labels", "tick"];

/// Counters and gauges of an `ingest` or `engine` process.
#[derive(Debug, Clone)]
pub struct ClusterMetrics {
    /// Partitions of the events topic this engine owns.
    pub partitions_owned: IntGauge,
    /// Monitors this engine owns.
    pub monitors_owned: IntGauge,
    /// Events applied from the events topic.
    pub events_consumed: IntCounter,
    /// Events not applied, by reason.
    pub events_skipped: IntCounterVec,
    /// Checkpoint transactions, by outcome.
    pub transactions: IntCounterVec,
    /// Time to restore a partition's monitors from the state topic.
    pub restore_seconds: Histogram,
    /// Events written to the events topic (ingest), by kind.
    pub events_produced: IntCounterVec,
    /// Writes the broker did not acknowledge (the client got 503).
    pub produce_errors: IntCounter,
    /// Time from handing an event to the producer to the broker's acknowledgement.
    pub produce_seconds: Histogram,
}

impl Metrics {
    /// Registers the scale-out series for a process in role `role` (`ingest` or `engine`).
    pub fn register_cluster(&self, role: &str) -> ClusterMetrics {
        let r = &self.registry;
        let info = int_gauge(
            r,
            "driftscope_role_info",
            "Always 1; the label says what this process does (single, ingest or engine).",
            &["role"],
        );
        info.with_label_values(&[role]).set(1);
        let plain = |name: &str, help: &str| {
            let metric = IntCounter::with_opts(Opts::new(name, help)).expect("valid metric");
            r.register(Box::new(metric.clone()))
                .expect("metric names are unique");
            metric
        };
        let level = |name: &str, help: &str| {
            let metric = IntGauge::with_opts(Opts::new(name, help)).expect("valid metric");
            r.register(Box::new(metric.clone()))
                .expect("metric names are unique");
            metric
        };
        let seconds = |name: &str, help: &str| {
            let buckets = prometheus::exponential_buckets(0.001, 2.0, 16).expect("valid buckets");
            let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric");
            r.register(Box::new(metric.clone()))
                .expect("metric names are unique");
            metric
        };
        let metrics = ClusterMetrics {
            partitions_owned: level(
                "driftscope_kafka_partitions_owned",
                "Partitions of the events topic this engine owns.",
            ),
            monitors_owned: level(
                "driftscope_kafka_monitors_owned",
                "Monitors this engine owns (and exports the series of).",
            ),
            events_consumed: plain(
                "driftscope_kafka_events_consumed_total",
                "Events applied from the events topic.",
            ),
            events_skipped: counter(
                r,
                "driftscope_kafka_events_skipped_total",
                "Events of the events topic not applied, by reason.",
                &["reason"],
            ),
            transactions: counter(
                r,
                "driftscope_kafka_transactions_total",
                "Checkpoint transactions (state, results and offsets), by outcome.",
                &["outcome"],
            ),
            restore_seconds: seconds(
                "driftscope_kafka_restore_seconds",
                "Time to restore one partition's monitors from the state topic.",
            ),
            events_produced: counter(
                r,
                "driftscope_kafka_events_produced_total",
                "Events written to the events topic, by kind.",
                &["kind"],
            ),
            produce_errors: plain(
                "driftscope_kafka_produce_errors_total",
                "Events the broker did not acknowledge (the request got 503).",
            ),
            produce_seconds: seconds(
                "driftscope_kafka_produce_seconds",
                "Time from handing an event to the producer to the broker's acknowledgement.",
            ),
        };
        for outcome in TRANSACTION_OUTCOMES {
            metrics.transactions.with_label_values(&[outcome]);
        }
        for reason in SKIP_REASONS {
            metrics.events_skipped.with_label_values(&[reason]);
        }
        for kind in EVENT_KINDS {
            metrics.events_produced.with_label_values(&[kind]);
        }
        metrics
    }
}
