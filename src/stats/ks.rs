//! Two-sample Kolmogorov–Smirnov test: the statistic and its two-sided p-value.
//!
//! Drift on a numeric feature is judged by comparing the reference window with the
//! current window. This module computes `D = sup_x |F_ref(x) - F_cur(x)|` of the two
//! empirical CDFs and the probability, under "both windows come from the same continuous
//! distribution", of a statistic at least as large as `D`.
//!
//! # Parity target
//!
//! Results match `scipy.stats.ks_2samp(reference, current, method="auto",
//! alternative="two-sided")` (SciPy 1.17). The golden cases in `tests/golden/ks.json`,
//! produced by `tools/golden/gen_ks.py`, are checked by the unit tests below.
//!
//! # Which algorithm handles which region
//!
//! With sample sizes `n`, `m`, `D` only takes values `h / lcm(n, m)`.
//!
//! * `max(n, m) <= 10_000`: the exact null distribution of `D_{n,m}`.
//!   * `n == m`: the reflection-principle sum of alternating binomial ratios, nested
//!     Horner-style so that no binomial coefficient is ever formed; `O(n)`.
//!   * `n != m`: a lattice-path recursion over the `(m + 1) x (n + 1)` grid that carries
//!     the probability of having already left the band `|x/m - y/n| < h / lcm` (Hodges'
//!     "inside" method in Viehmann's `1 - p` form, so every cell is a convex combination
//!     in `[0, 1]` and nothing overflows). One column of `min(n, m) + 1` cells is kept;
//!     time is `O(max(n, m) * band width)`, with four columns computed as a wavefront.
//!   * If rounding pushes the exact value outside `[0, 1]` (only the equal-size sum can,
//!     and only when `p` is 1 to within a few ulps), SciPy abandons it and uses the
//!     asymptotic branch with `d` snapped to `h / lcm`; so do we.
//! * Otherwise: SciPy's "asymptotic" choice, which is the *exact one-sample* Kolmogorov
//!   distribution `D_N` with `N = round(n m / (n + m))` (ties to even), evaluated per
//!   Simard & L'Ecuyer (2011). With `t = N d`, the first matching row wins:
//!
//! | region                                   | survival function `P(D_N >= d)`            |
//! |------------------------------------------|--------------------------------------------|
//! | `t <= 1/2`; `d >= 1`                     | 1; 0                                       |
//! | `t <= 1`                                 | Ruben–Gambino: `1 - N!/N^N (2t - 1)^N`     |
//! | `t >= N - 1`                             | Ruben–Gambino: `2 (1 - d)^N`               |
//! | `d >= 1/2`                               | `2 Smirnov` (the two tails are disjoint)   |
//! | `N <= 140`, `N d² <= 0.754693`           | `1 -` Durbin matrix (Marsaglia–Tsang–Wang) |
//! | `N <= 140`, `N d² <= 4`                  | `1 -` Pomeranz recursion                   |
//! | `N <= 140`                               | `2 Smirnov`                                |
//! | `N d² >= 370`                            | 0                                          |
//! | `N d² >= 2.2`                            | `2 Smirnov` (tail overlap negligible)      |
//! | `N <= 100_000`, `N d^1.5 <= 1.4`         | `1 -` Durbin matrix                        |
//! | otherwise                                | `1 -` Pelz–Good expansion                  |
//!
//! `Smirnov(N, d)` is the one-sided `P(D_N+ >= d)`, summed from the Birnbaum–Tingey
//! formula for `N <= 10^6` and approximated by `exp(-(6Nd + 1)² / 18N)` beyond.

use std::f64::consts::{LN_2, PI};

/// Result of a two-sample two-sided Kolmogorov–Smirnov test.
///
/// Kept as a plain pair so callers can export both numbers as metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    /// `D = sup |F_ref - F_cur|`, in `[0, 1]`.
    pub statistic: f64,
    /// Two-sided p-value of `statistic`, in `[0, 1]`.
    pub p_value: f64,
}

/// Largest sample size for which the exact two-sample distribution is used
/// (SciPy's `MAX_AUTO_N`).
const MAX_EXACT_N: usize = 10_000;

