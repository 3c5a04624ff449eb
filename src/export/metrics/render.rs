//! The `/metrics` text, cheap at scale, also right after a window was published.
//!
//! Most series (every per-feature drift gauge, data-quality ratio, dataset verdict, alerting
//! metadata) live in one registry per monitor, whose families only `Metrics`' own methods
//! change (`register_monitor`, `publish_*`, `concept_change`, `forget`); each stamps its
//! monitor's generation after its change. A scrape encodes again only the monitors whose stamp
//! moved since their cached text: a window closing costs one monitor's encoding, not every
//! monitor's. Families anyone may change (counters of ingest and HTTP, histograms, the process
//! collector) are collected and encoded at every scrape. Families come sorted by name, each
//! once: its `# HELP` and `# TYPE` lines, then its sample lines, as prometheus' `TextEncoder`
//! writes one registry holding every family; only the order of series within a family differs
//! (tested).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::PoisonError;

use prometheus::TextEncoder;
use prometheus::proto::{Metric, MetricFamily};

use super::Metrics;

/// The encoded window families of every monitor.
#[derive(Debug, Default)]
pub(super) struct Cached {
    /// Per monitor name: its text as of a generation.
    monitors: BTreeMap<String, Chunk>,
    /// The `# HELP` and `# TYPE` lines of every window family encoded so far, by family name;
    /// the same for every monitor, so kept once.
    headers: BTreeMap<String, String>,
}

/// One monitor's encoded window families.
#[derive(Debug)]
struct Chunk {
    generation: u64,
    /// (family name, its sample lines), sorted by name; families without series are absent.
    families: Vec<(String, String)>,
}

impl Cached {
    /// Bytes of text held (string capacities).
    fn bytes(&self) -> usize {
        let size = |(name, text): (&String, &String)| name.capacity() + text.capacity();
        let chunks = self.monitors.values().flat_map(|chunk| &chunk.families);
        let samples: usize = chunks.map(|(name, text)| size((name, text))).sum();
        samples + self.headers.iter().map(size).sum::<usize>()
    }
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        self.refresh(&mut cache);
        // Each window family's chunks, in monitor order, by family name.
        let mut window: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for chunk in cache.monitors.values() {
            for (name, samples) in &chunk.families {
                window.entry(name).or_default().push(samples);
            }
        }
        let live = self.live();
        let mut out = String::with_capacity(cache.bytes() + 1024 * 1024);
        let mut window = window.into_iter().peekable();
        let push_window = |out: &mut String, (name, chunks): (&str, Vec<&str>)| {
            out.push_str(&cache.headers[name]);
            chunks.into_iter().for_each(|samples| out.push_str(samples));
        };
        for family in &live {
            while let Some(next) = window.next_if(|(name, _)| *name < family.name()) {
                push_window(&mut out, next);
            }
            encode(family, &mut out);
        }
        window.for_each(|next| push_window(&mut out, next));
        out
    }

    /// Every family anyone may change, sorted by name. Those with a `monitor` label (nearly
    /// all these series: one per monitor and column, error code, reason) are collected
    /// directly, their series in hash order: `Registry::gather` would sort them by label
    /// values at every scrape, a third of its cost, for an order Prometheus ignores.
    fn live(&self) -> Vec<MetricFamily> {
        let mut live = self.registry.gather();
        let per_monitor = self.live_per_monitor();
        live.extend(per_monitor.iter().flat_map(|family| family.collect()));
        live.retain(|family| !family.get_metric().is_empty());
        live.sort_by(|a, b| a.name().cmp(b.name()));
        live
    }

    /// Encodes again the monitors changed since their cached text, and drops forgotten ones.
    fn refresh(&self, cache: &mut Cached) {
        let monitors = self.monitors.read().unwrap_or_else(PoisonError::into_inner);
        cache.monitors.retain(|name, _| monitors.contains_key(name));
        for (monitor, series) in monitors.iter() {
            // Read before gathering: a change during the gather leaves a newer stamp behind.
            let generation = series.generation();
            if cache
                .monitors
                .get(monitor)
                .is_some_and(|chunk| chunk.generation == generation)
            {
                continue;
            }
            let mut families = Vec::new();
            for family in series.registry.gather() {
                let mut text = String::new();
                encode(&family, &mut text);
                let header: usize = text
                    .split_inclusive('\n')
                    .take_while(|line| line.starts_with('#'))
                    .map(str::len)
                    .sum();
                let samples = text.split_off(header);
                if !cache.headers.contains_key(family.name()) {
                    cache.headers.insert(family.name().to_owned(), text);
                }
                families.push((family.name().to_owned(), samples));
            }
            let chunk = Chunk {
                generation,
                families,
            };
            cache.monitors.insert(monitor.clone(), chunk);
        }
    }

    /// Bytes of text the `/metrics` cache holds (every monitor's window families). For
    /// `benches/metrics.rs`; not part of the API.
    #[doc(hidden)]
    pub fn cached_bytes(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes()
    }

    /// The exposition without the cache: one gather of every family and prometheus'
    /// `TextEncoder`, at every call. The baseline of `benches/metrics.rs` and the reference of
    /// the tests; not part of the API.
    #[doc(hidden)]
    pub fn render_with_text_encoder(&self) -> String {
        let monitors = self.monitors.read().unwrap_or_else(PoisonError::into_inner);
        let window = monitors
            .values()
            .flat_map(|series| series.registry.gather());
        // One family per name, as one registry holding every family would gather it.
        let mut families: BTreeMap<String, MetricFamily> = BTreeMap::new();
        for mut family in self.live().into_iter().chain(window) {
            match families.entry(family.name().to_owned()) {
                Entry::Vacant(entry) => {
                    entry.insert(family);
                }
                Entry::Occupied(mut entry) => {
                    entry.get_mut().mut_metric().extend(family.take_metric())
                }
            }
        }
        let mut out = String::new();
        for family in families.values_mut() {
            // In label value order, as `Registry::gather` sorts.
            family
                .mut_metric()
                .sort_by(|a, b| label_values(a).cmp(label_values(b)));
            encode(family, &mut out);
        }
        out
    }
}

fn label_values(metric: &Metric) -> impl Iterator<Item = &str> {
    metric.get_label().iter().map(|label| label.value())
}

fn encode(family: &MetricFamily, out: &mut String) {
    // Encoding only fails on invalid metric data, which `Metrics::new` rules out.
    let _ = TextEncoder::new().encode_utf8(std::slice::from_ref(family), out);
}
