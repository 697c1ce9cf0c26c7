//! Why a domain analysis refused its input, in words a user can act on.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the table has no {wanted}-level names (ranks present: {present}); the reference was built at {wanted} level"
    )]
    WrongRank { wanted: String, present: String },
    #[error(
        "none of the table's taxa at {rank} level appear in reference '{reference}'; is it the same kind of profile (e.g. MetaPhlAn species vs 16S genera)?"
    )]
    NoOverlap { rank: String, reference: String },
    #[error("population '{asked}' is not in reference '{reference}'; it has: {available}")]
    UnknownPopulation {
        asked: String,
        reference: String,
        available: String,
    },
    #[error("{0}")]
    Invalid(String),
    /// A statistical test or model refused its input.
    #[error(transparent)]
    Stats(#[from] gutjoint_stats::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
