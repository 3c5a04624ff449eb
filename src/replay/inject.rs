//! `--inject SPEC`: drift added to the rows sent after row `--inject-from`, so an alert can be
//! seen to fire. Specs:
//!
//! - `COL+=X` adds X to a numeric column (`COL-=X` subtracts);
//! - `COL*=X` multiplies a numeric column by X;
//! - `COL=const:V` sets a column to V (a number when V parses as one, else text);
//! - `COL=shuffle` permutes the column's values among the injected rows (its distribution is
//!   unchanged, its relation to the other columns is broken: concept drift, not data drift);
//! - `missing:COL:P` sets a share P (0–1) of the column's values to null.
//!
//! Random choices are seeded (`--inject-seed`).

use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;

use super::rows::{Rows, Values};

/// What a spec does to its column.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Adds a number.
    Add(f64),
    /// Multiplies by a number.
    Mul(f64),
    /// Sets a number.
    Number(f64),
    /// Sets a text.
    Text(String),
    /// Sets this share of values to null.
    Missing(f64),
    /// Permutes values among the injected rows.
    Shuffle,
}

/// One parsed `--inject` spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The column it changes.
    pub column: String,
    /// What it does.
    pub op: Op,
    /// The spec as given, for messages.
    pub text: String,
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The accepted forms, appended to every parse error.
const FORMS: &str = "expected COL+=X, COL-=X, COL*=X, COL=const:V, COL=shuffle or missing:COL:P";

impl FromStr for Spec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: String| format!("bad inject spec {text:?}: {why}; {FORMS}");
        let number = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(format!("{v:?} is not a number")))
        };
        let column = |c: &str| {
            let c = c.trim();
            if c.is_empty() {
                Err(bad("no column name".into()))
            } else {
                Ok(c.to_owned())
            }
        };
        let (column, op) = if let Some(rest) = text.strip_prefix("missing:") {
            let (col, share) = rest
                .rsplit_once(':')
                .ok_or_else(|| bad("no share after the column".into()))?;
            let share = number(share)?;
            if !(0.0..=1.0).contains(&share) {
                return Err(bad(format!("share {share} is not between 0 and 1")));
            }
            (column(col)?, Op::Missing(share))
        } else if let Some((col, x)) = text.split_once("+=") {
            (column(col)?, Op::Add(number(x)?))
        } else if let Some((col, x)) = text.split_once("-=") {
            (column(col)?, Op::Add(-number(x)?))
        } else if let Some((col, x)) = text.split_once("*=") {
            (column(col)?, Op::Mul(number(x)?))
        } else if let Some((col, value)) = text.split_once('=') {
            let op = if value.trim() == "shuffle" {
                Op::Shuffle
            } else if let Some(v) = value.strip_prefix("const:") {
                match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => Op::Number(x),
                    _ => Op::Text(v.to_owned()),
                }
            } else {
                return Err(bad(format!(
                    "unknown value {value:?} (write const:{value} for a constant)"
                )));
            };
            (column(col)?, op)
        } else {
            return Err(bad("no operator".into()));
        };
        Ok(Self {
            column,
            op,
            text: text.to_owned(),
        })
    }
}

/// Applies `specs` in order to rows `targets` (indexes into `rows`), or says which spec does
/// not fit the file (unknown column, arithmetic on text).
pub fn apply(specs: &[Spec], rows: &mut Rows, targets: &[usize], seed: u64) -> Result<(), String> {
    let mut rng = Pcg64::seed_from_u64(seed);
    for spec in specs {
        let at = rows
            .position(&spec.column)
            .map_err(|e| format!("--inject {spec}: {e}"))?;
        let values = &mut rows.columns[at].values;
        match (&spec.op, &mut *values) {
            (Op::Add(x), Values::Numbers(v)) => each(v, targets, |n| *n += x),
            (Op::Mul(x), Values::Numbers(v)) => each(v, targets, |n| *n *= x),
            (Op::Add(_) | Op::Mul(_), Values::Texts(_)) => {
                return Err(format!(
                    "--inject {spec}: column {:?} is text; += -= *= need a numeric column",
                    spec.column
                ));
            }
            (Op::Number(x), Values::Numbers(v)) => set(v, targets, Some(*x)),
            (Op::Number(x), Values::Texts(v)) => {
                let mut text = String::new();
                crate::category::number_text(*x, &mut text);
                set(v, targets, Some(text));
            }
            (Op::Text(t), _) => {
                let taken = std::mem::replace(values, Values::Texts(Vec::new()));
                let mut texts = taken.into_texts();
                set(&mut texts, targets, Some(t.clone()));
                *values = Values::Texts(texts);
            }
            (Op::Missing(share), values) => {
                let mut chosen = targets.to_vec();
                let count = (share * targets.len() as f64).round() as usize;
                let (chosen, _) = chosen.partial_shuffle(&mut rng, count);
                match values {
                    Values::Numbers(v) => set(v, chosen, None),
                    Values::Texts(v) => set(v, chosen, None),
                }
            }
            (Op::Shuffle, values) => match values {
                Values::Numbers(v) => permute(v, targets, &mut rng),
                Values::Texts(v) => permute(v, targets, &mut rng),
            },
        }
    }
    Ok(())
}

fn each(values: &mut [Option<f64>], targets: &[usize], f: impl Fn(&mut f64)) {
    for &i in targets {
        if let Some(x) = &mut values[i] {
            f(x);
        }
    }
}

