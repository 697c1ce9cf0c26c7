//! Why an analysis could not run, with the file, column or name at fault. The messages say
//! nothing about command-line flags: each face renders them in its own words.

use std::path::PathBuf;

/// Every way [`crate::run`] and [`crate::write_outputs`] can fail. Sections that cannot run on
/// the given inputs (no species names for GMHI, too few samples for a classifier) do not fail
/// the run: they leave a note in the results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// Reading or writing a table, metadata, tree or distance matrix.
    #[error(transparent)]
    Table(#[from] gutjoint_table::Error),
    /// An ecology computation refused its input.
    #[error(transparent)]
    Ecology(#[from] gutjoint_ecology::Error),
    /// A statistical analysis refused its input.
    #[error(transparent)]
    Stats(#[from] gutjoint_stats::Error),
    /// A domain (dysbiosis, reference) analysis refused its input.
    #[error(transparent)]
    Axis(#[from] gutjoint_axis::Error),
    /// A knowledge table could not be read or parsed.
    #[error(transparent)]
    Knowledge(#[from] gutjoint_knowledge::Error),
    /// A configuration value is not one gutjoint knows.
    #[error("unknown {setting} '{value}'; expected {expected}")]
    UnknownValue {
        setting: &'static str,
        value: String,
        expected: String,
    },
    /// The configuration is inconsistent or incomplete.
    #[error("{0}")]
    Config(String),
    /// A metadata file lacks a column the configuration names.
    #[error("{path}: no column '{column}'; the columns are: {available}")]
    NoColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    /// No sample of the table is in the metadata with a value in the group column.
    #[error(
        "none of the table's {samples} sample ids is in {path} with a value in '{column}' (first table id: '{first_table_id}', first metadata id: '{first_metadata_id}')"
    )]
    NoSampleMatches {
        path: PathBuf,
        column: String,
        samples: usize,
        first_table_id: String,
        first_metadata_id: String,
    },
    /// An asset (built-in reference, knowledge table, demo file) is missing or unreadable.
    #[error("asset {name}: {message}")]
    Asset { name: String, message: String },
    /// Reading an input or writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A results or reference file is not valid JSON of the expected layout.
    #[error("{what}: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
    /// A results file cannot be read back (not JSON, another schema version, another layout).
    #[error(transparent)]
    Results(#[from] gutjoint_report::ReadError),
    /// The observer asked the run to stop.
    #[error("the analysis was cancelled")]
    Cancelled,
}

impl PipelineError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
