//! The words of a case on its events: its stage, the plan a child is on, and threshold decisions.

use crate::code::code_enum;

code_enum!(
    /// Where a case stands.
    Stage {
        /// Being assessed after a referral.
        Assessment = "assessment",
        /// Child in need (s17) plan.
        Cin = "cin",
        /// Child protection plan.
        Cp = "cp",
        /// Looked after by the local authority.
        Lac = "lac",
        /// Closed.
        Closed = "closed",
    }
);

impl Stage {
    /// Words for a page.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Assessment => "Assessment",
            Stage::Cin => "Child in need",
            Stage::Cp => "Child protection",
            Stage::Lac => "Looked after",
            Stage::Closed => "Closed",
        }
    }
}

code_enum!(
    /// A plan a child can be on; it sets how often they must be seen.
    Plan {
        /// Child in need (s17).
        Cin = "cin",
        /// Child protection.
        Cp = "cp",
        /// Looked after.
        Lac = "lac",
    }
);

impl Plan {
    /// The case stage this plan puts the case at.
    pub fn stage(self) -> Stage {
        match self {
            Plan::Cin => Stage::Cin,
            Plan::Cp => Stage::Cp,
            Plan::Lac => Stage::Lac,
        }
    }

    /// The plan a stage means, if it is one.
    pub fn of_stage(stage: Stage) -> Option<Plan> {
        match stage {
            Stage::Cin => Some(Plan::Cin),
            Stage::Cp => Some(Plan::Cp),
            Stage::Lac => Some(Plan::Lac),
            Stage::Assessment | Stage::Closed => None,
        }
    }
}

code_enum!(
    /// Where a threshold decision was made.
    Forum {
        /// A strategy discussion (threshold for a s47 enquiry).
        StrategyDiscussion = "strategy_discussion",
        /// The legal gateway / PLO meeting (threshold for proceedings).
        LegalGateway = "legal_gateway",
    }
);

code_enum!(
    /// Whether the threshold was met.
    ThresholdOutcome {
        /// Met.
        Met = "met",
        /// Not met.
        NotMet = "not_met",
    }
);
