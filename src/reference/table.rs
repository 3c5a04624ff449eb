//! Reads reference files (CSV or Parquet) with polars and hands plain vectors to the rest of the
//! service.
//!
//! This is the only module that touches polars: the reference is read once at start-up, turned
//! into [`Cells`] and profiled (see [`crate::reference::profile`]); no polars type reaches the
//! ingest or evaluation path.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::category;
use crate::config::ColumnKind;

/// A reference file loaded into memory.
pub struct ReferenceTable {
    frame: DataFrame,
    /// Shown in error messages.
    path: String,
    /// SHA-256 of the file's bytes (hex).
    pub fingerprint: String,
}

/// SHA-256 of the file at `path` (hex): identifies the reference's content, so state coded
/// against one file is never reused with another.
pub fn fingerprint(path: &Path) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    use std::io::Read;
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| format!("cannot read: {e}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    let mut hex = String::with_capacity(64);
    for byte in hasher.finalize() {
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

impl ReferenceTable {
    /// Reads `path`; the format follows the extension (`.csv`, `.parquet`, `.pq`).
    pub fn read(path: &Path) -> Result<Self, String> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let frame = match ext {
            "csv" => CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(10_000))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish()),
            "parquet" | "pq" => {
                let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
                ParquetReader::new(file).finish()
            }
            other => {
                return Err(format!(
                    "unsupported extension {other:?}; use .csv or .parquet"
                ));
            }
        }
        .map_err(|e| format!("cannot read: {e}"))?;
        if frame.height() == 0 {
            return Err("the file has no rows".into());
        }
        Ok(Self {
            frame,
            path: path.display().to_string(),
            fingerprint: fingerprint(path)?,
        })
    }

    /// Number of rows in the file.
    pub fn rows(&self) -> usize {
        self.frame.height()
    }

    /// Whether the file has a column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.frame.column(name).is_ok()
    }

    /// Extracts `name` as `kind` row by row (`None` = missing or not finite), or says why it
    /// cannot (missing column, text in a numeric column, ...). Rows stay aligned across
    /// columns (prediction, target, probability); profiling skips the missing ones.
    pub fn cells(&self, name: &str, kind: ColumnKind) -> Result<Cells, String> {
        let column = self.frame.column(name).map_err(|_| {
            let mut names: Vec<&str> = self
                .frame
                .get_column_names()
                .into_iter()
                .map(|n| n.as_str())
                .collect();
            names.truncate(30);
            format!(
                "column {name:?} not found in {}; columns: {}",
                self.path,
                names.join(", ")
            )
        })?;
        let dtype = column.dtype().clone();
        let floats = || -> Result<Vec<Option<f64>>, String> {
            let cast = column
                .cast(&DataType::Float64)
                .map_err(|e| format!("column {name:?}: {e}"))?;
            let floats = cast.f64().map_err(|e| format!("column {name:?}: {e}"))?;
            Ok(floats.iter().map(|v| v.filter(|x| x.is_finite())).collect())
        };
        match kind {
            ColumnKind::Numerical => {
                if !(dtype.is_primitive_numeric() || dtype.is_bool()) {
                    return Err(format!(
                        "column {name:?} in {} has type {dtype}, but numerical columns need \
                         numbers; declare it as categorical instead",
                        self.path
                    ));
                }
                Ok(Cells::Numeric(floats()?))
            }
            ColumnKind::Categorical if dtype.is_primitive_numeric() => {
                let mut text = String::new();
                let cells = floats()?
                    .into_iter()
                    .map(|v| {
                        v.map(|x| {
                            category::number_text(x, &mut text);
                            text.clone()
                        })
                    })
                    .collect();
                Ok(Cells::Categorical(cells))
            }
            ColumnKind::Categorical => {
                let strings = column
                    .cast(&DataType::String)
                    .map_err(|e| format!("column {name:?} cannot be read as text: {e}"))?;
                let strings = strings.str().map_err(|e| format!("column {name:?}: {e}"))?;
                Ok(Cells::Categorical(
                    strings.iter().map(|v| v.map(str::to_owned)).collect(),
                ))
            }
        }
    }
}

/// How a column is stored in the file, as `driftscope init` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Integers or floats.
    Number,
    /// `true` / `false`.
    Boolean,
    /// Dates and times.
    Temporal,
    /// Text and everything else.
    Text,
}

