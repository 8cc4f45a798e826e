//! operational.* primitives (engine.md §5.31–5.34).

use super::{emit, Emitted};
use crate::context::SessionContext;
use crate::lexicon::{CLEANUP_TOKENS, INTENT_SETS, OPSEC_HISTORY_TOKENS};
use crate::profile::Profile;
use crate::stats::{median, py_max, StatsError};
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

/// §5.31: modal intent, ties to the label first seen in command order;
/// `behave-0.1.4`: ties by the documented precedence (D-OBJECTIVE).
pub(crate) fn objective(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    // (label index, count) in first-seen order.
    let mut counts: Vec<(usize, usize)> = Vec::new();
    let mut classified = 0usize;
    // A token's intent depends on the token alone: looked up once per
    // distinct first token (in `behave-0.1.4` each lookup scans the sets'
    // keyed digests).
    let mut intent_by_token: Vec<Option<Option<usize>>> = vec![None; ctx.tokens.len()];
    for i in 0..n {
        let id = ctx.commands[i].token_id;
        let intent = match intent_by_token.get(id).copied().flatten() {
            Some(k) => k,
            None => {
                let k = ctx.token_intent(i);
                if let Some(slot) = intent_by_token.get_mut(id) {
                    *slot = Some(k);
                }
                k
            }
        };
        let Some(k) = intent else {
            continue;
        };
        classified += 1;
        match counts.iter_mut().find(|(l, _)| *l == k) {
            Some(e) => e.1 += 1,
            None => counts.push((k, 1)),
        }
    }
    if classified < INTENT_MIN_COMMANDS {
        return Ok(None);
    }
    let mut best = counts[0];
    for &c in &counts[1..] {
        // INTENT_SETS is in precedence order: a lower index wins a tie.
        if c.1 > best.1 || (p == Profile::Behave014 && c.1 == best.1 && c.0 < best.0) {
            best = c;
        }
    }
    emit(
        INTENT_SETS[best.0].0,
        if classified >= INTENT_FULL_CONFIDENCE_MIN {
            0.60
        } else {
            0.40
        },
    )
}

/// §5.32
pub(crate) fn opsec_discipline(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let hist = (0..n).any(|i| ctx.token_in(i, OPSEC_HISTORY_TOKENS));
    let from = n.saturating_sub(EXIT_BEHAVIOR_LOOKBACK_K);
    let tail = (from..n).any(|i| ctx.token_in(i, CLEANUP_TOKENS));
    let value = if !hist {
        "careless"
    } else if tail {
        "careful"
    } else {
        "learning"
    };
    emit(
        value,
        if n < MIN_COMMANDS_FOR_FULL_CONFIDENCE {
            0.30
        } else {
            0.45
        },
    )
}

/// §5.33
pub(crate) fn cleanup_behavior(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let from = n.saturating_sub(CLEANUP_TAIL_K);
    let k = CLEANUP_TOKENS
        .iter()
        .filter(|w| (from..n).any(|i| ctx.token_in(i, &[w])))
        .count();
    let value = if k >= CLEANUP_THOROUGH_MIN_DISTINCT {
        "thorough"
    } else if k >= 1 {
        "partial"
    } else {
        "none"
    };
    emit(
        value,
        if n >= CLEANUP_FULL_CONFIDENCE_COMMANDS {
            0.55
        } else {
            0.35
        },
    )
}

/// §5.34
pub(crate) fn multi_actor_indicators(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n < MULTI_ACTOR_MIN_COMMANDS {
        return Ok(None);
    }
    let mid = ctx.t_start + ctx.duration_s / 2.0;
    let (mut na, mut nb) = (0usize, 0usize);
    // Each half holds at most every IAT: sized once, not regrown.
    let all = ctx.intra_command_iats.values().len();
    let (mut pa, mut pb) = (Vec::with_capacity(all), Vec::with_capacity(all));
    for (c, iats) in ctx.commands.iter().zip(&ctx.intra_command_iats) {
        if c.start_ts < mid {
            na += 1;
            pa.extend_from_slice(iats);
        } else {
            nb += 1;
            pb.extend_from_slice(iats);
        }
    }
    let conf = if na >= MULTI_ACTOR_FULL_CONFIDENCE_HALF && nb >= MULTI_ACTOR_FULL_CONFIDENCE_HALF {
        0.55
    } else {
        0.40
    };
    if na < MULTI_ACTOR_HALF_MIN_COMMANDS
        || nb < MULTI_ACTOR_HALF_MIN_COMMANDS
        || pa.is_empty()
        || pb.is_empty()
    {
        return emit("solo", conf);
    }
    let a = median(&pa);
    let b = median(&pb);
    let den = py_max(a, b);
    let conf = if p == Profile::Behave014 && den > 0.0 {
        // D-CONF rule 2 on the half-to-half typing-speed change.
        crate::honest::honest(
            conf,
            pa.len().min(pb.len()),
            crate::honest::near((a - b).abs() / den, MULTI_ACTOR_HANDOFF_DELTA),
        )
    } else {
        conf
    };
    if den > 0.0 && (a - b).abs() / den > MULTI_ACTOR_HANDOFF_DELTA {
        emit("handoff_detected", conf)
    } else {
        emit("solo", conf)
    }
}
