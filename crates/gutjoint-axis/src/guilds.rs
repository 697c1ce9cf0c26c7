/*!
Functional guilds of the gut barrier literature (knowledge/guilds.tsv, each member cited):
butyrate producers (the colonocytes' fuel and a tight-junction signal), mucin degraders
(thinning the mucus layer), lipopolysaccharide-rich Proteobacteria, oral-type taxa found in the
gut, and others. Per sample: the guild's summed relative abundance and its richness (member
features present). Members are matched through lineages and the synonym table at the member's
rank, and a feature counts once per guild even when it matches a genus row and a species row.
A guild is a taxonomic proxy for a function; when a HUMAnN pathway table is given, the measured
butyrate-synthesis pathways are reported next to it (see [`BUTYRATE_ROUTES`]).
*/

use crate::signatures::canonical;
use gutjoint_knowledge::{GuildMember, KnowledgeBase};
use gutjoint_table::{FeatureTable, Location};
use serde::Serialize;
use std::collections::BTreeMap;

/// The four butyrate-synthesis routes (Vital et al. 2014, mBio 5:e00889) and the MetaCyc
/// pathways HUMAnN reports for them (knowledge/GUILDS.md).
pub const BUTYRATE_ROUTES: [(&str, &[&str]); 4] = [
    ("acetyl_coa", &["CENTFERM-PWY", "PWY-5676"]),
    ("lysine", &["P163-PWY"]),
    ("glutarate", &["P162-PWY"]),
    ("4_aminobutyrate", &["PWY-5022"]),
];

#[derive(Debug, Clone, Serialize)]
pub struct GuildProfile {
    pub guilds: Vec<String>,
    pub sample_ids: Vec<String>,
    /// `abundance[s][g]`, proportion of the sample.
    pub abundance: Vec<Vec<f64>>,
    pub richness: Vec<Vec<usize>>,
    /// Per guild, the table features that count as members.
    pub members_found: Vec<Vec<String>>,
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
    let members: Vec<Vec<usize>> = order
        .iter()
        .map(|guild| {
            let rows: Vec<&GuildMember> = guilds.iter().filter(|g| &g.guild == guild).collect();
            let wanted: Vec<(gutjoint_table::Rank, String)> =
                rows.iter().map(|g| (g.rank, key(&g.member))).collect();
            (0..table.n_features())
                .filter(|&f| {
                    wanted
                        .iter()
                        .any(|(rank, k)| lineages[f].get(*rank).is_some_and(|name| &key(name) == k))
                })
                .collect()
        })
        .collect();
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
