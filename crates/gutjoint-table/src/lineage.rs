/*!
Taxonomic lineages, parsed from the spellings the field uses.

MetaPhlAn writes `k__Bacteria|p__Bacteroidetes|…|s__Prevotella_copri|t__SGB1626`, QIIME 2 with
SILVA or GTDB writes `d__Bacteria; p__Bacteroidota; …; g__Segatella`, Greengenes leaves empty
ranks as `s__`, older SILVA exports write `D_0__Bacteria;D_1__…`, and R exports give one column
per rank. All of them become a [`Lineage`]: one optional name per [`Rank`], with MetaPhlAn's
underscores turned back into spaces so that `s__Prevotella_copri` and `Prevotella copri` are the
same species. Synonyms between naming systems (NCBI versus GTDB) are not resolved here; that is
the knowledge base's job.
*/

use serde::{Deserialize, Serialize};
use std::fmt;

/// The ranks gutjoint knows, from the broadest to the narrowest.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Rank {
    Domain,
    Phylum,
    Class,
    Order,
    Family,
    Genus,
    Species,
    Strain,
}

impl Rank {
    pub const ALL: [Rank; 8] = [
        Rank::Domain,
        Rank::Phylum,
        Rank::Class,
        Rank::Order,
        Rank::Family,
        Rank::Genus,
        Rank::Species,
        Rank::Strain,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Rank::Domain => "domain",
            Rank::Phylum => "phylum",
            Rank::Class => "class",
            Rank::Order => "order",
            Rank::Family => "family",
            Rank::Genus => "genus",
            Rank::Species => "species",
            Rank::Strain => "strain",
        }
    }

    /// The one-letter prefix MetaPhlAn and QIIME 2 use (`g` for `g__`); domain is written
    /// `k` (kingdom) by MetaPhlAn and `d` by GTDB: both are accepted on reading.
    pub fn prefix(self) -> char {
        match self {
            Rank::Domain => 'd',
            Rank::Phylum => 'p',
            Rank::Class => 'c',
            Rank::Order => 'o',
            Rank::Family => 'f',
            Rank::Genus => 'g',
            Rank::Species => 's',
            Rank::Strain => 't',
        }
    }

    fn from_prefix(c: char) -> Option<Rank> {
        Some(match c.to_ascii_lowercase() {
            'd' | 'k' => Rank::Domain,
            'p' => Rank::Phylum,
            'c' => Rank::Class,
            'o' => Rank::Order,
            'f' => Rank::Family,
            'g' => Rank::Genus,
            's' => Rank::Species,
            't' => Rank::Strain,
            _ => return None,
        })
    }

    /// Parses a rank name as users type it (`genus`, `Genus`, `g`, `kingdom`).
    pub fn parse(text: &str) -> Option<Rank> {
        let lower = text.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "domain" | "kingdom" | "superkingdom" | "d" | "k" => Rank::Domain,
            "phylum" | "p" => Rank::Phylum,
            "class" | "c" => Rank::Class,
            "order" | "o" => Rank::Order,
            "family" | "f" => Rank::Family,
            "genus" | "g" => Rank::Genus,
            "species" | "s" => Rank::Species,
            "strain" | "t" | "sgb" => Rank::Strain,
            _ => return None,
        })
    }
}

impl fmt::Display for Rank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A lineage: at most one name per rank. Empty ranks (`s__`, `NA`, `unassigned`) are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Lineage {
    names: [Option<String>; 8],
}

