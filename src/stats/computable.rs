//! Why a test had no answer for a window although the window held values: some tests are
//! undefined on some samples (scipy raises or returns NaN there). Such a window gets no score
//! and no verdict, and says why, instead of a made-up p-value.

use serde::{Deserialize, Serialize};

/// The reason a test could not be computed on a window's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotComputable {
    /// A side has fewer values than the test needs (Welch t: 2 each, Cramér–von Mises: 2 each,
    /// Epps–Singleton: 5 each, Anderson–Darling: 4 in all).
    TooFewValues,
    /// Every value of both sides is the same (Anderson–Darling has nothing to rank).
    SingleValue,
    /// Both sides have zero variance (Welch t divides by their standard error; Epps–Singleton's
    /// covariance is 0).
    ZeroVariance,
    /// The pooled interquartile range is 0 (Epps–Singleton scales by it).
    ZeroIqr,
    /// The statistic came out infinite or NaN.
    NonFinite,
}

/// A p-value test's result, or why it has none.
pub type Outcome<T> = Result<T, NotComputable>;

/// Statistic and p-value of a two-sample test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The test's statistic, as scipy reports it.
    pub statistic: f64,
    /// Its p-value.
    pub p_value: f64,
}
