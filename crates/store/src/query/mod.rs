//! Read models: what pages and the API show. Reads never change anything.
//!
//! One file per subject; every read is re-exported here, so callers name them
//! `store::query::…` whichever file they live in.

mod audit;
mod caseloads;
mod cases;
mod escalations;
mod inbox;
mod matching;
mod operations;
mod people;
mod practice;
mod record;
mod referrals;
mod staff;

pub use audit::*;
pub use caseloads::*;
pub use cases::*;
pub use escalations::*;
pub use inbox::*;
pub use matching::*;
pub use operations::*;
pub use people::*;
pub use practice::*;
pub use record::*;
pub use referrals::*;
pub use staff::*;

use crate::StoreError;
use crate::time::from_micros;
use domain::ids::StaffId;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

fn ts(row: &AnyRow, col: &str) -> Result<Timestamp, StoreError> {
    Ok(from_micros(row.try_get(col)?))
}

fn opt_ts(row: &AnyRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(from_micros))
}

fn opt_date(table: &'static str, row: &AnyRow, col: &str) -> Result<Option<Date>, StoreError> {
    match row.try_get::<Option<String>, _>(col)? {
        Some(s) => Ok(Some(s.parse().map_err(|_| StoreError::Corrupt { table, detail: format!("{col} {s:?}") })?)),
        None => Ok(None),
    }
}

/// A person named on a page: id and name.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Named<I> {
    /// Their id.
    pub id: I,
    /// Their name.
    pub name: String,
}

fn named_staff(row: &AnyRow, id_col: &str, name_col: &str) -> Result<Option<Named<StaffId>>, StoreError> {
    Ok(match (row.try_get::<Option<i64>, _>(id_col)?, row.try_get::<Option<String>, _>(name_col)?) {
        (Some(id), Some(name)) => Some(Named { id: StaffId(id), name }),
        _ => None,
    })
}
