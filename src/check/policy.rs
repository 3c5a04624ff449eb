//! Alarm policy: which test a column gets, how a window's p-values are corrected as a family,
//! and how large an effect must be before a significant difference counts as drift.
//!
//! Two policies, chosen per monitor (`policy:`):
//!
//! * `calibrated` (default): p-value tests for every column (KS for numerical columns with
//!   more than 5 distinct reference values, chi-square homogeneity with sparse cells pooled
//!   for all other columns), the family's p-values adjusted (`correction:`,
//!   Holm by default) so a clean window raises any alarm with probability ≤ `alpha`, and a
//!   per-test effect-size floor (`min_effect`) so huge windows do not flag negligible shifts.
//! * `evidently`: Evidently's default matrix and fixed thresholds, no correction, no floor and
//!   no pooling — today's verdicts for users who want Evidently's.
//!
//! A column with an explicit `threshold` keeps it as its own level and stays outside the
//! family's correction; distance tests (no p-value) compare their score with their threshold.

use serde::Serialize;

use crate::check::outcome::ColumnOutcome;
/// A key of `monitors.yaml`, so defined with the config (which must not depend on the engine).
pub use crate::config::Policy;
use crate::config::{ColumnKind, MonitorSpec, TestKind};
use crate::stats::multipletests::Correction;

/// Settings shared by every column of a monitor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilySettings {
    /// Which defaults apply.
    pub policy: Policy,
    /// Family level: adjusted p-values below it are significant.
    pub alpha: f64,
    /// How the family's p-values are adjusted.
    pub correction: Correction,
}

impl FamilySettings {
    /// Evidently's behaviour: its matrix, α = 0.05 per column, no correction.
    pub const EVIDENTLY: Self = Self {
        policy: Policy::Evidently,
        alpha: 0.05,
        correction: Correction::None,
    };

    /// The monitor's settings, with the policy's default correction when none is named.
    pub fn of(spec: &MonitorSpec) -> Self {
        Self {
            policy: spec.policy,
            alpha: spec.alpha,
            correction: spec
                .correction
                .unwrap_or_else(|| spec.policy.default_correction()),
        }
    }
}

/// How one column turns its test result into a verdict, fixed at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlarmRule {
    /// Whether the p-value joins the family's correction (p-value tests without an explicit
    /// threshold).
    pub in_family: bool,
    /// The family's correction (the same for every member).
    pub correction: Correction,
    /// Drift needs an effect size of at least this, besides significance.
    pub min_effect: f64,
    /// Pool sparse chi-square cells before testing (see [`crate::stats::pooling`]).
    pub pool_rare_cells: bool,
}

/// Test for a column that names none under the calibrated policy. KS is distribution-free
/// (exact up to 10 000 rows) for continuous columns; with ≤ 5 distinct values a column is
/// really categorical and the pooled chi-square homogeneity test fits. Binary columns get the
/// chi-square too, not z: on two cells it is the pooled z-test squared (same p-value), and it
/// also counts values the reference never had as a cell of their own, which z cannot see.
pub fn calibrated_test(kind: ColumnKind, distinct: usize) -> TestKind {
    match kind {
        ColumnKind::Numerical if distinct > 5 => TestKind::Ks,
        _ => TestKind::Chisquare,
    }
}

/// Effect-size floor under the calibrated policy. Each is below the benchmark shifts at
/// 1 000-row windows and far above the noise of 100 000-row windows:
///
/// * `ks`: D ≥ 0.05. A normal mean shift of δσ gives D ≈ 0.4·δ (0.25σ → 0.10, 0.02σ → 0.008);
///   1 000-row windows cannot resolve D much below 0.05 at α/20 anyway. `anderson`,
///   `cramer_von_mises` and `es` use the same D as their effect, with the same floor.
/// * `mannw`: rank-biserial correlation ≥ 0.05 (≈ 0.56·δ, so the same shift of about 0.1σ).
/// * `t_test`: Cohen's d ≥ 0.1, half of Cohen's "small", as for h.
/// * `g_test`: Cohen's w ≥ 0.1 as chi-square; `fisher_exact`: Cohen's h ≥ 0.1 as z.
/// * `chisquare`: Cohen's w ≥ 0.1, Cohen's "small" effect.
/// * `z` (named explicitly): Cohen's h ≥ 0.1 (half of Cohen's "small"; a 5-point change
///   around 50 %), about the smallest change 1 000-row windows resolve at α/20.
/// * distances: their score is the effect and their threshold already is the floor, so 0.
pub fn default_min_effect(test: TestKind) -> f64 {
    match test {
        TestKind::Ks
        | TestKind::Anderson
        | TestKind::CramerVonMises
        | TestKind::Es
        | TestKind::Mannw => 0.05,
        TestKind::Chisquare
        | TestKind::Z
        | TestKind::GTest
        | TestKind::FisherExact
        | TestKind::TTest => 0.1,
        TestKind::Psi
        | TestKind::Wasserstein
        | TestKind::Jensenshannon
        | TestKind::Ed
        | TestKind::Hellinger
        | TestKind::KlDiv
        | TestKind::Tvd => 0.0,
    }
}

