use super::*;
use crate::check::{ColumnCheck, Role};
use crate::column::{ColumnData, INVALID_CODE, INVALID_NUMBER};
use crate::reference::table::Cells;

fn schema(timestamp: Option<&str>) -> Schema {
    let x = ColumnCheck::new(
        "x",
        Role::Feature,
        Cells::numbers(vec![1.0, 2.0, 3.0]),
        None,
        None,
        10,
    )
    .unwrap();
    let c = ColumnCheck::new(
        "c",
        Role::Feature,
        Cells::texts(vec!["21".into(), "a".into(), "true".into()]),
        None,
        None,
        10,
    )
    .unwrap();
    let checks = [x, c];
    Schema::new(
        checks.iter().map(|c| (c.name.as_str(), &*c.reference)),
        timestamp,
        None,
    )
}

fn parse(body: &str) -> Result<ParsedBatch, BatchError> {
    schema(None).parse(body.as_bytes())
}

#[test]
fn parses_values_missing_invalid_and_unknown_fields() {
    let batch = parse(
        r#"{"rows": [{"x": 1.5, "c": 21, "other": [1, {"a": 2}]},
                         {"x": "oops", "c": "21"},
                         {"x": null, "c": "new"},
                         {"c": {"nested": true}, "x": 7},
                         {"c": true, "x": 2.0e0}]}"#,
    )
    .unwrap();
    assert_eq!(batch.rows, 5);
    let (ColumnData::Numeric(values), ParsedExtras { invalid, .. }) =
        (&batch.columns[0], &batch.extras[0])
    else {
        panic!()
    };
    assert_eq!(values[0], 1.5);
    assert!(values[1] == INVALID_NUMBER && values[2].is_nan());
    assert_eq!((values[3], values[4], *invalid), (7.0, 2.0, 1));
    let (ColumnData::Categorical(codes), ParsedExtras { novel, invalid }) =
        (&batch.columns[1], &batch.extras[1])
    else {
        panic!()
    };
    // Reference categories sorted: "21" = 0, "a" = 1, "true" = 2.
    assert_eq!(codes, &vec![0, 0, MISSING_CODE, INVALID_CODE, 2]);
    assert_eq!(novel, &vec![(2, "new".to_string())]);
    assert_eq!(*invalid, 1);
}