impl Lineage {
    /// A lineage with no names at all.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn get(&self, rank: Rank) -> Option<&str> {
        self.names[rank.index()].as_deref()
    }

    pub fn set(&mut self, rank: Rank, name: Option<&str>) {
        self.names[rank.index()] = name.and_then(clean_name);
    }

    pub fn is_empty(&self) -> bool {
        self.names.iter().all(Option::is_none)
    }

    /// The narrowest rank that has a name.
    pub fn deepest_rank(&self) -> Option<Rank> {
        Rank::ALL
            .iter()
            .rev()
            .copied()
            .find(|r| self.get(*r).is_some())
    }

    /// The ranks that have a name.
    pub fn ranks(&self) -> impl Iterator<Item = Rank> + '_ {
        Rank::ALL.into_iter().filter(|r| self.get(*r).is_some())
    }

    /// This lineage cut after `rank` (narrower names removed).
    #[must_use]
    pub fn truncated(&self, rank: Rank) -> Lineage {
        let mut out = self.clone();
        for r in Rank::ALL.into_iter().filter(|r| *r > rank) {
            out.names[r.index()] = None;
        }
        out
    }

    /// Parses any of the supported spellings. Returns an empty lineage for text that has no
    /// rank prefixes at all; use [`Lineage::from_plain_name`] for bare names.
    pub fn parse(text: &str) -> Lineage {
        let text = text.trim().trim_matches('"');
        let parts: Vec<&str> = if text.contains('|') {
            text.split('|').collect()
        } else {
            text.split(';').collect()
        };
        let mut lineage = Lineage::empty();
        for (position, part) in parts.iter().enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if let Some((rank, name)) = split_prefixed(part) {
                lineage.set(rank, Some(name));
            } else if parts.len() > 1 && position < Rank::ALL.len() {
                // Unprefixed semicolon lineages (e.g. `Bacteria;Firmicutes;…`) are positional.
                lineage.set(Rank::ALL[position], Some(part));
            }
        }
        lineage.infer_genus_from_species();
        lineage
    }

    /// A species-only lineage (`s__Prevotella_copri`, as GMHI tables write) gets the genus
    /// its binomial names. Placeholders such as `Bacteroidales bacterium ph8` then give the
    /// higher taxon's name, which is what the profile knows.
    fn infer_genus_from_species(&mut self) {
        if self.get(Rank::Genus).is_none()
            && let Some(species) = self.get(Rank::Species)
        {
            let genus = species
                .split(' ')
                .next()
                .unwrap_or("")
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            if !genus.is_empty() {
                self.set(Rank::Genus, Some(&genus));
            }
        }
    }

    /// A bare name such as `Prevotella copri` or `Prevotella`: two or more words whose second
    /// is lowercase are read as a species (with its genus), one word as a genus.
    pub fn from_plain_name(text: &str) -> Lineage {
        let name = text.trim().replace('_', " ");
        let mut lineage = Lineage::empty();
        let words: Vec<&str> = name.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [genus] => lineage.set(Rank::Genus, Some(genus)),
            [genus, second, ..]
                if second
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_lowercase() || c == '(') =>
            {
                lineage.set(
                    Rank::Genus,
                    Some(genus.trim_start_matches('[').trim_end_matches(']')),
                );
                lineage.set(Rank::Species, Some(&name));
            }
            _ => lineage.set(Rank::Species, Some(&name)),
        }
        lineage
    }

    /// Parses a feature id: a prefixed lineage if it has rank prefixes, a plain name if it
    /// reads like a Latin name (first word capitalised and alphabetic, as `Prevotella copri`),
    /// and nothing for opaque ids (`549322`, ASV hashes, `OTU_12`).
    pub fn from_feature_id(text: &str) -> Lineage {
        let lineage = Lineage::parse(text);
        if !lineage.is_empty() {
            return lineage;
        }
        let first = text.trim().split([' ', '_']).next().unwrap_or("");
        let latin = first.trim_start_matches('[').trim_end_matches(']');
        let looks_latin = latin.len() > 2
            && latin.chars().next().is_some_and(char::is_uppercase)
            && latin.chars().all(|c| c.is_alphabetic() || c == '-')
            && !latin.chars().skip(1).all(char::is_uppercase);
        if looks_latin {
            Lineage::from_plain_name(text)
        } else {
            Lineage::empty()
        }
    }

    /// Whether a string looks like a prefixed lineage (`k__…|…` or `d__…; …`).
    pub fn looks_prefixed(text: &str) -> bool {
        let first = text.trim().split(['|', ';']).next().unwrap_or("").trim();
        split_prefixed(first).is_some()
    }

    /// QIIME 2 style text, `d__Bacteria; p__Firmicutes; …`, down to `rank`, empty ranks written
    /// as bare prefixes so that the string is unique per lineage.
    pub fn to_qiime_string(&self, rank: Rank) -> String {
        Rank::ALL
            .into_iter()
            .filter(|r| *r <= rank)
            .map(|r| format!("{}__{}", r.prefix(), self.get(r).unwrap_or("")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One string per rank, for BIOM's `taxonomy` observation metadata.
    pub fn to_levels(&self) -> Vec<String> {
        match self.deepest_rank() {
            None => Vec::new(),
            Some(deepest) => Rank::ALL
                .into_iter()
                .filter(|r| *r <= deepest)
                .map(|r| format!("{}__{}", r.prefix(), self.get(r).unwrap_or("")))
                .collect(),
        }
    }

    /// Builds a lineage from BIOM's list of levels (positional or prefixed).
    pub fn from_levels<S: AsRef<str>>(levels: &[S]) -> Lineage {
        let mut lineage = Lineage::empty();
        for (position, level) in levels.iter().enumerate() {
            let level = level.as_ref().trim();
            if let Some((rank, name)) = split_prefixed(level) {
                lineage.set(rank, Some(name));
            } else if position < Rank::ALL.len() {
                lineage.set(Rank::ALL[position], Some(level));
            }
        }
        lineage
    }
}

impl fmt::Display for Lineage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.deepest_rank() {
            Some(rank) => f.write_str(&self.to_qiime_string(rank)),
            None => Ok(()),
        }
    }
}

