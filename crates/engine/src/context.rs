//! SessionContext: everything the 38 primitives read, built once per
//! session (engine.md §3).
//!
//! Raw text stays inside the crate: fields are `pub(crate)`, first tokens
//! are interned to ids (equal ids ⇔ equal SHA-256 first-token hashes), and
//! prompt lines are reduced to their shell class at parse time.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::event::{EventBuf, EventKind, EventRef};
use crate::honest::SessionKey;
use crate::input_units::Unit;
use crate::line_editing::EditingEvidence;
use crate::profile::Profile;
use crate::ragged::Ragged;
use crate::stats::{clip0, mean_and_cv, StatsError};
use crate::text::{self, contains_ascii, is_py_space, is_py_word};
use crate::thresholds::*;

const ESC: u32 = 0x1B;
#[cfg(test)]
const BEL: u32 = 0x07;

/// One segmented command (§3.6) with its output annotations (§3.7).
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub(crate) start_ts: f64,
    pub(crate) end_ts: f64,
    /// Interned first token: equal ids ⇔ equal first-token hashes.
    pub(crate) token_id: usize,
    pub(crate) tab_count: u32,
    pub(crate) shortcut_count: u32,
    pub(crate) pipe_count: u32,
    pub(crate) errored: bool,
    pub(crate) output_bytes: u64,
    pub(crate) followed_by_prompt: bool,
}

/// Shell class of one PS1 prompt line (§5.26), decided at parse time so
/// the prompt text itself is never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PromptClass {
    Bash,
    Zsh,
    Powershell,
    CmdExe,
    Fish,
}

impl PromptClass {
    pub(crate) fn label(self) -> &'static str {
        match self {
            PromptClass::Bash => "bash",
            PromptClass::Zsh => "zsh",
            PromptClass::Powershell => "powershell",
            PromptClass::CmdExe => "cmd.exe",
            PromptClass::Fish => "fish",
        }
    }
}

/// Texts narrowed to bytes, one byte per code point: below 0x80 the code
/// point itself, any other a byte >= 0x80. Every ANSI class, prompt marker
/// and error fingerprint the engine looks for is ASCII, so a search on the
/// narrow copy finds exactly the positions a search on the code points
/// would, with `memchr`'s SIMD instead of a scalar scan of `u32`s.
#[derive(Debug, Default)]
pub(crate) struct Narrow {
    bytes: Vec<u8>,
    /// `starts[k]..starts[k + 1]` is text `k`.
    starts: Vec<usize>,
}

impl Narrow {
    pub(crate) fn of(events: &[EventRef<'_>]) -> Narrow {
        let total = events.iter().map(|e| e.data.len()).sum();
        let mut n = Narrow {
            bytes: Vec::with_capacity(total),
            starts: Vec::with_capacity(events.len() + 1),
        };
        n.starts.push(0);
        for e in events {
            e.data.narrow_onto(&mut n.bytes);
            n.starts.push(n.bytes.len());
        }
        n
    }

    /// All texts, concatenated.
    pub(crate) fn all(&self) -> &[u8] {
        &self.bytes
    }

    /// The text holding byte `p` of [`all`](Self::all), as the range of
    /// `all` it spans, searching forward from text `*k` (callers visit
    /// positions in increasing order, so the walk is linear overall).
    pub(crate) fn text_at(&self, p: usize, k: &mut usize) -> std::ops::Range<usize> {
        while self.starts.get(*k + 1).is_some_and(|&end| end <= p) {
            *k += 1;
        }
        match (self.starts.get(*k), self.starts.get(*k + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => p..p,
        }
    }

    /// Texts `a..b`, concatenated (empty when out of range).
    pub(crate) fn range(&self, a: usize, b: usize) -> &[u8] {
        match (self.starts.get(a), self.starts.get(b)) {
            (Some(&x), Some(&y)) => self.bytes.get(x..y).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Text `k` (empty when out of range).
    pub(crate) fn get(&self, k: usize) -> &[u8] {
        self.range(k, k + 1)
    }
}

/// Appends the narrow form of `s` (see [`Narrow`]): the low byte, with
/// bit 7 forced on for any code point above 0x7F (branch-free, so even the
/// short texts of single events vectorize).
#[inline]
pub(crate) fn narrow_onto(s: &[u32], out: &mut Vec<u8>) {
    out.extend(
        s.iter()
            .map(|&c| (c as u8) | ((0x7F_u32.wrapping_sub(c) >> 24) as u8 & 0x80)),
    );
}

/// An input event: its text is always code points (only outputs are ever
/// held as bytes, see [`crate::event::TextRef`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputRef<'a> {
    pub(crate) t: f64,
    pub(crate) data: &'a [u32],
}

/// An input's code points. The reader holds only output texts as bytes
/// and no caller outside the crate can build a byte text, so `wide()` is
/// always there; the fallback only keeps this total.
#[inline]
fn input_text<'a>(e: &EventRef<'a>) -> &'a [u32] {
    debug_assert!(e.data.wide().is_some(), "input text held as bytes");
    e.data.wide().unwrap_or(&[])
}

/// Every event's text as code points, for the `behave-0.1.4` walks that
/// read outputs as well as inputs: byte texts are widened onto `store`.
fn wide_texts<'e>(events: &[EventRef<'e>], store: &'e mut Vec<u32>) -> Vec<&'e [u32]> {
    let mut spans = Vec::with_capacity(events.len());
    for e in events {
        if e.data.wide().is_none() {
            let a = store.len();
            e.data.widen_onto(store);
            spans.push(Some(a..store.len()));
        } else {
            spans.push(None);
        }
    }
    let store: &'e [u32] = store;
    events
        .iter()
        .zip(spans)
        .map(|(e, span)| match span {
            Some(r) => store.get(r).unwrap_or(&[]),
            None => e.data.wide().unwrap_or(&[]),
        })
        .collect()
}

/// Per-session derived state (§3). Built by [`SessionContext::build`].
#[derive(Debug)]
pub(crate) struct SessionContext<'a> {
    pub(crate) t_start: f64,
    pub(crate) t_end: f64,
    pub(crate) duration_s: f64,
    pub(crate) inputs: Vec<InputRef<'a>>,
    /// Output texts may be held as bytes (see [`crate::event::TextRef`]).
    pub(crate) outputs: Vec<EventRef<'a>>,
    /// The outputs' texts as bytes, for ASCII searches at memchr speed.
    pub(crate) out_narrow: Narrow,
    /// Input IATs (§3.2); read through the typing bursts.
    #[allow(dead_code)]
    pub(crate) iats: Vec<f64>,
    pub(crate) paste_event_count: usize,
    pub(crate) typing_bursts: Ragged,
    /// Population CVs of the typing bursts with a positive mean, in burst
    /// order (read by keystroke_cadence and motor_stability; computed once).
    pub(crate) burst_cvs: Result<Vec<f64>, StatsError>,
    pub(crate) backspace_count: usize,
    pub(crate) backspace_iats: Vec<f64>,
    pub(crate) kill_line_count: usize,
    pub(crate) commands: Vec<Command>,
    /// First tokens by interned id (crate-private; never leaves the engine).
    pub(crate) tokens: Tokens,
    pub(crate) prompt_classes: Vec<PromptClass>,
    pub(crate) inter_cmd_iats: Vec<f64>,
    pub(crate) intra_command_iats: Ragged,
    pub(crate) unigrams: [u64; 26],
    /// Capped typed bigrams, `(first*26 + second, count)` in insertion
    /// order as the reference's dict after the top-N cut.
    pub(crate) bigrams: Vec<(u16, u64)>,
    pub(crate) typed_letter_count: usize,
    pub(crate) obscenity_hits: usize,
    pub(crate) positive_lex_hits: usize,
    pub(crate) negative_lex_hits: usize,
    pub(crate) caps_run_max: usize,
    pub(crate) bang_run_max: usize,
    /// Profile `behave-0.1.4` only (docs/DEVIATIONS.md); `None` in `decnet-1.2`.
    pub(crate) behave: Option<Behave>,
}

