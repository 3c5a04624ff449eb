//! Learned null distributions: `threshold: auto` turns a distance (Wasserstein, Jensen–Shannon,
//! PSI, energy, Hellinger, KL, total variation) into a test with a p-value, so it can join the window's family-wise correction.
//!
//! **Method** (at start-up, per column and window size n): draw n reference rows without
//! replacement, compute the column's statistic between them and the *other* m − n reference
//! rows, with the same bins and normalisation as live windows, [`RESAMPLES`] times. A live
//! window's p-value is `(1 + #{null ≥ observed}) / (1 + RESAMPLES)`. Comparing with the m − n
//! left-out rows rather than all m makes the null slightly wider than a live window's (a
//! smaller reference is noisier), so the p-values err on the conservative side, never the
//! other way (a sample compared with a reference containing it would look too close).
//!
//! **Window sizes.** A count window has one size. A time window's row count varies, so the null
//! is learned on a doubling grid from `min_rows` up to the largest window, and a window of n
//! rows uses the largest grid size ≤ n: a distance's null shrinks as n grows, so a smaller
//! size's null is wider, and again the p-value can only err upwards.
//!
//! **Determinism and cost.** Draws are seeded from the monitor and column names (FNV-1a, stable
//! across builds), so a restart learns the same thresholds. Each resample costs O(n + m) after
//! one O(m) set-up (indices into the sorted reference keep both samples sorted without
//! sorting); see the README for measured start-up times.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use rayon::prelude::*;

use crate::config::TestKind;
use crate::reference::profile::ReferenceProfile;
use crate::stats::{binning, energy, hellinger, jensenshannon, kl_div, psi, tvd, wasserstein};

/// Resamples per window size. The smallest p-value is 1 / (1 + RESAMPLES) ≈ 0.001, so a
/// distance can still pass Holm at α = 0.05 in a family of up to 50 columns.
pub const RESAMPLES: usize = 1000;

/// Smallest window size learned (tiny windows say nothing about a distribution).
const MIN_SIZE: usize = 10;

/// The statistic's distribution under "no drift" at each learned window size.
#[derive(Debug, Clone, PartialEq)]
pub struct NullDistribution {
    /// Learned window sizes, ascending.
    sizes: Vec<usize>,
    /// Per size: the resampled statistics, ascending.
    statistics: Vec<Vec<f64>>,
}

