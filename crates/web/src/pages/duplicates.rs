//! The review queue of people recorded more than once, for managers: the pairs the
//! matching engine found, compared side by side, merged, unmerged or marked "not the
//! same person".

use super::{
    Choice, DoneQuery, Field, FormErrors, Layout, dob_text, nhs_text, path_id, render, render_invalid, see_other, when,
    when_opt,
};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use commands::Caller;
use commands::duplicates::ReviewPair;
use commands::read_models::PersonView;
use domain::ids::{DuplicatePairId, PersonId};
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/duplicates", get(queue))
        .route("/duplicates/find", post(find))
        .route("/duplicates/{id}", get(show))
        .route("/duplicates/{id}/merge", post(merge))
        .route("/duplicates/{id}/unmerge", post(unmerge))
        .route("/duplicates/{id}/distinct", post(distinct))
}

/// One side of a pair as the page shows it.
struct Side {
    id: i64,
    reference: String,
    name: String,
    dob: String,
    sex: &'static str,
    nhs_number: String,
}

impl Side {
    fn new(p: &PersonView) -> Self {
        Side {
            id: p.id.0,
            reference: p.id.reference(),
            name: p.full_name(),
            dob: dob_text(&p.dob),
            sex: super::people::sex_text(p.sex),
            nhs_number: p.nhs_number.as_deref().map(nhs_text).unwrap_or_else(|| "Not recorded".into()),
        }
    }
}

/// A pair in the queue's table.
struct Row {
    id: i64,
    reference: String,
    a: Side,
    b: Side,
    likelihood: String,
    found: String,
    decided: String,
}

impl Row {
    fn new(r: &ReviewPair) -> Self {
        Row {
            id: r.pair.id.0,
            reference: r.pair.id.reference(),
            a: Side::new(&r.a),
            b: Side::new(&r.b),
            likelihood: percent(r.pair.probability),
            found: when(&r.pair.found_at),
            decided: when_opt(&r.pair.decided_at),
        }
    }
}

fn percent(p: f64) -> String {
    format!("{:.0}%", (p * 100.0).clamp(0.0, 100.0))
}

#[derive(askama::Template)]
#[template(path = "duplicates.html")]
struct QueuePage {
    layout: Layout,
    state: String,
    tabs: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize, Default)]
struct QueueQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    added: Option<usize>,
}

async fn queue(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let which = q.state.clone().unwrap_or_else(|| "open".into());
    let pairs = state.svc.review_queue(&user.actor, &which, 200).await?;
    let mut layout = Layout::load(&state, &user, "/duplicates").await?.with_notice(q.done.as_deref());
    if let (Some("found"), Some(n)) = (q.done.as_deref(), q.added) {
        layout.notice = Some(match n {
            0 => "No new pairs found".into(),
            1 => "1 new pair found".into(),
            n => format!("{n} new pairs found"),
        });
    }
    let tabs = [("open", "Waiting for a decision"), ("merged", "Merged"), ("distinct", "Not the same person")]
        .into_iter()
        .map(|(s, label)| (s, label, s == which))
        .collect();
    Ok(render(&QueuePage { layout, state: which, tabs, rows: pairs.iter().map(Row::new).collect() }))
}

#[derive(Debug, Deserialize, Default)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn find(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let found = state.svc.find_duplicates(Caller::Staff(&user.actor), None).await?;
    Ok(see_other(&format!("/duplicates?done=found&added={}", found.added)))
}

#[derive(askama::Template)]
#[template(path = "duplicate_pair.html")]
struct PairPage {
    layout: Layout,
    errors: FormErrors,
    row: Row,
    state: String,
    evidence: Vec<String>,
    keep: Field,
    keep_choices: Vec<Choice>,
    kept: String,
    decided_by: String,
}

#[derive(Debug, Deserialize, Default)]
struct MergeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    keep: String,
}

async fn pair_page(
    state: &AppState,
    user: &PageUser,
    id: DuplicatePairId,
    form: &MergeForm,
    errors: FormErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let r = state.svc.review_pair(&user.actor, id).await?;
    let decided_by = match r.pair.decided_by {
        Some(s) => state.svc.staff_member(&user.actor, s).await?.name,
        None => String::new(),
    };
    let side = |p: &PersonView, older: bool| {
        Choice::with_hint(
            p.id.0.to_string(),
            format!("Keep {} {} ({})", p.id.reference(), p.full_name(), dob_text(&p.dob)),
            if older { "the earlier record" } else { "the later record" },
        )
    };
    let invalid = errors.any();
    let page = PairPage {
        layout: Layout::load(state, user, "/duplicates").await?.with_notice(done),
        row: Row::new(&r),
        state: r.pair.state.clone(),
        evidence: r.pair.evidence.split("; ").filter(|s| !s.is_empty()).map(str::to_string).collect(),
        keep: Field::new("keep", &form.keep, &errors),
        keep_choices: vec![side(&r.a, true), side(&r.b, false)],
        kept: r.pair.kept.map(PersonId::reference).unwrap_or_default(),
        decided_by,
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let id = DuplicatePairId(path_id(&id, "duplicate")?);
    pair_page(&state, &user, id, &MergeForm::default(), FormErrors::default(), q.done.as_deref()).await
}

async fn merge(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<MergeForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = DuplicatePairId(path_id(&id, "duplicate")?);
    let keep = match form.keep.parse::<i64>() {
        Ok(n) if n > 0 => PersonId(n),
        _ => {
            let errors = FormErrors(vec![domain::FieldError::new("keep", "choose which record to keep")]);
            return pair_page(&state, &user, id, &form, errors, None).await;
        }
    };
    match state.svc.merge_duplicates(&user.actor, id, keep).await {
        Ok(()) => Ok(see_other(&format!("/duplicates/{}?done=merged", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["keep"])?;
            pair_page(&state, &user, id, &form, errors, None).await
        }
    }
}

async fn unmerge(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = DuplicatePairId(path_id(&id, "duplicate")?);
    state.svc.unmerge_duplicates(&user.actor, id).await?;
    Ok(see_other(&format!("/duplicates/{}?done=unmerged", id.0)))
}

async fn distinct(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = DuplicatePairId(path_id(&id, "duplicate")?);
    state.svc.mark_distinct(&user.actor, id).await?;
    Ok(see_other(&format!("/duplicates/{}?done=distinct", id.0)))
}
