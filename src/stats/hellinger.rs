//! Hellinger distance between a reference and a current histogram:
//! `√(Σ (√p − √q)²) / √2` over aligned bins or categories, in [0, 1].
//!
//! Reference implementation: the same formula evaluated with numpy in
//! `tools/golden/gen_catalogue.py`. Empty bins need no fill (√0 is 0), as in Evidently's
//! `hellinger`. Numeric bins are the reference quantiles fixed at load time, like PSI's.

use super::binning::aligned_shares;

/// Hellinger distance of two aligned count vectors (0 if either total is 0).
pub fn distance(reference_counts: &[u64], current_counts: &[u64]) -> f64 {
    aligned_shares(reference_counts, current_counts).map_or(0.0, |shares| {
        let sum: f64 = shares
            .map(|(p, q)| {
                let gap = p.sqrt() - q.sqrt();
                gap * gap
            })
            .sum();
        sum.sqrt() / std::f64::consts::SQRT_2
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_histograms_are_one_apart() {
        assert!((distance(&[5, 0], &[0, 7]) - 1.0).abs() < 1e-15);
        assert_eq!(distance(&[2, 4], &[1, 2]), 0.0);
    }
}
