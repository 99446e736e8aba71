//! Identifiers of records. Numeric, allocated by the store inside the command's
//! transaction, so a fresh store (tests, simulations) numbers things deterministically.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(minimum = 1)]
        pub struct $name(pub i64);

        impl $name {
            /// The kind of record, as used for id counters and audit subjects.
            pub const KIND: &'static str = $kind;
            /// The short prefix people see in references (e.g. `R-12`).
            pub const PREFIX: &'static str = $prefix;

            /// The reference shown to people, e.g. `R-12`.
            pub fn reference(self) -> String {
                format!("{}-{}", $prefix, self.0)
            }

            /// The audit-log subject naming this record, e.g. `referral:12`.
            pub fn subject(self) -> String {
                format!("{}:{}", $kind, self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let digits = s.strip_prefix(concat!($prefix, "-")).unwrap_or(s);
                digits
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map($name)
                    .ok_or_else(|| format!("must be a {} reference such as {}-12", $kind, $prefix))
            }
        }
    };
}

id_type!(
    /// A person: a child or an adult at risk, or a family member.
    PersonId, "person", "P");
id_type!(
    /// A member of staff (including partner-agency users).
    StaffId, "staff", "S");
id_type!(
    /// A team.
    TeamId, "team", "T");
id_type!(
    /// A referral (contact) about one or more children.
    ReferralId, "referral", "R");
id_type!(
    /// A case: one child's episode of involvement.
    CaseId, "case", "C");
id_type!(
    /// A visit to a child.
    VisitId, "visit", "V");
id_type!(
    /// A case note.
    NoteId, "note", "N");
id_type!(
    /// An address held for a person.
    AddressId, "address", "A");
id_type!(
    /// A relationship between two people.
    RelationshipId, "relationship", "REL");
id_type!(
    /// A bearer token for the API.
    TokenId, "token", "K");
id_type!(
    /// One notification on its way out by one channel (an outbox row).
    DeliveryId, "delivery", "D");
id_type!(
    /// A pair of people the matching engine found may be one person, awaiting a manager.
    DuplicatePairId, "duplicate", "DUP");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        assert_eq!(ReferralId(12).reference(), "R-12");
        assert_eq!("R-12".parse::<ReferralId>(), Ok(ReferralId(12)));
        assert_eq!("12".parse::<ReferralId>(), Ok(ReferralId(12)));
        assert!("C-12".parse::<ReferralId>().is_err());
        assert!("0".parse::<CaseId>().is_err());
        assert_eq!(CaseId(3).subject(), "case:3");
    }
}
