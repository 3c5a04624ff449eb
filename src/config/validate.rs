//! Checks serde cannot express, collected as [`Problem`]s so one pass shows every mistake.

use std::collections::HashSet;

use super::{
    AlertingSpec, AuthSpec, ColumnKind, MAX_BINS, MonitorSpec, Problem, ServerSettings, Settings,
    TestKind, Threshold,
};

impl Settings {
    /// Every problem serde could not catch, with its key path. Empty = valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.server.validate(&mut problems);
        self.kafka.validate(self.server.role, &mut problems);
        if self.monitors.is_empty() {
            problems.push(Problem::new("monitors", "declare at least one monitor"));
        }
        let mut names = HashSet::new();
        for (i, monitor) in self.monitors.iter().enumerate() {
            let at = format!("monitors[{i}]");
            if !names.insert(monitor.name.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.name"),
                    format!(
                        "duplicate monitor name {:?}; names must be unique",
                        monitor.name
                    ),
                ));
            }
            monitor.validate(&at, &mut problems);
        }
        problems
    }
}

impl ServerSettings {
    fn validate(&self, problems: &mut Vec<Problem>) {
        for (key, value) in [
            ("max_body_bytes", self.max_body_bytes),
            ("max_connections", self.max_connections),
            ("max_concurrent_ingest", self.max_concurrent_ingest),
            ("max_rows_per_request", self.max_rows_per_request),
            ("max_id_bytes", self.max_id_bytes),
            ("max_category_bytes", self.max_category_bytes),
            ("max_queued_windows", self.max_queued_windows),
        ] {
            if value == 0 {
                problems.push(Problem::new(
                    format!("server.{key}"),
                    "must be greater than 0",
                ));
            }
        }
        if let Some(auth) = &self.auth {
            auth.validate(problems);
        }
    }
}

impl AuthSpec {
    fn validate(&self, problems: &mut Vec<Problem>) {
        if self.tokens.is_empty() {
            problems.push(Problem::new(
                "server.auth.tokens",
                "list at least one token, or remove `auth` to turn authentication off",
            ));
        }
        let mut names = HashSet::new();
        for (i, token) in self.tokens.iter().enumerate() {
            let at = format!("server.auth.tokens[{i}]");
            if !names.insert(token.name.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.name"),
                    format!("duplicate token name {:?}", token.name),
                ));
            }
            if token.scopes.is_empty() {
                problems.push(Problem::new(
                    format!("{at}.scopes"),
                    "list at least one of ingest, read, admin",
                ));
            }
            if token.from_env.is_some() == token.from_file.is_some() {
                problems.push(Problem::new(
                    &at,
                    "set exactly one of `from_env` (an environment variable) or `from_file`; \
                     the token itself never goes in this file",
                ));
            }
        }
    }
}

