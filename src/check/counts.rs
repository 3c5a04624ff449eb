//! The tests on aligned counts: a categorical column's categories, or a numeric column's bins
//! or distinct values.

use super::{ColumnCheck, Computed, Tested};
use crate::config::TestKind;
use crate::stats::{
    chisquare, effect, fisher_exact, g_test, hellinger, jensenshannon, kl_div, pooling, psi, tvd, z,
};

/// Tests aligned counts; `category` is the index whose share the two-proportion tests (z,
/// Fisher) compare.
pub(super) fn test(
    check: &ColumnCheck,
    reference: &[u64],
    current: &[u64],
    category: usize,
) -> Computed {
    let distance = |score: f64| Ok(Tested::new(score, None, score));
    match check.test {
        TestKind::Psi => distance(psi::psi(reference, current)),
        TestKind::Jensenshannon => distance(jensenshannon::distance(reference, current)),
        TestKind::Hellinger => distance(hellinger::distance(reference, current)),
        TestKind::KlDiv => distance(kl_div::divergence(reference, current)),
        TestKind::Tvd => distance(tvd::distance(reference, current)),
        TestKind::Chisquare | TestKind::GTest => {
            let pooled;
            let (reference, current) = if check.rule.pool_rare_cells {
                pooled = pooling::pool_small_cells(reference, current);
                (pooled.0.as_slice(), pooled.1.as_slice())
            } else {
                (reference, current)
            };
            let r = if check.test == TestKind::Chisquare {
                chisquare::homogeneity(reference, current)
            } else {
                g_test::g_test(reference, current)
            };
            // For the G-test too: G and Pearson's χ² agree to second order, so w is comparable.
            let w = effect::cohens_w(r.statistic, reference.iter().sum(), current.iter().sum());
            Ok(Tested::new(r.statistic, Some(r.p_value), w))
        }
        TestKind::Z | TestKind::FisherExact => {
            let n_ref = reference.iter().sum();
            let n_cur = current.iter().sum();
            let hit = |c: &[u64]| c.get(category).copied().unwrap_or(0);
            let (hit_ref, hit_cur) = (hit(reference), hit(current));
            let h = effect::cohens_h(hit_ref, n_ref, hit_cur, n_cur);
            if check.test == TestKind::Z {
                let r = z::two_proportion(hit_ref, n_ref, hit_cur, n_cur);
                Ok(Tested::new(r.statistic, Some(r.p_value), h))
            } else {
                // Fisher has no statistic of its own besides the table: report the p-value.
                let p =
                    fisher_exact::fisher_exact(hit_ref, n_ref - hit_ref, hit_cur, n_cur - hit_cur);
                Ok(Tested::new(p, Some(p), h))
            }
        }
        // Not count-based; `ColumnCheck::with_profile` never pairs them with counts, and a score
        // of 0 is a harmless answer should that change.
        TestKind::Ks
        | TestKind::Wasserstein
        | TestKind::Anderson
        | TestKind::CramerVonMises
        | TestKind::Mannw
        | TestKind::TTest
        | TestKind::Ed
        | TestKind::Es => Ok(Tested::new(0.0, None, 0.0)),
    }
}
