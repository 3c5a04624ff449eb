//! Split monitors (`shards: N`, scale-out roles only): a shard's windows leave it as parts,
//! and the owner adds the parts of a window up before evaluating it.
//!
//! A shard is a bare [`MonitorState`] fed a share of the monitor's rows. Every window it closes
//! becomes a [`PartialWindow`]: its binned counts, plus the texts of the categories the shard
//! coded itself (codes at or above the reference's category count are given per state, in the
//! order a state first sees them, so a shard's code means nothing to the owner). With the parts
//! goes the shard's [`closed_through`](crate::window::WindowEngine::closed_through): the shard
//! will never send a part of a window ending at or before it. The owner keeps the windows it
//! has parts of in [`Merging`] and publishes a window once every shard is through its end, in
//! window order, numbered by its own window engine, so a window is the same whatever the number
//! of shards that fed it: counts add up exactly.

use serde::{Deserialize, Serialize};

use super::{MAX_NEW_CATEGORIES, MonitorState};
use crate::config::Window;
use crate::engine::model::MonitorModel;
use crate::window::ClosedWindow;
use crate::window::panes::{BinnedColumn, ColumnBins};

/// Windows the owner holds beyond a window's panes before it publishes the oldest without the
/// parts still missing: a shard whose engine is down, or that gets no rows, holds every window
/// back, and the merge must not grow without bound. 32 steps cover a hand-over of a busy
/// partition; a part arriving after its window was published is dropped.
const MARGIN_WINDOWS: usize = 32;

/// One shard's part of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialWindow {
    /// Window start (unix seconds): with `end`, the window's identity.
    pub start: f64,
    /// Window end (unix seconds).
    pub end: f64,
    /// Rows the shard counted in the window.
    pub rows: u64,
    /// Per window column, the shard's counts.
    pub columns: Vec<PartialColumn>,
}

/// One column of a [`PartialWindow`] (or of a window being merged, in the owner's codes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialColumn {
    /// Per fine bin (numeric) or category code (categorical).
    pub counts: Vec<u64>,
    /// Per coarse bin (numeric).
    pub coarse: Vec<u64>,
    /// Missing values.
    pub missing: u64,
    /// Values of the wrong type.
    pub invalid: u64,
    /// Numeric values outside the reference's range.
    pub out_of_range: u64,
    /// Categorical: `(code, text)` of every category the shard coded itself and counted here.
    pub new_categories: Vec<(u32, String)>,
}

/// The owner's windows in the making.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merging {
    /// Per shard, how far it has closed windows (empty before the first part).
    through: Vec<f64>,
    /// Windows with at least one part, ascending by end.
    pending: Vec<PartialWindow>,
    /// End of the last window published: parts of windows ending at or before it come late.
    published_through: f64,
}

impl Default for Merging {
    fn default() -> Self {
        Self {
            through: Vec::new(),
            pending: Vec::new(),
            published_through: f64::NEG_INFINITY,
        }
    }
}

impl MonitorState {
    /// A shard's parts of `closed` (windows this state just closed) and how far it is through,
    /// when there is something to say: a window, or a window end newly passed since `before`
    /// (the state's [`closed_through`](crate::window::WindowEngine::closed_through) before the
    /// event), which lets the owner publish windows this shard had no rows in.
    pub fn parts(
        &self,
        model: &MonitorModel,
        closed: &[ClosedWindow],
        before: f64,
    ) -> Option<(Vec<PartialWindow>, f64)> {
        let through = self.windows.closed_through();
        let (_, step) = length_and_step(model);
        let passed_an_end = (through / step).floor() > (before / step).floor();
        if closed.is_empty() && !passed_an_end {
            return None;
        }
        let windows = closed.iter().map(|w| self.part(model, w)).collect();
        Some((windows, through))
    }

