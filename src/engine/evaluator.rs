//! Each monitor's evaluator thread: evaluates closed windows off the ingest path, one job at a
//! time in window order (each window's columns in parallel), so streaks, gauges and history
//! always advance in order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak, mpsc};

use crate::engine::state::Closed;

/// What the evaluator thread runs jobs on: the monitor (implemented in `monitor.rs`, so this
/// file does not import the monitor that owns the evaluator).
pub trait Evaluate: Send + Sync + 'static {
    /// The monitor's name, for logs.
    fn name(&self) -> &str;
    /// Evaluates and publishes one job's windows; returns (feature windows, labelled windows)
    /// published.
    fn evaluate_closed(&self, closed: &Closed) -> (usize, usize);
}

/// A job for the evaluator thread.
#[derive(Debug)]
pub struct Job {
    /// The windows to evaluate.
    pub closed: Closed,
    /// Receives (feature windows, labelled windows) published.
    pub done: tokio::sync::oneshot::Sender<(usize, usize)>,
}

/// The windows one call closed, being evaluated: await [`Published::wait`] to know they are
/// published. Dropping it does not stop the evaluation.
#[derive(Debug)]
pub struct Published {
    receiver: Option<tokio::sync::oneshot::Receiver<(usize, usize)>>,
    /// Windows (feature and labelled) the call closed.
    closed: usize,
}

impl Published {
    /// Nothing to wait for.
    pub fn none() -> Self {
        Self {
            receiver: None,
            closed: 0,
        }
    }

    /// Windows (feature and labelled) the call closed.
    pub fn closed(&self) -> usize {
        self.closed
    }

    /// Resolves once the windows are published, with how many feature windows and labelled
    /// windows were (windows below `min_rows` are skipped, not published).
    pub async fn wait(self) -> (usize, usize) {
        match self.receiver {
            Some(receiver) => receiver.await.unwrap_or((0, 0)),
            None => (0, 0),
        }
    }
}

/// The sending side of a monitor's evaluator, with the count of windows queued.
#[derive(Debug)]
pub struct Evaluator {
    jobs: mpsc::Sender<Job>,
    /// Closed windows queued and not yet published; ingest is refused while it is at
    /// `max_queued_windows`, which bounds the queue.
    queued: Arc<AtomicUsize>,
}

impl Evaluator {
    /// Starts the thread for `monitor`. It holds only a weak reference and ends once the
    /// monitor is dropped and the queued jobs are done.
    pub fn start<M: Evaluate>(monitor: Weak<M>, name: &str) -> Self {
        let (jobs, queue) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&queued);
        let spawned = std::thread::Builder::new()
            .name(format!("eval-{name}"))
            .spawn(move || run(&monitor, &queue, &counter));
        if let Err(e) = spawned {
            tracing::error!(monitor = %name, error = %e, "Cannot start the evaluator thread.");
        }
        Self { jobs, queued }
    }

    /// Windows queued and not yet published.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Queues closed windows. Callers hold the monitor's state lock, so jobs are queued in
    /// window order and published in that order.
    pub fn submit(&self, closed: Closed, monitor: &str) -> Published {
        let count = closed.count();
        if count == 0 {
            return Published::none();
        }
        self.queued.fetch_add(count, Ordering::AcqRel);
        let (done, receiver) = tokio::sync::oneshot::channel();
        match self.jobs.send(Job { closed, done }) {
            Ok(()) => Published {
                receiver: Some(receiver),
                closed: count,
            },
            Err(_) => {
                self.queued.fetch_sub(count, Ordering::AcqRel);
                tracing::error!(monitor, "Evaluator thread is gone; windows dropped.");
                Published::none()
            }
        }
    }

    /// Waits until every queued window is published (snapshots need results that match the
    /// state). Bounded by `max_queued_windows` evaluations.
    pub fn drain(&self) {
        while self.queued() > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Evaluates jobs in queue (= window) order until the monitor is gone. A panic in one
/// evaluation is logged and the thread carries on, so one bad window never stops a monitor.
fn run<M: Evaluate>(monitor: &Weak<M>, queue: &mpsc::Receiver<Job>, queued: &AtomicUsize) {
    while let Ok(job) = queue.recv() {
        let Some(monitor) = monitor.upgrade() else {
            break;
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            monitor.evaluate_closed(&job.closed)
        }));
        queued.fetch_sub(job.closed.count(), Ordering::AcqRel);
        let counts = result.unwrap_or_else(|_| {
            tracing::error!(
                monitor = monitor.name(),
                "Window evaluation panicked; windows dropped."
            );
            (0, 0)
        });
        // The requester may have gone away; the windows are published regardless.
        let _ = job.done.send(counts);
    }
}
