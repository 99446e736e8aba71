//! The words of a referral on its events: where it came from, its categories and the decision.

use crate::code::code_enum;

code_enum!(
    /// Who the information came from.
    ReferralSource {
        /// Police.
        Police = "police",
        /// A school or education service.
        School = "school",
        /// Health services.
        Health = "health",
        /// A relative or carer.
        Relative = "relative",
        /// A neighbour or acquaintance.
        Neighbour = "neighbour",
        /// Anonymous.
        Anonymous = "anonymous",
        /// The child or young person themselves.
        SelfReferral = "self",
        /// Anyone else.
        Other = "other",
    }
);

code_enum!(
    /// A category of concern (the four categories of abuse).
    Category {
        /// Physical abuse.
        Physical = "physical",
        /// Neglect.
        Neglect = "neglect",
        /// Sexual abuse.
        Sexual = "sexual",
        /// Emotional abuse.
        Emotional = "emotional",
    }
);

code_enum!(
    /// What the front door decides to do with a referral.
    Decision {
        /// No further action.
        Nfa = "nfa",
        /// Support below the statutory threshold.
        EarlyHelp = "early_help",
        /// A child and family assessment: opens a case.
        Assessment = "assessment",
        /// A strategy discussion (reasonable cause to suspect significant harm): opens a case.
        StrategyDiscussion = "strategy_discussion",
    }
);

impl Decision {
    /// Whether this decision opens a case for each child.
    pub fn opens_case(self) -> bool {
        matches!(self, Decision::Assessment | Decision::StrategyDiscussion)
    }

    /// Words for a page.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Nfa => "No further action",
            Decision::EarlyHelp => "Early help",
            Decision::Assessment => "Child and family assessment",
            Decision::StrategyDiscussion => "Strategy discussion",
        }
    }
}
