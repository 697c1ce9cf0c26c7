//! The sections of `gutjoint analyze` that live in files of their own.

pub(crate) mod confounders;
