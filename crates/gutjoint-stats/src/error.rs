//! Why a statistical analysis refused its input.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("formula: {0}")]
    Formula(String),
    #[error("metadata: {0}")]
    Metadata(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
