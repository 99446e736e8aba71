//! People recorded more than once: what a merge moves onto the person kept, and when a
//! merge must be refused.
//!
//! A merge never deletes: the duplicate's row stays, pointing at the person kept, and the
//! merge remembers exactly which records it moved ([`MovedRecords`]) so that an unmerge
//! moves exactly those back. Anything recorded against the person kept after the merge
//! stays with them.

use crate::Rejection;
use crate::ids::{CaseId, DuplicatePairId, PersonId, ReferralId};
use serde::{Deserialize, Serialize};

/// A pair of records the matching engine found may be one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundPair {
    /// The pair's place in the review queue.
    pub pair: DuplicatePairId,
    /// The earlier record.
    pub person_a: PersonId,
    /// The later record.
    pub person_b: PersonId,
    /// How likely they are one person (0–1).
    pub probability: f64,
    /// Which details agreed or differed, in words.
    pub evidence: String,
}

/// Which records a merge moved from the duplicate onto the person kept, by their keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedRecords {
    /// Referrals naming the duplicate.
    pub referrals: Vec<i64>,
    /// Cases, with their visits, notes, strategy discussions and conferences.
    pub cases: Vec<i64>,
    /// Addresses.
    pub addresses: Vec<i64>,
    /// Other names, by name and when they were recorded.
    pub aliases: Vec<MovedAlias>,
    /// Relationships recorded from the duplicate ("the duplicate is … of").
    pub relationships: Vec<i64>,
    /// Relationships recorded to the duplicate ("… is … of the duplicate").
    pub related: Vec<i64>,
    /// Threshold decisions.
    pub threshold_decisions: Vec<i64>,
    /// Concerns received.
    pub concerns: Vec<i64>,
    /// Welfare checks requested of the police.
    pub welfare_checks: Vec<i64>,
    /// Flags, by name and when raised.
    pub flags: Vec<MovedFlag>,
    /// Timers running about the child.
    pub timers: Vec<i64>,
    /// Escalations about the child.
    pub escalations: Vec<i64>,
}

impl MovedRecords {
    /// How many records moved.
    pub fn count(&self) -> usize {
        self.referrals.len()
            + self.cases.len()
            + self.addresses.len()
            + self.aliases.len()
            + self.relationships.len()
            + self.related.len()
            + self.threshold_decisions.len()
            + self.concerns.len()
            + self.welfare_checks.len()
            + self.flags.len()
            + self.timers.len()
            + self.escalations.len()
    }
}

/// Another name that moved, by its stored key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedAlias {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// When it was recorded (stored microseconds).
    pub created_at: i64,
}

/// A flag that moved, by its stored key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedFlag {
    /// Which flag.
    pub flag: String,
    /// When it was raised (stored microseconds).
    pub raised_at: i64,
}

/// What the store knows about one of a pair, as far as a merge needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeFacts {
    /// Who.
    pub person: PersonId,
    /// Set when this record has already been merged into another.
    pub merged_into: Option<PersonId>,
    /// Their open case, if any.
    pub open_case: Option<CaseId>,
    /// Referrals naming them.
    pub referrals: Vec<ReferralId>,
    /// Flags open on them.
    pub open_flags: Vec<String>,
    /// Kinds of timer outstanding about them.
    pub timers: Vec<String>,
    /// Triggers of escalations open about them.
    pub escalations: Vec<String>,
}

impl MergeFacts {
    /// Nothing known yet about `person`.
    pub fn of(person: PersonId) -> Self {
        MergeFacts {
            person,
            merged_into: None,
            open_case: None,
            referrals: vec![],
            open_flags: vec![],
            timers: vec![],
            escalations: vec![],
        }
    }
}

