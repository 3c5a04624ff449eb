//! Property tests ("fuzzing") of everything that parses untrusted input: the row parser
//! (`ingest::rows::Schema::parse`, with rows or columns, `Schema::parse_ndjson` and `Schema::parse_arrow`), the label parser (`ingest::labels::parse_body`) and the config loader
//! (`config::load` + `Settings::validate` + `service::build_service`).
//!
//! Each property runs a fixed number of generated cases (2 000, or `PROPTEST_CASES`) with
//! proptest and prints `fuzz: <parser>: <N> cases, 0 crashes` when it passes; a panic or a
//! broken property fails the test with proptest's shrunk input. See the lines with
//! `cargo test --test fuzz_parsers -- --nocapture`; run longer with
//! `PROPTEST_CASES=100000 cargo test --release --test fuzz_parsers`.
//!
//! Where cheap, a property compares the parser with an oracle: `serde_json::Value` for the
//! body's shape, and the generator's own count of missing and invalid values for well-formed
//! batches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use driftscope::check::{ColumnCheck, Role};
use driftscope::column::{ColumnData, INVALID_CODE, INVALID_NUMBER, MISSING_CODE};
use driftscope::ingest::error::{BatchError, BatchErrorKind};
use driftscope::ingest::rows::{ParsedBatch, ParsedExtras, Schema};
use driftscope::reference::table::Cells;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

/// Runs `property` on `cases` values of `strategy` and prints the count; fails with the
/// shrunk counterexample when a case panics or returns an error.
fn fuzz<S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut runner = TestRunner::new(Config {
        cases,
        // Counterexamples are printed in the failure; no regression files in the repository.
        failure_persistence: None,
        ..Config::default()
    });
    let executed = AtomicU64::new(0);
    let result = runner.run(&strategy, |value| {
        executed.fetch_add(1, Ordering::Relaxed);
        property(value)
    });
    if let Err(e) = result {
        panic!(
            "fuzz: {name}: failed after {} cases: {e}",
            executed.load(Ordering::Relaxed)
        );
    }
    println!(
        "fuzz: {name}: {} cases, 0 crashes",
        executed.load(Ordering::Relaxed)
    );
}

// ------------------------------------------------------------------------------ schemas

/// Reference categories of column `c`; `true` is one so JSON booleans hit a known category.
/// Label items per request in these tests: the server's default `max_rows_per_request`, far
/// above what the generators produce, so the bound never trips here (tests/hardening.rs
/// covers it).
const MAX_LABELS: usize = 100_000;

const CATEGORIES: [&str; 4] = ["21", "a", "b", "true"];

/// Numeric column `x` and categorical column `c`, optionally an event-time column `ts` and a
/// row id `id`, as a monitor would build them.
fn schema(timestamp: bool, id: bool) -> Schema {
    let x = ColumnCheck::new(
        "x",
        Role::Feature,
        Cells::numbers(vec![1.0, 2.0, 3.0, 4.0]),
        None,
        None,
        10,
    )
    .unwrap();
    let c = ColumnCheck::new(
        "c",
        Role::Feature,
        Cells::texts(CATEGORIES.iter().map(|s| (*s).to_owned()).collect()),
        None,
        None,
        10,
    )
    .unwrap();
    let checks = [x, c];
    Schema::new(
        checks.iter().map(|c| (c.name.as_str(), &*c.reference)),
        timestamp.then_some("ts"),
        id.then_some("id"),
    )
}

// ------------------------------------------------------------------------------ generators

/// Number literals, valid and not: huge, tiny, negative zero, leading zeros, NaN-like words.
const ODD_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "1.7976931348623157e309",
    "123456789012345678901234567890",
    "-9223372036854775809",
    "18446744073709551616",
    "-0",
    "-0.0",
    "0.0000000000000000000000000001",
    "1E+2",
    "4.9e-324",
    "NaN",
    "Infinity",
    "-Infinity",
    "01",
    "1.",
    ".5",
    "-",
    "+1",
    "0x10",
];

/// Strings that look like numbers or special values, and awkward unicode.
const ODD_STRINGS: &[&str] = &[
    "\"NaN\"",
    "\"Infinity\"",
    "\"1e400\"",
    "\"\"",
    "\"\\u0000\"",
    "\"a\\u0000b\"",
    "\"\\ud800\"",
    "\"\\udfff\\ud800\"",
    "\"\\uD83D\\uDE00\"",
    "\"\u{1F600}\u{202E}\u{FEFF}\"",
    "\"2026-11-21T12:00:00Z\"",
    "\"21\"",
    "\"true\"",
];

/// Object keys: the schema's fields and the body keys most of the time, anything otherwise.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["x", "c", "id", "ts", "rows", "labels", "target", ""])
            .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// JSON-like text: mostly valid JSON of every type and depth up to 6, with odd number
/// literals (some invalid) and strings with NUL, lone surrogates and other unicode.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| format!("{x:e}")),
        prop::sample::select(ODD_NUMBERS).prop_map(str::to_owned),
        prop::sample::select(ODD_STRINGS).prop_map(str::to_owned),
        any::<String>().prop_map(|s| json_string(&s)),
        prop::sample::select(CATEGORIES.to_vec()).prop_map(json_string),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..8).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", json_string(k)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// How a generated body wraps its items.
#[derive(Debug, Clone, Copy)]
enum Wrap {
    /// `[item, ...]`
    Bare,
    /// `{"<key>": [item, ...]}`
    Keyed,
    /// The text of one JSON value, no list around it.
    Raw,
}

