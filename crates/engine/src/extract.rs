//! Public entry point: one session's events → observations.

use crate::context::SessionContext;
use crate::error::EngineError;
use crate::event::{EventRef, SessionEvents};
use crate::features::{feature_specs, FEATURES};
use crate::observation::{Envelope, Observation};
use crate::profile::Profile;

/// The reference's default `source` (engine.md §3.11).
pub const DEFAULT_SOURCE: &str = "decnet/profiler/behave_shell/extract.py";

#[derive(Debug, Clone)]
pub struct ExtractParams<'a> {
    pub sid: &'a str,
    /// `None` or empty → `session:<sid>` (reference behaviour).
    pub evidence_ref: Option<&'a str>,
    pub source: &'a str,
    pub profile: Profile,
    /// Wall-clock epoch seconds stamped as every observation's `ts`.
    pub now_ts: f64,
}

/// Extracts every primitive in FEATURES order (engine.md §5). An error means
/// the whole session yields nothing (as the reference, which raises).
/// Without a session epoch: windows stay offsets and the circadian
/// primitives are skipped (see [`extract_session_at`]).
pub fn extract_session<E: SessionEvents + ?Sized>(
    events: &E,
    params: &ExtractParams<'_>,
) -> Result<Vec<Observation>, EngineError> {
    extract_session_at(events, params, None)
}

/// [`extract_session`] with the session's epoch: the first header's usable
/// `timestamp` (`features::circadian::usable_session_epoch`). Profile
/// `behave-0.1.4` then reports windows as `epoch + offset` and emits the
/// circadian primitives (docs/DEVIATIONS.md D-EPOCH); `decnet-1.2` ignores it.
pub fn extract_session_at<E: SessionEvents + ?Sized>(
    events: &E,
    params: &ExtractParams<'_>,
    session_epoch: Option<f64>,
) -> Result<Vec<Observation>, EngineError> {
    match (events.as_event_buf(), params.profile) {
        (Some(buf), Profile::Decnet12) => {
            let ctx = SessionContext::build_decnet_from_buf(buf)?;
            extract_context(&ctx, params, session_epoch)
        }
        _ => extract_refs_at(&events.event_refs(), params, session_epoch),
    }
}

/// [`extract_session_at`] on borrowed events.
pub fn extract_refs_at(
    events: &[EventRef<'_>],
    params: &ExtractParams<'_>,
    session_epoch: Option<f64>,
) -> Result<Vec<Observation>, EngineError> {
    // As the reference: the context is built first (a non-UTF-8 first token
    // fails before anything else), and an empty `source` only fails when an
    // observation is constructed (so a session emitting nothing is `Ok`).
    let ctx = SessionContext::build(events, params.profile, params.sid)?;
    extract_context(&ctx, params, session_epoch)
}

/// Every primitive of a built context (the rest of [`extract_refs_at`]).
fn extract_context(
    ctx: &SessionContext<'_>,
    params: &ExtractParams<'_>,
    session_epoch: Option<f64>,
) -> Result<Vec<Observation>, EngineError> {
    let behave = params.profile == Profile::Behave014;
    // D-EMPTY: no operator input (after D-NOECHO) → no observations at all.
    if behave && ctx.inputs.is_empty() {
        return Ok(Vec::new());
    }
    let epoch = if behave {
        session_epoch.filter(|e| e.is_finite())
    } else {
        None
    };
    let evidence_ref: std::sync::Arc<str> = match params.evidence_ref {
        Some(r) if !r.is_empty() => r.into(),
        _ => format!("session:{}", params.sid).into(),
    };
    let offset = epoch.unwrap_or(0.0);
    let env = Envelope {
        window_start_ts: offset + ctx.t_start,
        window_end_ts: offset + ctx.t_end,
        source: params.source.into(),
        evidence_ref,
        ts: params.now_ts,
    };
    let mut out = Vec::with_capacity(FEATURES.len());
    for ((primitive, f), spec) in FEATURES.iter().zip(feature_specs()) {
        let primitive = *primitive;
        // A raise inside a primitive (non-finite statistics) fails the
        // whole session, as in the reference.
        let emitted =
            f(ctx, params.profile).map_err(|_| EngineError::StatisticsRaised { primitive })?;
        if let Some((value, confidence)) = emitted {
            if params.source.is_empty() {
                return Err(EngineError::EmptySource);
            }
            out.push(match spec {
                Some(spec) => Observation::of_spec(spec, value, confidence, &env)?,
                None => Observation::new(primitive, value, confidence, &env)?,
            });
        }
    }
    if behave {
        behave_primitives(ctx, epoch, &env, &mut out)?;
    }
    Ok(out)
}

/// The registry-0.1.4 primitives the reference lacks (D-NEW-EDITMODE,
/// D-NEW-CIRCADIAN); profile `behave-0.1.4` only.
fn behave_primitives(
    ctx: &SessionContext<'_>,
    epoch: Option<f64>,
    env: &Envelope,
    out: &mut Vec<Observation>,
) -> Result<(), EngineError> {
    let Some(b) = &ctx.behave else {
        return Ok(());
    };
    if ctx.n_cmd() == 0 {
        return Ok(());
    }
    let (value, confidence) = crate::features::editing_mode::classify(b.editing);
    out.push(Observation::new(
        "environmental.editing_mode",
        value.to_string(),
        confidence,
        env,
    )?);
    let Some(epoch) = epoch else {
        return Ok(());
    };
    let times: Vec<f64> = ctx.commands.iter().map(|c| epoch + c.end_ts).collect();
    let Some(c) = crate::features::circadian::circadian(&times) else {
        return Ok(());
    };
    let m = c.marginal_confidence;
    out.push(Observation::new_numbers(
        "temporal.circadian.hour_histogram",
        &c.hour,
        false,
        m,
        env,
    )?);
    out.push(Observation::new_numbers(
        "temporal.circadian.dow_histogram",
        &c.dow,
        false,
        m,
        env,
    )?);
    out.push(Observation::new_numbers(
        "temporal.circadian.hour_dow_histogram",
        &c.hour_dow,
        false,
        c.joint_confidence,
        env,
    )?);
    if let Some([a, z]) = c.quiet_span {
        out.push(Observation::new_numbers(
            "temporal.circadian.quiet_span_utc",
            &[f64::from(a), f64::from(z)],
            true,
            m,
            env,
        )?);
    }
    Ok(())
}
