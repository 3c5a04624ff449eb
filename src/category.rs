//! One canonical text per category, so `21`, `21.0` and `"21"` are the same category whether they
//! come from a reference file or a JSON request.

use std::fmt::Write;

/// Writes the canonical text of a numeric category code into `out` (cleared first): integral
/// values without a fractional part (`21.0` → `21`), others in Rust's shortest round-trip form (`1.5`, `1e300`).
/// Reuses `out` so the ingest path does not allocate per value.
pub fn number_text(x: f64, out: &mut String) {
    out.clear();
    // 2^53: beyond it not every integer is representable, so keep the float form.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x:?}");
    }
}

/// Canonical text of a boolean category.
pub fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Canonical text of a JSON scalar category (or id): strings as given, numbers as
/// [`number_text`] (integers exactly), booleans as [`bool_text`]; `None` for null, arrays and
/// objects. The row parser writes the same texts, so labels and rows agree.
pub fn json_text(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(bool_text(*b).to_owned()),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Some(i.to_string()),
            (_, Some(u), _) => Some(u.to_string()),
            (_, _, Some(f)) => {
                let mut text = String::new();
                number_text(f, &mut text);
                Some(text)
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_numbers_lose_their_fraction() {
        let mut s = String::new();
        for (x, want) in [
            (21.0, "21"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (-3.0, "-3"),
            (1e300, "1e300"),
        ] {
            number_text(x, &mut s);
            assert_eq!(s, want);
        }
        assert_eq!(bool_text(true), "true");
    }

    #[test]
    fn json_scalars_get_the_row_parser_texts() {
        use serde_json::json;
        let texts: Vec<Option<String>> = [
            json!("21"),
            json!(21),
            json!(21.0),
            json!(u64::MAX),
            json!(true),
            json!(null),
            json!([1]),
        ]
        .iter()
        .map(json_text)
        .collect();
        let want = [
            Some("21"),
            Some("21"),
            Some("21"),
            Some("18446744073709551615"),
            Some("true"),
            None,
            None,
        ];
        assert_eq!(texts, want.map(|t| t.map(str::to_owned)));
    }
}