/// Computes the KS statistic `D = sup |F_ref - F_cur|` of two ascending-sorted,
/// NaN-free samples in a single merge pass (`O(n + m)`, no allocation).
///
/// This is the drift magnitude reported per feature. Ties are handled like SciPy: at
/// each distinct value both ECDFs step past every copy of it before they are compared,
/// so equal values shared by both samples never create a spurious gap. Returns 0.0 if
/// either slice is empty (there is nothing to compare).
#[must_use]
pub fn statistic(reference_sorted: &[f64], current_sorted: &[f64]) -> f64 {
    let (n, m) = (reference_sorted.len(), current_sorted.len());
    if n == 0 || m == 0 {
        return 0.0;
    }
    let (n_f, m_f) = (n as f64, m as f64);
    let (mut i, mut j) = (0, 0);
    let mut d: f64 = 0.0;
    // Once one sample is exhausted its ECDF is 1 and the other only climbs towards 1,
    // so the gap can only shrink: stopping there loses nothing.
    while i < n && j < m {
        let value = reference_sorted[i].min(current_sorted[j]);
        let (i_before, j_before) = (i, j);
        while i < n && reference_sorted[i] <= value {
            i += 1;
        }
        while j < m && current_sorted[j] <= value {
            j += 1;
        }
        if i == i_before && j == j_before {
            // Both heads are NaN (a broken precondition): stop instead of spinning.
            break;
        }
        // The same expression as SciPy's (`i/n - j/m`), so the ECDF gaps agree bit for bit.
        d = d.max((i as f64 / n_f - j as f64 / m_f).abs());
    }
    d
}

/// Two-sided p-value of the KS statistic `d` for sample sizes `n` and `m`, equal to
/// `scipy.stats.ks_2samp(method="auto", alternative="two-sided")`.
///
/// Exact when `max(n, m) <= 10_000`, otherwise the one-sample Kolmogorov distribution
/// with `N = round(n m / (n + m))` (see the module docs for the algorithm per region).
/// Returns 1.0 if either size is 0; `d` is clamped to `[0, 1]` and a NaN `d` is treated
/// as 0. The result is always in `[0, 1]`, never NaN.
#[must_use]
pub fn p_value(d: f64, n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let mut d = if d.is_nan() { 0.0 } else { d.clamp(0.0, 1.0) };
    if n.max(m) <= MAX_EXACT_N {
        let (n, m) = (n as u64, m as u64);
        let lcm = n / gcd(n, m) * m;
        // D lives on the lattice h / lcm; snapping undoes the rounding in `d`.
        let h = (d * lcm as f64).round_ties_even() as u64;
        if h == 0 {
            return 1.0;
        }
        if n != m {
            return prob_outside_band(n.max(m), n.min(m), lcm, h);
        }
        let p = prob_outside_square(n, h);
        if (0.0..=1.0).contains(&p) {
            return p;
        }
        // The alternating sum overshot 1 by rounding (p is 1 to a few ulps); SciPy then
        // abandons the exact value and uses the asymptotic branch at the snapped `d`.
        d = h as f64 / lcm as f64;
    }
    let (n, m) = (n as f64, m as f64);
    let effective_n = (n * m / (n + m)).round_ties_even();
    kolmogorov_sf(effective_n as u64, d)
}

