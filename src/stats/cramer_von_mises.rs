//! Two-sample Cramér–von Mises test (Anderson 1962): the integrated squared difference of the
//! two empirical distribution functions, from midranks, so ties are allowed.
//!
//! Reference implementation: `scipy.stats.cramervonmises_2samp(reference, current)` with its
//! default `method="auto"`: the exact null distribution when both samples have at most 20 values
//! (Xiao, Gordon & Yakovlev 2006: a lattice-path count of the statistic), else the asymptotic
//! one (the normalised statistic against the limiting one-sample distribution, Csörgő & Faraway
//! 1996, eq. 1.2).

use std::collections::HashMap;
use std::f64::consts::PI;

use statrs::function::gamma::ln_gamma;

use super::computable::{NotComputable, Outcome, TestResult};
use super::ties::groups;

/// Largest sample size for which the exact distribution is used (scipy's `auto` rule).
const EXACT_MAX: usize = 20;

/// Series terms below this are dropped (scipy's stopping rule).
const SERIES_TOLERANCE: f64 = 1e-7;

/// Cramér–von Mises test of two ascending samples. Not computable with fewer than 2 values on
/// a side (scipy raises).
pub fn cramervonmises_2samp(reference: &[f64], current: &[f64]) -> Outcome<TestResult> {
    let (nx, ny) = (reference.len(), current.len());
    if nx < 2 || ny < 2 {
        return Err(NotComputable::TooFewValues);
    }
    // U = nx Σ (rank of x_(i) − i)² + ny Σ (rank of y_(j) − j)², ranks as midranks.
    let (mut u_x, mut u_y) = (0.0, 0.0);
    let (mut below, mut i, mut j) = (0usize, 0usize, 0usize);
    for tie in groups(reference, current) {
        let midrank = below as f64 + (tie.total() as f64 + 1.0) / 2.0;
        for _ in 0..tie.first {
            i += 1;
            u_x += (midrank - i as f64).powi(2);
        }
        for _ in 0..tie.second {
            j += 1;
            u_y += (midrank - j as f64).powi(2);
        }
        below += tie.total();
    }
    let u = nx as f64 * u_x + ny as f64 * u_y;
    let k = (nx * ny) as f64;
    let n = (nx + ny) as f64;
    let statistic = u / (k * n) - (4.0 * k - 1.0) / (6.0 * n);
    let p_value = if nx.max(ny) <= EXACT_MAX {
        exact_p_value(u, nx, ny)
    } else {
        asymptotic_p_value(statistic, nx, ny)
    };
    Ok(TestResult { statistic, p_value })
}

/// P(U ≥ u) under the null, counting the lattice paths from (0, 0) to (ny, nx) whose
/// statistic (in units scaled to integers by lcm²) reaches u's.
fn exact_p_value(u: f64, m: usize, n: usize) -> f64 {
    let lcm = (m * n / gcd(m, n)) as i64;
    let (a, b) = (lcm / m as i64, lcm / n as i64);
    let mn = (m * n) as f64;
    let lcm_f = lcm as f64;
    // The threshold in the integer units of the path statistic, floored as scipy does.
    let zeta = (lcm_f * lcm_f * (m + n) as f64 * (6.0 * u - mn * (4.0 * mn - 1.0))
        / (6.0 * mn * mn))
        .floor();
    // gs[v]: frequency of each statistic value over the paths ending at (row u, column v).
    let mut gs: Vec<HashMap<i64, f64>> = vec![HashMap::new(); m + 1];
    gs[0].insert(0, 1.0);
    for row in 0..=n as i64 {
        let mut running: HashMap<i64, f64> = HashMap::new();
        for (v, cell) in gs.iter_mut().enumerate() {
            for (&value, &freq) in cell.iter() {
                *running.entry(value).or_insert(0.0) += freq;
            }
            let step = (a * v as i64 - b * row).pow(2);
            running = running.into_iter().map(|(s, f)| (s + step, f)).collect();
            cell.clone_from(&running);
        }
    }
    let paths: f64 = gs[m].values().sum();
    let at_least: f64 = gs[m]
        .iter()
        .filter(|&(&value, _)| value as f64 >= zeta)
        .map(|(_, f)| f)
        .sum();
    at_least / paths
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The asymptotic p-value: the statistic normalised by its exact mean and variance
/// (Anderson 1962, eqs. 11, 14, 15), against the limiting distribution.
fn asymptotic_p_value(t: f64, nx: usize, ny: usize) -> f64 {
    let n = (nx + ny) as f64;
    let k = (nx * ny) as f64;
    let (nx, ny) = (nx as f64, ny as f64);
    let mean = (1.0 + 1.0 / n) / 6.0;
    let variance =
        (n + 1.0) * (4.0 * k * n - 3.0 * (nx * nx + ny * ny) - 2.0 * k) / (45.0 * n * n * 4.0 * k);
    let normalised = 1.0 / 6.0 + (t - mean) / (45.0 * variance).sqrt();
    // Below 0.003 the limiting cdf is under 1.3e-18.
    if normalised < 0.003 {
        return 1.0;
    }
    (1.0 - limiting_cdf(normalised)).max(0.0)
}

/// CDF of the limiting Cramér–von Mises distribution (Csörgő & Faraway 1996, eq. 1.2 / 1.3).
fn limiting_cdf(x: f64) -> f64 {
    let mut total = 0.0;
    for k in 0.. {
        let k = f64::from(k);
        let u = (ln_gamma(k + 0.5) - ln_gamma(k + 1.0)).exp() / (PI.powf(1.5) * x.sqrt());
        let y = 4.0 * k + 1.0;
        let q = y * y / (16.0 * x);
        let term = u * y.sqrt() * (-q).exp() * bessel_k_quarter(q);
        total += term;
        if term.abs() < SERIES_TOLERANCE {
            break;
        }
    }
    total
}

/// The modified Bessel function K_{1/4}(x) for x > 0, from `∫₀^∞ exp(−x cosh t) cosh(t/4) dt`:
/// the integrand decays double-exponentially, so the trapezoidal rule converges to machine
/// precision at a modest step.
fn bessel_k_quarter(x: f64) -> f64 {
    const STEP: f64 = 1.0 / 64.0;
    // Beyond x cosh t = 750 every term is below e^-750 relative to the first.
    let end = (750.0 / x).max(1.0).acosh() + STEP;
    let steps = (end / STEP).ceil() as usize;
    let f = |t: f64| (-x * t.cosh()).exp() * (t / 4.0).cosh();
    let inner: f64 = (1..steps).map(|i| f(i as f64 * STEP)).sum();
    STEP * (f(0.0) / 2.0 + inner + f(steps as f64 * STEP) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_k_quarter_matches_known_values() {
        // scipy.special.kv(0.25, x) at x = 0.1, 1, 10.
        for (x, want) in [
            (0.1, 2.685_156_871_876_055_5),
            (1.0, 0.430_739_774_448_581_4),
            (10.0, 1.783_318_443_980_639_5e-5),
        ] {
            let got = bessel_k_quarter(x);
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "K(1/4, {x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn exact_distribution_sums_to_one() {
        // The smallest possible statistic is reached by some path: P(U ≥ 0) = 1.
        assert_eq!(exact_p_value(0.0, 3, 4), 1.0);
        assert_eq!(
            cramervonmises_2samp(&[1.0], &[1.0, 2.0]),
            Err(NotComputable::TooFewValues)
        );
    }
}
