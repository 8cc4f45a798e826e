//! Readline-style line editing for command segmentation (profile
//! `behave-0.1.4`; engine.md §9 item 28, docs/DEVIATIONS.md row D-SEG).
//!
//! The reference cuts the raw keystroke stream at every CR/LF and takes the
//! first whitespace token of whatever bytes accumulated, so `rm -rf /^Cls`
//! reads as `rm`, an arrow-key history recall makes `ESC [ A` the first
//! token, and a backspaced typo stays in the token. A shell does not run
//! those bytes: it runs the line its editor holds when Enter arrives. This
//! module replays the editing keys of bash's default (emacs) readline
//! bindings on a private buffer so that the first token and the pipe count
//! are taken from the line the shell actually ran.
//!
//! What it models: insertion at a cursor; Backspace/DEL, ^H; ^U (kill to
//! line start), ^W and ESC-DEL (kill word back), ^K (kill to end), ESC-d
//! (kill word forward), ^D/DEL-key (delete under cursor); ^A/^E/^B/^F,
//! Home/End, left/right arrows, ESC-b/ESC-f (cursor motion); ^C (discard the
//! line); up/down arrows (history recall of earlier submitted lines); ^R
//! reverse incremental search; ESC-. (insert the previous line's last
//! word); Tab completion, inserted from the shell's echo when the echo is
//! plain text; bracketed-paste markers; keys typed while a full-screen
//! program holds the alternate screen (less, vim, top) go to that program,
//! not to the shell.
//!
//! What it does not model (documented limits): vi editing mode, multi-line
//! editing inside bracketed pastes (a pasted newline still submits), kill
//! ring yanks (^Y), programs that read the terminal without the alternate
//! screen (a python REPL's `exit()` still reads as a command line).
//!
//! Privacy: the buffer and history hold typed text only for the duration
//! of one session's segmentation; callers keep only the first token and
//! counters of each submitted line ([`EditedCommand`]).

const ESC: u32 = 0x1B;
const CR: u32 = 0x0D;
const LF: u32 = 0x0A;
const TAB: u32 = 0x09;
const BEL: u32 = 0x07;
const DEL: u32 = 0x7F;
const BS: u32 = 0x08;

/// Readline shortcut bytes that count toward `shortcut_usage` (same set as
/// the reference's SHORTCUT_CTRL_BYTES: ^A ^E ^W ^U ^R ^B ^F).
const SHORTCUT_CTRL: [u32; 7] = [0x01, 0x05, 0x17, 0x15, 0x12, 0x02, 0x06];

/// Python's whitespace set (engine.md §2.1): Rust whitespace plus U+001C..=U+001F.
pub fn is_py_ws(c: u32) -> bool {
    (0x1C..=0x1F).contains(&c) || char::from_u32(c).is_some_and(char::is_whitespace)
}

/// Splits one input event into keys. An escape sequence (CSI `ESC [ ...
/// final`, SS3 `ESC O x`, or a Meta key `ESC x`) is one key; any other code
/// point is one key. A lone trailing ESC is one key.
pub fn split_keys(data: &[u32]) -> Vec<&[u32]> {
    let mut keys = Vec::new();
    let mut i = 0;
    let n = data.len();
    while i < n {
        if data[i] == ESC && i + 1 < n {
            let next = data[i + 1];
            let end = if next == u32::from(b'[') {
                let mut j = i + 2;
                while j < n && (0x30..=0x3F).contains(&data[j]) {
                    j += 1;
                }
                while j < n && (0x20..=0x2F).contains(&data[j]) {
                    j += 1;
                }
                if j < n {
                    j += 1;
                }
                j
            } else if next == u32::from(b'O') && i + 2 < n {
                i + 3
            } else {
                i + 2
            };
            keys.push(&data[i..end]);
            i = end;
        } else {
            keys.push(&data[i..i + 1]);
            i += 1;
        }
    }
    keys
}

/// What one key did to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The line is still being edited.
    Pending,
    /// Enter: the shell runs this line (may be blank).
    Submit(Vec<u32>),
    /// ^C: the line was abandoned, nothing runs.
    Discard,
}

