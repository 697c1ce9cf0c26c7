//! `gutjoint kb`: ask the curated knowledge base about a taxon, a disease or a therapy.

use crate::output;
use anyhow::{Result, bail};
use clap::Subcommand;
use gutjoint_knowledge::{Citation, KnowledgeBase, TaxonDisease};
use std::fmt::Write as _;

/// Query the curated, cited knowledge base (taxon–disease associations, therapy–microbiome
/// effects, drug–microbe interactions). Names resolve through NCBI/GTDB/SILVA synonyms and
/// misspellings get a "did you mean".
///
/// Examples:
///   gutjoint kb taxon "Segatella copri"
///   gutjoint kb disease "ankylosing spondylitis" --json
///   gutjoint kb therapy fligotinib
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub query: Query,
    /// Print the answer as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Query {
    /// Associations of a taxon with joint diseases (any synonym).
    Taxon { name: String },
    /// Associations and therapy effects for a disease (code or name).
    Disease { name: String },
    /// What is known of a drug or therapy class and the gut microbiome.
    Therapy { name: String },
}

pub fn cite(c: &Citation) -> String {
    c.with_identifier()
        .unwrap_or_else(|| "no citation recorded".into())
}

fn association_lines(text: &mut String, rows: &[TaxonDisease]) {
    text.push_str(
        "id\ttaxon\trank\tdisease\tdirection\tpopulation\tmethod\tconfidence\tcitation\n",
    );
    for r in rows {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.taxon,
            r.rank,
            r.disease,
            r.direction,
            r.population.as_deref().unwrap_or("not stated"),
            r.method
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(";"),
            r.confidence,
            cite(&r.citation)
        );
    }
}

pub fn run(args: Args) -> Result<()> {
    let kb = KnowledgeBase::embedded()?;
    let mut text = String::new();
    match args.query {
        Query::Taxon { name } => {
            let answer = kb.taxon(&name);
            if args.json {
                return output::print_json(&answer);
            }
            match &answer.resolved {
                None => match &answer.suggestion {
                    Some(s) => {
                        bail!("no taxon named '{name}' in the knowledge base; did you mean '{s}'?")
                    }
                    None => bail!("no taxon named '{name}' in the knowledge base"),
                },
                Some(r) => {
                    let _ = writeln!(
                        text,
                        "# {} (accepted name: {}; matched via {})",
                        name, r.accepted, r.matched_via
                    );
                    if !answer.synonyms.is_empty() {
                        let _ = writeln!(text, "# synonyms: {}", answer.synonyms.join("; "));
                    }
                    if answer.associations.is_empty() {
                        text.push_str("# no taxon–disease association recorded\n");
                    } else {
                        association_lines(&mut text, &answer.associations);
                    }
                }
            }
        }
        Query::Disease { name } => {
            let answer = kb.disease(&name);
            if args.json {
                return output::print_json(&answer);
            }
            let Some(d) = answer.disease else {
                match &answer.suggestion {
                    Some(s) => bail!("unknown disease '{name}'; did you mean '{s}'?"),
                    None => bail!(
                        "unknown disease '{name}'; use RA, AS, axSpA, PsA, ReA, EnA, gout, OA, JIA or their names"
                    ),
                }
            };
            let _ = writeln!(
                text,
                "# {} ({d}): {} associations, {} therapy rows",
                answer.name.unwrap_or(""),
                answer.associations.len(),
                answer.therapies.len()
            );
            association_lines(&mut text, &answer.associations);
            if !answer.therapies.is_empty() {
                text.push_str(
                    "\nid\ttherapy\tclass\tdirection\tevidence\tconfidence\teffect\tcitation\n",
                );
                for t in &answer.therapies {
                    let _ = writeln!(
                        text,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        t.id,
                        t.therapy,
                        t.therapy_class,
                        t.direction,
                        t.evidence,
                        t.confidence,
                        t.effect,
                        cite(&t.citation)
                    );
                }
            }
        }
        Query::Therapy { name } => {
            let answer = kb.therapy(&name);
            if args.json {
                return output::print_json(&answer);
            }
            if let Some(s) = &answer.suggestion {
                let _ = writeln!(text, "# did you mean '{s}'? showing '{s}'");
            }
            let Some(matched) = &answer.matched else {
                bail!("no drug or therapy named '{name}' in the knowledge base");
            };
            let _ = writeln!(text, "# {matched}");
            if let Some(d) = &answer.drug {
                let _ = writeln!(
                    text,
                    "# class: {}; ATC: {}; used in: {}",
                    d.drug_class,
                    d.atc.join(", "),
                    d.used_in
                        .iter()
                        .map(|u| u.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            text.push_str("\n## effects of the therapy on the gut microbiome\n");
            if answer.therapy_effects.is_empty() {
                text.push_str("nothing recorded\n");
            }
            for t in &answer.therapy_effects {
                let level = if answer.class_level.contains(&t.id) {
                    " (class-level)"
                } else {
                    ""
                };
                let _ = writeln!(
                    text,
                    "{}{level}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.direction,
                    t.evidence,
                    t.confidence,
                    t.effect,
                    cite(&t.citation)
                );
            }
            text.push_str("\n## what gut bacteria do to the drug (or the drug to them)\n");
            if answer.drug_microbe.is_empty() {
                text.push_str("nothing recorded\n");
            }
            for m in &answer.drug_microbe {
                let _ = writeln!(
                    text,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    m.id,
                    m.interaction,
                    m.mechanism.as_deref().unwrap_or(""),
                    m.evidence,
                    m.confidence.map_or("-".to_string(), |c| c.to_string()),
                    cite(&m.citation)
                );
            }
        }
    }
    output::print(&text)
}
