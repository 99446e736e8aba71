//! "Who has seen this record": every read of and change to a child's record, for
//! managers and auditors; and the auditor's way in (`/audit`), since an auditor cannot
//! open the record itself.

use super::{Field, FormErrors, Layout, path_id, render, render_invalid, see_other, when};
use crate::{AppState, Origin, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use commands::read_models::{AccessEntry, AccessKind};
use domain::FieldError;
use domain::authz::{Action, require};
use domain::event::Event;
use domain::ids::PersonId;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/people/{id}/access", get(access)).route("/audit", get(audit))
}

/// One line of the access list.
struct AccessRow {
    when: String,
    who: String,
    role: String,
    what: String,
    detail: String,
    from: String,
}

impl AccessRow {
    fn new(e: &AccessEntry) -> Self {
        let (who, role) = match &e.staff {
            Some(s) => (s.name.clone(), s.role.label().to_string()),
            None => (e.actor.clone(), String::new()),
        };
        let what = match (e.kind, e.via.as_deref()) {
            (AccessKind::Viewed, Some("api")) => "Viewed the record through the API".to_string(),
            (AccessKind::Viewed, _) => "Viewed the record on a page".to_string(),
            (AccessKind::AccessViewed, Some("api")) => "Looked at who has seen the record, through the API".to_string(),
            (kind @ (AccessKind::AccessViewed | AccessKind::Found), _) => kind.label().to_string(),
            (AccessKind::Changed, _) => format!("Changed: {}", e.action),
        };
        let detail = match e.kind {
            AccessKind::Found => e.query.as_deref().map(|q| format!("searched for ‘{q}’")).unwrap_or_default(),
            AccessKind::Changed => e.subject.clone(),
            AccessKind::Viewed | AccessKind::AccessViewed => String::new(),
        };
        let from = match (e.from.as_deref(), e.agent.as_deref()) {
            (Some(f), Some(a)) if !a.is_empty() => format!("{f} ({a})"),
            (Some(f), _) => f.to_string(),
            // Changes are made through the same pages and API; the trail records who, not where.
            (None, _) => "—".to_string(),
        };
        AccessRow { when: when(&e.at), who, role, what, detail, from }
    }
}

#[derive(askama::Template)]
#[template(path = "person_access.html")]
struct AccessPage {
    layout: Layout,
    id: i64,
    reference: String,
    name: String,
    rows: Vec<AccessRow>,
    limit: i64,
    /// Managers may open the record itself; auditors may not.
    can_open: bool,
}

async fn access(
    State(state): State<AppState>,
    user: PageUser,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = PersonId(path_id(&id, "person")?);
    let a = state.svc.record_access(&user.actor, id).await?;
    let current = if user.actor.role.is_manager() { "/people" } else { "/audit" };
    let page = AccessPage {
        layout: Layout::load(&state, &user, current).await?,
        id: id.0,
        reference: a.reference,
        name: a.name,
        rows: a.entries.iter().map(AccessRow::new).collect(),
        limit: commands::reads::ACCESS_LIMIT,
        can_open: domain::authz::permits(user.actor.role, Action::ViewChildRecords),
    };
    // This look is a read too, so it is on the trail before the list is shown.
    state
        .svc
        .record_read(&user.actor, &id.subject(), Event::RecordAccessViewed { person: id, read: origin.page() })
        .await?;
    Ok(render(&page))
}

#[derive(Debug, Deserialize, Default)]
struct AuditQuery {
    person: Option<String>,
}

/// A record opened recently, for the auditor's page.
struct RecentRow {
    when: String,
    who: String,
    person: i64,
    reference: String,
    what: &'static str,
    from: String,
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    errors: FormErrors,
    person: Field,
    recent: Vec<RecentRow>,
}

/// How many recent reads the page lists.
const RECENT: i64 = 50;

async fn audit(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    require(&user.actor, Action::ViewRecordAccess)?;
    let mut errors = FormErrors::default();
    if let Some(raw) = q.person.as_deref() {
        match raw.trim().to_ascii_uppercase().parse::<PersonId>() {
            Ok(id) => return Ok(see_other(&format!("/people/{}/access", id.0))),
            Err(_) => errors.0.push(FieldError::new("person", "enter a person’s reference, such as P-12")),
        }
    }
    let recent = state
        .svc
        .recent_reads(&user.actor, RECENT)
        .await?
        .iter()
        .map(|(person, e)| RecentRow {
            when: when(&e.at),
            who: e.staff.as_ref().map_or_else(|| e.actor.clone(), |s| format!("{} ({})", s.name, s.role.label())),
            person: person.0,
            reference: person.reference(),
            what: match (e.kind, e.via.as_deref()) {
                (AccessKind::AccessViewed, _) => "Looked at who has seen it",
                (_, Some("api")) => "Viewed through the API",
                _ => "Viewed on a page",
            },
            from: e.from.clone().unwrap_or_default(),
        })
        .collect();
    let page = AuditPage {
        layout: Layout::load(&state, &user, "/audit").await?,
        person: Field::new("person", q.person.unwrap_or_default(), &errors),
        errors,
        recent,
    };
    Ok(if page.errors.any() { render_invalid(&page) } else { render(&page) })
}
