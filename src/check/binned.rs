//! A column of a binned window (`window.summary: binned`) against its reference: the same
//! tests, on counts.
//!
//! - KS: from the counts over the fine bins; exact when the reference has few distinct values
//!   (points layout), else bracketed ([`ks::binned`]): the score and p-value are taken at the
//!   lower bound and the bracket is reported as [`Approximation`].
//! - PSI and Jensen–Shannon: the window also counts the coarse reference-quantile bins, so they
//!   are exact.
//! - Chi-square and z on a numeric column: over the fine bins with values; window values the
//!   reference never had count per gap between reference values rather than per value.
//! - Categorical columns: category counts are all every test uses, so every test is exact.
//! - Wasserstein needs the values themselves: config validation refuses it on binned windows.

use crate::config::TestKind;
use crate::reference::profile::{NumericProfile, ReferenceProfile};
use crate::stats::finebins::FineBins;
use crate::stats::ks;
use crate::window::panes::BinnedColumn;

use super::{Approximation, ColumnCheck, ColumnOutcome, Tested};

impl ColumnCheck {
    /// Whether the test can run on a binned window's counts.
    pub fn runs_on_counts(&self) -> bool {
        self.test != TestKind::Wasserstein
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
                let mut reference = reference.counts.clone();
                reference.resize(reference.len().max(column.counts.len()), 0);
                let mut current = column.counts.clone();
                current.resize(reference.len(), 0);
                Some(self.count_test(&reference, &current, 0))
            }
            _ => None,
        };
        self.decide(&mut outcome, tested);
        outcome
    }

    fn numeric_counts(
        &self,
        reference: &NumericProfile,
        fine: &FineBins,
        column: &BinnedColumn,
        approximation: &mut Option<Approximation>,
    ) -> Option<Tested> {
        match self.test {
            TestKind::Ks => {
                let ref_counts = fine.counts_sorted(&reference.sorted);
                if ref_counts.len() != column.counts.len() {
                    return None;
                }
                let d = ks::binned::statistic(&ref_counts, &column.counts, |b| fine.is_point(b));
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
                Some(Tested::new(d.lower, Some(p_value), d.lower))
            }
            TestKind::Psi | TestKind::Jensenshannon => {
                Some(self.count_test(&reference.bin_counts, &column.coarse, 0))
            }
            TestKind::Chisquare | TestKind::Z => {
                let ref_counts = fine.counts_sorted(&reference.sorted);
                let (mut r, mut c) = (Vec::new(), Vec::new());
                // The z-test compares the share of the reference's smallest value: its index
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
                Some(self.count_test(&r, &c, z_category.unwrap_or(0)))
            }
            TestKind::Wasserstein => None,
        }
    }
}
