//! Pearson chi-square test of homogeneity between the reference and current
//! category counts: the 2 × k contingency table `[reference; current]`, with
//! expected counts from the row and column margins and `k' − 1` degrees of
//! freedom for the `k'` categories seen on at least one side.
//!
//! Reference implementation: `scipy.stats.chi2_contingency(table,
//! correction=False)` after dropping all-zero columns (scipy rejects them); no
//! Yates correction, even with two categories.
//!
//! Where driftscope deliberately differs from Evidently: Evidently runs a
//! goodness-of-fit test (`scipy.stats.chisquare`) of the current counts against
//! the reference proportions, treating those proportions as exact although
//! they are themselves a sample. Its statistic is then inflated by the
//! reference's own noise: with equally sized samples from the *same*
//! distribution it false-alarms at α = 0.05 about 17% of the time with 2
//! categories, 1/3 with 5 and 1/2 with 10. The homogeneity test accounts for
//! the noise in both samples and keeps the nominal 5%.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::binning::{aligned_counts, total};

/// Outcome of [`homogeneity`], kept together so the statistic, p-value and
/// degrees of freedom can all be exported and logged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareResult {
    /// Pearson's statistic `Σ (observed − expected)² / expected`.
    pub statistic: f64,
    /// Chi-square survival function of `statistic` at `dof`.
    pub p_value: f64,
    /// Degrees of freedom: categories seen on either side, minus one.
    pub dof: usize,
}

/// "Nothing to compare": fewer than two categories or an empty side.
const NOTHING_TO_COMPARE: ChiSquareResult = ChiSquareResult {
    statistic: 0.0,
    p_value: 1.0,
    dof: 0,
};

/// Chi-square homogeneity test of the reference vs the current category
/// counts: the drift test for categorical features.
///
/// Both vectors must be aligned over the union of reference and window
/// categories. Computes what `scipy.stats.chi2_contingency(table,
/// correction=False)` does on the 2 × k table after dropping the columns whose
/// total is 0 (categories seen on neither side); `dof = k' − 1` for the `k'`
/// remaining columns, and the p-value is `ChiSquared(dof).sf(statistic)`.
///
/// Edge cases: if `k' ≤ 1` or either row total is 0 there is nothing to
/// compare and the result is statistic 0, p 1, dof 0 (scipy gives the same
/// for `k' = 1` and raises for an empty row). Vectors of different lengths are
/// compared as if the shorter were padded with zero counts. Totals are summed
/// in `u128`, so huge counts cannot overflow. Never NaN.
pub fn homogeneity(reference_counts: &[u64], current_counts: &[u64]) -> ChiSquareResult {
    let cells = over_table(
        reference_counts,
        current_counts,
        |reference, expected_reference, current, expected_current| {
            let d_reference = reference - expected_reference;
            let d_current = current - expected_current;
            d_reference * d_reference / expected_reference
                + d_current * d_current / expected_current
        },
    );
    // The statistic is finite and ≥ 0.
    cells.map_or(NOTHING_TO_COMPARE, |(statistic, columns)| {
        with_p_value(statistic, columns)
    })
}

/// Walks the 2 × k table `[reference; current]` of a homogeneity test: sums
/// `column(reference, expected_reference, current, expected_current)` over the columns seen
/// on at least one side, expected counts from the margins in scipy's `expected_freq` order
/// (row · column / total). Returns the sum and the number of columns, or `None` when a side
/// is empty. Shared by the chi-square test and the G-test, which differ only per column.
pub(super) fn over_table(
    reference_counts: &[u64],
    current_counts: &[u64],
    column: impl Fn(f64, f64, f64, f64) -> f64,
) -> Option<(f64, usize)> {
    let reference_total = total(reference_counts);
    let current_total = total(current_counts);
    if reference_total == 0 || current_total == 0 {
        return None;
    }
    let grand_total = (reference_total + current_total) as f64;
    let (reference_total, current_total) = (reference_total as f64, current_total as f64);
    let mut statistic = 0.0;
    let mut columns = 0_usize;
    for (reference, current) in aligned_counts(reference_counts, current_counts) {
        let column_total = u128::from(reference) + u128::from(current);
        if column_total == 0 {
            continue;
        }
        columns += 1;
        let column_total = column_total as f64;
        // Both totals are > 0 here, so no expected count is 0.
        let expected_reference = reference_total * column_total / grand_total;
        let expected_current = current_total * column_total / grand_total;
        statistic += column(
            reference as f64,
            expected_reference,
            current as f64,
            expected_current,
        );
    }
    Some((statistic, columns))
}

