//! Jensen–Shannon distance between a reference and a current histogram: the
//! square root of the Jensen–Shannon divergence, natural log, so it lies in
//! `[0, sqrt(ln 2)]`.
//!
//! Reference implementation: `scipy.spatial.distance.jensenshannon(p_ref,
//! p_cur)` with `base=None`, which normalises each count vector itself.
//!
//! Unlike PSI, empty bins need no 0.0001 fill (`0 · ln 0` is 0), so the counts
//! are used as they are. Where driftscope deliberately differs from Evidently:
//! numeric bins are the reference quantiles fixed at load time (see
//! `binning.rs`), not bins recomputed on the pooled data for each comparison.

use std::f64::consts::LN_2;

use super::binning::aligned_shares;

/// Jensen–Shannon distance (natural log) between two aligned count vectors: a
/// bounded, symmetric alternative to PSI for histogram-compared features.
///
/// Equals `scipy.spatial.distance.jensenshannon(reference_counts,
/// current_counts)`; empty bins are not filled (unlike [`super::psi::psi`]).
///
/// Edge cases: 0.0 if either total is 0 (nothing to compare). Vectors of
/// different lengths are compared as if the shorter were padded with zero
/// counts. Rounding can push the divergence a hair outside `[0, ln 2]`; it is
/// clamped there, so the result is never NaN (where scipy would take the
/// square root of a divergence rounded below zero) and never exceeds
/// `sqrt(ln 2)`.
pub fn distance(reference_counts: &[u64], current_counts: &[u64]) -> f64 {
    let Some(shares) = aligned_shares(reference_counts, current_counts) else {
        return 0.0;
    };
    let (mut left, mut right) = (0.0, 0.0);
    for (p, q) in shares {
        let m = (p + q) / 2.0;
        // scipy's rel_entr(x, m): x · ln(x / m), and 0 for x = 0.
        if p > 0.0 {
            left += p * (p / m).ln();
        }
        if q > 0.0 {
            right += q * (q / m).ln();
        }
    }
    ((left + right) / 2.0).clamp(0.0, LN_2).sqrt()
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
        jensenshannon: f64,
    }

    #[derive(Deserialize)]
    struct Golden {
        counts: Vec<Case>,
    }

    /// Tolerance 1e-9 absolute (every expected value is ≤ sqrt(ln 2) < 1, so
    /// this is the "relative-or-absolute" 1e-9). The terms are scipy's IEEE
    /// operations; only the summation order differs (numpy sums pairwise).
    #[test]
    fn matches_scipy_golden() {
        let golden: Golden =
            serde_json::from_str(include_str!("../../tests/golden/stats.json")).unwrap();
        assert!(golden.counts.len() >= 10);
        for case in golden.counts {
            let actual = distance(&case.reference_counts, &case.current_counts);
            assert!(
                (actual - case.jensenshannon).abs() <= 1e-9,
                "{}: distance {actual} vs scipy {}",
                case.name,
                case.jensenshannon
            );
        }
    }

    #[test]
    fn zero_total_on_either_side_gives_zero() {
        assert_eq!(distance(&[], &[]), 0.0);
        assert_eq!(distance(&[0, 0], &[1, 2]), 0.0);
        assert_eq!(distance(&[1, 2], &[0, 0]), 0.0);
    }

    #[test]
    fn identical_proportions_give_zero() {
        assert_eq!(distance(&[10, 20, 0, 30], &[1, 2, 0, 3]), 0.0);
    }

    #[test]
    fn disjoint_supports_give_the_maximum() {
        let max = LN_2.sqrt();
        assert!((distance(&[5, 0], &[0, 9]) - max).abs() < 1e-15);
        assert!(distance(&[5, 0, 0], &[0, 9, 3]) <= max);
    }

    #[test]
    fn mismatched_lengths_are_zero_padded() {
        assert_eq!(
            distance(&[5, 5], &[5, 5, 2]),
            distance(&[5, 5, 0], &[5, 5, 2])
        );
    }

    #[test]
    fn huge_counts_stay_finite() {
        let value = distance(&[u64::MAX, u64::MAX, 1], &[u64::MAX, 1, u64::MAX]);
        assert!(value.is_finite() && value > 0.0, "{value}");
    }
}