/// A body for a parser whose list key is `list_key`: a list of JSON-like items, bare or keyed,
/// or a single JSON-like value.
fn body(list_key: &'static str) -> impl Strategy<Value = (Wrap, String)> {
    prop_oneof![
        2 => prop::collection::vec(json_text(), 0..12)
            .prop_map(|items| (Wrap::Bare, format!("[{}]", items.join(",")))),
        2 => prop::collection::vec(json_text(), 0..12)
            .prop_map(move |items| (Wrap::Keyed, format!("{{\"{list_key}\":[{}]}}", items.join(",")))),
        1 => json_text().prop_map(|t| (Wrap::Raw, t)),
    ]
}

/// `depth` nested arrays or objects around `null`, placed at the top, inside the list or in
/// a row's values; returns the depth too.
fn deep_nesting() -> impl Strategy<Value = (usize, String)> {
    (1usize..4000, 0u8..3, any::<bool>()).prop_map(|(depth, place, objects)| {
        let (open, close) = if objects {
            ("{\"x\":", "}")
        } else {
            ("[", "]")
        };
        let nested = format!("{}null{}", open.repeat(depth), close.repeat(depth));
        let text = match place {
            0 => nested,
            1 => format!("[{nested}]"),
            _ => format!("{{\"rows\":[{{\"x\":{nested},\"c\":{nested},\"id\":{nested}}}]}}"),
        };
        (depth, text)
    })
}

// ------------------------------------------------------------------------------ invariants

/// Every column and the optional ids/timestamps have one entry per row.
fn check_shape(batch: &ParsedBatch) -> Result<(), TestCaseError> {
    prop_assert!(batch.rows > 0, "an accepted batch has rows");
    prop_assert_eq!(batch.extras.len(), batch.columns.len());
    for (column, ParsedExtras { novel, invalid }) in batch.columns.iter().zip(&batch.extras) {
        match column {
            ColumnData::Numeric(values) => {
                prop_assert_eq!(values.len(), batch.rows);
                let sentinels = values.iter().filter(|v| **v == INVALID_NUMBER).count();
                prop_assert!(sentinels as u64 <= *invalid);
                prop_assert!(novel.is_empty(), "numeric columns have no new categories");
            }
            ColumnData::Categorical(codes) => {
                prop_assert_eq!(codes.len(), batch.rows);
                let sentinels = codes.iter().filter(|c| **c == INVALID_CODE).count();
                prop_assert!(sentinels as u64 <= *invalid);
                for (row, _) in novel {
                    prop_assert!(*row < batch.rows);
                }
            }
        }
    }
    if let Some(t) = &batch.timestamps {
        prop_assert_eq!(t.len(), batch.rows);
        prop_assert!(t.iter().all(|s| s.is_finite()), "timestamps: {:?}", t);
    }
    if let Some(ids) = &batch.ids {
        prop_assert_eq!(ids.len(), batch.rows);
    }
    Ok(())
}

fn check_error(e: &BatchError) -> Result<(), TestCaseError> {
    prop_assert!(
        !e.message.trim().is_empty(),
        "empty message for {:?}",
        e.kind
    );
    Ok(())
}

