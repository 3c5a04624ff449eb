//! Per-column drift checks: the reference profiled once, the test chosen once, and one window's
//! values compared against it.
//!
//! A [`ColumnCheck`] is built at start-up from a reference column, profiled by
//! [`crate::reference::profile`]: numeric columns keep their
//! sorted values (KS and Wasserstein are one merge pass against a sorted window), quantile bin
//! edges and the reference's counts in those bins (PSI, Jensen–Shannon); categorical columns keep
//! category counts. The test is resolved at that point too (the monitor's policy picks it unless
//! the config names one, see [`crate::check::policy`]), so the `test` label of a column's metrics never
//! changes while running. A column alone decides as a family of one; a window's families are
//! corrected together by [`crate::check::decide_families`].

use std::sync::Arc;

use crate::column::{ColumnData, INVALID_CODE, MISSING_CODE};
use crate::config::{ColumnKind, Policy, TestKind, Threshold};
use crate::reference::profile::{CategoricalProfile, ReferenceProfile};
use crate::reference::table::Cells;
use crate::stats::computable::NotComputable;
use crate::stats::multipletests;
use null::NullDistribution;
pub use outcome::{Approximation, ColumnOutcome, Role};
use policy::{AlarmRule, FamilySettings};

pub mod binned;
mod counts;
pub mod null;
mod numeric;
pub mod outcome;
pub mod policy;
pub mod report;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_binned;

/// Reference rows at or below which Evidently's matrix picks p-value tests (KS, chi-square, z);
/// above it, distances (Wasserstein, Jensen–Shannon) that do not flag every tiny shift.
const SMALL_REFERENCE_ROWS: usize = 1000;

/// How the column is tested, fixed at start-up.
#[derive(Debug, Clone)]
pub struct ColumnCheck {
    /// Column name in requests and reference.
    pub name: String,
    /// What the column is to the model.
    pub role: Role,
    /// Statistical test applied to every window.
    pub test: TestKind,
    /// Drift when the adjusted p < threshold (p-value tests) or score ≥ threshold
    /// (distances), and the effect size reaches the rule's `min_effect`.
    pub threshold: f64,
    /// Correction family, effect floor and pooling (see [`crate::check::policy`]).
    pub rule: AlarmRule,
    /// The reference, profiled; shared, so a reload that changes only policy reuses it.
    pub reference: Arc<ReferenceProfile>,
    /// PSI / Jensen–Shannon bins the profile was built with.
    pub bins: usize,
    /// `threshold: auto`: the distance's learned null distribution, which gives it a p-value
    /// (set by [`ColumnCheck::learn_null`] at start-up).
    pub null: Option<Arc<NullDistribution>>,
    /// `threshold: auto` was asked for: the null must be learned before the check is used.
    pub learned_threshold: bool,
}

/// A column's overrides from the config; `None` = the policy's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnChoice {
    /// Test.
    pub test: Option<TestKind>,
    /// Threshold; an explicit number keeps the column outside the family's correction,
    /// `auto` learns a distance's null distribution and puts the column in it.
    pub threshold: Option<Threshold>,
    /// PSI / Jensen–Shannon bins.
    pub bins: usize,
    /// Effect-size floor.
    pub min_effect: Option<f64>,
}
impl ColumnCheck {
    /// A check under `policy: evidently` (Evidently's matrix and thresholds, no correction):
    /// see [`ColumnCheck::configured`].
    pub fn new(
        name: &str,
        role: Role,
        cells: Cells,
        test: Option<TestKind>,
        threshold: Option<f64>,
        bins: usize,
    ) -> Result<Self, String> {
        let choice = ColumnChoice {
            test,
            threshold: threshold.map(Threshold::Fixed),
            bins,
            min_effect: None,
        };
        Self::configured(name, role, cells, choice, FamilySettings::EVIDENTLY)
    }

    /// Profiles the reference column `cells` and resolves the test: the column's choice when given, the policy's
    /// default otherwise (see [`crate::check::policy`]). Fails (with a message for `driftscope check`)
    /// when the reference has no usable value or the configured test cannot apply.
    pub fn configured(
        name: &str,
        role: Role,
        cells: Cells,
        choice: ColumnChoice,
        family: FamilySettings,
    ) -> Result<Self, String> {
        let reference = Arc::new(ReferenceProfile::from_cells(cells, choice.bins));
        Self::with_profile(name, role, reference, choice, family)
    }