/// Runs the whole test on two ascending-sorted, NaN-free samples.
///
/// Convenience for callers that want both numbers; an empty slice yields
/// `{ statistic: 0.0, p_value: 1.0 }` ("no evidence of drift") instead of an error.
#[must_use]
pub fn ks_2samp(reference_sorted: &[f64], current_sorted: &[f64]) -> KsResult {
    let statistic = statistic(reference_sorted, current_sorted);
    KsResult {
        statistic,
        p_value: p_value(statistic, reference_sorted.len(), current_sorted.len()),
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

// ---------------------------------------------------------------------------------------
// Exact two-sample distribution
// ---------------------------------------------------------------------------------------

/// `P(D_{n,n} >= h/n)` for `1 <= h <= n`.
///
/// By reflection, `P = 2 Σ_{k>=1} (-1)^(k-1) C(2n, n - kh) / C(2n, n)`. Each ratio
/// `C(2n, n-kh) / C(2n, n)` is `A_1 ⋯ A_k` with `A_k = Π_{j<h} (n-(k-1)h-j)/(n+(k-1)h+j+1)`,
/// so the sum nests as `2 A_1 (1 - A_2 (1 - A_3 (…)))`: evaluated from the inside out, no
/// huge binomial is formed and the cancellation is mild. The innermost factor
/// (`k = ⌊n/h⌋ + 1`) always contains a zero numerator, so the nesting starts one level up.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut p = 0.0;
    for k in (0..n / h).rev() {
        let mut ratio = 1.0;
        for j in 0..h {
            ratio = ((n - k * h - j) as f64 * ratio) / ((n + k * h + j + 1) as f64);
        }
        p = ratio * (1.0 - p);
    }
    2.0 * p
}

/// Lattice columns advanced together by [`prob_outside_band`].
const BAND_LANES: usize = 4;

/// One lattice column in flight: its band of rows `lo..hi`, its `x`, and the value it
/// last computed (the cell below the next row).
#[derive(Clone, Copy, Default)]
struct BandColumn {
    lo: i64,
    hi: i64,
    x: f64,
    below: f64,
}

/// `P(D_{big,small} >= h/lcm)` for `big > small`, i.e. the share of monotone lattice paths
/// from `(0, 0)` to `(big, small)` that touch `|x/big - y/small| >= h/lcm`.
///
/// Cell `(x, y)` holds the probability that a uniformly random path through it has
/// already left the band. Such a path arrives from `(x-1, y)` with probability `x/(x+y)`
/// and from `(x, y-1)` with `y/(x+y)`, so each cell is a convex combination of two
/// neighbours: values stay in `[0, 1]`, unlike raw path counts, which overflow `f64`
/// long before `n = 10_000`. Cells outside the band are 1.
///
/// Only one array of `small + 1` rows is kept, overwritten column by column. The
/// recurrence along a column is a serial chain, so `BAND_LANES` consecutive columns run
/// as a skewed wavefront: column `x + b` handles row `y` at step `t = y + b`, when both
/// of its inputs (column `x + b - 1` at row `y`, itself at row `y - 1`) were produced in
/// step `t - 1`. The chains overlap in the CPU, and every cell of a step shares the
/// denominator `x + t`, so one division per step serves all lanes. Multiplying by that
/// reciprocal rounds differently from SciPy's division, by a few ulps per cell at most,
/// and the convex recursion does not amplify it.
fn prob_outside_band(big: u64, small: u64, lcm: u64, h: u64) -> f64 {
    // In units of 1/lcm: x/big - y/small = (x * small_step - y * big_step) / lcm.
    let big_step = (lcm / small) as i64;
    let small_step = (lcm / big) as i64;
    let (big, small, h) = (big as i64, small as i64, h as i64);
    // Band of column x: rows lo..hi with lo = ⌊(x s - h)/b⌋ + 1 and hi = ⌈(x s + h)/b⌉.
    let band = |x: i64| {
        let lo = ((x * small_step - h).div_euclid(big_step) + 1).clamp(0, small);
        let hi = (x * small_step + h + big_step - 1)
            .div_euclid(big_step)
            .min(small + 1);
        (lo, hi)
    };
    // cells[y] is the latest column's value at row y. Bands only move up, so the rows
    // above a column's band were never written and still hold 1 ("outside"), as needed.
    let mut cells = vec![1.0; small as usize + 1];
    let (_, hi) = band(0);
    cells[..hi as usize].fill(0.0);
    let mut x = 1;
    while x <= big {
        // Unused lanes of the last group keep the empty band 0..0.
        let mut columns = [BandColumn::default(); BAND_LANES];
        let mut steps = 0;
        for (b, column) in (0..).zip(columns.iter_mut()).take((big - x + 1) as usize) {
            let (lo, hi) = band(x + b);
            if hi <= lo {
                // The band closed: every path has left it.
                return 1.0;
            }
            // The cell below the band is outside it, unless there is none (lo == 0).
            let below = if lo == 0 { 0.0 } else { 1.0 };
            *column = BandColumn {
                lo,
                hi,
                x: (x + b) as f64,
                below,
            };
            steps = steps.max(hi + b);
        }
        for t in columns[0].lo..steps {
            let inv = 1.0 / (x + t) as f64;
            for (b, column) in (0..).zip(columns.iter_mut()) {
                let y = t - b;
                if (column.lo..column.hi).contains(&y) {
                    let cell = &mut cells[y as usize];
                    column.below = *cell * (column.x * inv) + column.below * (y as f64 * inv);
                    *cell = column.below;
                }
            }
        }
        x += BAND_LANES as i64;
    }
    // Rounding may leave the corner a few ulps above 1.
    cells[small as usize].min(1.0)
}

// ---------------------------------------------------------------------------------------
// One-sample Kolmogorov distribution D_N (SciPy's `kstwo`)
// ---------------------------------------------------------------------------------------

/// `2^128`: rescaling step that keeps long products of tiny or huge factors in range.
const SCALE: f64 = f64::from_bits((1023 + 128) << 52);
const SCALE_EXPONENT: i64 = 128;

/// `P(D_n >= x)`, the survival function of the two-sided one-sample KS statistic.
fn kolmogorov_sf(n: u64, x: f64) -> f64 {
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

fn clip_prob(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
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
fn ln_factorial_over_power(n: u64) -> f64 {
    let n = n as f64;
    let inv_n = 1.0 / n;
    let series = STIRLING.iter().fold(0.0, |acc, &c| acc * (inv_n / n) + c);
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + inv_n * series
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

/// `ln 2^-1075`: below this `exp` underflows to zero, and so does `P(D_n+ >= x)`,
/// which is at most `exp(-2 n x²)`.
const MIN_LN: f64 = -745.133_219_101_941_2;

/// One-sided `P(D_n+ >= x)` (SciPy's `special.smirnov`), for `n >= 2`, `1/n < x < 1`.
///
/// Exact Birnbaum–Tingey sum
/// `x Σ_{v=0}^{⌈n(1-x)⌉-1} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)`.
/// The binomials and powers overflow and underflow wildly while the terms themselves are
/// at most 1, so every term is assembled in log space. The bases are formed from the
/// exact split `n x = floor + alpha` so that `1 - x - v/n` keeps full relative precision
/// even when it is tiny.
fn smirnov_sf(n: u64, x: f64) -> f64 {
    let n_f = n as f64;
    if -2.0 * n_f * x * x < MIN_LN {
        return 0.0;
    }
    if n > 1_000_000 {
        // Too many terms; use the approximation SciPy switches to.
        let log_p = -(6.0 * n_f * x + 1.0).powi(2) / 18.0 / n_f;
        return if log_p < -LN_2 {
            log_p.exp()
        } else {
            1.0 + log_p.exp_m1()
        };
    }

    // n x = floor + alpha exactly (to rounding of alpha): fma recovers the product's error.
    let nx = n_f * x;
    let mut floor = nx.floor();
    let mut alpha = (nx - floor) + n_f.mul_add(x, -nx);
    if alpha < 0.0 {
        floor -= 1.0;
        alpha += 1.0;
    }
    if alpha >= 1.0 {
        floor += 1.0;
        alpha = 0.0;
    }
    let floor = floor as u64;

    // Terms v = 0..terms have 1 - x - v/n > 0.
    let terms = n - floor;
    let ln_x = x.ln();
    // ln C(n, v) grows to about n ln 2; plain accumulation would lose half an ulp of
    // that per step, an error growing like n². Neumaier's compensation keeps it O(1).
    let mut ln_binom = CompensatedSum::default();
    let mut sum = (n_f * (-x).ln_1p()).exp();
    for v in 1..terms {
        ln_binom.add(((n - v + 1) as f64 / v as f64).ln());
        let a = ((v + floor) as f64 + alpha) / n_f;
        // ln(1 - a): ln_1p keeps precision while a is small, the exact difference
        // (n - v - floor - alpha)/n once it is not.
        let ln_b = if a <= 0.5 {
            (-a).ln_1p()
        } else {
            (((n - v - floor) as f64 - alpha) / n_f).ln()
        };
        let term =
            (ln_x + ln_binom.value() + (v - 1) as f64 * a.ln() + (n - v) as f64 * ln_b).exp();
        sum += term;
        // Stop once the remaining terms cannot change the sum, as SciPy does.
        if term != 0.0 {
            if 4.0 * (terms - v) as f64 * term < f64::EPSILON * sum && v != terms - 1 {
                break;
            }
        } else if v > n / 2 {
            break;
        }
    }
    clip_prob(sum)
}

/// Neumaier (improved Kahan) summation: a running sum plus the rounding error it dropped.
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    carry: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.carry
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// SciPy reference values written by `tools/golden/gen_ks.py`.
    const GOLDEN: &str = include_str!("../../tests/golden/ks.json");

    /// D is a difference of two fractions; SciPy reports the same value or (exact branch)
    /// the lattice point `h / lcm` it snaps to, which differ only in the last bits.
    const STATISTIC_TOLERANCE: f64 = 1e-12;

    /// Absolute p-value tolerance: far below any alerting threshold, yet it leaves room for
    /// sums evaluated in a different order than SciPy's. The measured worst case over the
    /// golden file is far smaller (see the relative check below).
    const P_TOLERANCE: f64 = 1e-6;

    /// Tiny p-values are read on a log scale, so they must also agree relatively
    /// (wherever SciPy's value is not itself at the underflow edge).
    const P_RELATIVE_TOLERANCE: f64 = 1e-9;

    fn golden_cases(key: &str) -> Vec<Value> {
        let doc: Value = serde_json::from_str(GOLDEN).expect("ks.json is valid JSON");
        let cases = doc[key].as_array().expect("case list").clone();
        assert!(!cases.is_empty(), "{key} is empty");
        cases
    }

    fn number(case: &Value, key: &str) -> f64 {
        case[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {case}"))
    }

    fn floats(case: &Value, key: &str) -> Vec<f64> {
        let values = case[key].as_array().expect("sample array");
        values.iter().map(|v| v.as_f64().expect("number")).collect()
    }

    fn assert_p_matches(name: &str, actual: f64, expected: f64) {
        let abs = (actual - expected).abs();
        assert!(
            abs <= P_TOLERANCE,
            "{name}: p {actual:e} vs SciPy {expected:e}"
        );
        if expected > 1e-290 {
            let rel = abs / expected;
            assert!(
                rel <= P_RELATIVE_TOLERANCE,
                "{name}: p {actual:e} vs SciPy {expected:e}"
            );
        }
    }

    #[test]
    fn golden_samples_match_scipy() {
        for case in golden_cases("sample_cases") {
            let name = case["name"].as_str().expect("name");
            let (reference, current) = (floats(&case, "reference"), floats(&case, "current"));
            let result = ks_2samp(&reference, &current);
            let expected = number(&case, "statistic");
            assert!(
                (result.statistic - expected).abs() <= STATISTIC_TOLERANCE,
                "{name}: D {} vs SciPy {expected}",
                result.statistic
            );
            assert_p_matches(name, result.p_value, number(&case, "p_value"));
        }
    }

    #[test]
    fn golden_p_values_match_scipy() {
        for case in golden_cases("p_value_cases") {
            let name = case["name"].as_str().expect("name");
            let size = |key| case[key].as_u64().expect("size") as usize;
            let p = p_value(number(&case, "d"), size("n"), size("m"));
            assert_p_matches(name, p, number(&case, "p_value"));
        }
    }

    #[test]
    fn empty_input_means_no_evidence() {
        let none = KsResult {
            statistic: 0.0,
            p_value: 1.0,
        };
        assert_eq!(ks_2samp(&[], &[]), none);
        assert_eq!(ks_2samp(&[], &[1.0, 2.0]), none);
        assert_eq!(ks_2samp(&[1.0], &[]), none);
        assert_eq!(p_value(0.7, 0, 10), 1.0);
        assert_eq!(p_value(0.7, 10, 0), 1.0);
    }

    #[test]
    fn ties_step_both_ecdfs_together() {
        // At 2 both ECDFs jump to 3/4; comparing mid-tie would report 3/4 instead of 1/4.
        let (reference, current) = ([1.0, 2.0, 2.0, 3.0], [2.0, 2.0, 2.0, 4.0]);
        assert_eq!(statistic(&reference, &current), 0.25);
        assert_eq!(statistic(&current, &reference), 0.25);
        assert_eq!(statistic(&[-0.0, 1.0], &[0.0, 1.0]), 0.0);
    }

    #[test]
    fn p_value_is_symmetric_and_monotone_in_d() {
        for n in 1..=12 {
            for m in 1..=12 {
                let lcm = n / gcd(n as u64, m as u64) as usize * m;
                let mut previous = 1.0;
                for h in 0..=lcm {
                    let d = h as f64 / lcm as f64;
                    let p = p_value(d, n, m);
                    assert_eq!(p, p_value(d, m, n), "n={n} m={m} h={h}");
                    assert!(p <= previous, "n={n} m={m} h={h}: {p} > {previous}");
                    previous = p;
                }
            }
        }
    }

    #[test]
    fn equal_size_overshoot_falls_back_like_scipy() {
        // h = 25 on the 10_000 x 10_000 lattice: the exact sum exceeds 1 by rounding.
        assert!(prob_outside_square(10_000, 25) > 1.0);
        assert_eq!(
            p_value(0.0025, 10_000, 10_000),
            kolmogorov_sf(5_000, 0.0025)
        );
    }

    #[test]
    fn p_value_is_never_nan() {
        let sizes = [
            1, 2, 3, 7, 50, 141, 999, 10_000, 10_001, 40_000, 300_000, 3_000_000,
        ];
        let ds = [
            f64::NAN,
            f64::NEG_INFINITY,
            -0.5,
            0.0,
            1e-300,
            1e-7,
            1e-4,
            0.003,
            0.01,
            0.05,
            0.2,
            0.5,
            0.75,
            0.999_999,
            1.0,
            3.0,
            f64::INFINITY,
        ];
        for &n in &sizes {
            for &m in &[1, 5, 10_000, 10_001, 123_457] {
                // Keep the exact O(n m) path cheap in debug builds.
                let ds = if n.max(m) <= MAX_EXACT_N && n.min(m) > 10 {
                    &ds[..9]
                } else {
                    &ds[..]
                };
                for &d in ds {
                    let p = p_value(d, n, m);
                    assert!((0.0..=1.0).contains(&p), "n={n} m={m} d={d}: {p}");
                }
            }
        }
    }
}
