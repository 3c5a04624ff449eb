//! `test:` of a column: the drift tests, with the names configs, metric labels and JSON use
//! (Evidently's, including its aliases).

use serde::Deserialize;

/// The statistical tests a column can be checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestKind {
    /// Two-sample Kolmogorov–Smirnov (numeric), drift when p < threshold.
    Ks,
    /// Population Stability Index, drift when PSI ≥ threshold.
    Psi,
    /// Chi-square homogeneity test, drift when p < threshold.
    Chisquare,
    /// Wasserstein-1 normed by the reference std (numeric), drift when ≥ threshold.
    Wasserstein,
    /// Jensen–Shannon distance, drift when ≥ threshold.
    Jensenshannon,
    /// Pooled two-proportion z-test (binary columns), drift when p < threshold.
    Z,
    /// Two-sample Anderson–Darling (numeric, midrank), drift when p < threshold.
    Anderson,
    /// Two-sample Cramér–von Mises (numeric), drift when p < threshold.
    #[serde(rename = "cramer_von_mises")]
    CramerVonMises,
    /// Two-sided Mann–Whitney U (numeric), drift when p < threshold.
    Mannw,
    /// Welch's t-test (numeric), drift when p < threshold.
    #[serde(rename = "t_test")]
    TTest,
    /// Energy distance (numeric), drift when ≥ threshold.
    #[serde(alias = "energy_distance")]
    Ed,
    /// Epps–Singleton (numeric), drift when p < threshold.
    #[serde(alias = "epps_singleton")]
    Es,
    /// G-test of homogeneity, drift when p < threshold.
    #[serde(rename = "g_test")]
    GTest,
    /// Fisher's exact test (binary columns), drift when p < threshold.
    #[serde(rename = "fisher_exact")]
    FisherExact,
    /// Hellinger distance, drift when ≥ threshold.
    Hellinger,
    /// Kullback–Leibler divergence KL(reference ‖ current), drift when ≥ threshold.
    #[serde(rename = "kl_div")]
    KlDiv,
    /// Total variation distance, drift when ≥ threshold (`TVD` is Evidently's spelling).
    #[serde(alias = "TVD")]
    Tvd,
}

impl TestKind {
    /// Name used in configs, metric labels and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Ks => "ks",
            TestKind::Psi => "psi",
            TestKind::Chisquare => "chisquare",
            TestKind::Wasserstein => "wasserstein",
            TestKind::Jensenshannon => "jensenshannon",
            TestKind::Z => "z",
            TestKind::Anderson => "anderson",
            TestKind::CramerVonMises => "cramer_von_mises",
            TestKind::Mannw => "mannw",
            TestKind::TTest => "t_test",
            TestKind::Ed => "ed",
            TestKind::Es => "es",
            TestKind::GTest => "g_test",
            TestKind::FisherExact => "fisher_exact",
            TestKind::Hellinger => "hellinger",
            TestKind::KlDiv => "kl_div",
            TestKind::Tvd => "tvd",
        }
    }

    /// True when the test yields a p-value (drift when p < threshold); false for distances
    /// (drift when score ≥ threshold).
    pub fn has_p_value(self) -> bool {
        !matches!(
            self,
            TestKind::Psi
                | TestKind::Wasserstein
                | TestKind::Jensenshannon
                | TestKind::Ed
                | TestKind::Hellinger
                | TestKind::KlDiv
                | TestKind::Tvd
        )
    }

    /// The threshold used when the config names none (Evidently's defaults).
    pub fn default_threshold(self) -> f64 {
        if self.has_p_value() { 0.05 } else { 0.1 }
    }

    /// Whether the test is defined for numeric values only.
    pub fn numeric_only(self) -> bool {
        matches!(
            self,
            TestKind::Ks
                | TestKind::Wasserstein
                | TestKind::Anderson
                | TestKind::CramerVonMises
                | TestKind::Mannw
                | TestKind::TTest
                | TestKind::Ed
                | TestKind::Es
        )
    }

    /// Whether the test compares the share of one value, so needs a binary column.
    pub fn binary_only(self) -> bool {
        matches!(self, TestKind::Z | TestKind::FisherExact)
    }
}
