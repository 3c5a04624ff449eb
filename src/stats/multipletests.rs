//! Multiple-testing adjustment of a window's p-values.
//!
//! A window tests every feature at once; testing 20 features each at α = 0.05 raises at least
//! one false alarm in 1 − 0.95²⁰ ≈ 64 % of clean windows. Adjusting the family's p-values and
//! comparing the *adjusted* values with α keeps the chance of any false alarm (Holm,
//! Bonferroni) or the expected share of false alarms among the alarms (Benjamini–Hochberg)
//! at α.
//!
//! Reference implementation: `statsmodels.stats.multitest.multipletests(p, method=...)[1]`
//! with `holm`, `bonferroni` and `fdr_bh`; golden values in `tests/golden/multipletests.json`
//! from `tools/golden/gen_multipletests.py`.

use serde::{Deserialize, Serialize};

/// How a family's p-values are adjusted before they are compared with α.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// Holm's step-down: family-wise error ≤ α, uniformly more powerful than Bonferroni.
    Holm,
    /// Bonferroni: family-wise error ≤ α; each p-value times the family size.
    Bonferroni,
    /// Benjamini–Hochberg step-up: false discovery rate ≤ α (independent or positively
    /// dependent tests); more alarms than Holm when many features drift.
    Bh,
    /// No adjustment: each feature at α on its own (Evidently's behaviour).
    None,
}

impl Correction {
    /// Name used in configs, JSON and `driftscope calibrate` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Holm => "holm",
            Correction::Bonferroni => "bonferroni",
            Correction::Bh => "bh",
            Correction::None => "none",
        }
    }
}

/// Adjusted p-values, in the order of `p_values`, each in `[0, 1]`.
///
/// NaN inputs are treated as 1 (no evidence), so a broken test can never raise an alarm or
/// make another feature's alarm easier.
pub fn adjust(p_values: &[f64], correction: Correction) -> Vec<f64> {
    let clean: Vec<f64> = p_values
        .iter()
        .map(|&p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) })
        .collect();
    let m = clean.len() as f64;
    match correction {
        Correction::None => clean,
        Correction::Bonferroni => clean.iter().map(|&p| (p * m).min(1.0)).collect(),
        Correction::Holm => {
            // Ascending p: the i-th smallest (0-based) is multiplied by m − i, then running
            // maxima keep the adjusted values in the same order as the raw ones.
            let order = ascending(&clean);
            let mut adjusted = vec![0.0; clean.len()];
            let mut running = 0.0_f64;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((m - rank as f64) * clean[i]).min(1.0));
                adjusted[i] = running;
            }
            adjusted
        }
        Correction::Bh => {
            // Descending p: the i-th smallest (1-based) is multiplied by m / i, then running
            // minima from the largest down (the step-up).
            let order = ascending(&clean);
            let mut adjusted = vec![0.0; clean.len()];
            let mut running = 1.0_f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(clean[i] * m / (rank + 1) as f64);
                adjusted[i] = running;
            }
            adjusted
        }
    }
}

/// Indices of `values` in ascending order of value (ties keep input order).
fn ascending(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// statsmodels values written by `tools/golden/gen_multipletests.py`.
    const GOLDEN: &str = include_str!("../../tests/golden/multipletests.json");

    /// Tolerance: statsmodels multiplies and takes running extremes in the same order, so the
    /// results agree to the last bits; 1e-12 relative (plus 1e-300 absolute for exact zeros)
    /// leaves room for a different multiplication order in `m / i · p`.
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs() + 1e-300
    }

    #[test]
    fn adjusted_p_values_match_statsmodels() {
        let golden: Value = serde_json::from_str(GOLDEN).unwrap();
        let cases = golden["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let p: Vec<f64> = serde_json::from_value(case["p"].clone()).unwrap();
            for (key, correction) in [
                ("holm", Correction::Holm),
                ("bonferroni", Correction::Bonferroni),
                ("bh", Correction::Bh),
            ] {
                let expected: Vec<f64> = serde_json::from_value(case[key].clone()).unwrap();
                let got = adjust(&p, correction);
                assert!(
                    got.iter().zip(&expected).all(|(&g, &e)| close(g, e)),
                    "{key} of {p:?}: got {got:?}, statsmodels {expected:?}"
                );
            }
        }
    }

    #[test]
    fn none_and_nan_handling() {
        assert_eq!(adjust(&[0.2, f64::NAN], Correction::None), vec![0.2, 1.0]);
        assert_eq!(adjust(&[f64::NAN, 0.01], Correction::Holm), vec![1.0, 0.02]);
        assert!(adjust(&[], Correction::Bh).is_empty());
    }
}
