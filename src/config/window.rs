//! `monitors[i].window`: the keys as written, and the [`Window`] they resolve to.

use std::time::Duration;

use serde::Deserialize;

use super::Problem;
use super::duration::{de_optional_duration, parse_duration};
pub use crate::stats::finebins::DEFAULT_FINE_BINS;

/// Window definition as written in the file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Count-based window size.
    #[serde(default)]
    pub rows: Option<usize>,
    /// Time-based window length, e.g. `5m`.
    #[serde(default)]
    pub duration: Option<String>,
    /// Sliding step: rows for count windows, a duration for time windows. Absent = tumbling.
    #[serde(default)]
    pub step: Option<StepSpec>,
    /// Windows with fewer rows publish no verdict.
    #[serde(default = "default_min_rows")]
    pub min_rows: usize,
    /// Cap on rows held by a time window; further rows are dropped and counted. Time windows
    /// only (a count window holds exactly `rows`). Default [`DEFAULT_MAX_ROWS`].
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Event time: rows stamped more than this ahead of the server clock are dropped (reason
    /// `future`) so they cannot move the window. Default 5 minutes.
    #[serde(default, deserialize_with = "de_optional_duration")]
    pub max_future_skew: Option<Duration>,
    /// Event time: a time window stays open this long after its end for late rows. Default 0.
    #[serde(default, deserialize_with = "de_optional_duration")]
    pub allowed_lateness: Option<Duration>,
    /// `exact` keeps a window's rows; `binned` (time windows) counts them over fine bins
    /// anchored on the reference, so memory does not grow with rows (see `window::panes`).
    #[serde(default)]
    pub summary: Summary,
    /// Binned windows: fine bins per numeric column. Default [`DEFAULT_FINE_BINS`].
    #[serde(default)]
    pub fine_bins: Option<usize>,
}

/// What a window keeps of its rows.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Summary {
    /// The rows themselves: every test is exact; memory grows with rows (up to `max_rows`).
    #[default]
    Exact,
    /// Counts per pane of one step over reference-anchored bins: memory independent of rows.
    Binned,
}

/// Panes a binned window may have (`duration / step`): each holds `fine_bins` counters per
/// numeric column.
pub const MAX_PANES_PER_WINDOW: u64 = 2016;

/// Range of `fine_bins`.
pub const FINE_BINS_RANGE: std::ops::RangeInclusive<usize> = 16..=65_536;

fn default_min_rows() -> usize {
    1
}

/// Rows a time window holds at most unless `max_rows` says otherwise; also the largest count
/// window (`rows`), so no config can ask for unbounded memory.
pub const DEFAULT_MAX_ROWS: usize = 1_000_000;

/// Largest `max_rows` of a time window.
pub const MAX_WINDOW_ROWS: usize = 10_000_000;

/// Evaluations per window length at most (`rows / step`, `duration / step`): every step
/// re-tests the whole window, so a tiny step multiplies the cost of every row.
pub const MAX_STEPS_PER_WINDOW: u64 = 100;

/// Default `window.max_future_skew`.
pub const DEFAULT_MAX_FUTURE_SKEW: Duration = Duration::from_secs(300);

impl WindowSpec {
    /// Rows a time window holds at most.
    pub fn max_rows(&self) -> usize {
        self.max_rows.unwrap_or(DEFAULT_MAX_ROWS)
    }

    /// Seconds an event-time row may be ahead of the server clock.
    pub fn max_future_skew(&self) -> f64 {
        self.max_future_skew
            .unwrap_or(DEFAULT_MAX_FUTURE_SKEW)
            .as_secs_f64()
    }

    /// Fine bins per numeric column of a binned window.
    pub fn fine_bins(&self) -> usize {
        self.fine_bins.unwrap_or(DEFAULT_FINE_BINS)
    }

