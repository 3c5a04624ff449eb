//! Split monitors (`shards: N`; README: "Scale-out on Kafka"): rows spread over N shard states,
//! whose window parts the owner merges with the same pure `apply`, give the windows of one
//! state fed every row — the same rows and counts, new categories included — whatever N.

mod common;

use std::collections::BTreeMap;

use driftscope::engine::model::MonitorModel;
use driftscope::engine::state::{Event, MonitorState};
use driftscope::window::ClosedWindow;
use serde_json::{Value, json};

use common::{Rng, rows};

/// Event time of the first row.
const T0: f64 = 1_700_000_000.0;

/// The model of a binned event-time monitor over the fixture (10 s windows sliding by 5 s).
fn model(dir: &std::path::Path) -> std::sync::Arc<MonitorModel> {
    let text = format!(
        "monitors:\n  - name: m\n    reference: {}\n    features:\n      numerical: [x, y]\n      \
         categorical: [c, b]\n    prediction: {{column: prediction, type: categorical}}\n    \
         timestamp: ts\n    window: {{duration: 10s, step: 5s, summary: binned}}\n    shards: 3\n",
        common::fixture_reference().display()
    );
    let path = dir.join("monitors.yaml");
    std::fs::write(&path, text).unwrap();
    let service = driftscope::service::load_service(&path).unwrap();
    service.monitors().get("m").unwrap().model.clone()
}

/// Requests of 40 rows, one event-time second each, with categories the reference does not
/// have (first seen in different orders by different shards).
fn requests(model: &MonitorModel, count: usize) -> Vec<Event> {
    let mut rng = Rng::new(5);
    (0..count)
        .map(|r| {
            let mut batch: Vec<Value> = rows(&mut rng, 40, r > 25);
            for (i, row) in batch.iter_mut().enumerate() {
                row["ts"] = json!(T0 + r as f64 + i as f64 / 40.0);
                if i % 7 == r % 7 {
                    row["c"] = json!(["new-1", "new-2", "new-3"][(r + i) % 3]);
                }
            }
            let body = serde_json::to_vec(&batch).unwrap();
            Event::Rows {
                time: T0 + r as f64,
                key: None,
                columns: model.columns.clone(),
                batch: model.schema.parse(&body).unwrap(),
            }
        })
        .collect()
}

/// A window's counts with category codes replaced by the category (reference categories by
/// code, new ones by text: their codes depend on the order a state first saw them).
fn comparable(model: &MonitorModel, state: &MonitorState, window: &ClosedWindow) -> Value {
    let columns: Vec<Value> = window
        .binned
        .as_ref()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let counts = if c.fine.is_some() {
                json!(c.counts)
            } else {
                let first_new = model.reference_categories(i);
                let texts: BTreeMap<u32, &str> = state
                    .categories
                    .get(&model.columns[i])
                    .map(|k| k.texts().collect())
                    .unwrap_or_default();
                let named: BTreeMap<String, u64> = c
                    .counts
                    .iter()
                    .enumerate()
                    .filter(|&(_, &n)| n > 0)
                    .map(|(code, &n)| {
                        let code = code as u32;
                        let name = if code < first_new {
                            format!("reference #{code}")
                        } else {
                            texts[&code].to_owned()
                        };
                        (name, n)
                    })
                    .collect();
                json!(named)
            };
            json!({"counts": counts, "coarse": c.coarse, "missing": c.missing,
                   "invalid": c.invalid, "out_of_range": c.out_of_range})
        })
        .collect();
    json!({"seq": window.seq, "start": window.start, "end": window.end, "rows": window.rows,
           "columns": columns})
}

/// Every window of one state fed every request.
fn unsplit(model: &MonitorModel, events: &[Event]) -> Vec<Value> {
    let mut state = MonitorState::new(model);
    let mut windows = Vec::new();
    for (seq, event) in events.iter().enumerate() {
        windows.extend(
            state
                .apply(model, seq as u64 + 1, event.clone())
                .closed
                .windows,
        );
    }
    windows
        .iter()
        .map(|w| comparable(model, &state, w))
        .collect()
}

/// The shards' window parts when request `r` goes to shard `r % shards`, per shard in order.
fn shard_parts(model: &MonitorModel, events: &[Event], shards: u32) -> Vec<Vec<Event>> {
    let mut states: Vec<MonitorState> = (0..shards).map(|_| MonitorState::new(model)).collect();
    let mut parts: Vec<Vec<Event>> = vec![Vec::new(); shards as usize];
    for (r, event) in events.iter().enumerate() {
        let k = r % shards as usize;
        let state = &mut states[k];
        let before = state.windows.closed_through();
        let seq = state.applied + 1;
        let out = state.apply(model, seq, event.clone());
        if let Some((windows, through)) = state.parts(model, &out.closed.windows, before) {
            parts[k].push(Event::Partial {
                shard: k as u32,
                shards,
                windows,
                through,
            });
        }
    }
    parts
}

/// Applies the shards' parts to `owner` one from each shard in turn, the last shard first
/// (each shard's in order, as they come from the events topic); returns the windows published.
fn merge(model: &MonitorModel, owner: &mut MonitorState, parts: Vec<Vec<Event>>) -> Vec<Value> {
    let mut windows = Vec::new();
    let mut queues: Vec<std::collections::VecDeque<Event>> =
        parts.into_iter().rev().map(Into::into).collect();
    while queues.iter().any(|q| !q.is_empty()) {
        for queue in &mut queues {
            if let Some(event) = queue.pop_front() {
                let seq = owner.applied + 1;
                windows.extend(owner.apply(model, seq, event).closed.windows);
            }
        }
    }
    windows
        .iter()
        .map(|w| comparable(model, owner, w))
        .collect()
}

/// Every window the owner merges from `shards` shards.
fn split(model: &MonitorModel, events: &[Event], shards: u32) -> Vec<Value> {
    let parts = shard_parts(model, events, shards);
    merge(model, &mut MonitorState::new(model), parts)
}

#[test]
fn windows_merged_from_shards_equal_the_unsplit_windows() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let events = requests(&model, 45);
    let expected = unsplit(&model, &events);
    assert!(expected.len() >= 7, "{} windows", expected.len());
    assert!(
        expected.iter().any(|w| w.to_string().contains("new-3")),
        "the windows hold new categories"
    );
    for shards in [1, 2, 3, 5] {
        let got = split(&model, &events, shards);
        assert_eq!(got, expected, "{shards} shards");
    }
}

#[test]
fn a_silent_shard_holds_windows_back_only_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path());
    let events = requests(&model, 250);
    let expected = unsplit(&model, &events);
    let mut parts = shard_parts(&model, &events, 3);
    let late = parts.pop().unwrap();
    let mut owner = MonitorState::new(&model);
    let early = merge(&model, &mut owner, parts);
    // The owner holds a window's panes (2) plus 32 windows (README: "Hot monitors"), then
    // publishes the oldest without the silent shard's part.
    let held = 2 + 32;
    assert_eq!(early.len(), expected.len() - held);
    for (got, full) in early.iter().zip(&expected) {
        assert_eq!(got["seq"], full["seq"]);
        assert!(got["rows"].as_u64() < full["rows"].as_u64(), "{got}");
    }
    // When the shard speaks again, its parts of published windows are dropped and the held
    // windows complete.
    let rest = merge(&model, &mut owner, vec![late]);
    assert_eq!(rest[..], expected[early.len()..]);
}
