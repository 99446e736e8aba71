//! Raw input as it arrives (JSON from the API, forms from pages, steps from a scenario)
//! and its parsing into domain types. Parsing reports every bad field at once, by name.

use domain::ids::{PersonId, StaffId, TeamId};
use domain::person::{PersonDetails, PersonInput};
use domain::referral::{Decision, ReferralSource, parse_categories};
use domain::text::{ConcernText, FreeName, NoteText, Reason};
use domain::visit::VisitOutcome;
use domain::{FieldErrors, Rejection};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

/// Parses an RFC 3339 moment (`2026-03-02T09:00:00Z`) or a local `2026-03-02T09:00`
/// (read as Europe/London).
pub fn parse_moment(raw: &str) -> Result<Timestamp, String> {
    let s = raw.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| {
            dt.to_zoned_datetime(domain::working_time::Calendar::england_and_wales().time_zone().clone()).ok()
        })
        .map(|z| z.timestamp())
        .ok_or_else(|| "must be a date and time such as 2026-03-02T09:30".to_string())
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A child named in a referral: an existing person by id, or a new person's details.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReferralChildInput {
    /// An existing person.
    #[serde(default)]
    pub person_id: Option<i64>,
    /// Or a new person.
    #[serde(flatten)]
    pub details: PersonInput,
}

/// A referral as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReferralInput {
    /// The team whose front door receives it.
    pub team: Option<i64>,
    /// police, school, health, relative, neighbour, anonymous, self, other.
    #[serde(default)]
    pub source: String,
    /// Who referred (name, organisation).
    #[serde(default)]
    pub referrer: Option<String>,
    /// When it was received; now if left out.
    #[serde(default)]
    pub received_at: Option<String>,
    /// The concern.
    #[serde(default)]
    pub concern: String,
    /// physical, neglect, sexual, emotional.
    #[serde(default)]
    pub categories: Vec<String>,
    /// The children it is about.
    #[serde(default)]
    pub children: Vec<ReferralChildInput>,
}

// The parsed forms live with the rules that receive them.
pub use domain::referral::intake::{NewReferral, ReferralChild};

impl ReferralInput {
    /// Parses every field; `today` bounds dates of birth.
    pub fn parse(&self, today: Date) -> Result<NewReferral, Rejection> {
        let mut errors = FieldErrors::new();
        let team = match self.team {
            Some(t) if t > 0 => Some(TeamId(t)),
            _ => {
                errors.push("team", "choose the team receiving the referral");
                None
            }
        };
        let source = errors.field("source", ReferralSource::parse(&self.source));
        let referrer = blank(&self.referrer).and_then(|r| errors.field("referrer", FreeName::parse(r)));
        let received_at = blank(&self.received_at).and_then(|r| errors.field("received_at", parse_moment(r)));
        let concern = errors.field("concern", ConcernText::parse(&self.concern));
        let categories = errors.field("categories", parse_categories(&self.categories));
        if self.children.is_empty() {
            errors.push("children", "name at least one child");
        }
        let mut children = Vec::new();
        for (i, c) in self.children.iter().enumerate() {
            match c.person_id {
                Some(id) if id > 0 => children.push(ReferralChild::Existing(PersonId(id))),
                Some(_) => errors.push(format!("children[{i}].person_id"), "must be a person's id"),
                None => {
                    let mut child_errors = FieldErrors::new();
                    if let Some(d) = PersonDetails::parse(&c.details, today, &mut child_errors) {
                        children.push(ReferralChild::New(d));
                    }
                    errors.extend_prefixed(&format!("children[{i}]."), child_errors);
                }
            }
        }
        errors.finish()?;
        Ok(NewReferral {
            team: team.ok_or_else(|| Rejection::invalid("team", "missing"))?,
            source: source.ok_or_else(|| Rejection::invalid("source", "missing"))?,
            referrer,
            received_at,
            concern: concern.ok_or_else(|| Rejection::invalid("concern", "missing"))?,
            categories: categories.ok_or_else(|| Rejection::invalid("categories", "missing"))?,
            children,
        })
    }
}

