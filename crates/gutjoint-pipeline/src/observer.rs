//! How a running analysis talks to whoever started it: progress, notes, cancellation.
//!
//! The library never prints; a face implements [`Observer`] (a progress bar on a terminal, a
//! job row in the service's store, a Python callback) and passes it to [`crate::run`].

/// Receives progress and notes from a run, and may ask it to stop. Every method has a no-op
/// default, so an observer implements only what it shows. Called from the thread that runs
/// the analysis; `Sync` so one observer can watch runs on several threads.
pub trait Observer: Sync {
    /// Step `step` started (or advanced): `done` of `total` units of the whole run.
    fn progress(&self, step: &str, done: u64, total: u64) {
        let _ = (step, done, total);
    }
    /// Something the user should know that does not stop the run (also kept in the results).
    fn note(&self, message: &str) {
        let _ = message;
    }
    /// Checked between steps: returning true ends the run with [`crate::PipelineError::Cancelled`].
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// An observer that shows nothing and never cancels.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {}
