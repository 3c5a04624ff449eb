//! From a closed window to a published verdict: window evaluation and the running monitor (the
//! per-column checks, alarm policy and learned nulls are [`crate::check`]).

pub mod evaluate;
pub mod evaluator;
pub mod histogram;
pub mod latency;
pub mod model;
pub mod monitor;
pub mod persist;
pub mod results;
pub mod state;
