//! Teams and staff accounts.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, CommandError, Result, Service, auth, not_found};
use domain::Rejection;
use domain::accounts;
use domain::authz::Action;
use domain::ids::{StaffId, TeamId};
use domain::staff::NewPassword;
use domain::text::Label;
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
        let taken = load.team_name_taken(name.as_str()).await?;
        let team = TeamId(load.next_id(TeamId::KIND).await?);
        Ok(Decided::new(team.subject(), vec![accounts::create_team(team, name, taken)?], team))
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
        let mut named: [Option<accounts::Named>; 3] = Default::default();
        for (slot, id) in named.iter_mut().zip([input.team_manager, input.service_manager, input.head_of_service]) {
            if let Some(id) = id {
                let found = load.staff_actor(StaffId(id)).await?.map(|a| (a.login, a.role));
                *slot = Some(accounts::Named { id, found });
            }
        }
        Ok(Decided::new(team.subject(), vec![accounts::set_team_leadership(team, named)?], ()))
    }
}

/// Gives a member of staff an account.
struct AddStaff {
    account: accounts::NewAccount,
    password_hash: Option<String>,
}

impl Command for AddStaff {
    type Output = StaffId;
    const ACTION: &'static str = "staff.add";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageStaff)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<StaffId>> {
        let a = &self.account;
        let facts = accounts::AccountFacts {
            login_taken: load.login_taken(a.login.as_str()).await?,
            team_exists: match a.team {
                Some(t) => load.team_exists(t).await?,
                None => true,
            },
            deputy_exists: match a.deputy {
                Some(d) => load.staff_actor(d).await?.is_some(),
                None => true,
            },
        };
        let staff = StaffId(load.next_id(StaffId::KIND).await?);
        let events = accounts::add_staff(staff, self.account, self.password_hash, facts)?;
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
        if load.staff_actor(staff).await?.is_none() {
            return Err(not_found(staff.reference()));
        }
        let deputy_exists = match deputy {
            Some(d) if d != staff => load.staff_actor(d).await?.is_some(),
            _ => true,
        };
        Ok(Decided::new(staff.subject(), vec![accounts::set_deputy(staff, deputy, deputy_exists)?], ()))
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
        let qualified_on = accounts::parse_qualified_on(self.input.qualified_on.trim(), load.today())
            .map_err(|e| Rejection::invalid("qualified_on", e))?;
        let who = load.staff_actor(staff).await?.ok_or_else(|| not_found(staff.reference()))?;
        let event = accounts::set_qualification(staff, &who.login, who.role, qualified_on)?;
        Ok(Decided::new(staff.subject(), vec![event], ()))
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
        Ok(Decided::new(staff.subject(), vec![accounts::set_password(staff, self.password_hash)], ()))
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
        let fields = accounts::AccountFields {
            login: &input.login,
            name: &input.name,
            role: &input.role,
            agency: input.agency.as_deref(),
            team: input.team,
            fte: input.fte,
            deputy: input.deputy,
            qualified_on: input.qualified_on.as_deref(),
            password: &input.password,
        };
        let mut account = accounts::NewAccount::check(fields, self.today(), matches!(by, Caller::System(_)))?;
        let password_hash = match account.password.take() {
            Some(p) => Some(hash_off_thread(p).await?),
            None => None,
        };
        self.execute(by, AddStaff { account, password_hash }).await
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
