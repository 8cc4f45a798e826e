//! `temporal.circadian.*` (registry 0.1.4; absent from the reference,
//! engine.md §9 item 10; docs/DEVIATIONS.md rows D-EPOCH, D-NEW-CIRCADIAN).
//!
//! Registry notes (verbatim where load-bearing): histograms are NORMALIZED
//! fractions of the operator's command events by UTC hour (24 bins), ISO
//! day-of-week (7 bins, 0 = Monday) and `dow*24 + hour` (168 bins); "bins
//! count command/activity events by their execution time"; extractors MUST
//! emit exactly 24 / 7 / 168 bins. `quiet_span_utc` is `[start_hour,
//! end_hour)` of the longest run of LOW-activity hours on the circular hour
//! grid quantized from `hour_histogram` — wrap-around legal (`start > end`),
//! a bin is quiet when below 10 % of the peak bin, ties broken toward the
//! run centred on the global-minimum-density hour — and is GATED: emitted
//! only with ≥ 30 command events across ≥ 2 active days, otherwise omitted
//! while the histograms are still emitted.
//!
//! Event times: a command executes when its Enter arrives, so each command
//! contributes its `end_ts` (session offset) plus the session epoch. The
//! primitives need a usable epoch ([`usable_session_epoch`]); without one
//! they are not emitted at all.
//!
//! Confidence: the sample-size rule (< 5 samples → ≤ 0.5) and the note's
//! instruction that consumers weight thin sessions down: `n / (n + k)`
//! capped at 0.9, with `k = 10` for the 24- and 7-bin marginals and
//! `k = 40` for the sparse 168-bin grid (n = 4 → 0.29 / 0.09; n = 30 →
//! 0.75 / 0.43).
pub use crate::thresholds::{
    CIRCADIAN_CONFIDENCE_CAP, EPOCH_FUTURE_SLACK_S, EPOCH_MIN, QUIET_BIN_FRACTION,
    QUIET_SPAN_MIN_DAYS, QUIET_SPAN_MIN_EVENTS,
};

/// The session epoch from the first header's `timestamp`, when usable: an
/// integer between 2000-01-01 and one day after `now_ts` (issue 3 item 3).
pub fn usable_session_epoch(header_timestamp: Option<i64>, now_ts: f64) -> Option<f64> {
    let ts = header_timestamp?;
    if ts < EPOCH_MIN || (ts as f64) > now_ts + EPOCH_FUTURE_SLACK_S {
        return None;
    }
    Some(ts as f64)
}

/// [`usable_session_epoch`] of the index's `header_timestamp` (the reader
/// keeps it only for a JSON integer in the sid's first header; the f64 is
/// converted back when it is an exact integer in i64 range).
pub fn session_epoch_from_header(header_timestamp: Option<f64>, now_ts: f64) -> Option<f64> {
    let ts = header_timestamp
        .filter(|t| t.fract() == 0.0 && t.abs() < 9.0e15)
        .map(|t| t as i64);
    usable_session_epoch(ts, now_ts)
}

/// UTC hour (0-23) and ISO day of week (0 = Monday) of an epoch second.
/// `None` for non-finite or pre-1970 times.
pub fn hour_and_dow(epoch_s: f64) -> Option<(usize, usize)> {
    if !epoch_s.is_finite() || epoch_s < 0.0 {
        return None;
    }
    let secs = epoch_s.floor();
    let days = (secs / 86_400.0).floor();
    let in_day = secs - days * 86_400.0;
    let hour = ((in_day / 3_600.0).floor() as usize).min(23);
    // 1970-01-01 was a Thursday (ISO index 3).
    let dow = ((days as i64 + 3).rem_euclid(7)) as usize;
    Some((hour, dow))
}

/// The circadian observations of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Circadian {
    pub hour: Vec<f64>,
    pub dow: Vec<f64>,
    pub hour_dow: Vec<f64>,
    /// `[start, end)` hours, only when the gate passes and a quiet run exists.
    pub quiet_span: Option<[u8; 2]>,
    /// Number of command events binned.
    pub events: usize,
    pub marginal_confidence: f64,
    pub joint_confidence: f64,
}

fn confidence(n: usize, k: f64) -> f64 {
    let n = n as f64;
    (n / (n + k)).min(CIRCADIAN_CONFIDENCE_CAP)
}

