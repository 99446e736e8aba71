//! Server-rendered pages: usable without JavaScript, one `h1` per page, labelled fields,
//! an error summary linking to each wrong field, following GOV.UK Design System patterns.
//!
//! Every form carries the session's CSRF token in a hidden `csrf` field, checked with
//! [`PageUser::check_csrf`] before anything else.

mod access;
mod admin;
mod caseloads;
mod cases;
mod deliveries;
mod duplicates;
mod escalations;
mod login;
mod people;
mod practice;
mod referrals;
mod staff;
mod work;

use crate::error::Problem;
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use commands::CommandError;
use domain::staff::Role;
use domain::{FieldError, Rejection};
use serde::Deserialize;

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(login::routes())
        .merge(work::routes())
        .merge(people::routes())
        .merge(access::routes())
        .merge(referrals::routes())
        .merge(cases::routes())
        .merge(admin::routes())
        .merge(deliveries::routes())
        .merge(duplicates::routes())
        .merge(caseloads::routes())
        .merge(escalations::routes())
        .merge(practice::routes())
        .merge(staff::routes())
        .fallback(not_found)
}

/// Unknown paths: a page for people, problem details for the API (so a client of
/// `/api/v1` never receives HTML).
async fn not_found(uri: Uri) -> Response {
    let problem = Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Page not found",
        format!("there is nothing at {}", uri.path()),
    );
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        problem.into_response()
    } else {
        PageError::Show(problem).into_response()
    }
}

/// One link in the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// Its words.
    pub label: &'static str,
    /// Whether it is the current section.
    pub current: bool,
    /// A count shown beside the words (escalations waiting), if any.
    pub count: Option<usize>,
}

/// What the shared layout (`base.html`) needs: who is signed in and the navigation.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The signed-in person's name and role, if any.
    pub user: Option<(String, String)>,
    /// The CSRF token for forms on the page (and the sign-out button).
    pub csrf: String,
    /// Navigation links for the person's role.
    pub nav: Vec<NavItem>,
    /// A success message shown at the top of the page (after a form went through).
    pub notice: Option<String>,
}

impl Layout {
    /// The layout for a signed-in person, with `current` marking the section.
    pub fn for_user(user: &PageUser, current: &str) -> Self {
        let role = user.actor.role;
        let mut nav = vec![];
        let mut add = |href: &'static str, label: &'static str| {
            nav.push(NavItem { href, label, current: href == current, count: None })
        };
        if role.is_practice_staff() {
            add("/my-work", "My work");
            add("/escalations", "Escalations");
            add("/people", "Find a person");
        }
        if role.is_practice_staff() || role == Role::Partner {
            add("/referrals", "Referrals");
            add("/referrals/new", "Make a referral");
        }
        if role.is_manager() {
            add("/cases/unallocated", "Unallocated");
            add("/caseloads", "Caseloads");
            add("/duplicates", "Recorded twice");
        }
        if role.is_manager() || user.actor.agency == Some(domain::staff::Agency::Police) {
            add("/welfare-checks", "Welfare checks");
        }
        if role == Role::Administrator {
            add("/admin/staff", "Staff");
            add("/admin/teams", "Teams");
            add("/admin/policy", "Escalation policy");
            add("/admin/deliveries", "Deliveries");
        }
        if role == Role::Auditor {
            add("/audit", "Audit trail");
        }
        add("/inbox", "Inbox");
        Layout {
            user: Some((user.actor.login.clone(), role.label().to_string())),
            csrf: user.csrf.clone(),
            nav,
            notice: None,
        }
    }

    /// The layout for a signed-in person with the count of escalations waiting on them
    /// beside the navigation's "Escalations" (practice staff).
    pub async fn load(state: &AppState, user: &PageUser, current: &str) -> Result<Self, PageError> {
        let mut layout = Self::for_user(user, current);
        if user.actor.role.is_practice_staff() {
            let waiting = state.svc.my_escalations(&user.actor).await?.len();
            for item in layout.nav.iter_mut().filter(|i| i.href == "/escalations") {
                item.count = Some(waiting);
            }
        }
        Ok(layout)
    }

    /// Adds the success banner named by a `?done=` flag (unknown flags show nothing).
    pub fn with_notice(mut self, done: Option<&str>) -> Self {
        self.notice = done.and_then(notice_text).map(str::to_string);
        self
    }

