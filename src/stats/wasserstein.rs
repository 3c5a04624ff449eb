//! Wasserstein-1 (earth mover's) distance between two one-dimensional samples:
//! the area between their empirical CDFs, and Evidently's normed variant
//! (distance divided by the reference's population standard deviation, floored
//! at 0.001) used as a scale-free drift score for numeric features.
//!
//! Reference implementation: `scipy.stats.wasserstein_distance(a, b)` and
//! `numpy.std` (ddof = 0). Unlike scipy, which re-sorts and binary-searches
//! both samples on every call, the distance here is one merge pass over
//! samples that are already sorted (the reference once at load time, the
//! window once per evaluation), with no allocation.

/// Wasserstein-1 distance between two ascending-sorted, NaN-free samples: how
/// far (in the feature's units) the current distribution moved from the
/// reference.
///
/// One merge pass over both samples summing `|F_a − F_b| · gap` between
/// consecutive distinct values; equals `scipy.stats.wasserstein_distance(a,
/// b)`.
///
/// Edge cases: 0.0 if either sample is empty (scipy raises). Infinite values
/// give `+∞` when the ECDFs differ across an infinite gap and never NaN; the
/// loop always terminates and never produces NaN even for unsorted or NaN
/// input, whose result is meaningless.
pub fn distance(a_sorted: &[f64], b_sorted: &[f64]) -> f64 {
    if a_sorted.is_empty() || b_sorted.is_empty() {
        return 0.0;
    }
    let (a_len, b_len) = (a_sorted.len() as f64, b_sorted.len() as f64);
    let (mut i, mut j) = (0_usize, 0_usize);
    let mut previous = f64::NEG_INFINITY;
    let mut area = 0.0;
    // Each step consumes one value; (i, j) count the values ≤ `previous`, so
    // on the gap (previous, next) the ECDFs are i / a_len and j / b_len.
    loop {
        let (next, from_a) = match (a_sorted.get(i), b_sorted.get(j)) {
            (Some(&a), Some(&b)) if a <= b => (a, true),
            (_, Some(&b)) => (b, false),
            (Some(&a), None) => (a, true),
            (None, None) => break,
        };
        let ecdf_gap = (i as f64 / a_len - j as f64 / b_len).abs();
        // `next > previous` skips ties (and NaN); `ecdf_gap > 0` skips zero
        // contributions, so `0 · ∞` never turns into NaN.
        if next > previous && ecdf_gap > 0.0 {
            area += ecdf_gap * (next - previous);
        }
        previous = next;
        if from_a {
            i += 1;
        } else {
            j += 1;
        }
    }
    area
}

/// Population standard deviation (ddof = 0, like `numpy.std`), two-pass for
/// stability: the scale that normalises the Wasserstein distance, computed
/// once when the reference is loaded.
///
/// Edge cases: 0.0 for an empty slice. Infinite values (or values so large
/// that the spread overflows) give `+∞` rather than numpy's NaN; the input is
/// expected NaN-free.
pub fn population_std(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|&x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let std = variance.sqrt();
    if std.is_nan() { f64::INFINITY } else { std }
}

