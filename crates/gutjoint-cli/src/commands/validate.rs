//! `gutjoint validate`: check a tree, metadata file or distance matrix before using it.

use crate::output;
use anyhow::Result;
use clap::ValueEnum;
use gutjoint_table::{read_distance_file, read_metadata_file, read_tree_file};
use serde_json::json;
use std::path::PathBuf;

/// Check that a Newick tree, QIIME 2 metadata file or distance matrix (lsmat, or `.npy` with
/// its `.ids.txt`) is readable, and summarise it. Exits non-zero with the file, line and
/// expectation when it is not.
///
/// Example:
///   gutjoint validate newick examples/data/phyloseq/GlobalPatterns.tree.nwk
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What the file should be.
    pub kind: Kind,
    /// The file.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Newick,
    Metadata,
    Lsmat,
}

pub fn run(args: Args) -> Result<()> {
    let summary = match args.kind {
        Kind::Newick => {
            let tree = read_tree_file(&args.file)?;
            let tips = (0..tree.len()).filter(|&n| tree.is_tip(n)).count();
            tree.tip_index(&gutjoint_table::Location::file(&args.file))?;
            json!({"kind": "newick", "nodes": tree.len(), "tips": tips})
        }
        Kind::Metadata => {
            let md = read_metadata_file(&args.file)?;
            let columns: Vec<_> = md
                .columns
                .iter()
                .map(|(name, c)| json!({"name": name, "type": if c.is_numeric() { "numeric" } else { "categorical" }}))
                .collect();
            json!({"kind": "metadata", "samples": md.ids.len(), "id_column": md.id_header, "columns": columns})
        }
        Kind::Lsmat => {
            let dm = read_distance_file(&args.file)?;
            let npy = args.file.extension().is_some_and(|e| e == "npy");
            json!({"kind": if npy { "npy" } else { "lsmat" }, "ids": dm.len()})
        }
    };
    output::print_json(&summary)
}
