//! Professional disagreements: a partner agency disputes the decision on a referral it
//! made, and the disagreement escalates in stages like any other trigger.

use crate::error::Rejection;
use crate::event::Event;
use crate::ids::StaffId;
use crate::referral::ReferralState;
use crate::text::ConcernText;
use jiff::Timestamp;

/// Raises a disagreement about a decided referral the partner made. A referral someone
/// else made is "not found", so other agencies' referrals stay undiscoverable.
pub fn raise(
    disagreement: i64,
    referral: &ReferralState,
    made_by_them: bool,
    by: StaffId,
    text: ConcernText,
    at: Timestamp,
) -> Result<Event, Rejection> {
    if !made_by_them {
        return Err(Rejection::NotFound(referral.id.reference()));
    }
    if referral.decision.is_none() {
        return Err(Rejection::conflict("referral", "the referral has not been decided yet"));
    }
    Ok(Event::DisagreementRaised { disagreement, referral: referral.id, team: referral.team, by, text, at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{PersonId, ReferralId, TeamId};
    use crate::referral::Decision;

    #[test]
    fn only_the_partner_who_made_a_decided_referral_disagrees() {
        let at: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let text = || ConcernText::parse("the risk was not weighed").unwrap();
        let mut r = ReferralState {
            id: ReferralId(7),
            team: TeamId(1),
            received_at: at,
            children: vec![PersonId(3)],
            decision: None,
        };
        assert!(matches!(raise(1, &r, true, StaffId(9), text(), at), Err(Rejection::Conflict { .. })));
        r.decision = Some(Decision::Nfa);
        assert!(matches!(raise(1, &r, false, StaffId(9), text(), at), Err(Rejection::NotFound(_))));
        assert!(matches!(
            raise(1, &r, true, StaffId(9), text(), at),
            Ok(Event::DisagreementRaised { team: TeamId(1), .. })
        ));
    }
}