/// The row parser on `text`, checked against `serde_json::Value` where the answer is known
/// (row counts and errors exactly only for a schema without timestamps, whose validity the
/// oracle does not model).
fn check_rows(schema: &Schema, timed: bool, wrap: Wrap, text: &str) -> Result<(), TestCaseError> {
    let parsed = schema.parse(text.as_bytes());
    match &parsed {
        Ok(batch) => check_shape(batch)?,
        Err(e) => check_error(e)?,
    }
    let value = serde_json::from_str::<Value>(text);
    match (&value, &parsed) {
        // Numbers beyond f64 (`1e400`) and lone UTF-16 surrogates (`"\ud800"`) match the JSON
        // grammar but `Value` cannot hold them; the row parser decodes only the values it
        // needs (in a schema column they refuse the batch, in a field it skips they pass), so
        // for them either answer is right.
        (Err(e), _)
            if ["number out of range", "surrogate", "hex escape"]
                .iter()
                .any(|m| e.to_string().contains(m)) => {}
        // Not JSON for serde_json is never a batch.
        (Err(_), Ok(batch)) => prop_assert!(false, "accepted invalid JSON as {} rows", batch.rows),
        // JSON for serde_json is never "malformed" for the row parser.
        (Ok(_), Err(e)) if e.kind == BatchErrorKind::MalformedJson => {
            prop_assert!(false, "valid JSON called malformed: {}", e.message)
        }
        _ => {}
    }
    // For the lists this test wraps itself (one "rows" key): rows are counted exactly.
    let items = match (wrap, &value) {
        _ if timed => None,
        (Wrap::Bare, Ok(Value::Array(items))) => Some(items),
        (Wrap::Keyed, Ok(Value::Object(map))) => map.get("rows").and_then(Value::as_array),
        _ => None,
    };
    if let Some(items) = items {
        let objects = items.iter().take_while(|i| i.is_object()).count();
        match &parsed {
            Ok(batch) => prop_assert_eq!(batch.rows, items.len()),
            Err(e) if items.is_empty() => prop_assert_eq!(e.kind, BatchErrorKind::EmptyBatch),
            Err(e) if objects < items.len() => {
                prop_assert_eq!(e.kind, BatchErrorKind::RowNotObject);
                let at = format!("rows[{objects}]");
                prop_assert!(e.message.contains(&at), "{} lacks {}", e.message, at);
            }
            Err(e) => prop_assert!(false, "refused {} row objects: {:?}", items.len(), e),
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------ row parser

#[test]
fn rows_arbitrary_bytes() {
    let plain = schema(false, true);
    let timed = schema(true, true);
    let bytes = prop::collection::vec(any::<u8>(), 0..2048);
    fuzz("rows (arbitrary bytes)", bytes, |b| {
        for s in [&plain, &timed] {
            match s.parse(&b) {
                Ok(batch) => check_shape(&batch)?,
                Err(e) => check_error(&e)?,
            }
        }
        Ok(())
    });
}

#[test]
fn rows_arbitrary_json() {
    let plain = schema(false, true);
    let timed = schema(true, true);
    fuzz("rows (arbitrary JSON)", body("rows"), |(wrap, text)| {
        check_rows(&plain, false, wrap, &text)?;
        check_rows(&timed, true, wrap, &text)
    });
}

#[test]
fn rows_deep_nesting() {
    let s = schema(true, true);
    fuzz(
        "rows (nesting up to 4000 levels)",
        deep_nesting(),
        |(depth, text)| {
            match s.parse(text.as_bytes()) {
                Ok(batch) => check_shape(&batch)?,
                // serde_json stops at 128 levels: deeper bodies are refused, never a stack overflow.
                Err(e) => check_error(&e)?,
            }
            if depth > 130 {
                prop_assert!(s.parse(text.as_bytes()).is_err());
            }
            Ok(())
        },
    );
}

/// One generated value of the numeric column `x`.
#[derive(Debug, Clone)]
enum NumCell {
    Absent,
    Null,
    Number(f64),
    Text(String),
    Bool(bool),
    Array,
    Object,
}

/// One generated value of the categorical column `c`.
#[derive(Debug, Clone)]
enum CatCell {
    Absent,
    Null,
    /// A reference category, as text.
    Known(&'static str),
    /// `21` or `21.0`: the reference category "21" given as a number.
    KnownNumber(bool),
    /// `true`: the reference category "true".
    KnownBool,
    /// Text the reference does not have.
    Novel(String),
    Array,
    Object,
}

/// One generated row id.
#[derive(Debug, Clone)]
enum IdCell {
    Absent,
    Null,
    Text(String),
    Integer(i64),
    /// Objects, arrays and booleans are counted as invalid ids.
    Invalid(&'static str),
}

fn num_cell() -> impl Strategy<Value = NumCell> {
    prop_oneof![
        1 => Just(NumCell::Absent),
        1 => Just(NumCell::Null),
        3 => any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(NumCell::Number),
        1 => any::<String>().prop_map(NumCell::Text),
        1 => any::<bool>().prop_map(NumCell::Bool),
        1 => Just(NumCell::Array),
        1 => Just(NumCell::Object),
    ]
}

fn cat_cell() -> impl Strategy<Value = CatCell> {
    prop_oneof![
        1 => Just(CatCell::Absent),
        1 => Just(CatCell::Null),
        3 => prop::sample::select(CATEGORIES.to_vec()).prop_map(CatCell::Known),
        1 => any::<bool>().prop_map(CatCell::KnownNumber),
        1 => Just(CatCell::KnownBool),
        2 => any::<String>()
            .prop_filter("not a reference category", |s| !CATEGORIES.contains(&s.as_str()))
            .prop_map(CatCell::Novel),
        1 => Just(CatCell::Array),
        1 => Just(CatCell::Object),
    ]
}

fn id_cell() -> impl Strategy<Value = IdCell> {
    prop_oneof![
        Just(IdCell::Absent),
        Just(IdCell::Null),
        any::<String>().prop_map(IdCell::Text),
        any::<i64>().prop_map(IdCell::Integer),
        prop::sample::select(vec!["{}", "[1]", "true", "{\"a\": [null]}"])
            .prop_map(IdCell::Invalid),
    ]
}

/// A row as JSON text, fields in a shuffled order with an unknown field mixed in.
fn row_text(num: &NumCell, cat: &CatCell, id: &IdCell, ts: f64, order: u8) -> String {
    format!("{{{}}}", row_fields(num, cat, id, ts, order).join(","))
}

/// A row's fields as `"name":value` texts, in a shuffled order.
fn row_fields(num: &NumCell, cat: &CatCell, id: &IdCell, ts: f64, order: u8) -> Vec<String> {
    let mut fields = Vec::new();
    match num {
        NumCell::Absent => {}
        NumCell::Null => fields.push("\"x\":null".to_owned()),
        NumCell::Number(v) => fields.push(format!("\"x\":{v:e}")),
        NumCell::Text(s) => fields.push(format!("\"x\":{}", json_string(s))),
        NumCell::Bool(b) => fields.push(format!("\"x\":{b}")),
        NumCell::Array => fields.push("\"x\":[1,[2,{\"y\":3}]]".to_owned()),
        NumCell::Object => fields.push("\"x\":{\"v\":1}".to_owned()),
    }
    match cat {
        CatCell::Absent => {}
        CatCell::Null => fields.push("\"c\":null".to_owned()),
        CatCell::Known(s) => fields.push(format!("\"c\":{}", json_string(s))),
        CatCell::KnownNumber(float) => {
            fields.push(if *float { "\"c\":21.0" } else { "\"c\":21" }.to_owned())
        }
        CatCell::KnownBool => fields.push("\"c\":true".to_owned()),
        CatCell::Novel(s) => fields.push(format!("\"c\":{}", json_string(s))),
        CatCell::Array => fields.push("\"c\":[\"a\"]".to_owned()),
        CatCell::Object => fields.push("\"c\":{\"a\":\"b\"}".to_owned()),
    }
    match id {
        IdCell::Absent => {}
        IdCell::Null => fields.push("\"id\":null".to_owned()),
        IdCell::Text(s) => fields.push(format!("\"id\":{}", json_string(s))),
        IdCell::Integer(n) => fields.push(format!("\"id\":{n}")),
        IdCell::Invalid(t) => fields.push(format!("\"id\":{t}")),
    }
    fields.push(format!("\"ts\":{ts}"));
    fields.push("\"unknown\":{\"deep\":[1,2,\"x\"]}".to_owned());
    let k = usize::from(order) % fields.len();
    fields.rotate_left(k);
    fields
}

type Row = (NumCell, CatCell, IdCell, u8);

fn rows() -> impl Strategy<Value = (Vec<Row>, bool, Option<usize>)> {
    (
        prop::collection::vec((num_cell(), cat_cell(), id_cell(), any::<u8>()), 1..120),
        any::<bool>(),
        prop::option::weighted(0.2, any::<prop::sample::Index>()),
    )
        .prop_map(|(rows, keyed, drop)| {
            let drop = drop.map(|i| i.index(rows.len()));
            (rows, keyed, drop)
        })
}

#[test]
fn rows_well_formed_batches_keep_their_counts() {
    let s = schema(true, true);
    fuzz(
        "rows (well-formed batches)",
        rows(),
        |(rows, keyed, drop_ts)| {
            let texts: Vec<String> = rows
                .iter()
                .enumerate()
                .map(|(i, (n, c, id, order))| {
                    let text = row_text(n, c, id, 1_700_000_000.0 + i as f64, *order);
                    if drop_ts == Some(i) {
                        // Remove this row's timestamp: the batch must be refused, naming it.
                        text.replace(&format!(",\"ts\":{}", 1_700_000_000.0 + i as f64), "")
                            .replace(&format!("\"ts\":{},", 1_700_000_000.0 + i as f64), "")
                    } else {
                        text
                    }
                })
                .collect();
            let list = format!("[{}]", texts.join(","));
            let text = if keyed {
                format!("{{\"rows\":{list}}}")
            } else {
                list
            };
            let parsed = s.parse(text.as_bytes());
            let ndjson = s.parse_ndjson(texts.join("\n").as_bytes());
            if let Some(i) = drop_ts {
                let e = parsed.expect_err("a row without its timestamp");
                prop_assert_eq!(e.kind, BatchErrorKind::InvalidTimestamp);
                let needle = format!("rows[{i}] has no timestamp");
                prop_assert!(e.message.contains(&needle), "{}", e.message);
                let e = ndjson.expect_err("a line without its timestamp");
                let needle = format!("line {}: {needle}", i + 1);
                prop_assert!(e.message.starts_with(&needle), "{}", e.message);
                return Ok(());
            }
            let batch = parsed.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            check_shape(&batch)?;
            // The same rows as NDJSON and as columns give the same batch.
            let ndjson = ndjson.map_err(|e| TestCaseError::fail(format!("NDJSON: {e:?}")))?;
            prop_assert!(same_batch(&batch, &ndjson), "NDJSON: {:?}", ndjson);
            let columns = s
                .parse(as_columns(&rows, rows[0].3).as_bytes())
                .map_err(|e| TestCaseError::fail(format!("columns: {e:?}")))?;
            prop_assert!(same_batch(&batch, &columns), "columns: {:?}", columns);
            prop_assert_eq!(batch.rows, rows.len());
            let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();

            let (ColumnData::Numeric(values), ParsedExtras { invalid, .. }) =
                (&batch.columns[0], &batch.extras[0])
            else {
                return Err(TestCaseError::fail("x is numeric"));
            };
            let want_missing = count(&|r| matches!(r.0, NumCell::Absent | NumCell::Null));
            let want_invalid =
                rows.len() - want_missing - count(&|r| matches!(r.0, NumCell::Number(_)));
            prop_assert_eq!(values.iter().filter(|v| v.is_nan()).count(), want_missing);
            prop_assert_eq!(*invalid as usize, want_invalid);
            prop_assert_eq!(
                values.iter().filter(|v| **v == INVALID_NUMBER).count(),
                want_invalid
            );
            for ((n, ..), v) in rows.iter().zip(values) {
                if let NumCell::Number(x) = n {
                    // serde_json's own reading of the literal (it may round the last bit).
                    let want: f64 = serde_json::from_str(&format!("{x:e}")).unwrap();
                    prop_assert_eq!(want, *v);
                }
            }

            let (ColumnData::Categorical(codes), ParsedExtras { novel, invalid }) =
                (&batch.columns[1], &batch.extras[1])
            else {
                return Err(TestCaseError::fail("c is categorical"));
            };
            let want_missing = count(&|r| matches!(r.1, CatCell::Absent | CatCell::Null));
            let want_novel = count(&|r| matches!(r.1, CatCell::Novel(_)));
            let want_invalid = count(&|r| matches!(r.1, CatCell::Array | CatCell::Object));
            prop_assert_eq!(novel.len(), want_novel);
            prop_assert_eq!(*invalid as usize, want_invalid);
            // New categories wait as MISSING_CODE until the monitor codes them.
            prop_assert_eq!(
                codes.iter().filter(|c| **c == MISSING_CODE).count(),
                want_missing + want_novel
            );
            prop_assert_eq!(
                codes.iter().filter(|c| **c == INVALID_CODE).count(),
                want_invalid
            );
            for ((_, c, ..), code) in rows.iter().zip(codes) {
                let want = match c {
                    CatCell::Known(s) => CATEGORIES.iter().position(|k| k == s),
                    CatCell::KnownNumber(_) => Some(0),
                    CatCell::KnownBool => Some(3),
                    _ => None,
                };
                if let Some(want) = want {
                    prop_assert_eq!(*code as usize, want);
                }
            }

            let ids = batch.ids.as_ref().expect("the schema has ids");
            let want_invalid = count(&|r| matches!(r.2, IdCell::Invalid(_)));
            prop_assert_eq!(batch.invalid_ids as usize, want_invalid);
            for ((_, _, id, _), got) in rows.iter().zip(ids) {
                let want = match id {
                    IdCell::Text(s) => Some(s.clone()),
                    IdCell::Integer(n) => Some(n.to_string()),
                    _ => None,
                };
                prop_assert_eq!(&want, got);
            }
            Ok(())
        },
    );
}

/// Equal batches, numbers compared bit for bit (NaN is missing).
fn same_batch(a: &ParsedBatch, b: &ParsedBatch) -> bool {
    let key = |batch: &ParsedBatch| {
        let mut batch = batch.clone();
        let mut bits = Vec::new();
        for column in &mut batch.columns {
            if let ColumnData::Numeric(values) = column {
                bits.push(values.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
                values.clear();
            }
        }
        (batch, bits)
    };
    key(a) == key(b)
}

/// Rows as `{"columns": {...}}`, the values' texts as in the rows (not re-printed, which could
/// change a number's last bit): one array per field, `null` where a row lacks the field; the
/// column order rotated by `order`.
fn as_columns(rows: &[Row], order: u8) -> String {
    let mut names = ["x", "c", "id", "ts", "unknown"];
    let k = usize::from(order) % names.len();
    names.rotate_left(k);
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for (i, (n, c, id, o)) in rows.iter().enumerate() {
        let fields = row_fields(n, c, id, 1_700_000_000.0 + i as f64, *o);
        for (name, column) in names.iter().zip(&mut columns) {
            let prefix = format!("\"{name}\":");
            let value = fields.iter().find_map(|f| f.strip_prefix(&prefix));
            column.push(value.unwrap_or("null").to_owned());
        }
    }
    let fields: Vec<String> = names
        .iter()
        .zip(&columns)
        .map(|(name, values)| format!("\"{name}\":[{}]", values.join(",")))
        .collect();
    format!("{{\"columns\":{{{}}}}}", fields.join(","))
}

/// NDJSON lines of any JSON (and blank lines): never a panic; with every line JSON, rows are
/// counted exactly and the first non-object line is named.
#[test]
fn ndjson_arbitrary_lines() {
    let plain = schema(false, true);
    let timed = schema(true, true);
    let line = prop_oneof![
        6 => json_text(),
        1 => Just(String::new()),
        1 => Just(" \t\r".to_owned()),
    ];
    let lines = prop::collection::vec(line, 0..12);
    fuzz("ndjson (arbitrary lines)", lines, |lines| {
        let text = lines.join("\n");
        for s in [&plain, &timed] {
            match s.parse_ndjson(text.as_bytes()) {
                Ok(batch) => check_shape(&batch)?,
                Err(e) => check_error(&e)?,
            }
        }
        let values: Vec<(usize, Result<Value, _>)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.as_bytes().trim_ascii().is_empty())
            .map(|(i, l)| (i + 1, serde_json::from_str::<Value>(l)))
            .collect();
        if values.iter().any(|(_, v)| v.is_err()) {
            return Ok(());
        }
        let parsed = plain.parse_ndjson(text.as_bytes());
        match values
            .iter()
            .find(|(_, v)| !v.as_ref().unwrap().is_object())
        {
            Some((line, _)) => {
                let e = parsed.expect_err("a line that is not an object");
                prop_assert_eq!(e.kind, BatchErrorKind::RowNotObject);
                let needle = format!("line {line}: ");
                prop_assert!(e.message.starts_with(&needle), "{}", e.message);
            }
            None if values.is_empty() => {
                prop_assert_eq!(parsed.map_err(|e| e.kind), Err(BatchErrorKind::EmptyBatch));
            }
            None => {
                let batch = parsed.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(batch.rows, values.len());
            }
        }
        Ok(())
    });
}

#[test]
fn ndjson_and_columns_arbitrary_bytes() {
    let plain = schema(false, true);
    let timed = schema(true, true);
    let bytes = prop::collection::vec(any::<u8>(), 0..2048);
    fuzz("ndjson and columns (arbitrary bytes)", bytes, |b| {
        let mut columns = b"{\"columns\":".to_vec();
        columns.extend_from_slice(&b);
        for s in [&plain, &timed] {
            for parsed in [s.parse_ndjson(&b), s.parse(&columns)] {
                match parsed {
                    Ok(batch) => check_shape(&batch)?,
                    Err(e) => check_error(&e)?,
                }
            }
        }
        Ok(())
    });
}

/// `{"columns": {...}}` with arrays of any JSON (sometimes not arrays): never a panic; with
/// arrays only, the batch has their length when the known ones agree, else a 422 naming them.
#[test]
fn columns_arbitrary_arrays() {
    let plain = schema(false, true);
    let timed = schema(true, true);
    let column = (
        prop::sample::select(vec!["x", "c", "id", "ts", "other"]),
        prop::collection::vec(json_text(), 0..6),
        prop::bool::weighted(0.1),
    );
    let body = prop::collection::vec(column, 0..5);
    fuzz("columns (arbitrary arrays)", body, |columns| {
        let fields: Vec<String> = columns
            .iter()
            .map(|(name, values, raw)| {
                let value = match (raw, values.first()) {
                    (true, Some(v)) => v.clone(),
                    _ => format!("[{}]", values.join(",")),
                };
                format!("\"{name}\":{value}")
            })
            .collect();
        let text = format!("{{\"columns\":{{{}}}}}", fields.join(","));
        for s in [&plain, &timed] {
            match s.parse(text.as_bytes()) {
                Ok(batch) => check_shape(&batch)?,
                Err(e) => check_error(&e)?,
            }
        }
        // The exact answer for the schema without timestamps, when serde_json reads every
        // value, every column is an array and no known column repeats.
        let known: Vec<(&str, usize)> = columns
            .iter()
            .filter(|(name, ..)| ["x", "c", "id"].contains(name))
            .map(|(name, values, _)| (*name, values.len()))
            .collect();
        let repeated = (1..known.len()).any(|i| known[..i].iter().any(|k| k.0 == known[i].0));
        let readable = serde_json::from_str::<Value>(&text).is_ok();
        if repeated || !readable || columns.iter().any(|(_, v, raw)| *raw && !v.is_empty()) {
            return Ok(());
        }
        let parsed = plain.parse(text.as_bytes());
        match known.first() {
            Some((_, n)) if known.iter().any(|k| k.1 != *n) => {
                let e = parsed.expect_err("columns of different lengths");
                prop_assert_eq!(e.kind, BatchErrorKind::InvalidBody);
                prop_assert!(e.message.contains("every column must have the same length"));
            }
            Some((_, n)) if *n > 0 => {
                let batch = parsed.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                prop_assert_eq!(batch.rows, *n);
            }
            _ => prop_assert_eq!(parsed.map_err(|e| e.kind), Err(BatchErrorKind::EmptyBatch)),
        }
        Ok(())
    });
}

// ------------------------------------------------------------------------------ label parser

/// The label parser on `text`, checked against `serde_json::Value`: the items of a list are
/// returned as they are; anything else is an error of the documented kind.
fn check_labels(wrap: Wrap, text: &str) -> Result<(), TestCaseError> {
    let parsed = driftscope::ingest::labels::parse_body(text.as_bytes(), MAX_LABELS);
    if let Err(e) = &parsed {
        check_error(e)?;
    }
    let value = serde_json::from_str::<Value>(text);
    match (&value, &parsed) {
        (Err(_), Ok(items)) => {
            prop_assert!(false, "accepted invalid JSON as {} labels", items.len())
        }
        (Ok(Value::Array(want)), Ok(items)) => prop_assert_eq!(want, items),
        (Ok(Value::Array(want)), Err(e)) => {
            prop_assert!(want.is_empty(), "refused a list: {:?}", e);
            prop_assert_eq!(e.kind, BatchErrorKind::EmptyBatch);
        }
        (Ok(Value::Object(map)), result) if matches!(wrap, Wrap::Keyed) => {
            let want = map["labels"].as_array().unwrap();
            match result {
                Ok(items) => prop_assert_eq!(want, items),
                Err(e) => prop_assert!(want.is_empty() && e.kind == BatchErrorKind::EmptyBatch),
            }
        }
        (Ok(Value::Object(_)), Ok(_)) if !matches!(wrap, Wrap::Keyed) => {
            let map = value.as_ref().unwrap().as_object().unwrap();
            prop_assert!(
                map.len() == 1 && map.contains_key("labels"),
                "accepted an object with keys {:?}",
                map.keys().collect::<Vec<_>>()
            );
        }
        (Ok(Value::Object(_)), Err(e)) => prop_assert!(matches!(
            e.kind,
            BatchErrorKind::InvalidBody | BatchErrorKind::EmptyBatch
        )),
        (Ok(_), Ok(items)) => prop_assert!(false, "a scalar gave {} labels", items.len()),
        (Ok(_), Err(e)) => prop_assert_eq!(e.kind, BatchErrorKind::InvalidBody),
        (Err(_), Err(_)) => {}
    }
    Ok(())
}

#[test]
fn labels_arbitrary_bytes() {
    let bytes = prop::collection::vec(any::<u8>(), 0..2048);
    fuzz("labels (arbitrary bytes)", bytes, |b| {
        if let Err(e) = driftscope::ingest::labels::parse_body(&b, MAX_LABELS) {
            check_error(&e)?;
        }
        Ok(())
    });
}

#[test]
fn labels_arbitrary_json() {
    fuzz("labels (arbitrary JSON)", body("labels"), |(wrap, text)| {
        check_labels(wrap, &text)
    });
}

#[test]
fn labels_deep_nesting() {
    let strategy = deep_nesting().prop_map(|(d, t)| (d, t.replace("\"rows\"", "\"labels\"")));
    fuzz(
        "labels (nesting up to 4000 levels)",
        strategy,
        |(depth, text)| {
            let parsed = driftscope::ingest::labels::parse_body(text.as_bytes(), MAX_LABELS);
            if let Err(e) = &parsed {
                check_error(e)?;
            }
            if depth > 130 {
                prop_assert!(parsed.is_err());
            }
            Ok(())
        },
    );
}

#[test]
fn labels_well_formed_lists_return_every_item() {
    let item = (
        id_cell(),
        prop_oneof![
            Just("0"),
            Just("1"),
            Just("\"yes\""),
            Just("null"),
            Just("[1]")
        ],
    );
    let strategy = (prop::collection::vec(item, 1..200), any::<bool>());
    fuzz("labels (well-formed lists)", strategy, |(items, keyed)| {
        let texts: Vec<String> = items
            .iter()
            .map(|(id, target)| {
                let id = match id {
                    IdCell::Absent => String::new(),
                    IdCell::Null => "\"id\":null,".to_owned(),
                    IdCell::Text(s) => format!("\"id\":{},", json_string(s)),
                    IdCell::Integer(n) => format!("\"id\":{n},"),
                    IdCell::Invalid(t) => format!("\"id\":{t},"),
                };
                format!("{{{id}\"target\":{target}}}")
            })
            .collect();
        let list = format!("[{}]", texts.join(","));
        let text = if keyed {
            format!("{{\"labels\":{list}}}")
        } else {
            list
        };
        let parsed = driftscope::ingest::labels::parse_body(text.as_bytes(), MAX_LABELS)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(parsed.len(), items.len());
        for ((id, _), value) in items.iter().zip(&parsed) {
            let want = match id {
                IdCell::Text(s) => Some(s.clone()),
                IdCell::Integer(n) => Some(n.to_string()),
                _ => None,
            };
            prop_assert_eq!(want, driftscope::ingest::labels::id_text(&value["id"]));
        }
        Ok(())
    });
}

// ------------------------------------------------------------------------------ config loader

/// A valid config touching most keys; mutations start from it.
fn base_config() -> Vec<String> {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference.csv");
    format!(
        "server:
  listen: 127.0.0.1:0
  max_body_bytes: 1048576
  request_timeout: 30s
monitors:
  - name: m
    reference: {}
    features:
      numerical: [x, y]
      categorical:
        - c
        - {{name: b, test: z, threshold: 0.05}}
    prediction: {{column: prediction, type: categorical}}
    target: {{column: target, type: categorical}}
    id: id
    window:
      rows: 100
      step: 50
      min_rows: 10
    drift_share: 0.5
    bins: 10
    history: 20
    label_join:
      max_pending: 1000
      max_age: 1h
    concept:
      threshold: 0.05
      page_hinkley: {{delta: 0.005, lambda: 50, min_instances: 30}}
    alerting:
      severity: warning
      team: default
      labels: {{service: fuzz}}
      for_windows: 1
      no_data_after: 1h
      quality_tolerance: 0.1",
        reference.display()
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Scalars that break types and ranges: empty, negative, huge, non-finite, YAML specials,
/// unicode and long text.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", "~", "null", "0", "-1", "1", "0.5", "1e309", "-1e309", ".nan", ".inf", "-.inf",
            "NaN", "99999999999999999999999", "true", "no", "[]", "{}", "[x, [y, [z]]]",
            "{a: {b: c}}", "\"\"", "'", "\"", "5m", "0s", "-5m", "1ns", "100000000000h",
            "ks", "psi", "chisquare", "wasserstein", "jensenshannon", "z", "categorical",
            "numerical", "0.0.0.0:80", "[::1]:0", "x", "*anchor", "&anchor x", "!!binary aGk=",
            "|", ">", "%", "@", "`", "\u{0}", "\u{FEFF}", "\u{1F600}",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,40}",
        1 => any::<String>().prop_map(|s| s.chars().take(40).collect()),
    ]
}

/// Scalars of the right YAML type for most keys but out of range or meaningless there, so
/// mutations get past deserialization into validation and the reference checks.
fn plausible_scalar() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "2",
        "3",
        "-0.5",
        "0.0",
        "1.5",
        "1000000000",
        "1e309",
        ".nan",
        "0s",
        "1ns",
        "5m",
        "0m",
        "y",
        "x",
        "c",
        "b",
        "id",
        "target",
        "prediction",
        "ks",
        "psi",
        "z",
        "chisquare",
        "wasserstein",
        "jensenshannon",
        "categorical",
        "numerical",
        "m",
        "m-2",
        "bad name",
        "''",
        "critical",
        "severity",
        "[x, x]",
        "[]",
        "{}",
    ])
    .prop_map(str::to_owned)
}

/// Keys of the config and a few that are not.
fn config_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "server",
        "listen",
        "max_body_bytes",
        "request_timeout",
        "monitors",
        "name",
        "reference",
        "features",
        "numerical",
        "categorical",
        "prediction",
        "target",
        "id",
        "timestamp",
        "window",
        "rows",
        "duration",
        "step",
        "min_rows",
        "max_rows",
        "drift_share",
        "bins",
        "history",
        "label_join",
        "max_pending",
        "max_age",
        "concept",
        "threshold",
        "page_hinkley",
        "alerting",
        "severity",
        "team",
        "labels",
        "for_windows",
        "no_data_after",
        "column",
        "type",
        "test",
        "probability",
        "positive_class",
        "windoww",
        "<<",
        "- name",
    ])
    .prop_map(str::to_owned)
}