    fn part(&self, model: &MonitorModel, window: &ClosedWindow) -> PartialWindow {
        let binned = window.binned.as_deref().unwrap_or_default();
        let columns = binned
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // Only categorical columns have codes of their own.
                let new_categories = self
                    .first_new(model, i)
                    .and_then(|first| Some((first, self.categories.get(&model.columns[i])?)))
                    .map(|(first, known)| {
                        known
                            .texts()
                            .filter(|&(code, _)| {
                                code >= first && c.counts.get(code as usize).is_some_and(|&n| n > 0)
                            })
                            .map(|(code, text)| (code, text.to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                PartialColumn {
                    counts: c.counts.clone(),
                    coarse: c.coarse.clone(),
                    missing: c.missing,
                    invalid: c.invalid,
                    out_of_range: c.out_of_range,
                    new_categories,
                }
            })
            .collect();
        PartialWindow {
            start: window.start,
            end: window.end,
            rows: window.rows as u64,
            columns,
        }
    }

    /// The first code of categories new to the reference in window column `i`, when it is a
    /// categorical column.
    fn first_new(&self, model: &MonitorModel, i: usize) -> Option<u32> {
        let bins = self.windows.bins()?;
        matches!(bins.get(i), Some(ColumnBins::Categorical)).then(|| model.reference_categories(i))
    }

    /// Merges shard `shard`'s (of `shards`) parts and returns the windows now complete, in
    /// order. A change of the shard count restarts the merge: windows in the making are lost.
    pub(super) fn merge(
        &mut self,
        model: &MonitorModel,
        shard: u32,
        shards: u32,
        windows: Vec<PartialWindow>,
        through: f64,
    ) -> Vec<ClosedWindow> {
        let (shard, shards) = (shard as usize, shards as usize);
        if shard >= shards {
            return Vec::new(); // not a shard of this count: nothing to merge it with
        }
        if self.merging.through.len() != shards {
            self.merging = Merging {
                through: vec![f64::NEG_INFINITY; shards],
                ..Merging::default()
            };
        }
        for window in windows {
            if window.end <= self.merging.published_through {
                continue;
            }
            let window = self.recode(model, window);
            let pending = &mut self.merging.pending;
            let at = pending.partition_point(|w| w.end < window.end);
            match pending.get_mut(at) {
                Some(merged) if merged.end == window.end => add(merged, window),
                _ => pending.insert(at, window),
            }
        }
        let slot = &mut self.merging.through[shard];
        *slot = slot.max(through);
        let horizon = self
            .merging
            .through
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let (length, step) = length_and_step(model);
        let per_window = (length / step).round() as usize;
        let mut closed = Vec::new();
        while let Some(first) = self.merging.pending.first() {
            let overfull = self.merging.pending.len() > per_window + MARGIN_WINDOWS;
            if first.end > horizon && !overfull {
                break;
            }
            let window = self.merging.pending.remove(0);
            self.merging.published_through = window.end;
            closed.push(self.publishable(window));
        }
        closed
    }

    /// A shard's part in the owner's category codes.
    fn recode(&mut self, model: &MonitorModel, mut window: PartialWindow) -> PartialWindow {
        for (i, column) in window.columns.iter_mut().enumerate() {
            let Some(first) = self.first_new(model, i) else {
                continue;
            };
            if column.counts.len() <= first as usize {
                continue;
            }
            let texts = std::mem::take(&mut column.new_categories);
            let new = column.counts.split_off(first as usize);
            let table = self.categories.entry(model.columns[i].clone()).or_default();
            for (offset, count) in new.into_iter().enumerate().filter(|&(_, n)| n > 0) {
                let code = first + offset as u32;
                let text = texts.iter().find(|(c, _)| *c == code).map(|(_, t)| t);
                let owner = match text {
                    Some(text) if code != first + MAX_NEW_CATEGORIES => {
                        table.code(first, text.clone(), model.limits.max_new_category_bytes)
                    }
                    // The shard's overflow code: the owner's too.
                    _ => first + MAX_NEW_CATEGORIES,
                };
                let owner = owner as usize;
                if column.counts.len() <= owner {
                    column.counts.resize(owner + 1, 0);
                }
                column.counts[owner] += count;
            }
        }
        window
    }

    /// A merged window as the evaluation takes it, numbered next in the monitor's sequence.
    fn publishable(&mut self, window: PartialWindow) -> ClosedWindow {
        let bins = self.windows.bins().unwrap_or_default();
        let columns = window
            .columns
            .into_iter()
            .enumerate()
            .map(|(i, c)| BinnedColumn {
                fine: match bins.get(i) {
                    Some(ColumnBins::Numeric { fine, .. }) => Some(fine.clone()),
                    _ => None,
                },
                counts: c.counts,
                coarse: c.coarse,
                missing: c.missing,
                invalid: c.invalid,
                out_of_range: c.out_of_range,
            })
            .collect();
        ClosedWindow {
            seq: self.windows.next_seq(),
            start: window.start,
            end: window.end,
            rows: window.rows as usize,
            columns: Vec::new(),
            binned: Some(columns),
        }
    }
}

/// Adds part `from` (in the owner's codes) to `into`.
fn add(into: &mut PartialWindow, from: PartialWindow) {
    into.rows += from.rows;
    for (a, b) in into.columns.iter_mut().zip(from.columns) {
        for (sum, part) in [(&mut a.counts, b.counts), (&mut a.coarse, b.coarse)] {
            if sum.len() < part.len() {
                sum.resize(part.len(), 0);
            }
            for (s, p) in sum.iter_mut().zip(part) {
                *s += p;
            }
        }
        a.missing += b.missing;
        a.invalid += b.invalid;
        a.out_of_range += b.out_of_range;
    }
}

/// (length, step) in seconds of the monitor's time window (config validation splits only
/// monitors with one).
fn length_and_step(model: &MonitorModel) -> (f64, f64) {
    match model.window {
        Window::TimeTumbling { length } => (length.as_secs_f64(), length.as_secs_f64()),
        Window::TimeSliding { length, step } => (length.as_secs_f64(), step.as_secs_f64()),
        Window::CountTumbling { .. } | Window::CountSliding { .. } => (1.0, 1.0),
    }
}
