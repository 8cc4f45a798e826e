//! Every tunable of the engine, in one place. First the reference engine's
//! (engine.md §6, exact values: profile `decnet-1.2`); then, below the
//! `behave-0.1.4` line, the default profile's own (each tied to its
//! docs/DEVIATIONS.md row). A profile that changes a threshold does so with
//! an explicit branch in the primitive; the modules that use a default-
//! profile constant re-export it under their own path.

/// Input events with at least this many code points are paste-class (§3).
pub const PASTE_MIN_CHARS_PER_EVENT: usize = 4;
/// Paste-burst join gap; the reference computes bursts but nothing reads them.
pub const PASTE_BURST_MAX_IAT_S: f64 = 0.20;
/// input_modality: paste ratio at or above → `pasted` (§5.1).
pub const MODALITY_PASTED_MIN: f64 = 0.40;
/// input_modality: paste ratio at or below → `typed` (§5.1).
pub const MODALITY_TYPED_MAX: f64 = 0.05;
/// paste_burst_rate: ratio at or above → `habitual` (§5.2).
pub const PASTE_RATE_HABITUAL_MIN: f64 = 0.50;
/// paste_burst_rate: ratio at or above → `occasional` (§5.2).
pub const PASTE_RATE_OCCASIONAL_MIN: f64 = 0.10;
/// Think-pause: splits typing bursts (§3.4), caps digraph flights (§5.4),
/// marks "deep" gaps in planning_depth (§5.17).
pub const IKI_THINK_MAX_S: f64 = 1.50;
/// keystroke_cadence: mean IKI below → machine candidate (§5.3).
pub const IKI_MACHINE_MAX_S: f64 = 0.005;
/// keystroke_cadence: CV below (with machine IKI) → `machine` (§5.3).
pub const CV_MACHINE_MAX: f64 = 0.05;
/// keystroke_cadence / motor_stability: CV below → `steady` (§5.3, §5.5).
pub const CV_STEADY_MAX: f64 = 0.50;
/// keystroke_cadence: CV below → `bursty`, else hunt_and_peck (§5.3).
pub const CV_BURSTY_MAX: f64 = 1.50;
/// keystroke_cadence: minimum input events (§5.3).
pub const MIN_INPUTS_FOR_CADENCE: usize = 5;
/// Typing bursts shorter than this many IATs are dropped (§3.4).
pub const TYPING_BURST_MIN_IATS: usize = 3;
/// digraph_simhash: minimum distinct digraphs (§5.4).
pub const MIN_DIGRAPHS_FOR_SIMHASH: usize = 8;
/// digraph_simhash: minimum flight samples (§5.4).
pub const MIN_DIGRAPH_SAMPLES: usize = 20;
/// digraph_simhash: flight-time bucket edges (§5.4).
pub const DIGRAPH_FLIGHT_BUCKETS_S: [f64; 6] = [0.03, 0.06, 0.12, 0.25, 0.5, 1.0];
/// motor_stability: IATs below count as tremor-fast (§5.5).
pub const TREMOR_FAST_FLOOR_S: f64 = 0.030;
/// motor_stability: fast share at or above → `tremor` (§5.5).
pub const TREMOR_RATE_MIN: f64 = 0.10;
/// motor_stability: minimum burst IATs (§5.5).
pub const TREMOR_MIN_IATS: usize = 5;
/// error_correction: median backspace delay at or below → `immediate` (§5.6).
pub const BACKSPACE_IMMEDIATE_MAX_S: f64 = 0.50;
/// error_correction: minimum input events (§5.6).
pub const ERROR_CORRECTION_MIN_INPUTS: usize = 3;
/// command_chunking: median CV below → `fluent` (§5.7).
pub const CMD_CHUNKING_FLUENT_CV_MAX: f64 = 0.50;
/// command_chunking: minimum intra-command IATs per command (§5.7).
pub const CMD_CHUNKING_MIN_IATS: usize = 3;
/// Readline control bytes counted as shortcuts (§3.6): ^A ^E ^W ^U ^R ^B ^F.
pub const SHORTCUT_CTRL_BYTES: [u32; 7] = [0x01, 0x05, 0x17, 0x15, 0x12, 0x02, 0x06];
/// tab_completion: share below → `occasional` (§5.8).
pub const TAB_COMPLETION_OCCASIONAL_MAX: f64 = 0.30;
/// tab_completion: share at or above → `habitual` (§5.8).
pub const TAB_COMPLETION_HABITUAL_MIN: f64 = 0.50;
/// shortcut_usage: rate at or above → `moderate` (§5.9).
pub const SHORTCUT_USAGE_MODERATE_MIN: f64 = 0.05;
/// shortcut_usage: rate at or above → `heavy` (§5.9).
pub const SHORTCUT_USAGE_HEAVY_MIN: f64 = 0.30;
/// pipe_chaining_depth: median at or above → `moderate` (§5.10).
pub const PIPE_CHAINING_MODERATE_MEDIAN: f64 = 2.0;
/// pipe_chaining_depth: median at or above → `deep` (§5.10).
pub const PIPE_CHAINING_DEEP_MEDIAN: f64 = 3.0;
/// shell_mastery.*: fewer commands → confidence 0.40 (§5.8–5.10).
pub const SHELL_MASTERY_MIN_COMMANDS: usize = 5;
/// shell_mastery.*: relative band around a boundary → confidence 0.55.
pub const SHELL_MASTERY_BOUNDARY_BAND: f64 = 0.10;
/// inter_command_latency_class / planning_depth: `instant` / reactive (§5.11, §5.17).
pub const INTER_CMD_INSTANT_MAX: f64 = 0.30;
/// inter_command_latency_class: `typing_speed` upper bound (§5.11).
pub const INTER_CMD_TYPING_MAX: f64 = 1.50;
/// inter_command_latency_class: `deliberate` upper bound (§5.11).
pub const INTER_CMD_DELIBERATE_MAX: f64 = 2.00;
/// inter_command_latency_class: `llm_lightweight` upper bound (§5.11).
pub const INTER_CMD_LLM_LIGHTWEIGHT_MAX: f64 = 8.00;
/// inter_command_latency_class: `llm_heavyweight` upper bound (§5.11).
pub const INTER_CMD_LLM_HEAVYWEIGHT_MAX: f64 = 30.00;
/// Fewer commands → the low-sample confidence of many cognitive primitives.
pub const MIN_COMMANDS_FOR_FULL_CONFIDENCE: usize = 5;
/// command_branch_diversity: unique ratio at or above → `linear_playbook` (§5.12).
pub const BRANCH_DIVERSITY_LINEAR_MIN: f64 = 0.70;
/// feedback_loop_engagement: correlation above → `closed_loop` (§5.13).
pub const FEEDBACK_CORRELATION_MIN: f64 = 0.30;
/// feedback_loop_engagement: minimum (output, gap) pairs (§5.13).
pub const FEEDBACK_MIN_PAIRS: usize = 5;
/// inter_command_consistency: CV below → `metronomic` (§5.14).
pub const PAUSE_CV_METRONOMIC_MAX: f64 = 0.40;
/// inter_command_consistency: CV at or above → `bimodal` (§5.14).
pub const PAUSE_CV_BIMODAL_MIN: f64 = 1.50;
/// cognitive_load: chunking CV reference (§5.15).
pub const COGNITIVE_LOAD_CHUNKING_REF_CV: f64 = 1.00;
/// cognitive_load: pace CV reference (§5.15).
pub const COGNITIVE_LOAD_PACE_REF_CV: f64 = 1.50;
/// cognitive_load: load below → `low` (§5.15).
pub const COGNITIVE_LOAD_LOW_MAX: f64 = 0.33;
/// cognitive_load: load below → `medium` (§5.15).
pub const COGNITIVE_LOAD_MEDIUM_MAX: f64 = 0.67;
/// exploration_style: repetition at or above → `targeted` (§5.16).
pub const EXPLORATION_TARGETED_REP_MIN: f64 = 0.50;
/// exploration_style: backtrack share at or above → `chaotic` (§5.16).
pub const EXPLORATION_CHAOTIC_BACKTRACK_MIN: f64 = 0.30;
/// planning_depth: deep share at or above → `deep` (§5.17).
pub const PLANNING_DEEP_MIN: f64 = 0.40;
/// planning_depth: reactive share at or above → `reactive` (§5.17).
pub const PLANNING_REACTIVE_MIN: f64 = 0.50;
/// tool_vocabulary: distinct tokens at or below → `narrow` (§5.18).
pub const TOOL_VOCAB_NARROW_MAX: usize = 3;
/// tool_vocabulary: distinct tokens at or above → `broad` (§5.18).
pub const TOOL_VOCAB_BROAD_MIN: usize = 10;
/// frustration_typing: delta below → `low` (§5.20).
pub const FRUSTRATION_LOW_MAX: f64 = 0.10;
/// frustration_typing: delta below → `moderate` (§5.20).
pub const FRUSTRATION_MODERATE_MAX: f64 = 0.30;
/// session_duration: below → `short` (§5.22).
pub const SESSION_DURATION_SHORT_MAX: f64 = 60.0;
/// session_duration: below → `medium` (§5.22).
pub const SESSION_DURATION_MEDIUM_MAX: f64 = 600.0;
/// session_duration: below → `long`, else marathon (§5.22).
pub const SESSION_DURATION_LONG_MAX: f64 = 3600.0;
/// escalation_pattern: minimum window width in seconds (§5.23).
pub const ESCALATION_WINDOW_MIN_S: f64 = 10.0;
/// escalation_pattern: target number of windows (§5.23).
pub const ESCALATION_WINDOW_TARGET: f64 = 10.0;
/// escalation_pattern: empty-window share at or above (with CV) → bursty.
pub const ESCALATION_BURSTY_ZERO_FRAC: f64 = 0.30;
/// escalation_pattern: CV at or above (with zero share) → bursty.
pub const ESCALATION_BURSTY_CV: f64 = 1.00;
/// escalation_pattern: CV below → sustained.
pub const ESCALATION_SUSTAINED_CV: f64 = 0.50;
/// escalation_pattern: fewer windows → confidence 0.40.
pub const ESCALATION_MIN_WINDOWS: usize = 5;
/// escalation_pattern: fewer commands → confidence 0.40.
pub const ESCALATION_MIN_COMMANDS: usize = 5;
/// landing_ritual: commands inspected from the start (§5.24).
pub const LANDING_RITUAL_FIRST_N: usize = 5;
/// landing_ritual: ritual tokens needed for `present` (§5.24).
pub const LANDING_RITUAL_HIT_MIN: usize = 2;
/// landing_ritual: fewer commands → confidence 0.40 (§5.24).
pub const LANDING_RITUAL_MIN_COMMANDS: usize = 3;
/// exit_behavior / opsec_discipline: trailing commands inspected.
pub const EXIT_BEHAVIOR_LOOKBACK_K: usize = 3;
/// PS1 lines keep at most this many trailing code points (§3.7.2).
pub const PROMPT_LINE_MAX_CHARS: usize = 256;
/// shell_type: fewer prompts → confidence 0.40 (§5.26).
pub const SHELL_TYPE_MIN_PROMPTS: usize = 3;
/// locale: converted language shorter than this is rejected (§5.28).
pub const LOCALE_MIN_VALUE_LENGTH: usize = 2;
/// keyboard_layout: minimum typed letters (§5.29).
pub const LAYOUT_MIN_TYPED_LETTERS: usize = 200;
/// keyboard_layout: fewer letters → confidence 0.40 (§5.29).
pub const LAYOUT_FULL_CONFIDENCE_LETTERS: usize = 500;
/// Typed bigram map keeps the top-N counts (§3.10).
pub const LAYOUT_BIGRAM_TOP_N: usize = 64;
/// keyboard_layout: English bigrams (§5.29).
pub const LAYOUT_TOP_ENG_BIGRAMS: [&str; 10] =
    ["th", "he", "in", "er", "an", "re", "on", "at", "nd", "ha"];
