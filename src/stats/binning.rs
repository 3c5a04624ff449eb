//! Reference-quantile binning for the histogram statistics (PSI and
//! Jensen–Shannon) of numeric features.
//!
//! The inner bin edges are the reference quantiles `i / bins`, computed exactly
//! like `numpy.quantile(sorted, i / bins)` with its default `"linear"` method
//! (the reference implementation used for the golden tests, which compare the
//! edges bit for bit). A value `x` falls in the bin `(e_{k-1}, e_k]`, the
//! scheme `numpy.searchsorted(edges, x, side="left")` implements.
//!
//! Where driftscope deliberately differs from Evidently: Evidently rebins every
//! comparison with Sturges' rule on the *pooled* reference + current data, so
//! the bins move with each window and a drifting window reshapes the very
//! histogram it is judged by. Driftscope computes the edges once from the
//! reference when it is loaded and keeps them fixed, so each window is binned
//! in O(n log bins) with no re-sorting and scores from different windows are
//! comparable.

/// Inner bin edges at the reference quantiles `i / bins` (`i = 1..bins`), so
/// that each bin holds about the same share of the reference.
///
/// Computed like `numpy.quantile(sorted, i / bins)` (default `"linear"`
/// interpolation, bit-identical) on an ascending-sorted, NaN-free slice.
/// Consecutive duplicate edges are merged, so heavily tied data yields fewer
/// bins and constant data yields a single edge.
///
/// Edge cases: empty input or `bins < 2` → empty `Vec` (a single bin holding
/// everything). The cost is O(bins), so `bins` is meant to be a small
/// configured number. Infinite values are allowed: where numpy's interpolation
/// against an infinite neighbour gives NaN, the edge is that infinity (the
/// limit), and a NaN edge is never produced from NaN-free input. The input is
/// not checked for order (a caller bug gives meaningless edges, not a panic).
pub fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    if sorted.is_empty() || bins < 2 {
        return Vec::new();
    }
    let last = sorted.len() - 1;
    // `bins` is a small configured number; capping the capacity keeps an
    // absurd value from reserving memory up front.
    let mut edges: Vec<f64> = Vec::with_capacity((bins - 1).min(sorted.len()));
    for i in 1..bins {
        // numpy: virtual index h = (n - 1) * q, lower index floor(h), weight
        // h - floor(h), the upper index clamped to the last value.
        let q = i as f64 / bins as f64;
        let h = last as f64 * q;
        let lower = h.floor();
        let lo = (lower as usize).min(last);
        let hi = (lo + 1).min(last);
        let edge = lerp(sorted[lo], sorted[hi], h - lower);
        if edges.last() != Some(&edge) {
            edges.push(edge);
        }
    }
    edges
}

/// numpy's `_lerp`: `a + (b - a)·t`, evaluated from the nearer end (`b`) for
/// `t ≥ 0.5` so the result is monotone and exact at both ends; an undefined
/// interpolation against an infinite endpoint resolves to its limit.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    let value = if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    };
    if !value.is_nan() {
        value
    } else if t == 0.0 || a.is_infinite() {
        a
    } else {
        b
    }
}

/// Index of the bin holding `x`, for the bins `(−∞, e1], (e1, e2], …,
/// (e_last, ∞)` (`edges.len() + 1` bins), i.e. the number of edges strictly
/// below `x` — `numpy.searchsorted(edges, x, side="left")`.
///
/// Edge cases: no edges → 0 (one bin); `−∞` → 0, `+∞` → the last bin; a NaN
/// `x` (callers drop NaNs before binning) compares below nothing and lands in
/// bin 0.
pub fn bin_index(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|&edge| edge < x)
}

/// Counts per bin (`edges.len() + 1` of them) of arbitrary, unsorted, NaN-free
/// values: the histogram PSI and Jensen–Shannon compare.
///
/// Edge cases: empty `values` → all-zero counts; empty `edges` → one bin
/// holding every value.
pub fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<u64> {
    let mut counts = vec![0_u64; edges.len() + 1];
    for &x in values {
        counts[bin_index(edges, x)] += 1;
    }
    counts
}

/// Pairs two count vectors position by position for PSI, Jensen–Shannon and
/// chi-square, treating the shorter one as padded with zero counts: a length
/// mismatch (a caller bug — both should be aligned over the same bins or
/// category union) then reads as "not seen on that side" rather than panicking
/// or silently dropping categories.
pub(super) fn aligned_counts(
    reference: &[u64],
    current: &[u64],
) -> impl Iterator<Item = (u64, u64)> {
    (0..reference.len().max(current.len())).map(move |i| {
        (
            reference.get(i).copied().unwrap_or(0),
            current.get(i).copied().unwrap_or(0),
        )
    })
}

/// Each aligned bin's share of its side's total, `(count_ref / total_ref, count_cur /
/// total_cur)`, or `None` when a side is empty (the distances then have nothing to compare).
/// A share is 0 exactly when its count is (a count ≥ 1 over a u128 total stays above 0).
pub(super) fn aligned_shares<'a>(
    reference: &'a [u64],
    current: &'a [u64],
) -> Option<impl Iterator<Item = (f64, f64)> + 'a> {
    let (reference_total, current_total) = (total(reference), total(current));
    if reference_total == 0 || current_total == 0 {
        return None;
    }
    let (reference_total, current_total) = (reference_total as f64, current_total as f64);
    Some(
        aligned_counts(reference, current)
            .map(move |(r, c)| (r as f64 / reference_total, c as f64 / current_total)),
    )
}