    /// Seconds a time window waits past its end for late rows.
    pub fn allowed_lateness(&self) -> f64 {
        self.allowed_lateness.unwrap_or_default().as_secs_f64()
    }
}

/// A sliding step: a row count or a duration text.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StepSpec {
    /// Step in rows.
    Rows(usize),
    /// Step as a duration, e.g. `1m`.
    Duration(String),
}

/// The validated window, as the engine uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Window {
    /// Every `size` rows form a window.
    CountTumbling {
        /// Rows per window.
        size: usize,
    },
    /// The last `size` rows, evaluated every `step` rows.
    CountSliding {
        /// Rows per window.
        size: usize,
        /// Rows between evaluations.
        step: usize,
    },
    /// Consecutive, aligned periods of `length`.
    TimeTumbling {
        /// Period length.
        length: Duration,
    },
    /// The last `length`, evaluated every `step`.
    TimeSliding {
        /// Window length.
        length: Duration,
        /// Time between evaluations.
        step: Duration,
    },
}

impl Window {
    /// Short human description for logs and `GET /v1/monitors`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Window::CountTumbling { .. } => "count_tumbling",
            Window::CountSliding { .. } => "count_sliding",
            Window::TimeTumbling { .. } => "time_tumbling",
            Window::TimeSliding { .. } => "time_sliding",
        }
    }
}

impl WindowSpec {
    /// Turns the file's keys into a [`Window`], or explains what combination is wrong.
    pub fn resolve(&self) -> Result<Window, String> {
        let binned = self.summary == Summary::Binned;
        match (self.rows, &self.duration, &self.step) {
            (Some(_), Some(_), _) => Err("set either `rows` or `duration`, not both".into()),
            (None, None, _) => {
                Err("set `rows: N` (count window) or `duration: 5m` (time window)".into())
            }
            (Some(0), None, _) => Err("`rows` must be >= 1".into()),
            (Some(size), None, _) if size > DEFAULT_MAX_ROWS && !binned => Err(format!(
                "`rows` must be at most {DEFAULT_MAX_ROWS}, got {size}; a window's rows are held \
                 in memory (a `summary: binned` window counts them instead, up to \
                 {MAX_WINDOW_ROWS})"
            )),
            (Some(size), None, _) if size > MAX_WINDOW_ROWS => Err(format!(
                "`rows` must be at most {MAX_WINDOW_ROWS}, got {size}"
            )),
            (Some(_), None, _) if self.max_rows.is_some() => Err(
                "`max_rows` caps time windows; a count window holds exactly `rows`, so remove it"
                    .into(),
            ),
            (Some(size), None, None) => Ok(Window::CountTumbling { size }),
            (Some(size), None, Some(StepSpec::Rows(step))) => {
                if *step == 0 || *step > size {
                    Err(format!(
                        "`step` must be between 1 and rows ({size}), got {step}"
                    ))
                } else if binned && size % step != 0 {
                    Err(format!(
                        "a binned window is made of panes of one `step`, so `rows` ({size}) \
                         must be a whole number of steps ({step})"
                    ))
                } else if binned && (size / step) as u64 > MAX_PANES_PER_WINDOW {
                    Err(format!(
                        "a binned window holds at most {MAX_PANES_PER_WINDOW} panes \
                         (`rows / step`); use a longer step"
                    ))
                } else if !binned && (size / step) as u64 > MAX_STEPS_PER_WINDOW {
                    Err(format!(
                        "`step` {step} re-tests the {size}-row window every {step} rows; use a \
                         step of at least rows / {MAX_STEPS_PER_WINDOW} = {}",
                        size.div_ceil(MAX_STEPS_PER_WINDOW as usize)
                    ))
                } else if *step == size {
                    Ok(Window::CountTumbling { size })
                } else {
                    Ok(Window::CountSliding { size, step: *step })
                }
            }
            (Some(_), None, Some(StepSpec::Duration(s))) => Err(format!(
                "`step` of a count window is a row count, got {s:?}; for time steps use `duration`"
            )),
            (None, Some(length), step) => {
                let length = parse_duration(length)?;
                if !(1..=MAX_WINDOW_ROWS).contains(&self.max_rows()) {
                    return Err(format!(
                        "`max_rows` must be between 1 and {MAX_WINDOW_ROWS}, got {}",
                        self.max_rows()
                    ));
                }
                if length < Duration::from_millis(1) {
                    return Err("`duration` must be at least 1ms".into());
                }
                match step {
                    None => Ok(Window::TimeTumbling { length }),
                    Some(StepSpec::Rows(n)) => Err(format!(
                        "`step` of a time window is a duration such as \"1m\", got {n}"
                    )),
                    Some(StepSpec::Duration(s)) => {
                        let step = parse_duration(s)?;
                        if step > length {
                            Err(format!("`step` ({s}) must not exceed `duration`"))
                        } else if binned && length.as_nanos() % step.as_nanos() != 0 {
                            Err(format!(
                                "a binned window is made of panes of one `step`, so `duration` \
                                 must be a whole number of steps ({s})"
                            ))
                        } else if binned && steps_per(length, step) > MAX_PANES_PER_WINDOW {
                            Err(format!(
                                "a binned window holds at most {MAX_PANES_PER_WINDOW} panes \
                                 (`duration / step`); use a longer step"
                            ))
                        } else if !binned && steps_per(length, step) > MAX_STEPS_PER_WINDOW {
                            Err(format!(
                                "`step` ({s}) re-tests the window more than \
                                 {MAX_STEPS_PER_WINDOW} times per `duration`; use a longer step, \
                                 or `summary: binned`, whose steps cost the same for any length"
                            ))
                        } else if step == length {
                            Ok(Window::TimeTumbling { length })
                        } else {
                            Ok(Window::TimeSliding { length, step })
                        }
                    }
                }
            }
        }
    }

