//! `decnet-profiler check-config`: the effective configuration with the
//! source of every value (secrets masked); non-zero exit when invalid.

use std::process::ExitCode;

use super::common::GlobalArgs;
use crate::config::{self, Config};

pub fn run(args: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let fig = match config::figment(args.config.as_deref(), &args.overrides(), &|k| {
        std::env::var(k).ok()
    }) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("check-config: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    for line in config::describe(&fig) {
        println!("{line}");
    }
    let cfg: Config = match fig.extract() {
        Ok(c) => c,
        Err(e) => {
            for err in e {
                eprintln!("check-config: invalid: {err}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    if let Err(e) = cfg.validate() {
        eprintln!("check-config: {e}");
        return Ok(ExitCode::from(1));
    }
    match cfg.db_settings() {
        Ok(db) => println!(
            "# effective database: {} {} (schema {:?})",
            db.backend.name(),
            config::mask_url(&db.url),
            db.schema
        ),
        Err(e) => {
            eprintln!("check-config: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    println!("# configuration is valid");
    Ok(ExitCode::SUCCESS)
}
