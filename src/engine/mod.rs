//! From a closed window to a published verdict: per-column checks, the alarm policy, learned
//! null distributions, window evaluation and the running monitor.

pub mod check;
pub mod evaluate;
pub mod evaluator;
pub mod model;
pub mod monitor;
pub mod null;
pub mod persist;
pub mod policy;
pub mod results;
pub mod state;
