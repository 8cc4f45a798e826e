//! Pins every deviation of profile `behave-0.1.4` from `decnet-1.2`
//! (docs/DEVIATIONS.md): each test builds a small session, runs both
//! profiles through the public API and asserts the documented difference.

use decnet_engine::{
    extract_session, extract_session_at, Event, EventKind, ExtractParams, Observation, Profile,
};

fn i(t: f64, d: &str) -> Event {
    Event::new(t, EventKind::Input, d)
}

fn o(t: f64, d: &str) -> Event {
    Event::new(t, EventKind::Output, d)
}

fn params(profile: Profile) -> ExtractParams<'static> {
    ExtractParams {
        sid: "s",
        evidence_ref: None,
        source: "test",
        profile,
        now_ts: 1_800_000_000.0,
    }
}

fn run(ev: &[Event], profile: Profile) -> Vec<Observation> {
    extract_session(ev, &params(profile)).expect("extracts")
}

fn get<'a>(obs: &'a [Observation], prim: &str) -> Option<(&'a str, f64)> {
    obs.iter()
        .find(|o| o.primitive == prim)
        .map(|o| (o.value.as_ref(), o.confidence))
}

fn val<'a>(obs: &'a [Observation], prim: &str) -> Option<&'a str> {
    get(obs, prim).map(|v| v.0)
}

/// Types `cmd` key by key from `t` (0.15 s per key), Enter, then prints
/// `out` and a prompt 0.05 s later. Returns the time after the prompt.
fn typed(ev: &mut Vec<Event>, mut t: f64, cmd: &str, out: &str) -> f64 {
    for ch in cmd.chars() {
        ev.push(i(t, &ch.to_string()));
        t += 0.15;
    }
    ev.push(i(t, "\r"));
    ev.push(o(t + 0.05, &format!("\r\n{out}root@web01:~# ")));
    t + 0.1
}

/// An agent writing whole lines (`cmd\n`) `gap` seconds apart.
fn agent(cmds: &[&str], gap: f64) -> Vec<Event> {
    let mut ev = vec![o(0.0, "root@web01:~# ")];
    let mut t = 1.0;
    for c in cmds {
        ev.push(i(t, &format!("{c}\n")));
        ev.push(o(
            t + 0.05,
            &format!("{c}\r\nsome output\r\nroot@web01:~# "),
        ));
        t += gap;
    }
    ev
}

#[test]
fn default_profile_is_behave() {
    assert_eq!(Profile::default(), Profile::Behave014);
    assert_eq!(
        "behave-0.1.4".parse::<Profile>().ok(),
        Some(Profile::Behave014)
    );
    assert_eq!(
        "decnet-1.2".parse::<Profile>().ok(),
        Some(Profile::Decnet12)
    );
}

#[test]
fn epoch_windows_and_circadian_need_a_usable_epoch() {
    let ev = agent(&["id", "uname -a", "ls"], 3.0);
    let p = params(Profile::Behave014);
    let with = extract_session_at(&ev, &p, Some(1_777_680_000.0)).expect("extracts");
    assert!(with.iter().all(|o| o.window_start_ts == 1_777_680_000.0));
    let hour = with
        .iter()
        .find(|o| o.primitive == "temporal.circadian.hour_histogram")
        .expect("hour histogram");
    assert!(hour.value.starts_with("[1.0,0.0,"), "{}", hour.value);
    assert!(with
        .iter()
        .any(|o| o.primitive == "temporal.circadian.dow_histogram"));
    assert!(!with
        .iter()
        .any(|o| o.primitive == "temporal.circadian.quiet_span_utc"));
    let without = extract_session_at(&ev, &p, None).expect("extracts");
    assert!(without.iter().all(|o| o.window_start_ts == 0.0));
    assert!(!without
        .iter()
        .any(|o| o.primitive.starts_with("temporal.circadian")));
    // decnet-1.2 ignores the epoch
    let reference =
        extract_session_at(&ev, &params(Profile::Decnet12), Some(1_777_680_000.0)).expect("x");
    assert!(reference.iter().all(|o| o.window_start_ts == 0.0));
}