/// What the `behave-0.1.4` profile derives beyond the reference context.
/// `tokens` then hold keyed digests (D-PRIVACY), never typed text.
#[derive(Debug)]
pub(crate) struct Behave {
    /// Per-session key of the first-token digests; never output.
    pub(crate) key: SessionKey,
    /// Input units (D-UNITS) over the inputs kept after D-NOECHO.
    pub(crate) units: Vec<Unit>,
    /// Editing-mode evidence from the line editor (D-NEW-EDITMODE).
    pub(crate) editing: EditingEvidence,
    /// Per command: recalled from history (up-arrow, ^R).
    pub(crate) recalled: Vec<bool>,
    /// Per command: builds a pipeline or a command list.
    pub(crate) compound: Vec<bool>,
    /// Whole output concatenation searched for multiplexer markers
    /// (markers split across events still count, D-MUX).
    pub(crate) mux: Option<&'static str>,
}

/// Lowercase hex SHA-256 of a first token (the reference's `hash_token`).
/// `None` when the token holds a lone surrogate (the reference raises).
pub fn first_token_hash(token: &[u32]) -> Option<String> {
    let mut bytes = Vec::new();
    text::encode_utf8_strict(token, &mut bytes)?;
    let digest = Sha256::digest(&bytes);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// §3.1: a session's events split into inputs (those kept) and outputs,
/// in order, with the span's ends: the first event's time and the latest.
struct Partition<'a> {
    inputs: Vec<InputRef<'a>>,
    outputs: Vec<EventRef<'a>>,
    t_first: Option<f64>,
    t_last: f64,
}

impl<'a> Partition<'a> {
    fn with_capacity(inputs: usize, outputs: usize) -> Self {
        Partition {
            inputs: Vec::with_capacity(inputs),
            outputs: Vec::with_capacity(outputs),
            t_first: None,
            t_last: 0.0,
        }
    }

    /// The next event; an input not `kept` (D-NOECHO) still counts for
    /// the span.
    #[inline]
    fn push(&mut self, ev: EventRef<'a>, kept: bool) {
        self.t_first.get_or_insert(ev.t);
        if ev.t > self.t_last {
            self.t_last = ev.t;
        }
        match ev.kind {
            EventKind::Input if kept => self.inputs.push(InputRef {
                t: ev.t,
                data: input_text(&ev),
            }),
            EventKind::Input => {}
            EventKind::Output => self.outputs.push(ev),
        }
    }

    /// `(t_start, t_end)`: `(0, 0)` for no event.
    fn span(&self) -> (f64, f64) {
        match self.t_first {
            Some(first) => (first, self.t_last),
            None => (0.0, 0.0),
        }
    }
}

/// Commands (and distinct first tokens) a session's vectors have room for
/// before they first grow.
const SESSION_COMMANDS_ROOM: usize = 32;

