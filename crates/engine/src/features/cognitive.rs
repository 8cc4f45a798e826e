//! cognitive.* primitives (engine.md §5.11–5.21).

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use super::{by_commands, emit, Emitted};
use crate::context::{Fnv, SessionContext};
use crate::honest::{honest, near_any};
use crate::lexicon::HELP_TOKENS;
use crate::profile::Profile;
use crate::stats::{correlation, mean_and_cv, median, Correlation, StatsError};
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

/// Token ids index `ctx.tokens` (interned per session), so a bitmap of
/// that size replaces a hash set.
fn distinct_tokens(ctx: &SessionContext<'_>) -> usize {
    let mut seen = TokenSet::new(ctx);
    ctx.commands
        .iter()
        .filter(|c| seen.insert(c.token_id))
        .count()
}

/// The token ids seen so far: one flag per interned token of the session.
struct TokenSet(Vec<bool>);

impl TokenSet {
    fn new(ctx: &SessionContext<'_>) -> Self {
        TokenSet(vec![false; ctx.tokens.len()])
    }

    fn contains(&self, id: usize) -> bool {
        self.0.get(id).copied().unwrap_or(false)
    }

    /// `true` when `id` was not seen yet (as `HashSet::insert`).
    fn insert(&mut self, id: usize) -> bool {
        if id >= self.0.len() {
            self.0.resize(id + 1, false);
        }
        !std::mem::replace(&mut self.0[id], true)
    }
}

/// §5.11 (D-CONF in `behave-0.1.4`).
pub(crate) fn inter_command_latency_class(ctx: &SessionContext<'_>, p: Profile) -> R {
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
    if p == Profile::Behave014 {
        let edge = near_any(
            m,
            &[
                INTER_CMD_INSTANT_MAX,
                INTER_CMD_TYPING_MAX,
                INTER_CMD_DELIBERATE_MAX,
                INTER_CMD_LLM_LIGHTWEIGHT_MAX,
                INTER_CMD_LLM_HEAVYWEIGHT_MAX,
            ],
        );
        return emit(
            value,
            honest(by_commands(ctx.n_cmd(), 0.40, 0.80), ctx.n_cmd(), edge),
        );
    }
    emit(value, by_commands(ctx.n_cmd(), 0.40, 0.80))
}

/// Share of the session's command-to-command transitions `A → B` (first
/// tokens, `A ≠ B`) that walk a step pair already walked: the iteration
/// the registry note calls "operator iterating on a tool to follow up on a
/// finding". Runs of one tool (`cat`, `cat`) are not transitions.
fn loop_share(ctx: &SessionContext<'_>) -> f64 {
    let n = ctx.n_cmd();
    if n < 2 {
        return 0.0;
    }
    let mut seen: HashSet<(usize, usize), BuildHasherDefault<Fnv>> = HashSet::default();
    let mut loops = 0usize;
    for w in ctx.commands.windows(2) {
        let (a, b) = (w[0].token_id, w[1].token_id);
        if a != b && !seen.insert((a, b)) {
            loops += 1;
        }
    }
    loops as f64 / (n - 1) as f64
}

/// §5.12 (D-BRANCH, D-CONF in `behave-0.1.4`).
pub(crate) fn command_branch_diversity(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    if n < MIN_COMMANDS_FOR_FULL_CONFIDENCE {
        return emit("unknown", 1.0);
    }
    let r = distinct_tokens(ctx) as f64 / n as f64;
    if p == Profile::Behave014 {
        let loops = loop_share(ctx);
        let linear = r >= BEHAVE_BRANCH_DIVERSITY_LINEAR_MIN && loops <= BEHAVE_BRANCH_LOOP_MAX;
        let v = if linear {
            "linear_playbook"
        } else {
            "adaptive_branching"
        };
        // Rule 2 looks at the statistic that decided: both when linear,
        // whichever failed otherwise.
        let edge = match (
            r >= BEHAVE_BRANCH_DIVERSITY_LINEAR_MIN,
            loops <= BEHAVE_BRANCH_LOOP_MAX,
        ) {
            (true, true) => {
                near_any(r, &[BEHAVE_BRANCH_DIVERSITY_LINEAR_MIN])
                    || near_any(loops, &[BEHAVE_BRANCH_LOOP_MAX])
            }
            (false, true) => near_any(r, &[BEHAVE_BRANCH_DIVERSITY_LINEAR_MIN]),
            (true, false) => near_any(loops, &[BEHAVE_BRANCH_LOOP_MAX]),
            (false, false) => {
                near_any(r, &[BEHAVE_BRANCH_DIVERSITY_LINEAR_MIN])
                    && near_any(loops, &[BEHAVE_BRANCH_LOOP_MAX])
            }
        };
        return emit(v, honest(0.80, n, edge));
    }
    emit(
        if r >= BRANCH_DIVERSITY_LINEAR_MIN {
            "linear_playbook"
        } else {
            "adaptive_branching"
        },
        0.80,
    )
}

/// §5.13 (`behave-0.1.4`: skipped without output, D-EMPTY; D-CONF).
pub(crate) fn feedback_loop_engagement(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let behave = p == Profile::Behave014;
    if behave && ctx.outputs.is_empty() {
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
            if behave {
                honest(0.75, pairs, near_any(r, &[FEEDBACK_CORRELATION_MIN]))
            } else {
                0.75
            },
        ),
    }
}

