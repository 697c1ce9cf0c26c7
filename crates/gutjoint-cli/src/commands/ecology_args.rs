//! Arguments and input handling shared by the ecology commands: trees, metadata groupings.

use anyhow::{Result, bail};
use gutjoint_ecology::{Grouping, PhyloTable};
use gutjoint_table::{DistanceMatrix, FeatureTable, read_metadata_file, read_tree_file};
use std::path::Path;

/// Reads a tree and places the table on it, reporting dropped features.
pub fn phylo(
    table: &FeatureTable,
    tree: &Path,
    drop_missing: bool,
    quiet: bool,
) -> Result<PhyloTable> {
    let tree = read_tree_file(tree)?;
    let phylo = PhyloTable::new(table, &tree, drop_missing)?;
    if !phylo.dropped.is_empty() && !quiet {
        eprintln!(
            "note: left out {} features that are not tips of the tree (--drop-missing)",
            phylo.dropped.len()
        );
    }
    Ok(phylo)
}

/// The grouping of a distance matrix's samples by a metadata column. Samples with no value in
/// the column, or absent from the metadata, are dropped and reported.
pub struct GroupedMatrix {
    pub dm: DistanceMatrix,
    pub grouping: Grouping,
    pub dropped_missing_value: Vec<String>,
    pub dropped_not_in_metadata: Vec<String>,
}

pub fn grouped(dm: DistanceMatrix, metadata: &Path, column: &str) -> Result<GroupedMatrix> {
    let g = groups_of(dm.ids(), metadata, column)?;
    Ok(GroupedMatrix {
        dm: dm.into_selected(&g.keep),
        grouping: g.grouping,
        dropped_missing_value: g.dropped_missing_value,
        dropped_not_in_metadata: g.dropped_not_in_metadata,
    })
}

/// The grouping of samples `ids` by a metadata column: `keep` lists the positions of the
/// samples with a value, in order; the others are reported.
pub struct Groups {
    pub keep: Vec<usize>,
    pub grouping: Grouping,
    pub dropped_missing_value: Vec<String>,
    pub dropped_not_in_metadata: Vec<String>,
}

/// [`grouped`] for a matrix known only by its ids (the blocks of one too large to hold).
pub fn groups_of(ids: &[String], metadata: &Path, column: &str) -> Result<Groups> {
    let md = read_metadata_file(metadata)?;
    let col = crate::input::metadata_column(&md, metadata, column)?;
    let index = md.index();
    let mut keep = Vec::new();
    let mut values = Vec::new();
    let mut missing = Vec::new();
    let mut absent = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match index.get(id.as_str()) {
            None => absent.push(id.clone()),
            Some(&row) => match col.text(row) {
                Some(v) => {
                    keep.push(i);
                    values.push(v);
                }
                None => missing.push(id.clone()),
            },
        }
    }
    if keep.is_empty() {
        bail!(
            "{}: none of the distance matrix's {} ids has a value in column '{column}' (do the ids match the metadata's?)",
            metadata.display(),
            ids.len()
        );
    }
    let grouping = Grouping::from_values(&values);
    if grouping.names.len() < 2 {
        bail!(
            "column '{column}' has a single level ('{}') among the samples used; a test needs at least two groups",
            grouping.names[0]
        );
    }
    Ok(Groups {
        keep,
        grouping,
        dropped_missing_value: missing,
        dropped_not_in_metadata: absent,
    })
}
