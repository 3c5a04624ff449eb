//! Concept drift: has P(y | ŷ) or the error distribution changed, whatever the inputs do?
//!
//! Two kinds of signal:
//! - per labelled window, tests against the reference:
//!   - classification: [`conditional_labels`] — for every predicted class, a chi-square
//!     homogeneity test of the true-label distribution (reference rows with that prediction vs
//!     window rows with that prediction); the per-class statistics and degrees of freedom are
//!     summed (independent strata), giving one p-value for "P(y | ŷ) changed". And
//!     [`error_rate`] — a pooled two-proportion z-test of the error rate. The window drifts when
//!     either p-value is below threshold / 2 (Bonferroni over the two tests);
//!   - regression: a two-sample KS test of the residuals y − ŷ ([`crate::stats::ks`]);
//! - online, in label-arrival order: a [`PageHinkley`] detector over the error stream (0/1 errors
//!   for classification, absolute residuals for regression) that flags the moment the mean error
//!   rises, without waiting for a window to close.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::config::PageHinkleySpec;
use crate::stats::{chisquare, z};

/// Result of one concept-drift test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConceptTest {
    /// Statistic: summed chi-square, error-rate change (window − reference), or KS D.
    pub score: f64,
    /// The test's p-value.
    pub p_value: f64,
}

/// Stratified homogeneity test of labels given the predicted class. `reference[k]` and
/// `current[k]` are the true-label counts of rows predicted as class `k` (label codes aligned).
/// Classes absent on either side contribute nothing; no comparable class gives score 0, p 1.
pub fn conditional_labels(reference: &[Vec<u64>], current: &[Vec<u64>]) -> ConceptTest {
    let (mut statistic, mut dof) = (0.0, 0usize);
    for (r, c) in reference.iter().zip(current) {
        let result = chisquare::homogeneity(r, c);
        statistic += result.statistic;
        dof += result.dof;
    }
    let p_value = if dof == 0 {
        1.0
    } else {
        ChiSquared::new(dof as f64).map_or(1.0, |d| d.sf(statistic))
    };
    ConceptTest {
        score: statistic,
        p_value,
    }
}

/// Change of the error rate: score = window rate − reference rate, p from the pooled
/// two-proportion z-test.
pub fn error_rate(ref_errors: u64, ref_rows: u64, cur_errors: u64, cur_rows: u64) -> ConceptTest {
    let rate = |e: u64, n: u64| if n == 0 { 0.0 } else { e as f64 / n as f64 };
    let z = z::two_proportion(ref_errors, ref_rows, cur_errors, cur_rows);
    ConceptTest {
        score: rate(cur_errors, cur_rows) - rate(ref_errors, ref_rows),
        p_value: z.p_value,
    }
}

/// Page-Hinkley test for an increase of the mean of a stream (here: the model's error).
///
/// Chosen over DDM (which assumes a Bernoulli stream, so classification only) and ADWIN
/// (O(log W) memory, harder-to-explain parameters): Page-Hinkley works for 0/1 errors and
/// continuous residuals alike with O(1) state per monitor, and its two parameters read
/// directly: `delta` is the rise in mean error tolerated, `lambda` the accumulated excess error
/// that raises the alarm. After an alarm it restarts, so each change point is counted once.
/// Defaults (delta 0.005, lambda 100) were measured with `tools/calibrate_page_hinkley.py`:
/// under 0.4 false alarms per 100 000 labelled rows at stable error rates of 0.17–0.40, and a
/// rise from 0.17 to 0.27 flagged after ~700–1500 rows (lambda 50 halves the delay but raises
/// ~1–3 false alarms per 100 000 rows).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PageHinkley {
    spec: PageHinkleySpec,
    seen: u64,
    mean: f64,
    cumulative: f64,
    minimum: f64,
}

impl PageHinkley {
    /// A detector with no history.
    pub fn new(spec: PageHinkleySpec) -> Self {
        Self {
            spec,
            seen: 0,
            mean: 0.0,
            cumulative: 0.0,
            minimum: 0.0,
        }
    }

    /// The detector's parameters.
    pub fn spec(&self) -> PageHinkleySpec {
        self.spec
    }

    /// Adds one error value; returns true when it completes a change point (the detector then
    /// restarts from scratch).
    pub fn update(&mut self, error: f64) -> bool {
        if !error.is_finite() {
            return false;
        }
        self.seen += 1;
        self.mean += (error - self.mean) / self.seen as f64;
        self.cumulative += error - self.mean - self.spec.delta;
        self.minimum = self.minimum.min(self.cumulative);
        let alarm = self.seen >= self.spec.min_instances
            && self.cumulative - self.minimum > self.spec.lambda;
        if alarm {
            *self = Self::new(self.spec);
        }
        alarm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded LCG stream, enough for a detector test.
    fn bernoulli(p: f64, n: usize, seed: &mut u64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                f64::from(((*seed >> 11) as f64 / (1u64 << 53) as f64) < p)
            })
            .collect()
    }

    #[test]
    fn page_hinkley_is_quiet_on_a_stable_error_rate_and_fires_after_a_rise() {
        let mut ph = PageHinkley::new(PageHinkleySpec::default());
        let mut seed = 42;
        let stable = bernoulli(0.2, 5000, &mut seed);
        assert_eq!(stable.iter().filter(|&&e| ph.update(e)).count(), 0);
        let worse = bernoulli(0.5, 2000, &mut seed);
        let first = worse
            .iter()
            .position(|&e| ph.update(e))
            .expect("a change point");
        // The excess is ~0.3 per row; lambda 100 needs ~330 rows of it.
        assert!((200..700).contains(&first), "detected after {first} rows");
    }

    #[test]
    fn page_hinkley_respects_min_instances_and_ignores_nan() {
        let spec = PageHinkleySpec {
            delta: 0.0,
            lambda: 0.5,
            min_instances: 10,
        };
        let mut ph = PageHinkley::new(spec);
        assert!(!ph.update(f64::NAN));
        let alarms: Vec<bool> = [0.0, 0.0, 5.0, 5.0, 5.0]
            .iter()
            .map(|&e| ph.update(e))
            .collect();
        assert_eq!(alarms, [false; 5]);
    }

    #[test]
    fn conditional_labels_sums_strata() {
        // Predicted class 0: labels 90/10 in reference, 50/50 in the window → drift.
        let reference = vec![vec![90, 10], vec![10, 90]];
        let same = vec![vec![45, 5], vec![5, 45]];
        let changed = vec![vec![25, 25], vec![5, 45]];
        let quiet = conditional_labels(&reference, &same);
        assert!(quiet.p_value > 0.5 && quiet.score.abs() < 1e-9, "{quiet:?}");
        let loud = conditional_labels(&reference, &changed);
        assert!(loud.p_value < 1e-6, "{loud:?}");
        // One degree of freedom per stratum: the sum equals the two strata's statistics.
        let s0 = chisquare::homogeneity(&reference[0], &changed[0]).statistic;
        let s1 = chisquare::homogeneity(&reference[1], &changed[1]).statistic;
        assert!((loud.score - (s0 + s1)).abs() < 1e-12);
        assert_eq!(
            conditional_labels(&[], &[]),
            ConceptTest {
                score: 0.0,
                p_value: 1.0
            }
        );
    }

    #[test]
    fn error_rate_reports_the_change() {
        let t = error_rate(100, 1000, 60, 200);
        assert!((t.score - 0.2).abs() < 1e-12);
        assert!(t.p_value < 1e-6);
        assert_eq!(error_rate(0, 0, 0, 0).p_value, 1.0);
    }
}