/// One edit of the base config, at a line chosen by `Index`.
#[derive(Debug, Clone)]
enum Edit {
    Drop(prop::sample::Index),
    ReplaceValue(prop::sample::Index, String),
    Duplicate(prop::sample::Index),
    Indent(prop::sample::Index, bool),
    Insert(prop::sample::Index, usize, String, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<prop::sample::Index>;
    prop_oneof![
        2 => at().prop_map(Edit::Drop),
        4 => (at(), plausible_scalar()).prop_map(|(i, s)| Edit::ReplaceValue(i, s)),
        2 => (at(), scalar()).prop_map(|(i, s)| Edit::ReplaceValue(i, s)),
        1 => at().prop_map(Edit::Duplicate),
        1 => (at(), any::<bool>()).prop_map(|(i, deeper)| Edit::Indent(i, deeper)),
        2 => (at(), 0usize..8, config_key(), scalar()).prop_map(|(i, d, k, v)| Edit::Insert(i, d, k, v)),
    ]
}

fn apply(lines: &mut Vec<String>, edit: &Edit) {
    if lines.is_empty() {
        return;
    }
    match edit {
        Edit::Drop(i) => {
            lines.remove(i.index(lines.len()));
        }
        Edit::ReplaceValue(i, value) => {
            let i = i.index(lines.len());
            let line = &mut lines[i];
            let cut = line
                .find(": ")
                .map(|p| p + 2)
                .or_else(|| line.find("- ").map(|p| p + 2));
            if let Some(p) = cut {
                line.truncate(p);
                line.push_str(value);
            }
        }
        Edit::Duplicate(i) => {
            let i = i.index(lines.len());
            lines.insert(i, lines[i].clone());
        }
        Edit::Indent(i, deeper) => {
            let i = i.index(lines.len());
            let line = &mut lines[i];
            if *deeper {
                line.insert_str(0, "  ");
            } else if line.starts_with("  ") {
                line.replace_range(..2, "");
            }
        }
        Edit::Insert(i, depth, key, value) => {
            let i = i.index(lines.len() + 1);
            lines.insert(i, format!("{}{key}: {value}", "  ".repeat(*depth)));
        }
    }
}

/// YAML-ish text: lines of keys, list markers, flow collections and scalars at random
/// indentation, or deeply nested flow collections.
fn yamlish() -> impl Strategy<Value = String> {
    let line = (
        0usize..10,
        prop::option::of(config_key()),
        prop::sample::select(vec![
            ": ", ":", "- ", " - ", "", ": [", ": {", ": |", ": &a ", ": *a",
        ]),
        scalar(),
    )
        .prop_map(|(indent, key, sep, value)| {
            format!(
                "{}{}{sep}{value}",
                " ".repeat(indent),
                key.unwrap_or_default()
            )
        });
    prop_oneof![
        4 => prop::collection::vec(line, 0..30).prop_map(|l| l.join("\n")),
        1 => any::<String>(),
        1 => (1usize..2000, any::<bool>()).prop_map(|(depth, flow_list)| if flow_list {
            format!("monitors: {}{}", "[".repeat(depth), "]".repeat(depth))
        } else {
            format!("monitors: {}{}", "{a: ".repeat(depth), "}".repeat(depth))
        }),
    ]
}

/// How far a generated config got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// `config::load` refused it (YAML or shape).
    Load,
    /// `Settings::validate` found problems.
    Validate,
    /// `service::build_service` found problems (reference, columns, tests).
    Build,
    /// A service was built.
    Built,
}

