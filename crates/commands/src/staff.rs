//! Teams and staff accounts.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, CommandError, Result, Service, auth, not_found};
use domain::authz::Action;
use domain::event::Event;
use domain::ids::{StaffId, TeamId};
use domain::staff::{Agency, Fte, Login, NewPassword, Role};
use domain::text::{FreeName, Label};
use domain::{FieldErrors, Rejection};
use serde::Deserialize;

/// A new team as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TeamInput {
    /// The team's name.
    #[serde(default)]
    pub name: String,
}

/// The management line of a team as it arrives (ids of staff).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LeadershipInput {
    /// Team manager (escalation level 1).
    #[serde(default)]
    pub team_manager: Option<i64>,
    /// Service manager (level 2).
    #[serde(default)]
    pub service_manager: Option<i64>,
    /// Head of service (level 3).
    #[serde(default)]
    pub head_of_service: Option<i64>,
}

/// A new member of staff as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StaffInput {
    /// Sign-in name.
    #[serde(default)]
    pub login: String,
    /// Full name.
    #[serde(default)]
    pub name: String,
    /// Role code.
    #[serde(default)]
    pub role: String,
    /// Agency code, for partners.
    #[serde(default)]
    pub agency: Option<String>,
    /// Team id.
    #[serde(default)]
    pub team: Option<i64>,
    /// FTE; 1.0 if left out.
    #[serde(default)]
    pub fte: Option<f64>,
    /// Deputy's staff id.
    #[serde(default)]
    pub deputy: Option<i64>,
    /// Initial password.
    #[serde(default)]
    pub password: String,
    /// For social workers: the date they qualified (their first year has a smaller cap
    /// and no child protection case without a manager's reason).
    #[serde(default)]
    pub qualified_on: Option<String>,
}

/// A date of qualifying: an ISO date, not in the future.
fn parse_qualified_on(raw: &str, today: jiff::civil::Date) -> Result<jiff::civil::Date, String> {
    let d: jiff::civil::Date = raw.parse().map_err(|_| "must be a date such as 2025-09-01".to_string())?;
    if d > today { Err("cannot be in the future".into()) } else { Ok(d) }
}

/// When a social worker qualified, as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct QualificationInput {
    /// An ISO date.
    #[serde(default)]
    pub qualified_on: String,
}

/// Creates a team.
struct CreateTeam<'a> {
    input: &'a TeamInput,
}

impl Command for CreateTeam<'_> {
    type Output = TeamId;
    const ACTION: &'static str = "team.create";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageTeams)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<TeamId>> {
        let name = Label::parse(&self.input.name).map_err(|e| Rejection::invalid("name", e))?;
        if load.team_name_taken(name.as_str()).await? {
            return Err(Rejection::conflict("name", format!("there is already a team called {name}")).into());
        }
        let team = TeamId(load.next_id(TeamId::KIND).await?);
        Ok(Decided::new(team.subject(), vec![Event::TeamCreated { team, name }], team))
    }
}

/// Sets who manages a team at each level of escalation.
struct SetTeamLeadership<'a> {
    team: TeamId,
    input: &'a LeadershipInput,
}

impl Command for SetTeamLeadership<'_> {
    type Output = ();
    const ACTION: &'static str = "team.set_leadership";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageTeams)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (team, input) = (self.team, self.input);
        if !load.team_exists(team).await? {
            return Err(not_found(team.reference()));
        }
        let mut errors = FieldErrors::new();
        let mut check = async |field: &str, id: Option<i64>, roles: &[Role]| -> Result<Option<StaffId>> {
            let Some(id) = id else { return Ok(None) };
            match load.staff_actor(StaffId(id)).await? {
                Some(a) if roles.contains(&a.role) => Ok(Some(a.staff)),
                Some(a) => {
                    errors.push(field, format!("{} is a {}", a.login, a.role.label().to_lowercase()));
                    Ok(None)
                }
                None => {
                    errors.push(field, format!("there is no member of staff {id}"));
                    Ok(None)
                }
            }
        };
        let managers = [Role::TeamManager, Role::ServiceManager, Role::HeadOfService, Role::Director];
        let tm = check("team_manager", input.team_manager, &managers).await?;
        let sm = check("service_manager", input.service_manager, &managers[1..]).await?;
        let hos = check("head_of_service", input.head_of_service, &managers[2..]).await?;
        errors.finish()?;
        let event = Event::TeamLeadershipSet { team, team_manager: tm, service_manager: sm, head_of_service: hos };
        Ok(Decided::new(team.subject(), vec![event], ()))
    }
}