/// keyboard_layout: `q` rate above (with low English) → azerty.
pub const LAYOUT_AZERTY_Q_MIN: f64 = 0.020;
/// keyboard_layout: English share below (with `q`) → azerty.
pub const LAYOUT_AZERTY_ENG_MAX: f64 = 0.050;
/// keyboard_layout: `z` rate above (with low `y`) → qwertz.
pub const LAYOUT_QWERTZ_Z_MIN: f64 = 0.030;
/// keyboard_layout: `y` rate below (with `z`) → qwertz.
pub const LAYOUT_QWERTZ_Y_MAX: f64 = 0.010;
/// keyboard_layout: English share at or above → qwerty.
pub const LAYOUT_QWERTY_ENG_MIN: f64 = 0.080;
/// numpad_usage: max gap between consecutive digit keystrokes (§5.30).
pub const NUMPAD_FAST_IAT_S: f64 = 0.050;
/// numpad_usage: consecutive digit keystrokes needed (§5.30).
pub const NUMPAD_RUN_MIN: usize = 4;
/// numpad_usage: minimum typed code points (§5.30).
pub const NUMPAD_MIN_TYPED_CHARS: usize = 50;
/// objective: minimum classified commands (§5.31).
pub const INTENT_MIN_COMMANDS: usize = 3;
/// objective: classified commands for confidence 0.60 (§5.31).
pub const INTENT_FULL_CONFIDENCE_MIN: usize = 6;
/// cleanup_behavior: trailing commands inspected (§5.33).
pub const CLEANUP_TAIL_K: usize = 5;
/// cleanup_behavior: distinct cleanup tokens for `thorough` (§5.33).
pub const CLEANUP_THOROUGH_MIN_DISTINCT: usize = 3;
/// cleanup_behavior: commands for confidence 0.55 (§5.33).
pub const CLEANUP_FULL_CONFIDENCE_COMMANDS: usize = 8;
/// multi_actor_indicators: minimum commands (§5.34).
pub const MULTI_ACTOR_MIN_COMMANDS: usize = 8;
/// multi_actor_indicators: minimum commands per half (§5.34).
pub const MULTI_ACTOR_HALF_MIN_COMMANDS: usize = 4;
/// multi_actor_indicators: relative median delta above → handoff (§5.34).
pub const MULTI_ACTOR_HANDOFF_DELTA: f64 = 0.50;
/// multi_actor_indicators: commands per half for confidence 0.55 (§5.34).
pub const MULTI_ACTOR_FULL_CONFIDENCE_HALF: usize = 8;
/// emotional_valence.*: confidence cap (§5.35–5.38).
pub const EMOTIONAL_VALENCE_CONFIDENCE_CAP: f64 = 0.50;
/// valence: minimum typed letters (§5.35).
pub const VALENCE_MIN_TYPED_CHARS: usize = 80;
/// valence: letters for confidence 0.50 (§5.35).
pub const VALENCE_FULL_CONFIDENCE_MIN: usize = 200;
/// valence: minimum lexeme hits for a polarity (§5.35).
pub const VALENCE_MIN_HITS: usize = 2;
/// arousal: fastest burst median below → agitated (§5.36).
pub const AROUSAL_FAST_IAT_S: f64 = 0.06;
/// arousal: slowest burst median above → calm (§5.36).
pub const AROUSAL_CALM_IAT_S: f64 = 0.30;
/// arousal: IATs needed for timing-based labels (§5.36).
pub const AROUSAL_MIN_IATS: usize = 30;
/// arousal: caps run at or above → agitated (§5.36).
pub const AROUSAL_CAPS_RUN_MIN: usize = 5;
/// arousal: `!` run at or above → agitated (§5.36).
pub const AROUSAL_BANG_RUN_MIN: usize = 3;
/// stress_response: post/base ratio at or above → eustress (§5.37).
pub const STRESS_EUSTRESS_RATIO_MIN: f64 = 1.20;
/// stress_response: ratio at or below 1/this → distress (§5.37).
pub const STRESS_DISTRESS_RATIO_MIN: f64 = 1.20;
/// stress_response: errored commands with IATs for confidence 0.50 (§5.37).
pub const STRESS_MIN_ERRORED_WITH_IATS: usize = 2;
/// frustration_venting: minimum typed letters (§5.38).
pub const FRUST_VENT_MIN_TYPED_CHARS: usize = 30;
/// frustration_venting: letters for confidence 0.50 (§5.38).
pub const FRUST_VENT_FULL_CONFIDENCE_MIN: usize = 200;
/// Longest lexeme: the typed word buffer keeps this many letters (§3.10).
pub const LEXEME_MAX_LEN: usize = 7;

