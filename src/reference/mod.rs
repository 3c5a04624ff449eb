//! Reference data: the file read with polars, and each column profiled for the checks.

pub mod profile;
pub mod table;
