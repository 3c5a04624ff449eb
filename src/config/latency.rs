//! `monitors[i].latency`: the column carrying each prediction's latency, and its unit.

use serde::Deserialize;

use super::{MonitorSpec, Problem};

/// The latency column of a monitor's rows (`latency: {column: latency_ms, unit: ms}`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// Column name in rows (and, for drift testing, in the reference).
    pub column: String,
    /// Unit of the values: stated, never guessed, since seconds and milliseconds overlap.
    pub unit: LatencyUnit,
}

/// Unit of a latency column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum LatencyUnit {
    /// Seconds (`s`).
    Seconds,
    /// Milliseconds (`ms`).
    Milliseconds,
}

impl TryFrom<String> for LatencyUnit {
    type Error = String;
    fn try_from(unit: String) -> Result<Self, String> {
        match unit.as_str() {
            "s" => Ok(LatencyUnit::Seconds),
            "ms" => Ok(LatencyUnit::Milliseconds),
            _ => Err(format!(
                "unknown latency unit {unit:?}; use `s` (seconds) or `ms` (milliseconds)"
            )),
        }
    }
}

impl LatencyUnit {
    /// Units per second; latencies are divided by it: one correctly rounded division, so 5 ms
    /// is the same double as the 0.005 s bucket bound (5 × 0.001 need not be).
    pub fn per_second(self) -> f64 {
        match self {
            LatencyUnit::Seconds => 1.0,
            LatencyUnit::Milliseconds => 1000.0,
        }
    }
}

impl LatencySpec {
    /// Problems of `monitor.latency` that serde cannot see: a column that another role reads
    /// (a row field maps to one column only).
    pub(super) fn validate(&self, at: &str, monitor: &MonitorSpec, problems: &mut Vec<Problem>) {
        let column = self.column.as_str();
        let features = monitor.features.numerical.iter();
        let is_feature = features
            .chain(&monitor.features.categorical)
            .any(|f| f.name == column);
        let roles = [
            (
                "the prediction",
                monitor.prediction.as_ref().map(|p| &p.column),
            ),
            (
                "the prediction probability",
                monitor
                    .prediction
                    .as_ref()
                    .and_then(|p| p.probability.as_ref()),
            ),
            ("the target", monitor.target.as_ref().map(|t| &t.column)),
            ("the id", monitor.id.as_ref()),
            ("the timestamp", monitor.timestamp.as_ref()),
        ];
        let clash = if is_feature {
            Some("a feature")
        } else {
            roles
                .iter()
                .find(|(_, c)| c.is_some_and(|c| c == column))
                .map(|(role, _)| *role)
        };
        if column.is_empty() {
            problems.push(Problem::new(
                format!("{at}.latency.column"),
                "name the column that carries each prediction's latency",
            ));
        } else if let Some(role) = clash {
            problems.push(Problem::new(
                format!("{at}.latency.column"),
                format!(
                    "column {column:?} is also {role}; the latency column must be a column of its own"
                ),
            ));
        }
        if monitor.window.summary == super::Summary::Binned {
            // A binned window counts each column over its reference's bins; the latency
            // summary (buckets, quantiles, slow count) needs the window's latencies.
            problems.push(Problem::new(
                format!("{at}.latency"),
                "a binned window (`window.summary: binned`) keeps no rows to summarise latencies \
                 from; use `summary: exact`",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::testing::{MINIMAL, write};
    use crate::config::{LatencyUnit, LoadError, Settings, load};

    fn settings(monitor_extra: &str) -> Result<Settings, LoadError> {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{MINIMAL}    id: id
{monitor_extra}"
        );
        load(&write(dir.path(), &text), Some(HashMap::new()))
    }

    #[test]
    fn the_unit_is_required_and_spelled_s_or_ms() {
        let s = settings("    latency: {column: latency_ms, unit: ms}\n").unwrap();
        let latency = s.monitors[0].latency.clone().unwrap();
        assert_eq!(latency.unit, LatencyUnit::Milliseconds);
        assert_eq!(latency.unit.per_second(), 1000.0);
        assert_eq!(s.monitors[0].alerting.slow_prediction_seconds, 10.0);
        let unknown = settings("    latency: {column: l, unit: us}\n").unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("unknown latency unit \"us\"; use `s` (seconds) or `ms`"),
            "{unknown}"
        );
        assert!(settings("    latency: {column: l}\n").is_err());
    }

    #[test]
    fn the_latency_column_is_a_column_of_its_own() {
        for (column, clash) in [("a", "a feature"), ("c", "a feature"), ("id", "the id")] {
            let extra = format!(
                "    latency: {{column: {column}, unit: s}}\n    alerting: {{slow_prediction_seconds: 0}}\n"
            );
            let problems = settings(&extra).unwrap().validate();
            let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
            assert_eq!(
                paths,
                [
                    "monitors[0].alerting.slow_prediction_seconds",
                    "monitors[0].latency.column"
                ]
            );
            assert!(
                problems[1].message.contains(clash),
                "{}",
                problems[1].message
            );
        }
    }
}
