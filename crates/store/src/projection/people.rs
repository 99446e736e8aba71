//! People: their details (written through the write buffer), other names, addresses and
//! relationships.

use crate::buffer::Deferred;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a person's record.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    // Rows nothing reads back before commit wait in the write buffer.
    if let Event::PersonRegistered { person, details } = event {
        tx.buffer.push(
            Deferred::Person,
            vec![
                person.0.into(),
                details.kind.code().into(),
                details.given_name.as_str().into(),
                details.family_name.as_str().into(),
                details.dob.date().map(|d| d.to_string()).into(),
                details.dob.precision().into(),
                details.sex.code().into(),
                details.nhs_number.as_ref().map(|n| n.as_str().to_string()).into(),
                details.upn.as_ref().map(|u| u.as_str().to_string()).into(),
                now.into(),
            ],
        );
        return Ok(());
    }
    let c = tx.db().await?;
    match event {
        Event::AliasAdded { person, given_name, family_name } => {
            sqlx::query(
                "INSERT INTO person_aliases (person_id, given_name, family_name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(person.0)
            .bind(given_name.as_str().to_string())
            .bind(family_name.as_str().to_string())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::AddressAdded { address_id, person, address } => {
            sqlx::query(
                "INSERT INTO person_addresses (id, person_id, line, town, postcode, from_date, to_date, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(address_id.0)
            .bind(person.0)
            .bind(address.line.clone())
            .bind(address.town.clone())
            .bind(address.postcode.as_ref().map(|p| p.as_str().to_string()))
            .bind(address.from.map(|d| d.to_string()))
            .bind(address.to.map(|d| d.to_string()))
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::RelationshipRecorded { relationship, person, related, kind } => {
            sqlx::query(
                "INSERT INTO relationships (id, person_id, related_person_id, kind, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(relationship.0)
            .bind(person.0)
            .bind(related.0)
            .bind(kind.code())
            .bind(now)
            .execute(c)
            .await?;
        }
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