    /// The layout for someone not signed in.
    pub fn anonymous() -> Self {
        Layout::default()
    }
}

/// Field errors for a form, looked up by field name in templates.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    /// The message for `field`, or an empty string.
    pub fn get(&self, field: &str) -> &str {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str()).unwrap_or("")
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Whether there are any errors.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// The HTML id of a field's input, for the error summary's links.
    pub fn anchor(field: &str) -> String {
        field.replace(['[', ']', '.'], "-")
    }

    /// The errors with `prefix` put before each field name, for a page holding several
    /// forms whose commands use the same field names.
    pub fn prefixed(self, prefix: &str) -> Self {
        FormErrors(self.0.into_iter().map(|e| FieldError::new(format!("{prefix}{}", e.field), e.message)).collect())
    }

    /// Words a person can act on for a choice left empty: the command's message lists
    /// the codes it accepts, which mean nothing on a page of radios or a select.
    pub fn explain_blank(mut self, field: &str, value: &str, message: &str) -> Self {
        if value.trim().is_empty() {
            for e in self.0.iter_mut().filter(|e| e.field == field) {
                e.message = message.to_string();
            }
        }
        self
    }

    /// Like [`FormErrors::from_command`] for a form holding only `fields`: a refusal about
    /// anything else (the case is closed, the escalation is already resolved) is about the
    /// record's state, not what was typed, so it becomes an error page.
    pub fn from_command_on(e: CommandError, fields: &[&str]) -> Result<Self, PageError> {
        let errors = Self::from_command(e)?;
        match errors.0.iter().find(|e| !fields.contains(&e.field.as_str())) {
            Some(other) => Err(PageError::Show(Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "Not possible now",
                other.message.clone(),
            ))),
            None => Ok(errors),
        }
    }

    /// The errors to show again on the form for a refused command; a refusal that is not
    /// about the form's fields (not allowed, not found, a conflict with no field) becomes
    /// an error page instead.
    pub fn from_command(e: CommandError) -> Result<Self, PageError> {
        match e {
            CommandError::Rejected(Rejection::Invalid(fields)) => Ok(FormErrors(fields)),
            CommandError::Rejected(Rejection::Conflict { field: Some(field), message }) => {
                Ok(FormErrors(vec![FieldError::new(field, message)]))
            }
            other => Err(other.into()),
        }
    }
}

/// One form field as a template shows it: its name, its id (the error summary's
/// anchor), what was typed or chosen, and its error.
#[derive(Debug, Clone, Default)]
pub struct Field {
    /// The input's `name`.
    pub name: String,
    /// The input's `id`: [`FormErrors::anchor`] of the name.
    pub id: String,
    /// The values sent (several for a checkbox list).
    pub values: Vec<String>,
    /// The error message, or empty.
    pub error: String,
}

impl Field {
    /// A single-valued field.
    pub fn new(name: impl Into<String>, value: impl Into<String>, errors: &FormErrors) -> Self {
        Self::many(name, vec![value.into()], errors)
    }

    /// A field with several values (checkboxes).
    pub fn many(name: impl Into<String>, values: Vec<String>, errors: &FormErrors) -> Self {
        let name = name.into();
        Field { id: FormErrors::anchor(&name), error: errors.get(&name).to_string(), values, name }
    }

    /// The (first) value.
    pub fn value(&self) -> &str {
        self.values.first().map(String::as_str).unwrap_or("")
    }

    /// Whether `v` was chosen (radios, checkboxes, selects).
    pub fn is(&self, v: &str) -> bool {
        self.values.iter().any(|x| x == v)
    }

    /// Whether the field has an error.
    pub fn has_error(&self) -> bool {
        !self.error.is_empty()
    }

    /// The id of one radio or checkbox: the first carries the field's id, so the error
    /// summary's link lands on it; the others add their value.
    pub fn item_id(&self, index: impl std::borrow::Borrow<usize>, value: &str) -> String {
        if *index.borrow() == 0 { self.id.clone() } else { format!("{}-{}", self.id, FormErrors::anchor(value)) }
    }

    /// The `aria-describedby` ids: the hint (when there is one) and the error.
    pub fn described_by(&self, has_hint: bool) -> String {
        let mut ids = vec![];
        if has_hint {
            ids.push(format!("{}-hint", self.id));
        }
        if self.has_error() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }
}

