//! Referrals (contacts): information received about a child, and the front-door decision.

use crate::error::Rejection;
use crate::event::Event;
use crate::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use crate::text::Reason;
use jiff::Timestamp;

pub mod intake;

// Declared beside `Event`, which carries them, so events need not import the rules that emit them.
pub use crate::event::referrals::{Category, Decision, ReferralSource};

/// Parses a non-empty set of categories, sorted and without repeats.
pub fn parse_categories<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Category>, String> {
    let mut out = Vec::new();
    for s in raw.iter().map(AsRef::as_ref).filter(|s| !s.trim().is_empty()) {
        out.push(Category::parse(s)?);
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err("choose at least one category: physical, neglect, sexual or emotional".into());
    }
    Ok(out)
}

/// A referral as the decision rules need to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralState {
    /// Which referral.
    pub id: ReferralId,
    /// The team whose front door received it.
    pub team: TeamId,
    /// When it was received.
    pub received_at: Timestamp,
    /// The children it is about.
    pub children: Vec<PersonId>,
    /// The decision, once made.
    pub decision: Option<Decision>,
}

/// Decides a referral: records the decision and, when it calls for one, opens a case for
/// each child who has none open (or links the referral to the open one).
///
/// `open_cases` gives each child's open case, if any; `new_case_ids` supplies ids for
/// the cases this opens (the caller allocates one per child without an open case).
pub fn decide(
    referral: &ReferralState,
    decision: Decision,
    reason: Reason,
    by: StaffId,
    now: Timestamp,
    open_cases: &[(PersonId, Option<CaseId>)],
    new_case_ids: &[CaseId],
) -> Result<Vec<Event>, Rejection> {
    if let Some(existing) = referral.decision {
        return Err(Rejection::conflict(
            "decision",
            format!(
                "{} was already decided ({}); record a new referral or concern instead",
                referral.id.reference(),
                existing.code()
            ),
        ));
    }
    let mut events = vec![Event::ReferralDecided { referral: referral.id, decision, reason, by, at: now }];
    if decision.opens_case() {
        let mut fresh = new_case_ids.iter();
        for child in &referral.children {
            let open = open_cases.iter().find(|(c, _)| c == child).and_then(|(_, case)| *case);
            match open {
                Some(case) => events.push(Event::ReferralLinkedToCase { referral: referral.id, case, child: *child }),
                None => {
                    let Some(case) = fresh.next() else {
                        return Err(Rejection::Conflict {
                            field: None,
                            message: "not enough case ids were allocated".into(),
                        });
                    };
                    events.push(Event::CaseOpened {
                        case: *case,
                        child: *child,
                        team: referral.team,
                        referral: referral.id,
                        at: now,
                    });
                }
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referral(children: &[i64]) -> ReferralState {
        ReferralState {
            id: ReferralId(1),
            team: TeamId(1),
            received_at: "2026-03-02T09:00:00Z".parse().unwrap(),
            children: children.iter().map(|c| PersonId(*c)).collect(),
            decision: None,
        }
    }

    fn now() -> Timestamp {
        "2026-03-02T11:00:00Z".parse().unwrap()
    }

    #[test]
    fn categories_parse_to_a_sorted_set() {
        assert_eq!(
            parse_categories(&["neglect", "physical", "neglect"]),
            Ok(vec![Category::Physical, Category::Neglect])
        );
        assert!(parse_categories::<&str>(&[]).unwrap_err().contains("at least one"));
        assert!(parse_categories(&["bruises"]).unwrap_err().contains("physical"));
    }

    #[test]
    fn an_assessment_opens_a_case_per_child_without_one() {
        let events = decide(
            &referral(&[10, 11]),
            Decision::Assessment,
            Reason::parse("needs assessing").unwrap(),
            StaffId(2),
            now(),
            &[(PersonId(10), Some(CaseId(5))), (PersonId(11), None)],
            &[CaseId(6)],
        )
        .unwrap();
        assert_eq!(events.len(), 3);
        assert!(matches!(events[1], Event::ReferralLinkedToCase { case: CaseId(5), .. }));
        assert!(matches!(events[2], Event::CaseOpened { case: CaseId(6), child: PersonId(11), .. }));
    }

    #[test]
    fn nfa_opens_nothing_and_a_decided_referral_cannot_be_decided_again() {
        let events = decide(
            &referral(&[10]),
            Decision::Nfa,
            Reason::parse("no concerns found").unwrap(),
            StaffId(2),
            now(),
            &[(PersonId(10), None)],
            &[],
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        let mut decided = referral(&[10]);
        decided.decision = Some(Decision::Nfa);
        let err = decide(&decided, Decision::Assessment, Reason::parse("x").unwrap(), StaffId(2), now(), &[], &[])
            .unwrap_err();
        assert!(matches!(err, Rejection::Conflict { field: Some(f), .. } if f == "decision"));
    }
}
