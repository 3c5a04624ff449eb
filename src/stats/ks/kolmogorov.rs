//! One-sample Kolmogorov distribution `D_N` (SciPy's `kstwo`): the large-sample branch,
//! with one algorithm per region of the module table.

use std::f64::consts::PI;

use super::clip_prob;
use super::smirnov::smirnov_sf;
use super::stirling::ln_factorial_over_power;

/// `2^128`: rescaling step that keeps long products of tiny or huge factors in range.
const SCALE: f64 = f64::from_bits((1023 + 128) << 52);
const SCALE_EXPONENT: i64 = 128;

/// `P(D_n >= x)`, the survival function of the two-sided one-sample KS statistic.
pub(super) fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    let n_f = n as f64;
    let t = n_f * x;
    if t <= 0.5 {
        // Below the support: D_n >= 1/(2n) always.
        return 1.0;
    }
    if t <= 1.0 {
        return clip_prob(1.0 - ruben_gambino_cdf(n, t));
    }
    if t >= n_f - 1.0 {
        return clip_prob(2.0 * (1.0 - x).powf(n_f));
    }
    if x >= 0.5 {
        // D+ >= x and D- >= x cannot both hold when x > 1/2, so the two tails just add.
        return clip_prob(2.0 * smirnov_sf(n, x));
    }
    let n_x2 = t * x;
    if n <= 140 {
        return if n_x2 <= 0.754_693 {
            clip_prob(1.0 - durbin_cdf(n, x))
        } else if n_x2 <= 4.0 {
            clip_prob(1.0 - pomeranz_cdf(n, x))
        } else {
            clip_prob(2.0 * smirnov_sf(n, x))
        };
    }
    if n_x2 >= 370.0 {
        return 0.0;
    }
    if n_x2 >= 2.2 {
        // The overlap of the two one-sided tails is negligible this far out.
        return clip_prob(2.0 * smirnov_sf(n, x));
    }
    let cdf = if n <= 100_000 && n_f * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    clip_prob(1.0 - cdf)
}

/// `P(D_n <= t/n)` for `1/2 < t <= 1`, which is exactly `n!/n^n (2t - 1)^n`.
fn ruben_gambino_cdf(n: u64, t: f64) -> f64 {
    let base = 2.0 * t - 1.0;
    if n <= 140 {
        let inv_n = 1.0 / n as f64;
        (1..=n).map(|i| i as f64 * inv_n * base).product()
    } else {
        // n! and n^n overflow separately; their ratio is fine in log space.
        (ln_factorial_over_power(n) + n as f64 * base.ln()).exp()
    }
}

/// `P(D_n <= d)` by Durbin's matrix formula, computed the Marsaglia–Tsang–Wang way.
///
/// With `d = (k - h)/n`, `0 <= h < 1`, the CDF is `n!/n^n` times entry `(k, k)` of `H^n`
/// for a `(2k-1)`-square matrix `H`. `H^n` is formed by repeated squaring; its entries
/// grow like `e^n`, so the running powers are rescaled by `2^-128` whenever they get
/// large and the exponents are tracked separately, then `n!/n^n` is applied one factor
/// at a time with the same bookkeeping. Cost `O(k³ log n)`, fine for the small `k` used.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let n_f = n as f64;
    let nd = n_f * d;
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let size = 2 * k - 1;

    // first_col[j] = (1 - h^(j+1)) / (j+1)!, inv_fact[j] = 1/j!.
    let mut first_col = vec![0.0; size];
    let mut inv_fact = vec![0.0; size];
    let mut fac = 1.0;
    for j in 0..size {
        inv_fact[j] = fac;
        fac /= (j + 1) as f64;
        first_col[j] = (1.0 - h.powf((j + 1) as f64)) * fac;
    }
    let corner = (2.0 * h - 1.0).max(0.0).powf(size as f64) - 2.0 * h.powf(size as f64);
    first_col[size - 1] = (1.0 + corner) * fac;

    let mut power = vec![0.0; size * size];
    for (r, row) in power.chunks_exact_mut(size).enumerate() {
        row[0] = first_col[r];
        // Lower Hessenberg band: H[r][c] = 1/(r - c + 1)! for c >= 1, r >= c - 1.
        for (c, cell) in row.iter_mut().enumerate().take(r + 2).skip(1) {
            *cell = inv_fact[r + 1 - c];
        }
    }
    let last_row = &mut power[(size - 1) * size..];
    for (c, cell) in last_row.iter_mut().enumerate() {
        *cell = first_col[size - 1 - c];
    }

    let mut result = vec![0.0; size * size];
    for i in 0..size {
        result[i * size + i] = 1.0;
    }
    let mut scratch = vec![0.0; size * size];
    let (mut result_exp, mut power_exp) = (0_i64, 0_i64);
    let centre = (k - 1) * size + (k - 1);
    let mut remaining = n;
    loop {
        if remaining & 1 == 1 {
            mat_mul(&result, &power, &mut scratch, size);
            std::mem::swap(&mut result, &mut scratch);
            result_exp += power_exp;
        }
        remaining >>= 1;
        if remaining == 0 {
            break;
        }
        mat_mul(&power, &power, &mut scratch, size);
        std::mem::swap(&mut power, &mut scratch);
        power_exp *= 2;
        if power[centre].abs() > SCALE {
            for v in &mut power {
                *v /= SCALE;
            }
            power_exp += SCALE_EXPONENT;
        }
    }

    let mut p = result[centre];
    for i in 1..=n {
        p = i as f64 * p / n_f;
        if p.abs() < 1.0 / SCALE {
            p *= SCALE;
            result_exp -= SCALE_EXPONENT;
        }
    }
    clip_prob(ldexp(p, result_exp))
}

