//! The KS statistic from counts over the same bins ([`crate::stats::finebins`]), for windows
//! kept as counts instead of values.
//!
//! Both distribution functions are known exactly at every bin boundary, so their largest gap
//! there is a lower bound of `D`. Inside a bin both only climb, from their values at its start
//! to those at its end; where one of them holds no mass in the bin (a reference gap of the
//! points layout, or a bin the window left empty) the gap inside is largest at an end and the
//! bound is exact, otherwise it is at most `max(fr₁ − fc₀, fc₁ − fr₀)`. The p-value is taken at
//! the lower bound, so the approximation can only make an alarm rarer, never more frequent.

/// `D` bracketed by the binned counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinnedStatistic {
    /// Largest gap at the bin boundaries: `D ≥ lower`.
    pub lower: f64,
    /// `D ≤ upper`; equal to `lower` when the counts determine `D`.
    pub upper: f64,
}

/// Brackets `D` of two samples counted over the same bins; `point[b]` says bin `b` holds a
/// single value (no inside). Empty samples give `0`.
pub fn statistic(
    reference: &[u64],
    current: &[u64],
    point: impl Fn(usize) -> bool,
) -> BinnedStatistic {
    let n: u64 = reference.iter().sum();
    let m: u64 = current.iter().sum();
    if n == 0 || m == 0 {
        return BinnedStatistic {
            lower: 0.0,
            upper: 0.0,
        };
    }
    let (n_f, m_f) = (n as f64, m as f64);
    let (mut i, mut j) = (0u64, 0u64);
    let (mut lower, mut upper) = (0.0f64, 0.0f64);
    for (b, (&r, &c)) in reference.iter().zip(current).enumerate() {
        let (fr0, fc0) = (i as f64 / n_f, j as f64 / m_f);
        i += r;
        j += c;
        // The same expression as the exact merge (`i/n − j/m`), so equal counts give the same
        // bits as `ks::statistic` on the values.
        let gap = (i as f64 / n_f - j as f64 / m_f).abs();
        lower = lower.max(gap);
        if r > 0 && c > 0 && !point(b) {
            let (fr1, fc1) = (i as f64 / n_f, j as f64 / m_f);
            upper = upper.max((fr1 - fc0).max(fc1 - fr0));
        }
    }
    BinnedStatistic {
        lower,
        upper: upper.max(lower),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::finebins::FineBins;
    use crate::stats::ks;

    /// xorshift draws, so the test needs no RNG crate.
    fn draws(seed: u64, n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
        let mut s = seed;
        let mut out: Vec<f64> = (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                f((s >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect();
        out.sort_by(f64::total_cmp);
        out
    }

    #[test]
    fn points_layout_gives_the_exact_statistic_bit_for_bit() {
        for seed in 1..20u64 {
            // Whole numbers 0..40; the window also has values the reference never had.
            let reference = draws(seed, 3000, |u| (u * 40.0).floor());
            let current = draws(seed + 100, 1700, |u| {
                (u * 44.0).floor() - 2.0 + 0.5 * (u > 0.9) as u8 as f64
            });
            let bins = FineBins::from_sorted(&reference, 4096);
            assert!(bins.points);
            let got = statistic(&bins.counts(&reference), &bins.counts(&current), |b| {
                bins.is_point(b)
            });
            let exact = ks::statistic(&reference, &current);
            assert_eq!(got.lower, exact, "seed {seed}");
            assert_eq!(got.upper, exact, "seed {seed}");
        }
    }

    #[test]
    fn quantile_layout_brackets_the_exact_statistic_within_two_bins() {
        for seed in 1..20u64 {
            let reference = draws(seed, 50_000, |u| (u * 7.0).exp());
            let shift = seed as f64 * 0.002;
            let current = draws(seed + 100, 20_000, |u| ((u + shift).min(1.0) * 7.0).exp());
            let bins = FineBins::from_sorted(&reference, 1024);
            assert!(!bins.points);
            let got = statistic(&bins.counts(&reference), &bins.counts(&current), |b| {
                bins.is_point(b)
            });
            let exact = ks::statistic(&reference, &current);
            assert!(
                got.lower <= exact && exact <= got.upper,
                "seed {seed}: {got:?} vs {exact}"
            );
            assert!(
                got.upper - got.lower <= 2.5 / 1024.0,
                "seed {seed}: {got:?}"
            );
        }
    }

    #[test]
    fn empty_samples_have_no_gap() {
        let got = statistic(&[0, 0], &[3, 1], |_| false);
        assert_eq!((got.lower, got.upper), (0.0, 0.0));
    }
}
