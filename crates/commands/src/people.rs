//! People: registering them and recording what is known about them.

use crate::{Result, Service, audit_actor, not_found};
use domain::authz::{Action, Actor, require};
use domain::event::Event;
use domain::ids::{AddressId, PersonId, RelationshipId};
use domain::person::{Address, AddressInput, Name, PersonDetails, PersonInput, RelationshipKind};
use domain::{FieldErrors, Rejection};
use serde::Deserialize;

/// Another name as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AliasInput {
    /// Given name.
    #[serde(default)]
    pub given_name: String,
    /// Family name.
    #[serde(default)]
    pub family_name: String,
}

/// A relationship as it arrives: this person is `kind` of `related`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RelationshipInput {
    /// The other person's id.
    pub related: Option<i64>,
    /// parent, step_parent, partner_of_parent, sibling, household_member, other.
    #[serde(default)]
    pub kind: String,
}

impl Service {
    /// Records a new person.
    pub async fn register_person(&self, actor: &Actor, input: &PersonInput) -> Result<PersonId> {
        require(actor, Action::EditPerson)?;
        let mut errors = FieldErrors::new();
        let details = PersonDetails::parse(input, self.today(), &mut errors);
        errors.finish()?;
        let details = details.ok_or_else(|| Rejection::invalid("given_name", "missing"))?;
        let mut tx = self.store().begin().await?;
        let person = PersonId(tx.next_id(PersonId::KIND).await?);
        tx.record(
            &audit_actor(actor),
            "person.register",
            &person.subject(),
            self.now(),
            &[Event::PersonRegistered { person, details }],
        )
        .await?;
        tx.commit().await?;
        Ok(person)
    }

    /// Records another name a person is known by.
    pub async fn add_alias(&self, actor: &Actor, person: PersonId, input: &AliasInput) -> Result<()> {
        require(actor, Action::EditPerson)?;
        let mut errors = FieldErrors::new();
        let given_name = errors.field("given_name", Name::parse(&input.given_name, "given name"));
        let family_name = errors.field("family_name", Name::parse(&input.family_name, "family name"));
        errors.finish()?;
        let (Some(given_name), Some(family_name)) = (given_name, family_name) else {
            return Err(Rejection::invalid("given_name", "missing").into());
        };
        let mut tx = self.store().begin().await?;
        if !tx.person_exists(person).await? {
            return Err(not_found(person.reference()));
        }
        tx.record(
            &audit_actor(actor),
            "person.add_alias",
            &person.subject(),
            self.now(),
            &[Event::AliasAdded { person, given_name, family_name }],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an address for a person.
    pub async fn add_address(&self, actor: &Actor, person: PersonId, input: &AddressInput) -> Result<AddressId> {
        require(actor, Action::EditPerson)?;
        let mut errors = FieldErrors::new();
        let address = Address::parse(input, &mut errors);
        errors.finish()?;
        let address = address.ok_or_else(|| Rejection::invalid("line", "missing"))?;
        let mut tx = self.store().begin().await?;
        if !tx.person_exists(person).await? {
            return Err(not_found(person.reference()));
        }
        let address_id = AddressId(tx.next_id(AddressId::KIND).await?);
        tx.record(
            &audit_actor(actor),
            "person.add_address",
            &person.subject(),
            self.now(),
            &[Event::AddressAdded { address_id, person, address }],
        )
        .await?;
        tx.commit().await?;
        Ok(address_id)
    }

    /// Records how a person is related to another.
    pub async fn add_relationship(
        &self,
        actor: &Actor,
        person: PersonId,
        input: &RelationshipInput,
    ) -> Result<RelationshipId> {
        require(actor, Action::EditPerson)?;
        let mut errors = FieldErrors::new();
        let kind = errors.field("kind", RelationshipKind::parse(&input.kind));
        let related = match input.related {
            Some(r) if r > 0 && r != person.0 => Some(PersonId(r)),
            Some(r) if r == person.0 => {
                errors.push("related", "a person cannot be related to themselves");
                None
            }
            _ => {
                errors.push("related", "choose the other person");
                None
            }
        };
        errors.finish()?;
        let (Some(kind), Some(related)) = (kind, related) else {
            return Err(Rejection::invalid("kind", "missing").into());
        };
        let mut tx = self.store().begin().await?;
        if !tx.person_exists(person).await? {
            return Err(not_found(person.reference()));
        }
        if !tx.person_exists(related).await? {
            return Err(Rejection::invalid("related", format!("there is no person {}", related.reference())).into());
        }
        let relationship = RelationshipId(tx.next_id(RelationshipId::KIND).await?);
        tx.record(
            &audit_actor(actor),
            "person.add_relationship",
            &person.subject(),
            self.now(),
            &[Event::RelationshipRecorded { relationship, person, related, kind }],
        )
        .await?;
        tx.commit().await?;
        Ok(relationship)
    }
}
