//! `monitors[i].shards`: which monitors may be split over several partitions.
//!
//! A split monitor's windows are merged at its owner from per-shard pane counts, so the merge
//! must give exactly the window one process would have closed. That holds only when every
//! shard cuts the same windows (time windows, on the rows' own event time rather than each
//! engine's arrival clock), when a window is counts that add up exactly (`summary: binned`;
//! exact windows would add floating-point statistics in another order), and when nothing
//! needs two rows to meet on one shard (a `target`'s labels must find their prediction).

use super::Problem;
use super::monitor::MonitorSpec;
use super::window::Summary;

/// Most shards a monitor may have: each is a state and a partition's worth of work at the
/// owner's merge, and beyond a few dozen the partition count, not the shards, is the limit.
pub const MAX_SHARDS: u32 = 64;

/// Adds the problems of `monitor.shards` (at key path `at`) to `problems`.
pub(super) fn validate(monitor: &MonitorSpec, at: &str, problems: &mut Vec<Problem>) {
    let shards = monitor.shards;
    let at = format!("{at}.shards");
    if !(1..=MAX_SHARDS).contains(&shards) {
        problems.push(Problem::new(
            &at,
            format!("must be in 1..={MAX_SHARDS}, got {shards}"),
        ));
        return;
    }
    if shards == 1 {
        return;
    }
    let refuse = |problems: &mut Vec<Problem>, why: &str| {
        problems.push(Problem::new(
            &at,
            format!("a monitor split over {shards} shards {why}"),
        ));
    };
    if monitor.timestamp.is_none() {
        refuse(
            problems,
            "needs a `timestamp` column: shards close windows on the rows' event time",
        );
    }
    if monitor.window.duration.is_none() {
        refuse(
            problems,
            "needs a time window (`window.duration`): count windows cannot be cut per shard",
        );
    }
    if monitor.window.summary != Summary::Binned {
        refuse(
            problems,
            "needs `window.summary: binned`: only counts merge exactly",
        );
    }
    if monitor.target.is_some() {
        refuse(
            problems,
            "cannot have a `target`: labels must reach the shard holding their prediction",
        );
    }
}