/// A readline (emacs mode) line buffer with history.
#[derive(Debug, Default)]
pub struct LineEditor {
    buf: Vec<u32>,
    cur: usize,
    history: Vec<Vec<u32>>,
    hist_idx: Option<usize>,
    search: Option<Vec<u32>>,
    in_paste: bool,
}

fn is_key(key: &[u32], s: &str) -> bool {
    key.len() == s.len() && key.iter().zip(s.bytes()).all(|(&k, b)| k == u32::from(b))
}

impl LineEditor {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the buffer holds nothing (used to stamp a line's start).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn word_start(&self) -> usize {
        let mut k = self.cur;
        while k > 0 && is_py_ws(self.buf[k - 1]) {
            k -= 1;
        }
        while k > 0 && !is_py_ws(self.buf[k - 1]) {
            k -= 1;
        }
        k
    }

    fn word_end(&self) -> usize {
        let mut e = self.cur;
        while e < self.buf.len() && is_py_ws(self.buf[e]) {
            e += 1;
        }
        while e < self.buf.len() && !is_py_ws(self.buf[e]) {
            e += 1;
        }
        e
    }

    fn insert(&mut self, text: &[u32]) {
        for &c in text {
            self.buf.insert(self.cur, c);
            self.cur += 1;
        }
    }

    fn load(&mut self, line: Vec<u32>) {
        self.cur = line.len();
        self.buf = line;
    }

    fn search_hit(&self, query: &[u32]) -> Option<Vec<u32>> {
        self.history
            .iter()
            .rev()
            .find(|h| query.is_empty() || h.windows(query.len()).any(|w| w == query))
            .cloned()
    }

    /// Leaves reverse-i-search with the matched line in the buffer.
    fn accept_search(&mut self) {
        if let Some(q) = self.search.take() {
            if let Some(hit) = self.search_hit(&q) {
                self.load(hit);
            }
        }
    }

    /// Inserts the text a Tab completion added (taken from the shell echo).
    pub fn complete(&mut self, inserted: &[u32]) {
        if self.search.is_none() {
            self.insert(inserted);
        }
    }

    fn submit(&mut self) -> Edit {
        let line = std::mem::take(&mut self.buf);
        self.cur = 0;
        self.hist_idx = None;
        self.in_paste = false;
        if line.iter().any(|&c| !is_py_ws(c)) {
            self.history.push(line.clone());
        }
        Edit::Submit(line)
    }

    /// Applies one key (as split by [`split_keys`]).
    pub fn key(&mut self, key: &[u32]) -> Edit {
        if key.is_empty() {
            return Edit::Pending;
        }
        if self.in_paste && key.len() == 1 && key[0] != CR && key[0] != LF {
            self.insert(key);
            return Edit::Pending;
        }
        if let Some(q) = self.search.as_mut() {
            if key.len() == 1 {
                let c = key[0];
                if c >= 0x20 && c != DEL {
                    q.push(c);
                    return Edit::Pending;
                }
                match c {
                    DEL | BS => {
                        q.pop();
                        return Edit::Pending;
                    }
                    BEL => {
                        self.search = None;
                        return Edit::Pending;
                    }
                    0x03 => {
                        self.search = None;
                        self.buf.clear();
                        self.cur = 0;
                        return Edit::Discard;
                    }
                    0x12 => return Edit::Pending,
                    _ => {}
                }
            }
            // Any other key accepts the match, then acts normally.
            self.accept_search();
        }
        if key.len() == 1 {
            return self.control_or_char(key[0]);
        }
        self.escape_sequence(key);
        Edit::Pending
    }