impl MonitorSpec {
    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            problems.push(Problem::new(
                format!("{at}.name"),
                format!(
                    "{:?} is not a valid name: use 1-64 of A-Z a-z 0-9 _ -",
                    self.name
                ),
            ));
        }
        match self.reference.extension().and_then(|e| e.to_str()) {
            Some("csv" | "parquet" | "pq") => {}
            _ => problems.push(Problem::new(
                format!("{at}.reference"),
                format!(
                    "{:?} must end in .csv, .parquet or .pq",
                    self.reference.display()
                ),
            )),
        }
        if self.features.numerical.is_empty() && self.features.categorical.is_empty() {
            problems.push(Problem::new(
                format!("{at}.features"),
                "declare at least one numerical or categorical feature",
            ));
        }
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            problems.push(Problem::new(
                format!("{at}.drift_share"),
                format!("must be in (0, 1], got {}", self.drift_share),
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            problems.push(Problem::new(
                format!("{at}.alpha"),
                format!("must be in (0, 1), got {}", self.alpha),
            ));
        }
        if !(2..=MAX_BINS).contains(&self.bins) {
            problems.push(Problem::new(
                format!("{at}.bins"),
                format!("must be between 2 and {MAX_BINS}, got {}", self.bins),
            ));
        }
        let mut seen = HashSet::new();
        for (kind, list) in [
            (ColumnKind::Numerical, &self.features.numerical),
            (ColumnKind::Categorical, &self.features.categorical),
        ] {
            let group = match kind {
                ColumnKind::Numerical => "numerical",
                ColumnKind::Categorical => "categorical",
            };
            for (j, feature) in list.iter().enumerate() {
                let path = format!("{at}.features.{group}[{j}]");
                if !seen.insert(feature.name.as_str()) {
                    problems.push(Problem::new(
                        &path,
                        format!("column {:?} is declared twice", feature.name),
                    ));
                }
                check_overrides(
                    &path,
                    kind,
                    feature.test,
                    feature.threshold,
                    feature.bins,
                    feature.min_effect,
                    problems,
                );
            }
        }
        for (key, column) in [("prediction", &self.prediction), ("target", &self.target)] {
            if let Some(c) = column {
                let path = format!("{at}.{key}");
                if seen.contains(c.column.as_str()) {
                    problems.push(Problem::new(
                        format!("{path}.column"),
                        format!("column {:?} is also declared as a feature", c.column),
                    ));
                }
                check_overrides(
                    &path,
                    c.kind,
                    c.test,
                    c.threshold,
                    c.bins,
                    c.min_effect,
                    problems,
                );
            }
        }
        // Every column a row field maps to must be distinct, or one would shadow another.
        let value_columns = self
            .prediction
            .iter()
            .flat_map(|p| std::iter::once(&p.column).chain(&p.probability))
            .chain(self.target.iter().map(|t| &t.column));
        let value_columns: Vec<&String> = value_columns.collect();
        for (key, column) in [("id", &self.id), ("timestamp", &self.timestamp)] {
            if let Some(c) = column
                && (seen.contains(c.as_str()) || value_columns.contains(&c))
            {
                problems.push(Problem::new(
                    format!("{at}.{key}"),
                    format!("column {c:?} is also declared as a feature, prediction or target"),
                ));
            }
        }
        if self.id.is_some() && self.id == self.timestamp {
            problems.push(Problem::new(
                format!("{at}.timestamp"),
                "`id` and `timestamp` must be different columns",
            ));
        }
        if let Some(p) = &self.prediction
            && let Some(probability) = &p.probability
            && seen.contains(probability.as_str())
        {
            problems.push(Problem::new(
                format!("{at}.prediction.probability"),
                format!("column {probability:?} is also declared as a feature"),
            ));
        }
        if let (Some(p), Some(t)) = (&self.prediction, &self.target)
            && p.column == t.column
        {
            problems.push(Problem::new(
                format!("{at}.target.column"),
                "prediction and target must be different columns",
            ));
        }
        if let Some(t) = &self.target {
            for (key, set) in [
                ("probability", t.probability.is_some()),
                ("positive_class", t.positive_class.is_some()),
            ] {
                if set {
                    problems.push(Problem::new(
                        format!("{at}.target.{key}"),
                        format!("`{key}` belongs under `prediction`"),
                    ));
                }
            }
        }
        if let Some(p) = &self.prediction {
            if p.probability.as_deref() == Some(p.column.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.prediction.probability"),
                    "the probability column must differ from the prediction column",
                ));
            }
            if p.probability.is_some() && p.kind == ColumnKind::Numerical {
                problems.push(Problem::new(
                    format!("{at}.prediction.probability"),
                    "a probability column needs a categorical (classification) prediction",
                ));
            }
        }
        if self.label_join.max_pending == 0 {
            problems.push(Problem::new(
                format!("{at}.label_join.max_pending"),
                "must be >= 1",
            ));
        }
        let ph = self.concept.page_hinkley;
        if !(self.concept.threshold > 0.0 && self.concept.threshold < 1.0) {
            problems.push(Problem::new(
                format!("{at}.concept.threshold"),
                format!("must be in (0, 1), got {}", self.concept.threshold),
            ));
        }
        if !(ph.delta >= 0.0 && ph.delta.is_finite() && ph.lambda > 0.0 && ph.lambda.is_finite()) {
            problems.push(Problem::new(
                format!("{at}.concept.page_hinkley"),
                format!(
                    "need delta >= 0 and lambda > 0, got delta {} and lambda {}",
                    ph.delta, ph.lambda
                ),
            ));
        }
        self.alerting.validate(&format!("{at}.alerting"), problems);
        if let Some(latency) = &self.latency {
            latency.validate(at, self, problems);
        }
        super::shards::validate(self, at, problems);
        match self.window.resolve() {
            Ok(window) => {
                self.window
                    .validate(at, window, self.timestamp.is_some(), problems);
            }
            Err(message) => problems.push(Problem::new(format!("{at}.window"), message)),
        }
    }
}

impl AlertingSpec {
    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        for (key, value) in [("severity", &self.severity), ("team", &self.team)] {
            if value.trim().is_empty() {
                problems.push(Problem::new(format!("{at}.{key}"), "must not be empty"));
            }
        }
        for key in self.labels.keys() {
            let valid = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !key.starts_with("__");
            if !valid || RESERVED_ALERT_LABELS.contains(&key.as_str()) {
                problems.push(Problem::new(
                    format!("{at}.labels.{key}"),
                    format!(
                        "{key:?} cannot be a label name: use [a-zA-Z_][a-zA-Z0-9_]*, not {}",
                        RESERVED_ALERT_LABELS.join(", ")
                    ),
                ));
            }
        }
        if self.for_windows == 0 {
            problems.push(Problem::new(format!("{at}.for_windows"), "must be >= 1"));
        }
        let slow = self.slow_prediction_seconds;
        if !(slow > 0.0 && slow.is_finite()) {
            problems.push(Problem::new(
                format!("{at}.slow_prediction_seconds"),
                format!("must be a number of seconds > 0, got {slow}"),
            ));
        }
        for (key, value) in [
            ("quality_tolerance", self.quality_tolerance),
            ("max_missing_ratio", self.max_missing_ratio),
            ("max_new_category_ratio", self.max_new_category_ratio),
            ("max_slow_prediction_ratio", self.max_slow_prediction_ratio),
        ] {
            if !(0.0..=1.0).contains(&value) {
                problems.push(Problem::new(
                    format!("{at}.{key}"),
                    format!("must be in [0, 1], got {value}"),
                ));
            }
        }
    }
}

