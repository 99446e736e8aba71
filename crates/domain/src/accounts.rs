//! Decisions about teams and staff accounts, their sessions and tokens, absences and
//! contact details: each checks its rules and returns the events to record.

use crate::delivery::EmailAddress;
use crate::error::{FieldErrors, Rejection};
use crate::event::Event;
use crate::ids::{StaffId, TeamId, TokenId};
use crate::staff::{Agency, Fte, Login, NewPassword, Role};
use crate::text::{FreeName, Label};
use jiff::Timestamp;
use jiff::civil::Date;

/// A new account's fields as typed (`None`: left out).
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountFields<'a> {
    /// Sign-in name.
    pub login: &'a str,
    /// Full name.
    pub name: &'a str,
    /// Role code.
    pub role: &'a str,
    /// Agency code, for partners.
    pub agency: Option<&'a str>,
    /// Team id.
    pub team: Option<i64>,
    /// FTE; 1.0 if left out.
    pub fte: Option<f64>,
    /// Deputy's staff id.
    pub deputy: Option<i64>,
    /// The date they qualified (social workers).
    pub qualified_on: Option<&'a str>,
    /// Initial password.
    pub password: &'a str,
}

/// A new account, checked.
#[derive(Debug)]
pub struct NewAccount {
    /// Sign-in name.
    pub login: Login,
    /// Full name.
    pub name: FreeName,
    /// What they do.
    pub role: Role,
    /// Their agency (partners only).
    pub agency: Option<Agency>,
    /// Their team.
    pub team: Option<TeamId>,
    /// Full-time equivalence.
    pub fte: Fte,
    /// Who covers for them.
    pub deputy: Option<StaffId>,
    /// When they qualified.
    pub qualified_on: Option<Date>,
    /// The password to hash (none: the operator sets one later).
    pub password: Option<NewPassword>,
}

/// A date of qualifying: an ISO date, not in the future.
pub fn parse_qualified_on(raw: &str, today: Date) -> Result<Date, String> {
    let d: Date = raw.parse().map_err(|_| "must be a date such as 2025-09-01".to_string())?;
    if d > today { Err("cannot be in the future".into()) } else { Ok(d) }
}

impl NewAccount {
    /// Checks every field and the rules between them: a partner user has an agency and
    /// only a partner does; a social worker has a team; a person creating an account
    /// through the service gives a password (the operator at the command line may not).
    pub fn check(f: AccountFields<'_>, today: Date, by_operator: bool) -> Result<NewAccount, Rejection> {
        let mut errors = FieldErrors::new();
        let login = errors.field("login", Login::parse(f.login));
        let name = errors.field("name", FreeName::parse(f.name));
        let role = errors.field("role", Role::parse(f.role));
        let agency = match f.agency.map(str::trim).filter(|s| !s.is_empty()) {
            Some(a) => errors.field("agency", Agency::parse(a)),
            None => None,
        };
        if role == Some(Role::Partner) && agency.is_none() && !errors.errors().iter().any(|e| e.field == "agency") {
            errors.push("agency", "a partner user needs an agency: police, school, health or other");
        }
        if role.is_some_and(|r| r != Role::Partner) && agency.is_some() {
            errors.push("agency", "only partner users have an agency");
        }
        let fte = errors.field("fte", Fte::new(f.fte.unwrap_or(1.0)));
        let qualified_on = match f.qualified_on.map(str::trim).filter(|q| !q.is_empty()) {
            Some(raw) => errors.field("qualified_on", parse_qualified_on(raw, today)),
            None => None,
        };
        let password = if f.password.is_empty() && by_operator {
            Some(None)
        } else {
            errors.field("password", NewPassword::parse(f.password)).map(Some)
        };
        let team = f.team.filter(|t| *t > 0).map(TeamId);
        if role.is_some_and(Role::is_practitioner) && team.is_none() {
            errors.push("team", "a social worker needs a team");
        }
        errors.finish()?;
        let (Some(login), Some(name), Some(role), Some(fte), Some(password)) = (login, name, role, fte, password)
        else {
            return Err(Rejection::invalid("login", "missing"));
        };
        let deputy = f.deputy.filter(|d| *d > 0).map(StaffId);
        Ok(NewAccount { login, name, role, agency, team, fte, deputy, qualified_on, password })
    }
}

