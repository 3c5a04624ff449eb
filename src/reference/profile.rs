//! A reference column summarised once at start-up for fast window comparisons.

use std::collections::HashMap;

use crate::config::ColumnKind;
use crate::reference::table::Cells;
use crate::stats::{binning, wasserstein};

/// A reference column summarised for fast window comparisons.
#[derive(Debug, Clone)]
pub enum ReferenceProfile {
    /// Numeric column.
    Numeric(NumericProfile),
    /// Categorical column.
    Categorical(CategoricalProfile),
}

/// Numeric reference summary.
#[derive(Debug, Clone)]
pub struct NumericProfile {
    /// Non-missing values, ascending.
    pub sorted: Vec<f64>,
    /// Population standard deviation (normalises Wasserstein).
    pub std: f64,
    /// Inner quantile bin edges for PSI / Jensen–Shannon.
    pub edges: Vec<f64>,
    /// Reference counts in the bins defined by `edges`.
    pub bin_counts: Vec<u64>,
}

/// Categorical reference summary.
#[derive(Debug, Clone)]
pub struct CategoricalProfile {
    /// Categories, sorted; a window value's code is its index here (or higher for new ones).
    pub categories: Vec<String>,
    /// Reference count per category.
    pub counts: Vec<u64>,
    /// Category text → code, for ingest.
    pub index: HashMap<String, u32>,
}

impl ReferenceProfile {
    /// Profiles a reference column's non-missing cells; numeric columns get `bins` quantile
    /// bins for PSI / Jensen–Shannon.
    pub fn from_cells(cells: Cells, bins: usize) -> Self {
        match cells {
            Cells::Numeric(cells) => {
                let mut values: Vec<f64> = cells.into_iter().flatten().collect();
                values.sort_unstable_by(f64::total_cmp);
                let edges = binning::quantile_edges(&values, bins);
                let bin_counts = binning::bin_counts(&edges, &values);
                let std = wasserstein::population_std(&values);
                ReferenceProfile::Numeric(NumericProfile {
                    sorted: values,
                    std,
                    edges,
                    bin_counts,
                })
            }
            Cells::Categorical(cells) => {
                let mut counted: HashMap<String, u64> = HashMap::new();
                for v in cells.into_iter().flatten() {
                    *counted.entry(v).or_default() += 1;
                }
                let mut pairs: Vec<(String, u64)> = counted.into_iter().collect();
                pairs.sort_unstable();
                let index = pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (c, _))| (c.clone(), i as u32))
                    .collect();
                let (categories, counts) = pairs.into_iter().unzip();
                ReferenceProfile::Categorical(CategoricalProfile {
                    categories,
                    counts,
                    index,
                })
            }
        }
    }

    /// Non-missing reference values.
    pub fn rows(&self) -> usize {
        match self {
            ReferenceProfile::Numeric(p) => p.sorted.len(),
            ReferenceProfile::Categorical(p) => p.counts.iter().sum::<u64>() as usize,
        }
    }

    /// Numerical or categorical.
    pub fn kind(&self) -> ColumnKind {
        match self {
            ReferenceProfile::Numeric(_) => ColumnKind::Numerical,
            ReferenceProfile::Categorical(_) => ColumnKind::Categorical,
        }
    }

    /// Distinct non-missing values (the default test depends on it).
    pub fn distinct(&self) -> usize {
        match self {
            ReferenceProfile::Numeric(p) => {
                1 + p.sorted.windows(2).filter(|w| w[0] != w[1]).count()
            }
            ReferenceProfile::Categorical(p) => p.categories.len(),
        }
    }
}
