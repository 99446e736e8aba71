//! Visits to a child, and whether the child was seen.

use crate::code::code_enum;

code_enum!(
    /// What happened at a visit.
    VisitOutcome {
        /// The child was seen, and seen alone.
        SeenAlone = "seen_alone",
        /// The child was seen, but not alone.
        Seen = "seen",
        /// The worker got in but did not see the child.
        NotSeen = "not_seen",
        /// The worker could not get in.
        NoAccess = "no_access",
    }
);

impl VisitOutcome {
    /// The child was seen (alone or not).
    pub fn saw_child(self) -> bool {
        matches!(self, VisitOutcome::SeenAlone | VisitOutcome::Seen)
    }

    /// Words for a page.
    pub fn label(self) -> &'static str {
        match self {
            VisitOutcome::SeenAlone => "Seen alone",
            VisitOutcome::Seen => "Seen (not alone)",
            VisitOutcome::NotSeen => "Not seen",
            VisitOutcome::NoAccess => "No access",
        }
    }
}