/// What adding an account must know of the records already there.
#[derive(Debug, Clone, Copy)]
pub struct AccountFacts {
    /// Someone already signs in with the login.
    pub login_taken: bool,
    /// The team named exists (true when none is named).
    pub team_exists: bool,
    /// The deputy named exists (true when none is named).
    pub deputy_exists: bool,
}

/// Gives a member of staff an account (the password already hashed).
pub fn add_staff(
    staff: StaffId,
    account: NewAccount,
    password_hash: Option<String>,
    facts: AccountFacts,
) -> Result<Vec<Event>, Rejection> {
    let NewAccount { login, name, role, agency, team, fte, deputy, qualified_on, .. } = account;
    if facts.login_taken {
        return Err(Rejection::conflict("login", format!("the login {login} is taken")));
    }
    if let Some(t) = team.filter(|_| !facts.team_exists) {
        return Err(Rejection::invalid("team", format!("there is no team {t}")));
    }
    if let Some(d) = deputy.filter(|_| !facts.deputy_exists) {
        return Err(Rejection::invalid("deputy", format!("there is no member of staff {d}")));
    }
    let mut events = vec![Event::StaffAdded { staff, login, name, role, agency, team, fte, deputy, password_hash }];
    if let Some(qualified_on) = qualified_on {
        events.push(Event::QualificationRecorded { staff, qualified_on });
    }
    Ok(events)
}

/// Creates a team, whose name no other team has.
pub fn create_team(team: TeamId, name: Label, name_taken: bool) -> Result<Event, Rejection> {
    if name_taken {
        return Err(Rejection::conflict("name", format!("there is already a team called {name}")));
    }
    Ok(Event::TeamCreated { team, name })
}

/// Who may hold each level of a team's line: a team manager or anyone more senior at
/// level 1, a service manager or more senior at 2, a head of service or the director at 3.
pub const LINE_ROLES: [&[Role]; 3] = [
    &[Role::TeamManager, Role::ServiceManager, Role::HeadOfService, Role::Director],
    &[Role::ServiceManager, Role::HeadOfService, Role::Director],
    &[Role::HeadOfService, Role::Director],
];

/// Someone named for a level of a team's line, as found.
#[derive(Debug, Clone)]
pub struct Named {
    /// The id given.
    pub id: i64,
    /// Their login and role, if they exist.
    pub found: Option<(String, Role)>,
}

/// Sets who manages a team at each level: each person named must exist and hold a role
/// senior enough for the level ([`LINE_ROLES`]).
pub fn set_team_leadership(team: TeamId, named: [Option<Named>; 3]) -> Result<Event, Rejection> {
    let mut errors = FieldErrors::new();
    let fields = ["team_manager", "service_manager", "head_of_service"];
    let mut levels = [None; 3];
    for (i, n) in named.into_iter().enumerate() {
        let Some(n) = n else { continue };
        match n.found {
            Some((_, role)) if LINE_ROLES[i].contains(&role) => levels[i] = Some(StaffId(n.id)),
            Some((login, role)) => errors.push(fields[i], format!("{login} is a {}", role.label().to_lowercase())),
            None => errors.push(fields[i], format!("there is no member of staff {}", n.id)),
        }
    }
    errors.finish()?;
    let [team_manager, service_manager, head_of_service] = levels;
    Ok(Event::TeamLeadershipSet { team, team_manager, service_manager, head_of_service })
}

/// Sets who covers for a member of staff (or nobody); nobody deputises for themselves.
pub fn set_deputy(staff: StaffId, deputy: Option<StaffId>, deputy_exists: bool) -> Result<Event, Rejection> {
    if deputy == Some(staff) {
        return Err(Rejection::invalid("deputy", "a person cannot be their own deputy"));
    }
    if let Some(d) = deputy.filter(|_| !deputy_exists) {
        return Err(Rejection::invalid("deputy", format!("there is no member of staff {d}")));
    }
    Ok(Event::DeputySet { staff, deputy })
}

