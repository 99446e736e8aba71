//! People: finding, registering and recording what is known about them.

use super::extract::{ApiQuery, Id};
use super::{ApiJson, Created, gone, store_error};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::people::{AliasInput, RelationshipInput};
use domain::ids::PersonId;
use domain::person::{AddressInput, Name, PersonInput};
use store::query::{self, AddressView, AliasView, ChildRecord, PersonView, RelationshipView};

/// `GET /people?q=`: people whose name starts with the words given, or with that NHS number.
pub async fn search(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<Vec<PersonView>>, ApiError> {
    let mut params = query.params(&["q"]);
    let q = params.text("q");
    if q.is_none() {
        params.push("q", "enter a name or an NHS number to search for");
    }
    params.finish()?;
    Ok(Json(state.svc.search_people(&actor, q.as_deref().unwrap_or_default()).await?))
}

/// `POST /people/match`: the people already recorded who may be the person described,
/// most likely first, each with the evidence and the probability.
pub async fn find_matches(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<commands::matching::MatchInput>,
) -> Result<Json<Vec<commands::matching::PersonMatch>>, ApiError> {
    Ok(Json(state.svc.match_people(&actor, &input, 5).await?))
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

/// `GET /people/{id}`: the whole record.
pub async fn record(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
) -> Result<Json<ChildRecord>, ApiError> {
    Ok(Json(state.svc.child_record(&actor, id).await?))
}

/// The record as it stands after a command the caller was allowed to make.
async fn record_after(state: &AppState, id: PersonId) -> Result<ChildRecord, ApiError> {
    query::child_record(state.svc.store(), id).await.map_err(store_error)?.ok_or_else(|| gone(id.reference()))
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
    let record = record_after(&state, id).await?;
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
    let record = record_after(&state, id).await?;
    let view = record
        .relationships
        .into_iter()
        .find(|r| r.id == relationship)
        .ok_or_else(|| gone(relationship.reference()))?;
    Ok(Created::new(view))
}