impl NullDistribution {
    /// Learns the null of `test` on `reference` for each of `sizes`. Sizes above half the
    /// reference are refused: the left-out part must stay a reference.
    pub fn learn(
        test: TestKind,
        reference: &ReferenceProfile,
        sizes: &[usize],
        seed: u64,
    ) -> Result<Self, String> {
        let pool = Pool::new(reference);
        let m = pool.len();
        if let Some(&n) = sizes.iter().find(|&&n| n < MIN_SIZE || 2 * n > m) {
            return Err(format!(
                "threshold: auto learns from windows of {n} rows drawn from the reference, \
                 which needs {MIN_SIZE} <= rows <= half the reference ({m} rows)"
            ));
        }
        // Sizes are independent and each has its own seeded stream: learn them on all cores,
        // with the same result as one after the other.
        let statistics = sizes
            .par_iter()
            .map(|&n| {
                let mut rng =
                    Pcg64::seed_from_u64(seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut indices: Vec<u32> = (0..m as u32).collect();
                let mut stats: Vec<f64> = (0..RESAMPLES)
                    .map(|_| {
                        // Partial Fisher–Yates: the first n indices become a uniform n-subset.
                        for i in 0..n {
                            let j = rng.random_range(i..m);
                            indices.swap(i, j);
                        }
                        pool.statistic(test, reference, &indices[..n])
                    })
                    .collect();
                stats.sort_unstable_by(f64::total_cmp);
                stats
            })
            .collect();
        Ok(Self {
            sizes: sizes.to_vec(),
            statistics,
        })
    }

    /// The p-value of `observed` in a window of `rows` rows.
    pub fn p_value(&self, rows: usize, observed: f64) -> f64 {
        let k = self.sizes.partition_point(|&s| s <= rows).max(1) - 1;
        let null = &self.statistics[k];
        let at_least = null.len() - null.partition_point(|&x| x < observed);
        (1 + at_least) as f64 / (1 + null.len()) as f64
    }
}

/// Window sizes to learn for a window holding between `min_rows` and `max_rows` rows: one size
/// for a count window (`min_rows == max_rows`), else a doubling grid, capped at half the
/// reference.
pub fn grid(min_rows: usize, max_rows: usize, reference_rows: usize) -> Vec<usize> {
    let top = max_rows.min(reference_rows / 2);
    let mut size = min_rows.max(MIN_SIZE);
    let mut sizes = Vec::new();
    while size < top {
        sizes.push(size);
        size = size.saturating_mul(2);
    }
    sizes.push(top.max(min_rows.max(MIN_SIZE)));
    sizes
}

/// Seed of a column's draws: FNV-1a of "monitor/column", stable across builds and platforms.
pub fn seed(monitor: &str, column: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in monitor.bytes().chain([b'/']).chain(column.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The reference as resamplable units: numeric values (sorted) or one category code per row.
enum Pool {
    Numeric(usize),
    Categorical(Vec<u32>),
}

impl Pool {
    fn new(reference: &ReferenceProfile) -> Self {
        match reference {
            ReferenceProfile::Numeric(p) => Pool::Numeric(p.sorted.len()),
            ReferenceProfile::Categorical(p) => Pool::Categorical(
                p.counts
                    .iter()
                    .enumerate()
                    .flat_map(|(code, &count)| std::iter::repeat_n(code as u32, count as usize))
                    .collect(),
            ),
        }
    }

    fn len(&self) -> usize {
        match self {
            Pool::Numeric(m) => *m,
            Pool::Categorical(codes) => codes.len(),
        }
    }

    /// The statistic between the rows at `drawn` and the rest of the reference.
    fn statistic(&self, test: TestKind, reference: &ReferenceProfile, drawn: &[u32]) -> f64 {
        match (self, reference) {
            // Binned distances only need the window's bin counts: the rest's are the
            // reference's minus those, O(n) instead of O(m).
            (Pool::Numeric(_), ReferenceProfile::Numeric(profile))
                if !matches!(test, TestKind::Wasserstein | TestKind::Ed) =>
            {
                let window: Vec<f64> = drawn.iter().map(|&i| profile.sorted[i as usize]).collect();
                let w = binning::bin_counts(&profile.edges, &window);
                let r: Vec<u64> = profile
                    .bin_counts
                    .iter()
                    .zip(&w)
                    .map(|(r, w)| r - w)
                    .collect();
                distance(test, &r, &w)
            }
            (Pool::Numeric(m), ReferenceProfile::Numeric(profile)) => {
                let mut taken = vec![false; *m];
                for &i in drawn {
                    taken[i as usize] = true;
                }
                // Both parts come out of the sorted reference already sorted.
                let (mut window, mut rest) = (Vec::with_capacity(drawn.len()), Vec::new());
                rest.reserve(m - drawn.len());
                for (&x, &t) in profile.sorted.iter().zip(&taken) {
                    if t {
                        window.push(x);
                    } else {
                        rest.push(x);
                    }
                }
                if test == TestKind::Ed {
                    energy::distance(&rest, &window)
                } else {
                    wasserstein::normed_distance(&rest, &window, profile.std)
                }
            }
            (Pool::Categorical(codes), ReferenceProfile::Categorical(profile)) => {
                let mut window = vec![0u64; profile.counts.len()];
                for &i in drawn {
                    window[codes[i as usize] as usize] += 1;
                }
                let rest: Vec<u64> = profile
                    .counts
                    .iter()
                    .zip(&window)
                    .map(|(r, w)| r - w)
                    .collect();
                distance(test, &rest, &window)
            }
            // Pools are built from the same profile.
            _ => 0.0,
        }
    }
}

/// A binned distance between aligned reference and window counts.
fn distance(test: TestKind, reference: &[u64], window: &[u64]) -> f64 {
    match test {
        TestKind::Psi => psi::psi(reference, window),
        TestKind::Hellinger => hellinger::distance(reference, window),
        TestKind::KlDiv => kl_div::divergence(reference, window),
        TestKind::Tvd => tvd::distance(reference, window),
        _ => jensenshannon::distance(reference, window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{ColumnCheck, Role};
    use crate::reference::table::Cells;

    fn profile(values: Vec<f64>) -> ReferenceProfile {
        let check = ColumnCheck::new(
            "x",
            Role::Feature,
            Cells::numbers(values),
            Some(TestKind::Wasserstein),
            None,
            10,
        )
        .unwrap();
        (*check.reference).clone()
    }

    #[test]
    fn p_values_are_seeded_uniform_and_use_the_smaller_size() {
        let values: Vec<f64> = (0..4000).map(|i| ((i * 7919) % 4000) as f64).collect();
        let reference = profile(values);
        let learn = |seed| {
            NullDistribution::learn(TestKind::Wasserstein, &reference, &[100, 400], seed).unwrap()
        };
        let null = learn(1);
        assert_eq!(null, learn(1), "same seed, same null");
        assert_ne!(null, learn(2));
        // A statistic beyond every resample gets the smallest p-value; zero gets 1.
        assert_eq!(null.p_value(100, f64::MAX), 1.0 / 1001.0);
        assert_eq!(null.p_value(100, 0.0), 1.0);
        // The median of the null at 100 rows has p ≈ 0.5 there; at 400 rows the null is
        // narrower, so the same value is rarer; 399 rows still use the 100-row null.
        let median = null.statistics[0][500];
        assert!((null.p_value(100, median) - 0.5).abs() < 0.01);
        assert!(null.p_value(400, median) < 0.1);
        assert_eq!(null.p_value(399, median), null.p_value(100, median));
        assert!(NullDistribution::learn(TestKind::Wasserstein, &reference, &[2001], 1).is_err());
    }

    /// `threshold: auto` for the catalogue's distances: a window drawn from the reference is
    /// unremarkable under the learned null, a shifted one beyond every resample.
    #[test]
    fn catalogue_distances_learn_a_null() {
        let values: Vec<f64> = (0..4000)
            .map(|i| ((i * 7919) % 4000) as f64 / 4000.0)
            .collect();
        let clean: Vec<f64> = values.iter().step_by(20).copied().collect();
        let shifted: Vec<f64> = clean.iter().map(|v| v + 0.2).collect();
        for test in [
            TestKind::Ed,
            TestKind::Hellinger,
            TestKind::KlDiv,
            TestKind::Tvd,
        ] {
            let mut check = ColumnCheck::new(
                "x",
                Role::Feature,
                Cells::numbers(values.clone()),
                Some(test),
                None,
                10,
            )
            .unwrap();
            check.learn_null(&[200], 5).unwrap();
            let p = |window: &[f64]| {
                check
                    .evaluate(&crate::column::ColumnData::Numeric(window.to_vec()))
                    .p_value
                    .unwrap()
            };
            assert!(p(&clean) > 0.5, "{test:?}: {}", p(&clean));
            assert_eq!(p(&shifted), 1.0 / 1001.0, "{test:?}");
        }
    }

    #[test]
    fn grids_double_and_stop_at_half_the_reference() {
        assert_eq!(grid(1000, 1000, 10_000), vec![1000]);
        assert_eq!(grid(100, 1_000_000, 1000), vec![100, 200, 400, 500]);
        assert_eq!(grid(1, 50, 1000), vec![10, 20, 40, 50]);
        assert_eq!(seed("m", "x"), seed("m", "x"));
        assert_ne!(seed("m", "x"), seed("mx", ""));
    }
}
