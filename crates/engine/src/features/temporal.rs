//! temporal.* primitives (engine.md §5.22–5.25).

use super::{emit, Emitted};
use crate::context::SessionContext;
use crate::honest::{honest, near_any};
use crate::lexicon::{CLEANUP_TOKENS, GRACEFUL_EXIT_TOKENS, LANDING_RITUAL_TOKENS};
use crate::profile::Profile;
use crate::stats::{fmean, py_max, stdev, StatsError};
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

/// §5.22; `behave-0.1.4`: registry buckets (D-DURATION), D-CONF.
pub(crate) fn session_duration(ctx: &SessionContext<'_>, p: Profile) -> R {
    let d = ctx.duration_s;
    if d <= 0.0 && ctx.n_cmd() == 0 {
        return Ok(None);
    }
    if p == Profile::Behave014 {
        let [short, medium, long] = BEHAVE_SESSION_DURATION_EDGES_S;
        let v = if d < short {
            "short"
        } else if d < medium {
            "medium"
        } else if d < long {
            "long"
        } else {
            "marathon"
        };
        // One measurement of the whole session: rule 1 does not apply.
        return emit(
            v,
            honest(
                0.85,
                usize::MAX,
                near_any(d, &BEHAVE_SESSION_DURATION_EDGES_S),
            ),
        );
    }
    let value = if d < SESSION_DURATION_SHORT_MAX {
        "short"
    } else if d < SESSION_DURATION_MEDIUM_MAX {
        "medium"
    } else if d < SESSION_DURATION_LONG_MAX {
        "long"
    } else {
        "marathon"
    };
    emit(value, 0.85)
}

/// §5.23. `math.ceil` / `int()` of a non-finite value raise in the
/// reference; that surfaces here as [`StatsError::NonFinite`].
pub(crate) fn escalation_pattern(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    let d = ctx.duration_s;
    if n == 0 || d <= 0.0 {
        return Ok(None);
    }
    let width = py_max(ESCALATION_WINDOW_MIN_S, d / ESCALATION_WINDOW_TARGET);
    let q = (d / width).ceil();
    if !q.is_finite() {
        return Err(StatsError::NonFinite);
    }
    let w = if q < 1.0 { 1usize } else { q as usize };
    let mut counts = vec![0u64; w];
    for c in &ctx.commands {
        let off = (c.start_ts - ctx.t_start) / width;
        if !off.is_finite() {
            return Err(StatsError::NonFinite);
        }
        let tr = off.trunc();
        let idx = if tr <= 0.0 {
            0
        } else if tr >= (w - 1) as f64 {
            w - 1
        } else {
            tr as usize
        };
        counts[idx] += 1;
    }
    let cf: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let mean = fmean(&cf)?;
    let cv = if mean <= 0.0 || w < 2 {
        0.0
    } else {
        stdev(&cf)? / mean
    };
    let zero = counts.iter().filter(|&&c| c == 0).count() as f64 / w as f64;
    let value = if zero >= ESCALATION_BURSTY_ZERO_FRAC && cv >= ESCALATION_BURSTY_CV {
        "bursty"
    } else if cv < ESCALATION_SUSTAINED_CV {
        "sustained"
    } else {
        "erratic"
    };
    let conf = if w < ESCALATION_MIN_WINDOWS || n < ESCALATION_MIN_COMMANDS {
        0.40
    } else {
        0.60
    };
    emit(value, conf)
}

/// §5.24 (`behave-0.1.4`: rule 1 caps fewer than 5 commands at 0.5, D-CONF).
pub(crate) fn landing_ritual(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let hits = (0..n.min(LANDING_RITUAL_FIRST_N))
        .filter(|&i| ctx.token_in(i, LANDING_RITUAL_TOKENS))
        .count();
    let value = if hits >= LANDING_RITUAL_HIT_MIN {
        "present"
    } else {
        "absent"
    };
    let conf = if n < LANDING_RITUAL_MIN_COMMANDS {
        0.40
    } else {
        0.65
    };
    if p == Profile::Behave014 {
        return emit(value, honest(conf, n, false));
    }
    emit(value, conf)
}

/// §5.25; `behave-0.1.4`: an exit command is graceful with or without a
/// following prompt (D-EXIT), skipped without output (D-EMPTY), D-CONF.
pub(crate) fn exit_behavior(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    if p == Profile::Behave014 {
        if ctx.outputs.is_empty() {
            return Ok(None);
        }
        let (v, c) = if ctx.token_in(n - 1, GRACEFUL_EXIT_TOKENS) {
            ("graceful", 0.65)
        } else if !ctx.commands[n - 1].followed_by_prompt {
            ("abrupt", 0.45)
        } else if (n.saturating_sub(EXIT_BEHAVIOR_LOOKBACK_K)..n)
            .any(|i| ctx.token_in(i, CLEANUP_TOKENS))
        {
            ("cleanup", 0.65)
        } else {
            ("graceful", 0.65)
        };
        return emit(v, honest(c, n, false));
    }
    if !ctx.commands[n - 1].followed_by_prompt {
        return emit("abrupt", 0.45);
    }
    if ctx.token_in(n - 1, GRACEFUL_EXIT_TOKENS) {
        return emit("graceful", 0.65);
    }
    let from = n.saturating_sub(EXIT_BEHAVIOR_LOOKBACK_K);
    if (from..n).any(|i| ctx.token_in(i, CLEANUP_TOKENS)) {
        return emit("cleanup", 0.65);
    }
    emit("graceful", 0.65)
}
