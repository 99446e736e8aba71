//! The scenario file (`contracts/SCENARIOS.md`), parsed and checked before anything runs.
//! A problem names the step (1-based) and the field.

use domain::escalation::Trigger;
use domain::person::parse_date;
use domain::referral::{Category, Decision, ReferralSource, parse_categories};
use domain::staff::{Agency, Role};
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// What is wrong with a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// Not JSON at all.
    #[error("the scenario is not valid JSON: {0}")]
    NotJson(String),
    /// A top-level field is wrong.
    #[error("field {field}: {message}")]
    Field {
        /// Which field (e.g. `start`, `staff[2].role`).
        field: String,
        /// Why.
        message: String,
    },
    /// A step is wrong.
    #[error("step {step}: field {field}: {message}")]
    Step {
        /// The step's number, from 1.
        step: usize,
        /// Which field.
        field: String,
        /// Why.
        message: String,
    },
}

/// A team and who holds each role in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamDef {
    /// The scenario's name for it.
    pub id: String,
    /// Team manager (staff id).
    pub team_manager: Option<String>,
    /// Service manager.
    pub service_manager: Option<String>,
    /// Head of service.
    pub head_of_service: Option<String>,
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffDef {
    /// The scenario's name for them.
    pub id: String,
    /// Role.
    pub role: Role,
    /// Agency, for partners.
    pub agency: Option<Agency>,
    /// Team.
    pub team: Option<String>,
    /// FTE.
    pub fte: f64,
    /// Deputy.
    pub deputy: Option<String>,
}

/// A child named in a referral.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildDef {
    /// The scenario's name for the child.
    pub id: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth, if given.
    pub dob: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Address line.
    pub address: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// NHS number.
    pub nhs_number: Option<String>,
}

/// Which escalation a step means.
#[derive(Debug, Clone, PartialEq)]
pub enum EscalationRef {
    /// An id from the output (`E-3` or `3`).
    Id(i64),
    /// `latest:<trigger>:<subject>`.
    Latest {
        /// The trigger.
        trigger: Trigger,
        /// The scenario id of the subject.
        subject: String,
    },
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A referral arrives.
    Referral {
        id: String,
        team: String,
        source: ReferralSource,
        child: ChildDef,
        concern: String,
        categories: Vec<Category>,
    },
    /// The front-door decision.
    DecideReferral { referral: String, by: String, decision: Decision, reason: String },
    /// Allocate the child's case.
    Allocate { child: String, worker: String, by: String, override_reason: Option<String> },
    /// A plan starts.
    StartPlan { child: String, plan: String, category: Option<String>, by: String },
    /// A visit.
    Visit { child: String, by: String, outcome: VisitOutcome, note: Option<String> },
    /// A new concern.
    Concern { child: String, source: ReferralSource, concern: String, categories: Vec<Category> },
    /// A threshold decision.
    ThresholdDecision {
        child: String,
        by: String,
        forum: String,
        outcome: String,
        reason: String,
        cooperation_noted: bool,
        review_by: Option<Date>,
    },
    /// A strategy discussion.
    StrategyDiscussion { child: String, by: String, s47: bool },
    /// The initial conference.
    Icpc { child: String, by: String },
    /// A review conference.
    ReviewConference { child: String, by: String },
    /// The assessment is complete.
    CompleteAssessment { child: String, by: String },
    /// Acknowledge an escalation.
    Acknowledge { escalation: EscalationRef, by: String, note: Option<String> },
    /// Resolve an escalation by hand.
    Resolve { escalation: EscalationRef, by: String, action: String },
    /// Someone is away.
    Absent { staff: String, until: Timestamp },
    /// Close the case.
    CloseCase { child: String, by: String, reason: String },
}

/// One step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Its number, from 1.
    pub number: usize,
    /// When.
    pub at: Timestamp,
    /// What.
    pub action: Action,
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// When the clock starts.
    pub start: Timestamp,
    /// When it stops.
    pub end: Timestamp,
    /// Teams.
    pub teams: Vec<TeamDef>,
    /// Staff.
    pub staff: Vec<StaffDef>,
    /// Steps, in time order.
    pub steps: Vec<Step>,
}

/// Reads fields of one JSON object, naming the field (and step) in every error.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    step: Option<usize>,
    prefix: String,
}