/// Splits `g__Name`, `D_5__Name` (old SILVA) into rank and name.
fn split_prefixed(part: &str) -> Option<(Rank, &str)> {
    let (prefix, name) = part.split_once("__")?;
    if prefix.len() == 1 {
        let rank = Rank::from_prefix(prefix.chars().next()?)?;
        return Some((rank, name));
    }
    // SILVA's `D_0__` … `D_6__` levels.
    let level = prefix
        .strip_prefix("D_")
        .or_else(|| prefix.strip_prefix("d_"))?;
    let index: usize = level.parse().ok()?;
    Rank::ALL.get(index).map(|rank| (*rank, name))
}

/// Normalises one rank's name: MetaPhlAn underscores become spaces; empty, `NA` and the
/// conventional placeholders become `None`.
fn clean_name(name: &str) -> Option<String> {
    let name = name.trim().trim_matches('"').trim();
    if name.is_empty()
        || name.eq_ignore_ascii_case("na")
        || name.eq_ignore_ascii_case("nan")
        || name.eq_ignore_ascii_case("unassigned")
        || name == "__"
    {
        return None;
    }
    Some(name.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metaphlan_lineage_with_strain() {
        let l = Lineage::parse(
            "k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Prevotellaceae|g__Prevotella|s__Prevotella_copri|t__SGB1626",
        );
        assert_eq!(l.get(Rank::Domain), Some("Bacteria"));
        assert_eq!(l.get(Rank::Genus), Some("Prevotella"));
        assert_eq!(l.get(Rank::Species), Some("Prevotella copri"));
        assert_eq!(l.get(Rank::Strain), Some("SGB1626"));
        assert_eq!(l.deepest_rank(), Some(Rank::Strain));
    }

    #[test]
    fn qiime_lineage_with_empty_species() {
        let l = Lineage::parse(
            "d__Bacteria; p__Bacteroidota; c__Bacteroidia; o__Bacteroidales; f__Prevotellaceae; g__Segatella; s__",
        );
        assert_eq!(l.get(Rank::Genus), Some("Segatella"));
        assert_eq!(l.get(Rank::Species), None);
        assert_eq!(l.deepest_rank(), Some(Rank::Genus));
        assert_eq!(
            l.to_qiime_string(Rank::Genus),
            "d__Bacteria; p__Bacteroidota; c__Bacteroidia; o__Bacteroidales; f__Prevotellaceae; g__Segatella"
        );
    }

    #[test]
    fn old_silva_levels_and_positional() {
        let l = Lineage::parse("D_0__Bacteria;D_1__Firmicutes;D_5__Blautia");
        assert_eq!(l.get(Rank::Phylum), Some("Firmicutes"));
        assert_eq!(l.get(Rank::Genus), Some("Blautia"));
        let p = Lineage::parse("Bacteria;Firmicutes;Clostridia");
        assert_eq!(p.get(Rank::Class), Some("Clostridia"));
    }

    #[test]
    fn plain_names() {
        let l = Lineage::from_feature_id("Prevotella copri");
        assert_eq!(l.get(Rank::Genus), Some("Prevotella"));
        assert_eq!(l.get(Rank::Species), Some("Prevotella copri"));
        let s = Lineage::from_feature_id("s__Ruminococcus_gnavus");
        assert_eq!(s.get(Rank::Species), Some("Ruminococcus gnavus"));
        assert_eq!(s.get(Rank::Genus), Some("Ruminococcus"));
        assert!(Lineage::from_feature_id("549322").is_empty());
        assert!(Lineage::from_feature_id("OTU_12").is_empty());
        assert!(Lineage::from_feature_id("4b5eeb300368260019c1fbc7a3c718fc").is_empty());
        let g = Lineage::from_feature_id("Faecalibacterium");
        assert_eq!(g.get(Rank::Genus), Some("Faecalibacterium"));
        assert_eq!(g.get(Rank::Species), None);
    }

    #[test]
    fn levels_round_trip() {
        let l = Lineage::parse("k__Bacteria|p__Firmicutes|c__Clostridia");
        let levels = l.to_levels();
        assert_eq!(
            levels,
            vec!["d__Bacteria", "p__Firmicutes", "c__Clostridia"]
        );
        assert_eq!(Lineage::from_levels(&levels), l);
    }
}
