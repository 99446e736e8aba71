//! Decisions about people recorded twice: pairs put in the review queue, merged, merges
//! undone, and pairs marked as two people.

use crate::duplicates::{FoundPair, MergeFacts, MovedRecords, check_merge};
use crate::error::Rejection;
use crate::event::Event;
use crate::ids::{DuplicatePairId, PersonId, StaffId};

/// A pair in the review queue as it stands.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    /// Which.
    pub id: DuplicatePairId,
    /// `open`, `merged` or `distinct`.
    pub state: &'a str,
    /// The earlier record.
    pub person_a: PersonId,
    /// The later record.
    pub person_b: PersonId,
    /// The record kept, when merged.
    pub kept: Option<PersonId>,
}

/// Puts pairs found by the matching engine in the review queue.
pub fn queue(pairs: Vec<FoundPair>) -> Event {
    Event::DuplicatesFound { pairs }
}

/// The record merged into `keep`, which must be one of the open pair's two.
pub fn merged_into(pair: Pair<'_>, keep: PersonId) -> Result<PersonId, Rejection> {
    if pair.state != "open" {
        return Err(Rejection::conflict(
            "keep",
            format!("{} has already been decided ({})", pair.id.reference(), pair.state),
        ));
    }
    if keep == pair.person_a {
        Ok(pair.person_b)
    } else if keep == pair.person_b {
        Ok(pair.person_a)
    } else {
        Err(Rejection::invalid(
            "keep",
            format!("choose {} or {}", pair.person_a.reference(), pair.person_b.reference()),
        ))
    }
}

/// What a merge must know of the two records.
#[derive(Debug, Clone)]
pub struct MergeCheck<'a> {
    /// The record kept.
    pub kept: &'a MergeFacts,
    /// The record merged into it.
    pub merged: &'a MergeFacts,
    /// How they are recorded as related, if they are.
    pub related: Option<&'a str>,
}

/// Merges an open pair: refused when the two are clearly two people ([`check_merge`]).
pub fn merge(
    pair: Pair<'_>,
    keep: PersonId,
    check: MergeCheck<'_>,
    moved: MovedRecords,
    by: StaffId,
) -> Result<Event, Rejection> {
    let merged = merged_into(pair, keep)?;
    check_merge(check.kept, check.merged, check.related)?;
    Ok(Event::PeopleMerged { pair: pair.id, kept: keep, merged, moved, by })
}

/// Undoes a merge: exactly what it moved goes back. What was recorded against the record
/// kept since stays with it.
pub fn unmerge(pair: Pair<'_>, moved: Option<MovedRecords>, by: StaffId) -> Result<Event, Rejection> {
    let (Some(kept), Some(moved), "merged") = (pair.kept, moved, pair.state) else {
        return Err(Rejection::conflict("pair", format!("{} is not merged", pair.id.reference())));
    };
    let merged = if kept == pair.person_a { pair.person_b } else { pair.person_a };
    Ok(Event::PeopleUnmerged { pair: pair.id, kept, merged, moved, by })
}

/// Records that an open pair is two people: never offered again.
pub fn mark_distinct(pair: Pair<'_>, by: StaffId) -> Result<Event, Rejection> {
    if pair.state != "open" {
        return Err(Rejection::conflict(
            "pair",
            format!("{} has already been decided ({})", pair.id.reference(), pair.state),
        ));
    }
    Ok(Event::PeopleMarkedDistinct { pair: pair.id, person_a: pair.person_a, person_b: pair.person_b, by })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(state: &str) -> Pair<'_> {
        Pair { id: DuplicatePairId(1), state, person_a: PersonId(3), person_b: PersonId(4), kept: None }
    }

    #[test]
    fn only_an_open_pair_is_decided_and_only_a_merged_one_unmerged() {
        assert_eq!(merged_into(pair("open"), PersonId(3)).unwrap(), PersonId(4));
        assert_eq!(merged_into(pair("open"), PersonId(4)).unwrap(), PersonId(3));
        assert!(matches!(merged_into(pair("open"), PersonId(5)), Err(Rejection::Invalid(_))));
        assert!(matches!(merged_into(pair("distinct"), PersonId(3)), Err(Rejection::Conflict { .. })));
        assert!(mark_distinct(pair("merged"), StaffId(1)).is_err());
        assert!(mark_distinct(pair("open"), StaffId(1)).is_ok());
        assert!(unmerge(pair("open"), Some(MovedRecords::default()), StaffId(1)).is_err());
        let merged = Pair { kept: Some(PersonId(4)), ..pair("merged") };
        assert!(matches!(
            unmerge(merged, Some(MovedRecords::default()), StaffId(1)),
            Ok(Event::PeopleUnmerged { kept: PersonId(4), merged: PersonId(3), .. })
        ));
    }
}
