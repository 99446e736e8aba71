//! The intake form (for practice staff and partner agencies): the referral and its
//! children, and the step that asks whether each child is someone already recorded.

use super::{category_label, source_label, team_choices};
use crate::pages::{Choice, Field, FormErrors, Layout, dob_text, path_id, render, render_invalid, see_other};
use crate::{AppState, Origin, PageError, PageUser, Problem};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use commands::input::{ReferralChildInput, ReferralInput};
use domain::authz::{Action, require};
use domain::ids::PersonId;
use domain::person::PersonInput;
use domain::referral::{Category, ReferralSource};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The form's routes: a blank form, and what it sends.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/referrals", post(create)).route("/referrals/new", get(new))
}

/// The most children one referral form holds (each "Add another child" adds one).
const MAX_CHILDREN: usize = 20;

/// One child's block of the referral form, as typed (`children[N].field`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RawChild {
    person_id: String,
    /// After the check for existing records: a person's id, or `new`.
    choice: String,
    /// The existing records were looked for (and any found were shown).
    #[serde(deserialize_with = "filled")]
    checked: bool,
    given_name: String,
    family_name: String,
    dob: String,
    dob_precision: String,
    sex: String,
    nhs_number: String,
    upn: String,
}

impl RawChild {
    fn blank() -> Self {
        RawChild { dob_precision: "known".into(), ..Default::default() }
    }

    /// Nothing typed: a block left empty after "Add another child".
    fn is_blank(&self) -> bool {
        [&self.person_id, &self.given_name, &self.family_name, &self.dob, &self.nhs_number, &self.upn]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    /// What was typed, for "who might this be?".
    fn match_input(&self) -> commands::matching::MatchInput {
        commands::matching::MatchInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            dob: self.dob.clone(),
            sex: self.sex.clone(),
            nhs_number: self.nhs_number.clone(),
            ..Default::default()
        }
    }

    fn input(&self) -> ReferralChildInput {
        let opt = |s: &str| Some(s.to_string());
        let person_id = match self.person_id.trim() {
            "" => None,
            // Not a number: sent as an impossible id so the command names the field.
            raw => Some(raw.parse::<i64>().unwrap_or(0)),
        };
        ReferralChildInput {
            person_id,
            details: PersonInput {
                kind: None,
                given_name: self.given_name.clone(),
                family_name: self.family_name.clone(),
                dob: opt(&self.dob),
                dob_precision: opt(&self.dob_precision),
                sex: opt(&self.sex),
                nhs_number: opt(&self.nhs_number),
                upn: opt(&self.upn),
            },
        }
    }
}

/// The referral form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawReferral {
    csrf: String,
    team: String,
    source: String,
    referrer: String,
    received_at: String,
    concern: String,
    categories: Vec<String>,
    /// The blocks in the order of their numbers; any past [`MAX_CHILDREN`] are dropped.
    #[serde(deserialize_with = "children")]
    children: Vec<RawChild>,
    /// "Add another child" was pressed (whatever its value).
    #[serde(deserialize_with = "present")]
    add_child: bool,
    /// "Remove child N" was pressed: the block's index (a value that is not one is ignored).
    #[serde(deserialize_with = "index")]
    remove_child: Option<usize>,
}

/// A field that counts as set when anything but spaces was sent.
fn filled<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(!String::deserialize(d)?.trim().is_empty())
}

/// A field that counts as set when it was sent at all.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// A number, or nothing when what was sent is not one.
fn index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Ok(String::deserialize(d)?.trim().parse().ok())
}

/// The children's blocks by their numbers (which need not run on from 0).
fn children<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<RawChild>, D::Error> {
    let by_index = BTreeMap::<usize, RawChild>::deserialize(d)?;
    Ok(by_index.into_iter().filter(|(i, _)| *i < MAX_CHILDREN).map(|(_, c)| c).collect())
}

