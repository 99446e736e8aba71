//! Recording what is known about a person: each decision checks its rules and returns
//! the event to record.

use crate::error::{FieldErrors, Rejection};
use crate::event::Event;
use crate::ids::{AddressId, PersonId, RelationshipId};
use crate::person::{Address, Name, PersonDetails, RelationshipKind};

/// Records a new person.
pub fn register(person: PersonId, details: PersonDetails) -> Event {
    Event::PersonRegistered { person, details }
}

/// Records another name a person is known by.
pub fn add_alias(person: PersonId, given_name: Name, family_name: Name) -> Event {
    Event::AliasAdded { person, given_name, family_name }
}

/// Records an address for a person.
pub fn add_address(address_id: AddressId, person: PersonId, address: Address) -> Event {
    Event::AddressAdded { address_id, person, address }
}

/// Who a relationship is with, as given: checked before anything is read.
pub fn check_related(person: PersonId, related: Option<i64>, errors: &mut FieldErrors) -> Option<PersonId> {
    match related {
        Some(r) if r > 0 && r != person.0 => Some(PersonId(r)),
        Some(r) if r == person.0 => {
            errors.push("related", "a person cannot be related to themselves");
            None
        }
        _ => {
            errors.push("related", "choose the other person");
            None
        }
    }
}

/// Records how a person is related to another, who must be on record.
pub fn add_relationship(
    relationship: RelationshipId,
    person: PersonId,
    related: PersonId,
    kind: RelationshipKind,
    related_exists: bool,
) -> Result<Event, Rejection> {
    if related == person {
        return Err(Rejection::invalid("related", "a person cannot be related to themselves"));
    }
    if !related_exists {
        return Err(Rejection::invalid("related", format!("there is no person {}", related.reference())));
    }
    Ok(Event::RelationshipRecorded { relationship, person, related, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relationship_is_with_someone_else_on_record() {
        let mut errors = FieldErrors::new();
        assert_eq!(check_related(PersonId(1), Some(1), &mut errors), None);
        assert_eq!(check_related(PersonId(1), None, &mut errors), None);
        assert_eq!(check_related(PersonId(1), Some(2), &mut errors), Some(PersonId(2)));
        let messages: Vec<_> = errors.errors().iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["a person cannot be related to themselves", "choose the other person"]);
        let kind = RelationshipKind::Parent;
        assert!(add_relationship(RelationshipId(1), PersonId(1), PersonId(2), kind, true).is_ok());
        assert!(add_relationship(RelationshipId(1), PersonId(1), PersonId(2), kind, false).is_err());
        assert!(add_relationship(RelationshipId(1), PersonId(1), PersonId(1), kind, true).is_err());
    }
}
