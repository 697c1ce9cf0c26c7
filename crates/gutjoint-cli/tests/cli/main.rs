/*!
Command-line tests: the built `gutjoint` binary run on the documented fixtures in `tests/data/`
and the bundled real data in `examples/data/`. One test binary with modules, so the 2-core
CI links the dependency graph once.
*/

mod axis;
mod change;
mod classify;
mod common;
mod confounders;
mod drugs;
mod ecology;
mod formats;
mod guilds;
mod knowledge;
mod longitudinal;
mod outcome;
mod predict;
mod report;
mod scale;
mod serve;
mod stats;