/// `out = a * b` for row-major `size x size` matrices.
fn mat_mul(a: &[f64], b: &[f64], out: &mut [f64], size: usize) {
    for (out_row, a_row) in out.chunks_exact_mut(size).zip(a.chunks_exact(size)) {
        out_row.fill(0.0);
        for (&a_ik, b_row) in a_row.iter().zip(b.chunks_exact(size)) {
            for (o, &b_kj) in out_row.iter_mut().zip(b_row) {
                *o += a_ik * b_kj;
            }
        }
    }
}

/// `P(D_n <= x)` by Pomeranz's recursion (exact; used for `n <= 140`).
///
/// The `n` uniform order statistics are tracked on a grid of `2n + 2` breakpoints
/// (`i/n ± x`); each step convolves the previous row with unnormalised Poisson weights
/// `(δ/n)^j / j!` for the gap `δ` between breakpoints (only three gaps occur: `g`, `2g`,
/// `1 - 2g`). Only a short window of each row can be non-zero. Rows are rescaled by
/// `2^128` when they underflow towards zero, and `n!` is applied at the end.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let n_f = n as f64;
    let t = n_f * x;
    let whole = t.floor();
    let frac = t - whole;
    let g = frac.min(1.0 - frac);
    let bounds = PomeranzBounds {
        n: n as i64,
        whole: whole as i64,
        ceil_frac: i64::from(frac > 0.0),
        round_frac: i64::from(frac > 0.5),
    };
    let width = 2 * (bounds.whole as usize + 1);
    let weights = |gap: f64| {
        let mut w = vec![1.0; width];
        for j in 1..width {
            w[j] = w[j - 1] * gap / j as f64;
        }
        w
    };
    let edge_weights = weights(g / n_f);
    let odd_weights = weights(2.0 * g / n_f);
    let even_weights = weights((1.0 - 2.0 * g) / n_f);

    let mut prev = vec![0.0; width];
    let mut cur = vec![0.0; width];
    cur[0] = 1.0;
    // Grid index stored in slot 0 of each row.
    let (mut prev_start, mut cur_start) = (0_i64, 0_i64);
    let mut exponent = 0_i64;
    let last_step = 2 * n as i64 + 1;
    let (mut j1, _) = bounds.row(0);
    for i in 1..=last_step {
        let k1 = j1;
        std::mem::swap(&mut prev, &mut cur);
        std::mem::swap(&mut prev_start, &mut cur_start);
        cur.fill(0.0);
        let j2;
        (j1, j2) = bounds.row(i);
        let w = if i == 1 || i == last_step {
            &edge_weights
        } else if i % 2 == 1 {
            &odd_weights
        } else {
            &even_weights
        };
        let len = j2 - k1 + 1;
        if len <= 0 {
            continue;
        }
        let len = len as usize;
        let src = &prev[(k1 - prev_start) as usize..][..len];
        // Entries first..first+count of the full convolution src * w[..len].
        let first = (j1 - k1) as usize;
        let count = (j2 - j1 + 1) as usize;
        for (offset, slot) in cur[..count].iter_mut().enumerate() {
            let idx = first + offset;
            let lo = idx.saturating_sub(len - 1);
            *slot = (lo..=idx.min(len - 1)).map(|s| src[s] * w[idx - s]).sum();
        }
        let peak = cur.iter().fold(0.0, |a: f64, &b| a.max(b));
        if peak > 0.0 && peak < 1.0 / SCALE {
            for v in &mut cur {
                *v *= SCALE;
            }
            exponent -= SCALE_EXPONENT;
        }
        cur_start = prev_start + j1 - k1;
    }

    let mut ans = cur[(n as i64 - cur_start) as usize];
    for j in 1..=n {
        if ans.abs() > SCALE {
            ans /= SCALE;
            exponent += SCALE_EXPONENT;
        }
        ans *= j as f64;
    }
    clip_prob(ldexp(ans, exponent))
}

