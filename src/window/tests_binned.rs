//! Binned windows (time and count) against the exact engine on the same rows.

use std::sync::Arc;
use std::time::Duration;

use super::panes::ColumnBins;
use super::*;
use crate::stats::finebins::FineBins;

/// Rows with event times: a numeric column (whole numbers, some NaN, some beyond the
/// reference), a categorical one (codes, some missing, some new), shuffled by up to 30 s.
fn rows(n: usize, seed: u64) -> (Vec<ColumnData>, Vec<f64>) {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut xs, mut cs, mut ts) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let u = next();
        xs.push(if u < 0.02 {
            f64::NAN
        } else {
            (u * 60.0).floor() - 5.0
        });
        cs.push(if u > 0.99 {
            crate::column::MISSING_CODE
        } else {
            (next() * 7.0) as u32
        });
        ts.push(1_000.0 + i as f64 * 0.5 + next() * 30.0);
    }
    (
        vec![ColumnData::Numeric(xs), ColumnData::Categorical(cs)],
        ts,
    )
}

fn bins() -> Vec<ColumnBins> {
    let reference: Vec<f64> = (0..50).map(f64::from).collect();
    vec![
        ColumnBins::Numeric {
            fine: Arc::new(FineBins::from_sorted(&reference, 4096)),
            coarse_edges: vec![10.0, 25.0, 40.0],
            min: 0.0,
            max: 49.0,
        },
        ColumnBins::Categorical,
    ]
}

fn sliding() -> Window {
    Window::TimeSliding {
        length: Duration::from_secs(120),
        step: Duration::from_secs(20),
    }
}

#[test]
fn binned_windows_count_exactly_the_rows_the_exact_engine_keeps() {
    let (columns, times) = rows(4000, 7);
    let mut exact = WindowEngine::new(sliding(), 1_000_000, 15.0, &columns);
    let mut binned = WindowEngine::binned(sliding(), 15.0, bins());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    // Several batches, so panes fill across pushes; then the clock closes the rest.
    for (cols, ts) in [(0, 1000), (1000, 2500), (2500, 4000)].map(|(from, to)| {
        let cut = |c: &ColumnData| match c {
            ColumnData::Numeric(v) => ColumnData::Numeric(v[from..to].to_vec()),
            ColumnData::Categorical(v) => ColumnData::Categorical(v[from..to].to_vec()),
        };
        (
            columns.iter().map(cut).collect::<Vec<_>>(),
            times[from..to].to_vec(),
        )
    }) {
        let (x, y) = (exact.push(&cols, &ts), binned.push(&cols, &ts));
        assert_eq!((x.late, x.over_capacity), (y.late, y.over_capacity));
        a.extend(x.closed);
        b.extend(y.closed);
    }
    a.extend(exact.advance_clock(10_000.0));
    b.extend(binned.advance_clock(10_000.0));
    assert!(a.len() > 50, "{} windows", a.len());
    assert_same_windows(&a, &b);
}

/// Count windows, tumbling and sliding, binned and exact, fed the same batches (which do not
/// line up with the panes).
#[test]
fn binned_count_windows_count_exactly_the_rows_the_exact_engine_keeps() {
    let (columns, times) = rows(4000, 11);
    for (window, windows) in [
        (Window::CountTumbling { size: 300 }, 13),
        (
            Window::CountSliding {
                size: 600,
                step: 150,
            },
            23,
        ),
    ] {
        let mut exact = WindowEngine::new(window, 1_000_000, 0.0, &columns);
        let mut binned = WindowEngine::binned(window, 0.0, bins());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (from, to) in [(0, 7), (7, 1000), (1000, 2999), (2999, 4000)] {
            let cut = |c: &ColumnData| match c {
                ColumnData::Numeric(v) => ColumnData::Numeric(v[from..to].to_vec()),
                ColumnData::Categorical(v) => ColumnData::Categorical(v[from..to].to_vec()),
            };
            let cols: Vec<ColumnData> = columns.iter().map(cut).collect();
            a.extend(exact.push(&cols, &times[from..to]).closed);
            b.extend(binned.push(&cols, &times[from..to]).closed);
        }
        assert_eq!(a.len(), windows, "{window:?}");
        assert_same_windows(&a, &b);
        // A tumbling window holds the rows of the window still open (a sliding one differs:
        // the exact engine keeps the last `size` rows, the binned one the panes still needed).
        if let Window::CountTumbling { .. } = window {
            assert_eq!(exact.buffered_rows(), 100);
            assert_eq!(binned.buffered_rows(), 100);
        }
    }
}

