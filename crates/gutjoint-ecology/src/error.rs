//! Why an ecology computation refused its input.

/// Errors of the ecology room; each says what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The metric needs counts (Chao1, rarefaction) and the table holds relative abundances.
    #[error("{metric} needs integer counts, but the table holds relative abundances")]
    NeedsCounts { metric: String },
    /// A phylogenetic metric was asked for without a tree.
    #[error("{metric} needs a phylogenetic tree (--tree)")]
    NeedsTree { metric: String },
    /// Features of the table have no tip in the tree.
    #[error(
        "{missing} of the table's features are not tips of the tree (first: '{first}'); pass --drop-missing to leave them out"
    )]
    MissingFromTree { missing: usize, first: String },
    /// A metric name gutjoint does not know.
    #[error("unknown metric '{name}', expected one of: {expected}")]
    UnknownMetric { name: String, expected: String },
    /// The sums a metric takes of the input's values exceed the largest f64 (≈1.8e308), so its
    /// distances would be NaN.
    #[error(
        "{metric}: {detail}, which exceeds the largest floating-point number (about 1.8e308), so the distances would be NaN; divide the table by a common factor first ({metric} does not change under a common scale)"
    )]
    Overflow { metric: String, detail: String },
    /// Anything else wrong with the input, in words.
    #[error("{0}")]
    Invalid(String),
    /// A numerical routine failed (e.g. an eigendecomposition did not converge).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
