//! Reference-versus-window distributions of each column, for charts (`driftscope report
//! --format html` and the live page `GET /ui/monitors/{name}`).
//!
//! A window's values are dropped once it is evaluated, so the monitor keeps these summaries of
//! its latest window instead: a few dozen numbers and at most [`TOP_CATEGORIES`] + 2 labels per
//! column (a few KB), whatever the window size.

use serde::{Deserialize, Serialize};

use crate::check::{ColumnCheck, Role};
use crate::column::{ColumnData, INVALID_CODE, MISSING_CODE};
use crate::reference::profile::{CategoricalProfile, ReferenceProfile};
use crate::window::ClosedWindow;
use crate::window::panes::BinnedColumn;

/// Bins of a numerical chart.
pub const NUMERIC_BINS: usize = 20;

/// Categories shown by name; the rest are summed into "other".
pub const TOP_CATEGORIES: usize = 12;

/// A column's reference and window distributions over the same bins or categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Column name.
    pub name: String,
    /// Bins or categories.
    pub bins: Bins,
    /// Reference: densities (numerical, integrating to 1) or shares (categorical).
    pub reference: Vec<f64>,
    /// Window, like `reference`; all zero when the window held no value.
    pub current: Vec<f64>,
}

/// What the bars of a chart stand for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bins {
    /// `edges.len() - 1` equal-width bins between the reference's 0.5 % and 99.5 % quantiles;
    /// values beyond them are counted in the outer bins.
    Numeric {
        /// Bin edges, ascending.
        edges: Vec<f64>,
    },
    /// The most frequent categories, then `other` (the remaining reference categories) and
    /// `new` (categories the reference never had) when they occur.
    Categorical {
        /// Category labels.
        labels: Vec<String>,
        /// How many trailing labels are the synthetic `other` / `new` groups.
        grouped: usize,
    },
}

/// Histograms of every column of a feature window (features and prediction columns; the
/// target is not part of it): `checks[i]` reads `window.columns[i]`.
pub fn of_window(checks: &[ColumnCheck], window: &ClosedWindow) -> Vec<Histogram> {
    checks
        .iter()
        .filter(|c| c.role != Role::Target)
        .enumerate()
        .map(|(i, check)| match &window.binned {
            Some(binned) => of_binned(check, &binned[i]),
            None => of(check, &window.columns[i]),
        })
        .collect()
}

/// `check`'s reference and `data` over the same bins.
pub fn of(check: &ColumnCheck, data: &ColumnData) -> Histogram {
    let (bins, reference, current) = match (&*check.reference, data) {
        (ReferenceProfile::Numeric(profile), ColumnData::Numeric(values)) => {
            let edges = display_edges(&profile.sorted);
            let window: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            let reference = sorted_densities(&edges, &profile.sorted);
            let current = densities(&edges, &window);
            (Bins::Numeric { edges }, reference, current)
        }
        (ReferenceProfile::Categorical(profile), ColumnData::Categorical(codes)) => {
            let known = profile.categories.len();
            let mut counts = vec![0u64; known];
            let mut new = 0u64;
            for &code in codes {
                match code {
                    MISSING_CODE | INVALID_CODE => {}
                    c if (c as usize) < known => counts[c as usize] += 1,
                    _ => new += 1,
                }
            }
            categorical(profile, &counts, new)
        }
        // A check's column always has its reference's type; an empty chart otherwise.
        _ => empty(),
    };
    Histogram {
        name: check.name.clone(),
        bins,
        reference,
        current,
    }
}