/// Records when a social worker qualified; only people who hold cases have a date.
pub fn set_qualification(staff: StaffId, login: &str, role: Role, qualified_on: Date) -> Result<Event, Rejection> {
    if !role.is_practitioner() {
        return Err(Rejection::invalid("qualified_on", format!("{login} does not hold cases")));
    }
    Ok(Event::QualificationRecorded { staff, qualified_on })
}

/// Sets a new password (the hash; it ends the person's sessions).
pub fn set_password(staff: StaffId, password_hash: String) -> Event {
    Event::PasswordSet { staff, password_hash }
}

/// Starts a session for someone whose password was checked.
pub fn sign_in(staff: StaffId, expires_at: Timestamp, session_hash: String) -> Event {
    Event::SignedIn { staff, expires_at, session_hash }
}

/// Ends a session.
pub fn sign_out(staff: StaffId, session_hash: String) -> Event {
    Event::SignedOut { staff, session_hash }
}

/// Issues an API token to someone on record.
pub fn issue_token(
    token: TokenId,
    staff: StaffId,
    name: Label,
    token_hash: String,
    on_record: bool,
) -> Result<Event, Rejection> {
    if !on_record {
        return Err(Rejection::NotFound(staff.reference()));
    }
    Ok(Event::ApiTokenIssued { token, staff, name, token_hash })
}

/// Removes sessions that expired before `now`: nothing to record when there were none.
pub fn purge_sessions(before: Timestamp, count: u64) -> Option<Event> {
    (count > 0).then_some(Event::SessionsPurged { before, count })
}

/// Marks someone away until a moment in the future, or back (`None`).
pub fn set_absence(staff: StaffId, until: Option<Timestamp>, now: Timestamp) -> Result<Event, Rejection> {
    if until.is_some_and(|u| u <= now) {
        return Err(Rejection::invalid("until", "the end of the absence must be in the future"));
    }
    Ok(Event::AbsenceSet { staff, until })
}