impl<'a> Fields<'a> {
    fn err(&self, field: &str, message: impl Into<String>) -> ScenarioError {
        let field = format!("{}{field}", self.prefix);
        match self.step {
            Some(step) => ScenarioError::Step { step, field, message: message.into() },
            None => ScenarioError::Field { field, message: message.into() },
        }
    }

    fn opt_str(&self, name: &str) -> Result<Option<String>, ScenarioError> {
        match self.obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(name, "must be a string")),
        }
    }

    fn str(&self, name: &str) -> Result<String, ScenarioError> {
        match self.opt_str(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(self.err(name, "must not be empty")),
            None => Err(self.err(name, "is required")),
        }
    }

    fn time(&self, name: &str) -> Result<Timestamp, ScenarioError> {
        self.str(name)?
            .parse::<Timestamp>()
            .map_err(|_| self.err(name, "must be an RFC 3339 time such as 2026-03-02T09:00:00Z"))
    }

    fn parsed<T>(&self, name: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, ScenarioError> {
        parse(&self.str(name)?).map_err(|e| self.err(name, e))
    }

    fn opt_bool(&self, name: &str) -> Result<bool, ScenarioError> {
        match self.obj.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.err(name, "must be true or false")),
        }
    }

    fn categories(&self) -> Result<Vec<Category>, ScenarioError> {
        let Some(Value::Array(items)) = self.obj.get("categories") else {
            return Err(self.err("categories", "is required: a list such as [\"physical\"]"));
        };
        let strings: Vec<&str> = items
            .iter()
            .map(|v| v.as_str().ok_or_else(|| self.err("categories", "must be a list of strings")))
            .collect::<Result<_, _>>()?;
        parse_categories(&strings).map_err(|e| self.err("categories", e))
    }

    fn object(&self, name: &str) -> Result<Fields<'a>, ScenarioError> {
        match self.obj.get(name) {
            Some(Value::Object(o)) => Ok(Fields { obj: o, step: self.step, prefix: format!("{}{name}.", self.prefix) }),
            _ => Err(self.err(name, "is required: an object")),
        }
    }
}

fn array<'a>(root: &'a Map<String, Value>, name: &str) -> Result<&'a Vec<Value>, ScenarioError> {
    match root.get(name) {
        Some(Value::Array(a)) => Ok(a),
        None => Ok(const { &Vec::new() }),
        Some(_) => Err(ScenarioError::Field { field: name.into(), message: "must be a list".into() }),
    }
}

fn object_at<'a>(v: &'a Value, field: String, step: Option<usize>) -> Result<Fields<'a>, ScenarioError> {
    match v {
        Value::Object(obj) => {
            Ok(Fields { obj, step, prefix: if step.is_some() { String::new() } else { format!("{field}.") } })
        }
        _ => Err(match step {
            Some(step) => ScenarioError::Step { step, field: "step".into(), message: "must be an object".into() },
            None => ScenarioError::Field { field, message: "must be an object".into() },
        }),
    }
}

/// The role a scenario gives: a practice role, or an agency (`police`…) for partners.
fn role(s: &str) -> Result<(Role, Option<Agency>), String> {
    if let Ok(a) = Agency::parse(s) {
        return Ok((Role::Partner, Some(a)));
    }
    let r = Role::parse(s).map_err(|e| format!("{e}, or an agency: police, school, health, other"))?;
    Ok((r, if r == Role::Partner { Some(Agency::Other) } else { None }))
}

fn escalation_ref(f: &Fields<'_>) -> Result<EscalationRef, ScenarioError> {
    let raw = match f.obj.get("escalation") {
        Some(Value::Number(n)) => {
            return n
                .as_i64()
                .filter(|n| *n > 0)
                .map(EscalationRef::Id)
                .ok_or_else(|| f.err("escalation", "must be an escalation id"));
        }
        _ => f.str("escalation")?,
    };
    if let Some(rest) = raw.strip_prefix("latest:") {
        let (trigger, subject) =
            rest.split_once(':').ok_or_else(|| f.err("escalation", "must look like latest:<trigger>:<subject>"))?;
        let trigger = Trigger::parse(trigger).map_err(|e| f.err("escalation", format!("trigger {e}")))?;
        return Ok(EscalationRef::Latest { trigger, subject: subject.to_string() });
    }
    raw.strip_prefix("E-")
        .unwrap_or(&raw)
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(EscalationRef::Id)
        .ok_or_else(|| f.err("escalation", "must be an id from the output (such as E-1) or latest:<trigger>:<subject>"))
}