impl RawReferral {
    /// Reads the form's pairs. serde_qs nests with brackets only, and the form names a
    /// child's fields as the commands' errors do (`children[0].given_name`, so an error
    /// finds its field), so `children[0].given_name` is read as `children[0][given_name]`.
    /// serde_qs reads an encoded string, not pairs, hence the pairs are encoded again.
    fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, PageError> {
        let bracketed: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| match k.split_once("].") {
                Some((head, field)) if head.starts_with("children[") => (format!("{head}][{field}]"), v),
                _ => (k, v),
            })
            .collect();
        let unreadable = |e: &dyn std::fmt::Display| {
            tracing::debug!(error = %e, "a referral form that could not be read");
            PageError::Show(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-form",
                "The form could not be read",
                "the form sent was not one this page makes; go back to the form and send it again",
            ))
        };
        let encoded = serde_urlencoded::to_string(&bracketed).map_err(|e| unreadable(&e))?;
        serde_qs::Config::new().use_form_encoding(true).deserialize_str(&encoded).map_err(|e| unreadable(&e))
    }

    fn input(&self) -> ReferralInput {
        let opt = |s: &str| Some(s.to_string());
        ReferralInput {
            team: self.team.trim().parse().ok(),
            source: self.source.clone(),
            referrer: opt(&self.referrer),
            received_at: opt(&self.received_at),
            concern: self.concern.clone(),
            categories: self.categories.clone(),
            children: self.children.iter().map(RawChild::input).collect(),
        }
    }
}

/// One child's block as the template shows it.
struct ChildForm {
    index: usize,
    number: usize,
    /// The existing person's id, when the referral is about someone already recorded.
    person_id: String,
    /// Who that is, in words.
    person_label: String,
    person: Field,
    given_name: Field,
    family_name: Field,
    dob: Field,
    dob_precision: Field,
    sex: Field,
    nhs_number: Field,
    upn: Field,
    /// People already recorded who may be this child, with "a new person", once looked for.
    matches: Vec<Choice>,
    choice: Field,
    checked: bool,
}

#[derive(askama::Template)]
#[template(path = "referral_new.html")]
struct NewPage {
    layout: Layout,
    errors: FormErrors,
    team: Field,
    teams: Vec<Choice>,
    source: Field,
    sources: Vec<Choice>,
    referrer: Field,
    received_at: Field,
    concern: Field,
    categories: Field,
    category_choices: Vec<Choice>,
    children_field: Field,
    children: Vec<ChildForm>,
    precisions: Vec<Choice>,
    sexes: Vec<Choice>,
    can_add_child: bool,
}

/// The people who may be each child (empty where none were looked for or found).
type Matches = Vec<Vec<commands::matching::PersonMatch>>;

/// A possible match as a radio option: who, how likely, and the evidence.
pub(super) fn match_choice(m: &commands::matching::PersonMatch) -> Choice {
    let p = &m.person;
    let dob = p.dob.date().map_or_else(|| "date of birth not known".to_string(), |d| d.to_string());
    let label = format!(
        "{}, {} ({}): {}% likely the same person",
        p.full_name(),
        dob,
        p.id.reference(),
        (m.probability * 100.0).round()
    );
    let mut evidence: Vec<String> = m.explanation.fields.iter().map(|f| f.text.clone()).collect();
    if let Some(d) = &m.explanation.different_people {
        evidence.push(format!("but: {d}"));
    }
    Choice::with_hint(p.id.0.to_string(), label, evidence.join("; "))
}

async fn new_page(
    state: &AppState,
    user: &PageUser,
    raw: &RawReferral,
    errors: FormErrors,
) -> Result<NewPage, PageError> {
    new_page_with(state, user, raw, errors, &vec![]).await
}

