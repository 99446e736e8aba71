//! The flags a child's record can carry, as named on the events that raise and clear them.

use crate::code::code_enum;

code_enum!(
    /// A pattern in a child's history that needs a practitioner's attention.
    Flag {
        /// On a child protection plan, the last visits saw the child but never alone.
        NotSeenAlone = "not_seen_alone",
        /// Several referrals in a year.
        RepeatReferrals = "repeat_referrals",
        /// Cooperation was a reason in a decision, and concerns kept coming.
        DisguisedCompliance = "disguised_compliance",
        /// Many concerns over two years, whatever each one's outcome.
        CumulativeHarm = "cumulative_harm",
    }
);

impl Flag {
    /// Words for a page.
    pub fn label(self) -> &'static str {
        match self {
            Flag::NotSeenAlone => "Not seen alone",
            Flag::RepeatReferrals => "Repeat referrals",
            Flag::DisguisedCompliance => "Possible disguised compliance",
            Flag::CumulativeHarm => "Cumulative harm",
        }
    }
}
