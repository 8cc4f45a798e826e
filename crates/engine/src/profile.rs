//! Engine profiles. Each deviation from the reference is one explicit branch
//! on the profile inside the primitive (or context step) it changes, listed
//! in docs/DEVIATIONS.md — never a second engine.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// The default: follows the BEHAVE-SHELL registry notes of behave-shell
    /// 0.1.4 where the reference contradicts them, fixes the reference's
    /// data-losing defects, adds the 0.1.4 primitives, epoch windows, the
    /// privacy rules and honest confidences (docs/DEVIATIONS.md, one row
    /// per difference).
    #[default]
    Behave014,
    /// Bit-exact with DECNET 1.2's Python engine (PyPI `decnet==1.0.0`),
    /// quirks of engine.md §9 included. Kept as the oracle and for
    /// side-by-side use.
    Decnet12,
}

impl Profile {
    pub const ALL: &'static [Profile] = &[Profile::Behave014, Profile::Decnet12];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Behave014 => "behave-0.1.4",
            Profile::Decnet12 => "decnet-1.2",
        }
    }

    /// True for the reference-exact profile.
    pub fn is_reference(self) -> bool {
        self == Profile::Decnet12
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown engine profile {0:?} (known: behave-0.1.4, decnet-1.2)")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .iter()
            .copied()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownProfile(s.to_string()))
    }
}