/// Like [`of`], for a binned window: each fine bin's count stands at the bin's middle, so the
/// window's bars are approximate where a fine bin straddles a bar's edge (the reference's are
/// exact).
pub fn of_binned(check: &ColumnCheck, column: &BinnedColumn) -> Histogram {
    let (bins, reference, current) = match (&*check.reference, &column.fine) {
        (ReferenceProfile::Numeric(profile), Some(fine)) => {
            let edges = display_edges(&profile.sorted);
            let reference = sorted_densities(&edges, &profile.sorted);
            let current = match BinOf::new(&edges) {
                Some(bin) => {
                    let mut counts = vec![0u64; bin.bins];
                    for (b, &c) in column.counts.iter().enumerate() {
                        counts[bin.of(fine.representative(b))] += c;
                    }
                    bin.densities(&counts, column.counts.iter().sum::<u64>() as usize)
                }
                None => Vec::new(),
            };
            (Bins::Numeric { edges }, reference, current)
        }
        (ReferenceProfile::Categorical(profile), None) => {
            let known = profile.categories.len().min(column.counts.len());
            let mut counts = column.counts[..known].to_vec();
            counts.resize(profile.categories.len(), 0);
            let new = column.counts[known..].iter().sum();
            categorical(profile, &counts, new)
        }
        _ => empty(),
    };
    Histogram {
        name: check.name.clone(),
        bins,
        reference,
        current,
    }
}

/// An empty chart.
fn empty() -> (Bins, Vec<f64>, Vec<f64>) {
    (
        Bins::Categorical {
            labels: Vec::new(),
            grouped: 0,
        },
        Vec::new(),
        Vec::new(),
    )
}

/// A categorical chart from the window's counts per reference category and of new ones.
fn categorical(
    profile: &CategoricalProfile,
    counts: &[u64],
    new: u64,
) -> (Bins, Vec<f64>, Vec<f64>) {
    let known = profile.categories.len();
    let ref_total = profile.counts.iter().sum::<u64>().max(1) as f64;
    let cur_total = (counts.iter().sum::<u64>() + new).max(1) as f64;
    let ref_share = |i: usize| profile.counts[i] as f64 / ref_total;
    let cur_share = |i: usize| counts[i] as f64 / cur_total;
    let mut order: Vec<usize> = (0..known).collect();
    order.sort_by(|&a, &b| {
        let weight = |i| ref_share(i).max(cur_share(i));
        weight(b).total_cmp(&weight(a)).then(a.cmp(&b))
    });
    let (top, rest) = order.split_at(order.len().min(TOP_CATEGORIES));
    let mut labels: Vec<String> = top.iter().map(|&i| profile.categories[i].clone()).collect();
    let mut reference: Vec<f64> = top.iter().map(|&i| ref_share(i)).collect();
    let mut current: Vec<f64> = top.iter().map(|&i| cur_share(i)).collect();
    let mut grouped = 0;
    if !rest.is_empty() {
        labels.push(format!("other ({})", rest.len()));
        reference.push(rest.iter().map(|&i| ref_share(i)).sum());
        current.push(rest.iter().map(|&i| cur_share(i)).sum());
        grouped += 1;
    }
    if new > 0 {
        labels.push("new categories".into());
        reference.push(0.0);
        current.push(new as f64 / cur_total);
        grouped += 1;
    }
    (Bins::Categorical { labels, grouped }, reference, current)
}

/// Equal-width edges over the reference's central 99 % (its whole range when that is
/// narrower than the data allows), so one outlier does not squash the chart.
fn display_edges(sorted: &[f64]) -> Vec<f64> {
    let quantile = |q: f64| {
        if sorted.is_empty() {
            return 0.0;
        }
        sorted[((sorted.len() - 1) as f64 * q).round() as usize]
    };
    let (mut lo, mut hi) = (quantile(0.005), quantile(0.995));
    if hi <= lo {
        (lo, hi) = (quantile(0.0), quantile(1.0));
    }
    if hi <= lo {
        (lo, hi) = (lo - 0.5, lo + 0.5);
    }
    let width = (hi - lo) / NUMERIC_BINS as f64;
    (0..=NUMERIC_BINS).map(|i| lo + width * i as f64).collect()
}

/// Density of `values` in each bin of `edges` (values beyond the edges count in the outer
/// bins), integrating to 1 over the edges; all zero without values.
fn densities(edges: &[f64], values: &[f64]) -> Vec<f64> {
    let Some(bin) = BinOf::new(edges) else {
        return Vec::new();
    };
    let mut counts = vec![0u64; bin.bins];
    for &v in values {
        counts[bin.of(v)] += 1;
    }
    bin.densities(&counts, values.len())
}

