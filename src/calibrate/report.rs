//! Rates with intervals, expected false alerts per day, and the text / JSON output of
//! `driftscope calibrate`.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::WindowVerdicts;
use super::sample::Shift;
use crate::check::ColumnCheck;
use crate::check::policy::FamilySettings;
use crate::config::MonitorSpec;

/// z of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// How the windows were drawn and what the report assumes.
pub struct Setup {
    /// Rows per window.
    pub window_rows: usize,
    /// Rows in the reference file.
    pub reference_rows: usize,
    /// Whether the windows are disjoint.
    pub disjoint: bool,
    /// Seed of the draws.
    pub seed: u64,
    /// Windows evaluated per day.
    pub windows_per_day: f64,
}

/// A share of windows with its Wilson 95 % interval.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rate {
    /// Windows with the event.
    pub count: usize,
    /// Windows.
    pub windows: usize,
    /// count / windows.
    pub rate: f64,
    /// Wilson interval, lower end.
    pub low: f64,
    /// Wilson interval, upper end.
    pub high: f64,
}

impl Rate {
    /// `count` of `windows`, with the Wilson score interval (good coverage near 0 and 1, where
    /// false-alarm rates live, unlike the normal approximation).
    pub fn new(count: usize, windows: usize) -> Self {
        let n = windows.max(1) as f64;
        let p = count as f64 / n;
        let z2 = Z95 * Z95;
        let center = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
        Self {
            count,
            windows,
            rate: p,
            low: (center - half).max(0.0),
            high: (center + half).min(1.0),
        }
    }
}

/// Rates of one feature.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureRates {
    /// Column name.
    pub name: String,
    /// Test applied.
    pub test: &'static str,
    /// Share of clean windows in which the feature drifted.
    pub false_alarm: Rate,
    /// Expected new false alerts per day from this feature.
    pub false_alerts_per_day: f64,
    /// Share of windows in which the feature drifted with it shifted, per shift.
    pub detection: BTreeMap<String, Rate>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// Monitor name.
    pub monitor: String,
    /// `calibrated` or `evidently`.
    pub policy: &'static str,
    /// Family correction.
    pub correction: &'static str,
    /// Family level.
    pub alpha: f64,
    /// Windows drawn.
    pub windows: usize,
    /// Rows per window.
    pub window_rows: usize,
    /// Rows in the reference.
    pub reference_rows: usize,
    /// Whether the windows are disjoint (otherwise they share rows and the intervals are too
    /// narrow).
    pub disjoint: bool,
    /// Seed.
    pub seed: u64,
    /// Windows per day assumed for alerts per day.
    pub windows_per_day: f64,
    /// `alerting.for_windows`: consecutive drifted windows before an alert.
    pub for_windows: u32,
    /// Per feature.
    pub features: Vec<FeatureRates>,
    /// Share of clean windows with at least one feature alarm.
    pub any_feature_false_alarm: Rate,
    /// Expected new false feature alerts per day, all features.
    pub false_alerts_per_day: f64,
    /// Detection per shift, over every (window, feature) the shift applies to.
    pub detection: BTreeMap<String, Rate>,
}

/// Expected alert onsets per day: an alert starts at a window whose feature has drifted in
/// the last `k` windows but not in the one before, probability `(1 − q)·q^k` for independent
/// windows with per-window rate `q` (tumbling windows; overlapping sliding windows are
/// positively correlated and fire more in bursts).
pub fn alerts_per_day(q: f64, k: u32, windows_per_day: f64) -> f64 {
    windows_per_day * (1.0 - q) * q.powi(k as i32)
}

