//! People: finding, registering and recording what is known about them.

use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
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
#[utoipa::path(
    get, path = "/people", tag = "people", operation_id = "searchPeople",
    summary = "Find people by name (or alias) or NHS number",
    description = "Practice staff only. One word matches the start of a given or family name; several words match the first against the given name and the last against the family name. A 10-digit number also matches the NHS number. At most 50 results. Each search is an entry on the audit trail (people.search: the text and the people found).",
    params(
        ("q" = String, Query, description = "Name words or an NHS number.", min_length = 1),
    ),
    responses(
        (status = 200, description = "Matching people", body = Vec<PersonView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people/match", tag = "people", operation_id = "matchPeople",
    summary = "Who might this be? People already recorded who may be the person described",
    description = "Practice staff only (partner agencies are never shown anyone else's record). Give whatever is known; a name or an NHS number is needed. Dates may be 2011-03-04, 4/3/2011 (day first) or 20110304. Up to 5 people with a probability of at least 0.05, most likely first, each with the evidence field by field (level reached, log2 Bayes factor) from the label-free Fellegi–Sunter model of the matching engine. Each look-up is an entry on the audit trail (people.search: the fields given and the people offered).",
    request_body = commands::matching::MatchInput,
    responses(
        (status = 200, description = "Possible matches", body = Vec<commands::matching::PersonMatch>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people", tag = "people", operation_id = "registerPerson",
    summary = "Register a person",
    request_body = PersonInput,
    responses(
        (status = 201, description = "The person as recorded", body = PersonView, headers(("Location" = String, description = "The new record's address"))),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/people/{id}", tag = "people", operation_id = "getChildRecord",
    summary = "A person's whole record",
    description = "Identifying details, other names, addresses, relationships, referrals, cases, stages, allocations, visits and notes, each in date order. Practice staff only. Each read is an entry on the audit trail (person.view: who, when, from which address and client).",
    params(RecordPath),
    responses(
        (status = 200, description = "The record", body = ChildRecord),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/people/{id}/access", tag = "people", operation_id = "getRecordAccess",
    summary = "Who has viewed, found and changed a person's record",
    description = "Managers and auditors. Every entry of the audit trail about the person, their cases and the referrals naming them, and every search that listed them, newest first (at most 2000): when, who (name and role), what, and for reads where from. Looking is itself an entry on the trail (person.view_access).",
    params(RecordPath),
    responses(
        (status = 200, description = "The person's name and the entries", body = commands::reads::RecordAccess),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people/{id}/aliases", tag = "people", operation_id = "addAlias",
    summary = "Record another name the person is known by",
    params(RecordPath),
    request_body = AliasInput,
    responses(
        (status = 201, description = "The name as recorded", body = AliasView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people/{id}/addresses", tag = "people", operation_id = "addAddress",
    summary = "Record an address the person lives or lived at",
    params(RecordPath),
    request_body = AddressInput,
    responses(
        (status = 201, description = "The address as recorded", body = AddressView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people/{id}/relationships", tag = "people", operation_id = "addRelationship",
    summary = "Record that this person is `kind` of another (e.g. parent of)",
    params(RecordPath),
    request_body = RelationshipInput,
    responses(
        (status = 201, description = "The relationship as seen from this person's record", body = RelationshipView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
