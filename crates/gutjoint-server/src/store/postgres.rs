//! The job store for several hosts: PostgreSQL. Every `gutjoint serve` process pointed at the
//! same database (and the same shared data directory) takes jobs from one queue; a job is
//! claimed with `FOR UPDATE SKIP LOCKED`, so two hosts never run the same job and never wait
//! on each other's claim. A host's connection is re-opened when it drops.

use super::{AuditEntry, JOB_COLUMNS, Job, JobStatus, JobStore, Outcome, Progress, StoreFuture};
use crate::error::{Result, ServerError};
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    seq BIGSERIAL,
    id TEXT PRIMARY KEY,
    key_name TEXT NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    step TEXT,
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    heartbeat_at BIGINT,
    claimed_by TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created_at, seq);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key_name, created_at);
CREATE TABLE IF NOT EXISTS audit (
    seq BIGSERIAL,
    at BIGINT NOT NULL,
    key_name TEXT NOT NULL,
    action TEXT NOT NULL,
    job_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
";

/// An arbitrary constant naming the advisory lock that serialises schema creation.
const SCHEMA_LOCK: i64 = 0x6775_746a_6f69_6e74;

/// PostgreSQL job store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    url: String,
    /// Shared by every call that is one statement (tokio-postgres pipelines them).
    client: Arc<Mutex<Option<Arc<Client>>>>,
    /// Held alone for the one multi-statement transaction (insert under a key's limit).
    exclusive: Arc<Mutex<Option<Client>>>,
}

impl PostgresStore {
    /// Connects and creates the tables if they are missing (safe when several hosts start at
    /// once).
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let store = PostgresStore {
            url: url.to_string(),
            client: Arc::new(Mutex::new(None)),
            exclusive: Arc::new(Mutex::new(None)),
        };
        let client = store.client().await?;
        client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {SCHEMA} COMMIT;"
            ))
            .await?;
        Ok(store)
    }

    async fn client(&self) -> Result<Arc<Client>> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(self.connect().await?);
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }

    async fn connect(&self) -> Result<Client> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL connection closed");
            }
        });
        Ok(client)
    }
}

fn row_to_job(row: &Row) -> Result<Job> {
    let step: Option<String> = row.try_get(4)?;
    let done: i64 = row.try_get(5)?;
    let total: i64 = row.try_get(6)?;
    let status: String = row.try_get(2)?;
    Ok(Job {
        id: row.try_get(0)?,
        key_name: row.try_get(1)?,
        status: JobStatus::parse(&status)?,
        config: row.try_get(3)?,
        progress: step.map(|step| Progress {
            step,
            done: done.max(0) as u64,
            total: total.max(0) as u64,
        }),
        error: row.try_get(7)?,
        created_at: row.try_get(8)?,
        started_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
        cancel_requested: row.try_get(11)?,
        attempts: row.try_get(12)?,
    })
}

