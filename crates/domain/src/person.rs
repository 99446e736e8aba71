//! People: children, adults at risk and the family members around them.

use crate::FieldErrors;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether the person is a child or an adult.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// Under 18.
    Child,
    /// 18 or over (an adult at risk, a parent, a relative).
    Adult,
}

impl PersonKind {
    /// The code used in the API and the store.
    pub fn code(self) -> &'static str {
        match self {
            PersonKind::Child => "child",
            PersonKind::Adult => "adult",
        }
    }

    /// Parses `child` or `adult`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "child" => Ok(PersonKind::Child),
            "adult" => Ok(PersonKind::Adult),
            _ => Err("must be child or adult".into()),
        }
    }
}

/// A given or family name: trimmed, 1–100 characters, letters and the usual punctuation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// Parses a name; `what` is used in the message ("given name", "family name").
    pub fn parse(raw: &str, what: &str) -> Result<Self, String> {
        let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if t.is_empty() {
            return Err(format!("enter the {what}"));
        }
        if t.chars().count() > 100 {
            return Err(format!("the {what} must be 100 characters or fewer"));
        }
        // Digits are allowed: newborns and unborn twins are recorded as "Baby 1", "Baby 2".
        if !t.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '\'' | '’' | '.')) {
            return Err(format!("the {what} may contain only letters, digits, spaces, hyphens and apostrophes"));
        }
        Ok(Self(t))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A date of birth, which is often unknown or only estimated at first contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "precision", content = "date", rename_all = "snake_case")]
pub enum DateOfBirth {
    /// Known exactly.
    Known(Date),
    /// An estimate (e.g. "about 6"), recorded as a date.
    Estimated(Date),
    /// Not known.
    Unknown,
}

impl DateOfBirth {
    /// Parses an ISO date (`2014-01-31`) with a precision of `known` (default),
    /// `estimated` or `unknown`; refuses dates in the future (relative to `today`)
    /// or more than 120 years ago.
    pub fn parse(date: Option<&str>, precision: Option<&str>, today: Date) -> Result<Self, String> {
        let precision = precision.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("known");
        let date = date.map(str::trim).filter(|s| !s.is_empty());
        match (precision, date) {
            ("unknown", None) => Ok(DateOfBirth::Unknown),
            ("unknown", Some(_)) => Err("leave the date of birth empty when it is unknown".into()),
            ("known" | "estimated", None) => Err("enter the date of birth, or mark it as unknown".into()),
            (p @ ("known" | "estimated"), Some(d)) => {
                let d = parse_date(d)?;
                if d > today {
                    return Err("the date of birth must be today or in the past".into());
                }
                if today.year() - d.year() > 120 {
                    return Err("the date of birth is more than 120 years ago".into());
                }
                Ok(if p == "known" { DateOfBirth::Known(d) } else { DateOfBirth::Estimated(d) })
            }
            _ => Err("precision must be known, estimated or unknown".into()),
        }
    }

    /// The date, known or estimated.
    pub fn date(&self) -> Option<Date> {
        match self {
            DateOfBirth::Known(d) | DateOfBirth::Estimated(d) => Some(*d),
            DateOfBirth::Unknown => None,
        }
    }

    /// `known`, `estimated` or `unknown`.
    pub fn precision(&self) -> &'static str {
        match self {
            DateOfBirth::Known(_) => "known",
            DateOfBirth::Estimated(_) => "estimated",
            DateOfBirth::Unknown => "unknown",
        }
    }

    /// Rebuilds a value read back from the store.
    pub fn from_parts(date: Option<Date>, precision: &str) -> Self {
        match (precision, date) {
            ("estimated", Some(d)) => DateOfBirth::Estimated(d),
            (_, Some(d)) => DateOfBirth::Known(d),
            (_, None) => DateOfBirth::Unknown,
        }
    }
}

/// Parses an ISO calendar date with a message a person can act on.
pub fn parse_date(s: &str) -> Result<Date, String> {
    s.trim().parse::<Date>().map_err(|_| "must be a real date in the form 2014-01-31".to_string())
}

/// Sex as recorded for statutory returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Not known or not recorded (also used for unborn children).
    Unknown,
}

impl Sex {
    /// Parses `male`, `female` or `unknown` (also `m`, `f`, `u`); empty means unknown.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" | "m" => Ok(Sex::Male),
            "female" | "f" => Ok(Sex::Female),
            "unknown" | "u" | "" => Ok(Sex::Unknown),
            _ => Err("must be male, female or unknown".into()),
        }
    }

    /// The code used in the API and the store.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Unknown => "unknown",
        }
    }
}

