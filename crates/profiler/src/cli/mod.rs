//! One module per subcommand.

pub mod backfill;
pub mod check_config;
pub mod common;
pub mod extract;
pub mod replay;
pub mod run;
