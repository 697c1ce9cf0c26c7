/*!
MetaPhlAn profiles (versions 2, 3 and 4), one file per sample or merged.

A single profile lists every clade from kingdom to strain (`t__SGB…` in MetaPhlAn 4) with its
relative abundance in percent, each rank summing to 100 minus the unclassified share. Keeping
every row would count the same reads once per rank, so a profile is read at one rank (species
by default): the rows whose deepest rank is that rank. The `UNCLASSIFIED` (MetaPhlAn 4) or
`UNKNOWN` (MetaPhlAn 3) share is not a taxon (counting it as one would add a fake species to
every richness estimate), so it is set aside and reported rather than kept as a feature.

Header lines: `#mpa_v…` (database), `#/path/metaphlan …` (command), `#N reads processed`,
`#SampleID\tMetaphlan_Analysis`, and `#clade_name\tNCBI_tax_id\trelative_abundance\t
additional_species` (MetaPhlAn 3/4); MetaPhlAn 2 writes only `clade\tabundance` pairs.
*/

use crate::error::{Error, Location, Result};
use crate::lineage::{Lineage, Rank};
use crate::table::{FeatureTable, ValueKind, check_value};
use crate::text::{Lines, describe_bad_value, parse_value};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// Whether the first lines of a text file look like a single MetaPhlAn profile: clade rows
/// under a `#clade_name` header (MetaPhlAn 3/4), or two-column clade rows under MetaPhlAn 2's
/// `#SampleID\tMetaphlan2_Analysis` line or no header at all. A merged table (one column per
/// sample under a `clade_name` header) is left to the text reader.
pub fn looks_like_profile(head: &str) -> bool {
    let lines: Vec<&str> = head
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .take(40)
        .collect();
    let clade_header = lines.iter().any(|l| l.starts_with("#clade_name"));
    let metaphlan_header = lines
        .iter()
        .any(|l| l.starts_with('#') && l.contains("Metaphlan"));
    let any_header = lines.iter().any(|l| l.starts_with('#'));
    let Some(first) = lines
        .iter()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
    else {
        return clade_header;
    };
    let fields: Vec<&str> = first.split('\t').collect();
    let clade_like = Lineage::looks_prefixed(fields[0]) || is_unclassified(fields[0]);
    clade_like && (clade_header || (fields.len() == 2 && (metaphlan_header || !any_header)))
}