/// An NHS number: 10 digits whose last is a modulus-11 check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Parses an NHS number, ignoring spaces and hyphens (`943 476 5919`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("an NHS number has 10 digits, like 943 476 5919".into());
        }
        let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = d[..9].iter().enumerate().map(|(i, v)| v * (10 - i as u32)).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return Err("this is not a valid NHS number (check digit)".into()),
            c => c,
        };
        if check != d[9] {
            return Err("this is not a valid NHS number (check digit); check it for a typo".into());
        }
        Ok(Self(digits))
    }

    /// The 10 digits without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The usual 3-3-4 spaced form.
    pub fn formatted(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

/// A Unique Pupil Number: a check letter then 12 characters (DfE format).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Upn(String);

/// The letters a UPN uses for values 0–22 (I, O and S are left out).
const UPN_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

impl Upn {
    /// Parses a permanent or temporary UPN and checks its check letter.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s: String = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let shape = b.len() == 13
            && UPN_LETTERS.contains(&b[0])
            && b[1..12].iter().all(u8::is_ascii_digit)
            && (b[12].is_ascii_digit() || UPN_LETTERS.contains(&b[12]));
        if !shape {
            return Err("a UPN is a letter followed by 11 digits and a final digit or letter".into());
        }
        let value = |c: u8| -> u32 {
            if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                UPN_LETTERS.iter().position(|l| *l == c).map(|p| p as u32).unwrap_or(0)
            }
        };
        let sum: u32 = (1..13).map(|i| value(b[i]) * (i as u32 + 1)).sum();
        if UPN_LETTERS[(sum % 23) as usize] != b[0] {
            return Err("this is not a valid UPN (check letter); check it for a typo".into());
        }
        Ok(Self(s))
    }

    /// The UPN.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A UK postcode, stored in its canonical spaced upper-case form (`SW1A 1AA`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Postcode(String);

impl Postcode {
    /// Parses a postcode written in any case, with or without the space.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        // ASCII only, so the byte offsets below are character boundaries.
        let ok = compact.is_ascii() && (5..=7).contains(&compact.len()) && {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            let i = inward.as_bytes();
            let o = outward.as_bytes();
            i[0].is_ascii_digit()
                && i[1].is_ascii_alphabetic()
                && i[2].is_ascii_alphabetic()
                && o[0].is_ascii_alphabetic()
                && o.iter().all(u8::is_ascii_alphanumeric)
                && o.iter().any(u8::is_ascii_digit)
        };
        if !ok {
            return Err("enter a real postcode, like SW1A 1AA".into());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        Ok(Self(format!("{outward} {inward}")))
    }

    /// The postcode.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An address a person lived at, with the dates they lived there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The street address (house, street).
    pub line: String,
    /// The town, when given.
    pub town: Option<String>,
    /// The postcode, when known.
    pub postcode: Option<Postcode>,
    /// From when.
    pub from: Option<Date>,
    /// Until when; `None` means current.
    pub to: Option<Date>,
}

/// Raw address fields as they arrive from a form or the API.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AddressInput {
    /// House and street.
    pub line: String,
    /// Town.
    #[serde(default)]
    pub town: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
    /// From (ISO date).
    #[serde(default)]
    pub from: Option<String>,
    /// To (ISO date).
    #[serde(default)]
    pub to: Option<String>,
}

impl Address {
    /// Parses an address; errors are recorded against `line`, `postcode`, `from`, `to`.
    pub fn parse(input: &AddressInput, errors: &mut FieldErrors) -> Option<Self> {
        let line = input.line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            errors.push("line", "enter the house and street");
        } else if line.chars().count() > 200 {
            errors.push("line", "the address must be 200 characters or fewer");
        }
        let town = input.town.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(String::from);
        let postcode = input
            .postcode
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| errors.field("postcode", Postcode::parse(p)));
        let from = opt_date(input.from.as_deref(), "from", errors);
        let to = opt_date(input.to.as_deref(), "to", errors);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            errors.push("to", "the end date must be on or after the start date");
        }
        if !errors.is_empty() {
            return None;
        }
        Some(Address { line, town, postcode, from, to })
    }
}

fn opt_date(raw: Option<&str>, field: &str, errors: &mut FieldErrors) -> Option<Date> {
    raw.filter(|s| !s.trim().is_empty()).and_then(|s| errors.field(field, parse_date(s)))
}