#[test]
fn no_input_no_observations() {
    let ev = vec![o(0.0, "banner\r\n"), o(5.0, "bye\r\n")];
    assert!(run(&ev, Profile::Behave014).is_empty());
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "temporal.session_duration"),
        Some("short")
    );
}

#[test]
fn no_output_skips_output_primitives() {
    let ev: Vec<Event> = (0..6)
        .map(|k| i(f64::from(k) * 3.0, "ls -la /tmp\n"))
        .collect();
    let b = run(&ev, Profile::Behave014);
    let r = run(&ev, Profile::Decnet12);
    for p in [
        "temporal.lifecycle_markers.exit_behavior",
        "environmental.terminal_multiplexer",
        "cognitive.feedback_loop_engagement",
        "emotional_valence.stress_response",
    ] {
        assert!(get(&r, p).is_some(), "reference emits {p}");
        assert!(get(&b, p).is_none(), "default skips {p}");
    }
}

#[test]
fn non_utf8_first_token_keeps_session() {
    let mut ev = agent(&["id", "ls"], 3.0);
    ev.push(Event {
        t: 10.0,
        kind: EventKind::Input,
        data: vec![0xDCE9, 0x6C, 0x0D],
    });
    assert!(extract_session(&ev, &params(Profile::Decnet12)).is_err());
    assert!(!run(&ev, Profile::Behave014).is_empty());
}

#[test]
fn line_editing_decides_the_first_token() {
    // `rm -rf /` abandoned with ^C, then `ls`: the landing ritual and the
    // objective see `ls`, not `rm`.
    let mut ev = vec![o(0.0, "root@h:~# ")];
    let mut t = 1.0;
    for _ in 0..3 {
        for ch in "rm -rf /".chars() {
            ev.push(i(t, &ch.to_string()));
            t += 0.1;
        }
        ev.push(i(t, "\x03"));
        ev.push(o(t + 0.01, "^C\r\nroot@h:~# "));
        t = typed(&mut ev, t + 1.0, "ls", "a b\r\n") + 2.0;
    }
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "operational.objective"),
        Some("destructive")
    );
    assert_eq!(
        val(&run(&ev, Profile::Behave014), "operational.objective"),
        Some("recon")
    );
}

#[test]
fn secret_input_is_excluded() {
    let ev = vec![o(0.0, "Password: "), i(1.0, "hunter2\r"), o(1.5, "\r\n")];
    assert!(run(&ev, Profile::Behave014).is_empty());
    assert!(!run(&ev, Profile::Decnet12).is_empty());
}

#[test]
fn paste_chunks_are_not_tremor() {
    // typed keys at a steady 0.12 s, then a big paste split into 975-char
    // chunks with one timestamp (zero IATs), five times over.
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    let chunk = "x".repeat(975);
    for _ in 0..5 {
        for ch in "echo ".chars() {
            ev.push(i(t, &ch.to_string()));
            t += 0.12;
        }
        for _ in 0..4 {
            ev.push(i(t, &chunk));
        }
        t += 0.12;
        ev.push(i(t, "\r"));
        ev.push(o(t + 0.01, "\r\n$ "));
        t += 3.0;
    }
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "motor.motor_stability"),
        Some("tremor")
    );
    assert_ne!(
        val(&run(&ev, Profile::Behave014), "motor.motor_stability"),
        Some("tremor")
    );
}

#[test]
fn paste_then_typed_enter_is_pasted_and_occasional() {
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    for c in [
        "cat /etc/passwd",
        "uname -a",
        "ls -la /tmp",
        "ps aux",
        "df -h",
        "id",
    ] {
        ev.push(i(t, &format!("\x1b[200~{c}\x1b[201~")));
        ev.push(i(t + 0.3, "\r"));
        ev.push(o(t + 0.35, "\r\nout\r\n$ "));
        ev.push(i(t + 0.8, "\x0c"));
        t += 1.5;
    }
    let b = run(&ev, Profile::Behave014);
    assert_eq!(val(&b, "motor.input_modality"), Some("pasted"));
    assert_eq!(val(&b, "motor.paste_burst_rate"), Some("occasional"));
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "motor.input_modality"),
        Some("mixed")
    );
}

