//! Total variation distance between a reference and a current histogram:
//! `½ Σ |p − q|` over aligned bins or categories, in [0, 1] — the largest difference in
//! probability the two give any set of bins.
//!
//! Reference implementation: the same formula evaluated with numpy in
//! `tools/golden/gen_catalogue.py`. No fill for empty bins.

use super::binning::{aligned_counts, total};

/// Total variation distance of two aligned count vectors (0 if either total is 0).
pub fn distance(reference_counts: &[u64], current_counts: &[u64]) -> f64 {
    let (reference_total, current_total) = (total(reference_counts), total(current_counts));
    if reference_total == 0 || current_total == 0 {
        return 0.0;
    }
    let (reference_total, current_total) = (reference_total as f64, current_total as f64);
    let sum: f64 = aligned_counts(reference_counts, current_counts)
        .map(|(r, c)| (r as f64 / reference_total - c as f64 / current_total).abs())
        .sum();
    sum / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_histograms_are_one_apart() {
        assert!((distance(&[5, 0], &[0, 7]) - 1.0).abs() < 1e-15);
        assert!((distance(&[1, 1], &[1, 3]) - 0.25).abs() < 1e-15);
    }
}