/// Label names `alerting.labels` may not use: they are set by driftscope or Prometheus.
pub const RESERVED_ALERT_LABELS: &[&str] = &[
    "monitor",
    "severity",
    "team",
    "feature",
    "column",
    "test",
    "job",
    "instance",
    "alertname",
];

fn check_overrides(
    path: &str,
    kind: ColumnKind,
    test: Option<TestKind>,
    threshold: Option<Threshold>,
    bins: Option<usize>,
    min_effect: Option<f64>,
    problems: &mut Vec<Problem>,
) {
    if let Some(e) = min_effect
        && !(e >= 0.0 && e.is_finite())
    {
        problems.push(Problem::new(
            format!("{path}.min_effect"),
            format!("must be >= 0, got {e}"),
        ));
    }
    if let Some(test) = test
        && test.numeric_only()
        && kind == ColumnKind::Categorical
    {
        problems.push(Problem::new(
            format!("{path}.test"),
            format!(
                "{} needs numeric values; use chisquare, g_test, psi, jensenshannon, \
                 hellinger, kl_div, tvd, z or fisher_exact for a categorical column",
                test.as_str()
            ),
        ));
    }
    if threshold == Some(Threshold::Auto) && test.is_some_and(TestKind::has_p_value) {
        problems.push(Problem::new(
            format!("{path}.threshold"),
            format!(
                "`auto` learns thresholds for distance tests (wasserstein, jensenshannon, psi, \
                 ed, hellinger, kl_div, tvd); {} has a p-value, so leave the threshold out",
                test.map_or("", TestKind::as_str)
            ),
        ));
    }
    if let Some(Threshold::Fixed(t)) = threshold {
        let p_test = test.is_some_and(TestKind::has_p_value);
        if !(t > 0.0 && t.is_finite()) || (p_test && t >= 1.0) {
            let range = if p_test {
                "in (0, 1) for a p-value test"
            } else {
                "> 0"
            };
            problems.push(Problem::new(
                format!("{path}.threshold"),
                format!("must be {range}, got {t}"),
            ));
        }
    }
    if let Some(b) = bins
        && !(2..=MAX_BINS).contains(&b)
    {
        problems.push(Problem::new(
            format!("{path}.bins"),
            format!("must be between 2 and {MAX_BINS}, got {b}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Policy;
    use crate::config::load;
    use crate::config::testing::{MINIMAL, write};
    use crate::stats::multipletests::Correction;
    use std::collections::HashMap;

    #[test]
    fn validation_collects_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let text = "monitors:\n  - name: 'bad name'\n    reference: r.txt\n    features:\n      \
                    categorical: [{name: c, test: ks}, c]\n    drift_share: 2\n    \
                    window: {duration: 5m, step: 10}\n";
        let s = load(&write(dir.path(), text), Some(HashMap::new())).unwrap();
        let paths: Vec<String> = s.validate().into_iter().map(|p| p.path).collect();
        for expected in [
            "monitors[0].name",
            "monitors[0].reference",
            "monitors[0].features.categorical[0].test",
            "monitors[0].features.categorical[1]",
            "monitors[0].drift_share",
            "monitors[0].window",
        ] {
            assert!(
                paths.iter().any(|p| p == expected),
                "missing {expected} in {paths:?}"
            );
        }
    }

    #[test]
    fn alarm_settings_parse_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let text = MINIMAL.replace("numerical: [a, ", "numerical: [{name: a, min_effect: -1}, ")
            + "    policy: evidently\n    correction: bh\n    alpha: 1.5\n";
        let s = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap();
        let m = &s.monitors[0];
        assert_eq!(
            (m.policy, m.correction),
            (Policy::Evidently, Some(Correction::Bh))
        );
        let paths: Vec<String> = s.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "monitors[0].alpha",
                "monitors[0].features.numerical[0].min_effect"
            ]
        );
        let defaults = load(&write(dir.path(), MINIMAL), Some(HashMap::new())).unwrap();
        let m = &defaults.monitors[0];
        assert_eq!(
            (m.policy, m.alpha, m.correction),
            (Policy::Calibrated, 0.05, None)
        );
    }

    #[test]
    fn id_and_timestamp_may_not_shadow_other_columns() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{MINIMAL}    id: a\n    timestamp: a\n");
        let s = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap();
        let paths: Vec<String> = s.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "monitors[0].id",
                "monitors[0].timestamp",
                "monitors[0].timestamp"
            ]
        );
    }
}
