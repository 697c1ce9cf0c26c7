/*!
Reading the user's inputs with the options every command shares (`--format`,
`--samples-as-rows`, `--rank`, `--taxonomy`), and telling the user what the reader set aside.
*/

use anyhow::{Context, Result, bail};
use clap::Args;
use gutjoint_table::{Column, Format, Metadata, Rank, ReadOptions, ReadTable, read_table};
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
        let format = match &self.format {
            Some(f) => Some(Format::parse(f).with_context(|| {
                format!("unknown --format '{f}', expected one of {}", Format::NAMES)
            })?),
            None => None,
        };
        let rank = match &self.rank {
            Some(r) => Some(Rank::parse(r).with_context(|| format!("unknown --rank '{r}', expected domain, phylum, class, order, family, genus, species or strain"))?),
            None => None,
        };
        let options = ReadOptions {
            format,
            samples_as_rows: self.samples_as_rows,
            metaphlan_rank: rank.unwrap_or(Rank::Species),
        };
        let mut read = if self.table.len() == 1 {
            read_table(&self.table[0], options)?
        } else {
            gutjoint_table::read::read_profiles(&self.table, options.metaphlan_rank)?
        };
        if let Some(path) = &self.taxonomy {
            let file = std::fs::File::open(path)
                .with_context(|| format!("{}: cannot open the taxonomy file", path.display()))?;
            let taxonomy = gutjoint_table::taxonomy::read_taxonomy(
                std::io::BufReader::new(file),
                &gutjoint_table::Location::file(path),
            )?;
            let (table, missing) = gutjoint_table::taxonomy::attach(read.table, &taxonomy)?;
            if missing == table.n_features() {
                bail!(
                    "{}: none of the table's {} feature ids appear in the taxonomy file",
                    path.display(),
                    missing
                );
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
        if !quiet {
            for note in &read.notes {
                eprintln!("note: {note}");
            }
        }
        Ok(read)
    }
}