    fn control_or_char(&mut self, c: u32) -> Edit {
        match c {
            CR | LF => return self.submit(),
            DEL | BS if self.cur > 0 => {
                self.buf.remove(self.cur - 1);
                self.cur -= 1;
            }
            0x15 => {
                self.buf.drain(..self.cur);
                self.cur = 0;
            }
            0x17 => {
                let s = self.word_start();
                self.buf.drain(s..self.cur);
                self.cur = s;
            }
            0x0B => self.buf.truncate(self.cur),
            0x03 => {
                self.buf.clear();
                self.cur = 0;
                self.hist_idx = None;
                return Edit::Discard;
            }
            0x01 => self.cur = 0,
            0x05 => self.cur = self.buf.len(),
            0x02 => self.cur = self.cur.saturating_sub(1),
            0x06 => self.cur = (self.cur + 1).min(self.buf.len()),
            0x04 if self.cur < self.buf.len() => {
                self.buf.remove(self.cur);
            }
            0x12 => self.search = Some(Vec::new()),
            TAB => {} // completion text arrives via `complete`
            c if c >= 0x20 => self.insert(&[c]),
            _ => {} // other control bytes (^L, ^G, NUL …) do not edit
        }
        Edit::Pending
    }

    fn escape_sequence(&mut self, key: &[u32]) {
        if is_key(key, "\x1b[200~") {
            self.in_paste = true;
        } else if is_key(key, "\x1b[201~") {
            self.in_paste = false;
        } else if is_key(key, "\x1b[A") || is_key(key, "\x1bOA") {
            if !self.history.is_empty() {
                let idx = match self.hist_idx {
                    None => self.history.len() - 1,
                    Some(i) => i.saturating_sub(1),
                };
                self.hist_idx = Some(idx);
                let line = self.history[idx].clone();
                self.load(line);
            }
        } else if is_key(key, "\x1b[B") || is_key(key, "\x1bOB") {
            if let Some(i) = self.hist_idx {
                if i + 1 < self.history.len() {
                    self.hist_idx = Some(i + 1);
                    let line = self.history[i + 1].clone();
                    self.load(line);
                } else {
                    self.hist_idx = None;
                    self.load(Vec::new());
                }
            }
        } else if is_key(key, "\x1b[C") || is_key(key, "\x1bOC") {
            self.cur = (self.cur + 1).min(self.buf.len());
        } else if is_key(key, "\x1b[D") || is_key(key, "\x1bOD") {
            self.cur = self.cur.saturating_sub(1);
        } else if is_key(key, "\x1b[H") || is_key(key, "\x1bOH") || is_key(key, "\x1b[1~") {
            self.cur = 0;
        } else if is_key(key, "\x1b[F") || is_key(key, "\x1bOF") || is_key(key, "\x1b[4~") {
            self.cur = self.buf.len();
        } else if is_key(key, "\x1b[3~") {
            if self.cur < self.buf.len() {
                self.buf.remove(self.cur);
            }
        } else if is_key(key, "\x1bd") {
            let e = self.word_end();
            self.buf.drain(self.cur..e);
        } else if is_key(key, "\x1b\x7f") || is_key(key, "\x1b\x08") {
            let s = self.word_start();
            self.buf.drain(s..self.cur);
            self.cur = s;
        } else if is_key(key, "\x1bb") {
            self.cur = self.word_start();
        } else if is_key(key, "\x1bf") {
            self.cur = self.word_end();
        } else if is_key(key, "\x1b.") {
            let last_word: Vec<u32> = self
                .history
                .last()
                .map(|h| {
                    let end = h.iter().rposition(|&c| !is_py_ws(c)).map_or(0, |p| p + 1);
                    let start = h[..end]
                        .iter()
                        .rposition(|&c| is_py_ws(c))
                        .map_or(0, |p| p + 1);
                    h[start..end].to_vec()
                })
                .unwrap_or_default();
            self.insert(&last_word);
        }
        // Other sequences (F-keys, focus reports, terminal replies) do not edit.
    }
}

/// First whitespace-delimited token of a line (Python `strip().split()[0]`).
pub fn first_token(line: &[u32]) -> &[u32] {
    let start = line
        .iter()
        .position(|&c| !is_py_ws(c))
        .unwrap_or(line.len());
    let rest = &line[start..];
    let len = rest.iter().position(|&c| is_py_ws(c)).unwrap_or(rest.len());
    &rest[..len]
}

