/*!
# gutjoint-ecology — diversity, ordination and permutation tests

The founding article's first claim is ecological: a healthy gut holds many organisms with none
dominating, and arthritis patients' communities differ. These are measured with

- **alpha diversity** — how many features a sample holds and how evenly ([`alpha`]);
- **beta diversity** — how different two samples are, by abundance (Bray–Curtis), presence
  (Jaccard), compositional geometry (Aitchison) or shared evolutionary history (UniFrac)
  ([`beta`]);
- **PCoA** — a picture of a distance matrix in few dimensions ([`pcoa`]);
- **PERMANOVA / PERMDISP** — whether groups differ in location or in spread ([`permanova`]),
  with permutations restricted to strata (batches, runs), and several terms tested by their
  marginal contribution as vegan's `adonis2(by = "margin")` ([`adonis`]).

Every number follows scikit-bio 0.7 (and the `unifrac` package, R's GUniFrac) so results can be
compared with the literature; the test suite checks them against those tools' outputs to 1e-9.
All functions are pure: typed inputs in, serialisable results out, no I/O.

References: Lozupone & Knight (2005) Appl Environ Microbiol 71:8228; Lozupone et al. (2007)
AEM 73:1576; Chen et al. (2012) Bioinformatics 28:2106; McDonald et al. (2018) Nat Methods
15:847; Anderson (2001) Austral Ecol 26:32; Anderson (2006) Biometrics 62:245; Faith (1992)
Biol Conserv 61:1.
*/

pub mod adonis;
pub mod alpha;
pub mod beta;
pub mod blocks;
pub mod error;
mod lanczos;
pub mod pairwise;
pub mod pcoa;
pub mod permanova;
pub mod phylo;
pub mod progress;
mod vector_state;
mod within;
/// The seeded RNG lives in the numeric room; re-exported so `gutjoint_ecology::rng::Rng` stays.
pub use gutjoint_numeric::rng;

pub use adonis::{MarginalPermanova, MarginalTerm, ModelTerm, permanova_margin};
pub use alpha::{AlphaMetric, AlphaResult, alpha};
pub use beta::{BetaMetric, beta};
pub use error::{Error, Result};
pub use pcoa::{PcoaResult, pcoa, pcoa_eigh, pcoa_fsvd, pcoa_top};
pub use permanova::{
    DispersionCentre, Grouping, PermutationMethod, PermutationTest, Strata, permanova,
    permanova_within, permdisp,
};
pub use phylo::PhyloTable;

/// Sets the size of the global thread pool (call once, before any parallel work).
pub fn set_threads(n: usize) -> std::result::Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n.max(1))
        .build_global()
        .map_err(|e| e.to_string())
}
