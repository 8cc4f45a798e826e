//! motor.* primitives (engine.md §5.1–5.10).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use md5::{Digest, Md5};

use super::{emit, Emitted};
use crate::context::{Fnv, SessionContext};
use crate::profile::Profile;
use crate::stats::{cv_pop, fmean, median, median_u64, py_min, StatsError};
use crate::text::encode_utf8_replace;
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

fn paste_ratio(ctx: &SessionContext<'_>) -> Option<f64> {
    let n = ctx.inputs.len();
    (n > 0).then(|| ctx.paste_event_count as f64 / n as f64)
}

/// §5.1
pub(crate) fn input_modality(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let Some(r) = paste_ratio(ctx) else {
        return Ok(None);
    };
    if r >= MODALITY_PASTED_MIN {
        emit("pasted", 0.75)
    } else if r <= MODALITY_TYPED_MAX {
        emit("typed", 0.75)
    } else {
        emit("mixed", 0.70)
    }
}

/// §5.2
pub(crate) fn paste_burst_rate(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let Some(r) = paste_ratio(ctx) else {
        return Ok(None);
    };
    if r >= PASTE_RATE_HABITUAL_MIN {
        emit("habitual", 0.80)
    } else if r >= PASTE_RATE_OCCASIONAL_MIN {
        emit("occasional", 0.70)
    } else {
        emit("none", 0.70)
    }
}

/// §5.3
pub(crate) fn keystroke_cadence(ctx: &SessionContext<'_>, _p: Profile) -> R {
    if ctx.inputs.len() < MIN_INPUTS_FOR_CADENCE || ctx.typing_bursts.is_empty() {
        return Ok(None);
    }
    let cvs = ctx.burst_cvs.clone()?;
    if cvs.is_empty() {
        return Ok(None);
    }
    let cv = median(&cvs);
    let flat: Vec<f64> = ctx.typing_bursts.iter().flatten().copied().collect();
    let mean_iki = fmean(&flat)?;
    if mean_iki < IKI_MACHINE_MAX_S && cv < CV_MACHINE_MAX {
        emit("machine", 0.85)
    } else if cv < CV_STEADY_MAX {
        emit("steady", 0.70)
    } else if cv < CV_BURSTY_MAX {
        emit("bursty", 0.65)
    } else {
        emit("hunt_and_peck", 0.60)
    }
}

/// 64-bit Charikar SimHash over weighted tokens (§5.4).
pub(crate) fn simhash64<'t>(tokens: impl IntoIterator<Item = (&'t [u32], u64)>) -> u64 {
    let mut acc = [0i64; 64];
    let mut bytes = Vec::new();
    for (tok, w) in tokens {
        if w == 0 {
            continue;
        }
        bytes.clear();
        encode_utf8_replace(tok, &mut bytes);
        let d = Md5::digest(&bytes);
        let mut h8 = [0u8; 8];
        h8.copy_from_slice(&d[..8]);
        let h = u64::from_be_bytes(h8);
        let w = w as i64;
        for (i, a) in acc.iter_mut().enumerate() {
            if (h >> i) & 1 == 1 {
                *a += w;
            } else {
                *a -= w;
            }
        }
    }
    acc.iter()
        .enumerate()
        .filter(|(_, &a)| a > 0)
        .fold(0u64, |h, (i, _)| h | (1u64 << i))
}

/// §5.4
pub(crate) fn digraph_simhash(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let mut flights: HashMap<(u32, u32), Vec<f64>, BuildHasherDefault<Fnv>> = HashMap::default();
    let mut prev: Option<(f64, u32)> = None;
    let mut samples = 0usize;
    for ev in &ctx.inputs {
        if ev.data.len() != 1 {
            prev = None;
            continue;
        }
        let c = ev.data[0];
        if let Some((t0, c0)) = prev {
            let dt = ev.t - t0;
            if 0.0 < dt && dt <= IKI_THINK_MAX_S {
                flights.entry((c0, c)).or_default().push(dt);
                samples += 1;
            }
        }
        prev = Some((ev.t, c));
    }
    let d = flights.len();
    if d < MIN_DIGRAPHS_FOR_SIMHASH || samples < MIN_DIGRAPH_SAMPLES {
        return Ok(None);
    }
    let mut tokens: Vec<(Vec<u32>, u64)> = Vec::with_capacity(d);
    for ((a, b), dts) in &flights {
        let m = median(dts);
        let bucket = DIGRAPH_FLIGHT_BUCKETS_S
            .iter()
            .position(|&e| m < e)
            .unwrap_or(DIGRAPH_FLIGHT_BUCKETS_S.len());
        let tok = vec![*a, *b, u32::from(b':'), u32::from(b'0') + bucket as u32];
        tokens.push((tok, dts.len() as u64));
    }
    let h = simhash64(tokens.iter().map(|(t, w)| (t.as_slice(), *w)));
    let confidence = py_min(0.95, 0.40 + 0.05 * d as f64);
    Ok(Some((format!("{h:016x}"), confidence)))
}

/// §5.5
pub(crate) fn motor_stability(ctx: &SessionContext<'_>, _p: Profile) -> R {
    if ctx.typing_bursts.is_empty() {
        return Ok(None);
    }
    let total: usize = ctx.typing_bursts.iter().map(Vec::len).sum();
    if total < TREMOR_MIN_IATS {
        return Ok(None);
    }
    let fast = ctx
        .typing_bursts
        .iter()
        .flatten()
        .filter(|&&x| x < TREMOR_FAST_FLOOR_S)
        .count();
    if fast as f64 / total as f64 >= TREMOR_RATE_MIN {
        return emit("tremor", 0.65);
    }
    let cvs = ctx.burst_cvs.clone()?;
    let cv = if cvs.is_empty() { 0.0 } else { median(&cvs) };
    if cv < CV_STEADY_MAX {
        emit("steady", 0.70)
    } else {
        emit("variable", 0.60)
    }
}

