//! Polling with a deadline: the processes under test are asynchronous.

use std::time::{Duration, Instant};

/// Calls `f` every `step` until it returns `Some`, or `None` at `timeout`.
pub fn until<T>(timeout: Duration, step: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(step);
    }
}
