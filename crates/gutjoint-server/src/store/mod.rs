//! The job store: one trait, two back ends. Embedded SQLite (WAL) is the default for one host;
//! PostgreSQL lets several `gutjoint serve` processes on different hosts share one queue (jobs
//! claimed with `FOR UPDATE SKIP LOCKED`). The store holds job state and the audit log; the
//! files live in the data directory.
//!
//! A running job carries a heartbeat; a job whose heartbeat stopped (its host died) is put
//! back in the queue by any host, and a host re-queues its own running jobs when it starts.

pub mod postgres;
pub mod sqlite;

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<JobStatus> {
        Ok(match text {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            other => {
                return Err(crate::error::ServerError::Store(format!(
                    "unknown job status {other:?} in the store"
                )));
            }
        })
    }
}

/// Progress as the pipeline last reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    /// The step running (the pipeline's words, e.g. "beta diversity").
    pub step: String,
    pub done: u64,
    pub total: u64,
}

/// One job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    /// Name of the key that created it (its owner).
    pub key_name: String,
    pub status: JobStatus,
    /// The analysis config as submitted (JSON object).
    pub config: String,
    pub progress: Option<Progress>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub cancel_requested: bool,
    /// How often it was claimed (1 for a job that ran once).
    pub attempts: i64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Interrupted by shutdown: back to the queue.
    Requeue,
}

/// Audit actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Create,
    Read,
    Delete,
    Expire,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Read => "read",
            AuditAction::Delete => "delete",
            AuditAction::Expire => "expire",
        }
    }
}

/// One audit record: who (which key) did what to which job, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub key_name: String,
    pub action: String,
    pub job_id: String,
    /// What was read (status, report, results, table name).
    pub detail: String,
}

/// A boxed future, so the store can sit behind `Arc<dyn JobStore>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// The job queue and audit log.
pub trait JobStore: Send + Sync + 'static {
    /// Records a queued job unless its key already has `max_active` jobs queued or running;
    /// `false` means refused for that reason.
    fn insert(&self, job: Job, max_active: u64) -> StoreFuture<'_, bool>;
    fn get(&self, id: &str) -> StoreFuture<'_, Option<Job>>;
    /// The key's jobs, newest first.
    fn list(&self, key_name: &str) -> StoreFuture<'_, Vec<Job>>;
    /// Takes the oldest queued job for `node` (queued → running).
    fn claim(&self, node: &str, now: i64) -> StoreFuture<'_, Option<Job>>;
    /// Stores progress and keeps the job's lease alive; returns whether a cancel was asked.
    fn heartbeat(&self, id: &str, progress: Option<Progress>, now: i64) -> StoreFuture<'_, bool>;
    fn finish(&self, id: &str, outcome: Outcome, now: i64) -> StoreFuture<'_, ()>;
    /// Running jobs of `node` back to queued (the node restarted); returns how many.
    fn requeue_node(&self, node: &str) -> StoreFuture<'_, u64>;
    /// Running jobs whose heartbeat is older than `before` back to queued (their host died).
    fn requeue_stale(&self, before: i64) -> StoreFuture<'_, u64>;
    /// Marks a running job for cancellation; returns its status (None: no such job).
    fn request_cancel(&self, id: &str) -> StoreFuture<'_, Option<JobStatus>>;
    fn delete(&self, id: &str) -> StoreFuture<'_, ()>;
    /// Ids of jobs created before `before` that are not running (retention).
    fn expired(&self, before: i64) -> StoreFuture<'_, Vec<String>>;
    /// Every job id (orphan sweep).
    fn all_ids(&self) -> StoreFuture<'_, Vec<String>>;
    fn audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()>;
    fn audit_log(&self) -> StoreFuture<'_, Vec<AuditEntry>>;
}

/// The columns both back ends read, in this order.
pub(crate) const JOB_COLUMNS: &str = "id, key_name, status, config, step, done, total, error, \
     created_at, started_at, finished_at, cancel_requested, attempts";

/// Shared tests every back end must pass (called from each back end's tests).
#[cfg(test)]
pub(crate) mod conformance {
    use super::*;