/// Maximum number of pipes in one pipeline of the line (registry note of
/// `pipe_chaining_depth`: "maximum depth of pipeline chains"). Quote- and
/// escape-aware; `||` is a logical OR, not a pipe; `|&` is a pipe; `;`,
/// `&`, `&&`, `||` and newlines start a new pipeline.
pub fn max_pipes(line: &[u32]) -> u32 {
    let (mut best, mut cur) = (0u32, 0u32);
    let (mut sq, mut dq, mut esc) = (false, false, false);
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        let next = line.get(i + 1).copied();
        if esc {
            esc = false;
        } else if sq {
            sq = c != u32::from(b'\'');
        } else if c == u32::from(b'\\') {
            esc = true;
        } else if dq {
            dq = c != u32::from(b'"');
        } else if c == u32::from(b'\'') {
            sq = true;
        } else if c == u32::from(b'"') {
            dq = true;
        } else if c == u32::from(b'|') {
            if next == Some(u32::from(b'|')) {
                best = best.max(cur);
                cur = 0;
                i += 1;
            } else {
                cur += 1;
            }
        } else if c == u32::from(b';') || c == u32::from(b'&') || c == LF {
            best = best.max(cur);
            cur = 0;
        }
        i += 1;
    }
    best.max(cur)
}

/// One submitted command line, reduced to what the primitives need.
#[derive(Debug, Clone, PartialEq)]
pub struct EditedCommand {
    /// Time of the first key that went into this line.
    pub start_ts: f64,
    /// Time of the Enter that submitted it.
    pub end_ts: f64,
    pub first_token: Vec<u32>,
    pub max_pipes: u32,
    pub tab_count: u32,
    pub shortcut_count: u32,
    /// The line came from history (up-arrow or ^R) — "route_around".
    pub recalled: bool,
    /// The line holds a pipeline or a command list (`|`, `;`, `&&`, `||`, `&`).
    pub compound: bool,
}

/// True when the line builds a pipeline or a command list outside quotes.
pub fn is_compound(line: &[u32]) -> bool {
    let (mut sq, mut dq, mut esc) = (false, false, false);
    for &c in line {
        if esc {
            esc = false;
        } else if sq {
            sq = c != u32::from(b'\'');
        } else if c == u32::from(b'\\') {
            esc = true;
        } else if dq {
            dq = c != u32::from(b'"');
        } else if c == u32::from(b'\'') {
            sq = true;
        } else if c == u32::from(b'"') {
            dq = true;
        } else if c == u32::from(b'|') || c == u32::from(b';') || c == u32::from(b'&') {
            return true;
        }
    }
    false
}

/// Editing-mode evidence (see `features::editing_mode`), counted on keys
/// that reached the shell's line editor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditingEvidence {
    pub vi: u32,
    pub emacs: u32,
}

/// Segmentation result: the command lines and the editing-mode evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segmentation {
    pub commands: Vec<EditedCommand>,
    pub editing: EditingEvidence,
}

/// vi command-mode keys that follow a lone Escape (registry note:
/// h/j/k/l/w/b/0/$ motions and c/d edits such as cw, dd, ciw).
const VI_AFTER_ESC: &str = "hjklwb0$cdxeBWE^";

/// Emacs-only bindings: ^A ^E ^B ^F ^K.
const EMACS_CTRL: [u32; 5] = [0x01, 0x05, 0x02, 0x06, 0x0B];

fn mode_command(line: &[u32]) -> Option<bool> {
    let text: String = line.iter().filter_map(|&c| char::from_u32(c)).collect();
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["set", "-o", "vi"] | ["bindkey", "-v"] => Some(true),
        ["set", "-o", "emacs"] | ["bindkey", "-e"] => Some(false),
        _ => None,
    }
}

/// One event as the segmenter sees it: `(t, is_input, data)`.
pub type SegEvent<'a> = (f64, bool, &'a [u32]);

fn contains_seq(hay: &[u32], needle: &str) -> Option<usize> {
    let n: Vec<u32> = needle.bytes().map(u32::from).collect();
    hay.windows(n.len()).rposition(|w| w == n.as_slice())
}

/// Tracks whether a full-screen program holds the alternate screen, from
/// the output stream; markers split across events still count.
#[derive(Debug, Default)]
struct AltScreen {
    on: bool,
    tail: Vec<u32>,
}