/// How one person is related to another ("A is the parent of B").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipKind {
    /// A is B's parent.
    Parent,
    /// A is B's step-parent.
    StepParent,
    /// A is the partner of B's parent.
    PartnerOfParent,
    /// A and B are siblings.
    Sibling,
    /// A lives in B's household.
    HouseholdMember,
    /// Any other relationship (grandparent, family friend...).
    Other,
}

impl RelationshipKind {
    /// Every kind, for forms.
    pub const ALL: [RelationshipKind; 6] = [
        RelationshipKind::Parent,
        RelationshipKind::StepParent,
        RelationshipKind::PartnerOfParent,
        RelationshipKind::Sibling,
        RelationshipKind::HouseholdMember,
        RelationshipKind::Other,
    ];

    /// The code used in the API and the store.
    pub fn code(self) -> &'static str {
        match self {
            RelationshipKind::Parent => "parent",
            RelationshipKind::StepParent => "step_parent",
            RelationshipKind::PartnerOfParent => "partner_of_parent",
            RelationshipKind::Sibling => "sibling",
            RelationshipKind::HouseholdMember => "household_member",
            RelationshipKind::Other => "other",
        }
    }

    /// Words for a page ("parent of").
    pub fn label(self) -> &'static str {
        match self {
            RelationshipKind::Parent => "parent of",
            RelationshipKind::StepParent => "step-parent of",
            RelationshipKind::PartnerOfParent => "partner of a parent of",
            RelationshipKind::Sibling => "sibling of",
            RelationshipKind::HouseholdMember => "household member with",
            RelationshipKind::Other => "related to",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == s.trim())
            .ok_or_else(|| "must be parent, step_parent, partner_of_parent, sibling, household_member or other".into())
    }
}

/// The identifying details of a new person, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    /// Child or adult.
    pub kind: PersonKind,
    /// Given name.
    pub given_name: Name,
    /// Family name.
    pub family_name: Name,
    /// Date of birth.
    pub dob: DateOfBirth,
    /// Sex.
    pub sex: Sex,
    /// NHS number, when known.
    pub nhs_number: Option<NhsNumber>,
    /// Unique pupil number, when known.
    pub upn: Option<Upn>,
}

/// Raw person fields as they arrive from a form or the API.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    /// `child` (default) or `adult`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: String,
    /// Family name.
    #[serde(default)]
    pub family_name: String,
    /// ISO date of birth.
    #[serde(default)]
    pub dob: Option<String>,
    /// `known`, `estimated` or `unknown`.
    #[serde(default)]
    pub dob_precision: Option<String>,
    /// `male`, `female`, `unknown`.
    #[serde(default)]
    pub sex: Option<String>,
    /// NHS number.
    #[serde(default)]
    pub nhs_number: Option<String>,
    /// UPN.
    #[serde(default)]
    pub upn: Option<String>,
}

impl PersonDetails {
    /// Parses every field, recording each failure by its field name.
    pub fn parse(input: &PersonInput, today: Date, errors: &mut FieldErrors) -> Option<Self> {
        let before = errors.errors().len();
        let kind = match input.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(PersonKind::Child),
            Some(k) => errors.field("kind", PersonKind::parse(k)),
        };
        let given_name = errors.field("given_name", Name::parse(&input.given_name, "given name"));
        let family_name = errors.field("family_name", Name::parse(&input.family_name, "family name"));
        let dob = errors.field("dob", DateOfBirth::parse(input.dob.as_deref(), input.dob_precision.as_deref(), today));
        let sex = errors.field("sex", Sex::parse(input.sex.as_deref().unwrap_or("")));
        let nhs_number = non_empty(&input.nhs_number).and_then(|s| errors.field("nhs_number", NhsNumber::parse(s)));
        let upn = non_empty(&input.upn).and_then(|s| errors.field("upn", Upn::parse(s)));
        if let (Some(PersonKind::Child), Some(d)) = (kind, dob.and_then(|d| d.date()))
            && d.checked_add(jiff::Span::new().years(18)).is_ok_and(|adult| adult <= today)
        {
            errors.push("dob", "a child must be under 18; record an adult instead");
        }
        if errors.errors().len() != before {
            return None;
        }
        Some(PersonDetails {
            kind: kind?,
            given_name: given_name?,
            family_name: family_name?,
            dob: dob?,
            sex: sex?,
            nhs_number,
            upn,
        })
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn nhs_numbers_need_a_valid_check_digit() {
        assert_eq!(NhsNumber::parse("943 476 5919").unwrap().as_str(), "9434765919");
        assert_eq!(NhsNumber::parse("9434765919").unwrap().formatted(), "943 476 5919");
        assert!(NhsNumber::parse("9434765918").unwrap_err().contains("check digit"));
        assert!(NhsNumber::parse("943476591").unwrap_err().contains("10 digits"));
        assert!(NhsNumber::parse("94347659AB").is_err());
        // A remainder giving check value 10 is never issued.
        assert!(NhsNumber::parse("1000000010").is_err());
    }

