//! G-test (log-likelihood ratio) of homogeneity between reference and current counts: the
//! 2 × k table `[reference; current]`, `G = 2 Σ O ln(O / E)` with E from the margins, and
//! `k' − 1` degrees of freedom for the `k'` categories seen on at least one side.
//!
//! Reference implementation: `scipy.stats.chi2_contingency(table, correction=False,
//! lambda_="log-likelihood")` after dropping all-zero columns (scipy rejects them).
//!
//! Where driftscope deliberately differs from Evidently: Evidently's `g_test` is a
//! goodness-of-fit test of the window's counts against the reference's counts as expected
//! frequencies, which scipy rejects unless both have the same total (and which, like
//! Evidently's chi-square, ignores the reference's own noise); this is the homogeneity test,
//! the likelihood-ratio twin of driftscope's chi-square, for any two sizes.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::binning::{aligned_counts, total};
use super::chisquare::ChiSquareResult;

/// G-test of the aligned reference and current counts; statistic 0, p 1, dof 0 when fewer than
/// two categories are seen or a side is empty (nothing to compare), as for the chi-square test.
pub fn g_test(reference_counts: &[u64], current_counts: &[u64]) -> ChiSquareResult {
    let nothing = ChiSquareResult {
        statistic: 0.0,
        p_value: 1.0,
        dof: 0,
    };
    let (reference_total, current_total) = (total(reference_counts), total(current_counts));
    if reference_total == 0 || current_total == 0 {
        return nothing;
    }
    let grand_total = (reference_total + current_total) as f64;
    let (reference_total, current_total) = (reference_total as f64, current_total as f64);
    let (mut statistic, mut columns) = (0.0, 0usize);
    for (reference, current) in aligned_counts(reference_counts, current_counts) {
        let column_total = u128::from(reference) + u128::from(current);
        if column_total == 0 {
            continue;
        }
        columns += 1;
        let column_total = column_total as f64;
        for (observed, row_total) in [(reference, reference_total), (current, current_total)] {
            if observed > 0 {
                let expected = row_total * column_total / grand_total;
                let observed = observed as f64;
                statistic += observed * (observed / expected).ln();
            }
        }
    }
    if columns <= 1 {
        return nothing;
    }
    let statistic = (2.0 * statistic).max(0.0);
    let dof = columns - 1;
    let p_value = ChiSquared::new(dof as f64).map_or(1.0, |chi2| chi2.sf(statistic));
    ChiSquareResult {
        statistic,
        p_value: p_value.clamp(0.0, 1.0),
        dof,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_shares_give_zero() {
        let r = g_test(&[10, 20, 30], &[1, 2, 3]);
        assert!(r.statistic.abs() < 1e-12 && r.dof == 2, "{r:?}");
        assert_eq!(g_test(&[5, 0], &[3, 0]).dof, 0);
    }
}
