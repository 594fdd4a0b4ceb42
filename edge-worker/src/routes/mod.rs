//! Thin handlers, one file per endpoint family: read (edge), decide (core), store (store), answer.

pub mod access;
pub mod admin;
pub mod assets;
pub mod collect;
pub mod dead_letters;
pub mod erase;
pub mod export;
pub mod housekeeping;
pub mod metrics;
pub mod query;
pub mod saved;
pub mod shares;
pub mod stats;
