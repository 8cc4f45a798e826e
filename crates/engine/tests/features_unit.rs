//! Hand-built sessions with expected outputs taken from the reference
//! engine (Python 3.11, decnet==1.0.0): escalation windows, machine
//! cadence with its digraph SimHash, session failure on a non-UTF-8 first
//! token, empty and output-only sessions, evidence_ref defaulting.

use decnet_engine::{
    extract_session, EngineError, Event, EventKind, ExtractParams, Profile, DEFAULT_SOURCE,
};

fn ev(t: f64, kind: char, data: &str) -> Event {
    Event::new(
        t,
        if kind == 'i' {
            EventKind::Input
        } else {
            EventKind::Output
        },
        data,
    )
}

/// (primitive, value, confidence, window start, window end, evidence_ref)
type Row = (String, String, f64, f64, f64, String);

fn run(sid: &str, events: &[Event]) -> Result<Vec<Row>, EngineError> {
    let params = ExtractParams {
        sid,
        evidence_ref: None,
        source: DEFAULT_SOURCE,
        profile: Profile::Decnet12,
        now_ts: 0.0,
    };
    Ok(extract_session(events, &params)?
        .into_iter()
        .map(|o| {
            (
                o.primitive.to_string(),
                o.value.into_owned(),
                o.confidence,
                o.window_start_ts,
                o.window_end_ts,
                o.evidence_ref.to_string(),
            )
        })
        .collect())
}

#[test]
fn escalation_matches_reference() {
    let events = vec![
        ev(0.0, 'i', "l"),
        ev(0.1, 'i', "s"),
        ev(0.2, 'i', "\u{d}"),
        ev(0.3, 'o', "u@h:~$ "),
        ev(0.8, 'i', "l"),
        ev(0.9, 'i', "s"),
        ev(1.0, 'i', "\u{d}"),
        ev(1.1, 'o', "u@h:~$ "),
        ev(1.6, 'i', "l"),
        ev(1.7, 'i', "s"),
        ev(1.8, 'i', "\u{d}"),
        ev(1.9, 'o', "u@h:~$ "),
        ev(2.4, 'i', "l"),
        ev(2.5, 'i', "s"),
        ev(2.6, 'i', "\u{d}"),
        ev(2.7, 'o', "u@h:~$ "),
        ev(3.2, 'i', "l"),
        ev(3.3, 'i', "s"),
        ev(3.4, 'i', "\u{d}"),
        ev(3.5, 'o', "u@h:~$ "),
        ev(4.0, 'i', "l"),
        ev(4.1, 'i', "s"),
        ev(4.2, 'i', "\u{d}"),
        ev(4.3, 'o', "u@h:~$ "),
        ev(180.0, 'i', "i"),
        ev(180.1, 'i', "d"),
        ev(180.2, 'i', "\u{d}"),
        ev(180.3, 'o', "u@h:~$ "),
        ev(180.8, 'i', "i"),
        ev(180.9, 'i', "d"),
        ev(181.0, 'i', "\u{d}"),
        ev(181.1, 'o', "u@h:~$ "),
    ];
    let want: Vec<(&str, &str, f64, f64, f64)> = vec![
        ("motor.input_modality", "typed", 0.75, 0.0, 181.1),
        ("motor.paste_burst_rate", "none", 0.7, 0.0, 181.1),
        ("motor.keystroke_cadence", "bursty", 0.65, 0.0, 181.1),
        ("motor.motor_stability", "variable", 0.6, 0.0, 181.1),
        ("motor.error_correction", "absent", 0.65, 0.0, 181.1),
        (
            "motor.shell_mastery.tab_completion",
            "none",
            0.75,
            0.0,
            181.1,
        ),
        (
            "motor.shell_mastery.shortcut_usage",
            "none",
            0.65,
            0.0,
            181.1,
        ),
        (
            "motor.shell_mastery.pipe_chaining_depth",
            "shallow",
            0.7,
            0.0,
            181.1,
        ),
        (
            "cognitive.inter_command_latency_class",
            "typing_speed",
            0.8,
            0.0,
            181.1,
        ),
        (
            "cognitive.command_branch_diversity",
            "adaptive_branching",
            0.8,
            0.0,
            181.1,
        ),
        (
            "cognitive.feedback_loop_engagement",
            "unknown",
            1.0,
            0.0,
            181.1,
        ),
        (
            "cognitive.inter_command_consistency",
            "bimodal",
            0.75,
            0.0,
            181.1,
        ),
        ("cognitive.cognitive_load", "medium", 0.6, 0.0, 181.1),
        ("cognitive.exploration_style", "targeted", 0.6, 0.0, 181.1),
        ("cognitive.planning_depth", "shallow", 0.65, 0.0, 181.1),
        ("cognitive.tool_vocabulary", "narrow", 0.7, 0.0, 181.1),
        ("temporal.session_duration", "medium", 0.85, 0.0, 181.1),
        ("temporal.escalation_pattern", "bursty", 0.6, 0.0, 181.1),
        (
            "temporal.lifecycle_markers.landing_ritual",
            "absent",
            0.65,
            0.0,
            181.1,
        ),
        (
            "temporal.lifecycle_markers.exit_behavior",
            "graceful",
            0.65,
            0.0,
            181.1,
        ),
        ("environmental.shell_type", "bash", 0.75, 0.0, 181.1),
        (
            "environmental.terminal_multiplexer",
            "none",
            0.55,
            0.0,
            181.1,
        ),
        ("operational.objective", "recon", 0.6, 0.0, 181.1),
        ("operational.opsec_discipline", "careless", 0.45, 0.0, 181.1),
        ("operational.cleanup_behavior", "none", 0.55, 0.0, 181.1),
        (
            "operational.multi_actor_indicators",
            "solo",
            0.4,
            0.0,
            181.1,
        ),
        (
            "emotional_valence.arousal",
            "medium_engaged",
            0.3,
            0.0,
            181.1,
        ),
        ("emotional_valence.stress_response", "none", 0.3, 0.0, 181.1),
    ];
    let got = run("escalation", &events).expect("session extracts");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2, g.3, g.4), *w);
        assert_eq!(g.5, format!("session:{}", "escalation"));
    }
}

