//! Logarithms of factorials and binomial coefficients for large arguments, without the
//! cancellation of subtracting `ln Γ` values of size `n ln n`.

use std::f64::consts::PI;

/// Stirling-series coefficients `B_{2j} / (2j (2j - 1))` for `j = 8, 7, …, 1`
/// (highest power first, for Horner's scheme in `1/n²`).
const STIRLING: [f64; 8] = [
    -3617.0 / 122_400.0,
    1.0 / 156.0,
    -691.0 / 360_360.0,
    1.0 / 1188.0,
    -1.0 / 1680.0,
    1.0 / 1260.0,
    -1.0 / 360.0,
    1.0 / 12.0,
];

/// `ln(n! / n^n)` by Stirling's series with the `n ln n` terms cancelled analytically,
/// which avoids subtracting two numbers of size `n ln n`.
pub(super) fn ln_factorial_over_power(n: u64) -> f64 {
    let n = n as f64;
    let inv_n = 1.0 / n;
    let series = STIRLING.iter().fold(0.0, |acc, &c| acc * (inv_n / n) + c);
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + inv_n * series
}

/// `ln C(n, v)` for `0 <= v <= n`, to a few ulps of the result's size rather than of `n ln n`.
///
/// `ln C(n, v) = L(n) - L(v) - L(n - v) + v ln(n/v) + (n - v) ln(n/(n - v))` with
/// `L(k) = ln(k!/k^k)`: each part is at most of size `n`, so nothing large cancels.
pub(super) fn ln_binomial(n: u64, v: u64) -> f64 {
    if v == 0 || v == n {
        return 0.0;
    }
    let share = v as f64 / n as f64;
    ln_factorial_over_power_any(n)
        - ln_factorial_over_power_any(v)
        - ln_factorial_over_power_any(n - v)
        - v as f64 * share.ln()
        - (n - v) as f64 * (-share).ln_1p()
}

/// `ln(k!/k^k)` for any `k >= 1`: summed exactly below [`STIRLING_FROM`], where the
/// asymptotic series is not yet accurate to an ulp.
fn ln_factorial_over_power_any(k: u64) -> f64 {
    if k >= STIRLING_FROM {
        return ln_factorial_over_power(k);
    }
    let k_f = k as f64;
    (1..=k).map(|i| (i as f64 / k_f).ln()).sum()
}

/// Smallest `k` handed to the eight-term Stirling series: its first omitted term is about
/// `3617/122400 / k^15`, far below an ulp of `ln(k!/k^k)` from here on.
const STIRLING_FROM: u64 = 16;