// ---- `behave-0.1.4` (the default profile) -------------------------------

/// command_branch_diversity (D-BRANCH): distinct first tokens / commands at
/// or above, with few loops (below) → `linear_playbook`. Calibrated on
/// generated shards of seeds 21 and 30–45; validated on 46–53.
pub const BEHAVE_BRANCH_DIVERSITY_LINEAR_MIN: f64 = 0.58;
/// command_branch_diversity (D-BRANCH): share of command-to-command
/// transitions (`A → B`, `A ≠ B`) that repeat an earlier transition of the
/// session; above → `adaptive_branching` whatever the distinct ratio. An
/// operator who iterates (`cd d; ls; cd e; ls`, `grep x f; vi f; grep x f`)
/// walks the same step pair again; a playbook, even one that reuses `cat`
/// and `ls` for many files, does not.
pub const BEHAVE_BRANCH_LOOP_MAX: f64 = 0.08;

/// `behave-0.1.4` paste_burst_rate: habitual when paste units clearly
/// dominate (D-PASTERATE).
pub const BEHAVE_PASTE_RATE_HABITUAL_MIN: f64 = 0.60;

/// `behave-0.1.4`: backspace "within ~1 s" is immediate (D-ERRCORR).
pub const BEHAVE_BACKSPACE_IMMEDIATE_MAX_S: f64 = 1.0;