#[test]
fn machine_matches_reference() {
    let events = vec![
        ev(0.0, 'i', "a"),
        ev(0.001, 'i', "b"),
        ev(0.002, 'i', "c"),
        ev(0.003, 'i', "d"),
        ev(0.004, 'i', "e"),
        ev(0.005, 'i', "f"),
        ev(0.006, 'i', "g"),
        ev(0.007, 'i', "h"),
        ev(0.008, 'i', "i"),
        ev(0.009, 'i', "j"),
        ev(0.01, 'i', "k"),
        ev(0.011, 'i', "l"),
        ev(0.012, 'i', "m"),
        ev(0.013, 'i', "n"),
        ev(0.014, 'i', "o"),
        ev(0.015, 'i', "p"),
        ev(0.016, 'i', "q"),
        ev(0.017, 'i', "r"),
        ev(0.018, 'i', "s"),
        ev(0.019, 'i', "t"),
        ev(0.02, 'i', "u"),
        ev(0.021, 'i', "v"),
        ev(0.022, 'i', "w"),
        ev(0.023, 'i', "x"),
        ev(0.024, 'i', "y"),
        ev(0.025, 'i', "z"),
        ev(0.026, 'i', "a"),
        ev(0.027, 'i', "b"),
        ev(0.028, 'i', "c"),
        ev(0.029, 'i', "d"),
        ev(0.03, 'i', "e"),
        ev(0.031, 'i', "f"),
        ev(0.032, 'i', "g"),
        ev(0.033, 'i', "h"),
        ev(0.034, 'i', "i"),
        ev(0.035, 'i', "j"),
        ev(0.036, 'i', "k"),
        ev(0.037, 'i', "l"),
        ev(0.038, 'i', "\u{d}"),
    ];
    let want: Vec<(&str, &str, f64, f64, f64)> = vec![
        ("motor.input_modality", "typed", 0.75, 0.0, 0.038),
        ("motor.paste_burst_rate", "none", 0.7, 0.0, 0.038),
        ("motor.keystroke_cadence", "machine", 0.85, 0.0, 0.038),
        (
            "motor.digraph_simhash",
            "049763620324b21a",
            0.95,
            0.0,
            0.038,
        ),
        ("motor.motor_stability", "tremor", 0.65, 0.0, 0.038),
        ("motor.error_correction", "absent", 0.65, 0.0, 0.038),
        ("motor.command_chunking", "single_command", 0.8, 0.0, 0.038),
        (
            "motor.shell_mastery.tab_completion",
            "none",
            0.4,
            0.0,
            0.038,
        ),
        (
            "motor.shell_mastery.shortcut_usage",
            "none",
            0.4,
            0.0,
            0.038,
        ),
        (
            "motor.shell_mastery.pipe_chaining_depth",
            "shallow",
            0.4,
            0.0,
            0.038,
        ),
        (
            "cognitive.command_branch_diversity",
            "unknown",
            1.0,
            0.0,
            0.038,
        ),
        (
            "cognitive.feedback_loop_engagement",
            "unknown",
            1.0,
            0.0,
            0.038,
        ),
        ("cognitive.cognitive_load", "low", 0.4, 0.0, 0.038),
        ("cognitive.exploration_style", "methodical", 0.4, 0.0, 0.038),
        ("cognitive.tool_vocabulary", "narrow", 0.4, 0.0, 0.038),
        ("temporal.session_duration", "short", 0.85, 0.0, 0.038),
        ("temporal.escalation_pattern", "sustained", 0.4, 0.0, 0.038),
        (
            "temporal.lifecycle_markers.landing_ritual",
            "absent",
            0.4,
            0.0,
            0.038,
        ),
        (
            "temporal.lifecycle_markers.exit_behavior",
            "abrupt",
            0.45,
            0.0,
            0.038,
        ),
        (
            "environmental.terminal_multiplexer",
            "none",
            0.55,
            0.0,
            0.038,
        ),
        ("operational.opsec_discipline", "careless", 0.3, 0.0, 0.038),
        ("operational.cleanup_behavior", "none", 0.35, 0.0, 0.038),
        (
            "emotional_valence.arousal",
            "high_agitated",
            0.5,
            0.0,
            0.038,
        ),
        ("emotional_valence.stress_response", "none", 0.3, 0.0, 0.038),
        (
            "emotional_valence.frustration_venting",
            "none",
            0.3,
            0.0,
            0.038,
        ),
    ];
    let got = run("machine", &events).expect("session extracts");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2, g.3, g.4), *w);
        assert_eq!(g.5, format!("session:{}", "machine"));
    }
}

