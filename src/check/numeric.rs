//! The tests of a numeric column: the EDF and rank tests on the sorted values, the distances,
//! and the count tests on bins or distinct values.

use super::{ColumnCheck, Computed, Tested, counts};
use crate::config::TestKind;
use crate::reference::profile::NumericProfile;
use crate::stats::{
    anderson, binning, cramer_von_mises, effect, energy, epps_singleton, ks, mannw, t_test,
    wasserstein,
};

/// Tests that only count the window's values into the reference's quantile bins, so need not
/// sort them.
pub(super) fn binned(test: TestKind) -> bool {
    matches!(
        test,
        TestKind::Psi
            | TestKind::Jensenshannon
            | TestKind::Hellinger
            | TestKind::KlDiv
            | TestKind::Tvd
    )
}

/// Tests that read the window's values in order (EDF, ranks, quantiles): the window is sorted
/// for them. The binned tests count values, and Welch's t only sums them.
pub(super) fn sorts(test: TestKind) -> bool {
    !binned(test) && test != TestKind::TTest
}

/// Tests the window's values; `current` is ascending when [`sorts`] says the test needs it. The EDF tests without an effect of their own (Anderson–Darling, Cramér–von Mises,
/// Epps–Singleton) use KS's D, the largest gap between the two distribution functions.
pub(super) fn test(check: &ColumnCheck, reference: &NumericProfile, current: &[f64]) -> Computed {
    let sorted = &reference.sorted[..];
    let d = || ks::statistic(sorted, current);
    Ok(match check.test {
        TestKind::Ks => {
            let r = ks::ks_2samp(sorted, current);
            Tested::new(r.statistic, Some(r.p_value), r.statistic)
        }
        TestKind::Anderson => {
            let r = anderson::anderson_ksamp(sorted, current)?;
            Tested::new(r.statistic, Some(r.p_value), d())
        }
        TestKind::CramerVonMises => {
            let r = cramer_von_mises::cramervonmises_2samp(sorted, current)?;
            Tested::new(r.statistic, Some(r.p_value), d())
        }
        TestKind::Es => {
            let r = epps_singleton::epps_singleton_2samp(sorted, current)?;
            Tested::new(r.statistic, Some(r.p_value), d())
        }
        TestKind::Mannw => {
            let r = mannw::mannwhitneyu(sorted, current)?;
            let e = effect::rank_biserial(r.statistic, sorted.len(), current.len());
            Tested::new(r.statistic, Some(r.p_value), e)
        }
        TestKind::TTest => {
            let r = t_test::welch(sorted, current)?;
            Tested::new(
                r.statistic,
                Some(r.p_value),
                effect::cohens_d(sorted, current),
            )
        }
        TestKind::Wasserstein => {
            let w = wasserstein::normed_distance(sorted, current, reference.std);
            Tested::new(w, None, w)
        }
        TestKind::Ed => {
            let e = energy::distance(sorted, current);
            Tested::new(e, None, e)
        }
        TestKind::Psi
        | TestKind::Jensenshannon
        | TestKind::Hellinger
        | TestKind::KlDiv
        | TestKind::Tvd => {
            let window = binning::bin_counts(&reference.edges, current);
            return counts::test(check, &reference.bin_counts, &window, 0);
        }
        TestKind::Chisquare | TestKind::Z | TestKind::GTest | TestKind::FisherExact => {
            let (ref_counts, cur_counts) = distinct_value_counts(sorted, current);
            // Index 0 is the smallest value seen on either side; the two-proportion tests
            // compare the share of the reference's smallest value, which is index 0 unless
            // the window holds smaller values.
            let first_ref = reference_min_position(sorted, current);
            return counts::test(check, &ref_counts, &cur_counts, first_ref);
        }
    })
}

/// Counts of each distinct value over the union of two sorted samples, aligned.
fn distinct_value_counts(reference: &[f64], current: &[f64]) -> (Vec<u64>, Vec<u64>) {
    crate::stats::ties::groups(reference, current)
        .iter()
        .map(|tie| (tie.first as u64, tie.second as u64))
        .unzip()
}

/// Position of the reference's smallest value among the distinct values of both samples.
pub(super) fn reference_min_position(reference: &[f64], current: &[f64]) -> usize {
    let min = reference[0];
    let below = current.partition_point(|&v| v < min);
    // Distinct window values below the reference minimum come first in the union.
    1 + current[..below].windows(2).filter(|w| w[0] != w[1]).count() - usize::from(below == 0)
}