impl JobStore for PostgresStore {
    fn insert(&self, job: Job, max_active: u64) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let mut slot = self.exclusive.lock().await;
            if slot.as_ref().is_none_or(|c| c.is_closed()) {
                *slot = Some(self.connect().await?);
            }
            let Some(client) = slot.as_mut() else {
                return Err(ServerError::Store("no PostgreSQL connection".into()));
            };
            // One transaction per key at a time (an advisory lock on the key's name), so two
            // hosts cannot both let a key past its limit; the count runs after the lock is
            // held, in a fresh snapshot.
            let tx = client.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                &[&job.key_name],
            )
            .await?;
            let inserted = tx
                .execute(
                    "INSERT INTO jobs (id, key_name, status, config, created_at) \
                     SELECT $1, $2, $3, $4, $5 \
                     WHERE (SELECT count(*) FROM jobs \
                            WHERE key_name = $2 AND status IN ('queued', 'running')) < $6",
                    &[
                        &job.id,
                        &job.key_name,
                        &job.status.as_str(),
                        &job.config,
                        &job.created_at,
                        &(max_active.min(i64::MAX as u64) as i64),
                    ],
                )
                .await?;
            tx.commit().await?;
            Ok(inserted == 1)
        })
    }

    fn get(&self, id: &str) -> StoreFuture<'_, Option<Job>> {
        let id = id.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
            client
                .query_opt(&sql, &[&id])
                .await?
                .map(|r| row_to_job(&r))
                .transpose()
        })
    }

    fn list(&self, key_name: &str) -> StoreFuture<'_, Vec<Job>> {
        let key = key_name.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE key_name = $1 ORDER BY created_at DESC, seq DESC"
            );
            client
                .query(&sql, &[&key])
                .await?
                .iter()
                .map(row_to_job)
                .collect()
        })
    }

    fn claim(&self, node: &str, now: i64) -> StoreFuture<'_, Option<Job>> {
        let node = node.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let sql = format!(
                "UPDATE jobs SET status = 'running', claimed_by = $1, started_at = $2, \
                 heartbeat_at = $2, attempts = attempts + 1, step = NULL, done = 0, total = 0 \
                 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' \
                             ORDER BY created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING {JOB_COLUMNS}"
            );
            client
                .query_opt(&sql, &[&node, &now])
                .await?
                .map(|r| row_to_job(&r))
                .transpose()
        })
    }

    fn heartbeat(&self, id: &str, progress: Option<Progress>, now: i64) -> StoreFuture<'_, bool> {
        let id = id.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let row = match progress {
                Some(p) => {
                    client
                        .query_opt(
                            "UPDATE jobs SET heartbeat_at = $2, step = $3, done = $4, total = $5 \
                             WHERE id = $1 RETURNING cancel_requested",
                            &[&id, &now, &p.step, &(p.done as i64), &(p.total as i64)],
                        )
                        .await?
                }
                None => {
                    client
                        .query_opt(
                            "UPDATE jobs SET heartbeat_at = $2 WHERE id = $1 RETURNING cancel_requested",
                            &[&id, &now],
                        )
                        .await?
                }
            };
            match row {
                Some(r) => Ok(r.try_get::<_, bool>(0)?),
                None => Ok(true),
            }
        })
    }

    fn finish(&self, id: &str, outcome: Outcome, now: i64) -> StoreFuture<'_, ()> {
        let id = id.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            match outcome {
                Outcome::Done => client
                    .execute(
                        "UPDATE jobs SET status = 'done', finished_at = $2, error = NULL, claimed_by = NULL WHERE id = $1",
                        &[&id, &now],
                    )
                    .await?,
                Outcome::Failed(message) => client
                    .execute(
                        "UPDATE jobs SET status = 'failed', finished_at = $2, error = $3, claimed_by = NULL WHERE id = $1",
                        &[&id, &now, &message],
                    )
                    .await?,
                Outcome::Requeue => client
                    .execute(
                        "UPDATE jobs SET status = 'queued', claimed_by = NULL, step = NULL, done = 0, total = 0 WHERE id = $1",
                        &[&id],
                    )
                    .await?,
            };
            Ok(())
        })
    }

    fn requeue_node(&self, node: &str) -> StoreFuture<'_, u64> {
        let node = node.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            Ok(client
                .execute(
                    "UPDATE jobs SET status = 'queued', claimed_by = NULL, step = NULL, done = 0, total = 0 \
                     WHERE status = 'running' AND claimed_by = $1",
                    &[&node],
                )
                .await?)
        })
    }

    fn requeue_stale(&self, before: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            Ok(client
                .execute(
                    "UPDATE jobs SET status = 'queued', claimed_by = NULL, step = NULL, done = 0, total = 0 \
                     WHERE status = 'running' AND heartbeat_at < $1",
                    &[&before],
                )
                .await?)
        })
    }

    fn request_cancel(&self, id: &str) -> StoreFuture<'_, Option<JobStatus>> {
        let id = id.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            client
                .query_opt(
                    "UPDATE jobs SET cancel_requested = TRUE WHERE id = $1 RETURNING status",
                    &[&id],
                )
                .await?
                .map(|r| JobStatus::parse(&r.try_get::<_, String>(0)?))
                .transpose()
        })
    }

    fn delete(&self, id: &str) -> StoreFuture<'_, ()> {
        let id = id.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute("DELETE FROM jobs WHERE id = $1", &[&id])
                .await?;
            Ok(())
        })
    }

    fn expired(&self, before: i64) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .query(
                    "SELECT id FROM jobs WHERE created_at < $1 AND status <> 'running'",
                    &[&before],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0).map_err(ServerError::from))
                .collect()
        })
    }

    fn all_ids(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .query("SELECT id FROM jobs", &[])
                .await?
                .iter()
                .map(|r| r.try_get(0).map_err(ServerError::from))
                .collect()
        })
    }

    fn audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "INSERT INTO audit (at, key_name, action, job_id, detail) VALUES ($1, $2, $3, $4, $5)",
                    &[&entry.at, &entry.key_name, &entry.action, &entry.job_id, &entry.detail],
                )
                .await?;
            Ok(())
        })
    }

    fn audit_log(&self) -> StoreFuture<'_, Vec<AuditEntry>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .query(
                    "SELECT at, key_name, action, job_id, detail FROM audit ORDER BY seq",
                    &[],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(AuditEntry {
                        at: r.try_get(0)?,
                        key_name: r.try_get(1)?,
                        action: r.try_get(2)?,
                        job_id: r.try_get(3)?,
                        detail: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }
}

