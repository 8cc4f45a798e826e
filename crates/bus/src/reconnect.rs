//! Reconnect policy: capped exponential backoff with jitter (`backon`).
//!
//! The Python client never reconnects (contracts §1.7, §8 item 6); ours
//! retries forever until shut down, and replays HELLO and every SUB.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// How fast to retry a bus that is absent or went away.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// First delay after a failed attempt (the first attempt after a loss is
    /// immediate when the lost connection was stable).
    pub min_delay: Duration,
    /// Cap on any delay, so a restarted bus is found within this much time
    /// (plus jitter).
    pub max_delay: Duration,
    /// Growth factor between attempts.
    pub factor: f32,
    /// Randomise delays so many clients do not hammer a restarting bus in step.
    pub jitter: bool,
    /// A connection that lived at least this long resets the backoff; a
    /// shorter one (a server that accepts then closes) keeps backing off.
    pub stable_after: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> ReconnectPolicy {
        ReconnectPolicy {
            min_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            factor: 2.0,
            jitter: true,
            stable_after: Duration::from_secs(1),
        }
    }
}

impl ReconnectPolicy {
    /// An endless sequence of delays.
    pub(crate) fn delays(&self) -> Box<dyn Iterator<Item = Duration> + Send> {
        let mut builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor.max(1.0))
            .without_max_times();
        if self.jitter {
            builder = builder.with_jitter();
        }
        let max = self.max_delay;
        Box::new(builder.build().chain(std::iter::repeat(max)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let policy = ReconnectPolicy {
            jitter: false,
            ..ReconnectPolicy::default()
        };
        let ms: Vec<u128> = policy.delays().take(12).map(|d| d.as_millis()).collect();
        assert_eq!(&ms[..4], &[50, 100, 200, 400]);
        assert!(ms.iter().all(|&x| x <= 2000));
        assert_eq!(ms[11], 2000);
    }

    #[test]
    fn jittered_delays_stay_below_twice_the_cap() {
        let d: Vec<Duration> = ReconnectPolicy::default().delays().take(50).collect();
        assert_eq!(d.len(), 50);
        assert!(d.iter().all(|x| *x <= Duration::from_secs(4)));
    }
}
