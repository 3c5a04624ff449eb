//! What the service exports: every Prometheus metric.

pub mod metrics;
