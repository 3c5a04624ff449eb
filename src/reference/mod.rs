//! Reference data: the file read with polars.

pub mod table;
