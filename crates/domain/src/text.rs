//! Free text that people type: trimmed, required and bounded.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $max:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest text accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims `raw`; refuses it when empty or longer than [`Self::MAX_CHARS`].
            pub fn parse(raw: &str) -> Result<Self, String> {
                let t = raw.trim();
                if t.is_empty() {
                    return Err(format!("enter {}", $what));
                }
                let n = t.chars().count();
                if n > $max {
                    return Err(format!("{} must be {} characters or fewer (it has {n})", capitalise($what), $max));
                }
                if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                    return Err(format!("{} contains a control character", capitalise($what)));
                }
                Ok(Self(t.to_string()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

text_type!(
    /// The reason for a decision, recorded on the trail.
    Reason, 4000, "the reason");
text_type!(
    /// What a referrer or partner is worried about.
    ConcernText, 20000, "the concern");
text_type!(
    /// A case note or a visit note.
    NoteText, 20000, "the note");
text_type!(
    /// A person's or organisation's name as free text (e.g. the referrer).
    FreeName, 200, "a name");
text_type!(
    /// A short label (team name, token name).
    Label, 100, "a name");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_required_and_bounded() {
        assert_eq!(Reason::parse("  needs assessment ").unwrap().as_str(), "needs assessment");
        assert_eq!(Reason::parse("   ").unwrap_err(), "enter the reason");
        let long = "x".repeat(Reason::MAX_CHARS + 1);
        assert!(Reason::parse(&long).unwrap_err().contains("4000 characters or fewer"));
        assert!(Reason::parse("a\u{0007}b").is_err());
        assert!(NoteText::parse("line one\nline two").is_ok());
    }
}
