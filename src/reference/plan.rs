//! Which columns of a file to monitor, and how: the type rule of `driftscope init`, also used
//! by `driftscope report` without a config. Text and true/false columns are categorical;
//! numbers are numerical unless they are whole numbers with at most [`MAX_CODE_VALUES`]
//! distinct values (codes), which are categorical. Ids and event times are recognised by name
//! (or type) and left out of the features, as are columns with a single value.

use crate::reference::table::{ColumnSummary, Storage};

/// Whole numbers with at most this many distinct values are codes (education level, marital
/// status, a class), not quantities: categorical.
pub const MAX_CODE_VALUES: usize = 30;

/// Names recognised as row ids (case-insensitive), when every value is distinct.
const ID_NAMES: &[&str] = &["id", "row_id", "request_id", "uuid"];

/// Names recognised as event times (case-insensitive).
const TIME_NAMES: &[&str] = &["timestamp", "ts", "time", "event_time", "datetime"];

/// Columns named by the user: they are never features.
#[derive(Debug, Clone, Copy, Default)]
pub struct Named<'a> {
    /// Ground-truth column.
    pub target: Option<&'a str>,
    /// Prediction column.
    pub prediction: Option<&'a str>,
    /// Probability column.
    pub probability: Option<&'a str>,
    /// Row id column (recognised when not given).
    pub id: Option<&'a str>,
    /// Event-time column (recognised when not given).
    pub timestamp: Option<&'a str>,
}

/// What was decided about each column.
#[derive(Debug, Default)]
pub struct Plan {
    /// Numerical features with the reason (a comment in `init`'s file).
    pub numerical: Vec<(String, String)>,
    /// Categorical features with the reason.
    pub categorical: Vec<(String, String)>,
    /// Columns left out, with the reason.
    pub skipped: Vec<(String, &'static str)>,
    /// Row id column.
    pub id: Option<String>,
    /// Event-time column.
    pub timestamp: Option<String>,
}

/// Sorts the columns into features (by the type rule), id, timestamp and skipped ones.
pub fn plan(named: Named<'_>, columns: &[ColumnSummary], rows: usize) -> Plan {
    let mut plan = Plan {
        id: named.id.map(str::to_owned).or_else(|| {
            columns
                .iter()
                .find(|c| is_named(&c.name, ID_NAMES) && c.distinct == rows && c.nulls == 0)
                .map(|c| c.name.clone())
        }),
        timestamp: named.timestamp.map(str::to_owned).or_else(|| {
            columns
                .iter()
                .find(|c| {
                    c.storage == Storage::Temporal
                        || (is_named(&c.name, TIME_NAMES) && looks_like_time(c))
                })
                .map(|c| c.name.clone())
        }),
        ..Plan::default()
    };
    let roles = [
        named.target,
        named.prediction,
        named.probability,
        plan.id.as_deref(),
        plan.timestamp.as_deref(),
    ];
    for column in columns {
        if roles.contains(&Some(column.name.as_str())) {
            continue;
        }
        if column.distinct <= 1 {
            plan.skipped.push((
                column.name.clone(),
                "one value in the reference: nothing to compare",
            ));
            continue;
        }
        if column.storage == Storage::Temporal {
            plan.skipped.push((column.name.clone(), "a date or time"));
            continue;
        }
        let (categorical, why) = kind(column);
        let entry = (column.name.clone(), why);
        if categorical {
            plan.categorical.push(entry);
        } else {
            plan.numerical.push(entry);
        }
    }
    plan
}

/// Whether a column is categorical under the stated rule, and why.
pub fn kind(column: &ColumnSummary) -> (bool, String) {
    let distinct = column.distinct;
    match column.storage {
        Storage::Text => (true, format!("text, {distinct} categories")),
        Storage::Boolean => (true, "true/false".into()),
        Storage::Number if column.whole_numbers && distinct <= MAX_CODE_VALUES => {
            (true, format!("{distinct} distinct whole numbers: codes"))
        }
        Storage::Number | Storage::Temporal => (false, format!("{distinct} distinct values")),
    }
}

fn is_named(name: &str, names: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    names.contains(&lower.as_str()) || (names == ID_NAMES && lower.ends_with("_id"))
}

/// Unix seconds or RFC 3339 text, the two forms the service reads.
fn looks_like_time(column: &ColumnSummary) -> bool {
    match (&column.storage, &column.first) {
        (Storage::Number, _) => true,
        (_, Some(text)) => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(storage: Storage, distinct: usize, whole: bool) -> ColumnSummary {
        ColumnSummary {
            name: "c".into(),
            storage,
            distinct,
            nulls: 0,
            whole_numbers: whole,
            first: None,
        }
    }

    #[test]
    fn the_type_rule_is_the_documented_one() {
        assert!(kind(&summary(Storage::Text, 500, false)).0);
        assert!(kind(&summary(Storage::Boolean, 2, false)).0);
        assert!(kind(&summary(Storage::Number, MAX_CODE_VALUES, true)).0);
        assert!(!kind(&summary(Storage::Number, MAX_CODE_VALUES + 1, true)).0);
        assert!(
            !kind(&summary(Storage::Number, 3, false)).0,
            "3 distinct floats"
        );
    }
}
