use super::*;
use std::time::Duration;

fn numbers(values: &[f64]) -> Vec<ColumnData> {
    vec![
        ColumnData::Numeric(values.to_vec()),
        ColumnData::Categorical(vec![0; values.len()]),
    ]
}

fn values(window: &ClosedWindow) -> Vec<f64> {
    match &window.columns[0] {
        ColumnData::Numeric(v) => v.clone(),
        ColumnData::Categorical(_) => panic!("first column is numeric"),
    }
}

fn engine(window: Window) -> WindowEngine {
    WindowEngine::new(window, 1000, 0.0, &numbers(&[]))
}

fn range(from: u32, to: u32) -> Vec<f64> {
    (from..to).map(f64::from).collect()
}

#[test]
fn count_tumbling_closes_every_size_rows_even_mid_batch() {
    let mut e = engine(Window::CountTumbling { size: 4 });
    let xs = range(0, 10);
    let out = e.push(&numbers(&xs), &xs);
    assert_eq!(out.closed.len(), 2);
    assert_eq!(values(&out.closed[0]), range(0, 4));
    assert_eq!(values(&out.closed[1]), range(4, 8));
    assert_eq!(
        (out.closed[1].seq, out.closed[1].start, out.closed[1].end),
        (2, 4.0, 7.0)
    );
    assert_eq!(e.buffered_rows(), 2);
}

#[test]
fn count_sliding_first_at_size_then_every_step() {
    let mut e = engine(Window::CountSliding { size: 4, step: 2 });
    let xs = range(0, 9);
    let out = e.push(&numbers(&xs), &xs);
    let windows: Vec<Vec<f64>> = out.closed.iter().map(values).collect();
    assert_eq!(windows, vec![range(0, 4), range(2, 6), range(4, 8)]);
    assert_eq!(e.buffered_rows(), 4);
}

#[test]
fn time_tumbling_closes_on_a_later_row_or_the_clock_and_drops_late_rows() {
    let mut e = engine(Window::TimeTumbling {
        length: Duration::from_secs(10),
    });
    let t = [100.0, 105.0, 109.9, 112.0, 95.0, 131.0];
    let out = e.push(&numbers(&t), &t);
    assert_eq!(out.late, 1, "95 belongs to an already closed period");
    let spans: Vec<(f64, f64, usize)> = out
        .closed
        .iter()
        .map(|w| (w.start, w.end, w.rows))
        .collect();
    // [120, 130) had no rows, so no window is published for it.
    assert_eq!(spans, vec![(100.0, 110.0, 3), (110.0, 120.0, 1)]);
    assert!(e.advance_clock(139.0).is_empty());
    let closed = e.advance_clock(140.0);
    assert_eq!(
        (closed[0].start, closed[0].rows, values(&closed[0])),
        (130.0, 1, vec![131.0])
    );
}

#[test]
fn time_sliding_evaluates_each_step_over_the_last_length() {
    let mut e = engine(Window::TimeSliding {
        length: Duration::from_secs(10),
        step: Duration::from_secs(5),
    });
    let t = [1.0, 4.0, 6.0, 9.0, 11.0, 16.0];
    let out = e.push(&numbers(&t), &t);
    let spans: Vec<(f64, f64, Vec<f64>)> = out
        .closed
        .iter()
        .map(|w| (w.start, w.end, values(w)))
        .collect();
    assert_eq!(
        spans,
        vec![
            (-5.0, 5.0, vec![1.0, 4.0]),
            (0.0, 10.0, vec![1.0, 4.0, 6.0, 9.0]),
            (5.0, 15.0, vec![6.0, 9.0, 11.0]),
        ]
    );
    let late = e.push(&numbers(&[2.0]), &[2.0]);
    assert_eq!(late.late, 1);
    let closed = e.advance_clock(20.0);
    assert_eq!(values(&closed[0]), vec![11.0, 16.0]);
}

#[test]
fn time_windows_cap_rows_and_count_the_rest() {
    let mut e = WindowEngine::new(
        Window::TimeTumbling {
            length: Duration::from_secs(60),
        },
        3,
        0.0,
        &numbers(&[]),
    );
    let t = [1.0, 2.0, 3.0, 4.0, 5.0];
    let out = e.push(&numbers(&t), &t);
    assert_eq!((out.over_capacity, e.buffered_rows()), (2, 3));
}

#[test]
fn huge_times_close_windows_without_spinning() {
    // 1.7644e18 (a nanosecond epoch read as seconds): in f64, end + step == end there, which
    // once made this loop spin forever.
    let t = [1.7644e18, 1.7644e18 + 1e6, 1e300, 1.7e308];
    let mut sliding = engine(Window::TimeSliding {
        length: Duration::from_secs(60),
        step: Duration::from_secs(10),
    });
    let out = sliding.push(&numbers(&t), &t);
    assert!(out.closed.len() <= 4 * 7, "{} windows", out.closed.len());
    let mut tumbling = engine(Window::TimeTumbling {
        length: Duration::from_secs(60),
    });
    // At these magnitudes f64 cannot tell a window's start from its end, so where rows land
    // is meaningless (the service drops them earlier as `future`); what matters is that
    // every call returns.
    let out = tumbling.push(&numbers(&t), &t);
    assert!(out.closed.len() <= t.len());
    assert!(tumbling.advance_clock(f64::MAX).len() <= 1);
}

#[test]
fn allowed_lateness_keeps_a_window_open_for_late_rows() {
    let mut e = WindowEngine::new(
        Window::TimeTumbling {
            length: Duration::from_secs(10),
        },
        1000,
        5.0,
        &numbers(&[]),
    );
    let t = [100.0, 112.0, 104.0, 114.0, 115.0, 103.0];
    let out = e.push(&numbers(&t), &t);
    // 104 arrives after 112 but within 5 s of lateness: it joins [100, 110), which closes
    // when the watermark reaches 115; 103 then is late.
    assert_eq!(out.closed.len(), 1);
    assert_eq!(values(&out.closed[0]), vec![100.0, 104.0]);
    assert_eq!(out.late, 1);
    assert_eq!(e.buffered_rows(), 3);
}