impl AltScreen {
    fn feed(&mut self, data: &[u32]) {
        let mut hay = std::mem::take(&mut self.tail);
        hay.extend_from_slice(data);
        let mut last_on = None;
        let mut last_off = None;
        for m in ["\x1b[?1049h", "\x1b[?1047h", "\x1b[?47h"] {
            last_on = last_on.max(contains_seq(&hay, m));
        }
        for m in ["\x1b[?1049l", "\x1b[?1047l", "\x1b[?47l"] {
            last_off = last_off.max(contains_seq(&hay, m));
        }
        match (last_on, last_off) {
            (Some(a), Some(b)) => self.on = a > b,
            (Some(_), None) => self.on = true,
            (None, Some(_)) => self.on = false,
            (None, None) => {}
        }
        let keep = hay.len().saturating_sub(8);
        self.tail = hay[keep..].to_vec();
    }
}

/// Text a Tab completion inserted: the shell's echo after the Tab, when it
/// is plain printable text (BEL removed). A listing of candidates (newline,
/// escape sequences) inserts nothing.
fn completion_from_echo(echo: &[u32]) -> Option<Vec<u32>> {
    let text: Vec<u32> = echo.iter().copied().filter(|&c| c != BEL).collect();
    if text.iter().all(|&c| c >= 0x20 && c != DEL) {
        Some(text)
    } else {
        None
    }
}

