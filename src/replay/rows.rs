//! The rows of a file as the service should receive them: every column, typed as the file
//! stores it (numbers as JSON numbers, everything else as text), nulls as JSON null; and the
//! order they are sent in (file order, or a seeded shuffle within groups).

use std::collections::HashMap;
use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;
use serde_json::{Map, Value};

use crate::category;
use crate::config::ColumnKind;
use crate::reference::table::{Cells, ReferenceTable, Storage};

/// Grouping column used by `--shuffle-seed` when `--shuffle-within` is not given, if present.
pub const DEFAULT_SHUFFLE_WITHIN: &str = "year";

/// One column's values, row by row (`None` = null).
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Sent as JSON numbers (whole numbers without a fraction).
    Numbers(Vec<Option<f64>>),
    /// Sent as JSON strings.
    Texts(Vec<Option<String>>),
}

impl Values {
    /// The value of row `i` as JSON.
    pub fn json(&self, i: usize) -> Value {
        match self {
            Values::Numbers(v) => v[i].map_or(Value::Null, number),
            Values::Texts(v) => v[i].clone().map_or(Value::Null, Value::String),
        }
    }

    /// The values as text (numbers in their canonical category text).
    pub fn into_texts(self) -> Vec<Option<String>> {
        match self {
            Values::Texts(v) => v,
            Values::Numbers(v) => {
                let mut text = String::new();
                v.into_iter()
                    .map(|x| {
                        x.map(|x| {
                            category::number_text(x, &mut text);
                            text.clone()
                        })
                    })
                    .collect()
            }
        }
    }
}

/// A whole number as a JSON integer (ids stay `17`, not `17.0`), anything else as a float.
fn number(x: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.fract() == 0.0 && x.abs() < EXACT {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name in the file, and key in the JSON rows.
    pub name: String,
    /// Its values.
    pub values: Values,
}

/// Every column of a file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// The columns.
    pub columns: Vec<Column>,
    /// Number of rows.
    pub len: usize,
}

impl Rows {
    /// Reads a CSV or Parquet file with the reference reader.
    pub fn read(path: &Path) -> Result<Self, String> {
        let table = ReferenceTable::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut columns = Vec::new();
        for summary in table.summaries()? {
            let kind = if summary.storage == Storage::Number {
                ColumnKind::Numerical
            } else {
                ColumnKind::Categorical
            };
            let values = match table.cells(&summary.name, kind)? {
                Cells::Numeric(v) => Values::Numbers(v),
                Cells::Categorical(v) => Values::Texts(v),
            };
            columns.push(Column {
                name: summary.name,
                values,
            });
        }
        Ok(Self {
            columns,
            len: table.rows(),
        })
    }

    /// The column called `name`, or an error listing the file's columns.
    pub fn column(&self, name: &str) -> Result<&Column, String> {
        let at = self.position(name)?;
        Ok(&self.columns[at])
    }

    /// Index of the column called `name`, or an error listing the file's columns.
    pub fn position(&self, name: &str) -> Result<usize, String> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
                format!("no column {name:?}; columns: {}", names.join(", "))
            })
    }

    /// Row `i` as a JSON object with every column.
    pub fn json_row(&self, i: usize) -> Map<String, Value> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.values.json(i)))
            .collect()
    }
}

/// The order rows are sent in: file order without `seed`; with it, a seeded shuffle within
/// each value of `within` (groups kept in the order they first appear), or of the whole file
/// when `within` is `None`.
pub fn order(rows: &Rows, within: Option<&str>, seed: Option<u64>) -> Result<Vec<usize>, String> {
    let mut order: Vec<usize> = (0..rows.len).collect();
    let Some(seed) = seed else {
        return Ok(order);
    };
    let mut rng = Pcg64::seed_from_u64(seed);
    let Some(within) = within else {
        order.shuffle(&mut rng);
        return Ok(order);
    };
    let column = &rows.column(within)?.values;
    let mut rank: HashMap<String, usize> = HashMap::new();
    let group: Vec<usize> = (0..rows.len)
        .map(|i| {
            let key = column.json(i).to_string();
            let next = rank.len();
            *rank.entry(key).or_insert(next)
        })
        .collect();
    order.sort_by_key(|&i| group[i]); // stable: file order within a group
    let mut start = 0;
    while start < order.len() {
        let g = group[order[start]];
        let end = start + order[start..].partition_point(|&i| group[i] == g);
        order[start..end].shuffle(&mut rng);
        start = end;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(columns: Vec<(&str, Values)>) -> Rows {
        let len = match &columns[0].1 {
            Values::Numbers(v) => v.len(),
            Values::Texts(v) => v.len(),
        };
        Rows {
            columns: columns
                .into_iter()
                .map(|(name, values)| Column {
                    name: name.into(),
                    values,
                })
                .collect(),
            len,
        }
    }

    #[test]
    fn reads_every_column_typed_with_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "id,x,c\n1,1.5,a\n2,,b\n3,3,\n").unwrap();
        let r = Rows::read(&path).unwrap();
        assert_eq!(r.len, 3);
        let row = |i| Value::Object(r.json_row(i)).to_string();
        assert_eq!(row(0), r#"{"c":"a","id":1,"x":1.5}"#);
        assert_eq!(row(1), r#"{"c":"b","id":2,"x":null}"#);
        assert_eq!(row(2), r#"{"c":null,"id":3,"x":3}"#);
        let err = r.column("y").unwrap_err();
        assert_eq!(err, r#"no column "y"; columns: id, x, c"#);
    }

    #[test]
    fn shuffles_within_groups_reproducibly() {
        let year = Values::Numbers(
            [2016.0, 2016.0, 2016.0, 2017.0, 2017.0, 2017.0, 2017.0]
                .map(Some)
                .to_vec(),
        );
        let r = rows(vec![("year", year)]);
        assert_eq!(
            order(&r, Some("year"), None).unwrap(),
            [0, 1, 2, 3, 4, 5, 6]
        );
        let a = order(&r, Some("year"), Some(7)).unwrap();
        assert_eq!(a, order(&r, Some("year"), Some(7)).unwrap());
        let (first, second) = a.split_at(3);
        let mut first = first.to_vec();
        let mut second = second.to_vec();
        first.sort_unstable();
        second.sort_unstable();
        assert_eq!((first, second), (vec![0, 1, 2], vec![3, 4, 5, 6]));
        let whole = order(&r, None, Some(7)).unwrap();
        assert_ne!(whole, (0..7).collect::<Vec<_>>());
        assert!(order(&r, Some("month"), Some(7)).is_err());
    }
}