#[test]
fn output_only_matches_reference() {
    let events = vec![ev(1.0, 'o', "hello"), ev(5.0, 'o', "x")];
    let want: Vec<(&str, &str, f64, f64, f64)> =
        vec![("temporal.session_duration", "short", 0.85, 1.0, 5.0)];
    let got = run("output_only", &events).expect("session extracts");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2, g.3, g.4), *w);
        assert_eq!(g.5, format!("session:{}", "output_only"));
    }
}

#[test]
fn non_utf8_first_token_fails_the_session() {
    let events = vec![Event {
        t: 0.0,
        kind: EventKind::Input,
        data: vec![0xDCE9, 0x6C, 0x73, 0x0D],
    }];
    assert_eq!(run("s", &events), Err(EngineError::FirstTokenNotUtf8));
    // A lone surrogate in an argument is fine (only first tokens are hashed).
    let events = vec![Event {
        t: 0.0,
        kind: EventKind::Input,
        data: vec![0x6C, 0x73, 0x20, 0xDCE9, 0x0D],
    }];
    assert!(run("s", &events).is_ok_and(|o| !o.is_empty()));
}

#[test]
fn empty_session_yields_nothing() {
    assert_eq!(run("e", &[]), Ok(vec![]));
}

#[test]
fn evidence_ref_and_source_rules() {
    let events = vec![ev(0.0, 'i', "ls\r"), ev(0.5, 'o', "u@h:~$ ")];
    let mk = |evidence_ref, source| ExtractParams {
        sid: "x",
        evidence_ref,
        source,
        profile: Profile::Decnet12,
        now_ts: 0.0,
    };
    let obs = extract_session(&events, &mk(Some(""), DEFAULT_SOURCE)).expect("extracts");
    assert!(obs
        .iter()
        .all(|o| &*o.evidence_ref == "session:x" && &*o.source == DEFAULT_SOURCE));
    let obs =
        extract_session(&events, &mk(Some("shard:d/s/f#x"), DEFAULT_SOURCE)).expect("extracts");
    assert!(obs.iter().all(|o| &*o.evidence_ref == "shard:d/s/f#x"));
    assert_eq!(
        extract_session(&events, &mk(None, "")),
        Err(EngineError::EmptySource)
    );
    // The reference only raises when it builds an observation.
    assert_eq!(extract_session(&[][..], &mk(None, "")), Ok(vec![]));
}