/// Sets a member of staff's email address and whether notifications are emailed. Asking
/// for email while clearing the address is allowed (nothing is sent) but is almost
/// certainly a mistake on a form, so it is refused with a word beside the field.
pub fn set_contact(staff: StaffId, email: Option<&str>, email_notifications: Option<bool>) -> Result<Event, Rejection> {
    let mut errors = FieldErrors::new();
    let address = match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(raw) => errors.field("email", EmailAddress::parse(raw)),
        None => None,
    };
    let email_notifications = email_notifications.unwrap_or(true);
    if email_notifications && address.is_none() && email.is_some_and(|e| e.trim().is_empty()) {
        errors.push("email", "give an address to have notifications emailed, or turn email off");
    }
    errors.finish()?;
    Ok(Event::ContactSet { staff, email: address, email_notifications })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        "2026-03-02".parse().unwrap()
    }

    fn fields<'a>(role: &'a str, agency: Option<&'a str>, team: Option<i64>) -> AccountFields<'a> {
        AccountFields {
            login: "ana",
            name: "Ana Smith",
            role,
            agency,
            team,
            password: "correct horse battery",
            ..Default::default()
        }
    }

    fn fields_wrong(r: Result<NewAccount, Rejection>) -> Vec<String> {
        match r {
            Err(Rejection::Invalid(fields)) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    #[test]
    fn accounts_follow_the_rules_between_fields() {
        assert!(NewAccount::check(fields("social_worker", None, Some(1)), today(), false).is_ok());
        assert_eq!(fields_wrong(NewAccount::check(fields("social_worker", None, None), today(), false)), ["team"]);
        assert_eq!(fields_wrong(NewAccount::check(fields("partner", None, None), today(), false)), ["agency"]);
        assert_eq!(
            fields_wrong(NewAccount::check(fields("team_manager", Some("police"), Some(1)), today(), false)),
            ["agency"]
        );
        let no_password = AccountFields { password: "", ..fields("administrator", None, None) };
        assert_eq!(fields_wrong(NewAccount::check(no_password, today(), false)), ["password"]);
        assert!(NewAccount::check(no_password, today(), true).is_ok(), "the operator may set one later");
        let future = AccountFields { qualified_on: Some("2027-01-01"), ..fields("social_worker", None, Some(1)) };
        assert_eq!(fields_wrong(NewAccount::check(future, today(), false)), ["qualified_on"]);
    }

    #[test]
    fn an_account_needs_a_free_login_and_real_team_and_deputy() {
        let account = |deputy| {
            let f = AccountFields { deputy, ..fields("social_worker", None, Some(1)) };
            NewAccount::check(f, today(), false).unwrap()
        };
        let ok = AccountFacts { login_taken: false, team_exists: true, deputy_exists: true };
        assert_eq!(add_staff(StaffId(9), account(None), None, ok).unwrap().len(), 1);
        let taken = add_staff(StaffId(9), account(None), None, AccountFacts { login_taken: true, ..ok });
        assert!(matches!(taken, Err(Rejection::Conflict { field: Some(f), .. }) if f == "login"));
        let no_team = add_staff(StaffId(9), account(None), None, AccountFacts { team_exists: false, ..ok });
        assert!(matches!(no_team, Err(Rejection::Invalid(f)) if f[0].field == "team"));
        let no_deputy = add_staff(StaffId(9), account(Some(4)), None, AccountFacts { deputy_exists: false, ..ok });
        assert!(matches!(no_deputy, Err(Rejection::Invalid(f)) if f[0].field == "deputy"));
    }

    #[test]
    fn a_line_holds_people_senior_enough_for_each_level() {
        let named = |id, role| Some(Named { id, found: Some((format!("p{id}"), role)) });
        let e = set_team_leadership(TeamId(1), [named(2, Role::TeamManager), named(3, Role::Director), None]).unwrap();
        assert!(matches!(
            e,
            Event::TeamLeadershipSet { team_manager: Some(StaffId(2)), service_manager: Some(StaffId(3)), .. }
        ));
        let wrong = set_team_leadership(TeamId(1), [None, named(2, Role::TeamManager), None]);
        assert!(matches!(wrong, Err(Rejection::Invalid(f)) if f[0].field == "service_manager"));
        let missing = set_team_leadership(TeamId(1), [Some(Named { id: 8, found: None }), None, None]);
        assert!(matches!(missing, Err(Rejection::Invalid(f)) if f[0].message.contains("no member of staff 8")));
    }

    #[test]
    fn absences_end_in_the_future_and_email_needs_an_address() {
        let now: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        assert!(set_absence(StaffId(1), Some(now), now).is_err());
        assert!(set_absence(StaffId(1), None, now).is_ok());
        assert!(set_contact(StaffId(1), Some(""), None).is_err(), "email asked for, address cleared");
        assert!(set_contact(StaffId(1), Some(""), Some(false)).is_ok());
        assert!(set_contact(StaffId(1), Some("not an address"), None).is_err());
        assert!(matches!(
            set_contact(StaffId(1), Some(" a@b.example "), None),
            Ok(Event::ContactSet { email: Some(_), email_notifications: true, .. })
        ));
        assert!(purge_sessions(now, 0).is_none());
        assert!(matches!(
            issue_token(TokenId(1), StaffId(9), Label::parse("x").unwrap(), "h".into(), false),
            Err(Rejection::NotFound(_))
        ));
    }

    #[test]
    fn deputies_and_qualifications() {
        assert!(set_deputy(StaffId(1), Some(StaffId(1)), true).is_err());
        assert!(set_deputy(StaffId(1), Some(StaffId(2)), false).is_err());
        assert!(set_deputy(StaffId(1), None, false).is_ok());
        let date = today();
        assert!(set_qualification(StaffId(1), "ana", Role::SocialWorker, date).is_ok());
        assert!(set_qualification(StaffId(1), "tm", Role::TeamManager, date).is_err());
    }
}
