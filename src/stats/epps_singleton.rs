//! Epps–Singleton two-sample test: compares the samples' empirical characteristic functions at
//! two points, t = 0.4 and 0.8 scaled by the pooled semi-interquartile range (Epps & Singleton
//! 1986). Unlike the EDF tests it also works on discrete data.
//!
//! Reference implementation: `scipy.stats.epps_singleton_2samp(reference, current)`: the
//! statistic `W = n · d' Σ⁺ d` (d the difference of the mean (cos tx, sin tx) vectors, Σ⁺ the
//! pseudo-inverse of their pooled covariance), the small-sample correction when both samples
//! have fewer than 25 values, and a χ² p-value with the covariance's rank as degrees of freedom.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::computable::{NotComputable, Outcome, TestResult};

/// The characteristic function's evaluation points, in pooled semi-IQRs (scipy's default).
const POINTS: [f64; 2] = [0.4, 0.8];
/// Values each sample needs (scipy raises below).
const MIN_VALUES: usize = 5;
/// Relative (and, for the largest, absolute) eigenvalue size below which the covariance has no
/// direction: rounding noise sits near 1e-15.
const CUTOFF: f64 = 1e-12;

/// Epps–Singleton test of two ascending samples. Not computable with fewer than 5 values on a
/// side, when the pooled IQR is 0 (the evaluation points would be infinite), or when each side
/// is constant (the covariance is 0; scipy then inverts rounding noise into W ≈ 1e33).
pub fn epps_singleton_2samp(reference: &[f64], current: &[f64]) -> Outcome<TestResult> {
    let (nx, ny) = (reference.len(), current.len());
    if nx < MIN_VALUES || ny < MIN_VALUES {
        return Err(NotComputable::TooFewValues);
    }
    let sigma = pooled_iqr(reference, current) / 2.0;
    if sigma == 0.0 {
        return Err(NotComputable::ZeroIqr);
    }
    let ts = POINTS.map(|t| t / sigma);
    let (mean_x, cov_x) = moments(reference, ts);
    let (mean_y, cov_y) = moments(current, ts);
    let n = (nx + ny) as f64;
    let mut cov = [[0.0; 4]; 4];
    for (r, row) in cov.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = n / nx as f64 * cov_x[r][c] + n / ny as f64 * cov_y[r][c];
        }
    }
    let (inverse, rank) = pseudo_inverse(cov);
    if rank == 0 {
        return Err(NotComputable::ZeroVariance);
    }
    let d: Vec<f64> = mean_x.iter().zip(&mean_y).map(|(x, y)| x - y).collect();
    let mut w = 0.0;
    for r in 0..4 {
        for c in 0..4 {
            w += d[r] * inverse[r][c] * d[c];
        }
    }
    w *= n;
    if nx.max(ny) < 25 {
        let corr =
            1.0 / (1.0 + n.powf(-0.45) + 10.1 * ((nx as f64).powf(-1.7) + (ny as f64).powf(-1.7)));
        w *= corr;
    }
    let chi2 = ChiSquared::new(rank as f64).map_err(|_| NotComputable::NonFinite)?;
    if !w.is_finite() {
        return Err(NotComputable::NonFinite);
    }
    Ok(TestResult {
        statistic: w,
        p_value: chi2.sf(w),
    })
}

/// The interquartile range of the pooled sample (numpy's linear-interpolation percentiles).
fn pooled_iqr(reference: &[f64], current: &[f64]) -> f64 {
    // Both are ascending: merge them.
    let mut pooled = Vec::with_capacity(reference.len() + current.len());
    let (mut i, mut j) = (0, 0);
    while i < reference.len() || j < current.len() {
        if j == current.len() || (i < reference.len() && reference[i] <= current[j]) {
            pooled.push(reference[i]);
            i += 1;
        } else {
            pooled.push(current[j]);
            j += 1;
        }
    }
    let quantile = |q: f64| {
        let h = (pooled.len() - 1) as f64 * q;
        let (lo, frac) = (h.floor() as usize, h - h.floor());
        let hi = (lo + 1).min(pooled.len() - 1);
        pooled[lo] + frac * (pooled[hi] - pooled[lo])
    };
    quantile(0.75) - quantile(0.25)
}

/// Mean and biased covariance (divided by n) of g(x) = (cos t₁x, cos t₂x, sin t₁x, sin t₂x).
fn moments(values: &[f64], ts: [f64; 2]) -> ([f64; 4], [[f64; 4]; 4]) {
    let g = |x: f64| {
        [
            (ts[0] * x).cos(),
            (ts[1] * x).cos(),
            (ts[0] * x).sin(),
            (ts[1] * x).sin(),
        ]
    };
    let n = values.len() as f64;
    let mut mean = [0.0; 4];
    for &x in values {
        for (m, v) in mean.iter_mut().zip(g(x)) {
            *m += v;
        }
    }
    mean = mean.map(|m| m / n);
    let mut cov = [[0.0; 4]; 4];
    for &x in values {
        let centred = g(x)
            .iter()
            .zip(&mean)
            .map(|(v, m)| v - m)
            .collect::<Vec<_>>();
        for r in 0..4 {
            for c in 0..4 {
                cov[r][c] += centred[r] * centred[c];
            }
        }
    }
    (mean, cov.map(|row| row.map(|v| v / n)))
}

