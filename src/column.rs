//! The one type for a column of values from ingest to the checks, and the sentinels that mark
//! missing and invalid values in it (written by ingest, read by the checks).

use serde::{Deserialize, Serialize};

/// Code of a missing (absent or `null`) categorical value.
pub const MISSING_CODE: u32 = u32::MAX;

/// Code of an invalid categorical value (an object or array where a category belongs).
pub const INVALID_CODE: u32 = u32::MAX - 1;

/// Value of an invalid numeric value (text, boolean, object or array). Missing numeric values
/// are NaN; JSON cannot carry infinities, so neither sentinel collides with data.
pub const INVALID_NUMBER: f64 = f64::NEG_INFINITY;

/// Values of one column for a run of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnData {
    /// NaN = missing, [`INVALID_NUMBER`] = invalid.
    Numeric(Vec<f64>),
    /// Category codes (a reference category's index, or higher for new categories);
    /// [`MISSING_CODE`] = missing, [`INVALID_CODE`] = invalid.
    Categorical(Vec<u32>),
}

impl ColumnData {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Categorical(v) => v.len(),
        }
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
