//! A binned window column against the same rows kept exactly.

use std::sync::Arc;

use super::*;
use crate::stats::binning;
use crate::stats::finebins::FineBins;
use crate::window::panes::BinnedColumn;

fn draws(seed: u64, n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            f((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// The window as a binned window would count it, with `fine_bins` for `check`'s reference.
fn binned(check: &ColumnCheck, values: &[f64], fine_bins: usize) -> BinnedColumn {
    let ReferenceProfile::Numeric(profile) = &*check.reference else {
        panic!("numeric")
    };
    let fine = FineBins::from_sorted(&profile.sorted, fine_bins);
    let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    BinnedColumn {
        counts: fine.counts(&present),
        coarse: binning::bin_counts(&profile.edges, &present),
        missing: (values.len() - present.len()) as u64,
        out_of_range: present
            .iter()
            .filter(|&&v| v < profile.sorted[0] || v > profile.sorted[profile.sorted.len() - 1])
            .count() as u64,
        fine: Some(Arc::new(fine)),
        ..BinnedColumn::default()
    }
}

fn check(test: TestKind, reference: Vec<f64>) -> ColumnCheck {
    ColumnCheck::new(
        "x",
        Role::Feature,
        Cells::numbers(reference),
        Some(test),
        None,
        10,
    )
    .unwrap()
}

#[test]
fn few_distinct_values_give_the_exact_outcome_for_ks_psi_and_chi_square() {
    let reference = draws(1, 5000, |u| (u * 30.0).floor());
    let mut window = draws(2, 3000, |u| (u * 31.0).floor());
    window.extend([f64::NAN, f64::NAN]);
    for test in [
        TestKind::Ks,
        TestKind::Psi,
        TestKind::Jensenshannon,
        TestKind::Chisquare,
    ] {
        let c = check(test, reference.clone());
        let exact = c.evaluate(&ColumnData::Numeric(window.clone()));
        let counted = c.evaluate_binned(&binned(&c, &window, 4096));
        assert_eq!(counted, exact, "{test:?}");
    }
}

#[test]
fn many_distinct_values_bracket_ks_and_report_the_bracket() {
    let reference = draws(3, 20_000, |u| u.ln_1p() * 10.0);
    let window = draws(4, 8_000, |u| (u * 1.03).ln_1p() * 10.0);
    let c = check(TestKind::Ks, reference);
    let exact = c.evaluate(&ColumnData::Numeric(window.clone()));
    let counted = c.evaluate_binned(&binned(&c, &window, 512));
    let (lower, exact_d) = (counted.score.unwrap(), exact.score.unwrap());
    let a = counted.approximation.expect("quantile bins bracket D");
    assert!(
        lower <= exact_d && exact_d <= a.score_upper,
        "{lower} {exact_d} {a:?}"
    );
    let (p, p_exact) = (counted.p_value.unwrap(), exact.p_value.unwrap());
    assert!(
        a.p_value_lower <= p_exact && p_exact <= p,
        "{p} {p_exact} {a:?}"
    );
    assert_eq!(
        (counted.values, counted.out_of_range),
        (exact.values, exact.out_of_range)
    );
}

#[test]
fn categorical_counts_give_the_exact_outcome_including_new_categories() {
    let reference: Vec<String> = draws(5, 3000, |u| (u * 6.0).floor())
        .iter()
        .map(|v| format!("k{v}"))
        .collect();
    let c = ColumnCheck::new(
        "c",
        Role::Feature,
        Cells::texts(reference),
        Some(TestKind::Chisquare),
        None,
        10,
    )
    .unwrap();
    // Codes 0..5 are the reference's categories, 6 and 7 new ones.
    let codes: Vec<u32> = draws(6, 2000, |u| (u * 8.0).floor())
        .iter()
        .map(|&v| v as u32)
        .collect();
    let mut counts = vec![0u64; 8];
    for &code in &codes {
        counts[code as usize] += 1;
    }
    let exact = c.evaluate(&ColumnData::Categorical(codes));
    let counted = c.evaluate_binned(&BinnedColumn {
        counts,
        ..BinnedColumn::default()
    });
    assert_eq!(counted, exact);
    assert!(exact.new_category > 0);
}