/// The result for `statistic` over `columns` table columns: `dof = columns − 1` and the
/// chi-square survival function, or "nothing to compare" for fewer than two columns.
pub(super) fn with_p_value(statistic: f64, columns: usize) -> ChiSquareResult {
    if columns <= 1 {
        return NOTHING_TO_COMPARE;
    }
    let dof = columns - 1;
    // `dof ≥ 1` is always a valid parameter.
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
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Case {
        name: String,
        reference_counts: Vec<u64>,
        current_counts: Vec<u64>,
        chi2_statistic: f64,
        chi2_p_value: f64,
        chi2_dof: usize,
    }

    #[derive(Deserialize)]
    struct Golden {
        counts: Vec<Case>,
    }

    /// Tolerances: statistic 1e-9 relative (absolute below 1) — same IEEE
    /// operations as scipy, only the summation order differs; p-value 1e-10
    /// absolute — statrs' incomplete gamma against scipy's cephes; dof exact.
    #[test]
    fn matches_scipy_golden() {
        let golden: Golden =
            serde_json::from_str(include_str!("../../tests/golden/stats.json")).unwrap();
        assert!(golden.counts.len() >= 10);
        for case in golden.counts {
            let actual = homogeneity(&case.reference_counts, &case.current_counts);
            let tolerance = 1e-9 * case.chi2_statistic.abs().max(1.0);
            assert!(
                (actual.statistic - case.chi2_statistic).abs() <= tolerance,
                "{}: statistic {} vs scipy {}",
                case.name,
                actual.statistic,
                case.chi2_statistic
            );
            assert!(
                (actual.p_value - case.chi2_p_value).abs() <= 1e-10,
                "{}: p {} vs scipy {}",
                case.name,
                actual.p_value,
                case.chi2_p_value
            );
            assert_eq!(actual.dof, case.chi2_dof, "{}: dof", case.name);
        }
    }

    #[test]
    fn empty_side_or_single_category_has_nothing_to_compare() {
        assert_eq!(homogeneity(&[], &[]), NOTHING_TO_COMPARE);
        assert_eq!(homogeneity(&[0, 0], &[3, 4]), NOTHING_TO_COMPARE);
        assert_eq!(homogeneity(&[3, 4], &[0, 0]), NOTHING_TO_COMPARE);
        assert_eq!(homogeneity(&[5, 0, 0], &[9, 0, 0]), NOTHING_TO_COMPARE);
        assert_eq!(homogeneity(&[5], &[9]), NOTHING_TO_COMPARE);
    }

    #[test]
    fn categories_seen_on_neither_side_are_dropped() {
        let with_zero = homogeneity(&[10, 0, 5, 0], &[3, 0, 7, 0]);
        let without = homogeneity(&[10, 5], &[3, 7]);
        assert_eq!(with_zero, without);
        assert_eq!(with_zero.dof, 1);
    }

    #[test]
    fn two_categories_have_no_yates_correction() {
        // Uncorrected: N (ad − bc)² / (row₁ row₂ col₁ col₂) = 4.8 for this table
        // (Yates would give 4.18).
        let result = homogeneity(&[30, 70], &[45, 55]);
        assert!((result.statistic - 4.8).abs() < 1e-12, "{result:?}");
        assert_eq!(result.dof, 1);
    }

    #[test]
    fn identical_proportions_give_p_one() {
        let result = homogeneity(&[10, 20, 30], &[20, 40, 60]);
        assert_eq!(result.statistic, 0.0);
        assert_eq!(result.p_value, 1.0);
        assert_eq!(result.dof, 2);
    }

    #[test]
    fn mismatched_lengths_are_zero_padded() {
        assert_eq!(
            homogeneity(&[5, 5], &[5, 5, 2]),
            homogeneity(&[5, 5, 0], &[5, 5, 2])
        );
    }

    #[test]
    fn huge_counts_give_finite_statistic_and_valid_p() {
        let result = homogeneity(&[u64::MAX, u64::MAX, 1], &[u64::MAX, 1, u64::MAX]);
        assert!(result.statistic.is_finite() && result.statistic > 0.0);
        assert_eq!(result.p_value, 0.0);
        assert_eq!(result.dof, 2);
        let same = homogeneity(&[u64::MAX, u64::MAX], &[u64::MAX, u64::MAX]);
        assert_eq!((same.statistic, same.p_value), (0.0, 1.0));
    }
}