/// A referral decision as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// nfa, early_help, assessment, strategy_discussion.
    #[serde(default)]
    pub decision: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

impl DecisionInput {
    /// Parses both fields.
    pub fn parse(&self) -> Result<(Decision, Reason), Rejection> {
        let mut errors = FieldErrors::new();
        let decision = errors.field("decision", Decision::parse(&self.decision));
        let reason = errors.field("reason", Reason::parse(&self.reason));
        errors.finish()?;
        match (decision, reason) {
            (Some(d), Some(r)) => Ok((d, r)),
            _ => Err(Rejection::invalid("decision", "missing")),
        }
    }
}

/// An allocation as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AllocationInput {
    /// The worker.
    pub worker: Option<i64>,
    /// A manager's reason for going over the worker's cap.
    #[serde(default)]
    pub override_reason: Option<String>,
}

impl AllocationInput {
    /// Parses both fields.
    pub fn parse(&self) -> Result<(StaffId, Option<Reason>), Rejection> {
        let mut errors = FieldErrors::new();
        let worker = match self.worker {
            Some(w) if w > 0 => Some(StaffId(w)),
            _ => {
                errors.push("worker", "choose a worker");
                None
            }
        };
        let reason = blank(&self.override_reason).and_then(|r| errors.field("override_reason", Reason::parse(r)));
        errors.finish()?;
        Ok((worker.ok_or_else(|| Rejection::invalid("worker", "missing"))?, reason))
    }
}

/// A visit as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VisitInput {
    /// When the visit happened; now if left out.
    #[serde(default)]
    pub visited_at: Option<String>,
    /// seen_alone, seen, not_seen, no_access.
    #[serde(default)]
    pub outcome: String,
    /// What happened.
    #[serde(default)]
    pub note: Option<String>,
}

impl VisitInput {
    /// Parses every field.
    pub fn parse(&self) -> Result<(Option<Timestamp>, VisitOutcome, Option<NoteText>), Rejection> {
        let mut errors = FieldErrors::new();
        let at = blank(&self.visited_at).and_then(|r| errors.field("visited_at", parse_moment(r)));
        let outcome = errors.field("outcome", VisitOutcome::parse(&self.outcome));
        let note = blank(&self.note).and_then(|n| errors.field("note", NoteText::parse(n)));
        errors.finish()?;
        Ok((at, outcome.ok_or_else(|| Rejection::invalid("outcome", "missing"))?, note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_referral_names_every_bad_field() {
        let input: ReferralInput = serde_json::from_str(
            r#"{"source":"postman","concern":"","categories":["bruising"],
                "children":[{"given_name":"Alfie","family_name":"","dob":"2014-01-01"}]}"#,
        )
        .unwrap();
        let Err(Rejection::Invalid(errors)) = input.parse(jiff::civil::date(2026, 3, 2)) else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["team", "source", "concern", "categories", "children[0].family_name"]);
    }

    #[test]
    fn a_good_referral_parses() {
        let input: ReferralInput = serde_json::from_str(
            r#"{"team":1,"source":"school","concern":"bruising to face","categories":["physical"],
                "children":[{"person_id":4},{"given_name":"Alfie","family_name":"Scott","dob":"2014-01-01"}]}"#,
        )
        .unwrap();
        let r = input.parse(jiff::civil::date(2026, 3, 2)).unwrap();
        assert_eq!(r.children.len(), 2);
        assert_eq!(r.children[0], ReferralChild::Existing(PersonId(4)));
    }

    #[test]
    fn local_times_are_read_as_london() {
        assert_eq!(parse_moment("2026-04-01T10:00").unwrap().to_string(), "2026-04-01T09:00:00Z");
        assert_eq!(parse_moment("2026-03-02T09:00:00Z").unwrap().to_string(), "2026-03-02T09:00:00Z");
        assert!(parse_moment("yesterday").is_err());
    }
}
