//! What can go wrong while setting up or running the service, with the file or store named.
//! Request-level problems are `api::ApiError` (an HTTP status and a message a person can act on).

use std::path::PathBuf;

/// Errors of the service's own machinery (data directory, key file, job store).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path}: {message}")]
    KeyFile { path: PathBuf, message: String },
    #[error("{0}")]
    Keys(String),
    #[error("job store (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("job store (PostgreSQL): {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("job store: {0}")]
    Store(String),
    #[error("{0}")]
    Config(String),
}

impl ServerError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ServerError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;
