//! The sections of `gutjoint analyze` that live in files of their own, each called from `run.rs`.

pub(crate) mod change;
pub(crate) mod confounders;
pub mod outcome;
