//! People: finding, registering and recording what is known about them.

use super::extract::{ApiQuery, Id};
use super::{ApiJson, Created, gone, written};
use crate::error::ApiError;
use crate::{ApiUser, AppState, Origin};
use axum::Json;
use axum::extract::State;
use commands::people::{AliasInput, RelationshipInput};
use commands::read_models::{AddressView, AliasView, ChildRecord, PersonView, RelationshipView, SEARCH_SUBJECT};
use domain::authz::Actor;
use domain::event::Event;
use domain::ids::PersonId;
use domain::person::{AddressInput, Name, PersonInput};

/// `GET /people?q=`: people whose name starts with the words given, or with that NHS
/// number. The search, and who it found, goes on the trail.
pub async fn search(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: Origin,
    query: ApiQuery,
) -> Result<Json<Vec<PersonView>>, ApiError> {
    let mut params = query.params(&["q"]);
    let q = params.text("q");
    if q.is_none() {
        params.push("q", "enter a name or an NHS number to search for");
    }
    params.finish()?;
    let text = q.unwrap_or_default();
    let found = state.svc.search_people(&actor, &text).await?;
    let event = Event::PeopleSearched { query: text, found: found.iter().map(|p| p.id).collect(), read: origin.api() };
    state.svc.record_read(&actor, SEARCH_SUBJECT, event).await?;
    Ok(Json(found))
}

/// `POST /people/match`: the people already recorded who may be the person described,
/// most likely first, each with the evidence and the probability. The fields asked
/// about, and who was offered, go on the trail.
pub async fn find_matches(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: Origin,
    ApiJson(input): ApiJson<commands::matching::MatchInput>,
) -> Result<Json<Vec<commands::matching::PersonMatch>>, ApiError> {
    let found = state.svc.match_people(&actor, &input, 5).await?;
    let event = Event::PeopleSearched {
        query: input.described(),
        found: found.iter().map(|m| m.person.id).collect(),
        read: origin.api(),
    };
    state.svc.record_read(&actor, SEARCH_SUBJECT, event).await?;
    Ok(Json(found))
}

/// `POST /people`: registers a person.
pub async fn register(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<PersonInput>,
) -> Result<Created<PersonView>, ApiError> {
    let id = state.svc.register_person(&actor, &input).await?;
    let person = state.svc.person(&actor, id).await?;
    Ok(Created::at(format!("/api/v1/people/{id}"), person))
}

/// `GET /people/{id}`: the whole record. Reading it goes on the trail.
pub async fn record(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: Origin,
    Id(id): Id<PersonId>,
) -> Result<Json<ChildRecord>, ApiError> {
    let record = state.svc.child_record(&actor, id).await?;
    state.svc.record_read(&actor, &id.subject(), Event::RecordViewed { person: id, read: origin.api() }).await?;
    Ok(Json(record))
}

/// `GET /people/{id}/access`: who has viewed, found and changed the record, newest
/// first (managers and auditors). Looking goes on the trail too.
pub async fn access(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: Origin,
    Id(id): Id<PersonId>,
) -> Result<Json<commands::reads::RecordAccess>, ApiError> {
    let access = state.svc.record_access(&actor, id).await?;
    let event = Event::RecordAccessViewed { person: id, read: origin.api() };
    state.svc.record_read(&actor, &id.subject(), event).await?;
    Ok(Json(access))
}

/// The record as it stands after a command the caller was allowed to make.
async fn record_after(state: &AppState, actor: &Actor, id: PersonId) -> Result<ChildRecord, ApiError> {
    written(state.svc.child_record(actor, id)).await
}

/// `POST /people/{id}/aliases`: another name the person is known by.
pub async fn add_alias(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
    ApiJson(input): ApiJson<AliasInput>,
) -> Result<Created<AliasView>, ApiError> {
    state.svc.add_alias(&actor, id, &input).await?;
    // The names as stored: the same normalisation the command applied.
    let name = |raw: &str, what: &str| {
        Name::parse(raw, what).map(|n| n.to_string()).unwrap_or_else(|_| raw.trim().to_string())
    };
    let alias = AliasView {
        given_name: name(&input.given_name, "given name"),
        family_name: name(&input.family_name, "family name"),
    };
    Ok(Created::new(alias))
}

/// `POST /people/{id}/addresses`: an address the person lives or lived at.
pub async fn add_address(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
    ApiJson(input): ApiJson<AddressInput>,
) -> Result<Created<AddressView>, ApiError> {
    let address = state.svc.add_address(&actor, id, &input).await?;
    let record = record_after(&state, &actor, id).await?;
    let view = record.addresses.into_iter().find(|a| a.id == address).ok_or_else(|| gone(address.reference()))?;
    Ok(Created::new(view))
}

/// `POST /people/{id}/relationships`: how the person is related to another.
pub async fn add_relationship(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
    ApiJson(input): ApiJson<RelationshipInput>,
) -> Result<Created<RelationshipView>, ApiError> {
    let relationship = state.svc.add_relationship(&actor, id, &input).await?;
    let record = record_after(&state, &actor, id).await?;
    let view = record
        .relationships
        .into_iter()
        .find(|r| r.id == relationship)
        .ok_or_else(|| gone(relationship.reference()))?;
    Ok(Created::new(view))
}
