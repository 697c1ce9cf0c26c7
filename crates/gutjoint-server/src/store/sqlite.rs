//! The default job store: one SQLite file in the data directory, in WAL mode with full fsync
//! on commit, so a job acknowledged with 202 survives a crash of the process or the machine.
//! One connection behind a mutex serialises writers (claims are atomic without row locks);
//! calls run on tokio's blocking pool.

use super::{AuditEntry, JOB_COLUMNS, Job, JobStatus, JobStore, Outcome, Progress, StoreFuture};
use crate::error::{Result, ServerError};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    key_name TEXT NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    step TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    heartbeat_at INTEGER,
    claimed_by TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key_name, created_at);
CREATE TABLE IF NOT EXISTS audit (
    at INTEGER NOT NULL,
    key_name TEXT NOT NULL,
    action TEXT NOT NULL,
    job_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
";

/// SQLite job store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        // SQLite creates the file with the process umask; the data lives with patients' data.
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let conn = Arc::clone(&self.conn);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut guard = conn.lock().map_err(|_| {
                    ServerError::Store("the SQLite connection lock is poisoned".into())
                })?;
                f(&mut guard)
            })
            .await
            .map_err(|e| ServerError::Store(format!("store task failed: {e}")))?
        })
    }
}

fn row_to_job(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Job, String)> {
    let step: Option<String> = row.get(4)?;
    let done: i64 = row.get(5)?;
    let total: i64 = row.get(6)?;
    let status: String = row.get(2)?;
    Ok((
        Job {
            id: row.get(0)?,
            key_name: row.get(1)?,
            status: JobStatus::Queued,
            config: row.get(3)?,
            progress: step.map(|step| Progress {
                step,
                done: done.max(0) as u64,
                total: total.max(0) as u64,
            }),
            error: row.get(7)?,
            created_at: row.get(8)?,
            started_at: row.get(9)?,
            finished_at: row.get(10)?,
            cancel_requested: row.get::<_, i64>(11)? != 0,
            attempts: row.get(12)?,
        },
        status,
    ))
}

fn finish_row(pair: (Job, String)) -> Result<Job> {
    let (mut job, status) = pair;
    job.status = JobStatus::parse(&status)?;
    Ok(job)
}