#[test]
fn accepts_a_bare_array_and_float_codes() {
    let batch = parse(r#"[{"c": 21.0}, {"c": "a"}]"#).unwrap();
    let ColumnData::Categorical(codes) = &batch.columns[1] else {
        panic!()
    };
    assert_eq!(codes, &vec![0, 1]);
}

#[test]
fn whole_request_errors_name_the_row() {
    let cases = [
        (
            "{\"rows\": [",
            BatchErrorKind::MalformedJson,
            "malformed JSON",
        ),
        ("{\"rows\": []}", BatchErrorKind::EmptyBatch, "no rows"),
        ("[]", BatchErrorKind::EmptyBatch, "no rows"),
        (
            "[{\"x\": 1}, 5]",
            BatchErrorKind::RowNotObject,
            "rows[1] is a number",
        ),
        (
            "{\"rows\": [{}], \"extra\": 1}",
            BatchErrorKind::InvalidBody,
            "unexpected key \"extra\"",
        ),
        (
            "{\"data\": []}",
            BatchErrorKind::InvalidBody,
            "unexpected key \"data\"",
        ),
        ("{}", BatchErrorKind::InvalidBody, "no \"rows\" key"),
        ("\"rows\"", BatchErrorKind::InvalidBody, "invalid type"),
        ("{\"rows\": 3}", BatchErrorKind::InvalidBody, "invalid type"),
        (
            "[{\"x\": 1}] trailing",
            BatchErrorKind::MalformedJson,
            "trailing",
        ),
    ];
    for (body, kind, needle) in cases {
        let err = parse(body).unwrap_err();
        assert_eq!(err.kind, kind, "{body}: {err:?}");
        assert!(err.message.contains(needle), "{body}: {}", err.message);
    }
}

#[test]
fn timestamps_are_required_and_parsed_when_configured() {
    let s = schema(Some("ts"));
    let batch = s.parse(br#"[{"ts": 10, "x": 1}, {"ts": "1970-01-01T00:00:20.5Z"}, {"ts": "1970-01-01T01:00:00+01:00"}]"#).unwrap();
    assert_eq!(batch.timestamps, Some(vec![10.0, 20.5, 0.0]));
    let err = s.parse(br#"[{"ts": 10}, {"x": 1}]"#).unwrap_err();
    assert_eq!(err.kind, BatchErrorKind::InvalidTimestamp);
    assert!(
        err.message.contains("rows[1] has no timestamp"),
        "{}",
        err.message
    );
    let err = s.parse(br#"[{"ts": "yesterday"}]"#).unwrap_err();
    assert!(
        err.message
            .contains("rows[0].ts: \"yesterday\" is not a timestamp"),
        "{}",
        err.message
    );
}

#[test]
fn latencies_parse_in_every_body_format_and_bad_ones_are_invalid() {
    let schema = schema(None).with_latency("latency_ms");
    let rows = r#"{"x": 1, "latency_ms": 12.5}
{"x": 2, "latency_ms": -3}
{"x": 3, "latency_ms": "slow"}
{"x": 4, "latency_ms": null}
{"x": 5}
{"x": 6, "latency_ms": {"p": 1}}
{"x": 7, "latency_ms": 0}
"#;
    let as_rows = format!("[{}]", rows.trim().replace('\n', ","));
    let columnar = r#"{"columns": {"x": [1, 2, 3, 4, 5, 6, 7],
        "latency_ms": [12.5, -3, "slow", null, null, {"p": 1}, 0]}}"#;
    for batch in [
        schema.parse(as_rows.as_bytes()).unwrap(),
        schema.parse_ndjson(rows.as_bytes()).unwrap(),
        schema.parse(columnar.as_bytes()).unwrap(),
    ] {
        let latency = batch.latency.expect("a latency column");
        assert_eq!((latency[0], latency[6]), (12.5, 0.0));
        for invalid in [1, 2, 5] {
            assert_eq!(latency[invalid], INVALID_NUMBER);
        }
        assert!(latency[3].is_nan() && latency[4].is_nan());
        assert_eq!(batch.invalid_latency, 3);
        // The latency is no check column.
        assert_eq!(batch.columns.len(), 2);
    }
    assert_eq!(
        parse(r#"[{"x": 1, "latency_ms": 3}]"#).unwrap().latency,
        None
    );
}

/// Two Float64 columns of 4 rows as an Arrow IPC stream, and the offset where the record batch
/// message (after the schema message) starts.
fn two_column_stream() -> (Vec<u8>, usize) {
    use polars_arrow::array::{Array, PrimitiveArray};

    let arrays: Vec<Box<dyn Array>> = (0..2)
        .map(|c| {
            let values = (0..4).map(|r| f64::from(c * 10 + r)).collect();
            Box::new(PrimitiveArray::<f64>::from_vec(values)) as Box<dyn Array>
        })
        .collect();
    let stream = write_stream(&["x", "y"], vec![arrays]).unwrap();
    // The schema message: continuation marker, length, flatbuffer, and no body.
    let schema_end = 8 + i32::from_le_bytes(stream[4..8].try_into().unwrap()) as usize;
    (stream, schema_end)
}

#[test]
fn arrow_buffers_that_overlap_are_refused_before_decoding() {
    use polars_arrow::io::ipc::format::ipc::planus::{Builder as FlatBuilder, ReadAsRoot};
    use polars_arrow::io::ipc::format::ipc::{Message, MessageHeader, MessageRef};

    let (stream, at) = two_column_stream();
    assert!(super::arrow::check_frames(&stream, 100).is_ok());
    assert_eq!(schema(None).parse_arrow(&stream).unwrap().rows, 4);
    // The record batch: continuation marker, length, message, body (x's values, then y's).
    let length = i32::from_le_bytes(stream[at + 4..at + 8].try_into().unwrap()) as usize;
    let message_ref = MessageRef::read_as_root(&stream[at + 8..at + 8 + length]).unwrap();
    let mut message = Message::try_from(message_ref).unwrap();
    let body = &stream[at + 8 + length..at + 8 + length + message.body_length as usize];
    // Point y's values at x's and keep only the bytes x needs: each buffer lies inside the
    // body, but together they claim twice its bytes.
    let Some(MessageHeader::RecordBatch(batch)) = &mut message.header else {
        panic!("a record batch")
    };
    let buffers = batch.buffers.as_mut().unwrap();
    let x = buffers[1];
    assert_eq!(x.length, 32);
    buffers[2] = buffers[0]; // y's empty validity bitmap, like x's
    buffers[3] = x;
    message.body_length = x.offset + x.length;
    let mut builder = FlatBuilder::new();
    let encoded = builder.finish(&message, None).to_vec();
    let mut hostile = stream[..at].to_vec();
    hostile.extend_from_slice(&[0xff; 4]);
    hostile.extend_from_slice(&(encoded.len() as i32).to_le_bytes());
    hostile.extend_from_slice(&encoded);
    hostile.extend_from_slice(&body[..message.body_length as usize]);
    let problem = super::arrow::check_frames(&hostile, 100).unwrap_err();
    assert!(problem.contains("overlap"), "{problem}");
    let refused = schema(None).parse_arrow(&hostile).unwrap_err();
    assert_eq!(refused.kind, BatchErrorKind::InvalidBody);
    assert!(refused.message.contains("overlap"), "{}", refused.message);
}
