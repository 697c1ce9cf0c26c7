//! Runs queued jobs: claim one, run the analysis on tokio's blocking pool, keep its heartbeat
//! and progress in the store every [`HEARTBEAT`], honour cancellation (`DELETE`), the per-job
//! time limit and shutdown (running jobs get a grace period, then go back to the queue).
//! Also the housekeeping loop: stale jobs of dead hosts back to the queue, retention.

use crate::Service;
use crate::runner::{JobInputs, JobObserver, StopReason};
use crate::store::{AuditAction, AuditEntry, Job, Outcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often a running job's heartbeat (and progress) is written.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A running job whose heartbeat is older than this is taken to have lost its host.
pub const LEASE_SECONDS: i64 = 60;
/// How often housekeeping runs.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

/// One worker: takes jobs until shutdown.
pub async fn worker_loop(service: Arc<Service>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match service.store.claim(&service.node, crate::ids::now()).await {
            Ok(Some(job)) => run_job(&service, job, shutdown.clone()).await,
            Ok(None) => {
                tokio::select! {
                    _ = service.job_added.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Finds the stored inputs of a job (each in its own folder under `input/`).
pub fn job_inputs(input_dir: &Path, config: &str) -> Result<JobInputs, String> {
    let first = |field: &str| -> Option<PathBuf> {
        let dir = input_dir.join(field);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files.into_iter().next()
    };
    let config =
        serde_json::from_str(config).map_err(|e| format!("the stored config is not JSON: {e}"))?;
    Ok(JobInputs {
        table: first("table").ok_or("the job's table file is missing")?,
        metadata: first("metadata"),
        tree: first("tree"),
        config,
    })
}

/// Removes the server's own directories from a message shown to the client (they name the
/// upload by its base name only).
pub fn without_paths(message: &str, dirs: &[&Path]) -> String {
    let mut out = message.to_string();
    for dir in dirs {
        for field in ["table", "metadata", "tree"] {
            out = out.replace(&format!("{}/", dir.join(field).display()), "");
        }
        out = out.replace(&format!("{}/", dir.display()), "");
        out = out.replace(&dir.display().to_string(), "");
    }
    out
}

async fn run_job(service: &Arc<Service>, job: Job, mut shutdown: watch::Receiver<bool>) {
    let id = job.id.clone();
    tracing::info!(job = %id, key = %job.key_name, attempt = job.attempts, "job running");
    let input_dir = service.data.input_dir(&id);
    let output_dir = service.data.output_dir(&id);
    // A previous attempt killed mid-write may have left part of an output folder.
    let _ = std::fs::remove_dir_all(&output_dir);
    let inputs = match job_inputs(&input_dir, &job.config) {
        Ok(i) => i,
        Err(message) => {
            finish(service, &job, Outcome::Failed(message)).await;
            return;
        }
    };
    let observer = Arc::new(JobObserver::new(
        Instant::now() + service.limits.job_time_limit,
    ));
    let task = {
        let analysis = Arc::clone(&service.analysis);
        let observer = Arc::clone(&observer);
        let output_dir = output_dir.clone();
        tokio::task::spawn_blocking(move || analysis.run(&inputs, &output_dir, &observer))
    };
    tokio::pin!(task);
    let mut ticker = tokio::time::interval(HEARTBEAT);
    let mut shutdown_since: Option<Instant> = None;
    let result = loop {
        tokio::select! {
            result = &mut task => break result,
            _ = ticker.tick() => {
                match service.store.heartbeat(&id, observer.take_progress(), crate::ids::now()).await {
                    Ok(true) => observer.stop(StopReason::Cancelled),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(job = %id, error = %e, "heartbeat failed"),
                }
                observer.should_stop();
                if shutdown_since.is_some_and(|t| t.elapsed() >= service.limits.shutdown_grace) {
                    observer.stop(StopReason::Shutdown);
                }
            }
            changed = shutdown.changed(), if shutdown_since.is_none() => {
                if changed.is_err() || *shutdown.borrow() {
                    shutdown_since = Some(Instant::now());
                    if service.limits.shutdown_grace.is_zero() {
                        observer.stop(StopReason::Shutdown);
                    }
                }
            }
        }
    };
    let outcome = match (observer.stop_reason(), result) {
        (Some(StopReason::Cancelled), _) => {
            // DELETE asked for it: every file and the record go.
            if let Err(e) = service.data.remove_job(&id) {
                tracing::error!(job = %id, error = %e, "removing a cancelled job's files failed");
            }
            if let Err(e) = service.store.delete(&id).await {
                tracing::error!(job = %id, error = %e, "removing a cancelled job failed");
            }
            tracing::info!(job = %id, key = %job.key_name, "job cancelled and removed");
            return;
        }
        (Some(StopReason::Shutdown), _) => Outcome::Requeue,
        (_, Ok(Ok(()))) => Outcome::Done,
        (Some(StopReason::TimeLimit), _) => Outcome::Failed(format!(
            "the analysis ran longer than this server's limit of {} per job; ask its \
             administrator, or send a smaller table or fewer permutations",
            seconds(service.limits.job_time_limit)
        )),
        (None, Ok(Err(message))) => Outcome::Failed(without_paths(
            &message,
            &[&input_dir, &output_dir, service.data.root()],
        )),
        (None, Err(join)) => {
            tracing::error!(job = %id, panicked = join.is_panic(), "the analysis task died");
            Outcome::Failed("the analysis stopped unexpectedly (an internal error); the server's log has the details".to_string())
        }
    };
    if !matches!(outcome, Outcome::Done) {
        let _ = std::fs::remove_dir_all(&output_dir);
    }
    finish(service, &job, outcome).await;
}

/// A duration for people: whole seconds, or milliseconds below one second.
fn seconds(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

async fn finish(service: &Service, job: &Job, outcome: Outcome) {
    // No error text in the log: reader messages can quote sample ids.
    let to = match &outcome {
        Outcome::Done => "done",
        Outcome::Failed(_) => "failed",
        Outcome::Requeue => "queued",
    };
    match service
        .store
        .finish(&job.id, outcome, crate::ids::now())
        .await
    {
        Ok(()) => {
            tracing::info!(job = %job.id, key = %job.key_name, from = "running", to, "job transition")
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "recording a job's end failed"),
    }
}

/// Startup recovery and periodic housekeeping: jobs left running by this node (or, with the
/// single-host SQLite store, by anyone) go back to the queue; uploads that never became jobs
/// are removed; jobs past the retention period are deleted with their files.
pub async fn startup_recovery(service: &Service) -> crate::error::Result<()> {
    let requeued = if service.shared_store {
        service.store.requeue_node(&service.node).await?
    } else {
        service.store.requeue_stale(i64::MAX).await?
    };
    if requeued > 0 {
        tracing::info!(
            jobs = requeued,
            "re-queued jobs left running by a previous run"
        );
    }
    // Another host may be mid-upload in a shared directory: only old leftovers go then.
    let min_age = if service.shared_store {
        Duration::from_secs(3600)
    } else {
        Duration::ZERO
    };
    service.data.clear_tmp(min_age)?;
    let known: std::collections::HashSet<String> =
        service.store.all_ids().await?.into_iter().collect();
    for (name, modified) in service.data.job_dirs()? {
        let old = modified.elapsed().is_ok_and(|age| age >= min_age);
        if !known.contains(&name) && old {
            service.data.remove_job(&name)?;
            tracing::info!(job = %name, "removed the files of a job with no record");
        }
    }
    Ok(())
}

/// Deletes jobs older than the retention period (files first, then the record).
pub async fn expire(service: &Service, now: i64) -> crate::error::Result<usize> {
    let before = now.saturating_sub(service.limits.retention.as_secs() as i64);
    let ids = service.store.expired(before).await?;
    for id in &ids {
        service.data.remove_job(id)?;
        service.store.delete(id).await?;
        service
            .store
            .audit(AuditEntry {
                at: now,
                key_name: "-".into(),
                action: AuditAction::Expire.as_str().into(),
                job_id: id.clone(),
                detail: format!(
                    "retention {} days",
                    service.limits.retention.as_secs() / 86_400
                ),
            })
            .await?;
        tracing::info!(job = %id, "job expired and removed (retention)");
    }
    Ok(ids.len())
}

pub async fn housekeeping_loop(service: Arc<Service>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let now = crate::ids::now();
        match service.store.requeue_stale(now - LEASE_SECONDS).await {
            Ok(n) if n > 0 => tracing::info!(jobs = n, "re-queued jobs whose host stopped"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "re-queueing stale jobs failed"),
        }
        if let Err(e) = expire(&service, now).await {
            tracing::error!(error = %e, "retention sweep failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(HOUSEKEEPING) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_paths_are_cut_from_client_messages() {
        let input = Path::new("/srv/gj/jobs/ab/input");
        let msg = "/srv/gj/jobs/ab/input/table/p1.tsv line 3: expected 4 values, found 3";
        assert_eq!(
            without_paths(msg, &[input]),
            "p1.tsv line 3: expected 4 values, found 3"
        );
    }
}