    pub fn job(id: &str, key: &str, created_at: i64) -> Job {
        Job {
            id: id.to_string(),
            key_name: key.to_string(),
            status: JobStatus::Queued,
            config: "{}".to_string(),
            progress: None,
            error: None,
            created_at,
            started_at: None,
            finished_at: None,
            cancel_requested: false,
            attempts: 0,
        }
    }

    pub async fn run(store: &dyn JobStore) {
        assert!(store.insert(job("a1", "k1", 10), 2).await.expect("insert"));
        assert!(store.insert(job("a2", "k1", 11), 2).await.expect("insert"));
        assert!(
            !store.insert(job("a3", "k1", 12), 2).await.expect("insert"),
            "a third active job of k1 is over the limit of 2"
        );
        assert!(store.insert(job("b1", "k2", 13), 2).await.expect("insert"));
        assert_eq!(store.get("a3").await.expect("get"), None);
        let listed: Vec<String> = store
            .list("k1")
            .await
            .expect("list")
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(listed, ["a2", "a1"], "own jobs, newest first");

        // Oldest first; each claimed once.
        let c = store.claim("n1", 100).await.expect("claim").expect("a job");
        assert_eq!(
            (c.id.as_str(), c.status, c.attempts),
            ("a1", JobStatus::Running, 1)
        );
        let d = store.claim("n2", 100).await.expect("claim").expect("a job");
        assert_eq!(d.id, "a2");
        let p = Progress {
            step: "alpha".into(),
            done: 2,
            total: 9,
        };
        assert!(
            !store
                .heartbeat("a1", Some(p.clone()), 101)
                .await
                .expect("hb")
        );
        assert_eq!(
            store.get("a1").await.expect("get").expect("job").progress,
            Some(p)
        );
        // n1 restarts: its job goes back, n2's stays.
        assert_eq!(store.requeue_node("n1").await.expect("requeue"), 1);
        assert_eq!(
            store.get("a1").await.expect("get").expect("job").status,
            JobStatus::Queued
        );
        // n2's heartbeat (100) is stale at 150 and a1 is queued again.
        assert_eq!(store.requeue_stale(150).await.expect("stale"), 1);
        let again = store.claim("n1", 200).await.expect("claim").expect("a job");
        assert_eq!((again.id.as_str(), again.attempts), ("a1", 2));
        assert_eq!(
            store.request_cancel("a1").await.expect("cancel"),
            Some(JobStatus::Running)
        );
        assert!(store.heartbeat("a1", None, 201).await.expect("hb"));
        store
            .finish("a1", Outcome::Failed("bad table".into()), 202)
            .await
            .expect("finish");
        let failed = store.get("a1").await.expect("get").expect("job");
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("bad table"));
        assert_eq!(failed.finished_at, Some(202));
        let a2 = store.claim("n1", 203).await.expect("claim").expect("a job");
        store
            .finish(&a2.id, Outcome::Requeue, 204)
            .await
            .expect("finish");
        assert_eq!(
            store.get(&a2.id).await.expect("get").expect("job").status,
            JobStatus::Queued
        );
        let a2 = store.claim("n1", 205).await.expect("claim").expect("a job");
        store
            .finish(&a2.id, Outcome::Done, 206)
            .await
            .expect("finish");
        let b1 = store.claim("n1", 207).await.expect("claim").expect("b1");
        assert_eq!(b1.id, "b1");
        assert_eq!(store.claim("n1", 208).await.expect("claim"), None);
        // Retention: created before 12 and not running.
        let mut old = store.expired(12).await.expect("expired");
        old.sort();
        assert_eq!(old, ["a1", "a2"]);
        store.delete("a1").await.expect("delete");
        assert_eq!(store.get("a1").await.expect("get"), None);
        assert_eq!(store.request_cancel("a1").await.expect("cancel"), None);
        let mut ids = store.all_ids().await.expect("ids");
        ids.sort();
        assert_eq!(ids, ["a2", "b1"]);
        store
            .audit(AuditEntry {
                at: 5,
                key_name: "k1".into(),
                action: "read".into(),
                job_id: "a2".into(),
                detail: "report".into(),
            })
            .await
            .expect("audit");
        let log = store.audit_log().await.expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].detail, "report");
    }
}