/// Sample id from a profile's file name: `P01_profile.tsv` → `P01`.
pub fn sample_id_from_path(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut stem = name.as_str();
    for ext in [".gz", ".tsv", ".txt", ".csv", ".profile"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    for suffix in [
        "_metaphlan_bugs_list",
        "_bugs_list",
        "_metaphlan4",
        "_metaphlan3",
        "_metaphlan",
        "_profile",
        ".profile",
        "_mpa",
    ] {
        stem = stem.strip_suffix(suffix).unwrap_or(stem);
    }
    stem.to_string()
}

/// One parsed profile: clade names and abundances at the chosen rank.
#[derive(Debug, Clone)]
pub struct Profile {
    pub sample_id: String,
    pub clades: Vec<(String, f64)>,
    /// The `UNCLASSIFIED`/`UNKNOWN` share, in the profile's units (percent).
    pub unclassified: f64,
}

fn is_unclassified(clade: &str) -> bool {
    matches!(
        clade,
        "UNCLASSIFIED" | "UNKNOWN" | "unclassified" | "unknown"
    )
}

/// Reads one single-sample profile, keeping the rows at `rank`.
pub fn read_profile<R: BufRead>(
    reader: R,
    sample_id: String,
    origin: &Location,
    rank: Rank,
) -> Result<Profile> {
    let mut lines = Lines::new(reader, origin);
    let mut abundance_column = 1usize;
    let mut clades = Vec::new();
    let mut unclassified = 0.0;
    let mut saw_any = false;
    let mut seen: HashMap<String, usize> = HashMap::new();
    while let Some((number, line)) = lines.next_line()? {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('#') {
            if header.starts_with("clade_name") {
                let cols: Vec<&str> = header.split('\t').collect();
                abundance_column = cols
                    .iter()
                    .position(|c| c.trim() == "relative_abundance")
                    .ok_or_else(|| {
                        Error::syntax(
                            &origin.at_line(number),
                            "the #clade_name header has no relative_abundance column",
                        )
                    })?;
            }
            continue;
        }
        saw_any = true;
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() <= abundance_column {
            return Err(Error::syntax(
                &origin.at_line(number),
                format!(
                    "expected at least {} tab-separated fields (clade … relative_abundance), found {}",
                    abundance_column + 1,
                    fields.len()
                ),
            ));
        }
        let clade = fields[0].trim();
        let cell = fields[abundance_column];
        let value = parse_value(cell).ok_or_else(|| {
            Error::invalid(
                &origin.at_line(number),
                format!("relative_abundance: {}", describe_bad_value(cell)),
            )
        })?;
        check_value(value, &origin.at_line(number), || format!("clade {clade}"))?;
        if is_unclassified(clade) {
            unclassified += value;
            continue;
        }
        if Lineage::parse(clade).deepest_rank() == Some(rank) {
            if let Some(first) = seen.insert(clade.to_string(), number) {
                return Err(Error::invalid(
                    &origin.at_line(number),
                    format!("duplicate clade '{clade}' (first on line {first})"),
                ));
            }
            if value != 0.0 {
                clades.push((clade.to_string(), value));
            }
        }
    }
    if !saw_any {
        return Err(Error::syntax(
            origin,
            "the profile has no clade rows (empty file or only header lines)",
        ));
    }
    Ok(Profile {
        sample_id,
        clades,
        unclassified,
    })
}

/// Merges single-sample profiles into one table; features are ordered by first appearance.
pub fn merge_profiles(profiles: Vec<Profile>, origin: &Location) -> Result<FeatureTable> {
    let mut feature_index: HashMap<String, u32> = HashMap::new();
    let mut feature_ids = Vec::new();
    let mut triplets = Vec::new();
    let mut sample_ids = Vec::new();
    for (s, profile) in profiles.into_iter().enumerate() {
        sample_ids.push(profile.sample_id);
        for (clade, value) in profile.clades {
            let next = feature_ids.len() as u32;
            let f = *feature_index.entry(clade.clone()).or_insert_with(|| {
                feature_ids.push(clade);
                next
            });
            triplets.push((s as u32, f, value));
        }
    }
    Ok(
        FeatureTable::from_triplets(sample_ids, feature_ids, triplets, origin)?
            .with_kind(ValueKind::Relative),
    )
}

/// For merged tables whose feature ids are MetaPhlAn clades of several depths, keeps the
/// rows at `rank` (the unclassified row is set aside, as for single profiles). Tables already
/// at one rank are returned as they are. Returns the table and how many rows were set aside.
pub fn keep_clade_rank(table: FeatureTable, rank: Rank) -> Result<(FeatureTable, usize)> {
    let depths: Vec<Option<Rank>> = table
        .feature_ids()
        .iter()
        .map(|id| {
            if id.contains('|') || Lineage::looks_prefixed(id) {
                Lineage::parse(id).deepest_rank()
            } else {
                None
            }
        })
        .collect();
    let distinct: std::collections::BTreeSet<Rank> = depths.iter().flatten().copied().collect();
    if distinct.len() <= 1 || !table.feature_ids().iter().any(|id| id.contains('|')) {
        return Ok((table, 0));
    }
    if !distinct.contains(&rank) {
        return Err(Error::invalid(
            &Location::named("table"),
            format!(
                "the MetaPhlAn table has no {rank}-level rows (it has {})",
                distinct
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let keep: Vec<usize> = (0..table.n_features())
        .filter(|&f| depths[f] == Some(rank))
        .collect();
    let dropped = table.n_features() - keep.len();
    Ok((table.select_features(&keep), dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPA4: &str = "#mpa_vJan21_CHOCOPhlAnSGB_202103\n#/usr/bin/metaphlan in.fq --input_type fastq\n#1000 reads processed\n#SampleID\tMetaphlan_Analysis\n#clade_name\tNCBI_tax_id\trelative_abundance\tadditional_species\nUNCLASSIFIED\t-1\t10.0\t\nk__Bacteria\t2\t90.0\t\nk__Bacteria|p__Bacteroidetes\t2|976\t90.0\t\nk__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Prevotellaceae|g__Prevotella|s__Prevotella_copri\t2|976|200643|171549|171552|838|165179\t60.0\t\nk__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Bacteroidaceae|g__Bacteroides|s__Bacteroides_vulgatus\t2|976|200643|171549|815|816|821\t30.0\t\nk__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Prevotellaceae|g__Prevotella|s__Prevotella_copri|t__SGB1626\t\t60.0\t\n";

    #[test]
    fn detects_and_reads_metaphlan4_species() {
        assert!(looks_like_profile(MPA4));
        let p = read_profile(
            MPA4.as_bytes(),
            "P1".into(),
            &Location::named("p.tsv"),
            Rank::Species,
        )
        .expect("valid");
        assert_eq!(p.clades.len(), 2);
        assert_eq!(p.unclassified, 10.0);
        let total: f64 = p.clades.iter().map(|c| c.1).sum();
        assert_eq!(total, 90.0);
        let g = read_profile(
            MPA4.as_bytes(),
            "P1".into(),
            &Location::named("p.tsv"),
            Rank::Phylum,
        )
        .expect("valid");
        assert_eq!(g.clades.len(), 1);
    }

    #[test]
    fn metaphlan2_two_columns() {
        let text = "#SampleID\tMetaphlan2_Analysis\nk__Bacteria\t100.0\nk__Bacteria|p__Firmicutes|c__C|o__O|f__F|g__G|s__G_sp\t100.0\n";
        assert!(looks_like_profile(text));
        let p = read_profile(
            text.as_bytes(),
            "x".into(),
            &Location::named("m2"),
            Rank::Species,
        )
        .expect("valid");
        assert_eq!(
            p.clades,
            vec![(
                "k__Bacteria|p__Firmicutes|c__C|o__O|f__F|g__G|s__G_sp".to_string(),
                100.0
            )]
        );
    }

    #[test]
    fn merged_table_is_not_a_profile() {
        assert!(!looks_like_profile(
            "#mpa_v30\nclade_name\tS1\tS2\tS3\tS4\tS5\nk__Bacteria\t100\t100\t100\t100\t100\n"
        ));
        assert!(!looks_like_profile("#OTU ID\tS1\nO1\t3\n"));
    }

    #[test]
    fn sample_ids_from_file_names() {
        assert_eq!(sample_id_from_path(Path::new("/d/P01_profile.tsv")), "P01");
        assert_eq!(
            sample_id_from_path(Path::new("demo_metaphlan_bugs_list.tsv")),
            "demo"
        );
    }
}
