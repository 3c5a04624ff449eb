//! The drift-test catalogue (anderson, cramer_von_mises, mannw, t_test, ed, es, g_test,
//! fisher_exact, hellinger, kl_div, tvd) against scipy/numpy golden values from
//! `tools/golden/gen_catalogue.py`: each statistic function directly, and the whole check
//! through `ColumnCheck::evaluate` (non-finite values dropped, bins, "not computable").
//!
//! Tolerance: 1e-9 relative plus 1e-12 absolute for every statistic, distance and p-value. The
//! largest differences measured are 4e-11 absolute (Mann–Whitney's normal tail, statrs against
//! scipy's `ndtr`) and 4e-15 for Cramér–von Mises' asymptotic `1 − cdf`.

use driftscope::check::{ColumnCheck, ColumnOutcome, Role};
use driftscope::column::ColumnData;
use driftscope::config::TestKind;
use driftscope::reference::table::Cells;
use driftscope::stats::computable::{Outcome, TestResult};
use driftscope::stats::{
    anderson, cramer_von_mises, energy, epps_singleton, fisher_exact, g_test, hellinger, kl_div,
    mannw, t_test, tvd,
};
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/catalogue.json")).unwrap()
}

/// Absolute part of every tolerance: p-values below it are all "0" to a decision, and
/// `1 − cdf` near 1 (Cramér–von Mises' asymptotic tail) is only that exact in either library.
const ABSOLUTE: f64 = 1e-12;

