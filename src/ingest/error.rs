//! Whole-request errors of the row and label parsers, shared so neither parser depends on the
//! other.

/// Why a whole request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchErrorKind {
    /// Not JSON (400).
    MalformedJson,
    /// JSON, but not `{"rows": [...]}` or an array of rows (422).
    InvalidBody,
    /// No rows (422).
    EmptyBatch,
    /// A row is not a JSON object (422).
    RowNotObject,
    /// A row's timestamp is missing or unreadable (422).
    InvalidTimestamp,
    /// More rows than `server.max_rows_per_request` (413).
    TooManyRows,
}

/// A whole-request error with a message naming the row/field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    /// Category, mapped to an HTTP status and error code.
    pub kind: BatchErrorKind,
    /// Human-readable explanation.
    pub message: String,
}
