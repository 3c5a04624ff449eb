//! The `/metrics` text, cheap at scale.
//!
//! Most series (every per-feature drift gauge, data-quality ratio, dataset verdict, alerting
//! metadata) live in a second registry whose families only `Metrics`' own methods change
//! (`register_monitor`, `publish_*`, `concept_change`, `forget`). Each of those bumps a
//! generation counter after its change; a scrape re-encodes that registry only when the counter
//! moved since the cached text, and otherwise reuses it. Families anyone may change (counters of
//! ingest and HTTP, histograms, the process collector) are gathered and encoded at every scrape.
//! The two lists of families are merged by name, so the output is byte for byte what
//! prometheus' `TextEncoder` writes for one registry holding every family (tested).

use std::sync::atomic::Ordering;

use prometheus::proto::MetricFamily;
use prometheus::{Encoder, TextEncoder};

use super::Metrics;

/// The encoded families of the window registry, with the generation they were encoded at.
#[derive(Debug, Default)]
pub(super) struct Cached {
    /// `None` until the first scrape.
    generation: Option<u64>,
    /// (family name, its exposition text), sorted by name.
    families: Vec<(String, String)>,
}

impl Metrics {
    /// Marks the window registry changed; called after every change to it.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        // Read before gathering: a change during the gather bumps the counter past it, so the
        // next scrape encodes again.
        let generation = self.generation.load(Ordering::Acquire);
        if cache.generation != Some(generation) {
            cache.families = self
                .window_registry
                .gather()
                .iter()
                .map(|family| {
                    (
                        family.name().to_owned(),
                        encode(std::slice::from_ref(family)),
                    )
                })
                .collect();
            cache.generation = Some(generation);
        }
        let live = self.registry.gather();
        let total = cache
            .families
            .iter()
            .map(|(_, text)| text.len())
            .sum::<usize>();
        let mut out = String::with_capacity(total + 64 * 1024);
        let mut cached = cache.families.iter().peekable();
        for family in &live {
            while let Some((_, text)) = cached.next_if(|(name, _)| name.as_str() < family.name()) {
                out.push_str(text);
            }
            out.push_str(&encode(std::slice::from_ref(family)));
        }
        for (_, text) in cached {
            out.push_str(text);
        }
        out
    }

    /// The exposition as before the cache: one gather of every family and prometheus'
    /// `TextEncoder`, at every call. The baseline of `benches/metrics.rs` and the reference of
    /// the tests; not part of the API.
    #[doc(hidden)]
    pub fn render_with_text_encoder(&self) -> String {
        let mut families: Vec<MetricFamily> = self.registry.gather();
        families.extend(self.window_registry.gather());
        families.sort_by(|a, b| a.name().cmp(b.name()));
        encode(&families)
    }
}

fn encode(families: &[MetricFamily]) -> String {
    let mut buffer = Vec::new();
    // Encoding into a Vec only fails on invalid metric data, which `Metrics::new` rules out.
    let _ = TextEncoder::new().encode(families, &mut buffer);
    String::from_utf8(buffer).unwrap_or_default()
}