/// Sum of a count vector without overflow (u128 cannot overflow for any slice
/// of u64 that fits in memory).
pub(super) fn total(counts: &[u64]) -> u128 {
    counts.iter().map(|&c| u128::from(c)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// One numeric golden case; `edges_bits` are the `f64::to_bits` of numpy's
    /// edges (JSON decimal parsing is not guaranteed bit-exact, bits are).
    #[derive(Deserialize)]
    struct Case {
        name: String,
        bins: usize,
        reference: Vec<f64>,
        current: Vec<f64>,
        edges_bits: Vec<u64>,
        reference_counts: Vec<u64>,
        current_counts: Vec<u64>,
    }

    #[derive(Deserialize)]
    struct Golden {
        numeric: Vec<Case>,
    }

    fn golden() -> Vec<Case> {
        let golden: Golden =
            serde_json::from_str(include_str!("../../tests/golden/stats.json")).unwrap();
        golden.numeric
    }

    /// Edges must equal numpy's bit for bit and counts exactly: both are
    /// deterministic (same IEEE operations in the same order, integer counts).
    #[test]
    fn matches_numpy_golden_exactly() {
        let cases = golden();
        assert!(cases.len() >= 10);
        for case in cases {
            let mut sorted = case.reference.clone();
            sorted.sort_by(f64::total_cmp);
            let edges = quantile_edges(&sorted, case.bins);
            let bits: Vec<u64> = edges.iter().map(|e| e.to_bits()).collect();
            assert_eq!(bits, case.edges_bits, "{}: edges {edges:?}", case.name);
            assert_eq!(
                bin_counts(&edges, &case.reference),
                case.reference_counts,
                "{}: reference counts",
                case.name
            );
            assert_eq!(
                bin_counts(&edges, &case.current),
                case.current_counts,
                "{}: current counts",
                case.name
            );
        }
    }

    #[test]
    fn empty_input_or_fewer_than_two_bins_gives_no_edges() {
        assert!(quantile_edges(&[], 10).is_empty());
        assert!(quantile_edges(&[1.0, 2.0], 1).is_empty());
        assert!(quantile_edges(&[1.0, 2.0], 0).is_empty());
    }

    #[test]
    fn constant_data_gives_one_edge() {
        assert_eq!(quantile_edges(&[3.5; 100], 10), vec![3.5]);
        assert_eq!(quantile_edges(&[3.5], 10), vec![3.5]);
    }

    #[test]
    fn duplicate_edges_are_merged() {
        assert_eq!(quantile_edges(&[0.0, 0.0, 0.0, 0.0, 1.0], 4), vec![0.0]);
        assert_eq!(
            quantile_edges(&[1.0, 1.0, 2.0, 2.0, 2.0, 3.0], 10),
            vec![1.0, 1.5, 2.0, 2.5]
        );
    }

    #[test]
    fn huge_bin_count_does_not_panic() {
        let edges = quantile_edges(&[1.0, 2.0, 3.0], 1 << 16);
        assert!(edges.first().is_some_and(|&e| e > 1.0));
        assert!(edges.windows(2).all(|w| w[0] < w[1]));
        assert!(edges.last().is_some_and(|&e| e < 3.0));
    }

    #[test]
    fn infinite_values_give_limits_not_nan() {
        let inf = f64::INFINITY;
        assert_eq!(quantile_edges(&[1.0, inf], 2), vec![inf]);
        assert_eq!(quantile_edges(&[-inf, 1.0], 4), vec![-inf]);
        assert_eq!(quantile_edges(&[-inf, 1.0, 2.0], 4), vec![-inf, 1.0, 1.5]);
        assert_eq!(quantile_edges(&[-inf, inf], 2), vec![-inf]);
        assert_eq!(quantile_edges(&[inf, inf], 2), vec![inf]);
        assert_eq!(quantile_edges(&[1.0, 1.0, inf], 4), vec![1.0, inf]);
    }

    #[test]
    fn bins_are_closed_on_the_right() {
        let edges = [1.0, 2.0];
        assert_eq!(bin_index(&edges, 0.5), 0);
        assert_eq!(bin_index(&edges, 1.0), 0);
        assert_eq!(bin_index(&edges, 1.5), 1);
        assert_eq!(bin_index(&edges, 2.0), 1);
        assert_eq!(bin_index(&edges, 2.5), 2);
        assert_eq!(bin_index(&edges, f64::NEG_INFINITY), 0);
        assert_eq!(bin_index(&edges, f64::INFINITY), 2);
        assert_eq!(bin_index(&edges, f64::NAN), 0);
        assert_eq!(bin_index(&[], 42.0), 0);
    }

    #[test]
    fn counts_have_one_more_bin_than_edges() {
        assert_eq!(bin_counts(&[], &[1.0, 2.0]), vec![2]);
        assert_eq!(bin_counts(&[1.0], &[]), vec![0, 0]);
        assert_eq!(
            bin_counts(&[1.0, 2.0], &[3.0, 1.0, 0.0, 2.0, 1.5]),
            vec![2, 2, 1]
        );
    }

    #[test]
    fn aligned_counts_pads_the_shorter_side_with_zeros() {
        let pairs: Vec<(u64, u64)> = aligned_counts(&[1, 2, 3], &[4]).collect();
        assert_eq!(pairs, vec![(1, 4), (2, 0), (3, 0)]);
        assert_eq!(aligned_counts(&[], &[]).count(), 0);
        assert_eq!(total(&[u64::MAX, u64::MAX]), 2 * u128::from(u64::MAX));
    }
}
