//! Staff, their roles and teams.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a member of staff does; decides what they may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A case-holding social worker.
    SocialWorker,
    /// An experienced social worker who may hold complex cases.
    SeniorPractitioner,
    /// Manages a team: decides referrals, allocates, first level of escalation.
    TeamManager,
    /// Manages several teams: second level of escalation.
    ServiceManager,
    /// Head of service: third level of escalation.
    HeadOfService,
    /// Director of children's services: fourth level.
    Director,
    /// Runs the system: users, teams, policies. Sees no child's record.
    Administrator,
    /// Someone from a partner agency (police, school, health…): makes referrals.
    Partner,
    /// Reads the audit trail (internal audit, an inspector): who saw and changed a
    /// child's record, never the record itself.
    Auditor,
}

impl Role {
    /// Every role, in order of seniority, then the three outside the line.
    pub const ALL: [Role; 9] = [
        Role::SocialWorker,
        Role::SeniorPractitioner,
        Role::TeamManager,
        Role::ServiceManager,
        Role::HeadOfService,
        Role::Director,
        Role::Administrator,
        Role::Partner,
        Role::Auditor,
    ];

    /// The code used in the API, the store and the CLI.
    pub fn code(self) -> &'static str {
        match self {
            Role::SocialWorker => "social_worker",
            Role::SeniorPractitioner => "senior_practitioner",
            Role::TeamManager => "team_manager",
            Role::ServiceManager => "service_manager",
            Role::HeadOfService => "head_of_service",
            Role::Director => "director",
            Role::Administrator => "administrator",
            Role::Partner => "partner",
            Role::Auditor => "auditor",
        }
    }

    /// Words for a page.
    pub fn label(self) -> &'static str {
        match self {
            Role::SocialWorker => "Social worker",
            Role::SeniorPractitioner => "Senior practitioner",
            Role::TeamManager => "Team manager",
            Role::ServiceManager => "Service manager",
            Role::HeadOfService => "Head of service",
            Role::Director => "Director",
            Role::Administrator => "Administrator",
            Role::Partner => "Partner agency",
            Role::Auditor => "Auditor",
        }
    }

    /// Parses a role code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|r| r.code() == s.trim()).ok_or_else(|| {
            format!("must be one of {}", Self::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(", "))
        })
    }

    /// Team manager or above in the management line.
    pub fn is_manager(self) -> bool {
        matches!(self, Role::TeamManager | Role::ServiceManager | Role::HeadOfService | Role::Director)
    }

    /// Holds cases (social workers and senior practitioners).
    pub fn is_practitioner(self) -> bool {
        matches!(self, Role::SocialWorker | Role::SeniorPractitioner)
    }

    /// Works inside the local authority's children's services (practitioners and managers).
    pub fn is_practice_staff(self) -> bool {
        self.is_practitioner() || self.is_manager()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The agency a partner user works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Agency {
    /// Police.
    Police,
    /// A school or education service.
    School,
    /// Health (GP, health visitor, hospital).
    Health,
    /// Any other agency.
    Other,
}

impl Agency {
    /// Every agency.
    pub const ALL: [Agency; 4] = [Agency::Police, Agency::School, Agency::Health, Agency::Other];

    /// The code used in the API and the store.
    pub fn code(self) -> &'static str {
        match self {
            Agency::Police => "police",
            Agency::School => "school",
            Agency::Health => "health",
            Agency::Other => "other",
        }
    }

    /// Parses an agency code.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.code() == s.trim())
            .ok_or_else(|| "must be police, school, health or other".into())
    }
}

/// A sign-in name: 3–64 characters of lower-case letters, digits, `.`, `-`, `_`, `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    /// Parses a login, folding it to lower case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_lowercase();
        if !(3..=64).contains(&s.len()) {
            return Err("a login has 3 to 64 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')) {
            return Err("a login may contain only letters, digits, '.', '-', '_' and '@'".into());
        }
        Ok(Self(s))
    }

    /// The login.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Full-time equivalence: more than 0, at most 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fte(f64);

impl Fte {
    /// Full time.
    pub const FULL: Fte = Fte(1.0);

    /// Parses an FTE such as `0.6`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim().parse::<f64>().map_err(|_| "must be a number such as 1.0 or 0.6".to_string()).and_then(Self::new)
    }

    /// Checks a number is a sensible FTE.
    pub fn new(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(Self(v))
        } else {
            Err("must be more than 0 and at most 1.0".into())
        }
    }

    /// The fraction.
    pub fn value(self) -> f64 {
        self.0
    }
}

/// A password as typed, checked against the minimum policy. Never stored or logged.
pub struct NewPassword(String);

impl NewPassword {
    /// At least 12 characters, not all the same character.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() < 12 {
            return Err("a password needs at least 12 characters".into());
        }
        if raw.chars().count() > 1024 {
            return Err("a password must be 1024 characters or fewer".into());
        }
        let first = raw.chars().next();
        if raw.chars().all(|c| Some(c) == first) {
            return Err("a password cannot be one character repeated".into());
        }
        Ok(Self(raw.to_string()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_rank() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Ok(r));
        }
        assert!(Role::parse("boss").unwrap_err().contains("social_worker"));
        assert!(Role::TeamManager.is_manager());
        assert!(!Role::SeniorPractitioner.is_manager());
        assert!(!Role::Administrator.is_practice_staff());
        assert!(!Role::Partner.is_practice_staff());
        assert_eq!(Role::parse("auditor"), Ok(Role::Auditor));
        assert_eq!(Role::Auditor.label(), "Auditor");
        assert!(!Role::Auditor.is_practice_staff() && !Role::Auditor.is_manager());
    }

    #[test]
    fn logins_fte_and_passwords_parse() {
        assert_eq!(Login::parse(" Ana.Smith ").unwrap().as_str(), "ana.smith");
        assert!(Login::parse("a b").is_err());
        assert!(Login::parse("ab").is_err());
        assert_eq!(Fte::parse("0.6").unwrap().value(), 0.6);
        assert!(Fte::parse("0").is_err());
        assert!(Fte::parse("1.5").is_err());
        assert!(Fte::parse("NaN").is_err());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaaaaa").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert_eq!(format!("{:?}", NewPassword::parse("correct horse battery").unwrap()), "NewPassword(<redacted>)");
    }
}
