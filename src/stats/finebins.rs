//! Fine bins anchored on the reference: what a binned window counts its numeric values in, so
//! its memory does not grow with its rows and panes merge by adding counts.
//!
//! Two layouts, chosen from the reference once:
//! - **points**, when the reference has at most [`MAX_POINTS`] distinct values: each distinct
//!   value is a bin of its own, and each gap between two (and the two outer rays) is another.
//!   The reference's distribution function is constant inside a gap, so the KS statistic from
//!   these counts is exact ([`crate::stats::ks::binned`]);
//! - **quantiles**, otherwise: `fine_bins − 1` reference order statistics as edges, bins
//!   `(e_{k−1}, e_k]` plus the ray above the last edge. KS is then bracketed by a lower and an
//!   upper bound whose gap is at most the largest mass of one bin (about 2 / `fine_bins`).

use serde::{Deserialize, Serialize};

/// Most distinct reference values given bins of their own (2 · `MAX_POINTS` + 1 counters).
pub const MAX_POINTS: usize = 2048;

/// Default number of fine bins (quantile layout): KS bounds within about 5e-4.
pub const DEFAULT_FINE_BINS: usize = 4096;

/// The bin layout of one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FineBins {
    /// Ascending, distinct edges.
    pub edges: Vec<f64>,
    /// `true`: every edge is a bin of its own (points layout); `false`: bins `(e_{k−1}, e_k]`.
    pub points: bool,
    /// The reference's counts in these bins, counted once here rather than at every window.
    pub reference_counts: Vec<u64>,
}

impl FineBins {
    /// The layout for an ascending, NaN-free reference sample, with its counts.
    pub fn from_sorted(sorted: &[f64], fine_bins: usize) -> Self {
        let (edges, points) = Self::edges(sorted, fine_bins);
        let mut bins = Self {
            edges,
            points,
            reference_counts: Vec::new(),
        };
        bins.reference_counts = bins.counts_sorted(sorted);
        bins
    }

    /// The edges and whether each is a bin of its own.
    fn edges(sorted: &[f64], fine_bins: usize) -> (Vec<f64>, bool) {
        let mut distinct: Vec<f64> = Vec::new();
        for &v in sorted {
            if distinct.last() != Some(&v) {
                distinct.push(v);
                if distinct.len() > MAX_POINTS {
                    break;
                }
            }
        }
        if distinct.len() <= MAX_POINTS {
            return (distinct, true);
        }
        let n = sorted.len();
        let mut edges: Vec<f64> = Vec::with_capacity(fine_bins);
        for i in 1..fine_bins.max(2) {
            let v = sorted[(i * n / fine_bins.max(2)).min(n - 1)];
            if edges.last() != Some(&v) {
                edges.push(v);
            }
        }
        (edges, false)
    }

    /// Number of bins (counters per column).
    pub fn len(&self) -> usize {
        if self.points {
            2 * self.edges.len() + 1
        } else {
            self.edges.len() + 1
        }
    }

    /// Always false: even no edge leaves one bin.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether bin `b` holds one value only (a reference value in the points layout).
    pub fn is_point(&self, b: usize) -> bool {
        self.points && b % 2 == 1
    }

    /// The bin of `x` (not NaN).
    pub fn bin_of(&self, x: f64) -> usize {
        // Edges below x (points: strictly below, so an equal value finds its own bin).
        let below = self.edges.partition_point(|&e| e < x);
        if self.points {
            if self.edges.get(below) == Some(&x) {
                2 * below + 1
            } else {
                2 * below
            }
        } else {
            below
        }
    }

    /// Counts of NaN-free `values` per bin.
    pub fn counts(&self, values: &[f64]) -> Vec<u64> {
        let mut counts = vec![0u64; self.len()];
        for &v in values {
            counts[self.bin_of(v)] += 1;
        }
        counts
    }

    /// Counts per bin of an ascending sample, by binary search per edge: O(bins · log n), for
    /// the reference, whose values are sorted once at start-up.
    fn counts_sorted(&self, sorted: &[f64]) -> Vec<u64> {
        let mut counts = Vec::with_capacity(self.len());
        let mut start = 0;
        for &e in &self.edges {
            let below = start + sorted[start..].partition_point(|&v| v < e);
            if self.points {
                let upto = below + sorted[below..].partition_point(|&v| v <= e);
                counts.push((below - start) as u64);
                counts.push((upto - below) as u64);
                start = upto;
            } else {
                let upto = below + sorted[below..].partition_point(|&v| v <= e);
                counts.push((upto - start) as u64);
                start = upto;
            }
        }
        counts.push((sorted.len() - start) as u64);
        counts
    }

    /// A value standing for bin `b` (for charts): the point itself, or the middle of the bin;
    /// the outer rays stand at the outer edges.
    pub fn representative(&self, b: usize) -> f64 {
        let e = &self.edges;
        let Some(&last) = e.last() else {
            return 0.0;
        };
        // Bin b lies between edges lo and hi (indices); outer rays have one missing.
        let (lo, hi) = if self.points {
            if b % 2 == 1 {
                return e[b / 2];
            }
            ((b / 2).checked_sub(1), b / 2)
        } else {
            (b.checked_sub(1), b)
        };
        match (lo.map(|i| e[i]), e.get(hi)) {
            (Some(a), Some(&z)) => a + (z - a) / 2.0,
            (None, _) => e[0],
            (Some(_), None) => last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_a_bin_each_and_a_bin_per_gap() {
        let bins = FineBins::from_sorted(&[1.0, 1.0, 2.0, 5.0], 4096);
        assert!(bins.points);
        assert_eq!(bins.edges, [1.0, 2.0, 5.0]);
        assert_eq!(bins.len(), 7);
        let at = |x| bins.bin_of(x);
        assert_eq!(
            [
                at(0.5),
                at(1.0),
                at(1.5),
                at(2.0),
                at(3.0),
                at(5.0),
                at(9.0)
            ],
            [0, 1, 2, 3, 4, 5, 6]
        );
        assert!(bins.is_point(3) && !bins.is_point(4));
        assert_eq!(bins.counts(&[1.0, 1.5, 1.5, 9.0]), [0, 1, 2, 0, 0, 0, 1]);
        assert_eq!(
            bins.counts_sorted(&[1.0, 1.5, 1.5, 9.0]),
            [0, 1, 2, 0, 0, 0, 1]
        );
        assert_eq!(bins.representative(3), 2.0);
        assert_eq!(bins.representative(4), 3.5);
    }

    #[test]
    fn many_distinct_values_get_quantile_edges_with_left_open_bins() {
        let sorted: Vec<f64> = (0..100_000).map(f64::from).collect();
        let bins = FineBins::from_sorted(&sorted, 100);
        assert!(!bins.points);
        assert_eq!(bins.edges.len(), 99);
        assert_eq!(bins.edges[0], 1000.0);
        // (−inf, 1000] is bin 0, (1000, 2000] bin 1.
        assert_eq!(bins.bin_of(1000.0), 0);
        assert_eq!(bins.bin_of(1000.5), 1);
        assert_eq!(bins.bin_of(1e9), 99);
        let counts = bins.counts(&sorted);
        assert_eq!(bins.counts_sorted(&sorted), counts);
        assert_eq!(bins.reference_counts, counts);
        assert_eq!(counts.iter().sum::<u64>(), 100_000);
        assert!(
            counts.iter().all(|&c| (999..=1001).contains(&c)),
            "{counts:?}"
        );
    }
}