/// Counts of [`Stage`]s, printed after a config property so a run shows that the generated
/// configs reach every stage.
#[derive(Default)]
struct Stages([AtomicU64; 4]);

impl Stages {
    fn add(&self, stage: Stage) {
        self.0[stage as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn print(&self, name: &str) {
        let [load, validate, build, built] = &self.0;
        println!(
            "fuzz: {name}: refused by load {}, by validate {}, by build {}; built {}",
            load.load(Ordering::Relaxed),
            validate.load(Ordering::Relaxed),
            build.load(Ordering::Relaxed),
            built.load(Ordering::Relaxed)
        );
    }
}

/// Loads `text` from `path` with no environment overrides, validates it and, when valid,
/// builds the service (reads the reference); every failure must explain itself.
fn check_config(path: &Path, text: &str) -> Result<Stage, TestCaseError> {
    std::fs::write(path, text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let settings = match driftscope::config::load(path, Some(HashMap::new())) {
        Ok(settings) => settings,
        Err(e) => {
            prop_assert!(!e.to_string().trim().is_empty());
            return Ok(Stage::Load);
        }
    };
    let problems = settings.validate();
    for p in &problems {
        prop_assert!(!p.message.trim().is_empty(), "empty message at {}", p.path);
    }
    if !problems.is_empty() {
        return Ok(Stage::Validate);
    }
    match driftscope::service::build_service(settings, path, None) {
        Ok(_) => Ok(Stage::Built),
        Err(problems) => {
            prop_assert!(!problems.is_empty());
            for p in &problems {
                prop_assert!(!p.message.trim().is_empty(), "empty message at {}", p.path);
            }
            Ok(Stage::Build)
        }
    }
}

fn config_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitors.yaml");
    (dir, path)
}

#[test]
fn config_base_is_valid() {
    let (_dir, path) = config_path();
    let built = check_config(&path, &base_config().join("\n"));
    assert!(matches!(built, Ok(Stage::Built)), "{built:?}");
}

#[test]
fn config_mutated() {
    let (_dir, path) = config_path();
    let strategy = prop::collection::vec(edit(), 1..4);
    let stages = Stages::default();
    let name = "config (mutated valid config)";
    fuzz(name, strategy, |edits| {
        let mut lines = base_config();
        for e in &edits {
            apply(&mut lines, e);
        }
        stages.add(check_config(&path, &lines.join("\n"))?);
        Ok(())
    });
    stages.print(name);
}

#[test]
fn config_arbitrary_yamlish() {
    let (_dir, path) = config_path();
    let stages = Stages::default();
    let name = "config (YAML-ish text)";
    fuzz(name, yamlish(), |text| {
        stages.add(check_config(&path, &text)?);
        Ok(())
    });
    stages.print(name);
}

// ------------------------------------------------------------------------------ Arrow IPC

/// A valid Arrow IPC stream of two record batches for `schema(true, true)`: `x` as Float64 with
/// nulls, `c` as dictionary-encoded text, `ts` as a millisecond timestamp, `id` as Utf8.
fn arrow_stream() -> Vec<u8> {
    use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8Array};
    use polars_arrow::datatypes::{ArrowDataType, TimeUnit};

    let batch = |offset: i64| -> Vec<Box<dyn Array>> {
        let keys = PrimitiveArray::<i32>::from(vec![Some(0), None, Some(2), Some(1)]);
        let texts = Utf8Array::<i32>::from_slice(["a", "new", "21"]).boxed();
        vec![
            Box::new(PrimitiveArray::<f64>::from(vec![
                Some(1.5),
                None,
                Some(-3.0),
                Some(1e300),
            ])),
            Box::new(DictionaryArray::try_from_keys(keys, texts, false).unwrap()),
            Box::new(
                PrimitiveArray::<i64>::from_vec(
                    (0..4).map(|i| 1_764_000_000_000 + offset + i).collect(),
                )
                .to(ArrowDataType::Timestamp(TimeUnit::Millisecond, None)),
            ),
            Box::new(Utf8Array::<i32>::from_slice(["r1", "r2", "r3", "r4"])),
        ]
    };
    driftscope::ingest::rows::write_stream(&["x", "c", "ts", "id"], vec![batch(0), batch(4)])
        .unwrap()
}

#[test]
fn arrow_mutated_streams() {
    let timed = schema(true, true);
    let stream = arrow_stream();
    let valid = timed
        .parse_arrow(&stream)
        .expect("the unmutated stream parses");
    assert_eq!(valid.rows, 8);
    check_shape(&valid).unwrap();
    // Up to 8 bytes overwritten anywhere, then maybe cut short: framing, flatbuffers, offsets
    // and values all get hit.
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8);
    let cut = prop::option::of(any::<prop::sample::Index>());
    fuzz("arrow (mutated streams)", (edits, cut), |(edits, cut)| {
        let mut body = stream.clone();
        for (at, byte) in edits {
            let at = at.index(body.len());
            body[at] = byte;
        }
        if let Some(cut) = cut {
            body.truncate(cut.index(body.len()));
        }
        match timed.parse_arrow(&body) {
            Ok(batch) => check_shape(&batch)?,
            Err(e) => check_error(&e)?,
        }
        Ok(())
    });
}