/// One column in brief, for `driftscope init`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// How the file stores it.
    pub storage: Storage,
    /// Distinct non-null values.
    pub distinct: usize,
    /// Null entries.
    pub nulls: usize,
    /// Numbers only: every value is a whole number.
    pub whole_numbers: bool,
    /// The first non-null value as text (recognises timestamps stored as text).
    pub first: Option<String>,
}

impl ReferenceTable {
    /// Every column in brief, in file order.
    pub fn summaries(&self) -> Result<Vec<ColumnSummary>, String> {
        self.frame
            .columns()
            .iter()
            .map(|column| {
                let name = column.name().to_string();
                let fail = |e: PolarsError| format!("column {name:?}: {e}");
                let dtype = column.dtype();
                let storage = if dtype.is_bool() {
                    Storage::Boolean
                } else if dtype.is_primitive_numeric() {
                    Storage::Number
                } else if dtype.is_temporal() {
                    Storage::Temporal
                } else {
                    Storage::Text
                };
                let whole_numbers = storage == Storage::Number && {
                    let floats = column.cast(&DataType::Float64).map_err(fail)?;
                    floats
                        .f64()
                        .map_err(fail)?
                        .iter()
                        .flatten()
                        .all(|x| x.fract() == 0.0)
                };
                let text = column.cast(&DataType::String).map_err(fail)?;
                let first = text
                    .str()
                    .map_err(fail)?
                    .iter()
                    .flatten()
                    .next()
                    .map(str::to_owned);
                Ok(ColumnSummary {
                    distinct: column.drop_nulls().n_unique().map_err(fail)?,
                    nulls: column.null_count(),
                    name,
                    storage,
                    whole_numbers,
                    first,
                })
            })
            .collect()
    }
}

/// A reference column row by row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cells {
    /// Numbers; `None` = null or not finite.
    Numeric(Vec<Option<f64>>),
    /// Canonical category texts (see [`crate::category`]); `None` = null.
    Categorical(Vec<Option<String>>),
}

impl Cells {
    /// Numbers, none missing.
    pub fn numbers(values: Vec<f64>) -> Self {
        Cells::Numeric(values.into_iter().map(Some).collect())
    }

    /// Category texts, none missing.
    pub fn texts(values: Vec<String>) -> Self {
        Cells::Categorical(values.into_iter().map(Some).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> (tempfile::TempDir, ReferenceTable) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, text).unwrap();
        let table = ReferenceTable::read(&path).unwrap();
        (dir, table)
    }

    #[test]
    fn reads_numeric_and_categorical_columns_with_missing_values() {
        let (_dir, t) = csv("x,c,n\n1.5,a,21\n,b,21.0\n3,,7\n");
        assert_eq!(t.rows(), 3);
        assert_eq!(
            t.cells("x", ColumnKind::Numerical).unwrap(),
            Cells::Numeric(vec![Some(1.5), None, Some(3.0)])
        );
        assert_eq!(
            t.cells("c", ColumnKind::Categorical).unwrap(),
            Cells::Categorical(vec![Some("a".into()), Some("b".into()), None])
        );
        // Numeric codes become the same text JSON ingest produces: 21.0 and 21 are one category.
        assert_eq!(
            t.cells("n", ColumnKind::Categorical).unwrap(),
            Cells::texts(vec!["21".into(), "21".into(), "7".into()])
        );
    }

    #[test]
    fn explains_missing_and_mistyped_columns() {
        let (_dir, t) = csv("x,c\n1,a\n");
        let err = t.cells("AGEX", ColumnKind::Numerical).unwrap_err();
        assert!(
            err.contains("\"AGEX\" not found in ") && err.contains("r.csv; columns: x, c"),
            "{err}"
        );
        let err = t.cells("c", ColumnKind::Numerical).unwrap_err();
        assert!(err.contains("declare it as categorical"), "{err}");
    }

    #[test]
    fn reads_the_bundled_parquet_reference() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("reference_data/employment_ma_2015.parquet");
        let t = ReferenceTable::read(&path).unwrap();
        assert_eq!(t.rows(), 68_785);
        let Cells::Categorical(cells) = t.cells("SCHL", ColumnKind::Categorical).unwrap() else {
            panic!("SCHL should be categorical")
        };
        let values = cells.iter().flatten().count();
        assert_eq!((values, cells.len() - values), (68_785, 0));
    }
}
