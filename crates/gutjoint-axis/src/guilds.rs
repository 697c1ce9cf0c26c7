/*!
Functional guilds of the gut barrier literature (knowledge/guilds.tsv, each member cited):
butyrate producers (the colonocytes' fuel and a tight-junction signal), mucin degraders
(thinning the mucus layer), lipopolysaccharide-rich Proteobacteria, oral-type taxa found in the
gut, and others. Per sample: the guild's summed relative abundance and its richness (member
features present). Members are matched through lineages and the synonym table at the member's
rank, and a feature counts once per guild even when it matches a genus row and a species row.

On a table coarser than a member (a species member on a genus table, such as 16S genus bins),
the member is counted through its genus: the genus of its name and of each of its synonyms
(*Eubacterium rectale* → *Eubacterium* and, through *Agathobacter rectalis*, *Agathobacter*).
That is coarser than the guild's definition (the whole genus counts, not the one species) and
is reported as such in `matched_through_genus`; members that match no feature at all are listed
in `unmatched_members`, so a guild that is "Desulfovibrio alone" says so.
A guild is a taxonomic proxy for a function; when a HUMAnN pathway table is given, the measured
butyrate-synthesis pathways are reported next to it (see [`BUTYRATE_ROUTES`]).
*/

use crate::signatures::canonical;
use gutjoint_knowledge::{GuildMember, KnowledgeBase};
use gutjoint_table::Rank;
use gutjoint_table::{FeatureTable, Location};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The four butyrate-synthesis routes (Vital et al. 2014, mBio 5:e00889) and the MetaCyc
/// pathways HUMAnN reports for them (knowledge/GUILDS.md).
pub const BUTYRATE_ROUTES: [(&str, &[&str]); 4] = [
    ("acetyl_coa", &["CENTFERM-PWY", "PWY-5676"]),
    ("lysine", &["P163-PWY"]),
    ("glutarate", &["P162-PWY"]),
    ("4_aminobutyrate", &["PWY-5022"]),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuildProfile {
    pub guilds: Vec<String>,
    pub sample_ids: Vec<String>,
    /// `abundance[s][g]`, proportion of the sample.
    pub abundance: Vec<Vec<f64>>,
    pub richness: Vec<Vec<usize>>,
    /// Per guild, the table features that count as members.
    pub members_found: Vec<Vec<String>>,
    /// The deepest rank the table's features name (members deeper than it are matched
    /// through their genus).
    pub table_rank: Option<String>,
    /// Per guild, members counted through their genus because the table is coarser.
    pub matched_through_genus: Vec<Vec<GenusMatch>>,
    /// Per guild, members (as the knowledge base names them) that match no feature.
    pub unmatched_members: Vec<Vec<String>>,
}

/// A species member counted through its genus on a table without species.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenusMatch {
    pub member: String,
    /// The genera tried (from the member's name and its synonyms).
    pub genera: Vec<String>,
    /// The table features that matched.
    pub features: Vec<String>,
}

/// The genera a species name belongs to: the first word of the name and of each synonym,
/// brackets dropped (`[Eubacterium] rectale` → `Eubacterium`).
fn genera_of(kb: &KnowledgeBase, species: &str) -> Vec<String> {
    let mut names = vec![species.to_string()];
    names.extend(kb.synonyms_of(species));
    let mut out = BTreeSet::new();
    for n in names {
        if let Some(first) = n.split_whitespace().next() {
            let genus = first.trim_matches(['[', ']']);
            if !genus.is_empty() && n.split_whitespace().count() > 1 {
                out.insert(genus.to_string());
            }
        }
    }
    out.into_iter().collect()
}