async fn new_page_with(
    state: &AppState,
    user: &PageUser,
    raw: &RawReferral,
    errors: FormErrors,
    found: &Matches,
) -> Result<NewPage, PageError> {
    let mut children = vec![];
    for (i, c) in raw.children.iter().enumerate() {
        let mut matches: Vec<Choice> = found.get(i).map(|ms| ms.iter().map(match_choice).collect()).unwrap_or_default();
        if !matches.is_empty() {
            matches.push(Choice::with_hint(
                "new",
                "None of these: a new person",
                "Record the child from the details above",
            ));
        }
        let name = |f: &str| format!("children[{i}].{f}");
        let field = |f: &str, v: &str| Field::new(name(f), v, &errors);
        let person_label = match c.person_id.trim().parse::<i64>() {
            Ok(id) if id > 0 => match state.svc.person(&user.actor, PersonId(id)).await {
                Ok(p) => format!("{}, born {} ({})", p.full_name(), dob_text(&p.dob), p.id.reference()),
                Err(commands::CommandError::Rejected(domain::Rejection::NotFound(_))) => {
                    format!("{} (no such person)", PersonId(id).reference())
                }
                Err(e) => return Err(e.into()),
            },
            _ if c.person_id.trim().is_empty() => String::new(),
            _ => format!("{} (not a person's id)", c.person_id.trim()),
        };
        children.push(ChildForm {
            index: i,
            number: i + 1,
            person_id: c.person_id.trim().to_string(),
            person_label,
            person: field("person_id", &c.person_id),
            given_name: field("given_name", &c.given_name),
            family_name: field("family_name", &c.family_name),
            dob: field("dob", &c.dob),
            dob_precision: field("dob_precision", &c.dob_precision),
            sex: field("sex", &c.sex),
            nhs_number: field("nhs_number", &c.nhs_number),
            upn: field("upn", &c.upn),
            choice: field("choice", &c.choice),
            checked: c.checked || !matches.is_empty(),
            matches,
        });
    }
    Ok(NewPage {
        layout: Layout::load(state, user, "/referrals/new").await?,
        team: Field::new("team", &raw.team, &errors),
        teams: team_choices(state, user, "Choose a team").await?,
        source: Field::new("source", &raw.source, &errors),
        sources: ReferralSource::ALL.iter().map(|s| Choice::new(s.code(), source_label(*s))).collect(),
        referrer: Field::new("referrer", &raw.referrer, &errors),
        received_at: Field::new("received_at", &raw.received_at, &errors),
        concern: Field::new("concern", &raw.concern, &errors),
        categories: Field::many("categories", raw.categories.clone(), &errors),
        category_choices: Category::ALL.iter().map(|c| Choice::new(c.code(), category_label(*c))).collect(),
        children_field: Field::new("children", "", &errors),
        children,
        precisions: vec![
            Choice::new("known", "Known"),
            Choice::with_hint("estimated", "Estimated", "Give your best estimate of the date"),
            Choice::with_hint("unknown", "Not known", "Leave the date empty"),
        ],
        sexes: vec![Choice::new("female", "Female"), Choice::new("male", "Male"), Choice::new("unknown", "Not known")],
        can_add_child: raw.children.len() < MAX_CHILDREN,
        errors,
    })
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    person: Option<String>,
}

async fn new(State(state): State<AppState>, user: PageUser, Query(q): Query<NewQuery>) -> Result<Response, PageError> {
    require(&user.actor, Action::CreateReferral)?;
    let mut child = RawChild::blank();
    if let Some(p) = q.person.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        let id = PersonId(path_id(p, "person")?);
        // Only those who may read records may name an existing person (and learn who it is).
        state.svc.person(&user.actor, id).await?;
        child = RawChild { person_id: id.0.to_string(), ..RawChild::default() };
    }
    let raw = RawReferral {
        team: user.actor.team.map(|t| t.0.to_string()).unwrap_or_default(),
        children: vec![child],
        ..Default::default()
    };
    Ok(render(&new_page(&state, &user, &raw, FormErrors::default()).await?))
}

