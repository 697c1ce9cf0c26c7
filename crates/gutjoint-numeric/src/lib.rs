/*!
The one room for the small numeric kernels that ecology, stats, axis and the report all need:
the seeded random number generator, quantiles and the median, the centred log-ratio (CLR) and
the vector distances between two samples; and the reading back of numbers JSON cannot hold
([`real`]), which every crate with results that are read back (ecology, stats, the report)
needs. Each was once written in several crates, and the
copies had drifted (three rounding rules for one quantile); here each exists once, with its
rule written down and tested by hand, and every crate above uses it from here.

It sits just above the table crate (the CLR of a [`gutjoint_table::FeatureTable`] reads the
table) and below everything else.
*/

pub mod clr;
pub mod distance;
pub mod quantile;
pub mod real;
pub mod rng;

pub use clr::{ClrError, center_logs, clr_dense, clr_dense_into, clr_sparse_into};
pub use distance::{braycurtis_sparse, euclidean};
pub use quantile::{median, quantile_sorted};
pub use rng::Rng;