thread_local! {
    /// This test's mismatches, reported together at the end (see [`no_mismatch`]).
    static MISMATCHES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn close(got: f64, want: f64, relative: f64, what: &str) {
    let tolerance = relative * want.abs() + ABSOLUTE;
    if (got - want).abs() > tolerance || got.is_nan() {
        let message = format!(
            "{what}: got {got:e}, want {want:e} (off by {:e})",
            (got - want).abs()
        );
        MISMATCHES.with(|m| m.borrow_mut().push(message));
    }
}

fn no_mismatch() {
    let all = MISMATCHES.with(|m| m.take());
    assert!(
        all.is_empty(),
        "{} mismatches:\n{}",
        all.len(),
        all.join("\n")
    );
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn counts(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

/// A test result against its golden: equal numbers, or not computable where scipy had none.
fn compare(got: Outcome<TestResult>, want: &Value, test: &str, case: &str) {
    let what = format!("{case}/{test}");
    match (got, want.get("not_computable")) {
        (Err(_), Some(_)) => {}
        (Ok(r), None) => {
            close(
                r.statistic,
                want["statistic"].as_f64().unwrap(),
                1e-9,
                &what,
            );
            close(r.p_value, want["p_value"].as_f64().unwrap(), 1e-9, &what);
        }
        (got, _) => panic!("{what}: got {got:?}, scipy {want}"),
    }
}

#[test]
fn numeric_statistics_match_scipy() {
    let golden = golden();
    for case in golden["numeric"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (mut x, mut y) = (numbers(&case["reference"]), numbers(&case["current"]));
        x.sort_by(f64::total_cmp);
        y.sort_by(f64::total_cmp);
        compare(
            anderson::anderson_ksamp(&x, &y),
            &case["anderson"],
            "anderson",
            name,
        );
        compare(
            cramer_von_mises::cramervonmises_2samp(&x, &y),
            &case["cramer_von_mises"],
            "cramer_von_mises",
            name,
        );
        compare(mannw::mannwhitneyu(&x, &y), &case["mannw"], "mannw", name);
        compare(t_test::welch(&x, &y), &case["t_test"], "t_test", name);
        compare(
            epps_singleton::epps_singleton_2samp(&x, &y),
            &case["es"],
            "es",
            name,
        );
        let ed = case["ed"].as_f64().unwrap();
        close(energy::distance(&x, &y), ed, 1e-9, &format!("{name}/ed"));
    }
    no_mismatch();
}

/// G-test, Hellinger, KL and TVD on aligned counts: categorical cases and numeric bins.
#[test]
fn count_statistics_match_scipy() {
    let golden = golden();
    let numeric = golden["numeric"].as_array().unwrap();
    let binned = numeric.iter().map(|c| (&c["name"], &c["binned"]));
    let categorical = golden["categorical"].as_array().unwrap();
    for (name, case) in categorical.iter().map(|c| (&c["name"], c)).chain(binned) {
        let name = name.as_str().unwrap();
        let (r, c) = (
            counts(&case["reference_counts"]),
            counts(&case["current_counts"]),
        );
        let g = g_test::g_test(&r, &c);
        compare(
            Ok(TestResult {
                statistic: g.statistic,
                p_value: g.p_value,
            }),
            &case["g_test"],
            "g_test",
            name,
        );
        let distances = [
            ("hellinger", hellinger::distance(&r, &c)),
            ("kl_div", kl_div::divergence(&r, &c)),
            ("tvd", tvd::distance(&r, &c)),
        ];
        for (test, got) in distances {
            close(
                got,
                case[test].as_f64().unwrap(),
                1e-9,
                &format!("{name}/{test}"),
            );
        }
    }
    no_mismatch();
}

#[test]
fn fisher_exact_matches_scipy_up_to_100k_rows() {
    for case in golden()["fisher"].as_array().unwrap() {
        let t: Vec<u64> = case["table"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(counts)
            .collect();
        let p = fisher_exact::fisher_exact(t[0], t[1], t[2], t[3]);
        close(
            p,
            case["p_value"].as_f64().unwrap(),
            1e-9,
            &format!("{t:?}"),
        );
    }
    no_mismatch();
}

/// What the golden says `test`'s outcome on a numeric case is: `(score, p-value)`, or `None`
/// for "not computable".
fn expected(case: &Value, test: TestKind) -> Option<(f64, Option<f64>)> {
    let of = |v: &Value| {
        v.get("statistic")
            .map(|s| (s.as_f64().unwrap(), Some(v["p_value"].as_f64().unwrap())))
    };
    let binned = &case["binned"];
    match test {
        TestKind::Ed => Some((case["ed"].as_f64().unwrap(), None)),
        TestKind::Hellinger | TestKind::KlDiv | TestKind::Tvd => {
            Some((binned[test.as_str()].as_f64().unwrap(), None))
        }
        TestKind::FisherExact => {
            let p = case["fisher_exact"]["p_value"].as_f64().unwrap();
            Some((p, Some(p)))
        }
        _ => of(&case[test.as_str()]),
    }
}

/// The whole check: the window's non-finite values are counted as missing or invalid and
/// dropped, the rest tested as scipy did; not computable where scipy had no answer.
#[test]
fn column_checks_report_scipy_results_or_not_computable() {
    let tests = [
        TestKind::Anderson,
        TestKind::CramerVonMises,
        TestKind::Mannw,
        TestKind::TTest,
        TestKind::Ed,
        TestKind::Es,
        TestKind::GTest,
        TestKind::FisherExact,
        TestKind::Hellinger,
        TestKind::KlDiv,
        TestKind::Tvd,
    ];
    let golden = golden();
    let bins = golden["bins"].as_u64().unwrap() as usize;
    let mut not_computable = 0;
    for case in golden["numeric"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reference = numbers(&case["reference"]);
        let mut window = numbers(&case["current"]);
        let finite = window.len();
        for text in case["nonfinite"].as_array().unwrap() {
            window.push(text.as_str().unwrap().parse().unwrap());
        }
        for test in tests {
            let cells = Cells::numbers(reference.clone());
            let check = ColumnCheck::new("x", Role::Feature, cells, Some(test), None, bins);
            let Ok(check) = check else {
                // Only Fisher refuses a column, when the reference is not binary.
                assert!(test == TestKind::FisherExact && case.get("fisher_exact").is_none());
                continue;
            };
            let out: ColumnOutcome = check.evaluate(&ColumnData::Numeric(window.clone()));
            let what = format!("{name}/{}", test.as_str());
            assert_eq!(
                out.values, finite,
                "{what}: non-finite values are not tested"
            );
            match expected(case, test) {
                Some((score, p)) => {
                    assert_eq!(out.not_computable, None, "{what}");
                    close(out.score.unwrap(), score, 1e-9, &what);
                    if let (Some(p), Some(got)) = (p, out.p_value) {
                        close(got, p, 1e-9, &what);
                    }
                    assert_eq!(out.p_value.is_some(), p.is_some(), "{what}");
                    assert_eq!(
                        out.drifted,
                        p.map_or(score >= 0.1, |p| p < 0.05),
                        "{what}: Evidently's thresholds, no effect floor"
                    );
                }
                None => {
                    not_computable += 1;
                    assert!(out.not_computable.is_some(), "{what}: {out:?}");
                    assert!(out.score.is_none() && out.p_value.is_none() && !out.drifted);
                    assert!(out.effect_size.is_none(), "{what}");
                }
            }
        }
    }
    assert!(not_computable >= 10, "the golden covers undefined cases");
    no_mismatch();
}