/// A new account's details, checked, with the password already hashed.
struct NewStaff {
    login: Login,
    name: FreeName,
    role: Role,
    agency: Option<Agency>,
    team: Option<TeamId>,
    fte: Fte,
    deputy: Option<StaffId>,
    qualified_on: Option<jiff::civil::Date>,
    password_hash: Option<String>,
}

/// Gives a member of staff an account.
struct AddStaff {
    new: NewStaff,
}

impl Command for AddStaff {
    type Output = StaffId;
    const ACTION: &'static str = "staff.add";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageStaff)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<StaffId>> {
        let NewStaff { login, name, role, agency, team, fte, deputy, qualified_on, password_hash } = self.new;
        if load.login_taken(login.as_str()).await? {
            return Err(Rejection::conflict("login", format!("the login {login} is taken")).into());
        }
        if let Some(t) = team
            && !load.team_exists(t).await?
        {
            return Err(Rejection::invalid("team", format!("there is no team {t}")).into());
        }
        if let Some(d) = deputy
            && load.staff_actor(d).await?.is_none()
        {
            return Err(Rejection::invalid("deputy", format!("there is no member of staff {d}")).into());
        }
        let staff = StaffId(load.next_id(StaffId::KIND).await?);
        let mut events = vec![Event::StaffAdded { staff, login, name, role, agency, team, fte, deputy, password_hash }];
        if let Some(qualified_on) = qualified_on {
            events.push(Event::QualificationRecorded { staff, qualified_on });
        }
        Ok(Decided::new(staff.subject(), events, staff))
    }
}

/// Sets who covers for a member of staff when they are away (or nobody).
struct SetDeputy {
    staff: StaffId,
    deputy: Option<StaffId>,
}

impl Command for SetDeputy {
    type Output = ();
    const ACTION: &'static str = "staff.set_deputy";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageStaff)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (staff, deputy) = (self.staff, self.deputy);
        if deputy == Some(staff) {
            return Err(Rejection::invalid("deputy", "a person cannot be their own deputy").into());
        }
        if load.staff_actor(staff).await?.is_none() {
            return Err(not_found(staff.reference()));
        }
        if let Some(d) = deputy
            && load.staff_actor(d).await?.is_none()
        {
            return Err(Rejection::invalid("deputy", format!("there is no member of staff {d}")).into());
        }
        Ok(Decided::new(staff.subject(), vec![Event::DeputySet { staff, deputy }], ()))
    }
}

/// Records when a social worker qualified.
struct SetQualification<'a> {
    staff: StaffId,
    input: &'a QualificationInput,
}

impl Command for SetQualification<'_> {
    type Output = ();
    const ACTION: &'static str = "staff.set_qualification";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageStaff)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let staff = self.staff;
        let qualified_on = parse_qualified_on(self.input.qualified_on.trim(), load.today())
            .map_err(|e| Rejection::invalid("qualified_on", e))?;
        match load.staff_actor(staff).await? {
            Some(a) if a.role.is_practitioner() => {}
            Some(a) => {
                return Err(Rejection::invalid("qualified_on", format!("{} does not hold cases", a.login)).into());
            }
            None => return Err(not_found(staff.reference())),
        }
        Ok(Decided::new(staff.subject(), vec![Event::QualificationRecorded { staff, qualified_on }], ()))
    }
}

/// Sets a new password (ending the person's sessions).
struct SetPassword {
    staff: StaffId,
    password_hash: String,
}

/// People set their own password; setting anyone else's is managing staff.
fn may_set_password(caller: &Caller<'_>, staff: StaffId) -> Result<()> {
    match caller {
        Caller::Staff(a) if a.staff == staff => Ok(()),
        _ => caller.require(Action::ManageStaff),
    }
}

