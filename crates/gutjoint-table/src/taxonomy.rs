/*!
Separate taxonomy files: QIIME 2's `Feature ID\tTaxon[\tConfidence]` and R exports with one
column per rank (`feature-id\tKingdom\tPhylum…`, `NA` where unassigned), attached to a table's
features by id.
*/

use crate::error::{Error, Location, Result};
use crate::lineage::{Lineage, Rank};
use crate::table::FeatureTable;
use crate::text::{Lines, split_fields};
use std::collections::HashMap;
use std::io::BufRead;

/// Reads a taxonomy file into feature id → lineage.
pub fn read_taxonomy<R: BufRead>(reader: R, origin: &Location) -> Result<HashMap<String, Lineage>> {
    let mut lines = Lines::new(reader, origin);
    let mut header: Option<Vec<String>> = None;
    let mut out = HashMap::new();
    while let Some((number, line)) = lines.next_line()? {
        let mut fields = Vec::new();
        if line.trim().is_empty() || (header.is_some() && line.starts_with('#')) {
            continue;
        }
        split_fields(line, '\t', &mut fields);
        let cells: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
        let Some(names) = &header else {
            header = Some(cells);
            continue;
        };
        if cells.len() != names.len() {
            return Err(Error::syntax(
                &origin.at_line(number),
                format!(
                    "expected {} fields (as the header), found {}",
                    names.len(),
                    cells.len()
                ),
            ));
        }
        let lineage = if let Some(c) = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case("taxon") || n.eq_ignore_ascii_case("taxonomy"))
        {
            Lineage::parse(&cells[c])
        } else {
            let mut l = Lineage::empty();
            for (name, cell) in names.iter().zip(&cells).skip(1) {
                if let Some(rank) = Rank::parse(name) {
                    l.set(rank, Some(cell));
                }
            }
            l
        };
        if out.insert(cells[0].clone(), lineage).is_some() {
            return Err(Error::invalid(
                &origin.at_line(number),
                format!("duplicate feature id '{}'", cells[0]),
            ));
        }
    }
    if header.is_none() {
        return Err(Error::syntax(origin, "the taxonomy file is empty"));
    }
    Ok(out)
}

/// Attaches lineages to a table's features; features absent from the taxonomy get an empty
/// lineage and are counted in the returned number.
pub fn attach(
    table: FeatureTable,
    taxonomy: &HashMap<String, Lineage>,
) -> Result<(FeatureTable, usize)> {
    let mut missing = 0;
    let lineages: Vec<Lineage> = table
        .feature_ids()
        .iter()
        .map(|id| {
            taxonomy.get(id).cloned().unwrap_or_else(|| {
                missing += 1;
                Lineage::empty()
            })
        })
        .collect();
    Ok((table.with_lineages(lineages)?, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_columns_and_qiime_taxon() {
        let r = read_taxonomy(
            "feature-id\tKingdom\tGenus\tSpecies\n1\tBacteria\tBlautia\tNA\n".as_bytes(),
            &Location::named("t"),
        )
        .expect("valid");
        assert_eq!(r["1"].get(Rank::Genus), Some("Blautia"));
        assert_eq!(r["1"].get(Rank::Species), None);
        let q = read_taxonomy(
            "Feature ID\tTaxon\tConfidence\nab\td__Bacteria; g__Segatella\t0.9\n".as_bytes(),
            &Location::named("t"),
        )
        .expect("valid");
        assert_eq!(q["ab"].get(Rank::Genus), Some("Segatella"));
    }
}
