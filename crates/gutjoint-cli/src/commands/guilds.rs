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
    output::write_or_print(args.output.as_deref(), &text)
}