    #[test]
    fn upns_need_a_valid_check_letter() {
        // Check letter computed by the DfE algorithm for 20120123456 + 7.
        let body = "801234567890";
        let sum: u32 = body.bytes().enumerate().map(|(i, c)| u32::from(c - b'0') * (i as u32 + 2)).sum();
        let letter = UPN_LETTERS[(sum % 23) as usize] as char;
        let upn = format!("{letter}{body}");
        assert_eq!(Upn::parse(&upn.to_lowercase()).unwrap().as_str(), upn);
        let wrong = if letter == 'A' { 'B' } else { 'A' };
        assert!(Upn::parse(&format!("{wrong}{body}")).unwrap_err().contains("check letter"));
        assert!(Upn::parse("A12345").is_err());
    }

    #[test]
    fn postcodes_are_normalised() {
        assert_eq!(Postcode::parse("sw1a1aa").unwrap().as_str(), "SW1A 1AA");
        assert_eq!(Postcode::parse(" M1 1AE ").unwrap().as_str(), "M1 1AE");
        assert!(Postcode::parse("12345").is_err());
        assert!(Postcode::parse("SW1A").is_err());
        assert!(Postcode::parse("ÜPÁÜ").is_err(), "non-ASCII is refused, not a panic");
        assert!(Postcode::parse("SW1A 1ÁA").is_err());
    }

    #[test]
    fn names_are_letters_and_punctuation() {
        assert_eq!(Name::parse("  Mary-Jane  ", "given name").unwrap().as_str(), "Mary-Jane");
        assert_eq!(Name::parse("O'Brien", "family name").unwrap().as_str(), "O'Brien");
        assert_eq!(Name::parse("Zoë", "given name").unwrap().as_str(), "Zoë");
        assert_eq!(Name::parse("", "given name").unwrap_err(), "enter the given name");
        assert_eq!(Name::parse("Baby 2", "given name").unwrap().as_str(), "Baby 2");
        assert!(Name::parse("Robert; DROP", "given name").is_err());
    }

    #[test]
    fn dates_of_birth_know_their_precision() {
        let today = date(2026, 3, 1);
        assert_eq!(DateOfBirth::parse(Some("2014-01-01"), None, today), Ok(DateOfBirth::Known(date(2014, 1, 1))));
        assert_eq!(
            DateOfBirth::parse(Some("2014-01-01"), Some("estimated"), today),
            Ok(DateOfBirth::Estimated(date(2014, 1, 1)))
        );
        assert_eq!(DateOfBirth::parse(None, Some("unknown"), today), Ok(DateOfBirth::Unknown));
        assert!(DateOfBirth::parse(Some("2027-01-01"), None, today).is_err());
        assert!(DateOfBirth::parse(Some("2014-02-30"), None, today).unwrap_err().contains("real date"));
        assert!(DateOfBirth::parse(None, None, today).is_err());
    }

    #[test]
    fn person_details_report_every_bad_field() {
        let mut errors = FieldErrors::new();
        let input = PersonInput {
            given_name: "".into(),
            family_name: "Scott".into(),
            dob: Some("2030-01-01".into()),
            nhs_number: Some("123".into()),
            ..Default::default()
        };
        assert!(PersonDetails::parse(&input, date(2026, 3, 1), &mut errors).is_none());
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["given_name", "dob", "nhs_number"]);
    }

    #[test]
    fn a_child_must_be_under_eighteen() {
        let mut errors = FieldErrors::new();
        let input = PersonInput {
            given_name: "Sam".into(),
            family_name: "Scott".into(),
            dob: Some("2000-01-01".into()),
            ..Default::default()
        };
        assert!(PersonDetails::parse(&input, date(2026, 3, 1), &mut errors).is_none());
        assert_eq!(errors.errors()[0].field, "dob");
        let mut errors = FieldErrors::new();
        let adult = PersonInput { kind: Some("adult".into()), ..input };
        assert!(PersonDetails::parse(&adult, date(2026, 3, 1), &mut errors).is_some());
    }
}
