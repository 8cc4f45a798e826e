//! cognitive.* primitives (engine.md §5.11–5.21).

use std::collections::HashSet;

use super::{by_commands, emit, Emitted};
use crate::context::SessionContext;
use crate::lexicon::HELP_TOKENS;
use crate::profile::Profile;
use crate::stats::{correlation, cv_samp, fmean, median, Correlation, StatsError};
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

fn distinct_tokens(ctx: &SessionContext<'_>) -> usize {
    ctx.commands
        .iter()
        .map(|c| c.token_id)
        .collect::<HashSet<_>>()
        .len()
}

/// §5.11
pub(crate) fn inter_command_latency_class(ctx: &SessionContext<'_>, _p: Profile) -> R {
    if ctx.inter_cmd_iats.is_empty() {
        return Ok(None);
    }
    let m = median(&ctx.inter_cmd_iats);
    let value = if m <= INTER_CMD_INSTANT_MAX {
        "instant"
    } else if m <= INTER_CMD_TYPING_MAX {
        "typing_speed"
    } else if m <= INTER_CMD_DELIBERATE_MAX {
        "deliberate"
    } else if m <= INTER_CMD_LLM_LIGHTWEIGHT_MAX {
        "llm_lightweight"
    } else if m <= INTER_CMD_LLM_HEAVYWEIGHT_MAX {
        "llm_heavyweight"
    } else {
        "long"
    };
    emit(value, by_commands(ctx.n_cmd(), 0.40, 0.80))
}

/// §5.12
pub(crate) fn command_branch_diversity(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    if n < MIN_COMMANDS_FOR_FULL_CONFIDENCE {
        return emit("unknown", 1.0);
    }
    let r = distinct_tokens(ctx) as f64 / n as f64;
    emit(
        if r >= BRANCH_DIVERSITY_LINEAR_MIN {
            "linear_playbook"
        } else {
            "adaptive_branching"
        },
        0.80,
    )
}

/// §5.13
pub(crate) fn feedback_loop_engagement(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let pairs = n - 1;
    if ctx.outputs.is_empty() || pairs < FEEDBACK_MIN_PAIRS {
        return emit("unknown", 1.0);
    }
    let x: Vec<f64> = ctx.commands[..pairs]
        .iter()
        .map(|c| c.output_bytes as f64)
        .collect();
    match correlation(&x, &ctx.inter_cmd_iats)? {
        Correlation::Undefined => emit("unknown", 1.0),
        Correlation::Value(r) => emit(
            if r > FEEDBACK_CORRELATION_MIN {
                "closed_loop"
            } else {
                "fire_and_forget"
            },
            0.75,
        ),
    }
}

/// Sample CV of the inter-command gaps when ≥ 2 gaps with a positive mean.
fn pace_cv(ctx: &SessionContext<'_>) -> Result<Option<f64>, StatsError> {
    let g = &ctx.inter_cmd_iats;
    if g.len() < 2 {
        return Ok(None);
    }
    let m = fmean(g)?;
    if m <= 0.0 {
        return Ok(None);
    }
    Ok(Some(cv_samp(g, m)?))
}

/// §5.14
pub(crate) fn inter_command_consistency(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let Some(cv) = pace_cv(ctx)? else {
        return Ok(None);
    };
    let value = if cv < PAUSE_CV_METRONOMIC_MAX {
        "metronomic"
    } else if cv >= PAUSE_CV_BIMODAL_MIN {
        "bimodal"
    } else {
        "variable"
    };
    emit(value, by_commands(ctx.n_cmd(), 0.40, 0.75))
}

fn clip01(x: f64) -> f64 {
    // `f64::clamp` keeps NaN and -0.0, as the reference's two comparisons do.
    x.clamp(0.0, 1.0)
}

/// §5.15
pub(crate) fn cognitive_load(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let mut cvs = Vec::new();
    for iats in &ctx.intra_command_iats {
        if iats.len() < 2 {
            continue;
        }
        let m = fmean(iats)?;
        if m > 0.0 {
            cvs.push(cv_samp(iats, m)?);
        }
    }
    let mut sum = 0.0f64;
    let mut k = 0usize;
    if !cvs.is_empty() {
        sum += clip01(median(&cvs) / COGNITIVE_LOAD_CHUNKING_REF_CV);
        k += 1;
    }
    let errored = ctx.commands.iter().filter(|c| c.errored).count();
    sum += clip01(errored as f64 / n as f64);
    k += 1;
    if let Some(cv) = pace_cv(ctx)? {
        sum += clip01(cv / COGNITIVE_LOAD_PACE_REF_CV);
        k += 1;
    }
    let load = sum / k as f64;
    let value = if load < COGNITIVE_LOAD_LOW_MAX {
        "low"
    } else if load < COGNITIVE_LOAD_MEDIUM_MAX {
        "medium"
    } else {
        "high"
    };
    emit(value, by_commands(n, 0.40, 0.60))
}

