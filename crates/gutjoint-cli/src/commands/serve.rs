//! `gutjoint serve` (the HTTP service and upload page) and `gutjoint keys` (its API keys):
//! flags to options; the service itself lives in the gutjoint-server crate.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Run gutjoint as an HTTP service: an upload page at `/`, a JSON API under `/api/v1`
/// (described at /api/v1/openapi.json), persistent jobs, API keys and limits. Loopback only
/// unless --bind says otherwise; put a TLS reverse proxy in front for other machines.
/// Stops on SIGTERM or Ctrl-C, letting running jobs finish (or re-queueing them).
///
/// Example:
///   gutjoint keys create --data-dir gutjoint-data --name lab
///   gutjoint serve --data-dir gutjoint-data --bind 127.0.0.1:8080
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port, printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub bind: SocketAddr,
    /// Folder for uploads, results, keys and the SQLite job store (made private to this user).
    #[arg(long, default_value = "gutjoint-data", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Jobs run at once by this process.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub workers: usize,
    /// Largest upload (all files of one job together), in MiB.
    #[arg(long, default_value_t = 100, value_name = "M")]
    pub max_upload_mb: u64,
    /// Job store: postgres://USER@HOST/DB shares one queue between hosts (with --data-dir on
    /// a shared folder); default: SQLite in the data directory.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Largest table accepted, samples × features.
    #[arg(long, default_value_t = 50_000_000, value_name = "CELLS")]
    pub max_cells: u64,
    /// Jobs one key may have queued or running at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_jobs_per_key: u64,
    /// Wall-time limit of one job, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub job_timeout: u64,
    /// Days after which a job's uploads and results are deleted.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub retention_days: u64,
    /// On SIGTERM, seconds running jobs get to finish before going back to the queue.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub shutdown_grace: u64,
    /// Name of this process in a shared PostgreSQL queue (default: host name and port).
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Folder with the knowledge base, references and demo data (default: the embedded ones).
    #[arg(long, value_name = "DIR")]
    pub assets: Option<PathBuf>,
}

pub fn run_serve(args: ServeArgs) -> Result<()> {
    let analysis = Arc::new(
        gutjoint_server::pipeline::PipelineAnalysis::new(args.assets.as_deref())
            .context("loading the analysis assets")?,
    );
    let options = gutjoint_server::ServeOptions {
        bind: args.bind,
        data_dir: args.data_dir,
        workers: args.workers,
        database: args.database,
        node: args.node,
        limits: gutjoint_server::Limits {
            max_upload_bytes: args.max_upload_mb.saturating_mul(1024 * 1024),
            max_cells: args.max_cells,
            max_active_jobs_per_key: args.max_jobs_per_key,
            job_time_limit: Duration::from_secs(args.job_timeout),
            retention: Duration::from_secs(args.retention_days.saturating_mul(86_400)),
            shutdown_grace: Duration::from_secs(args.shutdown_grace),
            ..gutjoint_server::Limits::default()
        },
    };
    gutjoint_server::serve_blocking(options, analysis)?;
    Ok(())
}

/// Manage the API keys of `gutjoint serve`. A key is shown once, when it is created (the last
/// line of stdout); the server stores only its hash.
///
/// Example:
///   gutjoint keys create --data-dir gutjoint-data --name rheum-lab
///   gutjoint keys list --data-dir gutjoint-data
///   gutjoint keys revoke rheum-lab --data-dir gutjoint-data
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysAction {
    /// Create a key and print it (store it now: it is not shown again).
    Create {
        /// The service's data directory.
        #[arg(long, default_value = "gutjoint-data", value_name = "DIR")]
        data_dir: PathBuf,
        /// A name for the key's holder (letters, digits, '.', '_', '-').
        #[arg(long)]
        name: String,
    },
    /// List keys (names and dates; never the keys).
    List {
        #[arg(long, default_value = "gutjoint-data", value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Revoke a key: requests with it are refused at once.
    Revoke {
        /// The key's name.
        name: String,
        #[arg(long, default_value = "gutjoint-data", value_name = "DIR")]
        data_dir: PathBuf,
    },
}

fn keys_of(data_dir: &std::path::Path) -> Result<gutjoint_server::keys::Keys> {
    let data = gutjoint_server::files::DataDir::open(data_dir)?;
    Ok(gutjoint_server::keys::Keys::new(&data.keys_path()))
}

pub fn run_keys(args: KeysArgs) -> Result<()> {
    match args.action {
        KeysAction::Create { data_dir, name } => {
            let key = keys_of(&data_dir)?.create(&name)?;
            eprintln!("created key {name:?}; store it now, it is not shown again:");
            println!("{key}");
        }
        KeysAction::List { data_dir } => {
            println!("name\tcreated\trevoked");
            for k in keys_of(&data_dir)?.list()? {
                println!(
                    "{}\t{}\t{}",
                    k.name,
                    utc(k.created_at),
                    k.revoked_at.map(utc).unwrap_or_else(|| "-".into())
                );
            }
        }
        KeysAction::Revoke { name, data_dir } => {
            keys_of(&data_dir)?.revoke(&name)?;
            eprintln!("revoked key {name:?}");
        }
    }
    Ok(())
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (days to civil date: H. Hinnant's algorithm).
fn utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates_by_hand() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 12:34:56 UTC = 951827696 (leap day of a century leap year).
        assert_eq!(super::utc(951_827_696), "2000-02-29T12:34:56Z");
        assert_eq!(super::utc(1_798_761_599), "2026-12-31T23:59:59Z");
    }
}
