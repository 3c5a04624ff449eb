//! Welch's two-sample t-test (unequal variances).
//!
//! Reference implementation: `scipy.stats.ttest_ind(reference, current, equal_var=False)`.
//!
//! Where driftscope deliberately differs from Evidently: Evidently's `t_test` is Student's
//! (`equal_var=True`), whose p-value is wrong when the two variances differ and the sizes do
//! too (always the case for a window against a reference); Welch's is right either way.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::computable::{NotComputable, Outcome, TestResult};

/// Welch t-test; the statistic is `(mean_ref − mean_cur) / se`. Not computable with fewer
/// than 2 values on a side (the sample variance needs them) or when both variances are 0.
pub fn welch(reference: &[f64], current: &[f64]) -> Outcome<TestResult> {
    if reference.len() < 2 || current.len() < 2 {
        return Err(NotComputable::TooFewValues);
    }
    let (m1, v1) = mean_variance(reference);
    let (m2, v2) = mean_variance(current);
    let (q1, q2) = (v1 / reference.len() as f64, v2 / current.len() as f64);
    let se2 = q1 + q2;
    if se2 == 0.0 {
        return Err(NotComputable::ZeroVariance);
    }
    let statistic = (m1 - m2) / se2.sqrt();
    let dof =
        se2 * se2 / (q1 * q1 / (reference.len() - 1) as f64 + q2 * q2 / (current.len() - 1) as f64);
    let t = StudentsT::new(0.0, 1.0, dof).map_err(|_| NotComputable::NonFinite)?;
    Ok(TestResult {
        statistic,
        p_value: (2.0 * t.sf(statistic.abs())).min(1.0),
    })
}

/// Mean and sample variance (n − 1), two-pass as numpy; variance 0 for fewer than 2 values.
pub(super) fn mean_variance(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, squares / (n - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_samples_are_not_computable() {
        assert_eq!(welch(&[1.0], &[1.0, 2.0]), Err(NotComputable::TooFewValues));
        assert_eq!(
            welch(&[1.0, 1.0], &[2.0, 2.0]),
            Err(NotComputable::ZeroVariance)
        );
        // One constant side is fine: the other's variance carries the standard error.
        assert!(welch(&[1.0, 1.0], &[2.0, 3.0]).is_ok());
    }
}