    /// Problems with the keys `resolve` does not look at; `window` is the resolved window.
    pub(super) fn validate(
        &self,
        at: &str,
        window: Window,
        event_time: bool,
        problems: &mut Vec<Problem>,
    ) {
        let mut problem = |key: &str, message: String| {
            problems.push(Problem::new(format!("{at}.window.{key}"), message));
        };
        if self.min_rows == 0 {
            problem("min_rows", "must be >= 1".into());
        }
        if self.summary == Summary::Binned {
            if self.max_rows.is_some() {
                problem(
                    "max_rows",
                    "caps the rows an exact window keeps; a binned window keeps counts, not \
                     rows, so remove it"
                        .into(),
                );
            }
            if !FINE_BINS_RANGE.contains(&self.fine_bins()) {
                problem(
                    "fine_bins",
                    format!(
                        "must be between {} and {}, got {}",
                        FINE_BINS_RANGE.start(),
                        FINE_BINS_RANGE.end(),
                        self.fine_bins()
                    ),
                );
            }
        } else if self.fine_bins.is_some() {
            problem(
                "fine_bins",
                "applies to `summary: binned` windows only".into(),
            );
        }
        let capacity = match window {
            Window::CountTumbling { size } | Window::CountSliding { size, .. } => size,
            Window::TimeTumbling { .. } | Window::TimeSliding { .. }
                if self.summary == Summary::Binned =>
            {
                usize::MAX
            }
            Window::TimeTumbling { .. } | Window::TimeSliding { .. } => self.max_rows(),
        };
        if self.min_rows > capacity {
            problem(
                "min_rows",
                format!(
                    "{} exceeds the rows a window can hold ({capacity}), so no window would \
                     ever get a verdict",
                    self.min_rows
                ),
            );
        }
        for (key, set) in [
            ("max_future_skew", self.max_future_skew.is_some()),
            ("allowed_lateness", self.allowed_lateness.is_some()),
        ] {
            if set && !event_time {
                problem(
                    key,
                    "applies to event time only; set the monitor's `timestamp` column or remove it"
                        .into(),
                );
            }
        }
        if let (
            Some(lateness),
            Window::TimeTumbling { length: step } | Window::TimeSliding { step, .. },
        ) = (self.allowed_lateness, window)
            && steps_per(lateness, step) > MAX_STEPS_PER_WINDOW
        {
            problem(
                "allowed_lateness",
                format!(
                    "at most {MAX_STEPS_PER_WINDOW} window steps, got {}",
                    humantime::format_duration(lateness)
                ),
            );
        }
    }
}

