//! `decnet-profiler check-config`: the effective configuration with the
//! source of every value (secrets masked); non-zero exit when invalid.

use std::io::Write;
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
    let mut out = config::describe(&fig).join("\n");
    out.push('\n');
    // A closed stdout (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.as_bytes());
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
        Ok(db) => {
            let _ = writeln!(
                std::io::stdout(),
                "# effective database: {} {} (schema {:?})",
                db.backend.name(),
                config::mask_url(&db.url),
                db.schema
            );
        }
        Err(e) => {
            eprintln!("check-config: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    let _ = writeln!(std::io::stdout(), "# configuration is valid");
    Ok(ExitCode::SUCCESS)
}