/// Evidently's normed Wasserstein distance, `distance / max(reference_std,
/// 0.001)`: a scale-free drift score comparable across features (Evidently's
/// default threshold is 0.1).
///
/// `reference_std` is passed in (see [`population_std`]) because it is
/// computed once when the reference is loaded, not on every window.
///
/// Edge cases: 0.0 if either sample is empty. A `reference_std` below 0.001 —
/// including a constant reference (std 0), a negative value, or NaN — is
/// replaced by 0.001, so there is no division by zero. The result is finite
/// and never NaN: a distance that overflows (finite values near ±1.7e308 are
/// legal JSON) saturates at `f64::MAX`, so it is still "drifted" and still a
/// number in JSON, where an infinity would become `null`.
pub fn normed_distance(
    reference_sorted: &[f64],
    current_sorted: &[f64],
    reference_std: f64,
) -> f64 {
    let distance = distance(reference_sorted, current_sorted);
    let normed = if distance.is_infinite() {
        distance
    } else {
        distance / reference_std.max(0.001)
    };
    normed.min(f64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Case {
        name: String,
        reference: Vec<f64>,
        current: Vec<f64>,
        wasserstein: f64,
        reference_std: f64,
        current_std: f64,
        normed_wasserstein: f64,
    }

    #[derive(Deserialize)]
    struct Golden {
        numeric: Vec<Case>,
    }

    fn sorted(values: &[f64]) -> Vec<f64> {
        let mut values = values.to_vec();
        values.sort_by(f64::total_cmp);
        values
    }

    /// 1e-9, relative for |expected| > 1 and absolute below.
    fn assert_close(actual: f64, expected: f64, what: &str) {
        let tolerance = 1e-9 * expected.abs().max(1.0);
        assert!(
            (actual - expected).abs() <= tolerance,
            "{what}: {actual} vs {expected}"
        );
    }

    /// Tolerance 1e-9 relative-or-absolute for all three: the terms are
    /// scipy's/numpy's IEEE operations, only the summation order differs
    /// (numpy sums pairwise, this sums sequentially), a few ulps at most.
    #[test]
    fn matches_scipy_golden() {
        let golden: Golden =
            serde_json::from_str(include_str!("../../tests/golden/stats.json")).unwrap();
        assert!(golden.numeric.len() >= 10);
        for case in golden.numeric {
            let (reference, current) = (sorted(&case.reference), sorted(&case.current));
            let name = &case.name;
            assert_close(
                distance(&reference, &current),
                case.wasserstein,
                &format!("{name}: distance"),
            );
            assert_close(
                distance(&current, &reference),
                case.wasserstein,
                &format!("{name}: distance (swapped)"),
            );
            let std = population_std(&case.reference);
            assert_close(std, case.reference_std, &format!("{name}: reference std"));
            assert_close(
                population_std(&case.current),
                case.current_std,
                &format!("{name}: current std"),
            );
            assert_close(
                normed_distance(&reference, &current, std),
                case.normed_wasserstein,
                &format!("{name}: normed distance"),
            );
        }
    }

    #[test]
    fn empty_sample_gives_zero() {
        assert_eq!(distance(&[], &[1.0]), 0.0);
        assert_eq!(distance(&[1.0], &[]), 0.0);
        assert_eq!(normed_distance(&[], &[], 1.0), 0.0);
        assert_eq!(population_std(&[]), 0.0);
    }

    #[test]
    fn hand_computed_distances() {
        assert_eq!(distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]), 5.0);
        assert_eq!(distance(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert_eq!(distance(&[2.0], &[2.0, 2.0, 2.0]), 0.0);
        assert_eq!(distance(&[0.0], &[1.0]), 1.0);
        // Ties across samples: ECDFs (1/2, 1) vs (1/4, 1) on [1, 2).
        assert_eq!(distance(&[1.0, 2.0], &[1.0, 2.0, 2.0, 2.0]), 0.25);
    }

    #[test]
    fn infinities_give_infinity_or_zero_never_nan() {
        let inf = f64::INFINITY;
        assert_eq!(distance(&[1.0, inf], &[1.0]), inf);
        assert_eq!(distance(&[-inf, 1.0], &[1.0]), inf);
        assert_eq!(distance(&[1.0, inf], &[1.0, inf]), 0.0);
        assert_eq!(distance(&[-inf, inf], &[-inf, inf]), 0.0);
        assert_eq!(population_std(&[1.0, inf]), inf);
        assert_eq!(population_std(&[-inf, inf]), inf);
        assert_eq!(population_std(&[f64::MAX, -f64::MAX]), inf);
        assert_eq!(normed_distance(&[1.0, inf], &[1.0], inf), f64::MAX);
        let extreme = [-1.7e308, 1.7e308];
        assert_eq!(normed_distance(&[0.0, 1.0], &extreme, 0.5), f64::MAX);
        assert_eq!(normed_distance(&[1.0, inf], &[1.0, inf], inf), 0.0);
        assert_eq!(normed_distance(&[1.0, 2.0], &[1.0, 3.0], inf), 0.0);
    }

    #[test]
    fn unsorted_or_nan_input_terminates_without_nan() {
        let nan = f64::NAN;
        assert!(!distance(&[3.0, 1.0, 2.0], &[0.5, 5.0]).is_nan());
        assert!(!distance(&[nan, 1.0], &[nan]).is_nan());
        assert!(!distance(&[1.0, nan], &[2.0, 3.0]).is_nan());
    }

    #[test]
    fn population_std_matches_hand_values() {
        assert_eq!(
            population_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            2.0
        );
        assert_eq!(population_std(&[42.0]), 0.0);
        // Stable for a large offset: naive E[x²] − E[x]² would lose it all.
        let shifted: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|x| x + 1e9).collect();
        assert!((population_std(&shifted) - 1.25_f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn small_or_invalid_reference_std_is_floored() {
        let (a, b) = ([0.0, 1.0], [1.0, 2.0]);
        assert_eq!(normed_distance(&a, &b, 0.0), 1000.0);
        assert_eq!(normed_distance(&a, &b, -5.0), 1000.0);
        assert_eq!(normed_distance(&a, &b, f64::NAN), 1000.0);
        assert_eq!(normed_distance(&a, &b, 0.5), 2.0);
    }
}
