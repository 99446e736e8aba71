//! The raw person record, as it arrives from a form, the store or a CSV row.

use serde::{Deserialize, Serialize};

/// One person record with raw (un-normalised) fields; an empty string means "not recorded".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub surname: String,
    /// Date of birth in any accepted format ("2011-03-04", "04/03/2011", "20110304").
    pub dob: String,
    /// "M"/"F" (or male/female).
    pub sex: String,
    /// Street address (house number and street).
    pub address: String,
    /// Town or city.
    pub town: String,
    /// UK postcode, any spacing or case.
    pub postcode: String,
    /// NHS number, any spacing.
    pub nhs_number: String,
}