impl JobStore for SqliteStore {
    fn insert(&self, job: Job, max_active: u64) -> StoreFuture<'_, bool> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let active: i64 = tx.query_row(
                "SELECT count(*) FROM jobs WHERE key_name = ?1 AND status IN ('queued', 'running')",
                params![job.key_name],
                |r| r.get(0),
            )?;
            if active as u64 >= max_active {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO jobs (id, key_name, status, config, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job.id, job.key_name, job.status.as_str(), job.config, job.created_at],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn get(&self, id: &str) -> StoreFuture<'_, Option<Job>> {
        let id = id.to_string();
        self.with(move |c| {
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
            c.query_row(&sql, params![id], row_to_job)
                .optional()?
                .map(finish_row)
                .transpose()
        })
    }

    fn list(&self, key_name: &str) -> StoreFuture<'_, Vec<Job>> {
        let key = key_name.to_string();
        self.with(move |c| {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE key_name = ?1 ORDER BY created_at DESC, rowid DESC"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(params![key], row_to_job)?;
            rows.map(|r| finish_row(r?)).collect()
        })
    }

    fn claim(&self, node: &str, now: i64) -> StoreFuture<'_, Option<Job>> {
        let node = node.to_string();
        self.with(move |c| {
            let sql = format!(
                "UPDATE jobs SET status = 'running', claimed_by = ?1, started_at = ?2, \
                 heartbeat_at = ?2, attempts = attempts + 1, step = NULL, done = 0, total = 0 \
                 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' \
                             ORDER BY created_at, rowid LIMIT 1) \
                 RETURNING {JOB_COLUMNS}"
            );
            c.query_row(&sql, params![node, now], row_to_job)
                .optional()?
                .map(finish_row)
                .transpose()
        })
    }

    fn heartbeat(&self, id: &str, progress: Option<Progress>, now: i64) -> StoreFuture<'_, bool> {
        let id = id.to_string();
        self.with(move |c| {
            let cancel: Option<i64> = match progress {
                Some(p) => c
                    .query_row(
                        "UPDATE jobs SET heartbeat_at = ?2, step = ?3, done = ?4, total = ?5 \
                         WHERE id = ?1 RETURNING cancel_requested",
                        params![id, now, p.step, p.done as i64, p.total as i64],
                        |r| r.get(0),
                    )
                    .optional()?,
                None => c
                    .query_row(
                        "UPDATE jobs SET heartbeat_at = ?2 WHERE id = ?1 RETURNING cancel_requested",
                        params![id, now],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            // A job deleted from under its worker counts as cancelled.
            Ok(cancel.is_none_or(|c| c != 0))
        })
    }

    fn finish(&self, id: &str, outcome: Outcome, now: i64) -> StoreFuture<'_, ()> {
        let id = id.to_string();
        self.with(move |c| {
            match outcome {
                Outcome::Done => c.execute(
                    "UPDATE jobs SET status = 'done', finished_at = ?2, error = NULL, claimed_by = NULL WHERE id = ?1",
                    params![id, now],
                )?,
                Outcome::Failed(message) => c.execute(
                    "UPDATE jobs SET status = 'failed', finished_at = ?2, error = ?3, claimed_by = NULL WHERE id = ?1",
                    params![id, now, message],
                )?,
                Outcome::Requeue => c.execute(
                    "UPDATE jobs SET status = 'queued', claimed_by = NULL, step = NULL, done = 0, total = 0 WHERE id = ?1",
                    params![id],
                )?,
            };
            Ok(())
        })
    }

    fn requeue_node(&self, node: &str) -> StoreFuture<'_, u64> {
        let node = node.to_string();
        self.with(move |c| {
            Ok(c.execute(
                "UPDATE jobs SET status = 'queued', claimed_by = NULL, step = NULL, done = 0, total = 0 \
                 WHERE status = 'running' AND claimed_by = ?1",
                params![node],
            )? as u64)
        })
    }

    fn requeue_stale(&self, before: i64) -> StoreFuture<'_, u64> {
        self.with(move |c| {
            Ok(c.execute(
                "UPDATE jobs SET status = 'queued', claimed_by = NULL, step = NULL, done = 0, total = 0 \
                 WHERE status = 'running' AND heartbeat_at < ?1",
                params![before],
            )? as u64)
        })
    }

    fn request_cancel(&self, id: &str) -> StoreFuture<'_, Option<JobStatus>> {
        let id = id.to_string();
        self.with(move |c| {
            let status: Option<String> = c
                .query_row(
                    "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 RETURNING status",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            status.map(|s| JobStatus::parse(&s)).transpose()
        })
    }

    fn delete(&self, id: &str) -> StoreFuture<'_, ()> {
        let id = id.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM jobs WHERE id = ?1", params![id])?;
            Ok(())
        })
    }

    fn expired(&self, before: i64) -> StoreFuture<'_, Vec<String>> {
        self.with(move |c| {
            let mut stmt =
                c.prepare("SELECT id FROM jobs WHERE created_at < ?1 AND status <> 'running'")?;
            let rows = stmt.query_map(params![before], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    fn all_ids(&self) -> StoreFuture<'_, Vec<String>> {
        self.with(move |c| {
            let mut stmt = c.prepare("SELECT id FROM jobs")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    fn audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit (at, key_name, action, job_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![entry.at, entry.key_name, entry.action, entry.job_id, entry.detail],
            )?;
            Ok(())
        })
    }

    fn audit_log(&self) -> StoreFuture<'_, Vec<AuditEntry>> {
        self.with(move |c| {
            let mut stmt =
                c.prepare("SELECT at, key_name, action, job_id, detail FROM audit ORDER BY rowid")?;
            let rows = stmt.query_map([], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    key_name: r.get(1)?,
                    action: r.get(2)?,
                    job_id: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_store_conforms() {
        let dir = std::env::temp_dir().join(format!(
            "gutjoint-sqlite-{}",
            crate::ids::random_hex(6).expect("random")
        ));
        crate::files::create_private_dir(&dir).expect("dir");
        let store = SqliteStore::open(&dir.join("jobs.db")).expect("open");
        super::super::conformance::run(&store).await;
        // Reopening sees the same rows (the file is the store).
        drop(store);
        let again = SqliteStore::open(&dir.join("jobs.db")).expect("reopen");
        assert_eq!(again.all_ids().await.expect("ids").len(), 2);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