/// §5.6
pub(crate) fn error_correction(ctx: &SessionContext<'_>, _p: Profile) -> R {
    if ctx.inputs.len() < ERROR_CORRECTION_MIN_INPUTS {
        return Ok(None);
    }
    if ctx.backspace_count == 0 {
        return if ctx.kill_line_count > 0 {
            emit("route_around", 0.55)
        } else {
            emit("absent", 0.65)
        };
    }
    let m = if ctx.backspace_iats.is_empty() {
        f64::INFINITY
    } else {
        median(&ctx.backspace_iats)
    };
    if m <= BACKSPACE_IMMEDIATE_MAX_S {
        emit("immediate", 0.65)
    } else {
        emit("deferred", 0.55)
    }
}

/// §5.7
pub(crate) fn command_chunking(ctx: &SessionContext<'_>, _p: Profile) -> R {
    match ctx.n_cmd() {
        0 => return Ok(None),
        1 => return emit("single_command", 0.80),
        _ => {}
    }
    let mut cvs = Vec::new();
    for iats in &ctx.intra_command_iats {
        if iats.len() < CMD_CHUNKING_MIN_IATS {
            continue;
        }
        let m = fmean(iats)?;
        if m > 0.0 {
            cvs.push(cv_pop(iats, m)?);
        }
    }
    if cvs.is_empty() {
        return Ok(None);
    }
    if median(&cvs) < CMD_CHUNKING_FLUENT_CV_MAX {
        emit("fluent", 0.65)
    } else {
        emit("fragmented", 0.60)
    }
}

/// `near(v, b)` of §5.8–5.10, literally.
fn near(v: f64, b: f64) -> bool {
    if b == 0.0 {
        v.abs() <= SHELL_MASTERY_BOUNDARY_BAND
    } else {
        (v - b).abs() / b <= SHELL_MASTERY_BOUNDARY_BAND
    }
}

fn mastery_confidence(n_cmd: usize, near_edge: bool, full: f64) -> f64 {
    if n_cmd < SHELL_MASTERY_MIN_COMMANDS {
        0.40
    } else if near_edge {
        0.55
    } else {
        full
    }
}

/// §5.8
pub(crate) fn tab_completion(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let with_tab = ctx.commands.iter().filter(|c| c.tab_count > 0).count();
    let r = with_tab as f64 / n as f64;
    let value = if r == 0.0 {
        "none"
    } else if r < TAB_COMPLETION_OCCASIONAL_MAX || r < TAB_COMPLETION_HABITUAL_MIN {
        "occasional"
    } else {
        "habitual"
    };
    let edge = near(r, TAB_COMPLETION_OCCASIONAL_MAX) || near(r, TAB_COMPLETION_HABITUAL_MIN);
    emit(value, mastery_confidence(n, edge, 0.75))
}

/// §5.9
pub(crate) fn shortcut_usage(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let total: u64 = ctx
        .commands
        .iter()
        .map(|c| u64::from(c.shortcut_count))
        .sum();
    let r = total as f64 / n as f64;
    let value = if total == 0 || r < SHORTCUT_USAGE_MODERATE_MIN {
        "none"
    } else if r < SHORTCUT_USAGE_HEAVY_MIN {
        "moderate"
    } else {
        "heavy"
    };
    let edge = near(r, SHORTCUT_USAGE_MODERATE_MIN) || near(r, SHORTCUT_USAGE_HEAVY_MIN);
    emit(value, mastery_confidence(n, edge, 0.65))
}

/// §5.10
pub(crate) fn pipe_chaining_depth(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let pipes: Vec<u64> = ctx
        .commands
        .iter()
        .map(|c| u64::from(c.pipe_count))
        .collect();
    let m = median_u64(&pipes);
    let value = if m >= PIPE_CHAINING_DEEP_MEDIAN {
        "deep"
    } else if m >= PIPE_CHAINING_MODERATE_MEDIAN {
        "moderate"
    } else {
        "shallow"
    };
    let edge = near(m, PIPE_CHAINING_MODERATE_MEDIAN) || near(m, PIPE_CHAINING_DEEP_MEDIAN);
    emit(value, mastery_confidence(n, edge, 0.70))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::cps;

    #[test]
    fn simhash_vectors() {
        let ab = cps("ab:2");
        let bc = cps("bc:1");
        assert_eq!(
            format!(
                "{:016x}",
                simhash64([(ab.as_slice(), 3), (bc.as_slice(), 1)])
            ),
            "2db9606810a54cbc"
        );
        let ls = cps("ls:3");
        assert_eq!(
            format!("{:016x}", simhash64([(ls.as_slice(), 5)])),
            "819bef118ccfd1e6"
        );
        let s1 = vec![0xDCE9, 0x61, 0x3A, 0x30];
        let s2 = cps("xy:6");
        assert_eq!(
            format!(
                "{:016x}",
                simhash64([(s1.as_slice(), 2), (s2.as_slice(), 2)])
            ),
            "030401409127e804"
        );
        assert_eq!(simhash64(std::iter::empty()), 0);
    }

    #[test]
    fn digraph_confidence_steps() {
        let c = |d: usize| py_min(0.95, 0.40 + 0.05 * d as f64);
        assert_eq!(c(8), 0.8);
        assert_eq!(c(9), 0.8500000000000001);
        assert_eq!(c(10), 0.9);
        assert_eq!(c(11), 0.95);
        assert_eq!(c(30), 0.95);
    }
}
