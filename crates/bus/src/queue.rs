//! Bounded drop-oldest queue: a producer never waits, the oldest item makes
//! room for the newest, and every drop is counted (contracts §1.6: the
//! reference server and client queues behave the same way, 1024 deep).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// What [`DropOldest::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    DroppedOldest,
    Closed,
}

/// Single-consumer queue. The lock is held only for a push or a pop.
#[derive(Debug)]
pub(crate) struct DropOldest<T> {
    inner: Mutex<Inner<T>>,
    notify: Notify,
    capacity: usize,
    dropped: AtomicU64,
}

#[derive(Debug)]
struct Inner<T> {
    items: VecDeque<T>,
    closed: bool,
}

impl<T> DropOldest<T> {
    pub(crate) fn new(capacity: usize) -> DropOldest<T> {
        DropOldest {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                closed: false,
            }),
            notify: Notify::new(),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A panic while holding this lock cannot leave the deque half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `item`, dropping the oldest when full; drops `item` itself
    /// once the queue is closed.
    pub(crate) fn push(&self, item: T) -> Pushed {
        let outcome = {
            let mut inner = self.lock();
            if inner.closed {
                return Pushed::Closed;
            }
            let outcome = if inner.items.len() >= self.capacity {
                inner.items.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Pushed::DroppedOldest
            } else {
                Pushed::Queued
            };
            inner.items.push_back(item);
            outcome
        };
        self.notify.notify_one();
        outcome
    }

    pub(crate) fn try_pop(&self) -> Option<T> {
        self.lock().items.pop_front()
    }

    /// Waits for an item; `None` once closed and drained.
    pub(crate) async fn pop(&self) -> Option<T> {
        loop {
            {
                let mut inner = self.lock();
                if let Some(item) = inner.items.pop_front() {
                    return Some(item);
                }
                if inner.closed {
                    return None;
                }
            }
            self.notify.notified().await;
        }
    }

    /// Stops accepting items; the consumer drains what is left.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_one();
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drops_oldest_and_counts() {
        let q = DropOldest::new(3);
        for i in 0..3 {
            assert_eq!(q.push(i), Pushed::Queued);
        }
        assert_eq!(q.push(3), Pushed::DroppedOldest);
        assert_eq!(q.push(4), Pushed::DroppedOldest);
        assert_eq!(q.dropped(), 2);
        assert_eq!(q.len(), 3);
        assert_eq!(q.pop().await, Some(2));
        assert_eq!(q.try_pop(), Some(3));
        q.close();
        assert_eq!(q.push(9), Pushed::Closed);
        assert_eq!(q.pop().await, Some(4));
        assert_eq!(q.pop().await, None);
    }
}
