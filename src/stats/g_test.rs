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

use super::chisquare::{ChiSquareResult, over_table, with_p_value};

/// G-test of the aligned reference and current counts; statistic 0, p 1, dof 0 when fewer than
/// two categories are seen or a side is empty (nothing to compare), as for the chi-square test.
pub fn g_test(reference_counts: &[u64], current_counts: &[u64]) -> ChiSquareResult {
    // `O ln(O / E)`, 0 for an empty cell (its limit).
    let cell = |observed: f64, expected: f64| {
        if observed > 0.0 {
            observed * (observed / expected).ln()
        } else {
            0.0
        }
    };
    let cells = over_table(
        reference_counts,
        current_counts,
        |reference, expected_reference, current, expected_current| {
            cell(reference, expected_reference) + cell(current, expected_current)
        },
    );
    // An empty side has no columns to compare: "nothing to compare", as with too few.
    let (statistic, columns) = cells.unwrap_or((0.0, 0));
    with_p_value((2.0 * statistic).max(0.0), columns)
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
