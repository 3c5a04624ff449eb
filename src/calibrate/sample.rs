//! Windows drawn from the reference, the checks they are compared with, and the standard
//! shifts applied to them.
//!
//! **Leave the window out.** A window drawn from the reference and compared with the *whole*
//! reference is compared partly with itself: the two-sample statistics shrink (for KS by a
//! factor √((R − w)/(R + w)), ≈ 0.90 for 1 000 of 10 000 rows) and the measured false-alarm
//! rate comes out too low. Each window is therefore compared with the reference *without its
//! rows*: a random split of i.i.d. rows gives two independent samples, exactly the situation
//! of a live window. The check is the monitor's own (same test, threshold, rule, bin edges);
//! only its reference counts lose the window's rows.

use rand::RngExt;
use rand_pcg::Pcg64;

use crate::check::ColumnCheck;
use crate::column::{ColumnData, MISSING_CODE};
use crate::config::TestKind;
use crate::reference::profile::{CategoricalProfile, NumericProfile, ReferenceProfile};
use crate::reference::table::{Cells, ReferenceTable};
use crate::stats::{binning, wasserstein};

/// Reads `check`'s column from `table` row by row, encoded like ingest would (NaN /
/// [`MISSING_CODE`] = missing).
pub fn read(table: &ReferenceTable, check: &ColumnCheck) -> Result<ColumnData, String> {
    match (
        table.cells(&check.name, check.reference.kind())?,
        &*check.reference,
    ) {
        (Cells::Numeric(cells), _) => Ok(ColumnData::Numeric(
            cells.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
        )),
        (Cells::Categorical(cells), ReferenceProfile::Categorical(profile)) => {
            Ok(ColumnData::Categorical(
                cells
                    .iter()
                    .map(|v| {
                        v.as_ref()
                            .and_then(|c| profile.index.get(c).copied())
                            .unwrap_or(MISSING_CODE)
                    })
                    .collect(),
            ))
        }
        (Cells::Categorical(_), ReferenceProfile::Numeric(_)) => Err(format!(
            "column {:?}: categorical cells for a numeric check",
            check.name
        )),
    }
}

/// The values of `rows` of `column` (a window drawn from the reference, owned so shifts can
/// rewrite it).
pub fn take(column: &ColumnData, rows: &[usize]) -> ColumnData {
    match column {
        ColumnData::Numeric(v) => ColumnData::Numeric(rows.iter().map(|&r| v[r]).collect()),
        ColumnData::Categorical(v) => ColumnData::Categorical(rows.iter().map(|&r| v[r]).collect()),
    }
}

/// `check` with the window's rows removed from its reference (see the module docs). Bin edges
/// stay those of the full reference, as the service uses them.
pub fn leave_out(check: &ColumnCheck, window: &ColumnData) -> ColumnCheck {
    let reference = match (&*check.reference, window) {
        (ReferenceProfile::Numeric(profile), ColumnData::Numeric(values)) => {
            let mut removed: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            removed.sort_unstable_by(f64::total_cmp);
            let sorted = multiset_difference(&profile.sorted, &removed);
            let window_bins = binning::bin_counts(&profile.edges, &removed);
            let bin_counts = profile
                .bin_counts
                .iter()
                .zip(&window_bins)
                .map(|(&all, &out)| all.saturating_sub(out))
                .collect();
            ReferenceProfile::Numeric(NumericProfile {
                std: wasserstein::population_std(&sorted),
                sorted,
                edges: profile.edges.clone(),
                bin_counts,
            })
        }
        (ReferenceProfile::Categorical(profile), ColumnData::Categorical(codes)) => {
            let mut counts = profile.counts.clone();
            for &code in codes {
                if let Some(c) = counts.get_mut(code as usize) {
                    *c = c.saturating_sub(1);
                }
            }
            ReferenceProfile::Categorical(CategoricalProfile {
                categories: profile.categories.clone(),
                counts,
                index: profile.index.clone(),
            })
        }
        _ => (*check.reference).clone(),
    };
    ColumnCheck {
        reference: std::sync::Arc::new(reference),
        ..check.clone()
    }
}

/// `all` minus one copy of each value of `removed`; both ascending.
fn multiset_difference(all: &[f64], removed: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(all.len().saturating_sub(removed.len()));
    let mut j = 0;
    for &v in all {
        if j < removed.len() && removed[j] == v {
            j += 1;
        } else {
            out.push(v);
        }
    }
    out
}

/// A standard shift applied to one column of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shift {
    /// Every value + δ · reference std.
    Mean(f64),
    /// Values spread around the reference mean by this factor.
    Scale(f64),
    /// Each row becomes the reference's most frequent value with this probability.
    Frequency(f64),
    /// Each row becomes a value the reference never had with this probability.
    NewCategory(f64),
}

/// Shifts for numeric columns tested as distributions (KS, Wasserstein, PSI, JS).
pub const NUMERIC_SHIFTS: [Shift; 4] = [
    Shift::Mean(0.1),
    Shift::Mean(0.25),
    Shift::Mean(0.5),
    Shift::Scale(1.5),
];

/// Shifts for categorical columns and numeric columns tested as categories (chi-square, z).
pub const CATEGORICAL_SHIFTS: [Shift; 3] = [
    Shift::Frequency(0.1),
    Shift::Frequency(0.2),
    Shift::NewCategory(0.05),
];

