//! Receiving a referral: who it names, and the rules it must meet to be recorded.

use super::{Category, ReferralSource};
use crate::error::Rejection;
use crate::event::Event;
use crate::ids::{PersonId, ReferralId, StaffId, TeamId};
use crate::person::PersonDetails;
use crate::text::{ConcernText, FreeName};
use jiff::{SignedDuration, Timestamp};

/// A child named in a referral: someone already recorded, or someone new.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferralChild {
    /// Someone already recorded.
    Existing(PersonId),
    /// Someone new.
    New(PersonDetails),
}

/// A referral as parsed, before it is received.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReferral {
    /// The team whose front door receives it.
    pub team: TeamId,
    /// Where it came from.
    pub source: ReferralSource,
    /// Who made it, as told.
    pub referrer: Option<FreeName>,
    /// When it was received (none: now).
    pub received_at: Option<Timestamp>,
    /// The concern.
    pub concern: ConcernText,
    /// Categories of concern.
    pub categories: Vec<Category>,
    /// The children it names.
    pub children: Vec<ReferralChild>,
}

/// A child named in a referral as the store found them.
#[derive(Debug, Clone, PartialEq)]
pub enum NamedChild {
    /// Someone already recorded, and whether they are.
    Existing {
        /// Their id.
        person: PersonId,
        /// Whether there is such a person.
        on_record: bool,
    },
    /// Someone new, with the id they will have.
    New {
        /// Their new id.
        person: PersonId,
        /// What is known of them.
        details: PersonDetails,
    },
}

/// How far ahead of the clock a time received may be (clocks differ a little).
const CLOCK_SLACK: SignedDuration = SignedDuration::from_mins(5);

/// Receives a referral: registers the new children it names and records it. Refused when
/// the time received is in the future, the team does not exist, or a child named by id is
/// not on record or is named twice (each error names the field).
pub fn receive(
    referral: ReferralId,
    r: NewReferral,
    children: Vec<NamedChild>,
    team_exists: bool,
    recorded_by: StaffId,
    now: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    let received_at = r.received_at.unwrap_or(now);
    if received_at > now.checked_add(CLOCK_SLACK).unwrap_or(now) {
        return Err(Rejection::invalid("received_at", "the time received cannot be in the future"));
    }
    if !team_exists {
        return Err(Rejection::invalid("team", format!("there is no team {}", r.team)));
    }
    let mut events = vec![];
    let mut named = vec![];
    for (i, child) in children.into_iter().enumerate() {
        match child {
            NamedChild::Existing { person, on_record } => {
                if !on_record {
                    return Err(Rejection::invalid(
                        format!("children[{i}].person_id"),
                        format!("there is no person {}", person.reference()),
                    ));
                }
                if named.contains(&person) {
                    return Err(Rejection::invalid(format!("children[{i}].person_id"), "this child is named twice"));
                }
                named.push(person);
            }
            NamedChild::New { person, details } => {
                events.push(Event::PersonRegistered { person, details });
                named.push(person);
            }
        }
    }
    events.push(Event::ReferralReceived {
        referral,
        team: r.team,
        source: r.source,
        referrer: r.referrer,
        recorded_by,
        received_at,
        concern: r.concern,
        categories: r.categories,
        children: named,
    });
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn referral(received_at: Option<&str>) -> NewReferral {
        NewReferral {
            team: TeamId(1),
            source: ReferralSource::School,
            referrer: None,
            received_at: received_at.map(ts),
            concern: ConcernText::parse("bruising noticed").unwrap(),
            categories: vec![],
            children: vec![],
        }
    }

    fn known(id: i64, on_record: bool) -> NamedChild {
        NamedChild::Existing { person: PersonId(id), on_record }
    }

    fn field(r: Result<Vec<Event>, Rejection>) -> String {
        match r {
            Err(Rejection::Invalid(f)) => f[0].field.clone(),
            other => panic!("expected a bad field, got {other:?}"),
        }
    }

    #[test]
    fn a_referral_names_real_children_once_and_is_not_from_the_future() {
        let now = ts("2026-03-02T09:00:00Z");
        let ok = receive(ReferralId(1), referral(None), vec![known(3, true)], true, StaffId(2), now).unwrap();
        assert!(matches!(&ok[..], [Event::ReferralReceived { received_at, children, .. }]
            if *received_at == now && children == &[PersonId(3)]));
        let soon = referral(Some("2026-03-02T09:04:00Z"));
        assert!(receive(ReferralId(1), soon, vec![known(3, true)], true, StaffId(2), now).is_ok());
        let future = referral(Some("2026-03-02T09:06:00Z"));
        assert_eq!(field(receive(ReferralId(1), future, vec![known(3, true)], true, StaffId(2), now)), "received_at");
        assert_eq!(field(receive(ReferralId(1), referral(None), vec![known(3, true)], false, StaffId(2), now)), "team");
        let unknown = vec![known(3, true), known(4, false)];
        assert_eq!(
            field(receive(ReferralId(1), referral(None), unknown, true, StaffId(2), now)),
            "children[1].person_id"
        );
        let twice = vec![known(3, true), known(3, true)];
        assert_eq!(
            field(receive(ReferralId(1), referral(None), twice, true, StaffId(2), now)),
            "children[1].person_id"
        );
    }
}