#[test]
fn duration_registry_buckets() {
    let mut ev = agent(&["id", "ls"], 3.0);
    ev.push(o(20.0 * 60.0, "bye"));
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "temporal.session_duration"),
        Some("long")
    );
    assert_eq!(
        val(&run(&ev, Profile::Behave014), "temporal.session_duration"),
        Some("medium")
    );
}

#[test]
fn pipe_depth_is_the_maximum() {
    let ev = agent(
        &[
            "id",
            "ls",
            "ps aux | grep a | sort | uniq | wc -l",
            "df",
            "w",
            "true || false",
        ],
        3.0,
    );
    assert_eq!(
        val(
            &run(&ev, Profile::Decnet12),
            "motor.shell_mastery.pipe_chaining_depth"
        ),
        Some("shallow")
    );
    assert_eq!(
        val(
            &run(&ev, Profile::Behave014),
            "motor.shell_mastery.pipe_chaining_depth"
        ),
        Some("deep")
    );
}

#[test]
fn error_correction_registry_rules() {
    // backspace 0.8 s after the typo: immediate for the registry (~1 s)
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    for _ in 0..6 {
        for ch in "lz".chars() {
            ev.push(i(t, &ch.to_string()));
            t += 0.1;
        }
        t += 0.7;
        ev.push(i(t, "\x7f"));
        ev.push(i(t + 0.1, "s"));
        ev.push(i(t + 0.2, "\r"));
        ev.push(o(t + 0.25, "\r\n$ "));
        t += 2.0;
    }
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "motor.error_correction"),
        Some("deferred")
    );
    assert_eq!(
        val(&run(&ev, Profile::Behave014), "motor.error_correction"),
        Some("immediate")
    );
}

#[test]
fn single_command_registry_meaning() {
    let ev = agent(&["id", "uname -a", "ls -la /tmp", "ps aux", "df -h"], 4.0);
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "motor.command_chunking"),
        None
    );
    assert_eq!(
        val(&run(&ev, Profile::Behave014), "motor.command_chunking"),
        Some("single_command")
    );
    let piped = agent(&["id", "ps aux | head", "df -h"], 4.0);
    assert_eq!(
        val(&run(&piped, Profile::Behave014), "motor.command_chunking"),
        None
    );
}

#[test]
fn exit_is_graceful_without_prompt() {
    let mut ev = agent(&["id", "ls"], 3.0);
    ev.push(i(10.0, "exit\n"));
    ev.push(o(10.05, "exit\r\nlogout\r\n"));
    assert_eq!(
        val(
            &run(&ev, Profile::Decnet12),
            "temporal.lifecycle_markers.exit_behavior"
        ),
        Some("abrupt")
    );
    assert_eq!(
        val(
            &run(&ev, Profile::Behave014),
            "temporal.lifecycle_markers.exit_behavior"
        ),
        Some("graceful")
    );
}

#[test]
fn lexicon_whole_words() {
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    for w in [
        "echo bypass class",
        "echo through enough",
        "echo pass glass",
    ] {
        t = typed(&mut ev, t, w, "x\r\n") + 1.0;
    }
    assert_eq!(
        val(
            &run(&ev, Profile::Decnet12),
            "emotional_valence.frustration_venting"
        ),
        Some("detected")
    );
    assert_eq!(
        val(
            &run(&ev, Profile::Behave014),
            "emotional_valence.frustration_venting"
        ),
        Some("none")
    );
}

#[test]
fn locale_anchored() {
    let mk = |out: &str| {
        let mut ev = agent(&["id"], 3.0);
        ev.push(i(5.0, "env\n"));
        ev.push(o(5.1, out));
        ev
    };
    let dump = mk("env\r\nLANG=de_DE.UTF-8\r\nroot@h:~# ");
    assert_eq!(
        val(&run(&dump, Profile::Behave014), "environmental.locale"),
        Some("de-DE")
    );
    let echo = mk("root@h:~# export LANG=fr_FR.UTF-8\r\n");
    assert_eq!(
        val(&run(&echo, Profile::Decnet12), "environmental.locale"),
        Some("fr-FR")
    );
    assert_eq!(
        val(&run(&echo, Profile::Behave014), "environmental.locale"),
        None
    );
    let posix = mk("LANG=POSIX\r\n");
    assert_eq!(
        val(&run(&posix, Profile::Decnet12), "environmental.locale"),
        Some("pos")
    );
    assert_eq!(
        val(&run(&posix, Profile::Behave014), "environmental.locale"),
        None
    );
}

