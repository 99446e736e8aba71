//! Administration: staff accounts and teams with their management lines.

use super::{Choice, DoneQuery, Field, FormErrors, Layout, path_id, render, render_invalid, see_other};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum_extra::extract::Form;
use commands::Caller;
use commands::read_models::{StaffView, TeamView};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use domain::authz::{Action, require};
use domain::case::trim_number;
use domain::escalation::{Policy, PolicyError};
use domain::ids::TeamId;
use domain::staff::{Agency, Role};
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(staff_list))
        .route("/admin/staff/new", get(new_staff_form).post(new_staff))
        .route("/admin/teams", get(teams).post(create_team))
        .route("/admin/teams/{id}", get(team_form).post(set_leadership))
        .route("/admin/policy", get(policy_form).post(save_policy))
}

fn agency_label(a: Agency) -> &'static str {
    match a {
        Agency::Police => "Police",
        Agency::School => "School or education",
        Agency::Health => "Health",
        Agency::Other => "Other agency",
    }
}

/// A member of staff in the table.
struct StaffRow {
    id: i64,
    name: String,
    login: String,
    role: &'static str,
    agency: &'static str,
    team: String,
    fte: String,
    active: bool,
    /// When they are back, if away now.
    away_until: String,
}

impl StaffRow {
    fn new(s: &StaffView) -> Self {
        StaffRow {
            id: s.id.0,
            name: s.name.clone(),
            login: s.login.clone(),
            role: s.role.label(),
            agency: s.agency.map(agency_label).unwrap_or(""),
            team: s.team.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            fte: trim_number(s.fte),
            active: s.active,
            away_until: String::new(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    layout: Layout,
    rows: Vec<StaffRow>,
}

async fn staff_list(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    require(&user.actor, Action::ManageStaff)?;
    let staff = state.svc.staff_list(&user.actor, None).await?;
    let away = state.svc.absences(&user.actor).await?;
    let page = StaffPage {
        layout: Layout::load(&state, &user, "/admin/staff").await?.with_notice(q.done.as_deref()),
        rows: staff
            .iter()
            .map(|s| StaffRow {
                away_until: away.iter().find(|(who, _)| *who == s.id).map(|(_, t)| super::when(t)).unwrap_or_default(),
                ..StaffRow::new(s)
            })
            .collect(),
    };
    Ok(render(&page))
}

#[derive(Debug, Deserialize, Default)]
struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    fte: String,
    #[serde(default)]
    qualified_on: String,
    #[serde(default)]
    password: String,
}

#[derive(askama::Template)]
#[template(path = "admin_staff_new.html")]
struct NewStaffPage {
    layout: Layout,
    errors: FormErrors,
    login: Field,
    name: Field,
    role: Field,
    roles: Vec<Choice>,
    agency: Field,
    agencies: Vec<Choice>,
    team: Field,
    teams: Vec<Choice>,
    fte: Field,
    qualified_on: Field,
    password: Field,
}

async fn new_staff_page(
    state: &AppState,
    user: &PageUser,
    form: &StaffForm,
    errors: FormErrors,
) -> Result<NewStaffPage, PageError> {
    let mut roles = vec![Choice::new("", "Choose a role")];
    roles.extend(Role::ALL.iter().map(|r| Choice::new(r.code(), r.label())));
    let mut agencies = vec![Choice::new("", "None (not a partner agency)")];
    agencies.extend(Agency::ALL.iter().map(|a| Choice::new(a.code(), agency_label(*a))));
    let mut teams = vec![Choice::new("", "No team")];
    teams.extend(state.svc.teams(&user.actor).await?.into_iter().map(|t| Choice::new(t.id.0.to_string(), t.name)));
    Ok(NewStaffPage {
        layout: Layout::load(state, user, "/admin/staff").await?,
        login: Field::new("login", &form.login, &errors),
        name: Field::new("name", &form.name, &errors),
        role: Field::new("role", &form.role, &errors),
        roles,
        agency: Field::new("agency", &form.agency, &errors),
        agencies,
        team: Field::new("team", &form.team, &errors),
        teams,
        fte: Field::new("fte", &form.fte, &errors),
        qualified_on: Field::new("qualified_on", &form.qualified_on, &errors),
        // A password is never sent back to the browser.
        password: Field::new("password", "", &errors),
        errors,
    })
}

async fn new_staff_form(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    require(&user.actor, Action::ManageStaff)?;
    let form = StaffForm { fte: "1".into(), ..Default::default() };
    Ok(render(&new_staff_page(&state, &user, &form, FormErrors::default()).await?))
}

const FTE_MESSAGE: &str = "must be a number such as 1.0 or 0.6";

async fn new_staff(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<StaffForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let fte = match form.fte.trim() {
        "" => None,
        // Not a number: NaN is refused by the command, which then reports every field at once.
        raw => Some(raw.parse::<f64>().unwrap_or(f64::NAN)),
    };
    let input = StaffInput {
        login: form.login.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        agency: Some(form.agency.clone()),
        team: form.team.trim().parse().ok(),
        fte,
        deputy: None,
        password: form.password.clone(),
        qualified_on: Some(form.qualified_on.clone()),
    };
    match state.svc.add_staff(Caller::Staff(&user.actor), &input).await {
        Ok(_) => Ok(see_other("/admin/staff?done=staff")),
        Err(e) => {
            let mut errors = FormErrors::from_command(e)?.explain_blank("role", &form.role, "choose a role");
            if fte.is_some_and(f64::is_nan) {
                for err in errors.0.iter_mut().filter(|e| e.field == "fte") {
                    err.message = FTE_MESSAGE.into();
                }
            }
            Ok(render_invalid(&new_staff_page(&state, &user, &form, errors).await?))
        }
    }
}

/// A team in the table.
struct TeamRow {
    id: i64,
    name: String,
    team_manager: String,
    service_manager: String,
    head_of_service: String,
}

impl TeamRow {
    fn new(t: &TeamView) -> Self {
        let name = |n: &Option<commands::read_models::Named<domain::ids::StaffId>>| {
            n.as_ref().map(|s| s.name.clone()).unwrap_or_default()
        };
        TeamRow {
            id: t.id.0,
            name: t.name.clone(),
            team_manager: name(&t.team_manager),
            service_manager: name(&t.service_manager),
            head_of_service: name(&t.head_of_service),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "admin_teams.html")]
struct TeamsPage {
    layout: Layout,
    errors: FormErrors,
    rows: Vec<TeamRow>,
    name: Field,
}

#[derive(Debug, Deserialize, Default)]
struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn teams_page(
    state: &AppState,
    user: &PageUser,
    name: &str,
    errors: FormErrors,
    done: Option<&str>,
) -> Result<TeamsPage, PageError> {
    require(&user.actor, Action::ManageTeams)?;
    let teams = state.svc.teams(&user.actor).await?;
    Ok(TeamsPage {
        layout: Layout::load(state, user, "/admin/teams").await?.with_notice(done),
        rows: teams.iter().map(TeamRow::new).collect(),
        name: Field::new("name", name, &errors),
        errors,
    })
}

async fn teams(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    Ok(render(&teams_page(&state, &user, "", FormErrors::default(), q.done.as_deref()).await?))
}

async fn create_team(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    match state.svc.create_team(Caller::Staff(&user.actor), &TeamInput { name: form.name.clone() }).await {
        Ok(_) => Ok(see_other("/admin/teams?done=team")),
        Err(e) => {
            let errors = FormErrors::from_command(e)?;
            Ok(render_invalid(&teams_page(&state, &user, &form.name, errors, None).await?))
        }
    }
}

#[derive(askama::Template)]
#[template(path = "admin_team.html")]
struct TeamPage {
    layout: Layout,
    errors: FormErrors,
    team: TeamRow,
    members: Vec<StaffRow>,
    team_manager: Field,
    service_manager: Field,
    head_of_service: Field,
    team_managers: Vec<Choice>,
    service_managers: Vec<Choice>,
    heads_of_service: Vec<Choice>,
}

#[derive(Debug, Deserialize, Default)]
struct LeadershipForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    team_manager: String,
    #[serde(default)]
    service_manager: String,
    #[serde(default)]
    head_of_service: String,
}

async fn team_page(
    state: &AppState,
    user: &PageUser,
    id: TeamId,
    form: Option<&LeadershipForm>,
    errors: FormErrors,
    done: Option<&str>,
) -> Result<TeamPage, PageError> {
    require(&user.actor, Action::ManageTeams)?;
    let team = state.svc.team(&user.actor, id).await?;
    let staff = state.svc.staff_list(&user.actor, None).await?;
    // Each level may be held by someone at that level or above, as the command checks.
    let choices = |min: Role| {
        let mut out = vec![Choice::new("", "No one")];
        out.extend(
            staff
                .iter()
                .filter(|s| s.active && s.role.is_manager() && s.role >= min)
                .map(|s| Choice::new(s.id.0.to_string(), format!("{} ({})", s.name, s.role.label()))),
        );
        out
    };
    let id_of = |n: &Option<commands::read_models::Named<domain::ids::StaffId>>| {
        n.as_ref().map(|s| s.id.0.to_string()).unwrap_or_default()
    };
    let (tm, sm, hs) = match form {
        Some(f) => (f.team_manager.clone(), f.service_manager.clone(), f.head_of_service.clone()),
        None => (id_of(&team.team_manager), id_of(&team.service_manager), id_of(&team.head_of_service)),
    };
    Ok(TeamPage {
        layout: Layout::load(state, user, "/admin/teams").await?.with_notice(done),
        members: staff.iter().filter(|s| s.team.as_ref().is_some_and(|t| t.id == id)).map(StaffRow::new).collect(),
        team: TeamRow::new(&team),
        team_manager: Field::new("team_manager", tm, &errors),
        service_manager: Field::new("service_manager", sm, &errors),
        head_of_service: Field::new("head_of_service", hs, &errors),
        team_managers: choices(Role::TeamManager),
        service_managers: choices(Role::ServiceManager),
        heads_of_service: choices(Role::HeadOfService),
        errors,
    })
}

async fn team_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let id = TeamId(path_id(&id, "team")?);
    Ok(render(&team_page(&state, &user, id, None, FormErrors::default(), q.done.as_deref()).await?))
}

async fn set_leadership(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<LeadershipForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = TeamId(path_id(&id, "team")?);
    // Not a number: sent as an impossible id so the command names the field.
    let staff_id = |raw: &str| match raw.trim() {
        "" => None,
        s => Some(s.parse::<i64>().unwrap_or(0)),
    };
    let input = LeadershipInput {
        team_manager: staff_id(&form.team_manager),
        service_manager: staff_id(&form.service_manager),
        head_of_service: staff_id(&form.head_of_service),
    };
    match state.svc.set_team_leadership(Caller::Staff(&user.actor), id, &input).await {
        Ok(()) => Ok(see_other(&format!("/admin/teams/{}?done=leadership", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command(e)?;
            Ok(render_invalid(&team_page(&state, &user, id, Some(&form), errors, None).await?))
        }
    }
}

// ------------------------------------------------------------------ escalation policy

/// One trigger's line in the policy table.
struct TriggerRow {
    label: &'static str,
    code: &'static str,
    start_level: u8,
    ack_within: String,
    resolve_within: String,
}

#[derive(askama::Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage {
    layout: Layout,
    errors: FormErrors,
    version: i64,
    top_level: u8,
    repeat_every: String,
    overload_threshold: u32,
    cap_per_fte: String,
    over_cap_start_higher_at: String,
    triggers: Vec<TriggerRow>,
    policy: Field,
}

#[derive(Debug, Deserialize, Default)]
struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    policy: String,
}

/// The policy page: the policy in force in words, and its JSON to edit (`text`, or the
/// policy in force when `None`).
async fn policy_page(
    state: &AppState,
    user: &PageUser,
    text: Option<&str>,
    errors: FormErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    require(&user.actor, Action::ManageTeams)?;
    let (version, p) = state.svc.current_policy().await?;
    let words = super::timescale_words;
    let triggers = p
        .triggers
        .iter()
        .map(|(t, tp)| TriggerRow {
            label: t.label(),
            code: t.code(),
            start_level: tp.start_level,
            ack_within: words(tp.ack_within),
            resolve_within: tp.resolve_within.iter().map(|r| words(*r)).collect::<Vec<_>>().join(", then "),
        })
        .collect();
    let text = match text {
        Some(t) => t.to_string(),
        None => serde_json::to_string_pretty(p.as_ref()).unwrap_or_default(),
    };
    let invalid = errors.any();
    let page = PolicyPage {
        layout: Layout::load(state, user, "/admin/policy").await?.with_notice(done),
        version,
        top_level: p.top_level,
        repeat_every: words(p.repeat_every),
        overload_threshold: p.overload_threshold,
        cap_per_fte: trim_number(p.cap_per_fte),
        over_cap_start_higher_at: trim_number(p.over_cap_start_higher_at),
        triggers,
        policy: Field::new("policy", text, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn policy_form(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    policy_page(&state, &user, None, FormErrors::default(), q.done.as_deref()).await
}

async fn save_policy(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<PolicyForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    require(&user.actor, Action::ManageTeams)?;
    // Every problem is shown beside the one text box, naming the policy's own field.
    let beside = |message: String| FormErrors(vec![domain::FieldError::new("policy", message)]);
    let policy = match Policy::from_json(&form.policy) {
        Ok(p) => p,
        Err(PolicyError::Malformed(m)) => {
            let errors = beside(format!("the policy is not valid: {m}"));
            return policy_page(&state, &user, Some(&form.policy), errors, None).await;
        }
        Err(PolicyError::Invalid { field, message }) => {
            let errors = beside(format!("{field} {message}"));
            return policy_page(&state, &user, Some(&form.policy), errors, None).await;
        }
    };
    match state.svc.set_policy(Caller::Staff(&user.actor), &policy).await {
        Ok(_) => Ok(see_other("/admin/policy?done=policy")),
        Err(e) => {
            let errors = FormErrors::from_command(e)?;
            let errors =
                beside(errors.0.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; "));
            policy_page(&state, &user, Some(&form.policy), errors, None).await
        }
    }
}