/// Parses and checks a scenario: every field, every reference to a team, person,
/// referral or child, and that steps are in time order within `start`..=`end`.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let root: Value = serde_json::from_str(text).map_err(|e| ScenarioError::NotJson(e.to_string()))?;
    let Value::Object(root) = &root else {
        return Err(ScenarioError::NotJson("the top level must be an object".into()));
    };
    let top = Fields { obj: root, step: None, prefix: String::new() };
    let name = top.opt_str("name")?.unwrap_or_default();
    let start = top.time("start")?;
    let end = top.time("end")?;
    if end < start {
        return Err(top.err("end", "must not be before start"));
    }

    let mut teams = vec![];
    for (i, t) in array(root, "teams")?.iter().enumerate() {
        let f = object_at(t, format!("teams[{i}]"), None)?;
        teams.push(TeamDef {
            id: f.str("id")?,
            team_manager: f.opt_str("team_manager")?,
            service_manager: f.opt_str("service_manager")?,
            head_of_service: f.opt_str("head_of_service")?,
        });
    }
    let team_ids: BTreeSet<String> = teams.iter().map(|t| t.id.clone()).collect();
    if team_ids.len() != teams.len() {
        return Err(top.err("teams", "two teams share an id"));
    }

    let mut staff = vec![];
    for (i, s) in array(root, "staff")?.iter().enumerate() {
        let f = object_at(s, format!("staff[{i}]"), None)?;
        let (role, agency) = f.parsed("role", role)?;
        let team = f.opt_str("team")?;
        if let Some(t) = &team
            && !team_ids.contains(t)
        {
            return Err(f.err("team", format!("no team has id {t:?}")));
        }
        let fte = match f.obj.get("fte") {
            None | Some(Value::Null) => 1.0,
            Some(v) => v
                .as_f64()
                .filter(|x| *x > 0.0 && *x <= 1.0)
                .ok_or_else(|| f.err("fte", "must be a number more than 0 and at most 1"))?,
        };
        staff.push(StaffDef { id: f.str("id")?, role, agency, team, fte, deputy: f.opt_str("deputy")? });
    }
    let staff_ids: BTreeSet<String> = staff.iter().map(|s| s.id.clone()).collect();
    if staff_ids.len() != staff.len() {
        return Err(top.err("staff", "two people share an id"));
    }
    for (i, s) in staff.iter().enumerate() {
        if let Some(d) = &s.deputy
            && !staff_ids.contains(d)
        {
            return Err(ScenarioError::Field {
                field: format!("staff[{i}].deputy"),
                message: format!("no one has id {d:?}"),
            });
        }
    }
    for (i, t) in teams.iter().enumerate() {
        for (field, who) in [
            ("team_manager", &t.team_manager),
            ("service_manager", &t.service_manager),
            ("head_of_service", &t.head_of_service),
        ] {
            if let Some(w) = who
                && !staff_ids.contains(w)
            {
                return Err(ScenarioError::Field {
                    field: format!("teams[{i}].{field}"),
                    message: format!("no one has id {w:?}"),
                });
            }
        }
    }

    let mut children: BTreeSet<String> = BTreeSet::new();
    let mut referrals: BTreeSet<String> = BTreeSet::new();
    let mut steps = vec![];
    let mut last = start;
    for (i, s) in array(root, "steps")?.iter().enumerate() {
        let number = i + 1;
        let f = object_at(s, String::new(), Some(number))?;
        let at = f.time("at")?;
        if at < last {
            return Err(f.err("at", "steps must be in time order"));
        }
        if at > end {
            return Err(f.err("at", "is after the scenario's end"));
        }
        last = at;
        let who = |name: &str| -> Result<String, ScenarioError> {
            let id = f.str(name)?;
            if staff_ids.contains(&id) { Ok(id) } else { Err(f.err(name, format!("no one has id {id:?}"))) }
        };
        let known_child = |children: &BTreeSet<String>| -> Result<String, ScenarioError> {
            let id = f.str("child")?;
            if children.contains(&id) {
                Ok(id)
            } else {
                Err(f.err("child", format!("no earlier referral names a child {id:?}")))
            }
        };
        let action = match f.str("do")?.as_str() {
            "referral" => {
                let id = f.str("id")?;
                if !referrals.insert(id.clone()) {
                    return Err(f.err("id", format!("a referral {id:?} was already made")));
                }
                let team = f.str("team")?;
                if !team_ids.contains(&team) {
                    return Err(f.err("team", format!("no team has id {team:?}")));
                }
                let c = f.object("child")?;
                let child = ChildDef {
                    id: c.str("id")?,
                    given_name: c.str("given_name")?,
                    family_name: c.str("family_name")?,
                    dob: c.opt_str("dob")?,
                    sex: c.opt_str("sex")?,
                    address: c.opt_str("address")?,
                    postcode: c.opt_str("postcode")?,
                    nhs_number: c.opt_str("nhs_number")?,
                };
                if let Some(d) = &child.dob {
                    parse_date(d).map_err(|e| c.err("dob", e))?;
                }
                children.insert(child.id.clone());
                Action::Referral {
                    id,
                    team,
                    source: f.parsed("source", ReferralSource::parse)?,
                    child,
                    concern: f.str("concern")?,
                    categories: f.categories()?,
                }
            }
            "decide_referral" => {
                let referral = f.str("referral")?;
                if !referrals.contains(&referral) {
                    return Err(f.err("referral", format!("no earlier referral has id {referral:?}")));
                }
                Action::DecideReferral {
                    referral,
                    by: who("by")?,
                    decision: f.parsed("decision", Decision::parse)?,
                    reason: f.str("reason")?,
                }
            }
            "allocate" => Action::Allocate {
                child: known_child(&children)?,
                worker: who("worker")?,
                by: who("by")?,
                override_reason: f.opt_str("override_reason")?.filter(|s| !s.trim().is_empty()),
            },
            "start_plan" => {
                let plan = f.str("plan")?;
                domain::practice::Plan::parse(&plan).map_err(|e| f.err("plan", e))?;
                let category = f.opt_str("category")?;
                if let Some(c) = &category {
                    Category::parse(c).map_err(|e| f.err("category", e))?;
                }
                Action::StartPlan { child: known_child(&children)?, plan, category, by: who("by")? }
            }
            "visit" => Action::Visit {
                child: known_child(&children)?,
                by: who("by")?,
                outcome: f.parsed("outcome", VisitOutcome::parse)?,
                note: f.opt_str("note")?,
            },
            "concern" => Action::Concern {
                child: known_child(&children)?,
                source: f.parsed("source", ReferralSource::parse)?,
                concern: f.str("concern")?,
                categories: f.categories()?,
            },
            "threshold_decision" => {
                let forum = f.str("forum")?;
                domain::practice::Forum::parse(&forum).map_err(|e| f.err("forum", e))?;
                let outcome = f.str("outcome")?;
                domain::practice::ThresholdOutcome::parse(&outcome).map_err(|e| f.err("outcome", e))?;
                let review_by = match f.opt_str("review_by")? {
                    Some(d) => Some(parse_date(&d).map_err(|e| f.err("review_by", e))?),
                    None => None,
                };
                Action::ThresholdDecision {
                    child: known_child(&children)?,
                    by: who("by")?,
                    forum,
                    outcome,
                    reason: f.str("reason")?,
                    cooperation_noted: f.opt_bool("cooperation_noted")?,
                    review_by,
                }
            }
            "strategy_discussion" => {
                Action::StrategyDiscussion { child: known_child(&children)?, by: who("by")?, s47: f.opt_bool("s47")? }
            }
            "icpc" => Action::Icpc { child: known_child(&children)?, by: who("by")? },
            "review_conference" => Action::ReviewConference { child: known_child(&children)?, by: who("by")? },
            "complete_assessment" => Action::CompleteAssessment { child: known_child(&children)?, by: who("by")? },
            "acknowledge" => {
                Action::Acknowledge { escalation: escalation_ref(&f)?, by: who("by")?, note: f.opt_str("note")? }
            }
            "resolve" => Action::Resolve { escalation: escalation_ref(&f)?, by: who("by")?, action: f.str("action")? },
            "absent" => {
                let until = f.time("until")?;
                if until <= at {
                    return Err(f.err("until", "must be after the step's time"));
                }
                Action::Absent { staff: who("staff")?, until }
            }
            "close_case" => {
                Action::CloseCase { child: known_child(&children)?, by: who("by")?, reason: f.str("reason")? }
            }
            other => {
                return Err(f.err(
                    "do",
                    format!("unknown action {other:?}; expected referral, decide_referral, allocate, start_plan, visit, concern, threshold_decision, strategy_discussion, icpc, review_conference, complete_assessment, acknowledge, resolve, absent or close_case"),
                ));
            }
        };
        steps.push(Step { number, at, action });
    }
    Ok(Scenario { name, start, end, teams, staff, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(steps: &str) -> String {
        format!(
            r#"{{"name":"t","start":"2026-03-02T09:00:00Z","end":"2026-03-20T17:00:00Z",
            "teams":[{{"id":"north","team_manager":"tm1"}}],
            "staff":[{{"id":"tm1","role":"team_manager","team":"north"}},{{"id":"pc1","role":"police"}}],
            "steps":[{steps}]}}"#
        )
    }

    const REFERRAL: &str = r#"{"at":"2026-03-02T09:00:00Z","do":"referral","id":"r1","team":"north","source":"school",
        "child":{"id":"c1","given_name":"Alfie","family_name":"Scott","dob":"2014-01-01"},"concern":"x","categories":["physical"]}"#;

    #[test]
    fn the_public_scenarios_parse() {
        for f in ["no-access-cp.json", "referral-undecided.json", "caseload-cap.json"] {
            let path = format!("{}/scenarios/public/{f}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let s = parse(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!s.steps.is_empty());
        }
    }

    #[test]
    fn errors_name_the_step_and_field() {
        let e = parse(&base(&format!(
            r#"{REFERRAL},{{"at":"2026-03-02T10:00:00Z","do":"visit","child":"c1","by":"tm1","outcome":"maybe"}}"#
        )))
        .unwrap_err();
        assert!(matches!(&e, ScenarioError::Step { step: 2, field, .. } if field == "outcome"), "{e}");
        let e = parse(&base(r#"{"at":"2026-03-02T10:00:00Z","do":"visit","child":"c9","by":"tm1","outcome":"seen"}"#))
            .unwrap_err();
        assert!(matches!(&e, ScenarioError::Step { step: 1, field, .. } if field == "child"), "{e}");
        let e =
            parse(&base(&format!(r#"{REFERRAL},{{"at":"2026-03-02T08:00:00Z","do":"icpc","child":"c1","by":"tm1"}}"#)))
                .unwrap_err();
        assert!(matches!(&e, ScenarioError::Step { step: 2, field, .. } if field == "at"), "{e}");
        let e = parse(&base(r#"{"at":"2026-03-02T09:00:00Z","do":"referral","id":"r1","team":"north","source":"school","child":{"id":"c1","given_name":"A","family_name":"B","dob":"2014-13-01"},"concern":"x","categories":["physical"]}"#)).unwrap_err();
        assert!(matches!(&e, ScenarioError::Step { step: 1, field, .. } if field == "child.dob"), "{e}");
        let e = parse(&base(r#"{"at":"2026-03-02T09:00:00Z","do":"dance"}"#)).unwrap_err();
        assert!(e.to_string().starts_with("step 1: field do"), "{e}");
        let e = parse(&base(&format!(
            r#"{REFERRAL},{{"at":"2026-03-02T10:00:00Z","do":"acknowledge","escalation":"latest:bogus:c1","by":"tm1"}}"#
        )))
        .unwrap_err();
        assert!(matches!(&e, ScenarioError::Step { step: 2, field, .. } if field == "escalation"), "{e}");
        assert!(matches!(parse("{"), Err(ScenarioError::NotJson(_))));
        assert!(
            matches!(parse(r#"{"start":"x","end":"2026-03-20T17:00:00Z"}"#), Err(ScenarioError::Field { field, .. }) if field == "start")
        );
    }

    #[test]
    fn roles_may_be_agencies() {
        let s = parse(&base("")).unwrap();
        assert_eq!((s.staff[1].role, s.staff[1].agency), (Role::Partner, Some(Agency::Police)));
    }
}