#[test]
fn mux_markers() {
    let mut vim = agent(&["id", "vim f"], 3.0);
    vim.push(o(7.0, "\x1b[?1004h\x1b[?1049h"));
    assert_eq!(
        val(
            &run(&vim, Profile::Decnet12),
            "environmental.terminal_multiplexer"
        ),
        Some("tmux")
    );
    assert_eq!(
        val(
            &run(&vim, Profile::Behave014),
            "environmental.terminal_multiplexer"
        ),
        Some("none")
    );
    let mut split = agent(&["id", "tmux"], 3.0);
    split.push(o(7.0, "\x1bPtm"));
    split.push(o(7.01, "ux;x"));
    assert_eq!(
        val(
            &run(&split, Profile::Decnet12),
            "environmental.terminal_multiplexer"
        ),
        Some("none")
    );
    assert_eq!(
        val(
            &run(&split, Profile::Behave014),
            "environmental.terminal_multiplexer"
        ),
        Some("tmux")
    );
}

#[test]
fn prompt_false_positives() {
    let mut ev = vec![];
    let mut t = 1.0;
    for _ in 0..4 {
        ev.push(i(t, "cat <<EOF\n"));
        ev.push(o(t + 0.05, "> "));
        ev.push(i(t + 1.0, "git log\n"));
        ev.push(o(t + 1.05, "Author: Jo <jo@x.org>\r\n50% \r\n"));
        t += 3.0;
    }
    let r = run(&ev, Profile::Decnet12);
    assert!(get(&r, "environmental.shell_type").is_some());
    assert_eq!(
        get(&run(&ev, Profile::Behave014), "environmental.shell_type"),
        None
    );
}

#[test]
fn objective_ties_by_precedence() {
    let ev = agent(&["ls", "curl a", "ls", "curl b", "rm x", "rm y"], 3.0);
    // ties between recon (2), exfil (2), destructive (2): first seen vs precedence
    assert_eq!(
        val(&run(&ev, Profile::Decnet12), "operational.objective"),
        Some("recon")
    );
    assert_eq!(
        val(&run(&ev, Profile::Behave014), "operational.objective"),
        Some("destructive")
    );
}

#[test]
fn bimodal_by_two_peak_detection() {
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    for (k, gap) in [
        1.2, 1.5, 20.0, 1.1, 25.0, 1.4, 1.3, 30.0, 1.2, 1.6, 22.0, 1.3,
    ]
    .iter()
    .enumerate()
    {
        t = typed(&mut ev, t, &format!("ls{k}"), "x\r\n") + gap;
    }
    assert_eq!(
        val(
            &run(&ev, Profile::Decnet12),
            "cognitive.inter_command_consistency"
        ),
        Some("variable")
    );
    assert_eq!(
        val(
            &run(&ev, Profile::Behave014),
            "cognitive.inter_command_consistency"
        ),
        Some("bimodal")
    );
}

#[test]
fn editing_mode_is_unknown_without_evidence_and_new() {
    let ev = agent(&["id", "ls"], 3.0);
    assert_eq!(
        get(&run(&ev, Profile::Behave014), "environmental.editing_mode"),
        Some(("unknown", 1.0))
    );
    assert_eq!(
        get(&run(&ev, Profile::Decnet12), "environmental.editing_mode"),
        None
    );
    let mut emacs = vec![o(0.0, "$ ")];
    let t = typed(&mut emacs, 1.0, "ls", "");
    emacs.push(i(t + 1.0, "\x01"));
    emacs.push(i(t + 1.2, "\r"));
    assert_eq!(
        val(
            &run(&emacs, Profile::Behave014),
            "environmental.editing_mode"
        ),
        Some("emacs")
    );
}

