//! Command-token sets and sentiment lexemes (engine.md §7), as data.
//!
//! The reference compares SHA-256 hashes of first tokens against hashed
//! sets; comparing raw first tokens for equality is equivalent, so the
//! context keeps each command's first token (crate-private) and these
//! sets are plain byte strings.

/// Intent labels in precedence order (operational.objective, §5.31).
pub const INTENT_SETS: [(&str, &[&str]); 5] = [
    (
        "destructive",
        &[
            "rm", "dd", "mkfs", "shred", "wipe", "kill", "pkill", "killall", "truncate", "fdisk",
        ],
    ),
    (
        "persistence",
        &[
            "crontab",
            "systemctl",
            "useradd",
            "usermod",
            "passwd",
            "chsh",
            "at",
            "service",
            "chkconfig",
            "update-rc.d",
            "authorized_keys",
        ],
    ),
    (
        "exfil",
        &[
            "curl", "wget", "scp", "rsync", "nc", "ncat", "socat", "tar", "base64", "xxd",
            "python", "python3", "openssl",
        ],
    ),
    (
        "lateral",
        &[
            "ssh",
            "telnet",
            "rsh",
            "rlogin",
            "ftp",
            "sftp",
            "mosh",
            "kubectl",
            "docker",
            "psql",
            "mysql",
            "redis-cli",
        ],
    ),
    (
        "recon",
        &[
            "ls", "pwd", "whoami", "id", "uname", "ps", "netstat", "ss", "cat", "find", "which",
            "env", "printenv", "hostname", "w", "who", "date", "uptime", "df", "du", "free",
            "lsof", "lsblk",
        ],
    ),
];

/// Tokens that show history/environment awareness (opsec_discipline).
pub const OPSEC_HISTORY_TOKENS: &[&str] = &["history", "unset", "export", "set", "script"];
/// Cleanup tokens (exit_behavior, opsec_discipline, cleanup_behavior).
pub const CLEANUP_TOKENS: &[&str] = &["history", "unset", "rm", "shred", "clear", "kill"];
/// Graceful exit tokens (exit_behavior).
pub const GRACEFUL_EXIT_TOKENS: &[&str] = &["exit", "logout", "quit", "logoff"];
/// Landing-ritual tokens (landing_ritual).
pub const LANDING_RITUAL_TOKENS: &[&str] =
    &["uname", "id", "whoami", "pwd", "hostname", "w", "who"];
/// Help family (fallback_to_man).
pub const HELP_TOKENS: &[&str] = &["man", "help", "info"];

/// Positive lexemes, matched as typed-word suffixes (§3.10).
pub const POSITIVE_LEXEMES: &[&str] = &[
    "thanks", "nice", "cool", "great", "okay", "perfect", "love", "awesome",
];
/// Negative lexemes.
pub const NEGATIVE_LEXEMES: &[&str] = &[
    "wtf", "damn", "crap", "ugh", "broken", "stupid", "hate", "stuck", "wrong",
];
/// Obscenity lexemes (checked first).
pub const OBSCENITY_LEXEMES: &[&str] = &[
    "fuck", "fucking", "fucked", "shit", "bitch", "ass", "cunt", "dick", "asshole",
];

/// Is the code-point token equal to one of the ASCII words?
pub fn token_in(token: &[u32], set: &[&str]) -> bool {
    set.iter()
        .any(|w| w.len() == token.len() && w.bytes().zip(token).all(|(b, &c)| u32::from(b) == c))
}

/// The first of [`INTENT_SETS`] (in precedence order) holding the
/// code-point token: what scanning the sets in order with [`token_in`]
/// gives, by one binary search over every intent word (the scans were most
/// of `operational.objective`'s cost).
pub fn intent_of(token: &[u32]) -> Option<usize> {
    let key = word_key(token.iter().copied(), token.len())?;
    let words = intent_words();
    words
        .binary_search_by_key(&key, |&(k, _)| k)
        .ok()
        .map(|at| words[at].1)
}

/// Longest word [`word_key`] packs (no intent word is longer).
const WORD_KEY_MAX: usize = 15;

/// A word of at most [`WORD_KEY_MAX`] ASCII code points as one integer:
/// its bytes and, in the top byte, its length (so a trailing NUL is not
/// padding). `None` for anything longer or not ASCII, which no set holds.
fn word_key(word: impl Iterator<Item = u32>, len: usize) -> Option<u128> {
    if len > WORD_KEY_MAX {
        return None;
    }
    let mut key = (len as u128) << 120;
    for (k, c) in word.enumerate() {
        let b = u8::try_from(c).ok().filter(u8::is_ascii)?;
        key |= u128::from(b) << (8 * k);
    }
    Some(key)
}

