//! Kullback–Leibler divergence KL(reference ‖ current) between two histograms,
//! `Σ p ln(p / q)`, natural log.
//!
//! Zeros: as Evidently's `kl_div`, a share of exactly 0 is replaced by 0.0001 on each side
//! (the same fill as PSI), so a bin empty on one side gives a large but finite divergence;
//! then, as `scipy.stats.entropy` (which Evidently calls), each side is renormalised to sum to
//! 1. Reference implementation: `scipy.stats.entropy(p_ref, p_cur)` on the filled shares.

use super::binning::aligned_shares;

/// Share substituted for an empty bin (Evidently's, as for PSI).
const EMPTY_BIN_SHARE: f64 = 0.0001;

/// KL(reference ‖ current) of two aligned count vectors (0 if either total is 0).
pub fn divergence(reference_counts: &[u64], current_counts: &[u64]) -> f64 {
    let Some(shares) = aligned_shares(reference_counts, current_counts) else {
        return 0.0;
    };
    let fill = |share: f64| if share == 0.0 { EMPTY_BIN_SHARE } else { share };
    let shares: Vec<(f64, f64)> = shares.map(|(p, q)| (fill(p), fill(q))).collect();
    let p_sum: f64 = shares.iter().map(|s| s.0).sum();
    let q_sum: f64 = shares.iter().map(|s| s.1).sum();
    shares
        .iter()
        .map(|&(p, q)| {
            let (p, q) = (p / p_sum, q / q_sum);
            p * (p / q).ln()
        })
        .sum::<f64>()
        .max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_divergence() {
        // p = (1/2, 1/2), q = (1/4, 3/4): ½ ln 2 + ½ ln(2/3).
        let want = 0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln();
        assert!((divergence(&[1, 1], &[1, 3]) - want).abs() < 1e-15);
        assert_eq!(divergence(&[3, 3], &[1, 1]), 0.0);
    }
}
