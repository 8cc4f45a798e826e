//! No-echo input detection (profile `behave-0.1.4`; engine.md §9 items 19
//! and 20; docs/DEVIATIONS.md row D-NOECHO).
//!
//! When a program asks for a secret (sudo, su, ssh, mysql -p, gpg, git
//! credential prompts) the terminal stops echoing and whatever the operator
//! types until Enter is a password. The reference feeds those keystrokes to
//! every timing, lexical and SimHash feature — a 64-bit SimHash over
//! password digraphs permits dictionary confirmation, and a password typed
//! at the wrong prompt becomes a "first token". The default profile removes
//! them before the session context is built.
//!
//! Rule: an input event is *no-echo* when the output line on screen when it
//! arrives (text after the last CR/LF of the output so far, escape
//! sequences removed) is a secret prompt, or when an earlier input event
//! since that prompt was no-echo and no Enter (CR/LF) has been typed since.
//! The Enter that ends the secret is part of it. A secret prompt is a line
//! whose trimmed, ASCII-lowercased text ends with `:` and mentions
//! `password`, `passphrase`, `pass phrase`, `passcode` or `pin`.

const ESC: u32 = 0x1B;
const BEL: u32 = 0x07;
const CR: u32 = 0x0D;
const LF: u32 = 0x0A;
/// Longest prompt line kept for the test (code points).
const LINE_MAX: usize = 256;

fn is_ws(c: u32) -> bool {
    (0x1C..=0x1F).contains(&c) || char::from_u32(c).is_some_and(char::is_whitespace)
}

/// True when `line` (one output line, escape sequences removed) asks for a secret.
pub fn is_secret_prompt(line: &[u32]) -> bool {
    let end = line.iter().rposition(|&c| !is_ws(c)).map_or(0, |p| p + 1);
    let text: String = line[..end]
        .iter()
        .map(|&c| match char::from_u32(c) {
            Some(ch) if ch.is_ascii() => ch.to_ascii_lowercase(),
            _ => '\u{FFFD}',
        })
        .collect();
    if !text.ends_with(':') {
        return false;
    }
    let body = &text[..text.len() - 1];
    ["password", "passphrase", "pass phrase", "passcode"]
        .iter()
        .any(|w| body.contains(w))
        || body.trim_end().ends_with("pin")
}

/// Removes escape sequences (CSI, SS3, OSC/DCS strings, 2-byte ESC x) on
/// the fly, across event boundaries.
#[derive(Debug, Default)]
struct LineTracker {
    line: Vec<u32>,
    /// 0 = text, 1 = after ESC, 2 = in CSI, 3 = in string (OSC/DCS), 4 = ESC in string
    state: u8,
}

impl LineTracker {
    fn feed(&mut self, data: &[u32]) {
        for &c in data {
            match self.state {
                1 => {
                    self.state = match c {
                        0x5B => 2,                             // '['
                        0x5D | 0x50 | 0x58 | 0x5E | 0x5F => 3, // ] P X ^ _
                        _ => 0,
                    };
                }
                2 => {
                    if (0x40..=0x7E).contains(&c) {
                        self.state = 0;
                    }
                }
                3 => {
                    if c == BEL {
                        self.state = 0;
                    } else if c == ESC {
                        self.state = 4;
                    }
                }
                4 => self.state = if c == 0x5C { 0 } else { 3 },
                _ => {
                    if c == ESC {
                        self.state = 1;
                    } else if c == CR || c == LF {
                        self.line.clear();
                    } else if c == 0x08 {
                        self.line.pop();
                    } else if c >= 0x20 || c == 0x09 {
                        // Keep the last LINE_MAX code points, amortized O(1).
                        if self.line.len() >= 2 * LINE_MAX {
                            self.line.drain(..LINE_MAX);
                        }
                        self.line.push(c);
                    }
                }
            }
        }
    }
}

/// Per event, whether it is an input typed at a no-echo (secret) prompt.
/// Events are `(is_input, data)` in recorder order; outputs are never masked.
pub fn noecho_mask<'a>(events: impl IntoIterator<Item = (bool, &'a [u32])>) -> Vec<bool> {
    let mut screen = LineTracker::default();
    let mut hidden = false;
    let mut mask = Vec::new();
    for (is_input, data) in events {
        if !is_input {
            screen.feed(data);
            mask.push(false);
            continue;
        }
        if !hidden && is_secret_prompt(&screen.line) {
            hidden = true;
        }
        mask.push(hidden);
        if hidden && data.iter().any(|&c| c == CR || c == LF) {
            hidden = false;
            // The prompt has been answered; the next prompt must be printed anew.
            screen.line.clear();
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(s: &str) -> Vec<u32> {
        s.chars().map(u32::from).collect()
    }

    fn mask(ev: &[(bool, &str)]) -> Vec<bool> {
        let data: Vec<(bool, Vec<u32>)> = ev.iter().map(|(i, d)| (*i, cp(d))).collect();
        noecho_mask(data.iter().map(|(i, d)| (*i, d.as_slice())))
    }

    #[test]
    fn prompts() {
        for p in [
            "[sudo] password for root: ",
            "Password:",
            "root@10.0.0.2's password: ",
            "Enter passphrase for key '/root/.ssh/id_rsa': ",
            "Enter PEM pass phrase:",
            "Enter password: ",
            "Enter PIN: ",
        ] {
            assert!(is_secret_prompt(&cp(p)), "{p}");
        }
        for p in [
            "$ ",
            "root@web01:~/password# ",
            "password",
            "Name: ",
            "cat /etc/passwd: No such file",
        ] {
            assert!(!is_secret_prompt(&cp(p)), "{p}");
        }
    }

    #[test]
    fn secret_until_enter_is_masked() {
        let m = mask(&[
            (true, "sudo -i\r"),
            (false, "\r\n[sudo] password for bob: "),
            (true, "h"),
            (true, "unter2"),
            (true, "\r"),
            (false, "\r\nroot@h:~# "),
            (true, "id\r"),
        ]);
        assert_eq!(m, [false, false, true, true, true, false, false]);
    }

    #[test]
    fn prompt_split_across_events_and_colored() {
        let m = mask(&[
            (false, "\x1b[1mEnter pass"),
            (false, "word:\x1b[0m "),
            (true, "s3cret\r"),
            (true, "ls\r"),
        ]);
        assert_eq!(m, [false, false, true, false]);
    }

    #[test]
    fn normal_typing_is_kept() {
        let m = mask(&[
            (false, "$ "),
            (true, "l"),
            (false, "l"),
            (true, "s"),
            (true, "\r"),
        ]);
        assert!(m.iter().all(|&x| !x));
    }
}
