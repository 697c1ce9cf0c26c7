/*!
Reading the user's inputs with the options every command shares (`--format`,
`--samples-as-rows`, `--rank`, `--taxonomy`), and telling the user what the reader set aside.
*/

use anyhow::{Context, Result};
use clap::Args;
use gutjoint_table::{Column, Metadata, ReadTable};
use std::path::{Path, PathBuf};

/// Column `name` of the metadata read from `path`, or an error that names the file and lists
/// the columns it has.
pub fn metadata_column<'m>(md: &'m Metadata, path: &Path, name: &str) -> Result<&'m Column> {
    md.column(name).with_context(|| {
        format!(
            "{}: no column '{name}'; the columns are: {}",
            path.display(),
            md.column_names().join(", ")
        )
    })
}

/// Options for reading a feature table.
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// Feature table: BIOM (HDF5 or JSON), QIIME 2 .qza, MetaPhlAn profile(s) or a directory of
    /// them, TSV/CSV (optionally gzipped). Several MetaPhlAn profiles may be given.
    #[arg(value_name = "TABLE", required = true)]
    pub table: Vec<PathBuf>,
    /// Skip format sniffing: biom-hdf5, biom-json, qza, metaphlan, tsv, csv.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Plain TSV/CSV has samples as rows and features as columns.
    #[arg(long)]
    pub samples_as_rows: bool,
    /// Work at this rank: MetaPhlAn rows of that rank are kept; other tables are collapsed by
    /// lineage, summing abundances (domain, phylum, class, order, family, genus, species).
    #[arg(long, value_name = "RANK")]
    pub rank: Option<String>,
    /// Taxonomy file for the features (QIIME 2 `Feature ID<TAB>Taxon` or one column per rank).
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
}

impl TableArgs {
    /// Reads the table, attaches taxonomy, applies `--rank`, and prints reader notes to stderr.
    pub fn read(&self, quiet: bool) -> Result<ReadTable> {
        let read = gutjoint_pipeline::read_input_table(&gutjoint_pipeline::TableInput {
            table: self.table.clone(),
            format: self.format.clone(),
            samples_as_rows: self.samples_as_rows,
            rank: self.rank.clone(),
            taxonomy: self.taxonomy.clone(),
        })?;
        if !quiet {
            for note in &read.notes {
                eprintln!("note: {note}");
            }
        }
        Ok(read)
    }
}
