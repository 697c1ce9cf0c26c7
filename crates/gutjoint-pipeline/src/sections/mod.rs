//! Sections of `analyze` that live in their own files, each called from `run.rs`.

pub(crate) mod change;