/// Bins command execution epochs. `None` when there is no event to bin.
pub fn circadian(command_epochs: &[f64]) -> Option<Circadian> {
    let mut hour = [0usize; 24];
    let mut dow = [0usize; 7];
    let mut joint = [0usize; 168];
    let mut days: Vec<i64> = Vec::new();
    let mut n = 0usize;
    for &e in command_epochs {
        let Some((h, d)) = hour_and_dow(e) else {
            continue;
        };
        hour[h] += 1;
        dow[d] += 1;
        joint[d * 24 + h] += 1;
        let day = (e / 86_400.0).floor() as i64;
        if !days.contains(&day) {
            days.push(day);
        }
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let norm = |xs: &[usize]| {
        xs.iter()
            .map(|&c| c as f64 / n as f64)
            .collect::<Vec<f64>>()
    };
    let quiet_span = if n >= QUIET_SPAN_MIN_EVENTS && days.len() >= QUIET_SPAN_MIN_DAYS {
        quiet_span(&hour)
    } else {
        None
    };
    Some(Circadian {
        hour: norm(&hour),
        dow: norm(&dow),
        hour_dow: norm(&joint),
        quiet_span,
        events: n,
        marginal_confidence: confidence(n, 10.0),
        joint_confidence: confidence(n, 40.0),
    })
}

/// Longest circular run of quiet hours (below 10 % of the peak bin) as
/// `[start, end)`; ties go to the run centred closest to the global-minimum
/// hour (first minimum), then to the earliest start. `None` when no hour is
/// quiet.
pub fn quiet_span(hour_counts: &[usize; 24]) -> Option<[u8; 2]> {
    let peak = *hour_counts.iter().max()?;
    let quiet: Vec<bool> = hour_counts
        .iter()
        .map(|&c| (c as f64) < QUIET_BIN_FRACTION * peak as f64)
        .collect();
    if !quiet.iter().any(|&q| q) || quiet.iter().all(|&q| q) {
        return None;
    }
    let min_hour = (0..24).min_by_key(|&h| (hour_counts[h], h))?;
    // Runs start at a quiet hour whose predecessor (circularly) is not quiet.
    let mut best: Option<(usize, usize, usize)> = None; // (len, start, distance)
    for start in 0..24 {
        if !quiet[start] || quiet[(start + 23) % 24] {
            continue;
        }
        let mut len = 0;
        while len < 24 && quiet[(start + len) % 24] {
            len += 1;
        }
        // Circular distance (in half-hours) from the run's centre to min_hour.
        let centre2 = (2 * start + len - 1) % 48;
        let target2 = 2 * min_hour;
        let d = centre2.abs_diff(target2);
        let dist = d.min(48 - d);
        let better = match best {
            None => true,
            Some((bl, _, bd)) => len > bl || (len == bl && dist < bd),
        };
        if better {
            best = Some((len, start, dist));
        }
    }
    let (len, start, _) = best?;
    Some([start as u8, ((start + len) % 24) as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_rules() {
        let now = 1_800_000_000.0;
        assert_eq!(
            usable_session_epoch(Some(1_777_680_000), now),
            Some(1_777_680_000.0)
        );
        assert_eq!(usable_session_epoch(None, now), None);
        assert_eq!(usable_session_epoch(Some(12), now), None);
        assert_eq!(usable_session_epoch(Some(946_684_799), now), None);
        assert_eq!(usable_session_epoch(Some(1_800_086_401), now), None);
        assert!(usable_session_epoch(Some(1_800_086_400), now).is_some());
        assert_eq!(
            session_epoch_from_header(Some(1_777_680_000.0), now),
            Some(1_777_680_000.0)
        );
        assert_eq!(session_epoch_from_header(Some(1_777_680_000.5), now), None);
        assert_eq!(session_epoch_from_header(Some(f64::NAN), now), None);
        assert_eq!(session_epoch_from_header(Some(1e300), now), None);
        assert_eq!(session_epoch_from_header(None, now), None);
    }

    #[test]
    fn hour_and_dow_of_known_dates() {
        // 2026-05-02T13:45:00Z is a Saturday (ISO index 5).
        assert_eq!(hour_and_dow(1_777_729_500.0), Some((13, 5)));
        // 1970-01-05T00:00:00Z was a Monday.
        assert_eq!(hour_and_dow(4.0 * 86_400.0), Some((0, 0)));
        assert_eq!(hour_and_dow(f64::NAN), None);
    }

    #[test]
    fn histograms_have_fixed_lengths_and_sum_to_one() {
        let base = 1_777_729_500.0; // Sat 13:45
        let c = circadian(&[base, base + 60.0, base + 3_600.0, base + 86_400.0]).expect("events");
        assert_eq!((c.hour.len(), c.dow.len(), c.hour_dow.len()), (24, 7, 168));
        assert_eq!(c.hour[13], 0.75);
        assert_eq!(c.hour[14], 0.25);
        assert_eq!(c.dow[5], 0.75);
        assert_eq!(c.dow[6], 0.25);
        assert_eq!(c.hour_dow[5 * 24 + 13], 0.5);
        assert!((c.hour.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(c.quiet_span, None, "gated: 4 events");
        assert!(c.marginal_confidence <= 0.5 && c.joint_confidence <= 0.5);
        assert!(circadian(&[]).is_none());
    }

    #[test]
    fn quiet_span_wraps_midnight_and_is_gated() {
        // Activity 08:00-21:59 UTC on two days, 32 events.
        let day0 = 1_777_680_000.0; // 2026-05-02T00:00Z
        let mut ev = Vec::new();
        for d in 0..2 {
            for h in 8..22 {
                ev.push(day0 + f64::from(d) * 86_400.0 + f64::from(h) * 3_600.0);
            }
        }
        ev.push(day0 + 12.0 * 3_600.0);
        ev.push(day0 + 12.5 * 3_600.0);
        let c = circadian(&ev).expect("events");
        assert_eq!(c.quiet_span, Some([22, 8]));
        // One day only: omitted.
        let one_day: Vec<f64> = ev.iter().map(|e| day0 + (e - day0) % 86_400.0).collect();
        assert_eq!(circadian(&one_day).expect("events").quiet_span, None);
    }

    #[test]
    fn quiet_means_below_ten_percent_of_peak() {
        let mut h = [0usize; 24];
        h[10] = 100;
        h[11] = 9; // quiet (< 10)
        h[12] = 10; // not quiet
        for c in h.iter_mut().skip(13) {
            *c = 50;
        }
        // quiet: 0..=9 and 11 → longest run 0..10 → [0, 10)
        assert_eq!(quiet_span(&h), Some([0, 10]));
    }

    #[test]
    fn tie_break_prefers_the_run_around_the_global_minimum() {
        let mut h = [20usize; 24];
        for x in &mut h[2..5] {
            *x = 1;
        }
        for x in &mut h[14..17] {
            *x = 0;
        }
        assert_eq!(quiet_span(&h), Some([14, 17]));
    }
}
