//! Sections of the analysis that live in their own files, each called from `run.rs` with a
//! few lines.

pub mod outcome;
