//! Input units: what one write of the operator's side looks like, for the
//! paste-vs-type primitives (profile `behave-0.1.4`; engine.md §9 items 14
//! and 23; docs/DEVIATIONS.md rows D-MODALITY, D-PASTERATE, D-TREMOR).
//!
//! The reference classifies each recorder *event* by size (≥ 4 code points
//! = paste) and compares event counts. Three things go wrong: a big paste
//! is split by the recorder into 975-byte chunks with the same timestamp
//! (one paste, many "events", zero IATs that read as motor tremor); escape
//! sequences (F-keys `ESC[15~`, ctrl-arrows, bracketed-paste markers,
//! terminal capability replies) are ≥ 4 code points and count as pastes;
//! and a harness that writes `id` and then `\r` 10 ms later produces two
//! small "typed" events.
//!
//! A unit joins consecutive input events less than [`JOIN_MAX_S`] apart (and
//! same-timestamp chunks, IAT 0): no human presses two keys within 30 ms
//! reliably (the reference's own `TREMOR_FAST_FLOOR_S`), so such events are
//! one write. Its *payload* is its code points minus escape sequences. A
//! unit is paste-class when its payload has ≥ 4 code points
//! (`PASTE_MIN_CHARS_PER_EVENT`) or when it was joined from several events
//! with payload (a machine-speed write). Units with no payload (pure escape
//! sequences) are neither typed nor pasted.
pub use crate::thresholds::{JOIN_MAX_S, PASTE_MIN_PAYLOAD};

const ESC: u32 = 0x1B;
const BEL: u32 = 0x07;

/// Code points of `data` outside escape sequences (CSI, SS3, OSC/DCS/APC/PM
/// strings up to BEL or ST, 2-byte `ESC x`).
pub fn payload_len(data: &[u32]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < data.len() {
        if data[i] != ESC {
            n += 1;
            i += 1;
            continue;
        }
        let Some(&k) = data.get(i + 1) else {
            return n; // lone trailing ESC
        };
        i += 2;
        match k {
            0x5B => {
                while i < data.len() && (0x30..=0x3F).contains(&data[i]) {
                    i += 1;
                }
                while i < data.len() && (0x20..=0x2F).contains(&data[i]) {
                    i += 1;
                }
                i += 1; // final byte
            }
            0x4F => i += 1,
            0x5D | 0x50 | 0x58 | 0x5E | 0x5F => {
                while i < data.len() && data[i] != BEL && data[i] != ESC {
                    i += 1;
                }
                if i < data.len() && data[i] == BEL {
                    i += 1;
                } else if i + 1 < data.len() && data[i] == ESC && data[i + 1] == 0x5C {
                    i += 2;
                }
            }
            _ => {}
        }
    }
    n
}

/// One write: consecutive input events joined by [`JOIN_MAX_S`].
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub t_first: f64,
    pub t_last: f64,
    /// Payload code points (escape sequences excluded).
    pub payload: usize,
    /// Joined events that carried payload.
    pub payload_events: usize,
    /// Index of the first and one past the last input event of the unit.
    pub first_event: usize,
    pub end_event: usize,
}

impl Unit {
    pub fn has_payload(&self) -> bool {
        self.payload > 0
    }

    pub fn is_paste(&self) -> bool {
        self.payload >= PASTE_MIN_PAYLOAD || self.payload_events >= 2
    }
}

/// Groups input events `(t, data)` into units (order kept, never sorted;
/// a negative time step starts a new unit).
pub fn units<'a>(inputs: impl IntoIterator<Item = (f64, &'a [u32])>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for (idx, (t, data)) in inputs.into_iter().enumerate() {
        let p = payload_len(data);
        if let Some(u) = out.last_mut() {
            let dt = t - u.t_last;
            if (0.0..JOIN_MAX_S).contains(&dt) {
                u.t_last = t;
                u.payload += p;
                u.payload_events += usize::from(p > 0);
                u.end_event = idx + 1;
                continue;
            }
        }
        out.push(Unit {
            t_first: t,
            t_last: t,
            payload: p,
            payload_events: usize::from(p > 0),
            first_event: idx,
            end_event: idx + 1,
        });
    }
    out
}

/// Share of payload code points that arrived in paste-class units (the
/// design's "count paste-burst chars vs typed chars"); `None` without payload.
pub fn pasted_char_share(units: &[Unit]) -> Option<f64> {
    let total: usize = units.iter().map(|u| u.payload).sum();
    if total == 0 {
        return None;
    }
    let pasted: usize = units
        .iter()
        .filter(|u| u.is_paste())
        .map(|u| u.payload)
        .sum();
    Some(pasted as f64 / total as f64)
}

/// Share of payload-carrying units that are paste-class; `None` without any.
pub fn paste_unit_share(units: &[Unit]) -> Option<f64> {
    let with: Vec<&Unit> = units.iter().filter(|u| u.has_payload()).collect();
    if with.is_empty() {
        return None;
    }
    let p = with.iter().filter(|u| u.is_paste()).count();
    Some(p as f64 / with.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(s: &str) -> Vec<u32> {
        s.chars().map(u32::from).collect()
    }

    fn mk(ev: &[(f64, &str)]) -> Vec<Unit> {
        let d: Vec<(f64, Vec<u32>)> = ev.iter().map(|(t, s)| (*t, cp(s))).collect();
        units(d.iter().map(|(t, s)| (*t, s.as_slice())))
    }

    #[test]
    fn payload_skips_escape_sequences() {
        assert_eq!(payload_len(&cp("\x1b[15~")), 0);
        assert_eq!(payload_len(&cp("\x1b[1;5C")), 0);
        assert_eq!(payload_len(&cp("\x1b[200~ls -la\x1b[201~")), 6);
        assert_eq!(payload_len(&cp("\x1bP>|XTerm(380)\x1b\\")), 0);
        assert_eq!(payload_len(&cp("\x1b]11;rgb:0/0/0\x07x")), 1);
        assert_eq!(payload_len(&cp("\x1bOAab")), 2);
        assert_eq!(payload_len(&cp("a\x1b")), 1);
    }

    #[test]
    fn same_timestamp_chunks_are_one_paste() {
        let u = mk(&[(1.0, "aaaa"), (1.0, "bbbb"), (1.0, "cc"), (2.0, "x")]);
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].payload, u[0].is_paste()), (10, true));
        assert!(!u[1].is_paste());
    }

    #[test]
    fn harness_write_then_enter_is_one_write() {
        let u = mk(&[(4.116, "id"), (4.133, "\r"), (8.0, "w"), (8.4, "\r")]);
        assert_eq!(u.len(), 3);
        assert!(u[0].is_paste());
        assert!(!u[1].is_paste() && !u[2].is_paste());
    }

    #[test]
    fn shares() {
        // YOU-sim style: paste, then a typed Enter
        let u = mk(&[
            (1.0, "cat /etc/passwd"),
            (1.3, "\r"),
            (2.5, "uptime"),
            (2.9, "\r"),
        ]);
        assert_eq!(paste_unit_share(&u), Some(0.5));
        let c = pasted_char_share(&u).expect("payload");
        assert!(c > 0.9);
        let typed = mk(&[(0.0, "l"), (0.2, "s"), (0.4, "\r"), (0.5, "\x1b[A")]);
        assert_eq!(paste_unit_share(&typed), Some(0.0));
        assert_eq!(pasted_char_share(&mk(&[(0.0, "\x1b[A")])), None);
    }
}
