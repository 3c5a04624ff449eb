//! Request bodies into columns: rows, labels, canonical category texts, idempotency keys.

pub mod category;
pub mod error;
pub mod idempotency;
pub mod labels;
pub mod rows;
