//! A stream that makes polars' Arrow decoder panic (a run-end encoded column: the decoder has a
//! `todo!()` there) is refused with a 422-kind error, and the panic is not reported on stderr,
//! so a client cannot fill the logs with it; every other panic still reaches the panic hook.
//!
//! Its own test binary: it installs a process-wide panic hook before anything decodes Arrow.

use std::sync::atomic::{AtomicUsize, Ordering};

use driftscope::check::{ColumnCheck, Role};
use driftscope::ingest::error::BatchErrorKind;
use driftscope::ingest::rows::Schema;
use driftscope::reference::table::Cells;
use polars_arrow::array::{Array, PrimitiveArray};
use polars_arrow::io::ipc::format::ipc::planus::{Builder, ReadAsRoot};
use polars_arrow::io::ipc::format::ipc::{Message, MessageHeader, MessageRef, RunEndEncoded, Type};

static REPORTED: AtomicUsize = AtomicUsize::new(0);

/// A stream of one Float64 column `x` whose schema then claims `x` is run-end encoded.
fn run_end_encoded_stream() -> Vec<u8> {
    let array: Box<dyn Array> = Box::new(PrimitiveArray::<f64>::from_vec(vec![1.0, 2.0]));
    let stream = driftscope::ingest::rows::write_stream(&["x"], vec![vec![array]]).unwrap();
    // The schema message: continuation marker, length, flatbuffer (no body).
    let length = i32::from_le_bytes(stream[4..8].try_into().unwrap()) as usize;
    let mut message =
        Message::try_from(MessageRef::read_as_root(&stream[8..8 + length]).unwrap()).unwrap();
    let Some(MessageHeader::Schema(schema)) = &mut message.header else {
        panic!("the first message is the schema")
    };
    schema.fields.as_mut().unwrap()[0].type_ =
        Some(Type::RunEndEncoded(Box::new(RunEndEncoded {})));
    let mut builder = Builder::new();
    let encoded = builder.finish(&message, None).to_vec();
    let mut body = vec![0xff; 4];
    body.extend_from_slice(&(encoded.len() as i32).to_le_bytes());
    body.extend_from_slice(&encoded);
    body.extend_from_slice(&stream[8 + length..]);
    body
}

#[test]
fn decoder_panics_are_refused_without_a_report() {
    std::panic::set_hook(Box::new(|_| {
        REPORTED.fetch_add(1, Ordering::SeqCst);
    }));
    let x = ColumnCheck::new(
        "x",
        Role::Feature,
        Cells::numbers(vec![1.0, 2.0, 3.0]),
        None,
        None,
        10,
    )
    .unwrap();
    let schema = Schema::new([(x.name.as_str(), &*x.reference)], None, None);
    let refused = schema.parse_arrow(&run_end_encoded_stream()).unwrap_err();
    assert_eq!(refused.kind, BatchErrorKind::InvalidBody);
    assert!(
        refused
            .message
            .contains("the decoder failed (not yet implemented)"),
        "{}",
        refused.message
    );
    assert_eq!(
        REPORTED.load(Ordering::SeqCst),
        0,
        "the decoder's panic was reported"
    );
    // Any other panic, on this thread too, still reaches the hook installed before.
    let _ = std::panic::catch_unwind(|| panic!("not the decoder"));
    assert_eq!(REPORTED.load(Ordering::SeqCst), 1);
    let _ = std::thread::spawn(|| panic!("another thread")).join();
    assert_eq!(REPORTED.load(Ordering::SeqCst), 2);
}
