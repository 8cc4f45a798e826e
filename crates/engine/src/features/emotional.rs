//! emotional_valence.* primitives (engine.md §5.35–5.38). Confidences
//! are capped at 0.50 (EMOTIONAL_VALENCE_CONFIDENCE_CAP).

use super::{emit, Emitted};
use crate::context::SessionContext;
use crate::profile::Profile;
use crate::stats::{median, py_max, py_min, StatsError};
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

fn cap(c: f64) -> f64 {
    py_min(c, EMOTIONAL_VALENCE_CONFIDENCE_CAP)
}

/// §5.35
pub(crate) fn valence(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let letters = ctx.typed_letter_count;
    if letters < VALENCE_MIN_TYPED_CHARS {
        return Ok(None);
    }
    let pos = ctx.positive_lex_hits;
    let neg = ctx.negative_lex_hits + ctx.obscenity_hits;
    let value = if pos > neg && pos >= VALENCE_MIN_HITS {
        "positive"
    } else if neg > pos && neg >= VALENCE_MIN_HITS {
        "negative"
    } else {
        "neutral"
    };
    emit(
        value,
        cap(if letters >= VALENCE_FULL_CONFIDENCE_MIN {
            0.50
        } else {
            0.30
        }),
    )
}

/// §5.36
pub(crate) fn arousal(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let bursts: Vec<&[f64]> = ctx.typing_bursts.iter().filter(|b| b.len() >= 3).collect();
    if bursts.is_empty() {
        return Ok(None);
    }
    let meds: Vec<f64> = bursts.iter().map(|b| median(b)).collect();
    let fast = meds[1..].iter().fold(meds[0], |a, &b| py_min(a, b));
    let slow = meds[1..].iter().fold(meds[0], |a, &b| py_max(a, b));
    let total: usize = bursts.iter().map(|b| b.len()).sum();
    let enough = total >= AROUSAL_MIN_IATS;
    let value = if ctx.caps_run_max >= AROUSAL_CAPS_RUN_MIN
        || ctx.bang_run_max >= AROUSAL_BANG_RUN_MIN
        || (enough && fast < AROUSAL_FAST_IAT_S)
    {
        "high_agitated"
    } else if enough && slow > AROUSAL_CALM_IAT_S {
        "low_calm"
    } else {
        "medium_engaged"
    };
    emit(value, cap(if enough { 0.50 } else { 0.30 }))
}

/// §5.37; `behave-0.1.4` (D-STRESS): after errors the operator speeds up
/// (post-error typing ≥ 1.2× faster) — with a rising error rate (commands
/// typed right after an error fail more often than the others) that is
/// distress, otherwise eustress; no speed-up is none. Skipped without
/// output (D-EMPTY).
pub(crate) fn stress_response(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    if p == Profile::Behave014 && ctx.outputs.is_empty() {
        return Ok(None);
    }
    // Each holds at most every IAT: sized once, not regrown.
    let all = ctx.intra_command_iats.values().len();
    let mut post = Vec::with_capacity(all);
    let mut base = Vec::with_capacity(all);
    let mut qual = 0usize;
    for i in 0..n {
        let iats = &ctx.intra_command_iats[i];
        if i > 0 && ctx.commands[i - 1].errored {
            if !iats.is_empty() {
                qual += 1;
                post.extend_from_slice(iats);
            }
        } else {
            base.extend_from_slice(iats);
        }
    }
    let value = if post.is_empty() || base.is_empty() {
        "none"
    } else {
        let mp = median(&post);
        let mb = median(&base);
        if mb <= 0.0 {
            "none"
        } else if p == Profile::Behave014 {
            let ratio = mp / mb;
            if ratio <= 1.0 / STRESS_DISTRESS_RATIO_MIN {
                let (mut pe, mut pn, mut oe, mut on) = (0usize, 0usize, 0usize, 0usize);
                for i in 0..n {
                    let after_error = i > 0 && ctx.commands[i - 1].errored;
                    let e = usize::from(ctx.commands[i].errored);
                    if after_error {
                        pe += e;
                        pn += 1;
                    } else {
                        oe += e;
                        on += 1;
                    }
                }
                // pe/pn > oe/on without division.
                if pe * on.max(1) > oe * pn.max(1) {
                    "distress_negative"
                } else {
                    "eustress_positive"
                }
            } else {
                "none"
            }
        } else {
            let ratio = mp / mb;
            if ratio >= STRESS_EUSTRESS_RATIO_MIN {
                "eustress_positive"
            } else if ratio <= 1.0 / STRESS_DISTRESS_RATIO_MIN {
                "distress_negative"
            } else {
                "none"
            }
        }
    };
    emit(
        value,
        cap(if qual >= STRESS_MIN_ERRORED_WITH_IATS {
            0.50
        } else {
            0.30
        }),
    )
}

/// §5.38
pub(crate) fn frustration_venting(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let letters = ctx.typed_letter_count;
    if letters < FRUST_VENT_MIN_TYPED_CHARS {
        return Ok(None);
    }
    if ctx.obscenity_hits >= 1 {
        return emit("detected", cap(0.40));
    }
    emit(
        "none",
        cap(if letters >= FRUST_VENT_FULL_CONFIDENCE_MIN {
            0.50
        } else {
            0.30
        }),
    )
}
