//! k-sample Anderson–Darling test for two samples, in its midrank form (Scholz & Stephens
//! 1987, eq. 7), which allows ties.
//!
//! Reference implementation: `scipy.stats.anderson_ksamp([reference, current],
//! variant="midrank")`. The statistic is standardised, `(A²ₐₖₙ − (k − 1)) / σ`, and its p-value
//! interpolated from the tabulated critical values the way scipy does: a quadratic
//! least-squares fit of ln(significance) on the critical values, read off at the statistic, and
//! capped to [0.001, 0.25] outside the table. So a p-value of 0.25 means "0.25 or more".

use super::computable::{NotComputable, Outcome, TestResult};
use super::ties::groups;

/// Significance levels of the tabulated critical values (Scholz & Stephens, table 1).
const SIGNIFICANCE: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
/// Coefficients of the critical values `b0 + b1/√m + b2/m` for m = k − 1 = 1 (two samples).
const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/// Two-sample Anderson–Darling test of two ascending samples. Not computable with fewer than
/// 4 values in all (the null variance divides by (N − 1)(N − 2)(N − 3); scipy gives NaN for
/// N = 3 and raises for N = 2), an empty side, or a single distinct value.
pub fn anderson_ksamp(reference: &[f64], current: &[f64]) -> Outcome<TestResult> {
    let (n1, n2) = (reference.len(), current.len());
    let total = n1 + n2;
    if n1 == 0 || n2 == 0 || total < 4 {
        return Err(NotComputable::TooFewValues);
    }
    let ties = groups(reference, current);
    if ties.len() < 2 {
        return Err(NotComputable::SingleValue);
    }
    let n = total as f64;
    let (mut sum1, mut sum2) = (0.0, 0.0);
    let (mut below, mut below1, mut below2) = (0usize, 0usize, 0usize);
    for tie in &ties {
        let l = tie.total() as f64;
        let b = below as f64 + l / 2.0;
        let denominator = b * (n - b) - n * l / 4.0;
        // Midrank empirical counts: values below plus half the tied ones.
        let m1 = below1 as f64 + tie.first as f64 / 2.0;
        let m2 = below2 as f64 + tie.second as f64 / 2.0;
        sum1 += l / n * (n * m1 - b * n1 as f64).powi(2) / denominator;
        sum2 += l / n * (n * m2 - b * n2 as f64).powi(2) / denominator;
        below += tie.total();
        below1 += tie.first;
        below2 += tie.second;
    }
    let a2kn = (sum1 / n1 as f64 + sum2 / n2 as f64) * (n - 1.0) / n;
    let statistic = (a2kn - 1.0) / variance(n1, n2).sqrt();
    if !statistic.is_finite() {
        return Err(NotComputable::NonFinite);
    }
    Ok(TestResult {
        statistic,
        p_value: p_value(statistic),
    })
}

/// σ² of A²ₖₙ under the null for two samples (Scholz & Stephens, eq. 4).
fn variance(n1: usize, n2: usize) -> f64 {
    let total = n1 + n2;
    let n = total as f64;
    let k = 2.0;
    let big_h = 1.0 / n1 as f64 + 1.0 / n2 as f64;
    // hs[i] = Σ_{j = N−1−i}^{N−1} 1/j for i = 0 .. N − 3, as scipy's cumulative sum.
    let (mut cumulative, mut g) = (0.0, 0.0);
    for (i, j) in (2..total).rev().enumerate() {
        cumulative += 1.0 / j as f64;
        g += cumulative / (i + 2) as f64;
    }
    let h = cumulative + 1.0;
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * big_h;
    let b = (2.0 * g - 4.0) * k * k + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * big_h - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k * k
        + (4.0 * h - 4.0 * g + 6.0) * k
        + (2.0 * h - 6.0) * big_h
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * k * k - 4.0 * h * k;
    (a * n.powi(3) + b * n * n + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0))
}

/// The p-value of a standardised statistic: interpolated inside the table, capped outside.
fn p_value(statistic: f64) -> f64 {
    let critical: Vec<f64> = (0..7).map(|i| B0[i] + B1[i] + B2[i]).collect();
    if statistic < critical[0] {
        return SIGNIFICANCE[0];
    }
    if statistic > critical[6] {
        return SIGNIFICANCE[6];
    }
    let logs: Vec<f64> = SIGNIFICANCE.iter().map(|s| s.ln()).collect();
    let [c2, c1, c0] = quadratic_fit(&critical, &logs);
    (c2 * statistic * statistic + c1 * statistic + c0).exp()
}

/// Least-squares `y ≈ c2 x² + c1 x + c0` (numpy's `polyfit(x, y, 2)`), by the normal
/// equations in x centred on its mean, which keeps them well conditioned.
fn quadratic_fit(x: &[f64], y: &[f64]) -> [f64; 3] {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    // Moments Σ uᵏ (k = 0..4) and Σ uᵏ y (k = 0..2) of the centred u = x − mean.
    let mut s = [0.0; 5];
    let mut t = [0.0; 3];
    for (&xi, &yi) in x.iter().zip(y) {
        let u = xi - mean;
        let mut power = 1.0;
        for (k, sk) in s.iter_mut().enumerate() {
            *sk += power;
            if k < 3 {
                t[k] += power * yi;
            }
            power *= u;
        }
    }
    // Solve [s0 s1 s2; s1 s2 s3; s2 s3 s4] · [d0 d1 d2] = t by Cramer's rule.
    let m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]];
    let det3 = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let det = det3(&m);
    let solve = |column: usize| {
        let mut replaced = m;
        for (row, value) in replaced.iter_mut().zip(t) {
            row[column] = value;
        }
        det3(&replaced) / det
    };
    let (d0, d1, d2) = (solve(0), solve(1), solve(2));
    // Back from u = x − mean: d2 (x − a)² + d1 (x − a) + d0.
    [d2, d1 - 2.0 * d2 * mean, d2 * mean * mean - d1 * mean + d0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_an_exact_quadratic() {
        let x = [0.5, 1.0, 2.0, 3.0, 4.5];
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v * v - 3.0 * v + 0.5).collect();
        let c = quadratic_fit(&x, &y);
        for (got, want) in c.iter().zip([2.0, -3.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{c:?}");
        }
    }

    #[test]
    fn degenerate_samples_are_not_computable() {
        assert_eq!(
            anderson_ksamp(&[1.0], &[2.0]),
            Err(NotComputable::TooFewValues)
        );
        assert_eq!(
            anderson_ksamp(&[1.0, 1.0], &[1.0, 1.0]),
            Err(NotComputable::SingleValue)
        );
        assert_eq!(
            anderson_ksamp(&[], &[1.0, 2.0, 3.0]),
            Err(NotComputable::TooFewValues)
        );
    }
}