/// Parameters of `n x = whole + frac` that fix which grid cells each Pomeranz row spans.
struct PomeranzBounds {
    n: i64,
    whole: i64,
    ceil_frac: i64,
    round_frac: i64,
}

impl PomeranzBounds {
    /// Inclusive range `(j1, j2)` of possibly non-zero cells in row `i`.
    fn row(&self, i: i64) -> (i64, i64) {
        let Self {
            n,
            whole,
            ceil_frac,
            round_frac,
        } = *self;
        let half = (i + 1) / 2;
        let (j1, j2) = if i == 0 {
            (-whole - ceil_frac - 1, whole + ceil_frac - 1)
        } else if i % 2 == 0 {
            (half - whole - 2, half + whole + round_frac - 1)
        } else if half == n + 1 {
            (n - whole - ceil_frac - 1, n + whole + ceil_frac - 1)
        } else {
            (half - whole - round_frac - 2, half + whole + ceil_frac - 2)
        };
        ((j1 + 2).max(0), j2.min(n))
    }
}

/// `P(D_n <= x)` by the Pelz–Good asymptotic expansion (four terms in `1/√n`).
///
/// The Li-Chien/Korolyuk series in `z = x√n` converges slowly for small `z`; Jacobi's
/// theta transformation turns it into sums over `exp(-(2k-1)² π² / 8z²)` that converge
/// after about `16 z / π` terms. Used for large `n` where the matrix methods are too slow.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    let n_f = n as f64;
    let z = n_f.sqrt() * x;
    let (z2, z3, z4, z6) = (z.powi(2), z.powi(3), z.powi(4), z.powi(6));
    let pi2 = PI * PI;
    let (pi4, pi6) = (pi2 * pi2, pi2 * pi2 * pi2);
    let sqrt_2pi = (2.0 * PI).sqrt();

    let log_q = -pi2 / 8.0 / z2;
    if log_q < -708.0 {
        // Every term underflows: the CDF is 0 to double precision.
        return 0.0;
    }
    let q = log_q.exp();

    // Per-term coefficients of K1..K3 as polynomials in the odd integer (2k - 1).
    let (k1a, k1b) = (-z2, pi2 / 4.0);
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);

    // Σ c_k q^((2k-1)²) by Horner: consecutive exponents differ by 8k.
    let max_k = (16.0 * z / PI).ceil() as u64;
    let mut terms = [0.0_f64; 4];
    for k in (1..=max_k).rev() {
        let odd = (2 * k - 1) as f64;
        let (o2, o4, o6) = (odd.powi(2), odd.powi(4), odd.powi(6));
        let q_step = q.powf((8 * k) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * o2,
            k2a + k2b * o2 + k2c * o4,
            k3a + k3b * o2 + k3c * o4 + k3d * o6,
        ];
        for (term, c) in terms.iter_mut().zip(coeffs) {
            *term = *term * q_step + c;
        }
    }
    let denominators = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (term, den) in terms.iter_mut().zip(denominators) {
        *term = *term * q * sqrt_2pi / den;
    }

    // K2 and K3 also carry sums over all integers k of k² q'^(k²), q' = exp(-π²/2z²).
    let q_all = (-pi2 / 2.0 / z2).exp();
    let sqrt3_z = 3.0_f64.sqrt() * z;
    let (mut k2_extra, mut k3_extra) = (0.0, 0.0);
    for k in (1..=max_k).rev() {
        let k2 = (k * k) as f64;
        let weight = k2 * q_all.powf(k2);
        let k_pi = PI * k as f64;
        k2_extra += weight;
        k3_extra += (sqrt3_z + k_pi) * (sqrt3_z - k_pi) * weight;
    }
    terms[2] += k2_extra * pi2 * sqrt_2pi / (-36.0 * z3);
    terms[3] += k3_extra * pi2 * sqrt_2pi / (216.0 * z6);

    terms
        .iter()
        .enumerate()
        .map(|(i, term)| term / n_f.powf(i as f64 / 2.0))
        .sum()
}

/// `x * 2^exp` without overflowing the intermediate power of two.
fn ldexp(mut x: f64, mut exp: i64) -> f64 {
    const STEP: i64 = 1000;
    while exp > STEP && x.is_finite() && x != 0.0 {
        x *= pow2(STEP);
        exp -= STEP;
    }
    while exp < -STEP && x != 0.0 {
        x *= pow2(-STEP);
        exp += STEP;
    }
    x * pow2(exp.clamp(-STEP, STEP))
}

/// `2^e` for `|e| <= 1000` (a normal number, built from its bit pattern).
fn pow2(e: i64) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}
