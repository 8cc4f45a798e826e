//! One session at a time: the bus and poll triggers can both hold the same
//! session (the bus event and the collector's `logs` row describe it
//! twice). Without a guard both could pass the already-profiled check,
//! extract, upsert, and announce every observation twice. The second
//! caller for a key waits for the first to finish, then runs (and finds the
//! session already profiled); a failed first attempt leaves the second free
//! to try again, so nothing is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Per-key async locks, removed when unused.
#[derive(Debug, Default)]
pub struct InFlight {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Held while a session is handled; releases the key on drop.
#[derive(Debug)]
pub struct InFlightGuard<'a> {
    owner: &'a InFlight,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl InFlight {
    pub fn new() -> InFlight {
        InFlight::default()
    }

    /// Waits until no one else handles `key`, then holds it.
    pub async fn acquire(&self, key: String) -> InFlightGuard<'_> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            locks.entry(key.clone()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        InFlightGuard {
            owner: self,
            key,
            guard: Some(guard),
        }
    }

    /// Keys currently held or awaited.
    pub fn len(&self) -> usize {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        // Release first, then forget the key if nobody else holds a clone
        // of its lock (map entry + nobody waiting = strong count 1).
        drop(self.guard.take());
        let mut locks = self
            .owner
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = locks.get(&self.key) {
            if Arc::strong_count(l) == 1 {
                locks.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn same_key_runs_one_at_a_time_other_keys_in_parallel() {
        let f = Arc::new(InFlight::new());
        let running = Arc::new(AtomicU32::new(0));
        let peak = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for key in ["a", "a", "a", "b"] {
            let (f, running, peak) = (f.clone(), running.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let _g = f.acquire(key.to_string()).await;
                if key == "a" {
                    let n = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 1);
        assert!(f.is_empty(), "keys left behind: {}", f.len());
    }
}