impl Shift {
    /// Key in reports.
    pub fn label(self) -> String {
        match self {
            Shift::Mean(d) => format!("mean+{d}sd"),
            Shift::Scale(f) => format!("scale*{f}"),
            Shift::Frequency(s) => format!("frequency{}%", s * 100.0),
            Shift::NewCategory(s) => format!("new_category{}%", s * 100.0),
        }
    }

    /// The shifts that apply to `check`'s column.
    pub fn for_check(check: &ColumnCheck) -> &'static [Shift] {
        match (&*check.reference, check.test) {
            (
                ReferenceProfile::Numeric(_),
                TestKind::Chisquare | TestKind::Z | TestKind::GTest | TestKind::FisherExact,
            )
            | (ReferenceProfile::Categorical(_), _) => &CATEGORICAL_SHIFTS,
            (ReferenceProfile::Numeric(_), _) => &NUMERIC_SHIFTS,
        }
    }

    /// `window` with the shift applied (missing values stay missing).
    pub fn apply(self, check: &ColumnCheck, window: &ColumnData, rng: &mut Pcg64) -> ColumnData {
        let mut out = window.clone();
        match (&mut out, &*check.reference) {
            (ColumnData::Numeric(values), ReferenceProfile::Numeric(profile)) => {
                let sorted = &profile.sorted;
                let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
                let (mode, unseen) = (mode_value(sorted), sorted[sorted.len() - 1] + 1.0);
                for v in values.iter_mut().filter(|v| !v.is_nan()) {
                    *v = match self {
                        Shift::Mean(d) => *v + d * profile.std,
                        Shift::Scale(f) => mean + f * (*v - mean),
                        Shift::Frequency(s) if rng.random_bool(s) => mode,
                        Shift::NewCategory(s) if rng.random_bool(s) => unseen,
                        _ => *v,
                    };
                }
            }
            (ColumnData::Categorical(codes), ReferenceProfile::Categorical(profile)) => {
                let mode = (0..profile.counts.len())
                    .max_by_key(|&i| (profile.counts[i], std::cmp::Reverse(i)))
                    .unwrap_or(0) as u32;
                let unseen = profile.counts.len() as u32;
                for c in codes.iter_mut().filter(|c| **c != MISSING_CODE) {
                    *c = match self {
                        Shift::Frequency(s) if rng.random_bool(s) => mode,
                        Shift::NewCategory(s) if rng.random_bool(s) => unseen,
                        _ => *c,
                    };
                }
            }
            _ => {}
        }
        out
    }
}

/// The most frequent value of an ascending slice (the smallest on ties).
fn mode_value(sorted: &[f64]) -> f64 {
    let (mut best, mut best_run) = (sorted[0], 0);
    let mut start = 0;
    for i in 1..=sorted.len() {
        if i == sorted.len() || sorted[i] != sorted[start] {
            if i - start > best_run {
                (best, best_run) = (sorted[start], i - start);
            }
            start = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Role;
    use crate::reference::table::Cells;
    use rand::SeedableRng;

    #[test]
    fn multiset_difference_removes_one_copy_each() {
        assert_eq!(
            multiset_difference(&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 5.0]),
            vec![1.0, 2.0, 3.0]
        );
        assert_eq!(mode_value(&[1.0, 2.0, 2.0, 3.0, 3.0]), 2.0);
    }

    #[test]
    fn leaving_a_window_out_equals_profiling_the_rest() {
        let all: Vec<f64> = (0..50).map(|i| f64::from(i % 17)).collect();
        let raw = |v: &[f64]| Cells::numbers(v.to_vec());
        let check = ColumnCheck::new("x", Role::Feature, raw(&all), None, None, 4).unwrap();
        let window = ColumnData::Numeric(all[10..20].to_vec());
        let left = leave_out(&check, &window);
        let rest: Vec<f64> = all[..10].iter().chain(&all[20..]).copied().collect();
        let direct = ColumnCheck::new("x", Role::Feature, raw(&rest), None, None, 4).unwrap();
        let (ReferenceProfile::Numeric(a), ReferenceProfile::Numeric(b)) =
            (&*left.reference, &*direct.reference)
        else {
            unreachable!("numeric checks")
        };
        assert_eq!(a.sorted, b.sorted);
        assert_eq!(a.std, b.std);
        assert_eq!(a.bin_counts.iter().sum::<u64>(), 40);
    }

    #[test]
    fn shifts_move_values_as_named() {
        let raw = Cells::numbers(vec![0.0, 2.0, 2.0, 4.0]);
        let check = ColumnCheck::new("x", Role::Feature, raw, None, None, 4).unwrap();
        let mut rng = Pcg64::seed_from_u64(1);
        let window = ColumnData::Numeric(vec![0.0, f64::NAN, 4.0]);
        let ColumnData::Numeric(moved) = Shift::Mean(0.5).apply(&check, &window, &mut rng) else {
            unreachable!("numeric in, numeric out")
        };
        // std of 0, 2, 2, 4 is √2.
        assert!((moved[0] - 0.5 * 2f64.sqrt()).abs() < 1e-12 && moved[1].is_nan());
        let ColumnData::Numeric(scaled) = Shift::Scale(1.5).apply(&check, &window, &mut rng) else {
            unreachable!("numeric in, numeric out")
        };
        assert_eq!((scaled[0], scaled[2]), (-1.0, 5.0));
        let ColumnData::Numeric(all_new) = Shift::NewCategory(1.0).apply(&check, &window, &mut rng)
        else {
            unreachable!("numeric in, numeric out")
        };
        assert_eq!((all_new[0], all_new[2]), (5.0, 5.0));
    }
}