/// Segments a session into the command lines the shell ran, in event
/// order. Inputs feed the line editor; outputs are watched for the
/// alternate screen and for Tab-completion echoes.
pub fn segment<'a>(events: impl IntoIterator<Item = SegEvent<'a>>) -> Segmentation {
    let mut editing = EditingEvidence::default();
    let mut after_lone_esc = false;
    let mut ed = LineEditor::new();
    let mut alt = AltScreen::default();
    let mut out = Vec::new();
    let mut start: Option<f64> = None;
    let (mut tabs, mut shortcuts) = (0u32, 0u32);
    let mut recalled = false;
    let mut echo: Option<Vec<u32>> = None; // collecting after a Tab
    for (t, is_input, data) in events {
        if !is_input {
            alt.feed(data);
            if let Some(e) = echo.as_mut() {
                e.extend_from_slice(data);
            }
            continue;
        }
        if let Some(e) = echo.take() {
            if let Some(ins) = completion_from_echo(&e) {
                ed.complete(&ins);
            }
        }
        if alt.on {
            continue;
        }
        if data == [ESC] {
            after_lone_esc = true;
            continue;
        }
        if after_lone_esc {
            after_lone_esc = false;
            if let Some(&c) = data.first() {
                if VI_AFTER_ESC.chars().any(|v| u32::from(v) == c) {
                    editing.vi += 1;
                }
            }
        }
        for key in split_keys(data) {
            if key.len() == 1 && EMACS_CTRL.contains(&key[0]) && !ed.in_paste {
                editing.emacs += 1;
            }
            if key.len() == 2
                && key[0] == ESC
                && [
                    u32::from(b'b'),
                    u32::from(b'f'),
                    u32::from(b'd'),
                    DEL,
                    u32::from(b'.'),
                ]
                .contains(&key[1])
            {
                editing.emacs += 1;
            }
            let is_enter = key.len() == 1 && (key[0] == CR || key[0] == LF);
            if start.is_none() && !is_enter {
                start = Some(t);
            }
            if key.len() == 1 {
                if key[0] == TAB && !ed.in_paste {
                    tabs += 1;
                    echo = Some(Vec::new());
                } else if SHORTCUT_CTRL.contains(&key[0]) {
                    shortcuts += 1;
                }
                if key[0] == 0x12 {
                    recalled = true;
                }
            } else if is_key(key, "\x1b[A") || is_key(key, "\x1bOA") {
                recalled = true;
            }
            match ed.key(key) {
                Edit::Pending => {}
                Edit::Discard => {
                    start = None;
                    tabs = 0;
                    shortcuts = 0;
                    recalled = false;
                }
                Edit::Submit(line) => {
                    match mode_command(&line) {
                        Some(true) => editing.vi += 2,
                        Some(false) => editing.emacs += 2,
                        None => {}
                    }
                    let tok = first_token(&line);
                    if !tok.is_empty() {
                        out.push(EditedCommand {
                            start_ts: start.unwrap_or(t),
                            end_ts: t,
                            first_token: tok.to_vec(),
                            max_pipes: max_pipes(&line),
                            tab_count: tabs,
                            shortcut_count: shortcuts,
                            recalled,
                            compound: is_compound(&line),
                        });
                    }
                    start = None;
                    tabs = 0;
                    shortcuts = 0;
                    recalled = false;
                }
            }
        }
    }
    Segmentation {
        commands: out,
        editing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(s: &str) -> Vec<u32> {
        s.chars().map(u32::from).collect()
    }

    fn s(v: &[u32]) -> String {
        v.iter().filter_map(|&c| char::from_u32(c)).collect()
    }

    /// Runs typed keystrokes (one event each, 0.1 s apart) through `segment`.
    fn run(events: &[(bool, &str)]) -> Vec<(String, u32)> {
        let data: Vec<(f64, bool, Vec<u32>)> = events
            .iter()
            .enumerate()
            .map(|(i, (inp, d))| (i as f64 * 0.1, *inp, cp(d)))
            .collect();
        segment(data.iter().map(|(t, i, d)| (*t, *i, d.as_slice())))
            .commands
            .into_iter()
            .map(|c| (s(&c.first_token), c.max_pipes))
            .collect()
    }

    fn keys(s: &str) -> Vec<(bool, &str)> {
        // one key per event; escape sequences written as whole events elsewhere
        s.char_indices()
            .map(|(i, c)| (true, &s[i..i + c.len_utf8()]))
            .collect()
    }

    #[test]
    fn ctrl_c_discards_the_line() {
        let mut ev = keys("rm -rf /");
        ev.push((true, "\x03"));
        ev.extend(keys("ls\r"));
        assert_eq!(run(&ev), vec![("ls".to_string(), 0)]);
    }

    #[test]
    fn backspace_ctrl_u_ctrl_w_edit_before_the_token_is_taken() {
        assert_eq!(run(&keys("sl\x7f\x7fls -l\r"))[0].0, "ls");
        assert_eq!(run(&keys("cat x\x15id\r"))[0].0, "id");
        assert_eq!(run(&keys("cta\x17cat f\r"))[0].0, "cat");
    }

    #[test]
    fn history_recall_reuses_the_previous_line() {
        let mut ev = keys("cat /etc/passwd\r");
        ev.push((true, "\x1b[A"));
        ev.push((true, "\x17"));
        ev.extend(keys("/etc/group\r"));
        let got = run(&ev);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, "cat");
    }

    #[test]
    fn ctrl_a_and_meta_d_fix_the_command_name() {
        let mut ev = keys("sl -la\r");
        ev.push((true, "\x1b[A"));
        ev.push((true, "\x01"));
        ev.push((true, "\x1bd"));
        ev.extend(keys("ls\r"));
        let got = run(&ev);
        assert_eq!(got[1].0, "ls");
    }

    #[test]
    fn reverse_search_runs_the_matched_line() {
        let mut ev = keys("grep -r pass /opt\r");
        ev.extend(keys("id\r"));
        ev.push((true, "\x12"));
        ev.extend(keys("gre"));
        ev.push((true, "\r"));
        let got = run(&ev);
        assert_eq!(
            got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
            ["grep", "id", "grep"]
        );
    }

    #[test]
    fn tab_completion_inserts_the_echoed_text() {
        let ev = vec![
            (true, "c"),
            (true, "a"),
            (true, "\t"),
            (false, "t "),
            (true, "f"),
            (true, "\r"),
        ];
        assert_eq!(run(&ev)[0].0, "cat");
        // a candidate listing inserts nothing
        let ev = vec![
            (true, "c"),
            (true, "\t"),
            (false, "\r\ncat  cd\r\n$ c"),
            (true, "d"),
            (true, "\r"),
        ];
        assert_eq!(run(&ev)[0].0, "cd");
    }

    #[test]
    fn keys_sent_to_a_full_screen_program_are_not_commands() {
        let ev = vec![
            (true, "less f\r"),
            (false, "\x1b[?1049h..."),
            (true, " "),
            (true, "q"),
            (false, "\x1b[?1049l$ "),
            (true, "id\r"),
        ];
        let got = run(&ev);
        assert_eq!(
            got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
            ["less", "id"]
        );
    }

    #[test]
    fn arrow_keys_never_become_tokens() {
        let ev = vec![(true, "\x1b[A"), (true, "\x1b[B"), (true, "id\r")];
        assert_eq!(run(&ev)[0].0, "id");
    }

    #[test]
    fn blank_lines_are_not_commands() {
        assert!(run(&keys("  \r\r")).is_empty());
    }

    #[test]
    fn bracketed_paste_inserts_literally() {
        let ev = vec![(true, "\x1b[200~cat a\tb | wc\x1b[201~"), (true, "\r")];
        assert_eq!(run(&ev), vec![("cat".to_string(), 1)]);
    }

    #[test]
    fn max_pipes_counts_pipes_in_one_pipeline() {
        assert_eq!(max_pipes(&cp("a | b | c; d | e")), 2);
        assert_eq!(max_pipes(&cp("a || b")), 0);
        assert_eq!(max_pipes(&cp("grep 'a|b' x | wc")), 1);
        assert_eq!(max_pipes(&cp("a |& b")), 1);
        assert_eq!(max_pipes(&cp("a|b|c|d|e")), 4);
        assert_eq!(max_pipes(&cp("echo \\| x")), 0);
    }

    #[test]
    fn split_keys_keeps_sequences_whole() {
        let d = cp("a\x1b[1;5Cb\x1bOAc\x1bd");
        let k: Vec<String> = split_keys(&d).iter().map(|k| s(k)).collect();
        assert_eq!(k, ["a", "\x1b[1;5C", "b", "\x1bOA", "c", "\x1bd"]);
    }

    #[test]
    fn start_and_end_times_and_counters() {
        let data = [
            (1.0, true, cp("l")),
            (1.2, true, cp("s")),
            (1.3, true, cp("\x01")),
            (1.5, true, cp("\r")),
        ];
        let seg = segment(data.iter().map(|(t, i, d)| (*t, *i, d.as_slice())));
        assert_eq!(seg.editing, EditingEvidence { vi: 0, emacs: 1 });
        let got = seg.commands;
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].start_ts, got[0].end_ts, got[0].shortcut_count),
            (1.0, 1.5, 1)
        );
    }

    #[test]
    fn vi_evidence_from_lone_escape_and_set_o_vi() {
        let data = [
            (0.0, true, cp("set -o vi\r")),
            (1.0, true, cp("l")),
            (1.1, true, cp("s")),
            (1.2, true, cp("\x1b")),
            (1.4, true, cp("b")),
            (1.6, true, cp("\r")),
        ];
        let seg = segment(data.iter().map(|(t, i, d)| (*t, *i, d.as_slice())));
        assert_eq!(seg.editing, EditingEvidence { vi: 3, emacs: 0 });
        // vim's ESC :q! inside the alternate screen is not line editing
        let data = [
            (0.0, true, cp("vim f\r")),
            (0.1, false, cp("\x1b[?1049h")),
            (1.0, true, cp("\x1b")),
            (1.1, true, cp("k")),
            (1.2, false, cp("\x1b[?1049l$ ")),
        ];
        let seg = segment(data.iter().map(|(t, i, d)| (*t, *i, d.as_slice())));
        assert_eq!(seg.editing, EditingEvidence::default());
    }

    #[test]
    fn recall_and_compound_flags() {
        let data = [
            (0.0, true, cp("ls | wc\r")),
            (1.0, true, cp("\x1b[A")),
            (1.2, true, cp("\r")),
            (2.0, true, cp("echo 'a;b'\r")),
        ];
        let c = segment(data.iter().map(|(t, i, d)| (*t, *i, d.as_slice()))).commands;
        assert_eq!(
            c.iter()
                .map(|c| (c.recalled, c.compound))
                .collect::<Vec<_>>(),
            [(false, true), (true, true), (false, false)]
        );
        assert!(is_compound(&cp("a && b")) && !is_compound(&cp("a \\; b")));
    }
}