/// [`densities`] of ascending values without visiting each: the bin of a value never decreases
/// as the value grows, so each bin's count is found by binary search. The reference is drawn
/// next to every window, and this keeps it O(bins · log n) instead of O(n) per window.
fn sorted_densities(edges: &[f64], sorted: &[f64]) -> Vec<f64> {
    let Some(bin) = BinOf::new(edges) else {
        return Vec::new();
    };
    let mut counts = vec![0u64; bin.bins];
    let mut start = 0;
    for (b, count) in counts.iter_mut().enumerate() {
        let end = start + sorted[start..].partition_point(|&v| bin.of(v) <= b);
        *count = (end - start) as u64;
        start = end;
    }
    bin.densities(&counts, sorted.len())
}

/// The bin of a value for equal-width `edges`: one formula for both [`densities`] paths, so
/// they count every value in the same bin.
struct BinOf {
    bins: usize,
    lo: f64,
    width: f64,
}

impl BinOf {
    fn new(edges: &[f64]) -> Option<Self> {
        let bins = edges.len().saturating_sub(1);
        (bins > 0).then(|| {
            let (lo, hi) = (edges[0], edges[bins]);
            Self {
                bins,
                lo,
                width: (hi - lo) / bins as f64,
            }
        })
    }

    fn of(&self, v: f64) -> usize {
        let at = ((v - self.lo) / self.width).floor();
        let at = if at.is_nan() {
            0.0
        } else {
            at.clamp(0.0, (self.bins - 1) as f64)
        };
        at as usize
    }

    fn densities(&self, counts: &[u64], total: usize) -> Vec<f64> {
        let total = total.max(1) as f64;
        counts
            .iter()
            .map(|&c| c as f64 / total / self.width)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::table::Cells;

    fn check(cells: Cells) -> ColumnCheck {
        ColumnCheck::new("x", Role::Feature, cells, None, None, 10).unwrap()
    }

    #[test]
    fn numeric_densities_integrate_to_one_and_outliers_stay_in_the_outer_bins() {
        let reference: Vec<f64> = (0..1000).map(f64::from).collect();
        let c = check(Cells::numbers(reference));
        let h = of(&c, &ColumnData::Numeric(vec![-1e9, 500.0, 1e9, f64::NAN]));
        let Bins::Numeric { edges } = &h.bins else {
            panic!()
        };
        assert_eq!(edges.len(), NUMERIC_BINS + 1);
        let width = edges[1] - edges[0];
        let area = |d: &[f64]| d.iter().sum::<f64>() * width;
        assert!((area(&h.reference) - 1.0).abs() < 1e-9);
        assert!((area(&h.current) - 1.0).abs() < 1e-9);
        assert!(h.current[0] > 0.0 && h.current[NUMERIC_BINS - 1] > 0.0);
    }

    #[test]
    fn sorted_reference_counts_every_value_in_the_same_bin_as_the_scan() {
        // Values on and around every edge, outliers on both sides, ties.
        let mut sorted: Vec<f64> = (-50..=1050).map(|i| f64::from(i) / 10.0).collect();
        sorted.extend([-1e9, 0.0, 0.0, 50.0, 1e9, 100.0 / 3.0]);
        sorted.sort_by(f64::total_cmp);
        for edges in [
            display_edges(&sorted),
            vec![0.0, 1.0],
            vec![-3.0, 7.5, 18.0],
        ] {
            assert_eq!(
                sorted_densities(&edges, &sorted),
                densities(&edges, &sorted)
            );
        }
        assert!(sorted_densities(&[1.0], &sorted).is_empty());
    }

    #[test]
    fn categories_keep_the_top_ones_and_group_the_rest_and_new_ones() {
        let texts: Vec<String> = (0..40).map(|i| format!("c{:02}", i % 20)).collect();
        let c = check(Cells::texts(texts));
        // Codes 0..20 are known; 25 is a new category.
        let h = of(&c, &ColumnData::Categorical(vec![0, 1, 25, MISSING_CODE]));
        let Bins::Categorical { labels, grouped } = &h.bins else {
            panic!()
        };
        assert_eq!(labels.len(), TOP_CATEGORIES + 2);
        assert_eq!(*grouped, 2);
        assert_eq!(labels[0], "c00");
        assert_eq!(labels.last().unwrap(), "new categories");
        assert!((h.current.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((h.reference.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
