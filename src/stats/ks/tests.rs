use super::*;
use serde_json::Value;

/// SciPy reference values written by `tools/golden/gen_ks.py`.
const GOLDEN: &str = include_str!("../../../tests/golden/ks.json");

/// D is a difference of two fractions; SciPy reports the same value or (exact branch)
/// the lattice point `h / lcm` it snaps to, which differ only in the last bits.
const STATISTIC_TOLERANCE: f64 = 1e-12;

/// Absolute p-value tolerance: far below any alerting threshold, yet it leaves room for
/// sums evaluated in a different order than SciPy's. The measured worst case over the
/// golden file is far smaller (see the relative check below).
const P_TOLERANCE: f64 = 1e-6;

/// Tiny p-values are read on a log scale, so they must also agree relatively
/// (wherever SciPy's value is not itself at the underflow edge).
const P_RELATIVE_TOLERANCE: f64 = 1e-9;

fn golden_cases(key: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(GOLDEN).expect("ks.json is valid JSON");
    let cases = doc[key].as_array().expect("case list").clone();
    assert!(!cases.is_empty(), "{key} is empty");
    cases
}

fn number(case: &Value, key: &str) -> f64 {
    case[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {case}"))
}

fn floats(case: &Value, key: &str) -> Vec<f64> {
    let values = case[key].as_array().expect("sample array");
    values.iter().map(|v| v.as_f64().expect("number")).collect()
}

fn assert_p_matches(name: &str, actual: f64, expected: f64) {
    let abs = (actual - expected).abs();
    assert!(
        abs <= P_TOLERANCE,
        "{name}: p {actual:e} vs SciPy {expected:e}"
    );
    if expected > 1e-290 {
        let rel = abs / expected;
        assert!(
            rel <= P_RELATIVE_TOLERANCE,
            "{name}: p {actual:e} vs SciPy {expected:e}"
        );
    }
}

#[test]
fn golden_samples_match_scipy() {
    for case in golden_cases("sample_cases") {
        let name = case["name"].as_str().expect("name");
        let (reference, current) = (floats(&case, "reference"), floats(&case, "current"));
        let result = ks_2samp(&reference, &current);
        let expected = number(&case, "statistic");
        assert!(
            (result.statistic - expected).abs() <= STATISTIC_TOLERANCE,
            "{name}: D {} vs SciPy {expected}",
            result.statistic
        );
        assert_p_matches(name, result.p_value, number(&case, "p_value"));
    }
}

#[test]
fn golden_p_values_match_scipy() {
    for case in golden_cases("p_value_cases") {
        let name = case["name"].as_str().expect("name");
        let size = |key| case[key].as_u64().expect("size") as usize;
        let p = p_value(number(&case, "d"), size("n"), size("m"));
        assert_p_matches(name, p, number(&case, "p_value"));
    }
}

#[test]
fn empty_input_means_no_evidence() {
    let none = KsResult {
        statistic: 0.0,
        p_value: 1.0,
    };
    assert_eq!(ks_2samp(&[], &[]), none);
    assert_eq!(ks_2samp(&[], &[1.0, 2.0]), none);
    assert_eq!(ks_2samp(&[1.0], &[]), none);
    assert_eq!(p_value(0.7, 0, 10), 1.0);
    assert_eq!(p_value(0.7, 10, 0), 1.0);
}

#[test]
fn ties_step_both_ecdfs_together() {
    // At 2 both ECDFs jump to 3/4; comparing mid-tie would report 3/4 instead of 1/4.
    let (reference, current) = ([1.0, 2.0, 2.0, 3.0], [2.0, 2.0, 2.0, 4.0]);
    assert_eq!(statistic(&reference, &current), 0.25);
    assert_eq!(statistic(&current, &reference), 0.25);
    assert_eq!(statistic(&[-0.0, 1.0], &[0.0, 1.0]), 0.0);
}

#[test]
fn p_value_is_symmetric_and_monotone_in_d() {
    for n in 1..=12 {
        for m in 1..=12 {
            let lcm = n / gcd(n as u64, m as u64) as usize * m;
            let mut previous = 1.0;
            for h in 0..=lcm {
                let d = h as f64 / lcm as f64;
                let p = p_value(d, n, m);
                assert_eq!(p, p_value(d, m, n), "n={n} m={m} h={h}");
                assert!(p <= previous, "n={n} m={m} h={h}: {p} > {previous}");
                previous = p;
            }
        }
    }
}

#[test]
fn equal_size_overshoot_falls_back_like_scipy() {
    // h = 25 on the 10_000 x 10_000 lattice: the exact sum exceeds 1 by rounding.
    assert!(prob_outside_square(10_000, 25) > 1.0);
    assert_eq!(
        p_value(0.0025, 10_000, 10_000),
        kolmogorov_sf(5_000, 0.0025)
    );
}

#[test]
fn p_value_is_never_nan() {
    let sizes = [
        1, 2, 3, 7, 50, 141, 999, 10_000, 10_001, 40_000, 300_000, 3_000_000,
    ];
    let ds = [
        f64::NAN,
        f64::NEG_INFINITY,
        -0.5,
        0.0,
        1e-300,
        1e-7,
        1e-4,
        0.003,
        0.01,
        0.05,
        0.2,
        0.5,
        0.75,
        0.999_999,
        1.0,
        3.0,
        f64::INFINITY,
    ];
    for &n in &sizes {
        for &m in &[1, 5, 10_000, 10_001, 123_457] {
            // Keep the exact O(n m) path cheap in debug builds.
            let ds = if n.max(m) <= MAX_EXACT_N && n.min(m) > 10 {
                &ds[..9]
            } else {
                &ds[..]
            };
            for &d in ds {
                let p = p_value(d, n, m);
                assert!((0.0..=1.0).contains(&p), "n={n} m={m} d={d}: {p}");
            }
        }
    }
}

/// The sampled Birnbaum–Tingey sum against the exact one, over the sizes and distances it
/// serves (`N d²` from 2.2, where `kolmogorov_sf` starts using it, to 370, where it stops).
#[test]
fn sampled_sum_matches_the_exact_sum() {
    use super::smirnov::tail;
    // The stated bound (README, `smirnov.rs`).
    const SAMPLED_RELATIVE_ERROR: f64 = 1e-10;
    let mut worst = (0.0_f64, 0, 0.0);
    for n in [1_024_u64, 1_500, 4_000, 25_000, 50_000, 125_000, 1_000_000] {
        for n_x2 in [2.2, 3.0, 5.0, 10.0, 30.0, 100.0, 200.0, 369.0] {
            let x = (n_x2 / n as f64).sqrt();
            let exact = tail(n, x, u64::MAX);
            let sampled = tail(n, x, 1);
            if exact < 1e-290 {
                // Subnormal territory (n x² = 369 gives about e^-738): no relative precision.
                assert!(
                    sampled < 1e-280,
                    "n {n}, n x² {n_x2}: {sampled:e} vs {exact:e}"
                );
                continue;
            }
            let error = (sampled / exact - 1.0).abs();
            if error > worst.0 {
                worst = (error, n, n_x2);
            }
        }
    }
    eprintln!(
        "sampled sum: worst relative error {:e} at n {}, n x² {}",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 <= SAMPLED_RELATIVE_ERROR, "worst {worst:?}");
}
