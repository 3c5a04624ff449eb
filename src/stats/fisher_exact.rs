//! Fisher's exact test on a 2 × 2 table, two-sided: the probability, under the hypergeometric
//! null with the table's margins, of a table at most as likely as the observed one.
//!
//! Reference implementation: `scipy.stats.fisher_exact(table)` (two-sided). Probabilities come
//! from log-gamma, so any sizes work (100 000 rows are at most 100 001 tables to sum, each
//! O(1)). Log-gamma of 10⁵-sized arguments carries relative errors near 1e-11, so two tables
//! count as equally likely within a relative 1e-7 (R's `fisher.test` tolerance) rather than
//! scipy's 1e-14: otherwise the mirror image of the observed table of a symmetric
//! distribution could be left out by rounding.

use statrs::function::gamma::ln_gamma;

/// Relative tolerance under which two tables count as equally likely.
const EPSILON: f64 = 1e-7;

/// Two-sided p-value of `[[a, b], [c, d]]` (rows: reference / current, columns: the category /
/// the rest). 1 when a row or a column is empty, as scipy.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (row1, row2, column1) = (a + b, c + d, a + c);
    if row1 == 0 || row2 == 0 || column1 == 0 || b + d == 0 {
        return 1.0;
    }
    // x = the top-left cell; its support given the margins.
    let low = column1.saturating_sub(row2);
    let high = column1.min(row1);
    let log_pmf = |x: u64| {
        -(ln_gamma(x as f64 + 1.0)
            + ln_gamma((row1 - x) as f64 + 1.0)
            + ln_gamma((column1 - x) as f64 + 1.0)
            + ln_gamma((row2 + x - column1) as f64 + 1.0))
    };
    // Relative to the mode, so the largest term is 1 and nothing overflows.
    let mode = ((column1 + 1) as f64 * (row1 + 1) as f64 / (row1 + row2 + 2) as f64) as u64;
    let mode = mode.clamp(low, high);
    let log_mode = log_pmf(mode);
    let observed = (log_pmf(a) - log_mode).exp();
    if (observed - 1.0).abs() <= EPSILON {
        return 1.0;
    }
    let bound = observed * (1.0 + EPSILON);
    let (mut at_most, mut everything) = (0.0, 0.0);
    for x in low..=high {
        let p = (log_pmf(x) - log_mode).exp();
        everything += p;
        // The observed side of the mode counts whole; the other side where as unlikely.
        let own_side = if a < mode { x <= a } else { x >= a };
        if own_side || p <= bound {
            at_most += p;
        }
    }
    (at_most / everything).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fisher's tea-tasting table [[3, 1], [1, 3]]: p = 34/70 two-sided.
    #[test]
    fn tea_tasting() {
        assert!((fisher_exact(3, 1, 1, 3) - 34.0 / 70.0).abs() < 1e-12);
        assert_eq!(fisher_exact(0, 0, 3, 4), 1.0);
    }
}