/// Whether `merged` may be merged into `kept`. `related` is how the two are recorded as
/// related to each other, if they are: then they are two people, whatever the names say.
pub fn check_merge(kept: &MergeFacts, merged: &MergeFacts, related: Option<&str>) -> Result<(), Rejection> {
    if kept.person == merged.person {
        return Err(Rejection::invalid("keep", "a record cannot be merged with itself"));
    }
    for f in [kept, merged] {
        if let Some(into) = f.merged_into {
            return Err(Rejection::conflict(
                "keep",
                format!("{} has already been merged into {}", f.person.reference(), into.reference()),
            ));
        }
    }
    if let Some(kind) = related {
        return Err(Rejection::conflict(
            "keep",
            format!(
                "{} and {} are recorded as related ({kind}): they are two people",
                kept.person.reference(),
                merged.person.reference()
            ),
        ));
    }
    if let (Some(a), Some(b)) = (kept.open_case, merged.open_case) {
        return Err(Rejection::conflict(
            "keep",
            format!(
                "both records have an open case ({} and {}); close one of them before merging",
                a.reference(),
                b.reference()
            ),
        ));
    }
    if let Some(r) = kept.referrals.iter().find(|r| merged.referrals.contains(r)) {
        return Err(Rejection::conflict(
            "keep",
            format!("referral {} names both records as two children; correct it before merging", r.reference()),
        ));
    }
    let both = |a: &[String], b: &[String]| a.iter().find(|x| b.contains(x)).cloned();
    if let Some(flag) = both(&kept.open_flags, &merged.open_flags) {
        return Err(Rejection::conflict("keep", format!("both records have the flag \"{flag}\" open")));
    }
    if let Some(kind) = both(&kept.timers, &merged.timers) {
        return Err(Rejection::conflict(
            "keep",
            format!("both records have a \"{kind}\" deadline running; let one finish before merging"),
        ));
    }
    if let Some(trigger) = both(&kept.escalations, &merged.escalations) {
        return Err(Rejection::conflict(
            "keep",
            format!("both records have an open \"{trigger}\" escalation; resolve one before merging"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: i64) -> MergeFacts {
        MergeFacts::of(PersonId(id))
    }

    fn refused(kept: &MergeFacts, merged: &MergeFacts, related: Option<&str>) -> String {
        match check_merge(kept, merged, related) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("the merge should have been refused"),
        }
    }

    #[test]
    fn two_plain_records_merge() {
        assert_eq!(check_merge(&facts(1), &facts(2), None), Ok(()));
        let mut a = facts(1);
        a.open_case = Some(CaseId(4));
        a.open_flags = vec!["visit_overdue".into()];
        a.timers = vec!["visit_due".into()];
        let mut b = facts(2);
        b.referrals = vec![ReferralId(7)];
        b.escalations = vec!["referral_undecided".into()];
        assert_eq!(check_merge(&a, &b, None), Ok(()));
        assert_eq!(check_merge(&b, &a, None), Ok(()));
    }

    #[test]
    fn a_record_is_not_merged_with_itself() {
        assert!(check_merge(&facts(1), &facts(1), None).is_err());
    }

    #[test]
    fn a_merged_record_is_not_merged_again() {
        let mut b = facts(2);
        b.merged_into = Some(PersonId(9));
        assert!(refused(&facts(1), &b, None).contains("P-2 has already been merged into P-9"));
        assert!(refused(&b, &facts(1), None).contains("already been merged"));
    }

    #[test]
    fn people_recorded_as_related_are_two_people() {
        assert!(refused(&facts(1), &facts(2), Some("sibling")).contains("two people"));
    }

    #[test]
    fn two_open_cases_are_refused() {
        let (mut a, mut b) = (facts(1), facts(2));
        a.open_case = Some(CaseId(3));
        b.open_case = Some(CaseId(5));
        let why = refused(&a, &b, None);
        assert!(why.contains("C-3") && why.contains("C-5"), "{why}");
    }

    #[test]
    fn a_referral_naming_both_is_refused() {
        let (mut a, mut b) = (facts(1), facts(2));
        a.referrals = vec![ReferralId(3), ReferralId(8)];
        b.referrals = vec![ReferralId(8)];
        assert!(refused(&a, &b, None).contains("R-8"));
    }

    #[test]
    fn the_same_flag_deadline_or_escalation_on_both_is_refused() {
        let (mut a, mut b) = (facts(1), facts(2));
        a.open_flags = vec!["x".into()];
        b.open_flags = vec!["x".into()];
        assert!(refused(&a, &b, None).contains("flag \"x\""));
        let (mut a, mut b) = (facts(1), facts(2));
        a.timers = vec!["visit_due".into()];
        b.timers = vec!["visit_due".into()];
        assert!(refused(&a, &b, None).contains("visit_due"));
        let (mut a, mut b) = (facts(1), facts(2));
        a.escalations = vec!["t".into()];
        b.escalations = vec!["t".into()];
        assert!(refused(&a, &b, None).contains("escalation"));
    }

    #[test]
    fn moved_records_count_every_kind() {
        let moved = MovedRecords {
            referrals: vec![1],
            cases: vec![2],
            aliases: vec![MovedAlias { given_name: "A".into(), family_name: "B".into(), created_at: 1 }],
            flags: vec![MovedFlag { flag: "f".into(), raised_at: 1 }],
            timers: vec![3, 4],
            ..Default::default()
        };
        assert_eq!(moved.count(), 6);
    }
}
