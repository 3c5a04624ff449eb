//! A Kafka-protocol broker for driftscope's scale-out tests and benchmarks: librdkafka's mock
//! cluster (brokers on 127.0.0.1, consumer groups, idempotent and transactional producers),
//! hosted in its own process so engines and ingest processes connect to it over loopback and
//! can be killed without taking the broker with them.
//!
//!   cargo run --example kafka_broker -- [--brokers 3] [--partitions 6] [--topics a,b,c]
//!
//! Prints the bootstrap servers on the first line of stdout, then serves until killed. The
//! topics are created up front with `--partitions` partitions and replication factor
//! `min(3, brokers)`: the mock cluster cannot create topics with configs, so the state topic is
//! not compacted here (restores read every checkpoint and keep the latest per monitor, which is
//! what compaction preserves).

use std::io::Write;

use rdkafka::mocking::MockCluster;

fn main() {
    let mut brokers = 3;
    let mut partitions = 6;
    let mut topics = "driftscope.events,driftscope.state,driftscope.results".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&flag));
        match flag.as_str() {
            "--brokers" => brokers = value.parse().unwrap_or_else(|_| usage(&flag)),
            "--partitions" => partitions = value.parse().unwrap_or_else(|_| usage(&flag)),
            "--topics" => topics = value,
            _ => usage(&flag),
        }
    }
    let cluster = MockCluster::new(brokers).unwrap_or_else(|e| {
        eprintln!("error: cannot start the mock cluster: {e}");
        std::process::exit(1);
    });
    for topic in topics.split(',').filter(|t| !t.is_empty()) {
        if let Err(e) = cluster.create_topic(topic, partitions, brokers.min(3)) {
            eprintln!("error: cannot create topic {topic}: {e}");
            std::process::exit(1);
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", cluster.bootstrap_servers());
    let _ = out.flush();
    loop {
        std::thread::park();
    }
}

fn usage(flag: &str) -> ! {
    eprintln!("error: bad or unknown option {flag}; see the comment at the top of kafka_broker.rs");
    std::process::exit(2);
}