pub fn guild_profile(
    kb: &KnowledgeBase,
    guilds: &[GuildMember],
    table: &FeatureTable,
) -> GuildProfile {
    let mut names: Vec<String> = guilds.iter().map(|g| g.guild.clone()).collect();
    names.dedup();
    let mut order: Vec<String> = Vec::new();
    for n in names {
        if !order.contains(&n) {
            order.push(n);
        }
    }
    let lineages: Vec<_> = (0..table.n_features()).map(|f| table.lineage(f)).collect();
    let mut cache: BTreeMap<String, String> = BTreeMap::new();
    let mut key = |name: &str| {
        cache
            .entry(name.to_string())
            .or_insert_with(|| canonical(kb, name))
            .clone()
    };
    let table_rank = table.ranks_present().last().copied();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut through_genus = Vec::new();
    let mut unmatched = Vec::new();
    for guild in &order {
        let rows: Vec<&GuildMember> = guilds.iter().filter(|g| &g.guild == guild).collect();
        let mut found: BTreeSet<usize> = BTreeSet::new();
        let mut coarse = Vec::new();
        let mut missing = Vec::new();
        for row in rows {
            let coarser = row.rank == Rank::Species && table_rank == Some(Rank::Genus);
            let (rank, keys, genera) = if coarser {
                let genera = genera_of(kb, &row.member);
                let keys: Vec<String> = genera.iter().map(|g| key(g)).collect();
                (Rank::Genus, keys, Some(genera))
            } else {
                (row.rank, vec![key(&row.member)], None)
            };
            let hits: Vec<usize> = (0..table.n_features())
                .filter(|&f| {
                    lineages[f]
                        .get(rank)
                        .is_some_and(|name| keys.contains(&key(name)))
                })
                .collect();
            if hits.is_empty() {
                missing.push(row.member.clone());
            } else if let Some(genera) = genera {
                coarse.push(GenusMatch {
                    member: row.member.clone(),
                    genera,
                    features: hits
                        .iter()
                        .map(|&f| table.feature_ids()[f].clone())
                        .collect(),
                });
            }
            found.extend(hits);
        }
        members.push(found.into_iter().collect());
        through_genus.push(coarse);
        unmatched.push(missing);
    }
    let totals: Vec<f64> = (0..table.n_samples())
        .map(|s| table.sample_total(s))
        .collect();
    let abundance = (0..table.n_samples())
        .map(|s| {
            members
                .iter()
                .map(|m| {
                    if totals[s] > 0.0 {
                        m.iter().map(|&f| table.get(s, f)).sum::<f64>() / totals[s] + 0.0
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let richness = (0..table.n_samples())
        .map(|s| {
            members
                .iter()
                .map(|m| m.iter().filter(|&&f| table.get(s, f) > 0.0).count())
                .collect()
        })
        .collect();
    GuildProfile {
        guilds: order,
        sample_ids: table.sample_ids().to_vec(),
        abundance,
        richness,
        members_found: members
            .iter()
            .map(|m| m.iter().map(|&f| table.feature_ids()[f].clone()).collect())
            .collect(),
        table_rank: table_rank.map(|r| r.name().to_string()),
        matched_through_genus: through_genus,
        unmatched_members: unmatched,
    }
}

impl GuildProfile {
    /// The guild abundances as a feature table (one feature per guild), for association tests.
    pub fn to_table(&self) -> gutjoint_table::Result<FeatureTable> {
        let mut triplets = Vec::new();
        for (s, row) in self.abundance.iter().enumerate() {
            for (g, v) in row.iter().enumerate() {
                if *v > 0.0 {
                    triplets.push((s as u32, g as u32, *v));
                }
            }
        }
        FeatureTable::from_triplets(
            self.sample_ids.clone(),
            self.guilds.iter().map(|g| format!("guild:{g}")).collect(),
            triplets,
            &Location::named("guilds"),
        )
        .map(|t| t.with_kind(gutjoint_table::ValueKind::Relative))
    }
}

/// Measured butyrate-route abundance per sample from a HUMAnN pathway table (unstratified rows).
pub fn butyrate_routes(
    pathways: &FeatureTable,
    sample_ids: &[String],
) -> Vec<(String, Vec<Option<f64>>)> {
    let strip = |id: &str| id.split("_Abundance").next().unwrap_or(id).to_string();
    let columns: BTreeMap<String, usize> = pathways
        .sample_ids()
        .iter()
        .enumerate()
        .map(|(i, id)| (strip(id), i))
        .collect();
    BUTYRATE_ROUTES
        .iter()
        .map(|(route, ids)| {
            let rows: Vec<usize> = (0..pathways.n_features())
                .filter(|&f| {
                    let id = &pathways.feature_ids()[f];
                    !id.contains('|')
                        && ids
                            .iter()
                            .any(|p| id.split(':').next().unwrap_or(id).trim() == *p)
                })
                .collect();
            let values = sample_ids
                .iter()
                .map(|s| {
                    columns
                        .get(s)
                        .map(|&c| rows.iter().map(|&f| pathways.get(c, f)).sum::<f64>() + 0.0)
                })
                .collect();
            ((*route).to_string(), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_knowledge::embedded_guilds;

    /// GESPIC-style genus bins: before members were matched at the table's rank, the butyrate
    /// guild found Roseburia alone here (Faecalibacterium prausnitzii, Eubacterium rectale and
    /// E. hallii are species members) and the H2S guild Desulfovibrio alone.
    #[test]
    fn species_members_count_through_their_genus_on_a_genus_table() {
        let kb = KnowledgeBase::embedded().expect("kb");
        let guilds = embedded_guilds().expect("guilds");
        let genera = [
            "Faecalibacterium",
            "Agathobacter",
            "Eubacterium",
            "Roseburia",
            "Desulfovibrio",
            "Bilophila",
            "Bacteroides",
        ];
        let triplets = (0..genera.len()).map(|f| (0u32, f as u32, 1.0)).collect();
        let table = FeatureTable::from_triplets(
            vec!["s1".into()],
            genera.iter().map(|g| g.to_string()).collect(),
            triplets,
            &Location::named("genus table"),
        )
        .expect("table");
        let profile = guild_profile(&kb, &guilds, &table);
        assert_eq!(profile.table_rank.as_deref(), Some("genus"));
        let at = |name: &str| profile.guilds.iter().position(|g| g == name).expect(name);
        let butyrate = at("butyrate_producers");
        let found = &profile.members_found[butyrate];
        for g in [
            "Faecalibacterium",
            "Agathobacter",
            "Eubacterium",
            "Roseburia",
        ] {
            assert!(found.contains(&g.to_string()), "{g} missing from {found:?}");
        }
        let rectale = profile.matched_through_genus[butyrate]
            .iter()
            .find(|m| m.member == "Eubacterium rectale")
            .expect("E. rectale counted through its genus");
        assert!(rectale.features.contains(&"Agathobacter".to_string()));
        // Genus members absent from the table are listed, not silently lost.
        assert!(profile.unmatched_members[butyrate].contains(&"Coprococcus".to_string()));
        let h2s = at("h2s_producers");
        assert_eq!(profile.members_found[h2s], ["Desulfovibrio", "Bilophila"]);
        assert!(profile.unmatched_members[h2s].is_empty());
        // Seven genera of equal abundance: the butyrate guild holds 4 of 7.
        assert!((profile.abundance[0][butyrate] - 4.0 / 7.0).abs() < 1e-12);
    }
}
