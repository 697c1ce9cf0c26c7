//! Reading the user's inputs the way every face does: the table with its format, orientation,
//! rank and taxonomy options, and metadata columns named in the configuration.

use crate::error::PipelineError;
use gutjoint_table::{Column, Format, Metadata, Rank, ReadOptions, ReadTable, read_table};
use std::path::{Path, PathBuf};

/// How to read a feature table: the options every command shares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInput {
    /// One table, a directory of MetaPhlAn profiles, or several profiles.
    pub table: Vec<PathBuf>,
    /// Format name, skipping sniffing.
    pub format: Option<String>,
    /// Plain TSV/CSV has samples as rows.
    pub samples_as_rows: bool,
    /// Work at this rank.
    pub rank: Option<String>,
    /// Taxonomy file for the features.
    pub taxonomy: Option<PathBuf>,
}

/// Parses a format name.
pub fn parse_format(name: &str) -> Result<Format, PipelineError> {
    Format::parse(name).ok_or_else(|| PipelineError::UnknownValue {
        setting: "table format",
        value: name.into(),
        expected: Format::NAMES.into(),
    })
}

/// Parses a rank name.
pub fn parse_rank(name: &str) -> Result<Rank, PipelineError> {
    Rank::parse(name).ok_or_else(|| PipelineError::UnknownValue {
        setting: "rank",
        value: name.into(),
        expected: "domain, phylum, class, order, family, genus, species or strain".into(),
    })
}

/// Reads the table, attaches the taxonomy and collapses to the rank asked for; what the reader
/// set aside is in the returned notes.
pub fn read_input_table(input: &TableInput) -> Result<ReadTable, PipelineError> {
    let format = input.format.as_deref().map(parse_format).transpose()?;
    let rank = input.rank.as_deref().map(parse_rank).transpose()?;
    let options = ReadOptions {
        format,
        samples_as_rows: input.samples_as_rows,
        metaphlan_rank: rank.unwrap_or(Rank::Species),
    };
    let mut read = match input.table.as_slice() {
        [] => return Err(PipelineError::Config("no feature table was given".into())),
        [one] => read_table(one, options)?,
        many => gutjoint_table::read::read_profiles(many, options.metaphlan_rank)?,
    };
    if let Some(path) = &input.taxonomy {
        let file = std::fs::File::open(path).map_err(|e| PipelineError::io(path, e))?;
        let taxonomy = gutjoint_table::taxonomy::read_taxonomy(
            std::io::BufReader::new(file),
            &gutjoint_table::Location::file(path),
        )?;
        let (table, missing) = gutjoint_table::taxonomy::attach(read.table, &taxonomy)?;
        if missing == table.n_features() {
            return Err(PipelineError::Config(format!(
                "{}: none of the table's {missing} feature ids appear in the taxonomy file",
                path.display()
            )));
        }
        if missing > 0 {
            read.notes.push(format!(
                "{missing} features have no entry in {} and were left unassigned",
                path.display()
            ));
        }
        read.table = table;
    }
    if let Some(rank) = rank
        && read.format != Format::Metaphlan
        && read.table.ranks_present().contains(&rank)
        && read
            .table
            .lineages()
            .is_some_and(|l| l.iter().any(|l| l.deepest_rank() != Some(rank)))
    {
        let before = read.table.n_features();
        read.table = read.table.collapse(rank)?;
        read.notes.push(format!(
            "collapsed {before} features to {} at {rank} level",
            read.table.n_features()
        ));
    }
    Ok(read)
}

/// Column `name` of the metadata read from `path`, or an error that names the file and lists
/// the columns it has.
pub fn metadata_column<'m>(
    md: &'m Metadata,
    path: &Path,
    name: &str,
) -> Result<&'m Column, PipelineError> {
    md.column(name).ok_or_else(|| PipelineError::NoColumn {
        path: path.to_path_buf(),
        column: name.into(),
        available: md.column_names().join(", "),
    })
}
