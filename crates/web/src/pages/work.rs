//! "My work": a worker's caseload and, for managers, the referrals and cases waiting on
//! them; and the list of unallocated cases.

use super::{DoneQuery, Layout, days_since, render, waited, when, when_opt};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use commands::read_models::{CaseFilter, CaseView, ReferralFilter};
use domain::authz::{Action, require};
use jiff::Timestamp;

/// A child not seen for longer than this is flagged on the caseload.
pub const UNSEEN_DAYS: i64 = 28;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/my-work", get(my_work)).route("/cases/unallocated", get(unallocated))
}

/// One row of a caseload table.
struct CaseloadRow {
    case_ref: String,
    case_id: i64,
    child_id: i64,
    child: String,
    stage: &'static str,
    last_seen: String,
    last_seen_alone: String,
    /// Days since the child was seen (or, never seen, since the case opened).
    days: i64,
    never_seen: bool,
    /// Not seen for more than [`UNSEEN_DAYS`].
    overdue: bool,
}

impl CaseloadRow {
    fn new(c: &CaseView, now: Timestamp) -> Self {
        let days = days_since(c.last_seen_at.unwrap_or(c.opened_at), now);
        CaseloadRow {
            case_ref: c.id.reference(),
            case_id: c.id.0,
            child_id: c.child.id.0,
            child: c.child.name.clone(),
            stage: c.stage.label(),
            last_seen: when_opt(&c.last_seen_at),
            last_seen_alone: when_opt(&c.last_seen_alone_at),
            days,
            never_seen: c.last_seen_at.is_none(),
            overdue: days > UNSEEN_DAYS,
        }
    }
}

/// A referral waiting for a decision.
struct WaitingReferral {
    id: i64,
    reference: String,
    children: String,
    source: &'static str,
    received: String,
    waited: String,
}

#[derive(askama::Template)]
#[template(path = "my_work.html")]
struct MyWorkPage {
    layout: Layout,
    caseload: Vec<CaseloadRow>,
    manager: bool,
    awaiting: Vec<WaitingReferral>,
    unallocated: usize,
    unseen_days: i64,
    due: Vec<super::people::DueRow>,
    escalations: usize,
}

async fn my_work(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let svc = &state.svc;
    let actor = &user.actor;
    let now = svc.now();
    let caseload = svc.my_caseload(actor).await?.iter().map(|c| CaseloadRow::new(c, now)).collect();
    let manager = actor.role.is_manager();
    let (mut awaiting, mut unallocated) = (vec![], 0);
    if manager {
        let filter = ReferralFilter { team: actor.team, undecided: true, limit: 1000, ..Default::default() };
        let mut referrals = svc.referrals(actor, filter).await?;
        referrals.sort_by_key(|r| (r.received_at, r.id));
        awaiting = referrals
            .iter()
            .map(|r| WaitingReferral {
                id: r.id.0,
                reference: r.id.reference(),
                children: r.children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
                source: r.source.code(),
                received: when(&r.received_at),
                waited: waited(r.received_at, now),
            })
            .collect();
        unallocated = svc
            .cases(actor, CaseFilter { unallocated: true, team: actor.team, limit: 10_000, ..Default::default() })
            .await?
            .len();
    }
    let mut due: Vec<super::people::DueRow> =
        svc.my_due(actor).await?.iter().map(|d| super::people::DueRow::new(d, now)).collect();
    // Overdue first; within each, earliest first (the query's order, kept by a stable sort).
    due.sort_by_key(|d| !d.overdue);
    let escalations = svc.my_escalations(actor).await?.len();
    let page = MyWorkPage {
        layout: Layout::load(&state, &user, "/my-work").await?.with_notice(q.done.as_deref()),
        due,
        escalations,
        caseload,
        manager,
        awaiting,
        unallocated,
        unseen_days: UNSEEN_DAYS,
    };
    Ok(render(&page))
}

/// An open case with nobody allocated.
struct UnallocatedRow {
    case_id: i64,
    case_ref: String,
    child_id: i64,
    child: String,
    team: String,
    stage: &'static str,
    opened: String,
    waited: String,
}

#[derive(askama::Template)]
#[template(path = "unallocated.html")]
struct UnallocatedPage {
    layout: Layout,
    rows: Vec<UnallocatedRow>,
}

async fn unallocated(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    let svc = &state.svc;
    let actor = &user.actor;
    require(actor, Action::AllocateCase)?;
    let now = svc.now();
    let mut cases = svc
        .cases(actor, CaseFilter { unallocated: true, team: actor.team, limit: 10_000, ..Default::default() })
        .await?;
    cases.sort_by_key(|c| (c.opened_at, c.id));
    let rows = cases
        .iter()
        .map(|c| UnallocatedRow {
            case_id: c.id.0,
            case_ref: c.id.reference(),
            child_id: c.child.id.0,
            child: c.child.name.clone(),
            team: c.team.name.clone(),
            stage: c.stage.label(),
            opened: when(&c.opened_at),
            waited: waited(c.opened_at, now),
        })
        .collect();
    Ok(render(&UnallocatedPage { layout: Layout::load(&state, &user, "/cases/unallocated").await?, rows }))
}