impl Calibration {
    /// Summarises the windows' verdicts.
    pub fn new(
        spec: &MonitorSpec,
        family: FamilySettings,
        features: &[&ColumnCheck],
        verdicts: &[WindowVerdicts],
        setup: Setup,
    ) -> Self {
        let n = verdicts.len();
        let k = spec.alerting.for_windows;
        let mut pooled: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let rates: Vec<FeatureRates> = features
            .iter()
            .enumerate()
            .map(|(j, check)| {
                let alarms = verdicts.iter().filter(|v| v.drifted[j]).count();
                let false_alarm = Rate::new(alarms, n);
                let detection = Shift::for_check(check)
                    .iter()
                    .map(|shift| {
                        let label = shift.label();
                        let hits = verdicts
                            .iter()
                            .filter(|v| v.shifted.get(&(j, label.clone())) == Some(&true))
                            .count();
                        let total = pooled.entry(label.clone()).or_default();
                        *total = (total.0 + hits, total.1 + n);
                        (label, Rate::new(hits, n))
                    })
                    .collect();
                FeatureRates {
                    name: check.name.clone(),
                    test: check.test.as_str(),
                    false_alerts_per_day: alerts_per_day(
                        false_alarm.rate,
                        k,
                        setup.windows_per_day,
                    ),
                    false_alarm,
                    detection,
                }
            })
            .collect();
        let any = verdicts
            .iter()
            .filter(|v| v.drifted.iter().any(|&d| d))
            .count();
        Self {
            monitor: spec.name.clone(),
            policy: family.policy.as_str(),
            correction: family.correction.as_str(),
            alpha: family.alpha,
            windows: n,
            window_rows: setup.window_rows,
            reference_rows: setup.reference_rows,
            disjoint: setup.disjoint,
            seed: setup.seed,
            windows_per_day: setup.windows_per_day,
            for_windows: k,
            false_alerts_per_day: rates.iter().map(|r| r.false_alerts_per_day).sum(),
            features: rates,
            any_feature_false_alarm: Rate::new(any, n),
            detection: pooled
                .into_iter()
                .map(|(label, (hits, total))| (label, Rate::new(hits, total)))
                .collect(),
        }
    }

    /// The report as JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as a table.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let pct = |r: &Rate| {
            format!(
                "{:5.1} % [{:4.1}, {:4.1}]",
                100.0 * r.rate,
                100.0 * r.low,
                100.0 * r.high
            )
        };
        let _ = writeln!(
            out,
            "monitor {}: policy {}, correction {}, alpha {}",
            self.monitor, self.policy, self.correction, self.alpha
        );
        let _ = writeln!(
            out,
            "{} windows of {} rows from {} reference rows ({}), seed {}; each compared with the \
             reference without its rows",
            self.windows,
            self.window_rows,
            self.reference_rows,
            if self.disjoint {
                "disjoint"
            } else {
                "overlapping: the reference cannot hold them all, intervals are too narrow"
            },
            self.seed
        );
        let _ = writeln!(out, "rates with Wilson 95 % intervals\n");
        let _ = writeln!(
            out,
            "feature          test          false alarms             detection by shift"
        );
        for f in &self.features {
            let shifts: Vec<String> = f
                .detection
                .iter()
                .map(|(label, r)| format!("{label} {:.1} %", 100.0 * r.rate))
                .collect();
            let _ = writeln!(
                out,
                "{:<16} {:<13} {:<24} {}",
                f.name,
                f.test,
                pct(&f.false_alarm),
                shifts.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "\nany feature, clean windows: {}",
            pct(&self.any_feature_false_alarm)
        );
        for (label, r) in &self.detection {
            let _ = writeln!(out, "detection, {label:<18} {}", pct(r));
        }
        let _ = writeln!(
            out,
            "expected false feature alerts per day: {:.3} ({} windows/day, for_windows {})",
            self.false_alerts_per_day, self.windows_per_day, self.for_windows
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_the_textbook() {
        // 10 of 100: Wilson 95 % = [0.0552, 0.1744] (e.g. statsmodels proportion_confint
        // method="wilson": 0.05522914, 0.17436566).
        let r = Rate::new(10, 100);
        assert!((r.low - 0.055_229_14).abs() < 1e-7, "{r:?}");
        assert!((r.high - 0.174_365_66).abs() < 1e-7, "{r:?}");
        let zero = Rate::new(0, 50);
        assert!(zero.low < 1e-12, "{zero:?}");
        assert!(zero.high > 0.05 && zero.high < 0.08, "{zero:?}");
    }

    #[test]
    fn alerts_per_day_needs_consecutive_windows() {
        // 5 % per window, 96 windows a day: one window suffices → 96 · 0.95 · 0.05 = 4.56;
        // two in a row → 96 · 0.95 · 0.0025 = 0.228.
        assert!((alerts_per_day(0.05, 1, 96.0) - 4.56).abs() < 1e-9);
        assert!((alerts_per_day(0.05, 2, 96.0) - 0.228).abs() < 1e-9);
    }
}
