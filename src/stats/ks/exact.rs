//! Exact null distribution of the two-sample statistic `D_{n,m}`, used up to `MAX_EXACT_N`.

/// `P(D_{n,n} >= h/n)` for `1 <= h <= n`.
///
/// By reflection, `P = 2 Σ_{k>=1} (-1)^(k-1) C(2n, n - kh) / C(2n, n)`. Each ratio
/// `C(2n, n-kh) / C(2n, n)` is `A_1 ⋯ A_k` with `A_k = Π_{j<h} (n-(k-1)h-j)/(n+(k-1)h+j+1)`,
/// so the sum nests as `2 A_1 (1 - A_2 (1 - A_3 (…)))`: evaluated from the inside out, no
/// huge binomial is formed and the cancellation is mild. The innermost factor
/// (`k = ⌊n/h⌋ + 1`) always contains a zero numerator, so the nesting starts one level up.
pub(super) fn prob_outside_square(n: u64, h: u64) -> f64 {
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
pub(super) fn prob_outside_band(big: u64, small: u64, lcm: u64, h: u64) -> f64 {
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
