//! The seam between the service and the analysis: the service stores files, queues jobs and
//! reports progress; an [`Analysis`] turns a job's stored inputs into its output folder. The
//! real one calls the pipeline library (see `pipeline.rs`); the service adds no analysis of
//! its own.

use crate::store::Progress;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A job's stored inputs, as paths inside the data directory.
#[derive(Debug, Clone)]
pub struct JobInputs {
    pub table: PathBuf,
    pub metadata: Option<PathBuf>,
    pub tree: Option<PathBuf>,
    /// The submitted analysis config (a JSON object; `{}` when none was sent).
    pub config: serde_json::Value,
}

/// The size of an uploaded table, for the samples × features limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableShape {
    pub samples: u64,
    pub features: u64,
}

/// What the service runs for each job.
pub trait Analysis: Send + Sync + 'static {
    /// Checks a submitted config before the files are read (its message becomes the 400).
    fn check_config(&self, config: &serde_json::Value) -> Result<(), String>;
    /// Reads the uploaded files as the analysis will (the message of a file no reader
    /// accepts becomes the 400) and returns the table's shape.
    fn check_inputs(&self, inputs: &JobInputs) -> Result<TableShape, String>;
    /// Runs the analysis, writing every output into `output` (which does not exist yet).
    fn run(&self, inputs: &JobInputs, output: &Path, observer: &JobObserver) -> Result<(), String>;
}

/// Why a running job was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `DELETE` by its key.
    Cancelled,
    /// The server is shutting down; the job goes back to the queue.
    Shutdown,
    /// It ran longer than the per-job limit.
    TimeLimit,
}

/// Progress and cancellation of one running job, shared between the analysis thread and the
/// worker that keeps the job's heartbeat.
#[derive(Debug)]
pub struct JobObserver {
    progress: Mutex<Option<Progress>>,
    changed: AtomicBool,
    stop: Mutex<Option<StopReason>>,
    stopped: AtomicBool,
    deadline: Instant,
}

impl JobObserver {
    pub fn new(deadline: Instant) -> JobObserver {
        JobObserver {
            progress: Mutex::new(None),
            changed: AtomicBool::new(false),
            stop: Mutex::new(None),
            stopped: AtomicBool::new(false),
            deadline,
        }
    }

    /// Records the step running now.
    pub fn report(&self, step: &str, done: u64, total: u64) {
        if let Ok(mut p) = self.progress.lock() {
            *p = Some(Progress {
                step: step.to_string(),
                done,
                total,
            });
            self.changed.store(true, Ordering::Release);
        }
    }

    /// The progress reported since the last call, if it changed.
    pub fn take_progress(&self) -> Option<Progress> {
        if self.changed.swap(false, Ordering::AcqRel) {
            self.progress.lock().ok().and_then(|p| p.clone())
        } else {
            None
        }
    }

    /// Asks the analysis to stop; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        if let Ok(mut s) = self.stop.lock()
            && s.is_none()
        {
            *s = Some(reason);
            self.stopped.store(true, Ordering::Release);
        }
    }

    /// Whether the analysis should stop now (polled by the pipeline between steps).
    pub fn should_stop(&self) -> bool {
        if self.stopped.load(Ordering::Acquire) {
            return true;
        }
        if Instant::now() >= self.deadline {
            self.stop(StopReason::TimeLimit);
            return true;
        }
        false
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop.lock().ok().and_then(|s| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn first_stop_reason_wins_and_deadline_stops() {
        let o = JobObserver::new(Instant::now() + Duration::from_secs(3600));
        assert!(!o.should_stop());
        o.report("alpha", 1, 4);
        assert_eq!(o.take_progress().map(|p| p.done), Some(1));
        assert_eq!(
            o.take_progress(),
            None,
            "unchanged progress is not sent again"
        );
        o.stop(StopReason::Cancelled);
        o.stop(StopReason::Shutdown);
        assert!(o.should_stop());
        assert_eq!(o.stop_reason(), Some(StopReason::Cancelled));
        let late = JobObserver::new(Instant::now());
        assert!(late.should_stop());
        assert_eq!(late.stop_reason(), Some(StopReason::TimeLimit));
    }
}