/// Moore–Penrose pseudo-inverse of a symmetric 4 × 4 covariance and its rank. Eigenvalues below
/// [`CUTOFF`] × the largest are rounding noise and dropped (numpy's `pinv` drops below 1e-15 ×,
/// which is the noise level itself, so which noise survives depends on the library's rounding
/// and changes the rank, the χ² degrees of freedom); the rank is 0 when the largest is itself
/// below [`CUTOFF`] (the entries are covariances of sines and cosines, at most 1 per unit
/// weight). Symmetric, so the cyclic Jacobi method gives the eigen decomposition directly.
fn pseudo_inverse(matrix: [[f64; 4]; 4]) -> ([[f64; 4]; 4], usize) {
    let (values, vectors) = jacobi_eigen(matrix);
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut inverse = [[0.0; 4]; 4];
    if largest <= CUTOFF {
        return (inverse, 0);
    }
    let kept: Vec<usize> = (0..4)
        .filter(|&i| values[i].abs() > CUTOFF * largest)
        .collect();
    for &i in &kept {
        for r in 0..4 {
            for c in 0..4 {
                inverse[r][c] += vectors[r][i] * vectors[c][i] / values[i];
            }
        }
    }
    (inverse, kept.len())
}

/// Eigenvalues and eigenvectors (as columns) of a symmetric matrix, by cyclic Jacobi rotations.
fn jacobi_eigen(mut a: [[f64; 4]; 4]) -> ([f64; 4], [[f64; 4]; 4]) {
    let mut v = [[0.0; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..4)
            .flat_map(|p| (0..4).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p][q] * a[p][q])
            .sum();
        let diagonal: f64 = (0..4).map(|i| a[i][i] * a[i][i]).sum();
        if off <= f64::EPSILON * f64::EPSILON * diagonal || off == 0.0 {
            break;
        }
        for p in 0..3 {
            for q in p + 1..4 {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← Jᵀ A J and V ← V J for the rotation J in the (p, q) plane.
                for row in a.iter_mut().chain(v.iter_mut()) {
                    let (kp, kq) = (row[p], row[q]);
                    row[p] = c * kp - s * kq;
                    row[q] = s * kp + c * kq;
                }
                let (row_p, row_q) = (a[p], a[q]);
                for (k, (&pk, &qk)) in row_p.iter().zip(&row_q).enumerate() {
                    a[p][k] = c * pk - s * qk;
                    a[q][k] = s * pk + c * qk;
                }
            }
        }
    }
    ([a[0][0], a[1][1], a[2][2], a[3][3]], v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_inverse_inverts_and_ranks() {
        let m = [
            [4.0, 1.0, 0.5, 0.0],
            [1.0, 3.0, 0.0, 0.2],
            [0.5, 0.0, 2.0, 0.1],
            [0.0, 0.2, 0.1, 1.0],
        ];
        let (inv, rank) = pseudo_inverse(m);
        assert_eq!(rank, 4);
        for (r, row) in m.iter().enumerate() {
            for c in 0..4 {
                let product: f64 = row.iter().zip(&inv).map(|(x, i)| x * i[c]).sum();
                let want = if r == c { 1.0 } else { 0.0 };
                assert!((product - want).abs() < 1e-12, "{r},{c}: {product}");
            }
        }
        // Rank 1: u uᵀ, whose pseudo-inverse is u uᵀ / |u|⁴.
        let u = [1.0, 2.0, 0.0, -1.0];
        let outer = u.map(|a| u.map(|b| a * b));
        let (inv, rank) = pseudo_inverse(outer);
        assert_eq!(rank, 1);
        assert!((inv[0][1] - 2.0 / 36.0).abs() < 1e-12, "{inv:?}");
    }

    #[test]
    fn zero_iqr_or_covariance_is_not_computable() {
        let (ones, twos) = ([1.0; 20], [2.0; 30]);
        assert_eq!(
            epps_singleton_2samp(&ones, &twos),
            Err(NotComputable::ZeroVariance)
        );
        let same = [1.0; 6];
        let other = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(
            epps_singleton_2samp(&same, &other),
            Err(NotComputable::ZeroIqr)
        );
        assert_eq!(
            epps_singleton_2samp(&[1.0; 4], &other),
            Err(NotComputable::TooFewValues)
        );
    }
}