/// Builds a column's rule from the monitor's settings and the column's overrides.
/// `explicit_threshold`: a fixed number from the config; `learned`: `threshold: auto`, whose
/// learned p-value joins the family like any other.
pub fn rule(
    family: FamilySettings,
    test: TestKind,
    explicit_threshold: bool,
    learned: bool,
    min_effect: Option<f64>,
) -> AlarmRule {
    let calibrated = family.policy == Policy::Calibrated;
    AlarmRule {
        in_family: (test.has_p_value() || learned) && !explicit_threshold,
        correction: family.correction,
        min_effect: min_effect.unwrap_or(if calibrated {
            default_min_effect(test)
        } else {
            0.0
        }),
        pool_rare_cells: calibrated,
    }
}

/// The verdict of one outcome: significant (adjusted p below the threshold, or a distance
/// without a p-value at or above it) and an effect of at least `min_effect`. No score, no
/// drift. A distance with a learned null (`threshold: auto`) has a p-value like any test.
pub fn verdict(outcome: &ColumnOutcome) -> bool {
    let Some(score) = outcome.score else {
        return false;
    };
    let significant = match outcome.p_value_adjusted {
        Some(p) => p < outcome.threshold,
        None => score >= outcome.threshold,
    };
    significant && outcome.effect_size.unwrap_or(0.0) >= outcome.min_effect
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{ColumnCheck, ColumnChoice, Role, decide_families};
    use crate::column::ColumnData;
    use crate::reference::table::Cells;

    const CALIBRATED: FamilySettings = FamilySettings {
        policy: Policy::Calibrated,
        alpha: 0.05,
        correction: Correction::Holm,
    };

    fn choice(threshold: Option<f64>) -> ColumnChoice {
        ColumnChoice {
            test: None,
            threshold: threshold.map(crate::config::Threshold::Fixed),
            bins: 10,
            min_effect: None,
        }
    }

    fn numeric_check(name: &str, threshold: Option<f64>) -> ColumnCheck {
        let values = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        let raw = Cells::numbers(values);
        ColumnCheck::configured(name, Role::Feature, raw, choice(threshold), CALIBRATED).unwrap()
    }

    #[test]
    fn calibrated_defaults_are_p_value_tests_with_floors() {
        assert_eq!(calibrated_test(ColumnKind::Numerical, 6), TestKind::Ks);
        for (kind, distinct) in [
            (ColumnKind::Numerical, 4),
            (ColumnKind::Numerical, 2),
            (ColumnKind::Categorical, 12),
            (ColumnKind::Categorical, 2),
        ] {
            assert_eq!(calibrated_test(kind, distinct), TestKind::Chisquare);
        }
        let check = numeric_check("x", None);
        assert_eq!((check.test, check.threshold), (TestKind::Ks, 0.05));
        assert_eq!(check.rule.min_effect, 0.05);
        assert!(check.rule.in_family && check.rule.pool_rare_cells);
        // An explicit threshold is the column's own level, outside the correction.
        assert!(!numeric_check("x", Some(0.01)).rule.in_family);
    }

    /// The catalogue's p-value tests join the family with their documented floors; its
    /// distances stay outside with their own threshold (0.1) and no floor.
    #[test]
    fn catalogue_tests_get_their_floors() {
        for (test, floor, in_family, threshold) in [
            (TestKind::Anderson, 0.05, true, 0.05),
            (TestKind::CramerVonMises, 0.05, true, 0.05),
            (TestKind::Es, 0.05, true, 0.05),
            (TestKind::Mannw, 0.05, true, 0.05),
            (TestKind::TTest, 0.1, true, 0.05),
            (TestKind::GTest, 0.1, true, 0.05),
            (TestKind::Ed, 0.0, false, 0.1),
            (TestKind::Hellinger, 0.0, false, 0.1),
            (TestKind::KlDiv, 0.0, false, 0.1),
            (TestKind::Tvd, 0.0, false, 0.1),
        ] {
            let values = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
            let choice = ColumnChoice {
                test: Some(test),
                ..choice(None)
            };
            let check = ColumnCheck::configured(
                "x",
                Role::Feature,
                Cells::numbers(values),
                choice,
                CALIBRATED,
            )
            .unwrap();
            let got = (check.rule.min_effect, check.rule.in_family, check.threshold);
            assert_eq!(got, (floor, in_family, threshold), "{test:?}");
        }
    }

    /// Holm across the family: three features at p ≈ 0.02 each are significant alone, not
    /// together (0.02 · 3 > 0.05); the explicit-threshold column keeps its raw verdict.
    #[test]
    fn a_family_is_corrected_together() {
        let checks = [
            numeric_check("a", None),
            numeric_check("b", None),
            numeric_check("c", None),
            numeric_check("pinned", Some(0.05)),
        ];
        let mut outcomes: Vec<ColumnOutcome> = checks
            .iter()
            .map(|check| {
                // 200 values shifted by 0.11 → KS D = 0.11, p ≈ 0.02 against 1 000.
                let window = (0..200).map(|i| f64::from(i) / 200.0 + 0.11).collect();
                check.evaluate(&ColumnData::Numeric(window))
            })
            .collect();
        let p = outcomes[0].p_value.unwrap();
        assert!(
            (0.01..0.05).contains(&p) && outcomes[0].drifted,
            "{:?}",
            outcomes[0]
        );
        let mut paired: Vec<_> = checks.iter().zip(outcomes.iter_mut()).collect();
        decide_families(&mut paired);
        for outcome in &outcomes[..3] {
            assert_eq!(outcome.p_value_adjusted, Some((3.0 * p).min(1.0)));
            assert!(!outcome.drifted, "{outcome:?}");
        }
        assert_eq!(outcomes[3].p_value_adjusted, outcomes[3].p_value);
        assert!(outcomes[3].drifted);
    }

    #[test]
    fn significance_without_effect_is_no_drift() {
        let mut check = numeric_check("x", None);
        let window = ColumnData::Numeric((0..1000).map(|i| f64::from(i) / 1000.0 + 0.2).collect());
        let out = check.evaluate(&window);
        assert!(out.drifted && out.effect_size.unwrap() > 0.19, "{out:?}");
        check.rule.min_effect = 0.3;
        let out = check.evaluate(&window);
        assert!(
            out.p_value_adjusted.unwrap() < 1e-6 && !out.drifted,
            "{out:?}"
        );
    }

    /// A 12-category Zipf(2) column (smallest share 0.4 %, expected counts far below 5 in
    /// 200-row windows) without drift: with pooling the chi-square flags at most α (within the
    /// one-sided 99 % binomial tolerance over 2 000 repetitions, 0.061). Each repetition draws
    /// a fresh 1 000-row reference and a 200-row window, because the false-alarm rate of a
    /// two-sample test is α on average over references, not for every fixed one. Measured with
    /// this seed: pooled 0.046, unpooled (`policy: evidently`) 0.051.
    #[test]
    fn pooled_chi_square_keeps_alpha_on_a_long_tailed_column() {
        use rand::{RngExt, SeedableRng};
        const REPS: usize = 2000;
        let weights: Vec<f64> = (1..=12).map(|k| 1.0 / f64::from(k * k)).collect();
        let total: f64 = weights.iter().sum();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(12);
        let mut draw = || {
            let mut u = rng.random::<f64>() * total;
            let k = weights.iter().position(|w| {
                u -= w;
                u < 0.0
            });
            format!("k{:02}", k.unwrap_or(11))
        };
        let (mut flagged, mut flagged_unpooled) = (0, 0);
        for _ in 0..REPS {
            let raw = Cells::texts((0..1000).map(|_| draw()).collect());
            let pooled =
                ColumnCheck::configured("c", Role::Feature, raw.clone(), choice(None), CALIBRATED)
                    .unwrap();
            let unpooled =
                ColumnCheck::new("c", Role::Feature, raw, Some(TestKind::Chisquare), None, 10)
                    .unwrap();
            assert_eq!(pooled.test, TestKind::Chisquare);
            let crate::reference::profile::ReferenceProfile::Categorical(profile) =
                &*pooled.reference
            else {
                unreachable!("a categorical check")
            };
            let window = ColumnData::Categorical(
                (0..200)
                    .map(|_| {
                        let code = profile.index.get(&draw()).copied();
                        code.unwrap_or(profile.counts.len() as u32)
                    })
                    .collect(),
            );
            let p = |check: &ColumnCheck| check.evaluate(&window).p_value.unwrap();
            flagged += usize::from(p(&pooled) < 0.05);
            flagged_unpooled += usize::from(p(&unpooled) < 0.05);
        }
        let rate = flagged as f64 / REPS as f64;
        eprintln!(
            "pooled {rate}, unpooled {}",
            flagged_unpooled as f64 / REPS as f64
        );
        assert!(rate <= 0.061, "pooled false-alarm rate {rate}");
    }
}