#[test]
fn non_finite_statistics_fail_the_session() {
    // Reference: `int(NaN)` in escalation_pattern raises ValueError.
    let events = vec![
        ev(0.0, 'i', "l"),
        ev(f64::NAN, 'i', "s\r"),
        ev(f64::NAN, 'i', "x\r"),
        ev(20.0, 'o', "u@h:~$ "),
    ];
    assert!(matches!(
        run("n", &events),
        Err(EngineError::StatisticsRaised { .. })
    ));
}

/// `terminal_multiplexer` (decnet-1.2, §5.27): each marker found inside
/// one output event whatever ESCs surround it (colours, bracketed paste,
/// cursor moves); a marker split across two events does not count.
#[test]
fn multiplexer_markers_inside_one_output() {
    let mux = |outputs: &[&str]| {
        let mut evs = vec![ev(0.0, 'o', "\x1b[?2004h\x1b[01;32mroot@h\x1b[00m:~# ")];
        for (i, o) in outputs.iter().enumerate() {
            evs.push(ev(0.1 + i as f64 * 0.01, 'o', o));
        }
        evs.push(ev(1.0, 'i', "l"));
        evs.push(ev(1.2, 'i', "s"));
        evs.push(ev(1.4, 'i', "\r"));
        evs.push(ev(
            1.5,
            'o',
            "\x1b[?2004l\r\nfile\r\n\x1b[0m\x1b[Kroot@h:~# ",
        ));
        run("m", &evs)
            .expect("extracts")
            .into_iter()
            .find(|r| r.0 == "environmental.terminal_multiplexer")
            .map(|r| (r.1, r.2))
    };
    let tmux = Some(("tmux".to_string(), 0.85));
    let screen = Some(("screen".to_string(), 0.85));
    let none = Some(("none".to_string(), 0.55));
    assert_eq!(mux(&["\x1b[1mx\x1bPtmux;\x1b\x1b]0;t\x07"]), tmux);
    assert_eq!(mux(&["\x1b[?1004h"]), tmux);
    assert_eq!(mux(&["\x1b]2;tmux-main\x07"]), tmux);
    assert_eq!(mux(&["\x1b[2J\x1bP=1s\x1b\\"]), screen);
    assert_eq!(mux(&["\x1b]83;colon\x07", "\x1b[?1004l"]), tmux);
    assert_eq!(mux(&["\x1b]83;colon\x07"]), screen);
    assert_eq!(mux(&["\x1b[31mred\x1b[0m\x1b[?25l\x1b]0;title\x07"]), none);
    // Split across two events: no marker.
    assert_eq!(mux(&["abc\x1bPtm", "ux;"]), none);
    assert_eq!(mux(&["\x1b", "]83;"]), none);
    assert_eq!(mux(&["\x1b[?10", "04h"]), none);
}
