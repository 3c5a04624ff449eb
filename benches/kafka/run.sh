#!/usr/bin/env bash
# Scale-out on Kafka: engine throughput with 1, 2 and 3 engines, and failover time.
#
#   bash benches/kafka/run.sh [--monitors 12] [--batches 40] [--rows 1000] [--clients 2]
#
# Builds the release binary and the mock broker (examples/kafka_broker.rs: librdkafka's mock
# cluster, 3 brokers on 127.0.0.1), writes 12 monitors of 20 features (benches/http's generator;
# a 100 000-row count window each), fills the events topic through one ingest process, then
# times engines draining it (benches/kafka/scale.py). Everything shares the machine's cores, so
# more engines than cores cannot go faster. Every process is stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
# With `--example soak` the build has the same features as `cargo bench` (one dependency build).
cargo build --quiet --release --bin driftscope --example soak --example kafka_broker
python3 benches/kafka/scale.py --bin "$target/release/driftscope" \
    --broker "$target/release/examples/kafka_broker" "$@"