#[test]
fn confidence_rules() {
    // one pasted command: rule 1 caps input_modality at 0.5
    let ev = agent(&["cat /etc/passwd"], 3.0);
    assert_eq!(
        get(&run(&ev, Profile::Decnet12), "motor.input_modality"),
        Some(("pasted", 0.75))
    );
    assert_eq!(
        get(&run(&ev, Profile::Behave014), "motor.input_modality"),
        Some(("pasted", 0.5))
    );
    // emotional valence stays capped
    let b = run(&ev, Profile::Behave014);
    assert!(b
        .iter()
        .filter(|o| o.primitive.starts_with("emotional_valence"))
        .all(|o| o.confidence <= 0.5));
}

/// Types `cmd` at `iki` s per key; the shell answers `out`.
fn typed_at(ev: &mut Vec<Event>, mut t: f64, cmd: &str, iki: f64, out: &str) -> f64 {
    for ch in cmd.chars() {
        ev.push(i(t, &ch.to_string()));
        t += iki;
    }
    ev.push(i(t, "\r"));
    ev.push(o(t + 0.05, &format!("\r\n{out}$ ")));
    t + 2.0
}

#[test]
fn stress_registry_definition() {
    // calm baseline at 0.3 s/key; after each error the next command is typed
    // at 0.1 s/key (a speed-up) and succeeds: eustress for the registry,
    // distress for the reference (any speed-up).
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    for k in 0..3 {
        t = typed_at(&mut ev, t, "cat file", 0.3, "ok\r\n");
        t = typed_at(&mut ev, t, "sl", 0.3, "bash: sl: command not found\r\n");
        t = typed_at(&mut ev, t, &format!("ls d{k}"), 0.1, "ok\r\n");
    }
    assert_eq!(
        val(
            &run(&ev, Profile::Decnet12),
            "emotional_valence.stress_response"
        ),
        Some("distress_negative")
    );
    assert_eq!(
        val(
            &run(&ev, Profile::Behave014),
            "emotional_valence.stress_response"
        ),
        Some("eustress_positive")
    );
    // the same speed-up, but the fast commands fail too (rising error
    // rate after errors): distress
    let mut ev = vec![o(0.0, "$ ")];
    let mut t = 1.0;
    for k in 0..3 {
        t = typed_at(&mut ev, t, "cat", 0.3, "ok\r\n");
        t = typed_at(&mut ev, t, "cat b", 0.3, "ok\r\n");
        t = typed_at(&mut ev, t, "sl", 0.3, "bash: sl: command not found\r\n");
        t = typed_at(
            &mut ev,
            t,
            &format!("lss dir{k} other"),
            0.1,
            "bash: lss: command not found\r\n",
        );
        t = typed_at(
            &mut ev,
            t,
            &format!("lsx dir{k} other"),
            0.1,
            "bash: lsx: command not found\r\n",
        );
    }
    assert_eq!(
        val(
            &run(&ev, Profile::Behave014),
            "emotional_valence.stress_response"
        ),
        Some("distress_negative")
    );
}

/// The session's `command_branch_diversity` value ("-" when not emitted).
fn branch(ev: &[Event], p: Profile) -> String {
    val(&run(ev, p), "cognitive.command_branch_diversity")
        .unwrap_or("-")
        .to_owned()
}

#[test]
fn branch_threshold() {
    // 4 distinct first tokens in 6 commands: ratio 0.67
    let ev = agent(
        &[
            "cat /etc/passwd",
            "cat /etc/group",
            "id",
            "uname -a",
            "ls /tmp",
            "ls /opt",
        ],
        3.0,
    );
    assert_eq!(branch(&ev, Profile::Decnet12), "adaptive_branching");
    assert_eq!(branch(&ev, Profile::Behave014), "linear_playbook");
}

