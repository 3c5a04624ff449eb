//! Request bodies into columns: rows, labels, idempotency keys (category texts: [`crate::category`]).

pub mod encoding;
pub mod error;
pub mod idempotency;
pub mod labels;
pub mod rows;
