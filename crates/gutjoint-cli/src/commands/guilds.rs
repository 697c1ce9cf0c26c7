//! `gutjoint guilds`: barrier-related functional guilds per sample.

use crate::input::TableArgs;
use crate::output;
use anyhow::Result;
use gutjoint_axis::guilds::{butyrate_routes, guild_profile};
use gutjoint_knowledge::{KnowledgeBase, embedded_guilds};
use gutjoint_table::read_table;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Functional guilds per sample: summed relative abundance and richness of the cited members
/// of each guild (butyrate producers, mucin degraders, LPS-rich Proteobacteria, oral-type taxa,
/// propionate producers, H2S producers, bile-acid 7α-dehydroxylators; knowledge/guilds.tsv).
/// With --functional (a HUMAnN pathway abundance table) the measured butyrate-synthesis routes
/// are added as `measured_butyrate_<route>` columns, in the table's units.
/// Members are matched at the table's rank: on a genus table a species member counts through
/// its genus (coarser than the guild's definition; said in a note). The TSV ends with one
/// `#` comment line per guild naming members counted through their genus and members that
/// match no feature; --json prints the whole profile, those lists included.
///
/// Example:
///   gutjoint guilds examples/data/gmhi/validation_abundance.csv -o guilds.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// HUMAnN pathabundance table (unstratified rows are used).
    #[arg(long, value_name = "PATHWAYS.tsv")]
    pub functional: Option<PathBuf>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Print the profile as JSON (abundances, richness, matched and unmatched members).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let kb = KnowledgeBase::embedded()?;
    let guilds = embedded_guilds()?;
    let table = args.input.read(quiet)?.table;
    let profile = guild_profile(&kb, &guilds, &table);
    if !quiet {
        for (g, found) in profile.guilds.iter().zip(&profile.members_found) {
            let shown: Vec<&str> = found.iter().take(6).map(String::as_str).collect();
            let more = if found.len() > 6 { ", …" } else { "" };
            eprintln!(
                "note: {g}: {} of the table's features are members ({}{more})",
                found.len(),
                shown.join(", ")
            );
        }
    }
    if !quiet {
        for (g, coarse) in profile.guilds.iter().zip(&profile.matched_through_genus) {
            if !coarse.is_empty() {
                let names: Vec<&str> = coarse.iter().map(|m| m.member.as_str()).collect();
                eprintln!(
                    "note: {g}: the table names genera, not species; {} counted through their genus (coarser: the whole genus counts)",
                    names.join(", ")
                );
            }
        }
    }
    if args.json {
        return output::print_json(&profile);
    }
    let measured = match &args.functional {
        Some(path) => Some(butyrate_routes(
            &read_table(path, Default::default())?.table,
            &profile.sample_ids,
        )),
        None => None,
    };
    let mut text = String::from("sample-id");
    for g in &profile.guilds {
        let _ = write!(text, "\t{g}_abundance\t{g}_richness");
    }
    if let Some(m) = &measured {
        for (route, _) in m {
            let _ = write!(text, "\tmeasured_butyrate_{route}");
        }
    }
    text.push('\n');
    for (s, id) in profile.sample_ids.iter().enumerate() {
        text.push_str(id);
        for (a, r) in profile.abundance[s].iter().zip(&profile.richness[s]) {
            let _ = write!(text, "\t{a}\t{r}");
        }
        if let Some(m) = &measured {
            for (_, values) in m {
                let _ = write!(
                    text,
                    "\t{}",
                    values[s].map_or("NA".to_string(), |v| v.to_string())
                );
            }
        }
        text.push('\n');
    }
    for (g, guild) in profile.guilds.iter().enumerate() {
        let coarse: Vec<String> = profile.matched_through_genus[g]
            .iter()
            .map(|m| format!("{} via {}", m.member, m.features.join("/")))
            .collect();
        let _ = writeln!(
            text,
            "# {guild}: members counted through their genus: {}; unmatched members: {}",
            if coarse.is_empty() {
                "none".into()
            } else {
                coarse.join(", ")
            },
            if profile.unmatched_members[g].is_empty() {
                "none".into()
            } else {
                profile.unmatched_members[g].join(", ")
            }
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}
