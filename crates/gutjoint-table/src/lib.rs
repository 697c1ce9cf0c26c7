/*!
# gutjoint-table — the data every gutjoint analysis starts from

A microbiome study arrives as a **feature table**: how much of each feature (an OTU, an
amplicon sequence variant, a species from MetaPhlAn, a gene family from HUMAnN) was seen in each
sample. Around it sit **sample metadata** (who the sample came from: diagnosis, country,
medication), a **phylogenetic tree** of the features (for UniFrac and Faith's PD) and, after
beta diversity, a **distance matrix** between samples.

Users bring these in many formats, and this crate reads them all into one set of types:

| type | what | formats |
| --- | --- | --- |
| [`FeatureTable`] | samples × features, sparse, counts or relative | BIOM 2.1 (HDF5), BIOM 1.0 (JSON), QIIME 2 `.qza`, MetaPhlAn 2/3/4 profiles and merged tables, TSV/CSV (BIOM-style, R `write.table`, spreadsheets), gzipped or not |
| [`Lineage`] | one name per rank, domain…strain | MetaPhlAn `k__…\|s__…`, QIIME 2/GTDB/SILVA `d__…; g__…`, plain names |
| [`Metadata`] | typed per-sample columns | QIIME 2 metadata TSV (`sample-id`, `#q2:types`) |
| [`Tree`] | rooted phylogeny, arena with post-order | Newick |
| [`DistanceMatrix`] | condensed, validated | scikit-bio lsmat |

Readers are strict about what matters and tolerant of what does not: a BOM, CRLF line ends and
R's missing first header cell are fine; a ragged row, a negative abundance, a duplicate id or a
truncated HDF5 file is an [`Error`] that names the file, the line or record, and what was
expected. Writers produce BIOM 2.1, BIOM 1.0 and TSV, always through [`write_atomic`].

References: McDonald D et al. (2012) The Biological Observation Matrix (BIOM) format,
GigaScience 1:7; Bolyen E et al. (2019) QIIME 2, Nat Biotechnol 37:852; Blanco-Míguez A et al.
(2023) MetaPhlAn 4, Nat Biotechnol 41:1633.
*/

pub mod biom_hdf5;
pub mod biom_json;
mod decimal;
pub mod distance;
pub mod error;
pub mod lineage;
pub mod metadata;
pub mod metaphlan;
pub mod newick;
pub mod npy;
pub mod qza;
pub mod read;
pub mod summary;
pub mod table;
pub mod taxonomy;
pub mod text;
pub mod write;

pub use distance::DistanceMatrix;
pub use error::{Error, Location, Result};
pub use lineage::{Lineage, Rank};
pub use metadata::{Column, Metadata};
pub use newick::Tree;
pub use read::{
    Format, ReadOptions, ReadTable, read_distance_file, read_metadata_file, read_table,
    read_tree_file,
};
pub use summary::{TableSummary, summarize};
pub use table::{FeatureTable, ValueKind};
pub use write::{OutputFormat, table_bytes, write_atomic, write_atomic_with};
