//! Total variation distance between a reference and a current histogram:
//! `½ Σ |p − q|` over aligned bins or categories, in [0, 1] — the largest difference in
//! probability the two give any set of bins.
//!
//! Reference implementation: the same formula evaluated with numpy in
//! `tools/golden/gen_catalogue.py`. No fill for empty bins.

use super::binning::aligned_shares;

/// Total variation distance of two aligned count vectors (0 if either total is 0).
pub fn distance(reference_counts: &[u64], current_counts: &[u64]) -> f64 {
    aligned_shares(reference_counts, current_counts).map_or(0.0, |shares| {
        shares.map(|(p, q)| (p - q).abs()).sum::<f64>() / 2.0
    })
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