/// `behave-0.1.4` pipe depth buckets on the maximum (D-PIPES): 2–3 moderate.
pub const BEHAVE_PIPES_MODERATE_MIN: u32 = 2;
/// 4+ deep.
pub const BEHAVE_PIPES_DEEP_MIN: u32 = 4;

/// Registry buckets of `session_duration` (D-DURATION): short < 15 min,
/// medium 15–90 min, long 90 min–4 h, marathon > 4 h.
pub const BEHAVE_SESSION_DURATION_EDGES_S: [f64; 3] = [900.0, 5_400.0, 14_400.0];

// `input_units`

/// Events closer than this are one write (seconds).
pub const JOIN_MAX_S: f64 = 0.030;
/// Payload code points that make a unit paste-class.
pub const PASTE_MIN_PAYLOAD: usize = 4;

// `honest`

/// Rule 1: fewer samples than this caps confidence at [`LOW_SAMPLE_CAP`].
pub const MIN_SAMPLES: usize = 5;
/// Rule 1 cap.
pub const LOW_SAMPLE_CAP: f64 = 0.5;
/// Rule 2 band (relative distance to a boundary).
pub const BOUNDARY_BAND: f64 = 0.10;
/// Rule 2 penalty.
pub const BOUNDARY_PENALTY: f64 = 0.2;

