//! The decnet-profiler daemon library: trigger → locate → extract → store →
//! announce. `main.rs` is a thin command-line front end over it.

pub mod announce;
pub mod cli;
pub mod config;
pub mod handler;
pub mod health;
pub mod inflight;
pub mod logging;
pub mod service;
pub mod shard_file;
pub mod shards;
pub mod store;
pub mod trigger;