    /// A check over an already profiled reference (built with `choice.bins` bins): resolves
    /// the test and threshold as [`ColumnCheck::configured`] does.
    pub fn with_profile(
        name: &str,
        role: Role,
        reference: Arc<ReferenceProfile>,
        choice: ColumnChoice,
        family: FamilySettings,
    ) -> Result<Self, String> {
        let (rows, distinct) = (reference.rows(), reference.distinct());
        if rows == 0 {
            return Err(format!(
                "column {name:?} has no non-missing values in the reference"
            ));
        }
        let kind = reference.kind();
        let test = choice.test.unwrap_or_else(|| match family.policy {
            Policy::Calibrated => policy::calibrated_test(kind, distinct),
            Policy::Evidently => default_test(kind, rows, distinct),
        });
        if test.binary_only() && distinct > 2 {
            return Err(format!(
                "test {} needs a binary column, but {name:?} has {distinct} distinct values in \
                 the reference; use chisquare or g_test",
                test.as_str()
            ));
        }
        if test.numeric_only() && kind == ColumnKind::Categorical {
            return Err(format!("test {} needs a numerical column", test.as_str()));
        }
        let learned = choice.threshold == Some(Threshold::Auto);
        if learned && test.has_p_value() {
            return Err(format!(
                "threshold: auto learns thresholds for distance tests; {} has an exact p-value",
                test.as_str()
            ));
        }
        let threshold = match choice.threshold {
            Some(Threshold::Fixed(t)) => t,
            _ if test.has_p_value() || learned => family.alpha,
            _ => test.default_threshold(),
        };
        if test.has_p_value() && threshold >= 1.0 {
            return Err(format!(
                "threshold {threshold} of test {} is a p-value and must be below 1",
                test.as_str()
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            role,
            test,
            threshold,
            rule: policy::rule(
                family,
                test,
                matches!(choice.threshold, Some(Threshold::Fixed(_))),
                learned,
                choice.min_effect,
            ),
            reference,
            bins: choice.bins,
            null: None,
            learned_threshold: learned,
        })
    }

    /// Learns the null distribution of `threshold: auto` for windows of `sizes` rows.
    pub fn learn_null(&mut self, sizes: &[usize], seed: u64) -> Result<(), String> {
        let null = NullDistribution::learn(self.test, &self.reference, sizes, seed)?;
        self.null = Some(Arc::new(null));
        Ok(())
    }

    /// Compares one window's values with the reference. Missing and invalid values are counted,
    /// not tested; a window with no usable value gets no score and no drift verdict.
    pub fn evaluate(&self, values: &ColumnData) -> ColumnOutcome {
        let mut outcome = self.blank_outcome();
        let tested = match (&*self.reference, values) {
            (ReferenceProfile::Numeric(reference), ColumnData::Numeric(window)) => {
                let mut current = Vec::with_capacity(window.len());
                let (min, max) = (
                    reference.sorted[0],
                    reference.sorted[reference.sorted.len() - 1],
                );
                for &v in window {
                    if v.is_nan() {
                        outcome.missing += 1;
                    } else if v.is_infinite() {
                        // `INVALID_NUMBER` is -inf; ingest never yields +inf, but a caller's
                        // would break every test's sums, so it is invalid too.
                        outcome.invalid += 1;
                    } else {
                        outcome.out_of_range += usize::from(v < min || v > max);
                        current.push(v);
                    }
                }
                outcome.values = current.len();
                (!current.is_empty()).then(|| {
                    // Binned tests count values and t sums them; the others read them in order.
                    if numeric::sorts(self.test) {
                        current.sort_unstable_by(f64::total_cmp);
                    }
                    numeric::test(self, reference, &current)
                })
            }
            (ReferenceProfile::Categorical(reference), ColumnData::Categorical(window)) => {
                let known = reference.counts.len();
                let mut counts = vec![0u64; known];
                for &code in window {
                    match code {
                        MISSING_CODE => outcome.missing += 1,
                        INVALID_CODE => outcome.invalid += 1,
                        _ => {
                            let i = code as usize;
                            if i >= counts.len() {
                                counts.resize(i + 1, 0);
                            }
                            counts[i] += 1;
                            outcome.values += 1;
                            outcome.new_category += usize::from(i >= known);
                        }
                    }
                }
                (outcome.values > 0).then(|| self.category_test(reference, &counts))
            }
            // The window engine builds columns from the same schema; a mismatch is a bug, and
            // reporting "no data" is safer than a panic in a running service.
            _ => {
                outcome.missing = values.len();
                None
            }
        };
        self.finish(&mut outcome, tested);
        outcome
    }

    /// Tests a window's counts per category code against the reference's, both padded to the
    /// same codes (codes the reference lacks are new categories).
    fn category_test(&self, reference: &CategoricalProfile, window: &[u64]) -> Computed {
        let len = reference.counts.len().max(window.len());
        let mut ref_counts = reference.counts.clone();
        ref_counts.resize(len, 0);
        let mut counts = window.to_vec();
        counts.resize(len, 0);
        counts::test(self, &ref_counts, &counts, 0)
    }

    /// An outcome with nothing tested yet.
    fn blank_outcome(&self) -> ColumnOutcome {
        ColumnOutcome {
            test: self.test,
            score: None,
            p_value: None,
            p_value_adjusted: None,
            threshold: self.threshold,
            effect_size: None,
            min_effect: self.rule.min_effect,
            drifted: false,
            not_computable: None,
            values: 0,
            missing: 0,
            invalid: 0,
            out_of_range: 0,
            new_category: 0,
            approximation: None,
        }
    }

    /// Records a test's result, or why it had none (`None`: nothing was tested).
    fn finish(&self, outcome: &mut ColumnOutcome, tested: Option<Computed>) {
        match tested {
            Some(Err(reason)) => outcome.not_computable = Some(reason),
            Some(Ok(tested)) => self.decide(outcome, tested),
            None => {}
        }
    }

    /// Fills a tested outcome's numbers and verdict.
    fn decide(&self, outcome: &mut ColumnOutcome, tested: Tested) {
        outcome.score = Some(tested.score);
        outcome.p_value = match &self.null {
            Some(null) => Some(null.p_value(outcome.values, tested.score)),
            None => tested.p_value,
        };
        // Alone, a column is a family of one: every correction leaves its p-value as is.
        // [`decide_families`] corrects a window's families afterwards.
        outcome.p_value_adjusted = outcome.p_value;
        outcome.effect_size = Some(tested.effect);
        outcome.drifted = policy::verdict(outcome);
    }
}

/// A test's numbers for one window, before the verdict, or why it has none.
type Computed = Result<Tested, NotComputable>;

/// A test's numbers for one window, before the verdict.
struct Tested {
    score: f64,
    p_value: Option<f64>,
    effect: f64,
}

impl Tested {
    fn new(score: f64, p_value: Option<f64>, effect: f64) -> Self {
        Self {
            score,
            p_value,
            effect,
        }
    }
}

/// Evidently's default test matrix (`reference rows` = non-missing reference values).
pub fn default_test(kind: ColumnKind, reference_rows: usize, distinct: usize) -> TestKind {
    let small = reference_rows <= SMALL_REFERENCE_ROWS;
    match (kind, small) {
        (ColumnKind::Numerical, true) if distinct > 5 => TestKind::Ks,
        (ColumnKind::Numerical, true) if distinct >= 3 => TestKind::Chisquare,
        (ColumnKind::Numerical, true) => TestKind::Z,
        (ColumnKind::Numerical, false) if distinct > 5 => TestKind::Wasserstein,
        (ColumnKind::Numerical, false) => TestKind::Jensenshannon,
        (ColumnKind::Categorical, true) if distinct > 2 => TestKind::Chisquare,
        (ColumnKind::Categorical, true) => TestKind::Z,
        (ColumnKind::Categorical, false) => TestKind::Jensenshannon,
    }
}

/// Corrects each family of a window — features, prediction columns, target, latency — and re-decides
/// its members' verdicts. `columns` pairs every check with its outcome in this window.
pub fn decide_families(columns: &mut [(&ColumnCheck, &mut ColumnOutcome)]) {
    for role in [Role::Feature, Role::Prediction, Role::Target, Role::Latency] {
        let members: Vec<usize> = (0..columns.len())
            .filter(|&i| {
                let (check, outcome) = &columns[i];
                check.role == role && check.rule.in_family && outcome.p_value.is_some()
            })
            .collect();
        let Some(&first) = members.first() else {
            continue;
        };
        let correction = columns[first].0.rule.correction;
        let raw: Vec<f64> = members
            .iter()
            .map(|&i| columns[i].1.p_value.unwrap_or(1.0))
            .collect();
        let adjusted = multipletests::adjust(&raw, correction);
        for (&i, p) in members.iter().zip(adjusted) {
            let outcome = &mut columns[i].1;
            outcome.p_value_adjusted = Some(p);
            outcome.drifted = policy::verdict(outcome);
        }
    }
}
