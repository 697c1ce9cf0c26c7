/*!
# gutjoint-stats — testing the literature in the user's own cohort

"Patients with inflammatory arthritis often show significant differences in gut bacteria": a
researcher checks that in their cohort with per-feature models that adjust for what else
differs between patients and controls (age, sex, and above all medication, which moves the
microbiome). This crate holds the statistics: model formulas and treatment-coded designs
([`design`]), per-feature ordinary least squares ([`ols`], statsmodels' numbers), multiple
testing ([`fdr`]), tests of a variable against a grouping and nested-model likelihood-ratio
tests ([`group_tests`]), ANCOM-BC ([`ancombc`]), Spearman and partial Spearman correlation ([`correlation`]), and the
distribution functions they need ([`distributions`]).

Pure functions, no I/O; every number is checked against statsmodels, pingouin or scipy in the
test suite.
*/

pub mod ancombc;
pub mod ancombc2;
pub mod associate;
pub mod classify;
pub mod correlation;
pub mod da;
pub mod design;
pub mod dirmult;
pub mod distributions;
pub mod elastic_net;
pub mod error;
pub mod fdr;
pub mod features;
pub mod group_tests;
pub mod lmm;
pub mod metrics;
pub mod ols;
pub mod optimize;
pub mod predict;
pub mod qr;

pub use design::{Design, Term, design, parse_covariates, parse_formula, quote_column};
pub use error::{Error, Result};
pub use fdr::{Adjust, adjust};
pub use ols::{Fit, Ols};
