/*!
The `gutjoint` command-line tool: argument parsing, progress and human-readable errors around
the library crates. Each subcommand lives in its own module under `commands/`; none of them
computes anything itself, they read inputs, call a pure analysis, and write its result.
*/

mod commands;
mod input;
mod methods;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// gutjoint — the gut–joint axis engine: microbiome ecology, dysbiosis, arthritis signatures
/// and drug–microbe interactions, from MetaPhlAn/BIOM/QIIME 2 tables. Research use only.
#[derive(Debug, Parser)]
#[command(
    name = "gutjoint",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads for parallel steps (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// No progress output on stderr.
    #[arg(long, global = true)]
    quiet: bool,
    /// Print the wall time of each phase (read, compute, write) on stderr, for benchmarks.
    #[arg(long, global = true, hide = true)]
    timings: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    Inspect(commands::inspect::Args),
    Convert(commands::convert::Args),
    Validate(commands::validate::Args),
    Alpha(commands::alpha::Args),
    Beta(commands::beta::Args),
    BetaMerge(commands::beta_merge::Args),
    Pcoa(commands::pcoa::Args),
    Permanova(commands::permanova::Args),
    Permdisp(commands::permanova::DispArgs),
    PermanovaMap(commands::permanova::MapArgs),
    PermanovaReduce(commands::permanova::ReduceArgs),
    Gmhi(commands::axis::GmhiArgs),
    Reference(commands::axis::ReferenceArgs),
    Dysbiosis(commands::axis::DysbiosisArgs),
    Dominance(commands::axis::DominanceArgs),
    Enterotype(commands::axis::EnterotypeArgs),
    Kb(commands::kb::Args),
    Da(commands::da::Args),
    Associate(commands::associate::Args),
    Guilds(commands::guilds::Args),
    Replicate(commands::replicate::Args),
    Classify(commands::classify::Args),
    Drugs(commands::drugs::Args),
    Enzymes(commands::drugs::EnzymeArgs),
    Signatures(commands::axis::SignaturesArgs),
    Analyze(commands::analyze::Args),
    Demo(commands::analyze::DemoArgs),
    Confounders(commands::confounders::Args),
    Engraftment(commands::engraftment::Args),
    Trajectory(commands::trajectory::Args),
    Predict(commands::predict::Args),
    Serve(commands::serve::ServeArgs),
    Keys(commands::serve::KeysArgs),
    Report(commands::report::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::enable_timings(cli.timings);
    if let Some(n) = cli.threads {
        // Only fails if a pool already exists, which cannot happen this early.
        let _ = rayon_init(n);
    }
    let has_drop_missing = matches!(cli.command, Command::Alpha(_) | Command::Beta(_));
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Convert(args) => commands::convert::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Alpha(args) => commands::alpha::run(args, cli.quiet),
        Command::Beta(args) => commands::beta::run(args, cli.quiet),
        Command::BetaMerge(args) => commands::beta_merge::run(args),
        Command::Pcoa(args) => commands::pcoa::run(args),
        Command::Permanova(args) => commands::permanova::run(args, cli.quiet),
        Command::PermanovaMap(args) => commands::permanova::run_map(args, cli.quiet),
        Command::PermanovaReduce(args) => commands::permanova::run_reduce(args, cli.quiet),
        Command::Permdisp(args) => commands::permanova::run_disp(args, cli.quiet),
        Command::Gmhi(args) => commands::axis::run_gmhi(args, cli.quiet),
        Command::Reference(args) => commands::axis::run_reference(args, cli.quiet),
        Command::Dysbiosis(args) => commands::axis::run_dysbiosis(args, cli.quiet),
        Command::Dominance(args) => commands::axis::run_dominance(args, cli.quiet),
        Command::Enterotype(args) => commands::axis::run_enterotype(args, cli.quiet),
        Command::Kb(args) => commands::kb::run(args),
        Command::Da(args) => commands::da::run(args, cli.quiet),
        Command::Associate(args) => commands::associate::run(args, cli.quiet),
        Command::Guilds(args) => commands::guilds::run(args, cli.quiet),
        Command::Replicate(args) => commands::replicate::run(args, cli.quiet),
        Command::Classify(args) => commands::classify::run(args, cli.quiet),
        Command::Drugs(args) => commands::drugs::run(args, cli.quiet),
        Command::Enzymes(args) => commands::drugs::run_enzymes(args, cli.quiet),
        Command::Signatures(args) => commands::axis::run_signatures(args, cli.quiet),
        Command::Analyze(args) => commands::analyze::run(args, cli.quiet),
        Command::Demo(args) => commands::analyze::run_demo(args, cli.quiet),
        Command::Confounders(args) => commands::confounders::run(args, cli.quiet),
        Command::Engraftment(args) => commands::engraftment::run(args, cli.quiet),
        Command::Trajectory(args) => commands::trajectory::run(args, cli.quiet),
        Command::Predict(args) => commands::predict::run(args, cli.quiet),
        Command::Serve(args) => commands::serve::run_serve(args),
        Command::Keys(args) => commands::serve::run_keys(args),
        Command::Report(args) => commands::report::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if output::is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {error:#}");
            if let Some(hint) = output::flag_hint(&error, has_drop_missing) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

fn rayon_init(threads: usize) -> Result<(), String> {
    gutjoint_ecology::set_threads(threads)
}
