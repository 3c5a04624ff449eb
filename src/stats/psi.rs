//! Population Stability Index (PSI) between a reference and a current
//! histogram: `Σ (p_cur − p_ref) · ln(p_cur / p_ref)` over aligned bins or
//! categories, with an empty bin's proportion of exactly 0 replaced by 0.0001
//! on each side independently (no renormalisation), as Evidently does.
//!
//! Reference implementation: the same formula evaluated with numpy in
//! `tools/golden/gen_stats.py`.
//!
//! Where driftscope deliberately differs from Evidently: for numeric features
//! the bins are the reference quantiles fixed when the reference is loaded
//! (see `binning.rs`), not Sturges bins recomputed on the pooled
//! reference + current data for every comparison.

use super::binning::aligned_shares;

/// Proportion substituted for an empty bin so its log ratio stays finite
/// (Evidently's value).
const EMPTY_BIN_PROPORTION: f64 = 0.0001;

/// PSI of the current histogram against the reference one: the drift score
/// for histogram-compared (binned numeric or categorical) features.
///
/// Both vectors must be aligned (same bin/category order; for categories the
/// caller aligns over the union of reference and window categories).
/// Proportions are `count / total`, and a proportion of exactly 0 is replaced
/// by 0.0001 on each side independently, without renormalising.
///
/// Edge cases: returns 0.0 if either side's total is 0 (nothing to compare;
/// callers avoid it). Vectors of different lengths are compared as if the
/// shorter were padded with zero counts. Totals are summed in `u128`, so huge
/// counts cannot overflow; the result is always finite and ≥ 0.
pub fn psi(reference_counts: &[u64], current_counts: &[u64]) -> f64 {
    aligned_shares(reference_counts, current_counts).map_or(0.0, |shares| {
        shares
            .map(|(reference, current)| {
                let (p_ref, p_cur) = (filled(reference), filled(current));
                (p_cur - p_ref) * (p_cur / p_ref).ln()
            })
            .sum()
    })
}

/// A bin's proportion, or [`EMPTY_BIN_PROPORTION`] for an empty bin.
fn filled(share: f64) -> f64 {
    if share == 0.0 {
        EMPTY_BIN_PROPORTION
    } else {
        share
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Case {
        name: String,
        reference_counts: Vec<u64>,
        current_counts: Vec<u64>,
        psi: f64,
    }

    #[derive(Deserialize)]
    struct Golden {
        counts: Vec<Case>,
    }

    /// Tolerance 1e-9, relative for |expected| > 1 and absolute below. The
    /// terms are identical IEEE operations; only the summation order differs
    /// (numpy sums pairwise), which costs a few ulps.
    #[test]
    fn matches_numpy_golden() {
        let golden: Golden =
            serde_json::from_str(include_str!("../../tests/golden/stats.json")).unwrap();
        assert!(golden.counts.len() >= 10);
        for case in golden.counts {
            let actual = psi(&case.reference_counts, &case.current_counts);
            let tolerance = 1e-9 * case.psi.abs().max(1.0);
            assert!(
                (actual - case.psi).abs() <= tolerance,
                "{}: psi {actual} vs numpy {}",
                case.name,
                case.psi
            );
        }
    }

    #[test]
    fn zero_total_on_either_side_gives_zero() {
        assert_eq!(psi(&[], &[]), 0.0);
        assert_eq!(psi(&[0, 0], &[1, 2]), 0.0);
        assert_eq!(psi(&[1, 2], &[0, 0]), 0.0);
        assert_eq!(psi(&[1, 2], &[]), 0.0);
    }

    #[test]
    fn identical_proportions_give_zero() {
        assert_eq!(psi(&[10, 20, 0, 30], &[1, 2, 0, 3]), 0.0);
    }

    #[test]
    fn empty_bins_use_the_fill_proportion_on_each_side() {
        // p_ref = (1, 0.0001), p_cur = (0.0001, 1): no renormalisation.
        let expected = 2.0 * (1.0 - 0.0001) * (1.0_f64 / 0.0001).ln();
        assert!((psi(&[7, 0], &[0, 3]) - expected).abs() < 1e-12);
    }

    #[test]
    fn mismatched_lengths_are_zero_padded() {
        assert_eq!(psi(&[5, 5], &[5, 5, 0]), psi(&[5, 5, 0], &[5, 5, 0]));
        assert_eq!(psi(&[5, 5, 1], &[5, 5]), psi(&[5, 5, 1], &[5, 5, 0]));
    }

    #[test]
    fn huge_counts_stay_finite() {
        let value = psi(&[u64::MAX, u64::MAX, 1], &[u64::MAX, 1, u64::MAX]);
        assert!(value.is_finite() && value > 0.0, "{value}");
    }
}
