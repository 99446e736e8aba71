//! People: registering them and recording what is known about them.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, Result, Service, not_found};
use domain::authz::{Action, Actor};
use domain::ids::{AddressId, PersonId, RelationshipId};
use domain::person::{Address, AddressInput, Name, PersonDetails, PersonInput, RelationshipKind};
use domain::recording;
use domain::{FieldErrors, Rejection};
use serde::Deserialize;

/// Another name as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AliasInput {
    /// Given name.
    #[serde(default)]
    pub given_name: String,
    /// Family name.
    #[serde(default)]
    pub family_name: String,
}

/// A relationship as it arrives: this person is `kind` of `related`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RelationshipInput {
    /// The other person's id.
    pub related: Option<i64>,
    /// parent, step_parent, partner_of_parent, sibling, household_member, other.
    #[serde(default)]
    pub kind: String,
}

/// Records a new person.
struct RegisterPerson<'a> {
    input: &'a PersonInput,
}

impl Command for RegisterPerson<'_> {
    type Output = PersonId;
    const ACTION: &'static str = "person.register";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::EditPerson)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<PersonId>> {
        let mut errors = FieldErrors::new();
        let details = PersonDetails::parse(self.input, load.today(), &mut errors);
        errors.finish()?;
        let details = details.ok_or_else(|| Rejection::invalid("given_name", "missing"))?;
        let person = PersonId(load.next_id(PersonId::KIND).await?);
        Ok(Decided::new(person.subject(), vec![recording::register(person, details)], person))
    }
}

/// Records another name a person is known by.
struct AddAlias<'a> {
    person: PersonId,
    input: &'a AliasInput,
}

impl Command for AddAlias<'_> {
    type Output = ();
    const ACTION: &'static str = "person.add_alias";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::EditPerson)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let person = self.person;
        let mut errors = FieldErrors::new();
        let given_name = errors.field("given_name", Name::parse(&self.input.given_name, "given name"));
        let family_name = errors.field("family_name", Name::parse(&self.input.family_name, "family name"));
        errors.finish()?;
        let (Some(given_name), Some(family_name)) = (given_name, family_name) else {
            return Err(Rejection::invalid("given_name", "missing").into());
        };
        if !load.person_exists(person).await? {
            return Err(not_found(person.reference()));
        }
        Ok(Decided::new(person.subject(), vec![recording::add_alias(person, given_name, family_name)], ()))
    }
}

/// Records an address for a person.
struct AddAddress<'a> {
    person: PersonId,
    input: &'a AddressInput,
}

impl Command for AddAddress<'_> {
    type Output = AddressId;
    const ACTION: &'static str = "person.add_address";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::EditPerson)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<AddressId>> {
        let person = self.person;
        let mut errors = FieldErrors::new();
        let address = Address::parse(self.input, &mut errors);
        errors.finish()?;
        let address = address.ok_or_else(|| Rejection::invalid("line", "missing"))?;
        if !load.person_exists(person).await? {
            return Err(not_found(person.reference()));
        }
        let address_id = AddressId(load.next_id(AddressId::KIND).await?);
        Ok(Decided::new(person.subject(), vec![recording::add_address(address_id, person, address)], address_id))
    }
}

/// Records how a person is related to another.
struct AddRelationship<'a> {
    person: PersonId,
    input: &'a RelationshipInput,
}

impl Command for AddRelationship<'_> {
    type Output = RelationshipId;
    const ACTION: &'static str = "person.add_relationship";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::EditPerson)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<RelationshipId>> {
        let person = self.person;
        let mut errors = FieldErrors::new();
        let kind = errors.field("kind", RelationshipKind::parse(&self.input.kind));
        let related = recording::check_related(person, self.input.related, &mut errors);
        errors.finish()?;
        let (Some(kind), Some(related)) = (kind, related) else {
            return Err(Rejection::invalid("kind", "missing").into());
        };
        if !load.person_exists(person).await? {
            return Err(not_found(person.reference()));
        }
        let related_exists = load.person_exists(related).await?;
        let relationship = RelationshipId(load.next_id(RelationshipId::KIND).await?);
        let event = recording::add_relationship(relationship, person, related, kind, related_exists)?;
        Ok(Decided::new(person.subject(), vec![event], relationship))
    }
}

impl Service {
    /// Records a new person.
    pub async fn register_person(&self, actor: &Actor, input: &PersonInput) -> Result<PersonId> {
        self.execute(Caller::Staff(actor), RegisterPerson { input }).await
    }

    /// Records another name a person is known by.
    pub async fn add_alias(&self, actor: &Actor, person: PersonId, input: &AliasInput) -> Result<()> {
        self.execute(Caller::Staff(actor), AddAlias { person, input }).await
    }

    /// Records an address for a person.
    pub async fn add_address(&self, actor: &Actor, person: PersonId, input: &AddressInput) -> Result<AddressId> {
        self.execute(Caller::Staff(actor), AddAddress { person, input }).await
    }

    /// Records how a person is related to another.
    pub async fn add_relationship(
        &self,
        actor: &Actor,
        person: PersonId,
        input: &RelationshipInput,
    ) -> Result<RelationshipId> {
        self.execute(Caller::Staff(actor), AddRelationship { person, input }).await
    }
}
