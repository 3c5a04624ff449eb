//! Arrow IPC stream bodies (`application/vnd.apache.arrow.stream`): record batches whose columns
//! are named like the monitor's fields, written into the same columns by the same per-value seeds
//! as JSON (so a number, a text, a null or a wrong type means exactly what it means in JSON).
//!
//! Untrusted input: the stream's framing declares message, buffer and array lengths that the
//! decoder would allocate before reading. [`check_frames`] walks every message first and refuses
//! a body whose declared lengths exceed the body itself, whose buffers overlap, or whose batches
//! exceed `max_rows_per_request`, so decoding allocates about the body's size plus a few dozen
//! bytes per row and monitored column of one batch.

use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Once};

use polars_arrow::array::{
    Array, BooleanArray, DictionaryArray, DictionaryKey, PrimitiveArray, Utf8Array, Utf8ViewArray,
};
use polars_arrow::datatypes::{ArrowDataType, ArrowSchema, Field, TimeUnit};
use polars_arrow::io::ipc::format::ipc::planus::ReadAsRoot;
use polars_arrow::io::ipc::format::ipc::{MessageHeaderRef, MessageRef, RecordBatchRef};
use polars_arrow::io::ipc::read::{StreamReader, StreamState, read_stream_metadata};
use polars_arrow::io::ipc::write::{StreamWriter, WriteOptions};
use polars_arrow::record_batch::RecordBatchT;
use serde::de::DeserializeSeed;
use serde::de::value::{
    BoolDeserializer, BorrowedStrDeserializer, Error as ValueError, F64Deserializer,
    I64Deserializer, U64Deserializer, UnitDeserializer,
};

use super::Builder;
use super::columnar::ValueSeed;
use crate::ingest::error::{BatchError, BatchErrorKind};

/// Writes record batches of the columns `names` as an Arrow IPC stream, the body
/// [`Schema::parse_arrow`](super::Schema::parse_arrow) reads: the one writer behind
/// `driftscope replay --format arrow`, the benches and the tests. Each column's type comes from
/// the first batch; every field is nullable.
pub fn write_stream(names: &[&str], batches: Vec<Vec<Box<dyn Array>>>) -> Result<Vec<u8>, String> {
    fn arrow(e: impl std::fmt::Display) -> String {
        format!("arrow: {e}")
    }
    let first = batches.first().ok_or("arrow: no record batch")?;
    let schema: ArrowSchema = names
        .iter()
        .zip(first)
        .map(|(name, array)| Field::new((*name).into(), array.dtype().clone(), true))
        .collect();
    let schema = Arc::new(schema);
    let mut writer = StreamWriter::new(Vec::new(), WriteOptions { compression: None });
    writer.start(&schema, None).map_err(arrow)?;
    for arrays in batches {
        let height = arrays.first().map_or(0, |a| a.len());
        let batch = RecordBatchT::try_new(height, schema.clone(), arrays).map_err(arrow)?;
        writer.write(&batch, None).map_err(arrow)?;
    }
    writer.finish().map_err(arrow)?;
    Ok(writer.into_inner())
}

/// Reads every record batch of `body` into `builder`.
pub(super) fn parse_arrow(builder: &mut Builder<'_>, body: &[u8]) -> Result<(), BatchError> {
    let max_rows = builder.schema.limits.max_rows_per_request;
    check_frames(body, max_rows).map_err(|problem| {
        let kind = if problem.starts_with("a record batch has") {
            BatchErrorKind::TooManyRows
        } else {
            BatchErrorKind::InvalidBody
        };
        invalid(kind, format!("invalid Arrow IPC stream: {problem}"))
    })?;
    // polars' decoder still has `todo!()`s (run-end encoded and list-view types) and assertions
    // on paths a stream can reach (found by `tests/fuzz_parsers.rs`): a panic there refuses the
    // request, like any other malformed stream. The half-filled builder is dropped with it.
    catch_quietly(|| decode(builder, body)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(invalid(
            BatchErrorKind::InvalidBody,
            format!("invalid Arrow IPC stream: the decoder failed ({why})"),
        ))
    })
}

