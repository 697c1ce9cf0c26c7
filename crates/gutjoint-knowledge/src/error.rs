/*!
Typed errors for reading the knowledge tables.

The tables are curated by hand, so a mistake in one is a person's typo: every error names the
table (`knowledge/taxon_disease.tsv`, or the path a table was read from), the 1-based line, and
what was expected there, so that the fix is one edit away.
*/

use std::path::PathBuf;

/// Every way loading a knowledge table can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row (or the header, line 1) breaks the table's schema.
    #[error("{table} line {line}: {message}")]
    Row {
        /// `knowledge/<file>.tsv` for embedded tables, the path otherwise.
        table: String,
        /// 1-based line number; the header is line 1.
        line: usize,
        /// What was found and what was expected.
        message: String,
    },

    /// The operating system refused to read a table file.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl Error {
    pub(crate) fn row(table: &str, line: usize, message: impl Into<String>) -> Self {
        Error::Row {
            table: table.to_string(),
            line,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
