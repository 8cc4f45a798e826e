//! The decnet-profiler daemon library: trigger → locate → extract → store →
//! announce. `main.rs` is a thin command-line front end over it.

pub mod cli;
