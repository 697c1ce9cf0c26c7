/*!
Typed errors for every reader and writer in this crate.

Each error carries where the problem is (file, and line or record when there is one) and
what was expected, so that the command line can print one sentence a user can act on
without knowing anything about the parser.
*/

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the user's input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or a description such as `<stdin>` or `table.qza:uuid/data/feature-table.biom`).
    pub source: String,
    /// 1-based line number, when the input is line-oriented.
    pub line: Option<usize>,
}

impl Location {
    pub fn file(path: &Path) -> Self {
        Self {
            source: path.display().to_string(),
            line: None,
        }
    }

    pub fn named(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            line: None,
        }
    }

    #[must_use]
    pub fn at_line(&self, line: usize) -> Self {
        Self {
            source: self.source.clone(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}", self.source),
            None => write!(f, "{}", self.source),
        }
    }
}

/// Every way reading or writing a table, tree, metadata or distance matrix can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused to read or write the file.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The content does not follow the format; `message` says what was expected.
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },

    /// The content parsed but breaks a rule of the data model (duplicate ids, negative
    /// abundances, indices out of range…).
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },

    /// The file is of a kind gutjoint recognises but cannot use here (a `.qza` of another
    /// semantic type, a format given to the wrong command).
    #[error("{location}: {message}")]
    Unsupported { location: Location, message: String },
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn syntax(location: &Location, message: impl Into<String>) -> Self {
        Self::Syntax {
            location: location.clone(),
            message: message.into(),
        }
    }

    pub fn invalid(location: &Location, message: impl Into<String>) -> Self {
        Self::Invalid {
            location: location.clone(),
            message: message.into(),
        }
    }

    pub fn unsupported(location: &Location, message: impl Into<String>) -> Self {
        Self::Unsupported {
            location: location.clone(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