/// Every exact window `a[i]` and the binned `b[i]`: same number, times and rows, and counts
/// equal to the exact window's values counted over the same bins.
fn assert_same_windows(a: &[ClosedWindow], b: &[ClosedWindow]) {
    assert_eq!(a.len(), b.len());
    let fine = FineBins::from_sorted(&(0..50).map(f64::from).collect::<Vec<_>>(), 4096);
    for (x, y) in a.iter().zip(b) {
        assert_eq!(
            (x.seq, x.start, x.end, x.rows),
            (y.seq, y.start, y.end, y.rows)
        );
        let counted = y.binned.as_ref().expect("binned");
        let ColumnData::Numeric(values) = &x.columns[0] else {
            panic!()
        };
        let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        assert_eq!(counted[0].counts, fine.counts(&present), "window {}", x.seq);
        assert_eq!(counted[0].missing as usize, values.len() - present.len());
        let out = present
            .iter()
            .filter(|&&v| !(0.0..=49.0).contains(&v))
            .count();
        assert_eq!(counted[0].out_of_range as usize, out);
        assert_eq!(
            counted[0].coarse,
            crate::stats::binning::bin_counts(&[10.0, 25.0, 40.0], &present)
        );
        let ColumnData::Categorical(codes) = &x.columns[1] else {
            panic!()
        };
        let mut by_code = vec![0u64; 7];
        for &c in codes.iter().filter(|&&c| c != crate::column::MISSING_CODE) {
            by_code[c as usize] += 1;
        }
        let mut got = counted[1].counts.clone();
        got.resize(7, 0);
        assert_eq!(got, by_code, "window {}", x.seq);
    }
}

#[test]
fn a_binned_window_holds_the_same_bytes_after_one_length_or_fifty() {
    let mut e = WindowEngine::binned(sliding(), 0.0, bins());
    let mut bytes = Vec::new();
    for length in 1..=50 {
        let (columns, mut times) = rows(600, length);
        // Each round covers the next 120 s.
        for t in &mut times {
            *t = 1_000.0 + f64::from(length as u32) * 120.0 + (*t - 1_000.0) / 2300.0 * 120.0;
        }
        e.push(&columns, &times);
        bytes.push(e.counter_bytes());
    }
    let steady = bytes[5];
    assert!(
        bytes[5..].iter().all(|&b| b <= steady + steady / 10),
        "{bytes:?}"
    );
    // 7 or 8 panes of (2·50 + 1) fine + 4 coarse counters (4 bytes) and the total (8 bytes).
    assert!(
        steady < 10 * (105 + 10) * 4 + (105 + 10) * 8 * 2,
        "{steady}"
    );
}

#[test]
fn a_binned_window_restored_from_a_snapshot_continues_identically() {
    let (columns, times) = rows(3000, 11);
    let cut = |from: usize, to: usize| {
        let part = |c: &ColumnData| match c {
            ColumnData::Numeric(v) => ColumnData::Numeric(v[from..to].to_vec()),
            ColumnData::Categorical(v) => ColumnData::Categorical(v[from..to].to_vec()),
        };
        (
            columns.iter().map(part).collect::<Vec<_>>(),
            times[from..to].to_vec(),
        )
    };
    let mut running = WindowEngine::binned(sliding(), 15.0, bins());
    let (first, first_times) = cut(0, 1500);
    running.push(&first, &first_times);
    // Snapshots are CBOR (`state::snapshot`).
    let mut bytes = Vec::new();
    ciborium::into_writer(&running, &mut bytes).unwrap();
    let mut restored: WindowEngine = ciborium::from_reader(bytes.as_slice()).unwrap();
    assert_eq!(restored, running);
    let (rest, rest_times) = cut(1500, 3000);
    let a = running.push(&rest, &rest_times).closed;
    let b = restored.push(&rest, &rest_times).closed;
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn a_binned_window_carried_over_to_the_same_config_keeps_its_panes() {
    let (columns, times) = rows(1500, 3);
    let mut running = WindowEngine::binned(sliding(), 15.0, bins());
    running.push(&columns, &times);
    let fresh = WindowEngine::binned(sliding(), 15.0, bins());
    // Every restore (a snapshot, an engine's checkpoint) carries the state over like this.
    let (carried, kept) = running.clone().carry_over(fresh, &[0, 1]);
    assert!(kept);
    assert_eq!(carried, running);
    let fresh = WindowEngine::binned(sliding(), 15.0, bins()[..1].to_vec());
    let (_, kept) = running.carry_over(fresh, &[0]);
    assert!(!kept, "other bins cannot continue the counts");
}