/// How many `step`s fit in `span`, rounded up.
fn steps_per(span: Duration, step: Duration) -> u64 {
    (span.as_nanos().div_ceil(step.as_nanos().max(1))) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use crate::config::testing::write;
    use std::collections::HashMap;

    #[test]
    fn windows_resolve() {
        let spec = |rows, duration: Option<&str>, step| WindowSpec {
            rows,
            duration: duration.map(str::to_owned),
            step,
            min_rows: 1,
            max_rows: None,
            max_future_skew: None,
            allowed_lateness: None,
            summary: Summary::Exact,
            fine_bins: None,
        };
        assert_eq!(
            spec(Some(10), None, None).resolve(),
            Ok(Window::CountTumbling { size: 10 })
        );
        assert_eq!(
            spec(None, Some("5m"), Some(StepSpec::Duration("1m".into()))).resolve(),
            Ok(Window::TimeSliding {
                length: Duration::from_secs(300),
                step: Duration::from_secs(60)
            })
        );
        assert!(
            spec(Some(10), None, Some(StepSpec::Rows(11)))
                .resolve()
                .is_err()
        );
        assert!(spec(None, Some("5 parsecs"), None).resolve().is_err());
        assert!(spec(None, None, None).resolve().is_err());
    }

    #[test]
    fn windows_that_cost_unbounded_memory_or_time_are_refused() {
        let problems = |window: &str, extra: &str| {
            let dir = tempfile::tempdir().unwrap();
            let text = format!(
                "monitors:\n  - name: m\n    reference: r.csv\n    features: {{numerical: [a]}}\n    \
                 window: {window}\n{extra}"
            );
            let s = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap();
            s.validate()
                .into_iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
        };
        let one = |window: &str, extra: &str, key: &str, words: &str| {
            let found = problems(window, extra);
            assert!(
                found
                    .iter()
                    .any(|p| p.starts_with(key) && p.contains(words)),
                "{window}: expected {key} ~ {words:?}, got {found:?}"
            );
        };
        one(
            "{rows: 1000000000}",
            "",
            "monitors[0].window",
            "at most 1000000",
        );
        one(
            "{rows: 1000, max_rows: 10}",
            "",
            "monitors[0].window",
            "count window",
        );
        one(
            "{rows: 100, min_rows: 200}",
            "",
            "monitors[0].window.min_rows",
            "exceeds",
        );
        one("{rows: 100000, step: 1}", "", "monitors[0].window", "step");
        one("{duration: 1h, step: 1s}", "", "monitors[0].window", "step");
        one(
            "{duration: 1m, max_rows: 0}",
            "",
            "monitors[0].window",
            "max_rows",
        );
        one(
            "{duration: 1m, allowed_lateness: 10s}",
            "",
            "monitors[0].window.allowed_lateness",
            "event time",
        );
        one(
            "{duration: 1m, allowed_lateness: 2h}",
            "    timestamp: ts\n",
            "monitors[0].window.allowed_lateness",
            "steps",
        );
        assert!(
            problems(
                "{duration: 1m, max_future_skew: 1m, allowed_lateness: 30s}",
                "    timestamp: ts\n"
            )
            .is_empty()
        );
        assert!(problems("{rows: 1000, step: 10}", "").is_empty());
    }
}