impl Command for SetPassword {
    type Output = ();
    const ACTION: &'static str = "staff.set_password";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        may_set_password(caller, self.staff)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let staff = self.staff;
        if load.staff_actor(staff).await?.is_none() {
            return Err(not_found(staff.reference()));
        }
        let event = Event::PasswordSet { staff, password_hash: self.password_hash };
        Ok(Decided::new(staff.subject(), vec![event], ()))
    }
}

/// Hashes a password off the async threads (argon2 takes tens of milliseconds).
async fn hash_off_thread(password: NewPassword) -> Result<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| CommandError::Rejected(Rejection::invalid("password", e.to_string())))?
}

impl Service {
    /// Creates a team.
    pub async fn create_team(&self, by: Caller<'_>, input: &TeamInput) -> Result<TeamId> {
        self.execute(by, CreateTeam { input }).await
    }

    /// Sets who manages a team at each level of escalation.
    pub async fn set_team_leadership(&self, by: Caller<'_>, team: TeamId, input: &LeadershipInput) -> Result<()> {
        self.execute(by, SetTeamLeadership { team, input }).await
    }

    /// Gives a member of staff an account.
    pub async fn add_staff(&self, by: Caller<'_>, input: &StaffInput) -> Result<StaffId> {
        // Checked before the password is hashed: hashing is costly, and the refusal must
        // not wait on it.
        by.require(Action::ManageStaff)?;
        let mut errors = FieldErrors::new();
        let login = errors.field("login", Login::parse(&input.login));
        let name = errors.field("name", FreeName::parse(&input.name));
        let role = errors.field("role", Role::parse(&input.role));
        let agency = match input.agency.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(a) => errors.field("agency", Agency::parse(a)),
            None => None,
        };
        if role == Some(Role::Partner) && agency.is_none() && !errors.errors().iter().any(|e| e.field == "agency") {
            errors.push("agency", "a partner user needs an agency: police, school, health or other");
        }
        if role.is_some_and(|r| r != Role::Partner) && agency.is_some() {
            errors.push("agency", "only partner users have an agency");
        }
        let fte = errors.field("fte", Fte::new(input.fte.unwrap_or(1.0)));
        let qualified_on = match input.qualified_on.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(raw) => errors.field("qualified_on", parse_qualified_on(raw, self.today())),
            None => None,
        };
        // The operator may create an account without a password (set one later); a
        // person creating one through the service must give one.
        let password = if input.password.is_empty() && matches!(by, Caller::System(_)) {
            Some(None)
        } else {
            errors.field("password", NewPassword::parse(&input.password)).map(Some)
        };
        let team = input.team.filter(|t| *t > 0).map(TeamId);
        if role.is_some_and(Role::is_practitioner) && team.is_none() {
            errors.push("team", "a social worker needs a team");
        }
        errors.finish()?;
        let (Some(login), Some(name), Some(role), Some(fte), Some(password)) = (login, name, role, fte, password)
        else {
            return Err(Rejection::invalid("login", "missing").into());
        };
        let password_hash = match password {
            Some(p) => Some(hash_off_thread(p).await?),
            None => None,
        };
        let deputy = input.deputy.filter(|d| *d > 0).map(StaffId);
        let new = NewStaff { login, name, role, agency, team, fte, deputy, qualified_on, password_hash };
        self.execute(by, AddStaff { new }).await
    }

    /// Sets who covers for a member of staff when they are away (or nobody).
    pub async fn set_deputy(&self, by: Caller<'_>, staff: StaffId, deputy: Option<StaffId>) -> Result<()> {
        self.execute(by, SetDeputy { staff, deputy }).await
    }

    /// Records when a social worker qualified.
    pub async fn set_qualification(&self, by: Caller<'_>, staff: StaffId, input: &QualificationInput) -> Result<()> {
        self.execute(by, SetQualification { staff, input }).await
    }

    /// Sets a new password (ending the person's sessions).
    pub async fn set_password(&self, by: Caller<'_>, staff: StaffId, password: &str) -> Result<()> {
        // Checked before the password is hashed, as for a new account.
        may_set_password(&by, staff)?;
        let password = NewPassword::parse(password).map_err(|e| Rejection::invalid("password", e))?;
        let password_hash = hash_off_thread(password).await?;
        self.execute(by, SetPassword { staff, password_hash }).await
    }
}