// `circadian`

/// 2000-01-01T00:00:00Z: earlier header timestamps are not epochs.
pub const EPOCH_MIN: i64 = 946_684_800;
/// A header timestamp later than the wall clock plus one day is not trusted.
pub const EPOCH_FUTURE_SLACK_S: f64 = 86_400.0;
/// quiet_span_utc gate: command events.
pub const QUIET_SPAN_MIN_EVENTS: usize = 30;
/// quiet_span_utc gate: distinct UTC calendar days with activity.
pub const QUIET_SPAN_MIN_DAYS: usize = 2;
/// A bin is quiet below this fraction of the peak bin.
pub const QUIET_BIN_FRACTION: f64 = 0.10;
/// Confidence cap for every circadian primitive.
pub const CIRCADIAN_CONFIDENCE_CAP: f64 = 0.9;

// `editing_mode`

/// Below this many evidence keystrokes the sample-size rule caps confidence.
pub const EDITING_MODE_MIN_SAMPLES: u32 = 5;

// `bimodality`

/// Floor applied to gaps before the log transform, seconds.
pub const GAP_FLOOR_S: f64 = 0.05;
/// Minimum Ashman's D for two separated peaks.
pub const ASHMAN_D_MIN: f64 = 2.0;
/// Minimum ratio of the two peaks' geometric means.
pub const PEAK_FOLD_MIN: f64 = 4.0;
/// Minimum number of gaps in each peak.
pub const PEAK_MIN_MEMBERS: usize = 2;