thread_local! {
    /// Set while this thread decodes a stream under [`catch_quietly`].
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `f`, catching its panics without the panic hook's report on stderr: a stream that trips
/// the decoder is a refused request, not a crash, and a report per request would let any client
/// fill the logs. Other panics (other threads, or this one outside `f`) go to the hook installed
/// before, unchanged.
fn catch_quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    DECODING.with(|d| d.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    DECODING.with(|d| d.set(false));
    result
}

/// Decodes the checked stream into `builder`.
fn decode(builder: &mut Builder<'_>, body: &[u8]) -> Result<(), BatchError> {
    let mut cursor = Cursor::new(body);
    let metadata = read_stream_metadata(&mut cursor).map_err(|e| malformed(&e))?;
    let fields: Vec<(String, ArrowDataType)> = metadata
        .schema
        .iter_values()
        .map(|f| (f.name.to_string(), f.dtype.clone()))
        .collect();
    if let Some(name) = &builder.schema.timestamp
        && !fields.iter().any(|(field, _)| field == name)
    {
        let message = format!(
            "the Arrow schema has no timestamp: column {name:?} is required (unix seconds, \
             an Arrow timestamp or RFC 3339 text)"
        );
        return Err(invalid(BatchErrorKind::InvalidTimestamp, message));
    }
    for state in StreamReader::new(cursor, metadata, None) {
        let batch = match state.map_err(|e| malformed(&e))? {
            StreamState::Some(batch) => batch,
            // The body is complete: a stream without its end marker simply ends here.
            StreamState::Waiting => break,
        };
        let base = builder.rows;
        for ((name, dtype), array) in fields.iter().zip(batch.arrays()) {
            let Some(slot) = builder.schema.slots.get(name).copied() else {
                continue;
            };
            let values = Values::of(array.as_ref()).map_err(|problem| {
                let message = format!("column {name:?} has Arrow type {dtype:?}: {problem}");
                invalid(BatchErrorKind::InvalidBody, message)
            })?;
            for row in 0..array.len() {
                let seed = ValueSeed {
                    builder: &mut *builder,
                    slot,
                    row: base + row,
                };
                if let Err(e) = values.cell(row).feed(seed) {
                    let failure = builder.failure.take();
                    return Err(failure.unwrap_or_else(|| {
                        invalid(BatchErrorKind::InvalidBody, format!("column {name:?}: {e}"))
                    }));
                }
            }
        }
    }
    Ok(())
}

fn invalid(kind: BatchErrorKind, message: String) -> BatchError {
    BatchError { kind, message }
}

fn malformed(e: &impl std::fmt::Display) -> BatchError {
    invalid(
        BatchErrorKind::InvalidBody,
        format!("invalid Arrow IPC stream: {e}"),
    )
}

/// Checks the framing of every message against the body before anything is decoded.
pub(super) fn check_frames(body: &[u8], max_rows: usize) -> Result<(), String> {
    let mut at = 0;
    let mut first = true;
    while at < body.len() {
        let mut length = read_i32(body, at)?;
        at += 4;
        if length == -1 {
            // The continuation marker of the current format; the length follows.
            length = read_i32(body, at)?;
            at += 4;
        }
        let length = usize::try_from(length).map_err(|_| "a negative message length")?;
        if length == 0 {
            return Ok(());
        }
        let end = at
            .checked_add(length)
            .filter(|&end| end <= body.len())
            .ok_or("a message is longer than the body")?;
        let message = MessageRef::read_as_root(&body[at..end]).map_err(|e| e.to_string())?;
        at = end;
        let body_length = usize::try_from(message.body_length().map_err(|e| e.to_string())?)
            .map_err(|_| "a negative body length")?;
        let header = message
            .header()
            .map_err(|e| e.to_string())?
            .ok_or("a message without a header")?;
        match header {
            MessageHeaderRef::Schema(_) if first => {}
            MessageHeaderRef::RecordBatch(batch) => check_batch(batch, body_length, max_rows)?,
            MessageHeaderRef::DictionaryBatch(dictionary) => {
                let data = dictionary
                    .data()
                    .map_err(|e| e.to_string())?
                    .ok_or("a dictionary batch without data")?;
                check_batch(data, body_length, max_rows)?;
            }
            _ => return Err("expected a schema, then record and dictionary batches".into()),
        }
        first = false;
        at = at
            .checked_add(body_length)
            .filter(|&end| end <= body.len())
            .ok_or("a message body is longer than the body")?;
    }
    Ok(())
}

/// A batch's row count and every array length within `max_rows`, every buffer within the
/// message body, no IPC compression (the decoder here has none: compress the whole body with
/// `Content-Encoding` instead).
fn check_batch(
    batch: RecordBatchRef<'_>,
    body_length: usize,
    max_rows: usize,
) -> Result<(), String> {
    let rows = batch.length().map_err(|e| e.to_string())?;
    if usize::try_from(rows).map_or(true, |rows| rows > max_rows) {
        return Err(format!(
            "a record batch has {rows} rows, more than server.max_rows_per_request ({max_rows})"
        ));
    }
    if batch.compression().map_err(|e| e.to_string())?.is_some() {
        return Err(
            "compressed IPC buffers are not supported; send the stream uncompressed with \
             `Content-Encoding: zstd` or `gzip`"
                .into(),
        );
    }
    for node in batch
        .nodes()
        .map_err(|e| e.to_string())?
        .into_iter()
        .flatten()
    {
        if usize::try_from(node.length()).map_or(true, |length| length > max_rows) {
            return Err(format!(
                "a record batch has an array of {} values, more than \
                 server.max_rows_per_request ({max_rows})",
                node.length()
            ));
        }
    }
    let mut total = 0_usize;
    for buffer in batch
        .buffers()
        .map_err(|e| e.to_string())?
        .into_iter()
        .flatten()
    {
        let (offset, length) = (buffer.offset(), buffer.length());
        let inside = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(length).ok())
            .and_then(|(offset, length)| offset.checked_add(length))
            .is_some_and(|end| end <= body_length);
        if !inside {
            return Err(format!(
                "a buffer ({length} bytes at {offset}) lies outside its message body \
                 ({body_length} bytes)"
            ));
        }
        // Nor may buffers overlap: the decoder copies each one, so buffers sharing bytes would
        // let a small body make it allocate many times its size.
        total = total.saturating_add(length as usize);
        if total > body_length {
            return Err(format!(
                "the buffers add up to more than their message body ({body_length} bytes): \
                 they overlap"
            ));
        }
    }
    Ok(())
}

