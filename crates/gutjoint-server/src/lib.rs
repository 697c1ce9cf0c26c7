/*!
# gutjoint-server — `gutjoint serve`

gutjoint as a service on a lab server, for the people in a rheumatology group who do not run
command lines: upload a table (and metadata, a tree), wait, read the report. The service
stores files, queues jobs and reports progress; the analysis is the pipeline library's
(through the [`runner::Analysis`] seam), so the service adds no analysis logic.

| room | what |
| --- | --- |
| [`api`] | axum routes, JSON errors, the OpenAPI document, the upload page at `/` |
| [`store`] | the job store trait; SQLite (default, one host) and PostgreSQL (several hosts) |
| [`worker`] | claiming and running jobs, heartbeats, cancellation, time limit, retention |
| [`keys`] | API keys (random, stored as SHA-256, compared in constant time) |
| [`files`] | the data directory: private permissions, whole-or-nothing uploads |

Durability: a job's files are moved into place and its record committed (SQLite with WAL and
full fsync) before `202 Accepted`; a server killed mid-job re-queues the job when it starts
again; a host that died is noticed by its stale heartbeat. Research use only: nothing the
service returns is a diagnosis.
*/

pub mod api;
pub mod client;
pub mod error;
pub mod files;
pub mod ids;
pub mod keys;
pub mod page;
pub mod pipeline;
pub mod runner;
pub mod store;
pub mod worker;

#[cfg(test)]
mod http_tests;

pub use error::{Result, ServerError};
pub use runner::{Analysis, JobInputs, JobObserver, StopReason, TableShape};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store::JobStore;
use tokio::sync::{Notify, watch};

/// Everything `gutjoint serve` can be told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Jobs run at once by this process.
    pub workers: usize,
    /// `None`: SQLite in the data directory; `Some(url)`: PostgreSQL.
    pub database: Option<String>,
    /// Name of this process in a shared queue (default: host name and port).
    pub node: Option<String>,
    pub limits: Limits,
}

/// The service's limits (each refusal says which limit and its value).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body of an upload, all files together.
    pub max_upload_bytes: u64,
    /// Largest table accepted, samples × features.
    pub max_cells: u64,
    /// Jobs one key may have queued or running at once.
    pub max_active_jobs_per_key: u64,
    /// Wall-time limit of one job.
    pub job_time_limit: Duration,
    /// Uploads and results older than this are deleted.
    pub retention: Duration,
    /// On SIGTERM, running jobs get this long to finish before going back to the queue.
    pub shutdown_grace: Duration,
    /// Largest total size of a request's headers.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 100 * 1024 * 1024,
            max_cells: 50_000_000,
            max_active_jobs_per_key: 4,
            job_time_limit: Duration::from_secs(3600),
            retention: Duration::from_secs(30 * 86_400),
            shutdown_grace: Duration::from_secs(20),
            max_header_bytes: 16 * 1024,
        }
    }
}

/// The running service's shared state.
pub struct Service {
    pub store: Arc<dyn JobStore>,
    pub data: files::DataDir,
    pub keys: keys::Keys,
    pub analysis: Arc<dyn Analysis>,
    pub limits: Limits,
    pub node: String,
    /// PostgreSQL: other hosts share the queue and the data directory.
    pub shared_store: bool,
    /// Wakes an idle worker when a job arrives.
    pub job_added: Notify,
    pub shutting_down: watch::Receiver<bool>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("data", &self.data)
            .field("node", &self.node)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// This host's name (for the default node name).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Opens the store the options name.
pub async fn open_store(
    options: &ServeOptions,
    data: &files::DataDir,
) -> Result<(Arc<dyn JobStore>, bool)> {
    Ok(match &options.database {
        None => (
            Arc::new(store::sqlite::SqliteStore::open(&data.db_path())?),
            false,
        ),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => (
            Arc::new(store::postgres::PostgresStore::open(url).await?),
            true,
        ),
        Some(url) if url.starts_with("sqlite:") => {
            let path = PathBuf::from(
                url.trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:"),
            );
            (Arc::new(store::sqlite::SqliteStore::open(&path)?), false)
        }
        Some(other) => {
            return Err(ServerError::Config(format!(
                "database {:?}: expected postgres://… or sqlite:PATH",
                other.split('@').next_back().unwrap_or("")
            )));
        }
    })
}

/// Runs the service until SIGTERM or Ctrl-C: binds, prints `listening on http://ADDR` on
/// stdout (tests bind port 0 and read it), serves, then stops taking jobs and lets running
/// ones finish within the grace period (or re-queues them).
pub async fn serve(options: ServeOptions, analysis: Arc<dyn Analysis>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| ServerError::Config(format!("cannot listen on {}: {e}", options.bind)))?;
    serve_on(listener, options, analysis, wait_for_signal()).await
}

/// [`serve`] on a bound listener until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    analysis: Arc<dyn Analysis>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let data = files::DataDir::open(&options.data_dir)?;
    let (store, shared_store) = open_store(&options, &data).await?;
    let local = listener
        .local_addr()
        .map_err(|e| ServerError::Config(format!("listening socket: {e}")))?;
    let node = options
        .node
        .clone()
        .unwrap_or_else(|| format!("{}:{}", host_name(), local.port()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let service = Arc::new(Service {
        store,
        keys: keys::Keys::new(&data.keys_path()),
        data,
        analysis,
        limits: options.limits.clone(),
        node: node.clone(),
        shared_store,
        job_added: Notify::new(),
        shutting_down: stop_rx.clone(),
    });
    worker::startup_recovery(&service).await?;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..options.workers.max(1) {
        tasks.spawn(worker::worker_loop(Arc::clone(&service), stop_rx.clone()));
    }
    tasks.spawn(worker::housekeeping_loop(
        Arc::clone(&service),
        stop_rx.clone(),
    ));

    let app = api::router(Arc::clone(&service));
    tracing::info!(address = %local, node = %node, workers = options.workers.max(1), "listening");
    println!("listening on http://{local}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(
            "shutting down: no new requests or jobs; running jobs finish or go back to the queue"
        );
        let _ = stop_tx.send(true);
        // Keep the channel open so receivers see `true`, not a closed sender.
        std::future::pending::<()>().await;
    });
    let mut stop_http = stop_rx.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop_http.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(|e| ServerError::Config(format!("server: {e}")))?;
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// JSON lines on stderr, one per request and per job transition; never a key or sample data.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_current_span(false)
        .try_init();
}

/// Builds a tokio runtime and runs [`serve`] on it (for the CLI, which is not async).
pub fn serve_blocking(options: ServeOptions, analysis: Arc<dyn Analysis>) -> Result<()> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ServerError::Config(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(options, analysis))
}
