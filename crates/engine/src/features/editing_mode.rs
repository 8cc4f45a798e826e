//! `environmental.editing_mode` (registry 0.1.4; absent from the reference,
//! engine.md §9 item 10; docs/DEVIATIONS.md row D-NEW-EDITMODE).
//!
//! Registry note: "Inferred from modal keystrokes that are not commands:
//! Escape followed by h/j/k/l/w/b/0/$, 'cw'/'dd'/'ciw' edits, and the
//! absence of emacs bindings (Ctrl+A/Ctrl+E/Ctrl+W). unknown when the
//! session yields no editing keystrokes at all — do not default to emacs
//! on absence of evidence."
//!
//! The evidence is counted by the line editor ([`crate::line_editing`]) on
//! keys that reached the shell (keys sent to a full-screen program such as
//! vim are not line editing): a lone Escape key followed by a vi motion or
//! edit, and `set -o vi` / `bindkey -v`, are vi evidence; emacs-only
//! bindings (^A ^E ^B ^F ^K, Meta-b/f/d/DEL/.) and `set -o emacs` /
//! `bindkey -e` are emacs evidence. ^W/^U/^R work in both modes and decide
//! nothing.
pub use crate::thresholds::EDITING_MODE_MIN_SAMPLES;

pub use crate::line_editing::EditingEvidence;

/// `(value, confidence)`. Confidence follows the convention's rule 1:
/// fewer than 5 evidence keystrokes → at most 0.5; `unknown` (no editing
/// keystrokes at all) is a fact about the data at 1.0; contradictory
/// evidence (both modes seen) keeps the majority at 0.3.
pub fn classify(ev: EditingEvidence) -> (&'static str, f64) {
    let total = ev.vi + ev.emacs;
    if total == 0 {
        return ("unknown", 1.0);
    }
    let value = if ev.vi > ev.emacs { "vi" } else { "emacs" };
    let confidence = if ev.vi > 0 && ev.emacs > 0 {
        0.3
    } else if total < EDITING_MODE_MIN_SAMPLES {
        0.5
    } else {
        0.7
    };
    (value, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_evidence_is_unknown_never_emacs() {
        assert_eq!(classify(EditingEvidence::default()), ("unknown", 1.0));
    }

    #[test]
    fn clear_modes() {
        assert_eq!(classify(EditingEvidence { vi: 6, emacs: 0 }), ("vi", 0.7));
        assert_eq!(
            classify(EditingEvidence { vi: 0, emacs: 2 }),
            ("emacs", 0.5)
        );
        assert_eq!(
            classify(EditingEvidence { vi: 0, emacs: 9 }),
            ("emacs", 0.7)
        );
    }

    #[test]
    fn mixed_evidence_is_low_confidence() {
        assert_eq!(classify(EditingEvidence { vi: 3, emacs: 1 }), ("vi", 0.3));
        assert_eq!(
            classify(EditingEvidence { vi: 1, emacs: 1 }),
            ("emacs", 0.3)
        );
    }
}
