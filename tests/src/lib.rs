//! Harness for the end-to-end tests: DECNET's real Python bus server, its
//! Python client as publisher and subscriber, real databases, and the
//! `decnet-profiler` binary run as a process.
//!
//! Prerequisites come from the environment. Outside CI a missing one skips
//! the test (with a `SKIP:` line on stderr); with `CI=true` it fails it, so
//! a CI run cannot go green by testing nothing.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `DECNET_BUS_PYTHON` | — (required in CI) | a python with `orjson` and `decnet==1.0.0` |
//! | `DECNET_PROFILER_BIN` | `target/{debug,release}/decnet-profiler` | the daemon |
//! | `DECNET_E2E_MYSQL_URL` | `mysql://root@127.0.0.1:3306/test` | admin URL for temp databases |
//! | `DECNET_E2E_PG_URL` | `postgres://postgres@127.0.0.1:5432/test` | admin URL for temp databases |
//! | `DECNET_SHARED_DIR` | `<repo>/../shared` | the calibration corpus |

pub mod bus;
pub mod daemon;
pub mod db;
pub mod env;
pub mod fixtures;
pub mod py;
pub mod systemd;
pub mod wait;

/// Returns from the enclosing test when a prerequisite is missing outside
/// CI (fails it in CI). `$opt` is an `Option<T>`; evaluates to the `T`.
#[macro_export]
macro_rules! require {
    ($opt:expr, $what:expr) => {
        match $crate::env::require($opt, $what) {
            Some(v) => v,
            None => return,
        }
    };
}
