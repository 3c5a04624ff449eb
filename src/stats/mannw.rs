//! Mann–Whitney U test, two-sided.
//!
//! Reference implementation: `scipy.stats.mannwhitneyu(reference, current,
//! alternative="two-sided")` with its default `method="auto"`: the exact null distribution
//! when a sample has at most 8 values and there are no ties, else the normal approximation
//! with the tie correction and a continuity correction.
//!
//! Where driftscope deliberately differs from Evidently: Evidently's `mannw` calls scipy's
//! default `alternative`, two-sided since scipy 1.7 but one-sided before, so its verdicts
//! depend on the installed scipy; drift is a change in either direction, so this test is
//! always two-sided.

use statrs::distribution::{ContinuousCDF, Normal};

use super::computable::{NotComputable, Outcome, TestResult};
use super::ties::groups;

/// Sizes at or below which (on either side, without ties) the exact distribution is used.
const EXACT_MAX: usize = 8;

/// Two-sided Mann–Whitney U test of two ascending samples. The statistic is U of the
/// reference (scipy's `U1`). Not computable only when a side is empty.
pub fn mannwhitneyu(reference: &[f64], current: &[f64]) -> Outcome<TestResult> {
    let (n1, n2) = (reference.len(), current.len());
    if n1 == 0 || n2 == 0 {
        return Err(NotComputable::TooFewValues);
    }
    let (mut rank_sum, mut tie_term, mut below, mut tied) = (0.0, 0.0, 0usize, false);
    for tie in groups(reference, current) {
        let t = tie.total() as f64;
        rank_sum += tie.first as f64 * (below as f64 + (t + 1.0) / 2.0);
        tie_term += t * t * t - t;
        tied |= tie.total() > 1;
        below += tie.total();
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = rank_sum - f1 * (f1 + 1.0) / 2.0;
    let u = u1.max(f1 * f2 - u1);
    let one_sided = if (n1 > EXACT_MAX && n2 > EXACT_MAX) || tied {
        let n = f1 + f2;
        let sd = (f1 * f2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
        // 0 / 0 cannot happen: U − μ − ½ ≤ −½ when every value ties.
        let z = (u - f1 * f2 / 2.0 - 0.5) / sd;
        Normal::standard().sf(z)
    } else {
        exact_sf(u as usize, n1.min(n2), n1.max(n2))
    };
    Ok(TestResult {
        statistic: u1,
        p_value: (2.0 * one_sided).clamp(0.0, 1.0),
    })
}

/// P(U ≥ u) for samples of `small` ≤ `large` values without ties. By symmetry this is
/// P(U ≤ small·large − u); the counts of U = 0, 1, … are the coefficients of the Gaussian
/// binomial `∏ᵢ (1 − q^(large+i)) / (1 − qⁱ)` for i = 1..small, truncated where needed.
fn exact_sf(u: usize, small: usize, large: usize) -> f64 {
    let top = (small * large).saturating_sub(u);
    let mut counts = vec![0.0f64; top + 1];
    counts[0] = 1.0;
    for i in 1..=small {
        // Divide by (1 − qⁱ) (a running sum with stride i), then multiply by (1 − q^(large+i)).
        for d in i..=top {
            counts[d] += counts[d - i];
        }
        let shift = large + i;
        for d in (shift..=top).rev() {
            counts[d] -= counts[d - shift];
        }
    }
    let paths = binomial(small + large, small);
    counts.iter().sum::<f64>() / paths
}

/// `n choose k` as a float.
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 vs 3 without ties: 20 arrangements, U ∈ 0..=9 with counts 1,1,2,3,3,3,3,2,1,1.
    #[test]
    fn exact_tail_counts_arrangements() {
        assert!((exact_sf(9, 3, 3) - 1.0 / 20.0).abs() < 1e-15);
        assert!((exact_sf(7, 3, 3) - 4.0 / 20.0).abs() < 1e-15);
        assert!((exact_sf(0, 3, 3) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn all_tied_is_p_one() {
        let r = mannwhitneyu(&[1.0, 1.0], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(r.p_value, 1.0);
    }
}