fn set<T: Clone>(values: &mut [Option<T>], targets: &[usize], value: Option<T>) {
    for &i in targets {
        values[i] = value.clone();
    }
}

fn permute<T>(values: &mut [Option<T>], targets: &[usize], rng: &mut Pcg64) {
    let mut taken: Vec<Option<T>> = targets.iter().map(|&i| values[i].take()).collect();
    taken.shuffle(rng);
    for (&i, v) in targets.iter().zip(taken) {
        values[i] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows::Column;
    use super::*;

    fn spec(text: &str) -> Op {
        text.parse::<Spec>().unwrap().op
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(spec("AGEP+=10"), Op::Add(10.0));
        assert_eq!(spec("AGEP-=2.5"), Op::Add(-2.5));
        assert_eq!(spec("AGEP*=1.1"), Op::Mul(1.1));
        assert_eq!(spec("SCHL=const:24"), Op::Number(24.0));
        assert_eq!(spec("SEX=const:other"), Op::Text("other".into()));
        assert_eq!(spec("SEX=shuffle"), Op::Shuffle);
        assert_eq!(spec("missing:DEAR:0.3"), Op::Missing(0.3));
        let s: Spec = "missing:a:b:1".parse().unwrap();
        assert_eq!((s.column.as_str(), s.op), ("a:b", Op::Missing(1.0)));
        assert_eq!(" AGEP +=1".parse::<Spec>().unwrap().column, "AGEP");
    }

    #[test]
    fn names_the_bad_spec_and_why() {
        for (text, why) in [
            ("AGEP+=ten", r#""ten" is not a number"#),
            ("AGEP*=inf", r#""inf" is not a number"#),
            ("+=1", "no column name"),
            ("missing:DEAR:1.5", "share 1.5 is not between 0 and 1"),
            ("missing:DEAR", "no share after the column"),
            (
                "SEX=2",
                r#"unknown value "2" (write const:2 for a constant)"#,
            ),
            ("AGEP", "no operator"),
        ] {
            let err = text.parse::<Spec>().unwrap_err();
            assert!(
                err.starts_with(&format!("bad inject spec {text:?}: {why}; expected COL+=X")),
                "{err}"
            );
        }
    }

    fn table() -> Rows {
        let n = |v: &[f64]| Values::Numbers(v.iter().copied().map(Some).collect());
        let t = |v: &[&str]| Values::Texts(v.iter().map(|s| Some(s.to_string())).collect());
        Rows {
            columns: vec![
                Column {
                    name: "x".into(),
                    values: n(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                },
                Column {
                    name: "c".into(),
                    values: t(&["a", "b", "c", "d", "e", "f"]),
                },
            ],
            len: 6,
        }
    }

    fn run(specs: &[&str], targets: &[usize]) -> Result<Rows, String> {
        let specs: Vec<Spec> = specs.iter().map(|s| s.parse().unwrap()).collect();
        let mut rows = table();
        apply(&specs, &mut rows, targets, 1)?;
        Ok(rows)
    }

    fn numbers(rows: &Rows, at: usize) -> Vec<Option<f64>> {
        match &rows.columns[at].values {
            Values::Numbers(v) => v.clone(),
            Values::Texts(_) => panic!("text"),
        }
    }

    fn texts(rows: &Rows, at: usize) -> Vec<Option<String>> {
        rows.columns[at].values.clone().into_texts()
    }

    #[test]
    fn transforms_only_the_target_rows() {
        let r = run(&["x+=10", "x*=2"], &[3, 4, 5]).unwrap();
        let want = [1.0, 2.0, 3.0, 28.0, 30.0, 32.0].map(Some);
        assert_eq!(numbers(&r, 0), want);
        let r = run(&["c=const:z", "x=const:7"], &[4, 5]).unwrap();
        assert_eq!(
            texts(&r, 1)[3..],
            [Some("d".into()), Some("z".into()), Some("z".into())]
        );
        assert_eq!(numbers(&r, 0)[3..], [Some(4.0), Some(7.0), Some(7.0)]);
        // A text constant turns a numeric column into text; a number into a text column too.
        let r = run(&["x=const:n/a", "c=const:2"], &[5]).unwrap();
        assert_eq!(texts(&r, 0)[4..], [Some("5".into()), Some("n/a".into())]);
        assert_eq!(texts(&r, 1)[5], Some("2".into()));
    }

    #[test]
    fn missing_nulls_an_exact_seeded_share_and_shuffle_permutes() {
        let targets = [2, 3, 4, 5];
        let r = run(&["missing:c:0.5"], &targets).unwrap();
        let c = texts(&r, 1);
        assert_eq!(c[..2], [Some("a".into()), Some("b".into())]);
        assert_eq!(c.iter().filter(|v| v.is_none()).count(), 2);
        assert_eq!(r, run(&["missing:c:0.5"], &targets).unwrap(), "seeded");
        let r = run(&["x=shuffle"], &targets).unwrap();
        let x = numbers(&r, 0);
        assert_eq!(x[..2], [Some(1.0), Some(2.0)]);
        let mut rest: Vec<f64> = x[2..].iter().flatten().copied().collect();
        rest.sort_by(f64::total_cmp);
        assert_eq!(rest, [3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn refuses_specs_that_do_not_fit_the_file() {
        let err = run(&["y+=1"], &[0]).unwrap_err();
        assert_eq!(err, r#"--inject y+=1: no column "y"; columns: x, c"#);
        let err = run(&["c*=2"], &[0]).unwrap_err();
        assert!(err.contains(r#"column "c" is text"#), "{err}");
    }
}
