//! Reference data: the file read with polars, each column profiled for the checks, and the
//! type rule that plans a monitor from a file's columns.

pub mod plan;
pub mod profile;
pub mod table;