/// §5.16
pub(crate) fn exploration_style(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let h: Vec<usize> = ctx.commands.iter().map(|c| c.token_id).collect();
    let rep = 1.0 - distinct_tokens(ctx) as f64 / n as f64;
    let mut seen = HashSet::new();
    seen.insert(h[0]);
    let mut backtracks = 0usize;
    for i in 1..n {
        if h[i] != h[i - 1] && seen.contains(&h[i]) {
            backtracks += 1;
        }
        seen.insert(h[i]);
    }
    let j = if n > 1 {
        backtracks as f64 / (n - 1) as f64
    } else {
        0.0
    };
    let value = if j >= EXPLORATION_CHAOTIC_BACKTRACK_MIN {
        "chaotic"
    } else if rep >= EXPLORATION_TARGETED_REP_MIN {
        "targeted"
    } else {
        "methodical"
    };
    emit(value, by_commands(n, 0.40, 0.60))
}

/// §5.17
pub(crate) fn planning_depth(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let g = &ctx.inter_cmd_iats;
    if g.is_empty() {
        return Ok(None);
    }
    let total = g.len() as f64;
    let deep = g.iter().filter(|&&x| x > IKI_THINK_MAX_S).count() as f64 / total;
    let reactive = g.iter().filter(|&&x| x <= INTER_CMD_INSTANT_MAX).count() as f64 / total;
    let value = if deep >= PLANNING_DEEP_MIN {
        "deep"
    } else if reactive >= PLANNING_REACTIVE_MIN {
        "reactive"
    } else {
        "shallow"
    };
    emit(value, by_commands(ctx.n_cmd(), 0.40, 0.65))
}

/// §5.18
pub(crate) fn tool_vocabulary(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let d = distinct_tokens(ctx);
    let value = if d <= TOOL_VOCAB_NARROW_MAX {
        "narrow"
    } else if d >= TOOL_VOCAB_BROAD_MIN {
        "broad"
    } else {
        "moderate"
    };
    emit(value, by_commands(n, 0.40, 0.70))
}

/// §5.19
pub(crate) fn retry_tactic(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let cmds = &ctx.commands;
    let mut counts = [0usize; 3]; // rerun, switch, abort
    let mut errored = 0usize;
    for (i, c) in cmds.iter().enumerate() {
        if !c.errored {
            continue;
        }
        errored += 1;
        match cmds.get(i + 1) {
            None => counts[2] += 1,
            Some(next) if next.token_id == c.token_id => counts[0] += 1,
            Some(_) => counts[1] += 1,
        }
    }
    if errored == 0 {
        return Ok(None);
    }
    let labels = ["rerun", "switch", "abort"];
    let mut best = 0;
    for k in 1..3 {
        if counts[k] > counts[best] {
            best = k;
        }
    }
    emit(labels[best], by_commands(errored, 0.40, 0.65))
}

/// §5.20
pub(crate) fn frustration_typing(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n < 2 {
        return Ok(None);
    }
    let mut post_err = Vec::new();
    let mut post_ok = Vec::new();
    for i in 1..n {
        let l = &ctx.intra_command_iats[i];
        if l.is_empty() {
            continue;
        }
        let m = median(l);
        if ctx.commands[i - 1].errored {
            post_err.push(m);
        } else {
            post_ok.push(m);
        }
    }
    if post_err.is_empty() || post_ok.is_empty() {
        return Ok(None);
    }
    let e = median(&post_err);
    let o = median(&post_ok);
    if o <= 0.0 {
        return Ok(None);
    }
    let delta = (e - o).abs() / o;
    let value = if delta < FRUSTRATION_LOW_MAX {
        "low"
    } else if delta < FRUSTRATION_MODERATE_MAX {
        "moderate"
    } else {
        "high"
    };
    emit(value, by_commands(post_err.len(), 0.40, 0.60))
}

/// §5.21
pub(crate) fn fallback_to_man(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    let mut errored = 0usize;
    let mut present = false;
    for i in 0..n {
        if !ctx.commands[i].errored {
            continue;
        }
        errored += 1;
        if i + 1 < n && crate::lexicon::token_in(ctx.token(i + 1), HELP_TOKENS) {
            present = true;
        }
    }
    if errored == 0 {
        return Ok(None);
    }
    emit(
        if present { "present" } else { "absent" },
        by_commands(errored, 0.40, 0.65),
    )
}
