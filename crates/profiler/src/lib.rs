//! The decnet-profiler daemon library: trigger → locate → extract → store →
//! announce. `main.rs` is a thin command-line front end over it.

pub mod cli;
pub mod config;
pub mod handler;
pub mod shard_file;
pub mod shards;
pub mod store;
pub mod trigger;
pub mod health;
pub mod logging;
