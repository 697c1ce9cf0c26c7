//! One module per subcommand.
pub mod alpha;
pub mod analyze;
pub mod associate;
pub mod axis;
pub mod beta;
pub mod classify;
pub mod convert;
pub mod da;
pub mod drugs;
pub mod ecology_args;
pub mod guilds;
pub mod inspect;
pub mod kb;
pub mod pcoa;
pub mod permanova;
pub mod replicate;
pub mod validate;