/// For tests: a fresh database on the server of `admin_url` (dropped by nobody: CI's cluster
/// is thrown away), returned as a URL of the same shape.
pub async fn create_test_database(admin_url: &str) -> Result<String> {
    let name = format!("gutjoint_test_{}", crate::ids::random_hex(6)?);
    let (client, connection) = tokio_postgres::connect(admin_url, NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    with_database(admin_url, &name)
}

/// `url` with its database replaced by `name` (URL form `postgres://…/db?…` or key=value form).
pub fn with_database(url: &str, name: &str) -> Result<String> {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = before_query.split('/').next().unwrap_or("");
        let mut out = format!("{scheme}://{authority}/{name}");
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        Ok(out)
    } else if url.contains('=') {
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|part| !part.starts_with("dbname="))
            .collect();
        Ok(format!("{} dbname={name}", kept.join(" ")))
    } else {
        Err(ServerError::Config(format!(
            "{url:?} is not a PostgreSQL connection string"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_replaced_in_both_url_forms() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5433/postgres?sslmode=disable", "x")
                .expect("url"),
            "postgres://u@127.0.0.1:5433/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://u@h", "x").expect("url"),
            "postgresql://u@h/x"
        );
        assert_eq!(
            with_database("host=/run/pg user=postgres dbname=postgres", "x").expect("url"),
            "host=/run/pg user=postgres dbname=x"
        );
    }

    /// Needs a PostgreSQL server: CI starts one and sets GUTJOINT_TEST_POSTGRES (and
    /// GUTJOINT_REQUIRE_POSTGRES, which turns a missing URL into a failure).
    #[tokio::test]
    async fn postgres_store_conforms() {
        let Some(url) = std::env::var("GUTJOINT_TEST_POSTGRES").ok() else {
            assert!(
                std::env::var_os("GUTJOINT_REQUIRE_POSTGRES").is_none(),
                "GUTJOINT_REQUIRE_POSTGRES is set but GUTJOINT_TEST_POSTGRES is not"
            );
            eprintln!("skipped: GUTJOINT_TEST_POSTGRES is not set (no PostgreSQL server)");
            return;
        };
        let db = create_test_database(&url).await.expect("create database");
        let store = PostgresStore::open(&db).await.expect("open");
        super::super::conformance::run(&store).await;
        // A second host opening the same database sees the same queue.
        let other = PostgresStore::open(&db).await.expect("second host");
        assert_eq!(other.all_ids().await.expect("ids").len(), 2);
    }

    /// Many claimers at once never take the same job twice (SKIP LOCKED).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_claims_are_disjoint() {
        let Some(url) = std::env::var("GUTJOINT_TEST_POSTGRES").ok() else {
            assert!(std::env::var_os("GUTJOINT_REQUIRE_POSTGRES").is_none());
            eprintln!("skipped: GUTJOINT_TEST_POSTGRES is not set (no PostgreSQL server)");
            return;
        };
        let db = create_test_database(&url).await.expect("create database");
        let store = PostgresStore::open(&db).await.expect("open");
        for i in 0..40 {
            let job = super::super::conformance::job(&format!("j{i:02}"), "k", i);
            assert!(store.insert(job, 1000).await.expect("insert"));
        }
        let mut hosts = Vec::new();
        for h in 0..4 {
            let host = PostgresStore::open(&db).await.expect("host");
            hosts.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(job) = host.claim(&format!("h{h}"), 1).await.expect("claim") {
                    got.push(job.id);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for h in hosts {
            all.extend(h.await.expect("join"));
        }
        all.sort();
        let expected: Vec<String> = (0..40).map(|i| format!("j{i:02}")).collect();
        assert_eq!(all, expected, "every job claimed exactly once");
    }
}
