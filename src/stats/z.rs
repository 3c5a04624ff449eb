//! Pooled two-proportion z-test for binary columns (Evidently's `z`
//! stattest): is the share of "true" in the window different from the
//! reference's?
//!
//! Reference implementation: the textbook pooled statistic evaluated in Python
//! with `scipy.stats.norm.sf` for the p-value (`tools/golden/gen_stats.py`).
//!
//! Where driftscope deliberately differs from Evidently: the statistic is
//! `p_cur − p_ref` (Evidently computes `p_ref − p_cur`; the two-sided p-value
//! is the same), and the p-value is `2·sf(|z|)` rather than
//! `2·(1 − cdf(|z|))`, which rounds to 0 once p drops below ~1e-16.

use statrs::distribution::{ContinuousCDF, Normal};

/// Outcome of [`two_proportion`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZResult {
    /// Pooled z statistic; positive when the current proportion is higher.
    pub statistic: f64,
    /// Two-sided p-value, `2·sf(|z|)`.
    pub p_value: f64,
}

/// "Nothing to compare": an empty side, or both samples constant and equal.
const NOTHING_TO_COMPARE: ZResult = ZResult {
    statistic: 0.0,
    p_value: 1.0,
};

/// Two-sided pooled z-test of `p_ref = ref_successes / ref_n` vs
/// `p_cur = cur_successes / cur_n`: the drift test for binary features.
///
/// With the pooled proportion `P = (x1 + x2) / (n1 + n2)`,
/// `z = (p_cur − p_ref) / sqrt(P (1 − P) (1/n1 + 1/n2))` and
/// `p = 2·sf(|z|)` (the normal survival function keeps tail p-values
/// accurate).
///
/// Edge cases: either `n` is 0 → z 0, p 1; `P` is 0 or 1 (both samples
/// constant and equal) → z 0, p 1. Successes above `n` (a caller bug) are
/// clamped to `n`. Counts are converted to `f64` before any sum, so huge
/// counts cannot overflow. Never NaN.
pub fn two_proportion(ref_successes: u64, ref_n: u64, cur_successes: u64, cur_n: u64) -> ZResult {
    if ref_n == 0 || cur_n == 0 {
        return NOTHING_TO_COMPARE;
    }
    let (x1, n1) = (ref_successes.min(ref_n) as f64, ref_n as f64);
    let (x2, n2) = (cur_successes.min(cur_n) as f64, cur_n as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    if pooled <= 0.0 || pooled >= 1.0 {
        return NOTHING_TO_COMPARE;
    }
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let statistic = (x2 / n2 - x1 / n1) / standard_error;
    let p_value = 2.0 * Normal::standard().sf(statistic.abs());
    ZResult {
        statistic,
        p_value: p_value.min(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Case {
        name: String,
        ref_successes: u64,
        ref_n: u64,
        cur_successes: u64,
        cur_n: u64,
        statistic: f64,
        p_value: f64,
    }

    #[derive(Deserialize)]
    struct Golden {
        z: Vec<Case>,
    }

    /// Tolerances: statistic 1e-9 relative (absolute below 1) — the same
    /// formula in IEEE doubles; p-value 1e-10 absolute — statrs' erfc against
    /// scipy's cephes `ndtr`.
    #[test]
    fn matches_scipy_golden() {
        let golden: Golden =
            serde_json::from_str(include_str!("../../tests/golden/stats.json")).unwrap();
        assert!(golden.z.len() >= 10);
        for case in golden.z {
            let actual = two_proportion(
                case.ref_successes,
                case.ref_n,
                case.cur_successes,
                case.cur_n,
            );
            let tolerance = 1e-9 * case.statistic.abs().max(1.0);
            assert!(
                (actual.statistic - case.statistic).abs() <= tolerance,
                "{}: z {} vs {}",
                case.name,
                actual.statistic,
                case.statistic
            );
            assert!(
                (actual.p_value - case.p_value).abs() <= 1e-10,
                "{}: p {} vs scipy {}",
                case.name,
                actual.p_value,
                case.p_value
            );
        }
    }

    #[test]
    fn empty_side_gives_nothing_to_compare() {
        assert_eq!(two_proportion(0, 0, 3, 10), NOTHING_TO_COMPARE);
        assert_eq!(two_proportion(3, 10, 0, 0), NOTHING_TO_COMPARE);
        assert_eq!(two_proportion(0, 0, 0, 0), NOTHING_TO_COMPARE);
    }

    #[test]
    fn constant_equal_samples_give_nothing_to_compare() {
        assert_eq!(two_proportion(0, 100, 0, 7), NOTHING_TO_COMPARE);
        assert_eq!(two_proportion(100, 100, 7, 7), NOTHING_TO_COMPARE);
    }

    #[test]
    fn sign_follows_current_minus_reference() {
        assert!(two_proportion(10, 100, 30, 100).statistic > 0.0);
        assert!(two_proportion(30, 100, 10, 100).statistic < 0.0);
        let up = two_proportion(10, 100, 30, 100);
        let down = two_proportion(30, 100, 10, 100);
        assert_eq!(up.p_value, down.p_value);
    }

    #[test]
    fn successes_above_n_are_clamped() {
        assert_eq!(two_proportion(50, 10, 3, 10), two_proportion(10, 10, 3, 10));
        assert_eq!(two_proportion(50, 10, 70, 10), NOTHING_TO_COMPARE);
    }

    #[test]
    fn huge_counts_and_extreme_differences_stay_finite() {
        let result = two_proportion(0, u64::MAX, u64::MAX, u64::MAX);
        assert!(result.statistic.is_finite() && result.statistic > 0.0);
        assert_eq!(result.p_value, 0.0);
        let same = two_proportion(u64::MAX / 2, u64::MAX, u64::MAX / 2, u64::MAX);
        assert_eq!((same.statistic, same.p_value), (0.0, 1.0));
    }
}
