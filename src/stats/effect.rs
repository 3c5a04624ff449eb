//! Effect sizes: how large a difference is, independent of how many rows showed it.
//!
//! A p-value falls with the window size for any fixed difference, so on 100 000-row windows
//! every negligible shift becomes "significant". The verdict therefore also asks for an effect
//! size of at least `min_effect` (see [`crate::check::policy`]). KS uses its statistic D, distances
//! their score; the count tests use Cohen's measures defined here.

/// Cohen's w of a 2 × k homogeneity table: `sqrt(χ² · (n₁ + n₂) / (n₁ n₂))`, which equals
/// `sqrt(Σ_j (p₁ⱼ − p₂ⱼ)² / p̄ⱼ)` with p̄ the pooled shares — a property of the two
/// distributions, not of the sample sizes (0 when either side is empty).
pub fn cohens_w(chi_square: f64, n_reference: u64, n_current: u64) -> f64 {
    if n_reference == 0 || n_current == 0 {
        return 0.0;
    }
    let (a, b) = (n_reference as f64, n_current as f64);
    (chi_square.max(0.0) * (a + b) / (a * b)).sqrt()
}

/// Cohen's h of two proportions: `|2 asin √p₁ − 2 asin √p₂|` (0 when either side is empty).
pub fn cohens_h(hits_reference: u64, n_reference: u64, hits_current: u64, n_current: u64) -> f64 {
    if n_reference == 0 || n_current == 0 {
        return 0.0;
    }
    let angle = |hits: u64, n: u64| 2.0 * (hits as f64 / n as f64).sqrt().asin();
    (angle(hits_reference, n_reference) - angle(hits_current, n_current)).abs()
}

/// The rank-biserial correlation `|1 − 2U / (n₁ n₂)|` of a Mann–Whitney U: how much more
/// often a value of one sample exceeds one of the other than the reverse, in [0, 1] (0 when
/// either side is empty). For a normal mean shift of δσ it is about 0.56·δ.
pub fn rank_biserial(u: f64, n_reference: usize, n_current: usize) -> f64 {
    if n_reference == 0 || n_current == 0 {
        return 0.0;
    }
    (1.0 - 2.0 * u / (n_reference as f64 * n_current as f64)).abs()
}

/// Cohen's d with the two sample variances averaged, `|x̄ − ȳ| / √((s²ₓ + s²ᵧ) / 2)`: the mean
/// shift in standard deviations whatever the sizes (0 when both variances are 0).
pub fn cohens_d(reference: &[f64], current: &[f64]) -> f64 {
    let (m1, v1) = super::t_test::mean_variance(reference);
    let (m2, v2) = super::t_test::mean_variance(current);
    let sd = ((v1 + v2) / 2.0).sqrt();
    if sd > 0.0 { (m1 - m2).abs() / sd } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::chisquare::homogeneity;

    #[test]
    fn cohens_w_is_the_distribution_distance() {
        // Shares 0.5/0.3/0.2 vs 0.4/0.3/0.3 at two sample sizes: same w.
        let small = homogeneity(&[500, 300, 200], &[40, 30, 30]);
        let large = homogeneity(&[5000, 3000, 2000], &[4000, 3000, 3000]);
        let w_small = cohens_w(small.statistic, 1000, 100);
        let w_large = cohens_w(large.statistic, 10_000, 10_000);
        // Direct formula with pooled shares of the large, equal-size table.
        let pooled = [0.45, 0.3, 0.25];
        let direct = ((0.1f64.powi(2) / pooled[0]) + 0.0 + 0.1f64.powi(2) / pooled[2]).sqrt();
        assert!((w_large - direct).abs() < 1e-12, "{w_large} vs {direct}");
        assert!((w_small - w_large).abs() < 0.02, "{w_small} vs {w_large}");
        assert_eq!(cohens_w(3.0, 0, 10), 0.0);
    }

    #[test]
    fn rank_biserial_and_cohens_d() {
        // U = 0: every reference value below every current one.
        assert_eq!(rank_biserial(0.0, 3, 4), 1.0);
        assert_eq!(rank_biserial(6.0, 3, 4), 0.0);
        let d = cohens_d(&[0.0, 2.0], &[1.0, 3.0]);
        assert!((d - 1.0 / 2f64.sqrt()).abs() < 1e-15, "{d}");
        assert_eq!(cohens_d(&[1.0, 1.0], &[2.0, 2.0]), 0.0);
    }

    #[test]
    fn cohens_h_of_known_proportions() {
        // h(0.5, 0.4) = 2 asin √0.5 − 2 asin √0.4 = 0.2013579...
        let h = cohens_h(50, 100, 40, 100);
        assert!((h - 0.201_357_920_790_330_8).abs() < 1e-12, "{h}");
        assert_eq!(cohens_h(1, 0, 1, 2), 0.0);
    }
}