/// Every intent word's key with its set, sorted by key; a word in two sets
/// keeps the first.
fn intent_words() -> &'static [(u128, usize)] {
    static WORDS: std::sync::LazyLock<Vec<(u128, usize)>> = std::sync::LazyLock::new(|| {
        let mut v: Vec<(u128, usize)> = Vec::new();
        for (k, (_, set)) in INTENT_SETS.iter().enumerate() {
            for w in set.iter() {
                if let Some(key) = word_key(w.bytes().map(u32::from), w.len()) {
                    v.push((key, k));
                }
            }
        }
        // Stable: among equal keys the earlier set stays first.
        v.sort_by_key(|&(key, _)| key);
        v.dedup_by_key(|&mut (key, _)| key);
        v
    });
    &WORDS
}

/// Which lexicon a word suffix (lowercase ASCII bytes) belongs to, in the
/// reference's check order: obscenity, then positive, then negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lexeme {
    Obscenity,
    Positive,
    Negative,
}

/// Whole-word lexeme match (profile `behave-0.1.4`, D-LEXICON), in the
/// same check order as [`match_suffix`].
pub fn match_word(word: &[u8]) -> Option<Lexeme> {
    let is = |set: &[&str]| set.iter().any(|w| w.as_bytes() == word);
    if is(OBSCENITY_LEXEMES) {
        Some(Lexeme::Obscenity)
    } else if is(POSITIVE_LEXEMES) {
        Some(Lexeme::Positive)
    } else if is(NEGATIVE_LEXEMES) {
        Some(Lexeme::Negative)
    } else {
        None
    }
}

/// Longest-suffix lexeme match of a typed word (≤ 7 lowercase letters).
pub fn match_suffix(word: &[u8]) -> Option<Lexeme> {
    let max = word.len().min(crate::thresholds::LEXEME_MAX_LEN);
    for k in (1..=max).rev() {
        let s = &word[word.len() - k..];
        let hit = |set: &[&str]| set.iter().any(|w| w.as_bytes() == s);
        if hit(OBSCENITY_LEXEMES) {
            return Some(Lexeme::Obscenity);
        }
        if hit(POSITIVE_LEXEMES) {
            return Some(Lexeme::Positive);
        }
        if hit(NEGATIVE_LEXEMES) {
            return Some(Lexeme::Negative);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary search gives what scanning the sets in order gives, for
    /// every set word, its neighbours and some tokens no set holds.
    #[test]
    fn intent_of_equals_the_ordered_scan() {
        let scan = |t: &[u32]| INTENT_SETS.iter().position(|(_, set)| token_in(t, set));
        let cp = |s: &str| s.chars().map(u32::from).collect::<Vec<u32>>();
        let mut tokens: Vec<Vec<u32>> = Vec::new();
        for (_, set) in INTENT_SETS.iter() {
            for w in set.iter() {
                let t = cp(w);
                tokens.push(t.clone());
                tokens.push(t[..t.len() - 1].to_vec());
                let mut longer = t.clone();
                longer.push(0);
                tokens.push(longer);
                let mut upper = t.clone();
                upper[0] ^= 0x20;
                tokens.push(upper);
                let mut wide = t.clone();
                wide[0] += 0x100;
                tokens.push(wide);
            }
        }
        for w in [
            "",
            "ls",
            "r",
            "rmm",
            "authorized_keys_",
            "\u{e9}",
            "xxxxxxxxxxxxxxxxxxxxxxxx",
        ] {
            tokens.push(cp(w));
        }
        for t in &tokens {
            assert_eq!(intent_of(t), scan(t), "{t:?}");
        }
        assert!(INTENT_SETS
            .iter()
            .all(|(_, set)| set.iter().all(|w| w.len() <= WORD_KEY_MAX && w.is_ascii())));
    }

    #[test]
    fn longest_suffix_wins_once() {
        assert_eq!(match_suffix(b"fucking"), Some(Lexeme::Obscenity));
        assert_eq!(match_suffix(b"bypass"), Some(Lexeme::Obscenity));
        assert_eq!(match_suffix(b"through"), Some(Lexeme::Negative));
        assert_eq!(match_suffix(b"glove"), Some(Lexeme::Positive));
        assert_eq!(match_suffix(b"hello"), None);
        assert!(token_in(&[0x6C, 0x73], INTENT_SETS[4].1));
    }
}