impl<'a> SessionContext<'a> {
    pub(crate) fn build(
        events: &[EventRef<'a>],
        profile: Profile,
        sid: &str,
    ) -> Result<Self, EngineError> {
        let mut store = Vec::new();
        let wide: Vec<&[u32]> = match profile {
            Profile::Decnet12 => Vec::new(),
            Profile::Behave014 => wide_texts(events, &mut store),
        };
        // D-NOECHO: input typed at a secret prompt never enters the context.
        let hidden: Vec<bool> = match profile {
            Profile::Decnet12 => Vec::new(),
            Profile::Behave014 => crate::noecho::noecho_mask(
                events
                    .iter()
                    .zip(&wide)
                    .map(|(e, &d)| (e.kind == EventKind::Input, d)),
            ),
        };
        let kept = |i: usize| !hidden.get(i).copied().unwrap_or(false);
        // §3.1 partition and span.
        let n_in = events.iter().filter(|e| e.kind == EventKind::Input).count();
        let mut part = Partition::with_capacity(n_in, events.len() - n_in);
        for (i, ev) in events.iter().enumerate() {
            part.push(*ev, kept(i));
        }
        Self::assemble(part, profile, |ctx| match profile {
            Profile::Decnet12 => ctx.segment_commands(),
            Profile::Behave014 => {
                let kept_events = events
                    .iter()
                    .zip(&wide)
                    .enumerate()
                    .filter(|(i, _)| kept(*i))
                    .map(|(_, (e, &d))| (e.t, e.kind == EventKind::Input, d));
                ctx.behave_context(kept_events, sid);
                Ok(())
            }
        })
    }

    /// [`build`](Self::build) for profile `decnet-1.2` straight from the
    /// reader's buffer: the events are partitioned as they are read off
    /// its segments, with no vector of every event's view first (that
    /// vector was ≈ 3 % of the pipeline's time).
    pub(crate) fn build_decnet_from_buf(buf: &'a EventBuf) -> Result<Self, EngineError> {
        let n_in = buf.input_count();
        let mut part = Partition::with_capacity(n_in, buf.len() - n_in);
        buf.for_each_ref(|ev| part.push(ev, true));
        Self::assemble(part, Profile::Decnet12, |ctx| ctx.segment_commands())
    }

    /// The context from its partitioned events (§3.2 on); `segment` fills
    /// the commands (§3.6, or the `behave-0.1.4` segmentation).
    fn assemble(
        part: Partition<'a>,
        profile: Profile,
        segment: impl FnOnce(&mut Self) -> Result<(), EngineError>,
    ) -> Result<Self, EngineError> {
        let (t_start, t_end) = part.span();
        let Partition {
            inputs, outputs, ..
        } = part;
        // §3.2 IATs.
        let iats: Vec<f64> = inputs.windows(2).map(|w| clip0(w[1].t - w[0].t)).collect();
        // §3.3 paste count.
        let paste_event_count = inputs
            .iter()
            .filter(|e| e.data.len() >= PASTE_MIN_CHARS_PER_EVENT)
            .count();
        // §3.4 typing bursts.
        let typing_bursts = split_typing_bursts(&iats);
        let mut ctx = SessionContext {
            t_start,
            t_end,
            duration_s: clip0(t_end - t_start),
            out_narrow: Narrow::of(&outputs),
            inputs,
            outputs,
            iats,
            paste_event_count,
            burst_cvs: burst_cvs(&typing_bursts),
            typing_bursts,
            backspace_count: 0,
            backspace_iats: Vec::new(),
            kill_line_count: 0,
            // Room for a typical session's commands and first tokens up
            // front (each regrown from empty: a dozen reallocations per
            // session).
            commands: Vec::with_capacity(SESSION_COMMANDS_ROOM),
            tokens: Tokens {
                store: Vec::with_capacity(SESSION_COMMANDS_ROOM * 8),
                ends: Vec::with_capacity(SESSION_COMMANDS_ROOM),
            },
            prompt_classes: Vec::new(),
            inter_cmd_iats: Vec::new(),
            intra_command_iats: Ragged::default(),
            unigrams: [0; 26],
            bigrams: Vec::new(),
            typed_letter_count: 0,
            obscenity_hits: 0,
            positive_lex_hits: 0,
            negative_lex_hits: 0,
            caps_run_max: 0,
            bang_run_max: 0,
            behave: None,
        };
        ctx.scan_correction_signals();
        segment(&mut ctx)?;
        if profile == Profile::Behave014 {
            ctx.scan_initial_prompts();
        }
        ctx.annotate_outputs(profile);
        ctx.inter_cmd_iats = ctx
            .commands
            .windows(2)
            .map(|w| clip0(w[1].start_ts - w[0].end_ts))
            .collect();
        ctx.per_command_iats();
        ctx.typed_char_histograms(profile);
        Ok(ctx)
    }

    /// §3.5 backspace / kill-line walk.
    fn scan_correction_signals(&mut self) {
        let mut last_non_bs_t: Option<f64> = None;
        for ev in &self.inputs {
            let t = ev.t;
            for &c in ev.data {
                match c {
                    0x7F | 0x08 => {
                        self.backspace_count += 1;
                        if let Some(l) = last_non_bs_t {
                            self.backspace_iats.push(clip0(t - l));
                        }
                    }
                    0x15 | 0x17 => {
                        self.kill_line_count += 1;
                        last_non_bs_t = Some(t);
                    }
                    _ => last_non_bs_t = Some(t),
                }
            }
        }
    }

    /// §3.6 command segmentation. A lone surrogate in a first token fails
    /// the session (the reference's strict UTF-8 hashing raises).
    fn segment_commands(&mut self) -> Result<(), EngineError> {
        // Room for a long command line up front (regrown from empty, it was
        // several reallocations per session).
        let mut buf: Vec<u32> = Vec::with_capacity(256);
        let mut buf_start_ts = 0.0f64;
        let (mut tab, mut pipe, mut shortcut) = (0u32, 0u32, 0u32);
        let mut intern = TokenIntern {
            by_hash: HashMap::with_capacity_and_hasher(SESSION_COMMANDS_ROOM, Default::default()),
            older: Vec::with_capacity(SESSION_COMMANDS_ROOM),
        };
        for ev in &self.inputs {
            let t = ev.t;
            for &c in ev.data {
                if c == 0x0D || c == 0x0A {
                    if !buf.is_empty() {
                        let tok = text::first_token(&buf);
                        if tok.iter().any(|&c| char::from_u32(c).is_none()) {
                            return Err(EngineError::FirstTokenNotUtf8);
                        }
                        let token_id = intern.id(&mut self.tokens, tok);
                        self.commands.push(Command {
                            start_ts: buf_start_ts,
                            end_ts: t,
                            token_id,
                            tab_count: tab,
                            shortcut_count: shortcut,
                            pipe_count: pipe,
                            errored: false,
                            output_bytes: 0,
                            followed_by_prompt: false,
                        });
                    }
                    buf.clear();
                    tab = 0;
                    pipe = 0;
                    shortcut = 0;
                } else {
                    if buf.is_empty() {
                        buf_start_ts = t;
                    }
                    buf.push(c);
                    if c == 0x09 {
                        tab += 1;
                    } else if c == u32::from(b'|') {
                        pipe += 1;
                    } else if SHORTCUT_CTRL_BYTES.contains(&c) {
                        shortcut += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Profile `behave-0.1.4`: input units and typing bursts over them
    /// (D-UNITS), line-edited segmentation with keyed first tokens (D-SEG,
    /// D-PRIVACY, D-UTF8), multiplexer markers over the whole output (D-MUX).
    fn behave_context<'e>(
        &mut self,
        kept_events: impl Iterator<Item = (f64, bool, &'e [u32])>,
        sid: &str,
    ) {
        let key = SessionKey::derive(sid, self.inputs.iter().map(|e| (e.t, e.data)));
        let units = crate::input_units::units(self.inputs.iter().map(|e| (e.t, e.data)));
        // Typing bursts: IATs between consecutive typed units; a paste unit
        // splits like a think pause, so paste IATs never count as tremor.
        let mut gaps: Vec<f64> = Vec::new();
        for w in units.windows(2) {
            gaps.push(if w[0].is_paste() || w[1].is_paste() {
                f64::INFINITY
            } else {
                clip0(w[1].t_first - w[0].t_last)
            });
        }
        self.typing_bursts = split_typing_bursts(&gaps);
        self.burst_cvs = burst_cvs(&self.typing_bursts);
        let seg = crate::line_editing::segment(kept_events);
        let mut intern: HashMap<[u8; 32], usize> = HashMap::new();
        let mut recalled = Vec::with_capacity(seg.commands.len());
        let mut compound = Vec::with_capacity(seg.commands.len());
        for c in &seg.commands {
            let d = key.digest(&c.first_token);
            let token_id = *intern
                .entry(d)
                .or_insert_with(|| self.tokens.push(d.iter().map(|&b| u32::from(b))));
            self.commands.push(Command {
                start_ts: c.start_ts,
                end_ts: c.end_ts,
                token_id,
                tab_count: c.tab_count,
                shortcut_count: c.shortcut_count,
                pipe_count: c.max_pipes,
                errored: false,
                output_bytes: 0,
                followed_by_prompt: false,
            });
            recalled.push(c.recalled);
            compound.push(c.compound);
        }
        let mut all: Vec<u32> = Vec::new();
        for ev in &self.outputs {
            ev.data.widen_onto(&mut all);
        }
        let mux = if TMUX_MARKERS_BEHAVE.iter().any(|m| contains_ascii(&all, m)) {
            Some("tmux")
        } else if SCREEN_MARKERS.iter().any(|m| contains_ascii(&all, m)) {
            Some("screen")
        } else {
            None
        };
        self.behave = Some(Behave {
            key,
            units,
            editing: seg.editing,
            recalled,
            compound,
            mux,
        });
    }

    /// The first of [`crate::lexicon::INTENT_SETS`] holding command `i`'s
    /// first token (as [`token_in`](Self::token_in) on each set in turn).
    pub(crate) fn token_intent(&self, i: usize) -> Option<usize> {
        match &self.behave {
            None => crate::lexicon::intent_of(self.token(i)),
            Some(_) => crate::lexicon::INTENT_SETS
                .iter()
                .position(|(_, set)| self.token_in(i, set)),
        }
    }

    /// Is command `i`'s first token one of the ASCII words? (Keyed digests
    /// in `behave-0.1.4`, raw code points in `decnet-1.2`.)
    pub(crate) fn token_in(&self, i: usize, set: &[&str]) -> bool {
        let tok = self.token(i);
        match &self.behave {
            None => crate::lexicon::token_in(tok, set),
            Some(b) => {
                let mut d = [0u8; 32];
                for (o, &c) in d.iter_mut().zip(tok) {
                    *o = c as u8;
                }
                b.key.digest_in(&d, set)
            }
        }
    }

    /// §3.7 per-command output windows `[end_i, start_{i+1})`.
    /// `behave-0.1.4` (D-PROMPT): the output before the first command —
    /// the login banner and the first prompt — is scanned for prompt lines
    /// too; the reference only reads output after an Enter, so a session
    /// of one command never shows its shell's first prompt.
    fn scan_initial_prompts(&mut self) {
        let Some(first) = self.commands.first() else {
            return;
        };
        let lo = first.start_ts;
        if lo.is_nan() {
            return;
        }
        let mut concat: Vec<u32> = Vec::new();
        let mut narrow: Vec<u8> = Vec::new();
        for (k, ev) in self.outputs.iter().enumerate().filter(|(_, e)| e.t < lo) {
            ev.data.widen_onto(&mut concat);
            narrow.extend_from_slice(self.out_narrow.get(k));
        }
        if concat.is_empty() {
            return;
        }
        strip_ansi_pair(&mut concat, &mut narrow);
        extract_prompt_classes_for(
            Profile::Behave014,
            &concat,
            &narrow,
            &mut self.prompt_classes,
        );
    }

    fn annotate_outputs(&mut self, profile: Profile) {
        let n = self.commands.len();
        if n == 0 {
            return;
        }
        let index = TimeIndex::new(self.outputs.iter().map(|e| e.t));
        // Sized once for the largest window there can be (all the output),
        // rather than regrown window after window.
        let total = self.out_narrow.all().len();
        let mut concat: Vec<u32> = Vec::new();
        let mut narrow: Vec<u8> = Vec::with_capacity(total);
        // An out-of-order window's texts, gathered (in order, the windows
        // are slices of `out_narrow`: nothing is gathered).
        let mut gathered: Vec<u8> = Vec::new();
        let mut picked: Vec<u32> = Vec::new();
        let mut line: Vec<u32> = Vec::new();
        for i in 0..n {
            let lo = self.commands[i].end_ts;
            let hi = if i + 1 < n {
                self.commands[i + 1].start_ts
            } else {
                f64::INFINITY
            };
            // `lo <= t < hi`: NaN bounds and NaN times select nothing.
            if lo.is_nan() || hi.is_nan() {
                continue;
            }
            // The window's outputs: `a..b`, or the picked ones.
            let (taken, window): (Taken<'_>, &[u8]) = match &index {
                None => {
                    let a = self.outputs.partition_point(|e| e.t < lo);
                    let b = self.outputs.partition_point(|e| e.t < hi).max(a);
                    (Taken::Range(a, b), self.out_narrow.range(a, b))
                }
                Some(ix) => {
                    ix.select(lo, hi, false, &mut picked);
                    gathered.clear();
                    for &k in &picked {
                        gathered.extend_from_slice(self.out_narrow.get(k as usize));
                    }
                    (Taken::Picked(&picked), &gathered)
                }
            };
            if taken.is_empty() {
                continue;
            }
            // One narrow byte per code point: the window's length is its
            // output size.
            let bytes = window.len() as u64;
            let before = self.prompt_classes.len();
            // An all-ASCII window (the usual case) is its narrow bytes: the
            // code points are not copied at all, and the strip copies the
            // bytes it keeps straight from the window.
            if window.is_ascii() {
                strip_ansi_copy(window, &mut narrow);
                extract_prompt_classes_ascii(profile, &narrow, &mut line, &mut self.prompt_classes);
            } else {
                concat.clear();
                taken.for_each(|k| self.outputs[k].data.widen_onto(&mut concat));
                narrow.clear();
                narrow.extend_from_slice(window);
                strip_ansi_pair(&mut concat, &mut narrow);
                extract_prompt_classes_for(profile, &concat, &narrow, &mut self.prompt_classes);
            }
            let cmd = &mut self.commands[i];
            cmd.output_bytes = bytes;
            cmd.errored = detect_error_narrow(&narrow);
            cmd.followed_by_prompt = self.prompt_classes.len() > before;
        }
    }

    /// §3.9 intra-command IATs over inputs in `[start, end)`.
    fn per_command_iats(&mut self) {
        let index = TimeIndex::new(self.inputs.iter().map(|e| e.t));
        let mut picked: Vec<u32> = Vec::new();
        let mut out = Ragged::with_capacity(self.commands.len(), self.inputs.len());
        for cmd in &self.commands {
            let (start, end) = (cmd.start_ts, cmd.end_ts);
            // The times of the inputs in `[start, end)`, in input order.
            let times: &mut dyn Iterator<Item = f64> = if start.is_nan() || end.is_nan() {
                // The reference's `not (t < start or t >= end)`, literally.
                &mut self
                    .inputs
                    .iter()
                    .filter(move |ev| !(ev.t < start || ev.t >= end))
                    .map(|ev| ev.t)
            } else {
                match &index {
                    None => {
                        let a = self.inputs.partition_point(|e| e.t < start);
                        let b = self.inputs.partition_point(|e| e.t < end);
                        &mut self.inputs.get(a..b).unwrap_or(&[]).iter().map(|ev| ev.t)
                    }
                    Some(ix) => {
                        // NaN times pass `not (t < start or t >= end)`.
                        ix.select(start, end, true, &mut picked);
                        &mut picked.iter().map(|&k| self.inputs[k as usize].t)
                    }
                }
            };
            if let Some(mut prev) = times.next() {
                for t in times {
                    out.push(clip0(t - prev));
                    prev = t;
                }
            }
            out.end_run();
        }
        self.intra_command_iats = out;
    }

    /// §3.10 typed-letter histograms and lexical counters. `behave-0.1.4`:
    /// paste-class by input unit (D-UNITS), lexemes match whole words
    /// (D-LEXICON).
    fn typed_char_histograms(&mut self, profile: Profile) {
        let whole_words = profile == Profile::Behave014;
        let mut in_paste = vec![false; self.inputs.len()];
        if let Some(b) = &self.behave {
            for u in b.units.iter().filter(|u| u.is_paste()) {
                for p in &mut in_paste[u.first_event..u.end_event.min(self.inputs.len())] {
                    *p = true;
                }
            }
        }
        let mut word_len = 0usize;
        let mut last_letter: Option<u8> = None;
        let mut word: Vec<u8> = Vec::with_capacity(16);
        let mut caps_cur = 0usize;
        let mut bang_cur = 0usize;
        // Allocated on the first bigram: most sessions type few letters.
        let mut bigram_counts: Vec<u64> = Vec::new();
        let mut bigram_order: Vec<u16> = Vec::new();
        let mut lex = [0usize; 3];
        let flush = |word: &mut Vec<u8>, word_len: &mut usize, lex: &mut [usize; 3]| {
            let hit = if whole_words {
                // Whole word only: a word longer than the buffer never matches.
                (*word_len == word.len())
                    .then(|| crate::lexicon::match_word(word))
                    .flatten()
            } else {
                crate::lexicon::match_suffix(word)
            };
            if let Some(hit) = hit {
                lex[hit as usize] += 1;
            }
            word.clear();
            *word_len = 0;
        };
        for (idx, ev) in self.inputs.iter().enumerate() {
            let paste = if whole_words {
                in_paste[idx]
            } else {
                ev.data.len() >= PASTE_MIN_CHARS_PER_EVENT
            };
            if paste {
                last_letter = None;
                flush(&mut word, &mut word_len, &mut lex);
                caps_cur = 0;
                bang_cur = 0;
                continue;
            }
            // `behave-0.1.4` (D-UNITS): an escape sequence (arrow key,
            // F-key, terminal reply) is one non-letter key, not typed text.
            let keyed: Vec<u32>;
            let data: &[u32] = if whole_words && ev.data.contains(&ESC) {
                keyed = crate::line_editing::split_keys(ev.data)
                    .into_iter()
                    .map(|k| if k.len() > 1 { ESC } else { k[0] })
                    .collect();
                &keyed
            } else {
                ev.data
            };
            for &c in data {
                if text::is_ascii_upper(c) {
                    caps_cur += 1;
                    self.caps_run_max = self.caps_run_max.max(caps_cur);
                } else {
                    caps_cur = 0;
                }
                if c == u32::from(b'!') {
                    bang_cur += 1;
                    self.bang_run_max = self.bang_run_max.max(bang_cur);
                } else {
                    bang_cur = 0;
                }
                if text::is_ascii_letter(c) {
                    let l = (c as u8).to_ascii_lowercase() - b'a';
                    self.unigrams[l as usize] += 1;
                    self.typed_letter_count += 1;
                    if let Some(p) = last_letter {
                        let key = u16::from(p) * 26 + u16::from(l);
                        if bigram_counts.is_empty() {
                            bigram_counts.resize(26 * 26, 0);
                        }
                        if bigram_counts[key as usize] == 0 {
                            bigram_order.push(key);
                        }
                        bigram_counts[key as usize] += 1;
                    }
                    last_letter = Some(l);
                    word.push(l + b'a');
                    word_len += 1;
                    if word.len() > LEXEME_MAX_LEN {
                        word.remove(0);
                    }
                } else {
                    last_letter = None;
                    flush(&mut word, &mut word_len, &mut lex);
                }
            }
        }
        flush(&mut word, &mut word_len, &mut lex);
        self.obscenity_hits = lex[0];
        self.positive_lex_hits = lex[1];
        self.negative_lex_hits = lex[2];
        let mut bigrams: Vec<(u16, u64)> = bigram_order
            .iter()
            .map(|&k| (k, bigram_counts[k as usize]))
            .collect();
        if bigrams.len() > LAYOUT_BIGRAM_TOP_N {
            // Stable: ties keep insertion order, as Python's sorted().
            bigrams.sort_by_key(|b| std::cmp::Reverse(b.1));
            bigrams.truncate(LAYOUT_BIGRAM_TOP_N);
        }
        self.bigrams = bigrams;
    }

    /// Number of commands.
    pub(crate) fn n_cmd(&self) -> usize {
        self.commands.len()
    }

    /// First token of command `i` (crate-private).
    pub(crate) fn token(&self, i: usize) -> &[u32] {
        self.tokens.get(self.commands[i].token_id)
    }
}

/// A session's distinct first tokens, by id, in one vector (a vector per
/// token was one allocation per distinct token of every session).
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    store: Vec<u32>,
    /// Token `id` is `store[ends[id - 1]..ends[id]]` (from 0 for id 0).
    ends: Vec<usize>,
}

impl Tokens {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Token `id` (empty for an unknown id).
    pub(crate) fn get(&self, id: usize) -> &[u32] {
        let start = match id {
            0 => 0,
            _ => self.ends.get(id - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(id).copied().unwrap_or(start);
        self.store.get(start..end).unwrap_or(&[])
    }

    /// Adds a token; its id.
    fn push(&mut self, token: impl IntoIterator<Item = u32>) -> usize {
        self.store.extend(token);
        self.ends.push(self.store.len());
        self.ends.len() - 1
    }
}

/// First tokens interned by id, each stored once, in `tokens[id]`: the map
/// goes from a token's hash to the newest id with that hash, and `older`
/// chains ids of equal hash (nearly always none). Keying the map by the
/// token itself stored every distinct token twice (two allocations each).
#[derive(Default)]
struct TokenIntern {
    by_hash: HashMap<u64, usize, BuildHasherDefault<Fnv>>,
    older: Vec<Option<usize>>,
}

impl TokenIntern {
    fn id(&mut self, tokens: &mut Tokens, tok: &[u32]) -> usize {
        let mut h = Fnv::default();
        for &c in tok {
            h.write(&c.to_le_bytes());
        }
        let h = h.finish();
        let mut at = self.by_hash.get(&h).copied();
        while let Some(i) = at {
            if i < tokens.len() && tokens.get(i) == tok {
                return i;
            }
            at = self.older.get(i).copied().flatten();
        }
        let id = tokens.push(tok.iter().copied());
        self.older.resize(id, None);
        self.older.push(self.by_hash.insert(h, id));
        id
    }
}

/// FNV-1a: a fixed, cheap hasher for short trusted keys (interned first
/// tokens, registry names): no per-map random state to seed.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The outputs of one command's window: a range of them (events in time
/// order), or the ones a [`TimeIndex`] picked.
enum Taken<'p> {
    Range(usize, usize),
    Picked(&'p [u32]),
}

impl Taken<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Taken::Range(a, b) => a >= b,
            Taken::Picked(p) => p.is_empty(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(usize)) {
        match self {
            Taken::Range(a, b) => (*a..*b).for_each(f),
            Taken::Picked(p) => p.iter().for_each(|&k| f(k as usize)),
        }
    }
}

/// Events sorted by time, for selecting `lo <= t < hi` in original order
/// when the events themselves are not in time order (non-monotonic
/// recordings): O(log n + k log k) per window instead of a full rescan,
/// with exactly the reference's selection and order.
struct TimeIndex {
    /// `(t, original index)` of non-NaN times, sorted by `(t, index)`.
    by_time: Vec<(f64, u32)>,
    /// Original indices of NaN times.
    nan: Vec<u32>,
}

impl TimeIndex {
    /// `None` when the events are already non-decreasing without NaN (the
    /// windows are then contiguous slices).
    fn new(ts: impl Iterator<Item = f64> + Clone) -> Option<TimeIndex> {
        if is_sorted(ts.clone()) {
            return None;
        }
        let mut by_time = Vec::with_capacity(ts.size_hint().0);
        let mut nan = Vec::new();
        for (i, t) in ts.enumerate() {
            if t.is_nan() {
                nan.push(i as u32);
            } else {
                by_time.push((t, i as u32));
            }
        }
        by_time.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Some(TimeIndex { by_time, nan })
    }

    /// Original indices with `lo <= t < hi` (non-NaN bounds), plus the NaN
    /// times when `with_nan`, in original order.
    fn select(&self, lo: f64, hi: f64, with_nan: bool, out: &mut Vec<u32>) {
        out.clear();
        // total_cmp orders -0.0 before 0.0; use IEEE `<` for the bounds.
        let a = self.by_time.partition_point(|x| x.0 < lo);
        let b = self.by_time.partition_point(|x| x.0 < hi);
        if a < b {
            out.extend(self.by_time[a..b].iter().map(|x| x.1));
        }
        if with_nan {
            out.extend_from_slice(&self.nan);
        }
        out.sort_unstable();
    }
}

/// Non-decreasing with no NaN: windows are then contiguous ranges.
fn is_sorted(mut ts: impl Iterator<Item = f64>) -> bool {
    let Some(mut prev) = ts.next() else {
        return true;
    };
    if prev.is_nan() {
        return false;
    }
    for t in ts {
        if !matches!(
            prev.partial_cmp(&t),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        ) {
            return false;
        }
        prev = t;
    }
    true
}

/// Population CVs of the bursts whose mean is positive (§5.3, §5.5).
fn burst_cvs(bursts: &Ragged) -> Result<Vec<f64>, StatsError> {
    let mut cvs = Vec::with_capacity(bursts.len());
    for b in bursts {
        if let (_, Some(cv)) = mean_and_cv(b, true, |m| m > 0.0)? {
            cvs.push(cv);
        }
    }
    Ok(cvs)
}

/// §3.4: split at IATs > 1.50 s, keep runs of ≥ 3.
/// A burst is a run of consecutive IATs, so it is copied out of `iats` in
/// one go once its end is known (no per-IAT pushes into a growing vector).
fn split_typing_bursts(iats: &[f64]) -> Ragged {
    let mut out = Ragged::with_capacity(0, iats.len());
    // NaN IATs are not `> 1.50`: they stay inside a run, as in the reference.
    for run in iats.split(|&x| x > IKI_THINK_MAX_S) {
        if run.len() >= TYPING_BURST_MIN_IATS {
            out.push_run(run);
        }
    }
    out
}

/// §3.7.1 ANSI strip (the reference's regex, as a scanner), into `out`,
/// the way the engine strips: through [`strip_ansi_pair`].
#[cfg(test)]
pub(crate) fn strip_ansi(s: &[u32], out: &mut Vec<u32>) {
    out.clear();
    out.extend_from_slice(s);
    let mut narrow = Vec::new();
    narrow_onto(s, &mut narrow);
    strip_ansi_pair(out, &mut narrow);
}

/// §3.7.1 ANSI strip in place on code points: the scanner the engine used
/// before [`strip_ansi_pair`], kept as the independent oracle its property
/// test compares against. The output is never longer than the input, so
/// matches are removed by compacting the buffer.
#[cfg(test)]
pub(crate) fn strip_ansi_in_place(buf: &mut Vec<u32>) {
    let Some(first) = text::find_cp(buf, ESC, 0) else {
        return;
    };
    let n = buf.len();
    let mut w = first;
    let mut i = first;
    while i < n {
        let c = buf[i];
        if c != ESC {
            // Copy the whole run up to the next ESC at once.
            let run = text::find_cp(buf, ESC, i).map_or(n - i, |p| p - i);
            buf.copy_within(i..i + run, w);
            w += run;
            i += run;
            continue;
        }
        if i + 1 >= n {
            buf[w] = c;
            w += 1;
            i += 1;
            continue;
        }
        let d = buf[i + 1];
        if d == 0x5B {
            // CSI: '[' [0-?]* [ -/]* [@-~]
            let mut j = i + 2;
            while j < n && (0x30..=0x3F).contains(&buf[j]) {
                j += 1;
            }
            while j < n && (0x20..=0x2F).contains(&buf[j]) {
                j += 1;
            }
            if j < n && (0x40..=0x7E).contains(&buf[j]) {
                i = j + 1;
            } else {
                buf[w] = c;
                w += 1;
                i += 1;
            }
        } else if d == 0x5D {
            // OSC: ']' [^BEL ESC]* (BEL | ESC '\')?
            let mut j = i + 2;
            while j < n && buf[j] != BEL && buf[j] != ESC {
                j += 1;
            }
            if j < n && buf[j] == BEL {
                j += 1;
            } else if j + 1 < n && buf[j] == ESC && buf[j + 1] == 0x5C {
                j += 2;
            }
            i = j;
        } else if (0x40..=0x5A).contains(&d) || (0x5C..=0x5F).contains(&d) {
            i += 2;
        } else {
            buf[w] = c;
            w += 1;
            i += 1;
        }
    }
    buf.truncate(w);
}

/// [`strip_ansi_in_place`] on a text and its [`Narrow`] copy at once: the
/// matches are found on the bytes (the escape grammar is all ASCII, see
/// [`Narrow`]) and removed from both, so both stay aligned. `nb` must be
/// the narrow form of `buf`; if the lengths differ both are left as they are.
pub(crate) fn strip_ansi_pair(buf: &mut Vec<u32>, nb: &mut Vec<u8>) {
    if buf.len() != nb.len() {
        return;
    }
    strip_ansi_core(nb, buf);
}

/// [`strip_ansi_pair`] on a narrow text alone (the engine strips ASCII
/// windows with [`strip_ansi_copy`]; tests compare the two).
#[cfg(test)]
pub(crate) fn strip_ansi_narrow(nb: &mut Vec<u8>) {
    strip_ansi_core(nb, &mut ());
}

/// What the ANSI scanner moves along with the narrow bytes it strips: the
/// code points they stand for, or nothing.
trait StripCompanion {
    fn move_run(&mut self, from: usize, len: usize, to: usize);
    fn truncate_to(&mut self, len: usize);
}

impl StripCompanion for Vec<u32> {
    #[inline]
    fn move_run(&mut self, from: usize, len: usize, to: usize) {
        self.copy_within(from..from + len, to);
    }
    #[inline]
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
}

impl StripCompanion for () {
    #[inline]
    fn move_run(&mut self, _: usize, _: usize, _: usize) {}
    #[inline]
    fn truncate_to(&mut self, _: usize) {}
}

/// The scanner behind [`strip_ansi_pair`] and [`strip_ansi_narrow`];
/// `buf`, when it is a text, has `nb`'s length.
fn strip_ansi_core(nb: &mut Vec<u8>, buf: &mut impl StripCompanion) {
    let Some(first) = memchr::memchr(ESC_BYTE, nb) else {
        return;
    };
    let (mut w, mut i) = (first, first);
    // Each kept run moves down to `w <= from`, over bytes already read.
    while let Some((from, len, next)) = next_kept_run(nb, i) {
        buf.move_run(from, len, w);
        nb.copy_within(from..from + len, w);
        w += len;
        i = next;
    }
    buf.truncate_to(w);
    nb.truncate(w);
}

/// [`strip_ansi_narrow`] of `src` into `out` (cleared first), copying only
/// the bytes kept: one pass over a window instead of a copy of it and a
/// strip in place.
pub(crate) fn strip_ansi_copy(src: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while let Some((from, len, next)) = next_kept_run(src, i) {
        out.extend_from_slice(&src[from..from + len]);
        i = next;
    }
}

/// The ANSI strip's walk, one step: from `nb[i..]`, the next run the strip
/// keeps, as `(start, length, where the walk resumes)`, skipping the escape
/// sequences before it; `None` at the end. Both strips (in place and
/// copying) are this walk.
#[inline]
fn next_kept_run(nb: &[u8], mut i: usize) -> Option<(usize, usize, usize)> {
    let n = nb.len();
    while i < n {
        if nb[i] != ESC_BYTE {
            // The whole run up to the next ESC at once.
            let run = memchr::memchr(ESC_BYTE, &nb[i..]).unwrap_or(n - i);
            return Some((i, run, i + run));
        }
        match escape_end(nb, i) {
            Some(j) => i = j,
            // An ESC kept as a plain character.
            None => return Some((i, 1, i + 1)),
        }
    }
    None
}

const ESC_BYTE: u8 = 0x1B;

/// Where the escape sequence starting with the ESC at `nb[i]` ends (the
/// reference's pattern: CSI, OSC, or a two-byte Fe escape), or `None` when
/// that ESC is kept as a plain character.
#[inline]
fn escape_end(nb: &[u8], i: usize) -> Option<usize> {
    let n = nb.len();
    match nb.get(i + 1) {
        None => None,
        Some(0x5B) => {
            // CSI: '[' [0-?]* [ -/]* [@-~]
            let mut j = i + 2;
            while j < n && (0x30..=0x3F).contains(&nb[j]) {
                j += 1;
            }
            while j < n && (0x20..=0x2F).contains(&nb[j]) {
                j += 1;
            }
            (j < n && (0x40..=0x7E).contains(&nb[j])).then_some(j + 1)
        }
        Some(0x5D) => {
            // OSC: ']' [^BEL ESC]* (BEL | ESC '\')?
            let mut j = i + 2;
            j += memchr::memchr2(0x07, ESC_BYTE, &nb[j..]).unwrap_or(n - j);
            if j < n && nb[j] == 0x07 {
                j += 1;
            } else if j + 1 < n && nb[j] == ESC_BYTE && nb[j + 1] == 0x5C {
                j += 2;
            }
            Some(j)
        }
        Some(&d) if (0x40..=0x5A).contains(&d) || (0x5C..=0x5F).contains(&d) => Some(i + 2),
        Some(_) => None,
    }
}

/// Does the narrow text `nb` contain one of the [`ERROR_PATTERNS`]? One
/// multi-pattern search, leftmost-first (any match answers `is_match` the
/// same), so it can use the SIMD-packed searcher where the CPU has one:
/// measured faster than a byte-by-byte check even on short windows.
pub(crate) fn detect_error_narrow(nb: &[u8]) -> bool {
    static SEARCH: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(ERROR_PATTERNS)
                .ok()
        });
    match SEARCH.as_ref() {
        Some(ac) => ac.is_match(nb),
        None => ERROR_PATTERNS
            .iter()
            .any(|p| memchr::memmem::find(nb, p).is_some()),
    }
}

/// §3.7 step 3: canonical error fingerprints.
const ERROR_PATTERNS: [&[u8]; 6] = [
    b"command not found",
    b"No such file or directory",
    b"Permission denied",
    b": cannot ",
    b"Operation not permitted",
    b"syntax error near unexpected token",
];

/// Does `s` contain one of the [`ERROR_PATTERNS`]?
#[cfg(test)]
pub(crate) fn detect_error(s: &[u32]) -> bool {
    detect_error_with(s, &mut Vec::new())
}

/// [`detect_error`] through the caller's `narrow` buffer.
#[cfg(test)]
pub(crate) fn detect_error_with(s: &[u32], narrow: &mut Vec<u8>) -> bool {
    narrow.clear();
    narrow_onto(s, narrow);
    detect_error_narrow(narrow)
}

/// Tmux markers of `behave-0.1.4`: focus reporting `ESC[?1004` (vim,
/// neovim and other TUIs send it) is not one (D-MUX).
const TMUX_MARKERS_BEHAVE: [&[u8]; 2] = [b"\x1bPtmux;", b"\x1b]2;tmux"];
/// Screen markers (same as the reference).
const SCREEN_MARKERS: [&[u8]; 2] = [b"\x1bP=", b"\x1b]83;"];

/// §3.7.2 with the profile's prompt rules: `behave-0.1.4` (D-PROMPT)
/// accepts `%` and `>` prompts only with a PS1 shape, and a user@host
/// shape inside `<…>` (mail/git author lines) does not count.
pub(crate) fn extract_prompt_classes_for(
    profile: Profile,
    text: &[u32],
    narrow: &[u8],
    out: &mut Vec<PromptClass>,
) {
    if profile == Profile::Decnet12 {
        return extract_prompt_classes(text, narrow, out);
    }
    for_each_line(text, narrow, |line| behave_prompt_line(line, out));
}

/// `behave-0.1.4`'s test of one line (D-PROMPT).
fn behave_prompt_line(line: &[u32], out: &mut Vec<PromptClass>) {
    let s = text::rstrip(line);
    let Some(&last) = s.last() else {
        return;
    };
    let shaped = has_ps1_shape(s) && !angle_bracket_address(s);
    let ok = match last {
        0x24 | 0x23 => (line.len() > s.len() && line[s.len()] == 0x20) || shaped,
        0x25 | 0x3E => shaped,
        _ => false,
    };
    if ok {
        out.push(classify_prompt(last, line));
    }
}

/// `decnet-1.2`'s test of one line (§3.7.2).
fn decnet_prompt_line(line: &[u32], out: &mut Vec<PromptClass>) {
    if let Some(suffix) = detect_prompt_suffix(line) {
        out.push(classify_prompt(suffix, line));
    }
}

/// [`extract_prompt_classes_for`] on an all-ASCII text given as its
/// narrow form (which then is the text, byte for byte). Both profiles
/// accept only a line whose right-stripped end is `$`, `#`, `%` or `>`:
/// such lines are found on the bytes, from those end bytes, and only they
/// are widened (into `line`) and classified the usual way.
pub(crate) fn extract_prompt_classes_ascii(
    profile: Profile,
    nb: &[u8],
    line: &mut Vec<u32>,
    out: &mut Vec<PromptClass>,
) {
    // `l` is a line whose last non-space byte is a prompt byte (found so
    // below).
    let mut each = |l: &[u8]| {
        line.clear();
        line.extend(l.iter().map(|&b| u32::from(b)));
        match profile {
            Profile::Decnet12 => decnet_prompt_line(line, out),
            Profile::Behave014 => behave_prompt_line(line, out),
        }
    };
    // A line's last non-space byte is unique, and the four prompt bytes
    // are rare in output: the lines are found from those bytes (two SIMD
    // searches) rather than by splitting the text at every newline.
    let mut pct = memchr::memchr_iter(b'%', nb).peekable();
    let mut others = memchr::memchr3_iter(b'$', b'#', b'>', nb).peekable();
    loop {
        let i = match (others.peek().copied(), pct.peek().copied()) {
            (Some(a), Some(b)) if b < a => {
                pct.next();
                b
            }
            (Some(a), _) => {
                others.next();
                a
            }
            (None, Some(b)) => {
                pct.next();
                b
            }
            (None, None) => break,
        };
        // Only whitespace up to the end of its line: the line's last
        // non-space byte.
        let mut j = i + 1;
        while j < nb.len() && nb[j] != b'\n' && text::is_py_space(u32::from(nb[j])) {
            j += 1;
        }
        if j < nb.len() && nb[j] != b'\n' {
            continue;
        }
        let start = memchr::memrchr(b'\n', &nb[..i]).map_or(0, |p| p + 1);
        each(&nb[start..j]);
    }
}

/// `text.split(|&c| c == 0x0A)`, each piece passed to `f` in order. The
/// newlines are found on `narrow`, the text's [`Narrow`] form (when its
/// length differs, on the text itself).
fn for_each_line(text: &[u32], narrow: &[u8], mut f: impl FnMut(&[u32])) {
    let mut start = 0;
    if narrow.len() == text.len() {
        for p in memchr::memchr_iter(b'\n', narrow) {
            f(&text[start..p]);
            start = p + 1;
        }
    } else {
        while let Some(p) = text::find_cp(text, 0x0A, start) {
            f(&text[start..p]);
            start = p + 1;
        }
    }
    f(&text[start..]);
}

/// `Name <user@host>`: the only user@host shape sits inside angle brackets.
fn angle_bracket_address(s: &[u32]) -> bool {
    let Some(open) = s.iter().rposition(|&c| c == 0x3C) else {
        return false;
    };
    let close = s[open..].iter().position(|&c| c == 0x3E).map(|p| open + p);
    let inside = match close {
        Some(c) => &s[open..=c],
        None => &s[open..],
    };
    inside.contains(&0x40) && !s[..open].contains(&0x40)
}

/// §3.7.2 PS1 prompt parser; appends the class of each prompt line.
pub(crate) fn extract_prompt_classes(text: &[u32], narrow: &[u8], out: &mut Vec<PromptClass>) {
    if text.is_empty() {
        return;
    }
    for_each_line(text, narrow, |line| decnet_prompt_line(line, out));
}

fn detect_prompt_suffix(line: &[u32]) -> Option<u32> {
    let s = text::rstrip(line);
    let &last = s.last()?;
    if !matches!(last, 0x24 | 0x23 | 0x25 | 0x3E) {
        return None;
    }
    if line.len() > s.len() && line[s.len()] == 0x20 {
        return Some(last);
    }
    if has_ps1_shape(s) {
        return Some(last);
    }
    None
}

/// `[\w.-]+@[\w.-]+ | ^\s*PS\s | [A-Za-z]:[\\/]` searched in `s`.
fn has_ps1_shape(s: &[u32]) -> bool {
    let wordish = |c: u32| c == 0x2E || c == 0x2D || is_py_word(c);
    for p in 1..s.len().saturating_sub(1) {
        if s[p] == 0x40 && wordish(s[p - 1]) && wordish(s[p + 1]) {
            return true;
        }
    }
    let rest = text::lstrip(s);
    if rest.len() >= 3 && rest[0] == 0x50 && rest[1] == 0x53 && is_py_space(rest[2]) {
        return true;
    }
    s.windows(3)
        .any(|w| text::is_ascii_letter(w[0]) && w[1] == 0x3A && (w[2] == 0x5C || w[2] == 0x2F))
}

/// §5.26 classification of one prompt line.
fn classify_prompt(suffix: u32, line: &[u32]) -> PromptClass {
    match suffix {
        0x24 | 0x23 => PromptClass::Bash,
        0x25 => PromptClass::Zsh,
        _ => {
            let mut raw = text::strip(line);
            if raw.len() > PROMPT_LINE_MAX_CHARS {
                raw = &raw[raw.len() - PROMPT_LINE_MAX_CHARS..];
            }
            let l = text::lstrip(raw);
            if l.len() >= 3 && l[0] == 0x50 && l[1] == 0x53 && l[2] == 0x20 {
                PromptClass::Powershell
            } else if contains_ascii(raw, b"C:\\") || contains_ascii(raw, b"c:\\") {
                PromptClass::CmdExe
            } else {
                PromptClass::Fish
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::cps;

    #[test]
    fn ascii_prompt_path_equals_the_code_point_path() {
        // ASCII texts built from prompt shapes, suffixes, Python
        // whitespace (\x0b, \x1c..\x1f included), escapes and newlines:
        // the narrow-only path gives the same classes, in the same order,
        // as the code point path, for both profiles; stripping the narrow
        // text alone gives the pair strip's bytes.
        let pieces: [&str; 19] = [
            "\r",
            "\t",
            "a$b",
            "root@web01:~# ",
            "$",
            "#",
            "%",
            ">",
            " ",
            "\n",
            "\x0b",
            "\x1c",
            "\x1f",
            "PS C:\\> ",
            "C:\\Users>",
            "a<b@c>",
            "\x1b[0m",
            "user@host",
            "x.y-z",
        ];
        let mut next = crate::xorshift(0x5EED_1234);
        let mut line = Vec::new();
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let text: String = (0..n)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            let mut cp = cps(&text);
            let mut nb: Vec<u8> = text.bytes().collect();
            let mut alone = nb.clone();
            strip_ansi_pair(&mut cp, &mut nb);
            strip_ansi_narrow(&mut alone);
            assert_eq!(alone, nb, "{text:?}");
            for profile in [Profile::Decnet12, Profile::Behave014] {
                let (mut want, mut got) = (Vec::new(), Vec::new());
                extract_prompt_classes_for(profile, &cp, &nb, &mut want);
                extract_prompt_classes_ascii(profile, &nb, &mut line, &mut got);
                assert_eq!(got, want, "{profile:?} {text:?}");
            }
        }
    }

    #[test]
    fn ansi_strip_spec_example() {
        let s = cps("\x1b[01;32mA\x1b[0m\x1b]0;t\x07B\x1b]0;u\x1b\\C\x1bMD\x1b[E\x1b(B");
        let mut out = Vec::new();
        strip_ansi(&s, &mut out);
        assert_eq!(out, cps("ABCD\x1b(B"));
        strip_ansi(&cps("x\x1b[1;2"), &mut out);
        assert_eq!(out, cps("x\x1b[1;2"));
        // Random strings stripped by Python's `re.sub` with the reference regex.
        let vectors = [
            ("\\B[]\x1b]\x07([", "\\B[](["),
            (";[]xx]?]\x1b]x[", ";[]xx]?]"),
            ("\x07?[B[?[\x1b]\\mx\\", "\x07?[B[?["),
            ("\x07m\x1b]0\x07;(\x07\x1b]][", "\x07m;(\x07"),
            (";/\x1b]xA~~(m?0?", ";/"),
            ("m\x1b[/A", "m"),
            ("~m]\x07\x1b[x0A\\/x[]\x1b]", "~m]\x070A\\/x[]"),
            ("AA(/~]] /][m", "AA(/~]] /][m"),
            ("~mB(\x1b~(0\x07/[;m", "~mB(\x1b~(0\x07/[;m"),
            ("~B\x1b] \\", "~B"),
            ("\x1b] x(B?\\]0", ""),
        ];
        for (input, want) in vectors {
            strip_ansi(&cps(input), &mut out);
            assert_eq!(out, cps(want), "{input:?}");
        }
        strip_ansi(&cps("\x1b]0;title\x1bZrest\x1b"), &mut out);
        assert_eq!(out, cps("rest\x1b"));
    }

    #[test]
    fn narrow_texts_and_their_positions() {
        let texts = [
            cps("ab"),
            vec![],
            cps("\x1b[m"),
            vec![0x80, 0x3B1, 0x10_FF1B, 0x1B],
        ];
        let mut evs: Vec<EventRef<'_>> = texts
            .iter()
            .map(|d| EventRef {
                t: 0.0,
                kind: EventKind::Output,
                data: d.into(),
            })
            .collect();
        let n = Narrow::of(&evs);
        // A text held as bytes narrows to the same bytes.
        evs[0].data = crate::event::TextRef::ascii(b"ab");
        evs[2].data = crate::event::TextRef::ascii(b"\x1b[m");
        assert_eq!(Narrow::of(&evs).all(), n.all());
        // Above 0x7F: the low byte with bit 7 set (0x3B1 -> 0xB1).
        assert_eq!(n.all(), b"ab\x1b[m\x80\xb1\x9b\x1b");
        assert_eq!(n.get(1), b"");
        assert_eq!(n.get(3), b"\x80\xb1\x9b\x1b");
        assert_eq!(n.get(4), b"");
        let mut k = 0;
        let at: Vec<_> = (0..n.all().len()).map(|p| n.text_at(p, &mut k)).collect();
        assert_eq!(at, [0..2, 0..2, 2..5, 2..5, 2..5, 5..9, 5..9, 5..9, 5..9]);
    }

    /// Interning gives each distinct token one id, in order of first
    /// appearance, as a map keyed by the token itself would.
    #[test]
    fn first_tokens_intern_like_a_map() {
        let mut next = crate::xorshift(0x2545_F491_4F6C_DD1D);
        let mut intern = TokenIntern::default();
        let mut tokens = Tokens::default();
        let mut naive: HashMap<Vec<u32>, usize> = HashMap::new();
        for _ in 0..20_000 {
            let len = (next() % 4) as usize;
            let tok: Vec<u32> = (0..len).map(|_| (next() % 7) as u32 + 0x61).collect();
            let n = naive.len();
            let want = *naive.entry(tok.clone()).or_insert(n);
            assert_eq!(intern.id(&mut tokens, &tok), want);
        }
        assert_eq!(tokens.len(), naive.len());
        for (tok, &id) in &naive {
            assert_eq!(tokens.get(id), tok.as_slice());
        }
        assert_eq!(tokens.get(naive.len()), &[] as &[u32]);
    }

    #[test]
    fn strip_pair_equals_strip_on_code_points() {
        // Every byte the grammar tests, its neighbours, and non-ASCII code
        // points whose low byte is one of them (they must not alias).
        let alphabet: Vec<u32> = vec![
            0x1B, 0x1B, 0x1B, 0x5B, 0x5D, 0x07, 0x5C, 0x30, 0x3F, 0x20, 0x2F, 0x40, 0x7E, 0x5A,
            0x5F, 0x41, 0x61, 0x0A, 0x7F, 0x80, 0xFF, 0x11B, 0x15B, 0x107, 0xDC9B, 0x10_FF1B,
        ];
        let mut next = crate::xorshift(99u64);
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let s: Vec<u32> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut want = s.clone();
            strip_ansi_in_place(&mut want);
            let mut got = s.clone();
            let mut nb = Vec::new();
            narrow_onto(&s, &mut nb);
            strip_ansi_pair(&mut got, &mut nb);
            assert_eq!(got, want, "{s:x?}");
            let mut want_nb = Vec::new();
            narrow_onto(&want, &mut want_nb);
            assert_eq!(nb, want_nb, "{s:x?}");
            // The copying strip keeps the same bytes.
            let mut src = Vec::new();
            narrow_onto(&s, &mut src);
            let mut copied = vec![b'x'; 3];
            strip_ansi_copy(&src, &mut copied);
            assert_eq!(copied, want_nb, "{s:x?}");
        }
        // Misaligned inputs are left alone.
        let (mut a, mut b) = (cps("\x1b[m"), vec![0x1B]);
        strip_ansi_pair(&mut a, &mut b);
        assert_eq!((a.len(), b.len()), (3, 1));
    }

    #[test]
    fn detect_error_matches_naive() {
        const PATTERNS: [&str; 6] = [
            "command not found",
            "No such file or directory",
            "Permission denied",
            ": cannot ",
            "Operation not permitted",
            "syntax error near unexpected token",
        ];
        let naive = |s: &[u32]| {
            PATTERNS
                .iter()
                .any(|p| s.windows(p.len()).any(|w| w == cps(p).as_slice()))
        };
        let filler = cps("co No Pe: Op sy x\u{4e6f}");
        let mut next = crate::xorshift(12345u64);
        for round in 0..3000 {
            // Short and long texts (the searcher changes strategy by length).
            let len = if round % 4 == 0 {
                240 + (next() % 300) as usize
            } else {
                (next() % 70) as usize
            };
            let mut s: Vec<u32> = (0..len)
                .map(|_| match next() % 8 {
                    0 => 0x4E6F,
                    1 => 0x10_FF6F,
                    _ => filler[(next() % filler.len() as u64) as usize],
                })
                .collect();
            if next().is_multiple_of(2) {
                let p = cps(PATTERNS[(next() % 6) as usize]);
                let at = (next() % (s.len() as u64 + 1)) as usize;
                let cut = if next().is_multiple_of(3) {
                    p.len() - 1
                } else {
                    p.len()
                };
                s.splice(at..at, p[..cut].iter().copied());
            }
            assert_eq!(detect_error(&s), naive(&s), "{s:?}");
        }
    }

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            first_token_hash(&cps("ls")).as_deref(),
            Some("c7b68ac37f364473e922936708e7f43c293dd07b295171566c07ff5fe024fab9")
        );
        assert!(first_token_hash(&[])
            .is_some_and(|h| h.starts_with("e3b0c442") && h.ends_with("7852b855")));
        assert_eq!(first_token_hash(&[0x6C, 0xDCE9]), None);
    }

    #[test]
    fn prompt_parser() {
        let text = cps("out\nroot@h:~# \nuser@host:~$\r\n$\r\n50% \nC:\\> x\nPS C:\\> \n a@b>");
        let mut narrow = Vec::new();
        narrow_onto(&text, &mut narrow);
        let mut v = Vec::new();
        extract_prompt_classes(&text, &narrow, &mut v);
        // Without a narrow form the lines are found on the text itself.
        let mut w = Vec::new();
        extract_prompt_classes(&text, &[], &mut w);
        assert_eq!(v, w);
        assert_eq!(
            v,
            vec![
                PromptClass::Bash,
                PromptClass::Bash,
                PromptClass::Zsh,
                PromptClass::Powershell,
                PromptClass::Fish
            ]
        );
    }

    #[test]
    fn typing_bursts_split_and_filter() {
        let b = split_typing_bursts(&[0.1, 0.2, 0.3, 2.0, 0.1, 0.1, 1.6, 0.1, 0.1, 0.1, 0.1]);
        let runs: Vec<&[f64]> = b.iter().collect();
        assert_eq!(runs, vec![&[0.1, 0.2, 0.3][..], &[0.1, 0.1, 0.1, 0.1]]);
    }
}
