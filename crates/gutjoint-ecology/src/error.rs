//! Why an ecology computation refused its input. The messages say what is wrong and what
//! was expected, in the data's words and never in a face's: the command line, the Python
//! package and the HTTP service each add their own advice (the CLI names `--tree` and
//! `--drop-missing` from the typed variant), so no face shows a flag another face lacks.

/// Errors of the ecology room; each says what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The metric needs counts (Chao1, rarefaction) and the table holds relative abundances.
    #[error("{metric} needs integer counts, but the table holds relative abundances")]
    NeedsCounts { metric: String },
    /// A phylogenetic metric was asked for without a tree.
    #[error("{metric} needs a phylogenetic tree, and none was given")]
    NeedsTree { metric: String },
    /// Features of the table have no tip in the tree.
    #[error(
        "{missing} of the table's features are not tips of the tree (first: '{first}'); leave them out, or use a tree that has them"
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

#[cfg(test)]
mod tests {
    use crate::alpha::{AlphaMetric, alpha};
    use crate::phylo::PhyloTable;
    use gutjoint_table::newick::parse_newick;
    use gutjoint_table::{FeatureTable, Location};

    /// The tree errors, raised by the real calls, say what is wrong without a command-line flag
    /// (the Python and HTTP faces have no `--tree` or `--drop-missing`).
    #[test]
    fn tree_errors_name_no_flag() {
        let table = FeatureTable::from_triplets(
            vec!["s1".into(), "s2".into()],
            vec!["a".into(), "b".into(), "z".into()],
            vec![
                (0, 0, 1.0),
                (0, 1, 2.0),
                (0, 2, 3.0),
                (1, 1, 4.0),
                (1, 2, 1.0),
            ],
            &Location::named("test"),
        )
        .expect("valid table");
        let no_tree = alpha(&table, &[AlphaMetric::FaithPd], None)
            .expect_err("faith_pd without a tree")
            .to_string();
        assert_eq!(
            no_tree,
            "faith_pd needs a phylogenetic tree, and none was given"
        );
        let tree =
            parse_newick("((a:1,b:2):0.5,c:1);", &Location::named("tree")).expect("valid newick");
        let missing = PhyloTable::new(&table, &tree, false)
            .map(|_| ())
            .expect_err("'z' is not a tip")
            .to_string();
        assert_eq!(
            missing,
            "1 of the table's features are not tips of the tree (first: 'z'); leave them out, or use a tree that has them"
        );
        for message in [no_tree, missing] {
            assert!(!message.contains("--"), "{message}");
        }
    }
}