async fn create(
    State(state): State<AppState>,
    user: PageUser,
    origin: Origin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut raw = RawReferral::from_pairs(pairs)?;
    user.check_csrf(&raw.csrf)?;
    require(&user.actor, Action::CreateReferral)?;
    // Adding or removing a child block re-shows the form; nothing is recorded yet.
    if let Some(i) = raw.remove_child {
        if i < raw.children.len() {
            raw.children.remove(i);
        }
        if raw.children.is_empty() {
            raw.children.push(RawChild::blank());
        }
        return Ok(render(&new_page(&state, &user, &raw, FormErrors::default()).await?));
    }
    if raw.add_child {
        if raw.children.len() < MAX_CHILDREN {
            raw.children.push(RawChild::blank());
        }
        return Ok(render(&new_page(&state, &user, &raw, FormErrors::default()).await?));
    }
    // A block added and left empty is not a child; the first block always counts.
    let mut kept: Vec<RawChild> = vec![];
    for (i, c) in std::mem::take(&mut raw.children).into_iter().enumerate() {
        if i == 0 || !c.is_blank() {
            kept.push(c);
        }
    }
    raw.children = kept;
    // Practice staff are shown the people already recorded who may be each child, and
    // say who it is (or that it is someone new) before anything is recorded. Partner
    // agencies are never shown anyone else's record.
    if domain::authz::permits(user.actor.role, Action::ViewChildRecords) {
        let mut found: Matches = vec![];
        let mut errors = FormErrors::default();
        let mut ask = false;
        for (i, c) in raw.children.iter_mut().enumerate() {
            let mut here = vec![];
            if c.person_id.trim().is_empty() {
                match c.choice.trim() {
                    "new" => {}
                    "" => {
                        here = look_up(&state, &user, &origin, c).await?;
                        if !here.is_empty() {
                            // Shown them already and chose nothing: say so beside the choice.
                            if c.checked {
                                errors.0.push(domain::FieldError::new(
                                    format!("children[{i}].choice"),
                                    "say whether the child is one of the people listed or a new person",
                                ));
                            }
                            ask = true;
                        }
                        c.checked = true;
                    }
                    chosen => c.person_id = chosen.to_string(),
                }
            }
            found.push(here);
        }
        if ask {
            return if errors.any() {
                Ok(render_invalid(&new_page_with(&state, &user, &raw, errors, &found).await?))
            } else {
                Ok(render(&new_page_with(&state, &user, &raw, errors, &found).await?))
            };
        }
    }
    match state.svc.create_referral(&user.actor, &raw.input()).await {
        Ok(id) => Ok(see_other(&format!("/referrals/{}?done=referral", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command(e)?.explain_blank(
                "source",
                &raw.source,
                "choose where the information came from",
            );
            if raw.children.is_empty() {
                raw.children.push(RawChild::blank());
            }
            Ok(render_invalid(&new_page(&state, &user, &raw, errors).await?))
        }
    }
}

/// The people already recorded who may be the child typed in (none when too little was
/// typed to look). A look-up that offers anyone goes on the trail with the fields typed,
/// since it shows those people's details; one that offers no one discloses nothing and
/// lets the referral be recorded as its one entry.
async fn look_up(
    state: &AppState,
    user: &PageUser,
    origin: &Origin,
    c: &RawChild,
) -> Result<Vec<commands::matching::PersonMatch>, PageError> {
    let input = c.match_input();
    let found: Vec<_> = match state.svc.match_people(&user.actor, &input, 5).await {
        Ok(found) => found.into_iter().filter(|m| m.probability >= OFFER_FROM).collect(),
        Err(commands::CommandError::Rejected(domain::Rejection::Invalid(_))) => return Ok(vec![]),
        Err(e) => return Err(e.into()),
    };
    if !found.is_empty() {
        let event = domain::event::Event::PeopleSearched {
            query: input.described(),
            found: found.iter().map(|m| m.person.id).collect(),
            read: origin.page(),
        };
        state.svc.record_read(&user.actor, commands::read_models::SEARCH_SUBJECT, event).await?;
    }
    Ok(found)
}

/// Possible matches at least this likely interrupt the referral to ask.
const OFFER_FROM: f64 = 0.2;

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> RawReferral {
        RawReferral::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap()
    }

    #[test]
    fn children_arrive_by_number_with_their_fields() {
        let r = read(&[
            ("csrf", "t"),
            ("team", "3"),
            ("categories", "neglect"),
            ("children[5].given_name", "Bella"),
            ("children[0].given_name", "Alfie & Co = 100% + \"more\" [x] Zoë"),
            ("children[0].checked", "1"),
            ("children[5].checked", " "),
            ("children[0].nonsense", "ignored"),
            ("children[20].given_name", "one too many"),
            ("unknown[field]", "ignored"),
            ("concern", "first"),
            ("concern", "last"),
        ]);
        assert_eq!((r.csrf.as_str(), r.team.as_str(), r.concern.as_str()), ("t", "3", "last"));
        assert_eq!(r.categories, ["neglect"]);
        let names: Vec<_> = r.children.iter().map(|c| c.given_name.as_str()).collect();
        assert_eq!(names, ["Alfie & Co = 100% + \"more\" [x] Zoë", "Bella"]);
        assert_eq!((r.children[0].checked, r.children[1].checked), (true, false));
        assert_eq!(r.children[1].dob_precision, "", "a field not sent is empty");
        assert!(!r.add_child && r.remove_child.is_none());
    }

    #[test]
    fn buttons_and_several_categories() {
        let r =
            read(&[("categories", "neglect"), ("categories", "physical"), ("add_child", ""), ("remove_child", "x")]);
        assert_eq!(r.categories, ["neglect", "physical"]);
        assert!(r.add_child);
        assert_eq!(r.remove_child, None, "not a number: ignored");
        assert_eq!(read(&[("remove_child", " 2 ")]).remove_child, Some(2));
        assert!(read(&[]).children.is_empty());
    }

    #[test]
    fn a_form_this_page_does_not_make_is_refused() {
        let pairs = vec![("children[x].given_name".to_string(), "A".to_string())];
        let Err(PageError::Show(p)) = RawReferral::from_pairs(pairs) else { panic!("read a child numbered x") };
        assert_eq!(p.status, 400);
    }
}
