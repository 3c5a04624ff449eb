//! A column of a binned window (`window.summary: binned`) against its reference: the same
//! tests, on counts.
//!
//! - KS: from the counts over the fine bins; exact when the reference has few distinct values
//!   (points layout), else bracketed ([`ks::binned`]): the score and p-value are taken at the
//!   lower bound and the bracket is reported as [`Approximation`].
//! - PSI, Jensen–Shannon, Hellinger, KL and TVD: the window also counts the coarse
//!   reference-quantile bins, so they are exact.
//! - Chi-square, G, z and Fisher on a numeric column: over the fine bins with values; window
//!   values the reference never had count per gap between reference values, not per value.
//! - Categorical columns: category counts are all every test uses, so every test is exact.
//! - Wasserstein and the rank, moment and characteristic-function tests (Anderson–Darling,
//!   Cramér–von Mises, Mann–Whitney, t, energy, Epps–Singleton) need the values themselves:
//!   config validation refuses them on binned windows.

use crate::config::TestKind;
use crate::reference::profile::{NumericProfile, ReferenceProfile};
use crate::stats::finebins::FineBins;
use crate::stats::ks;
use crate::window::panes::BinnedColumn;

use super::{Approximation, ColumnCheck, ColumnOutcome, Computed, Tested, counts, numeric};

impl ColumnCheck {
    /// Whether the test can run on a binned window's counts.
    pub fn runs_on_counts(&self) -> bool {
        numeric::binned(self.test)
            || matches!(
                self.test,
                TestKind::Ks
                    | TestKind::Chisquare
                    | TestKind::GTest
                    | TestKind::Z
                    | TestKind::FisherExact
            )
    }

    /// Compares one binned window column with the reference; like [`ColumnCheck::evaluate`].
    pub fn evaluate_binned(&self, column: &BinnedColumn) -> ColumnOutcome {
        let mut outcome = self.blank_outcome();
        outcome.missing = column.missing as usize;
        outcome.invalid = column.invalid as usize;
        outcome.out_of_range = column.out_of_range as usize;
        outcome.values = column.counts.iter().sum::<u64>() as usize;
        let tested = match (&*self.reference, &column.fine) {
            (ReferenceProfile::Numeric(reference), Some(fine)) if outcome.values > 0 => {
                self.numeric_counts(reference, fine, column, &mut outcome.approximation)
            }
            (ReferenceProfile::Categorical(reference), None) if outcome.values > 0 => {
                let known = reference.counts.len();
                outcome.new_category = column.counts.iter().skip(known).sum::<u64>() as usize;
                Some(self.category_test(reference, &column.counts))
            }
            _ => None,
        };
        self.finish(&mut outcome, tested);
        outcome
    }

    fn numeric_counts(
        &self,
        reference: &NumericProfile,
        fine: &FineBins,
        column: &BinnedColumn,
        approximation: &mut Option<Approximation>,
    ) -> Option<Computed> {
        match self.test {
            TestKind::Ks => {
                let ref_counts = &fine.reference_counts;
                if ref_counts.len() != column.counts.len() {
                    return None;
                }
                let d = ks::binned::statistic(ref_counts, &column.counts, |b| fine.is_point(b));
                let (n, m) = (
                    reference.sorted.len(),
                    column.counts.iter().sum::<u64>() as usize,
                );
                let p_value = ks::p_value(d.lower, n, m);
                if d.upper > d.lower {
                    *approximation = Some(Approximation {
                        score_upper: d.upper,
                        p_value_lower: ks::p_value(d.upper, n, m),
                    });
                }
                Some(Ok(Tested::new(d.lower, Some(p_value), d.lower)))
            }
            test if numeric::binned(test) => {
                Some(counts::test(self, &reference.bin_counts, &column.coarse, 0))
            }
            TestKind::Chisquare | TestKind::GTest | TestKind::Z | TestKind::FisherExact => {
                let ref_counts = &fine.reference_counts;
                let (mut r, mut c) = (Vec::new(), Vec::new());
                // z and Fisher compare the share of the reference's smallest value: its index
                // among the bins either side has values in.
                let mut z_category = None;
                for (&a, &b) in ref_counts.iter().zip(&column.counts) {
                    if a > 0 || b > 0 {
                        if a > 0 && z_category.is_none() {
                            z_category = Some(r.len());
                        }
                        r.push(a);
                        c.push(b);
                    }
                }
                Some(counts::test(self, &r, &c, z_category.unwrap_or(0)))
            }
            // Refused on binned windows by config validation ([`ColumnCheck::runs_on_counts`]).
            _ => None,
        }
    }
}