fn read_i32(body: &[u8], at: usize) -> Result<i32, String> {
    body.get(at..at + 4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| "the body ends inside a message length".into())
}

/// One value, as JSON would have carried it.
enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(&'a str),
}

impl<'a> Cell<'a> {
    /// Hands the value to a JSON seed, so it takes the same path as in a JSON body.
    fn feed<S: DeserializeSeed<'a, Value = ()>>(self, seed: S) -> Result<(), ValueError> {
        match self {
            Cell::Null => seed.deserialize(UnitDeserializer::new()),
            Cell::Bool(v) => seed.deserialize(BoolDeserializer::new(v)),
            Cell::Int(v) => seed.deserialize(I64Deserializer::new(v)),
            Cell::Unsigned(v) => seed.deserialize(U64Deserializer::new(v)),
            Cell::Float(v) => seed.deserialize(F64Deserializer::new(v)),
            Cell::Text(v) => seed.deserialize(BorrowedStrDeserializer::new(v)),
        }
    }
}

/// An Arrow array of one of the types a row value can have.
enum Values<'a> {
    Null,
    Bool(&'a BooleanArray),
    Int(Vec<Option<i64>>),
    Unsigned(Vec<Option<u64>>),
    Float(Vec<Option<f64>>),
    Text(&'a Utf8Array<i32>),
    LargeText(&'a Utf8Array<i64>),
    TextView(&'a Utf8ViewArray),
    /// Dictionary-encoded: the key of each row into the decoded dictionary.
    Dictionary(Vec<Option<usize>>, Box<Values<'a>>),
}

impl<'a> Values<'a> {
    fn of(array: &'a dyn Array) -> Result<Self, &'static str> {
        let any = array.as_any();
        let values = match array.dtype().to_storage() {
            ArrowDataType::Null => Values::Null,
            ArrowDataType::Boolean => Values::Bool(downcast(any)?),
            ArrowDataType::Int8 => Values::Int(ints::<i8>(any)?),
            ArrowDataType::Int16 => Values::Int(ints::<i16>(any)?),
            ArrowDataType::Int32 => Values::Int(ints::<i32>(any)?),
            ArrowDataType::Int64 => Values::Int(ints::<i64>(any)?),
            ArrowDataType::UInt8 => Values::Unsigned(unsigned::<u8>(any)?),
            ArrowDataType::UInt16 => Values::Unsigned(unsigned::<u16>(any)?),
            ArrowDataType::UInt32 => Values::Unsigned(unsigned::<u32>(any)?),
            ArrowDataType::UInt64 => Values::Unsigned(unsigned::<u64>(any)?),
            ArrowDataType::Float32 => Values::Float(floats::<f32>(any)?),
            ArrowDataType::Float64 => Values::Float(floats::<f64>(any)?),
            // Arrow timestamps become unix seconds, as JSON numbers are read.
            ArrowDataType::Timestamp(unit, _) => {
                let per_second = match unit {
                    TimeUnit::Second => 1.0,
                    TimeUnit::Millisecond => 1e3,
                    TimeUnit::Microsecond => 1e6,
                    TimeUnit::Nanosecond => 1e9,
                };
                let array: &PrimitiveArray<i64> = downcast(any)?;
                Values::Float(
                    array
                        .iter()
                        .map(|v| v.map(|&v| v as f64 / per_second))
                        .collect(),
                )
            }
            ArrowDataType::Utf8 => Values::Text(downcast(any)?),
            ArrowDataType::LargeUtf8 => Values::LargeText(downcast(any)?),
            ArrowDataType::Utf8View => Values::TextView(downcast(any)?),
            ArrowDataType::Dictionary(..) => dictionary(any)?,
            _ => return Err(UNSUPPORTED),
        };
        Ok(values)
    }

    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Values::Null => Cell::Null,
            Values::Bool(a) => a.get(row).map_or(Cell::Null, Cell::Bool),
            Values::Int(v) => v[row].map_or(Cell::Null, Cell::Int),
            Values::Unsigned(v) => v[row].map_or(Cell::Null, Cell::Unsigned),
            Values::Float(v) => v[row].map_or(Cell::Null, Cell::Float),
            Values::Text(a) => a.get(row).map_or(Cell::Null, Cell::Text),
            Values::LargeText(a) => a.get(row).map_or(Cell::Null, Cell::Text),
            Values::TextView(a) => a.get(row).map_or(Cell::Null, Cell::Text),
            Values::Dictionary(keys, values) => keys[row].map_or(Cell::Null, |k| values.cell(k)),
        }
    }
}

const UNSUPPORTED: &str = "send numbers, text, booleans, timestamps or dictionary-encoded text";

fn downcast<T: 'static>(any: &dyn std::any::Any) -> Result<&T, &'static str> {
    any.downcast_ref::<T>()
        .ok_or("the array does not match its declared type")
}

fn ints<T: polars_arrow::types::NativeType + Into<i64>>(
    any: &dyn std::any::Any,
) -> Result<Vec<Option<i64>>, &'static str> {
    let array: &PrimitiveArray<T> = downcast(any)?;
    Ok(array.iter().map(|v| v.map(|&v| v.into())).collect())
}

fn unsigned<T: polars_arrow::types::NativeType + Into<u64>>(
    any: &dyn std::any::Any,
) -> Result<Vec<Option<u64>>, &'static str> {
    let array: &PrimitiveArray<T> = downcast(any)?;
    Ok(array.iter().map(|v| v.map(|&v| v.into())).collect())
}

fn floats<T: polars_arrow::types::NativeType + Into<f64>>(
    any: &dyn std::any::Any,
) -> Result<Vec<Option<f64>>, &'static str> {
    let array: &PrimitiveArray<T> = downcast(any)?;
    Ok(array.iter().map(|v| v.map(|&v| v.into())).collect())
}

fn dictionary(any: &dyn std::any::Any) -> Result<Values<'_>, &'static str> {
    fn keyed<K: DictionaryKey>(array: &DictionaryArray<K>) -> Result<Values<'_>, &'static str> {
        let values = Values::of(array.values().as_ref())?;
        if matches!(values, Values::Dictionary(..)) {
            return Err(UNSUPPORTED);
        }
        let size = array.values().len();
        let keys: Vec<Option<usize>> = array.keys_iter().collect();
        if keys.iter().flatten().any(|&k| k >= size) {
            return Err("a dictionary key is outside its dictionary");
        }
        Ok(Values::Dictionary(keys, Box::new(values)))
    }
    macro_rules! try_keys {
        ($($key:ty),*) => {
            $(if let Some(array) = any.downcast_ref::<DictionaryArray<$key>>() {
                return keyed(array);
            })*
        };
    }
    try_keys!(i8, i16, i32, i64, u8, u16, u32, u64);
    Err("the array does not match its declared type")
}