/// Sample CV of the inter-command gaps when ≥ 2 gaps with a positive mean.
fn pace_cv(ctx: &SessionContext<'_>) -> Result<Option<f64>, StatsError> {
    let g = &ctx.inter_cmd_iats;
    if g.len() < 2 {
        return Ok(None);
    }
    // `m <= 0` returns: a NaN mean goes on to the stdev (which raises).
    Ok(mean_and_cv(g, false, |m| m > 0.0 || m.is_nan())?.1)
}

/// §5.14; `behave-0.1.4`: two-peak detection decides `bimodal`, the CV
/// only metronomic vs variable (D-BIMODAL, D-CONF).
pub(crate) fn inter_command_consistency(ctx: &SessionContext<'_>, p: Profile) -> R {
    let Some(cv) = pace_cv(ctx)? else {
        return Ok(None);
    };
    if p == Profile::Behave014 {
        let n = ctx.n_cmd();
        let base = by_commands(n, 0.40, 0.75);
        if crate::bimodality::is_bimodal(&ctx.inter_cmd_iats) {
            return emit("bimodal", honest(base, ctx.inter_cmd_iats.len(), false));
        }
        let v = if cv < PAUSE_CV_METRONOMIC_MAX {
            "metronomic"
        } else {
            "variable"
        };
        let edge = near_any(cv, &[PAUSE_CV_METRONOMIC_MAX]);
        return emit(v, honest(base, ctx.inter_cmd_iats.len(), edge));
    }
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

/// §5.15; `behave-0.1.4`: no error component without output (D-EMPTY), D-CONF.
pub(crate) fn cognitive_load(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let mut cvs = Vec::with_capacity(ctx.intra_command_iats.len());
    for iats in &ctx.intra_command_iats {
        if iats.len() < 2 {
            continue;
        }
        if let (_, Some(cv)) = mean_and_cv(iats, false, |m| m > 0.0)? {
            cvs.push(cv);
        }
    }
    let mut sum = 0.0f64;
    let mut k = 0usize;
    if !cvs.is_empty() {
        sum += clip01(median(&cvs) / COGNITIVE_LOAD_CHUNKING_REF_CV);
        k += 1;
    }
    let behave = p == Profile::Behave014;
    if !(behave && ctx.outputs.is_empty()) {
        let errored = ctx.commands.iter().filter(|c| c.errored).count();
        sum += clip01(errored as f64 / n as f64);
        k += 1;
    }
    // One evaluation serves both uses: every path that reaches here
    // evaluates it, so no error comes earlier or later than the reference's.
    let pace = pace_cv(ctx)?;
    if k == 0 && pace.is_none() {
        return Ok(None);
    }
    if let Some(cv) = pace {
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
    if behave {
        let edge = near_any(load, &[COGNITIVE_LOAD_LOW_MAX, COGNITIVE_LOAD_MEDIUM_MAX]);
        return emit(value, honest(by_commands(n, 0.40, 0.60), n, edge));
    }
    emit(value, by_commands(n, 0.40, 0.60))
}

/// §5.16
pub(crate) fn exploration_style(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let h: Vec<usize> = ctx.commands.iter().map(|c| c.token_id).collect();
    let rep = 1.0 - distinct_tokens(ctx) as f64 / n as f64;
    let mut seen = TokenSet::new(ctx);
    seen.insert(h[0]);
    let mut backtracks = 0usize;
    for i in 1..n {
        if h[i] != h[i - 1] && seen.contains(h[i]) {
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
    if p == Profile::Behave014 {
        // D-CONF rule 2 on the statistic that decided the label.
        let edge = near_any(j, &[EXPLORATION_CHAOTIC_BACKTRACK_MIN])
            || (value != "chaotic" && near_any(rep, &[EXPLORATION_TARGETED_REP_MIN]));
        return emit(value, honest(by_commands(n, 0.40, 0.60), n, edge));
    }
    emit(value, by_commands(n, 0.40, 0.60))
}

/// §5.17
pub(crate) fn planning_depth(ctx: &SessionContext<'_>, p: Profile) -> R {
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
    if p == Profile::Behave014 {
        let edge = near_any(deep, &[PLANNING_DEEP_MIN])
            || (value != "deep" && near_any(reactive, &[PLANNING_REACTIVE_MIN]));
        return emit(
            value,
            honest(by_commands(ctx.n_cmd(), 0.40, 0.65), g.len(), edge),
        );
    }
    emit(value, by_commands(ctx.n_cmd(), 0.40, 0.65))
}

/// §5.18
pub(crate) fn tool_vocabulary(ctx: &SessionContext<'_>, p: Profile) -> R {
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
    if p == Profile::Behave014 {
        let edge = near_any(
            d as f64,
            &[TOOL_VOCAB_NARROW_MAX as f64, TOOL_VOCAB_BROAD_MIN as f64],
        );
        return emit(value, honest(by_commands(n, 0.40, 0.70), n, edge));
    }
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
pub(crate) fn frustration_typing(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n < 2 {
        return Ok(None);
    }
    let mut post_err = Vec::with_capacity(n);
    let mut post_ok = Vec::with_capacity(n);
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
    if p == Profile::Behave014 {
        let edge = near_any(delta, &[FRUSTRATION_LOW_MAX, FRUSTRATION_MODERATE_MAX]);
        return emit(
            value,
            honest(
                by_commands(post_err.len(), 0.40, 0.60),
                post_err.len(),
                edge,
            ),
        );
    }
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
        if i + 1 < n && ctx.token_in(i + 1, HELP_TOKENS) {
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