#[test]
fn branch_loops_make_adaptive() {
    // 8 distinct first tokens in 10 commands (ratio 0.80: linear for the
    // reference), but `cd → ls` is walked twice: 1 of 9 transitions
    // (0.11 > 0.08) repeats a step pair, the operator iterates.
    let looping = [
        "cd /var/www",
        "ls",
        "cat index.php",
        "cd /opt/app",
        "ls",
        "id",
        "uname -a",
        "w",
        "ps aux",
        "df -h",
    ];
    let ev = agent(&looping, 3.0);
    assert_eq!(branch(&ev, Profile::Decnet12), "linear_playbook");
    assert_eq!(branch(&ev, Profile::Behave014), "adaptive_branching");
    // The same tools as a sweep that reuses `cat` and `ls` without
    // returning to a step pair: 6 distinct of 10 (0.60), no loop.
    let sweep = [
        "id",
        "cat /etc/passwd",
        "cat /etc/group",
        "ls -la /home",
        "ls -la /root",
        "cat /etc/hosts",
        "ps aux",
        "ls -la /tmp",
        "uname -a",
        "df -h",
    ];
    let ev = agent(&sweep, 3.0);
    assert_eq!(branch(&ev, Profile::Decnet12), "adaptive_branching");
    assert_eq!(branch(&ev, Profile::Behave014), "linear_playbook");
}

#[test]
fn first_prompt_before_any_command_counts() {
    // Login banner and first prompt, one command whose output ends the
    // recording without a prompt: the reference never sees a prompt line.
    let ev = vec![
        o(
            0.0,
            "Linux web01 6.1.0\r\nLast login: Mon\r\nroot@web01:~# ",
        ),
        i(1.0, "id\n"),
        o(1.05, "id\r\nuid=0(root) gid=0(root)\r\n"),
    ];
    assert_eq!(
        get(&run(&ev, Profile::Decnet12), "environmental.shell_type"),
        None
    );
    let b = run(&ev, Profile::Behave014);
    assert_eq!(val(&b, "environmental.shell_type"), Some("bash"));
}

#[test]
fn vi_mode_end_to_end() {
    // A typist who switches to vi mode, then edits a line in command mode
    // (Escape, `b` back a word, `i` insert): the whole extraction says vi.
    let mut ev = vec![o(0.0, "root@web01:~# ")];
    let mut t = typed(&mut ev, 1.0, "set -o vi", "");
    for ch in ["l", "s", " ", "/", "t", "m", "p"] {
        ev.push(i(t, ch));
        t += 0.15;
    }
    ev.push(i(t + 0.3, "\x1b"));
    ev.push(i(t + 0.6, "b"));
    ev.push(i(t + 0.8, "i"));
    ev.push(i(t + 1.0, "-"));
    ev.push(i(t + 1.1, "l"));
    ev.push(i(t + 1.2, " "));
    ev.push(i(t + 1.5, "\r"));
    ev.push(o(t + 1.55, "\r\nroot@web01:~# "));
    assert_eq!(
        val(&run(&ev, Profile::Behave014), "environmental.editing_mode"),
        Some("vi")
    );
    assert_eq!(
        get(&run(&ev, Profile::Decnet12), "environmental.editing_mode"),
        None
    );
}

#[test]
fn quiet_span_end_to_end_over_two_utc_days() {
    // 2026-05-02T00:00Z; commands every 30 min from 08:00 to 22:30 UTC on
    // two days (60 command events), nothing from 23:00 to 08:00.
    let epoch = 1_777_680_000.0;
    let mut ev = vec![o(0.0, "root@web01:~# ")];
    for day in 0..2 {
        for half_hour in 16..46 {
            let t = f64::from(day * 86_400 + half_hour * 1_800);
            ev.push(i(t, "uptime\n"));
            ev.push(o(t + 0.05, "uptime\r\n up 3 days\r\nroot@web01:~# "));
        }
    }
    let obs = extract_session_at(&ev, &params(Profile::Behave014), Some(epoch)).expect("x");
    let quiet = obs
        .iter()
        .find(|o| o.primitive == "temporal.circadian.quiet_span_utc")
        .expect("quiet span emitted: 60 events over 2 UTC days");
    assert_eq!(quiet.value, "[23,8]");
    let hour = obs
        .iter()
        .find(|o| o.primitive == "temporal.circadian.hour_histogram")
        .expect("hour histogram");
    assert!(hour.value.starts_with("[0.0,0.0,"), "{}", hour.value);
    // One day only: gated, omitted.
    let one_day: Vec<Event> = ev.iter().filter(|e| e.t < 86_400.0).cloned().collect();
    let obs = extract_session_at(&one_day, &params(Profile::Behave014), Some(epoch)).expect("x");
    assert!(!obs
        .iter()
        .any(|o| o.primitive == "temporal.circadian.quiet_span_utc"));
}