/// One option of a radio group, checkbox list or select.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// The words shown.
    pub label: String,
    /// Extra words under the label (radios and checkboxes), or empty.
    pub hint: String,
}

impl Choice {
    /// An option without a hint.
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice { value: value.into(), label: label.into(), hint: String::new() }
    }

    /// An option with a hint.
    pub fn with_hint(value: impl Into<String>, label: impl Into<String>, hint: impl Into<String>) -> Self {
        Choice { value: value.into(), label: label.into(), hint: hint.into() }
    }
}

/// The `?done=` flag a successful form leaves on the page it redirects to.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    /// Which form went through.
    #[serde(default)]
    pub done: Option<String>,
}

/// The banner text for a `?done=` flag.
fn notice_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "referral" => "Referral recorded",
        "decision" => "Decision recorded",
        "allocated" => "Case allocated",
        "visit" => "Visit recorded",
        "note" => "Case note added",
        "closed" => "Case closed",
        "staff" => "Member of staff added",
        "team" => "Team created",
        "leadership" => "Management line saved",
        "acknowledged" => "Escalation acknowledged",
        "resolved" => "Escalation resolved",
        "plan" => "Plan started",
        "strategy" => "Strategy discussion recorded",
        "icpc" => "Initial child protection conference recorded",
        "review" => "Review child protection conference recorded",
        "assessment" => "Assessment completed",
        "threshold" => "Threshold decision recorded",
        "concern" => "Concern recorded",
        "away" => "Absence saved",
        "back" => "Marked as back",
        "policy" => "Escalation policy saved",
        "contact" => "Notification choices saved",
        "reallocated" => "Their cases were moved",
        "retried" => "Delivery queued to be sent again",
        "webhook" => "Webhook endpoint saved",
        "merged" => "Records merged",
        "unmerged" => "Merge undone: the records are separate again",
        "distinct" => "Marked as not the same person",
        _ => return None,
    })
}

/// A 303 redirect after a form went through.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Renders a form again after its command was refused: 422 with the errors.
pub fn render_invalid<T: askama::Template>(t: &T) -> Response {
    let mut res = render(t);
    if res.status().is_success() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// A path segment's id (`/people/12`), or "not found" for anything else.
pub fn path_id(raw: &str, what: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| PageError::from(Rejection::NotFound(format!("{what} {raw}"))))
}

/// How long ago `from` was, in words ("3 hours", "12 days").
pub fn waited(from: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let mins = now.duration_since(from).as_mins().max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match mins {
        0..=59 => plural(mins, "minute"),
        60..=2879 => plural(mins / 60, "hour"),
        _ => plural(mins / 1440, "day"),
    }
}

/// How long something has been open: elapsed time, and working time when it differs
/// ("3 days (1 working day)"), since timescales are counted in working time.
pub fn open_for(cal: &domain::working_time::Calendar, from: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let elapsed = now.duration_since(from);
    if elapsed.as_mins() < 1 {
        return "less than a minute".into();
    }
    let plain = waited(from, now);
    let working = cal.working_time_between(from, now);
    // All of it in working time: saying so twice adds nothing.
    if working >= elapsed {
        return plain;
    }
    let hours = working.as_hours().max(0);
    if hours == 0 {
        return format!("{plain} (no working hours yet)");
    }
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let working = if hours < 8 { plural(hours, "working hour") } else { plural(hours / 8, "working day") };
    format!("{plain} ({working})")
}

/// A timescale in words ("4 working hours", "6 weeks").
pub fn timescale_words(t: domain::working_time::Timescale) -> String {
    use domain::working_time::Timescale as T;
    let (n, unit) = match t {
        T::WorkingHours(n) => (n, "working hour"),
        T::WorkingMinutes(n) => (n, "working minute"),
        T::WorkingDays(n) => (n, "working day"),
        T::Hours(n) => (n, "hour"),
        T::Days(n) => (n, "day"),
        T::Weeks(n) => (n, "week"),
        T::Months(n) => (n, "month"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Who holds each escalation level for a team, in words.
pub fn level_text(level: i64) -> String {
    match level {
        1 => "1 (team manager)".into(),
        2 => "2 (service manager)".into(),
        3 => "3 (head of service)".into(),
        4 => "4 (director)".into(),
        n => n.to_string(),
    }
}

/// Whether `actor` may act on an escalation at `level` held by `assignee`: its holder,
/// or a manager at or above its level (as the command checks; used to offer the forms).
pub fn may_act_on_escalation(actor: &domain::authz::Actor, level: i64, assignee: domain::ids::StaffId) -> bool {
    let rank = match actor.role {
        Role::TeamManager => 1,
        Role::ServiceManager => 2,
        Role::HeadOfService => 3,
        Role::Director => 4,
        _ => 0,
    };
    assignee == actor.staff || rank >= level.max(1)
}

/// Whole days from `from` to `now`.
pub fn days_since(from: jiff::Timestamp, now: jiff::Timestamp) -> i64 {
    now.duration_since(from).as_hours().max(0) / 24
}

/// A date of birth for people, saying when it is estimated or unknown.
pub fn dob_text(dob: &domain::person::DateOfBirth) -> String {
    use domain::person::DateOfBirth;
    match dob {
        DateOfBirth::Known(d) => day(d),
        DateOfBirth::Estimated(d) => format!("{} (estimated)", day(d)),
        DateOfBirth::Unknown => "Not known".into(),
    }
}

/// An NHS number in its usual 3-3-4 form.
pub fn nhs_text(n: &str) -> String {
    domain::person::NhsNumber::parse(n).map(|n| n.formatted()).unwrap_or_else(|_| n.to_string())
}

/// What [`urlencode`] leaves as it is: letters, digits, `-_.~` and `/` (so a `next=`
/// path stays readable); everything else is percent-encoded.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Percent-encodes a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Renders a template into a response, or a plain error if the template fails.
pub fn render<T: askama::Template>(t: &T) -> axum::response::Response {
    use axum::response::IntoResponse;
    match t.render() {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "the page could not be shown").into_response()
        }
    }
}

/// Formats a moment for people: local (Europe/London) date and time.
pub fn when(t: &jiff::Timestamp) -> String {
    let cal = domain::working_time::Calendar::england_and_wales();
    cal.local_datetime(*t).strftime("%-d %b %Y %H:%M").to_string()
}

/// Formats an optional moment, or a dash.
pub fn when_opt(t: &Option<jiff::Timestamp>) -> String {
    t.as_ref().map(when).unwrap_or_else(|| "—".into())
}

/// Formats a date for people.
pub fn day(d: &jiff::civil::Date) -> String {
    d.strftime("%-d %b %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().expect("a test timestamp")
    }

    #[test]
    fn open_for_says_working_time_when_it_differs() {
        let cal = domain::working_time::Calendar::england_and_wales();
        // Friday 16:00 to Monday 10:00 (GMT in March): a weekend, but two working hours.
        assert_eq!(open_for(&cal, at("2026-03-06T16:00:00Z"), at("2026-03-09T10:00:00Z")), "2 days (2 working hours)");
        assert_eq!(open_for(&cal, at("2026-03-09T09:00:00Z"), at("2026-03-09T12:00:00Z")), "3 hours");
        assert_eq!(
            open_for(&cal, at("2026-03-07T10:00:00Z"), at("2026-03-07T10:30:00Z")),
            "30 minutes (no working hours yet)"
        );
        assert_eq!(open_for(&cal, at("2026-03-02T09:00:00Z"), at("2026-03-16T09:00:00Z")), "14 days (10 working days)");
        assert_eq!(open_for(&cal, at("2026-03-09T09:00:00Z"), at("2026-03-09T09:00:20Z")), "less than a minute");
    }

    #[test]
    fn timescales_in_words() {
        use domain::working_time::Timescale;
        assert_eq!(timescale_words(Timescale::WorkingHours(4)), "4 working hours");
        assert_eq!(timescale_words(Timescale::WorkingDays(1)), "1 working day");
        assert_eq!(timescale_words(Timescale::Months(24)), "24 months");
    }

    #[test]
    fn query_values_keep_unreserved_characters_and_slashes() {
        assert_eq!(urlencode("/people/12?q=a b&c"), "/people/12%3Fq%3Da%20b%26c");
        assert_eq!(urlencode("O'Brien-Smith_1.~"), "O%27Brien-Smith_1.~");
        assert_eq!(urlencode("Zoë"), "Zo%C3%AB");
    }
}
