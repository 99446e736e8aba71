//! The escalation policy: every number in `ESCALATION.md`, as data.
//!
//! A policy file (JSON) may give only what it changes; everything else takes the default.
//! A trigger given in `triggers` replaces that trigger's settings as a whole.

use super::Trigger;
use crate::working_time::Timescale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn ts(s: &str) -> Timescale {
    // Only ever called with the literals below, which the tests parse.
    s.parse().unwrap_or(Timescale::WorkingDays(1))
}

/// How one trigger escalates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerPolicy {
    /// The level it starts at (1 = team manager).
    pub start_level: u8,
    /// Time to acknowledge at each level before it climbs (`unacknowledged`).
    pub ack_within: Timescale,
    /// Time to resolve at each level, from the level being reached, before it climbs
    /// (`unresolved`); the first entry is for the starting level, and the last repeats.
    pub resolve_within: Vec<Timescale>,
}

impl TriggerPolicy {
    fn new(start_level: u8, ack: &str, resolve: &[&str]) -> Self {
        Self { start_level, ack_within: ts(ack), resolve_within: resolve.iter().map(|s| ts(s)).collect() }
    }

    /// The time to resolve at `level`.
    pub fn resolve_at(&self, level: u8) -> Timescale {
        let i = usize::from(level.saturating_sub(self.start_level));
        self.resolve_within.get(i).or(self.resolve_within.last()).copied().unwrap_or(Timescale::WorkingDays(1))
    }
}

/// Statutory and local timescales that start and stop timers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Timescales {
    /// Referral to decision.
    pub referral_decision: Timescale,
    /// Referral to completed assessment.
    pub assessment: Timescale,
    /// Strategy discussion (starting a s47 enquiry) to initial conference.
    pub icpc: Timescale,
    /// Initial conference to first review conference.
    pub first_review_conference: Timescale,
    /// Between later review conferences.
    pub review_conference: Timescale,
    /// Visit frequency on a child protection plan.
    pub visit_cp: Timescale,
    /// Visit frequency on a child in need plan.
    pub visit_cin: Timescale,
    /// First visit after a child becomes looked after.
    pub visit_lac_first: Timescale,
    /// Visit frequency for a looked-after child after the first.
    pub visit_lac: Timescale,
    /// How long an open case may wait for a worker.
    pub case_unallocated: Timescale,
}

impl Default for Timescales {
    fn default() -> Self {
        Self {
            referral_decision: ts("1wd"),
            assessment: ts("45wd"),
            icpc: ts("15wd"),
            first_review_conference: ts("3mo"),
            review_conference: ts("6mo"),
            visit_cp: ts("10wd"),
            visit_cin: ts("20wd"),
            visit_lac_first: ts("1w"),
            visit_lac: ts("6w"),
            case_unallocated: ts("1wd"),
        }
    }
}

/// The windows and counts of the flag rules (and the triggers that share them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FlagWindows {
    /// `not_seen_alone`: this many last visits on a CP plan saw the child, never alone.
    pub not_seen_alone_visits: u32,
    /// `repeat_referrals`: this many referrals…
    pub repeat_referrals_count: u32,
    /// …within this window.
    pub repeat_referrals_window: Timescale,
    /// `disguised_compliance`: this many further concerns, referrals, missed visits…
    pub disguised_compliance_count: u32,
    /// …within this window after cooperation was given as a reason.
    pub disguised_compliance_window: Timescale,
    /// `cumulative_harm`: this many concerns…
    pub cumulative_harm_count: u32,
    /// …within this window.
    pub cumulative_harm_window: Timescale,
    /// `concern_after_threshold_not_met`: a concern within this window after the decision.
    pub threshold_concern_window: Timescale,
}

impl Default for FlagWindows {
    fn default() -> Self {
        Self {
            not_seen_alone_visits: 2,
            repeat_referrals_count: 3,
            repeat_referrals_window: ts("12mo"),
            disguised_compliance_count: 2,
            disguised_compliance_window: ts("6mo"),
            cumulative_harm_count: 5,
            cumulative_harm_window: ts("24mo"),
            threshold_concern_window: ts("6mo"),
        }
    }
}

/// The whole escalation policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The highest level escalations climb to; above it they send reminders.
    pub top_level: u8,
    /// How often a reminder goes out at the top level.
    pub repeat_every: Timescale,
    /// Someone holding more than this many open, unacknowledged escalations is passed by.
    pub overload_threshold: u32,
    /// Per-trigger levels and times.
    pub triggers: BTreeMap<Trigger, TriggerPolicy>,
    /// Timescales that start the clocks.
    pub timescales: Timescales,
    /// Flag windows.
    pub flags: FlagWindows,
    /// The caseload cap per full-time worker.
    pub cap_per_fte: f64,
    /// Above this multiple of the cap, `caseload_over_cap` starts one level higher.
    pub over_cap_start_higher_at: f64,
    /// What each allocated child weighs in a caseload, by the stage of their case.
    pub caseload_weights: crate::caseload::Weights,
    /// A newly qualified worker's cap as a share of the usual one (first year).
    pub newly_qualified_cap_factor: f64,
    /// Caps per FTE for some roles (by role code, e.g. `senior_practitioner`), instead of
    /// `cap_per_fte`.
    pub cap_per_fte_by_role: BTreeMap<String, f64>,
    /// Caps per FTE for some teams (by team id), instead of the role's or the default.
    // JSON keys are text, so the schema says the ids are digits rather than integers.
    #[schema(value_type = BTreeMap<String, f64>)]
    pub cap_per_fte_by_team: BTreeMap<i64, f64>,
}

impl Default for Policy {
    fn default() -> Self {
        use Trigger::*;
        let triggers = BTreeMap::from([
            (ReferralDecisionOverdue, TriggerPolicy::new(1, "1wd", &["4wh", "1wd"])),
            (ChildNotSeen, TriggerPolicy::new(1, "4wh", &["1wd"])),
            (VisitOverdue, TriggerPolicy::new(1, "1wd", &["2wd", "3wd"])),
            (AssessmentOverdue, TriggerPolicy::new(1, "1wd", &["5wd", "10wd"])),
            (IcpcOverdue, TriggerPolicy::new(1, "1wd", &["2wd", "3wd"])),
            (CaseloadOverCap, TriggerPolicy::new(1, "1wd", &["5wd", "10wd"])),
            (CaseUnallocated, TriggerPolicy::new(1, "1wd", &["1wd", "2wd"])),
            (RepeatReferrals, TriggerPolicy::new(1, "1wd", &["2wd", "3wd"])),
            (ConcernAfterThresholdNotMet, TriggerPolicy::new(2, "1wd", &["1wd"])),
            (ThresholdReviewOverdue, TriggerPolicy::new(1, "1wd", &["2wd"])),
            (ProfessionalDisagreement, TriggerPolicy::new(1, "1wd", &["5wd"])),
        ]);
        Self {
            top_level: 3,
            repeat_every: ts("1wd"),
            overload_threshold: 10,
            triggers,
            timescales: Timescales::default(),
            flags: FlagWindows::default(),
            cap_per_fte: crate::caseload::DEFAULT_CAP_PER_FTE,
            over_cap_start_higher_at: 1.5,
            caseload_weights: crate::caseload::Weights::default(),
            newly_qualified_cap_factor: 0.8,
            cap_per_fte_by_role: BTreeMap::new(),
            cap_per_fte_by_team: BTreeMap::new(),
        }
    }
}

/// A new version of the policy, after `current` (0: the built-in default), once it makes
/// sense: each value out of range is refused, naming its field.
pub fn set_policy(current: i64, policy: &Policy) -> Result<crate::event::Event, crate::error::Rejection> {
    use crate::error::Rejection;
    policy.validate().map_err(|e| match e {
        PolicyError::Invalid { field, message } => Rejection::invalid(field, message),
        PolicyError::Malformed(m) => Rejection::invalid("policy", m),
    })?;
    let body = serde_json::to_value(policy).map_err(|e| Rejection::invalid("policy", e.to_string()))?;
    Ok(crate::event::Event::PolicySet { version: current + 1, policy: body })
}

/// A policy that does not make sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// The file is not valid JSON for a policy.
    #[error("policy: {0}")]
    Malformed(String),
    /// A value is out of range.
    #[error("policy field {field}: {message}")]
    Invalid {
        /// Which field.
        field: String,
        /// Why.
        message: String,
    },
}

impl Policy {
    /// Parses a policy file (JSON), filling anything left out from the default.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let mut p: Policy = serde_json::from_str(text).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        for (t, tp) in Policy::default().triggers {
            p.triggers.entry(t).or_insert(tp);
        }
        p.validate()?;
        Ok(p)
    }

    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |field: String, message: &str| Err(PolicyError::Invalid { field, message: message.into() });
        if !(1..=4).contains(&self.top_level) {
            return bad("top_level".into(), "must be 1 to 4");
        }
        if self.overload_threshold == 0 {
            return bad("overload_threshold".into(), "must be at least 1");
        }
        if !(self.cap_per_fte.is_finite() && self.cap_per_fte > 0.0) {
            return bad("cap_per_fte".into(), "must be more than 0");
        }
        if !(self.over_cap_start_higher_at.is_finite() && self.over_cap_start_higher_at >= 1.0) {
            return bad("over_cap_start_higher_at".into(), "must be 1 or more");
        }
        if !(self.newly_qualified_cap_factor.is_finite()
            && self.newly_qualified_cap_factor > 0.0
            && self.newly_qualified_cap_factor <= 1.0)
        {
            return bad("newly_qualified_cap_factor".into(), "must be more than 0 and at most 1");
        }
        for (role, cap) in &self.cap_per_fte_by_role {
            if crate::staff::Role::parse(role).is_err() {
                return bad(format!("cap_per_fte_by_role.{role}"), "is not a role");
            }
            if !(cap.is_finite() && *cap > 0.0) {
                return bad(format!("cap_per_fte_by_role.{role}"), "must be more than 0");
            }
        }
        for (team, cap) in &self.cap_per_fte_by_team {
            if !(cap.is_finite() && *cap > 0.0) {
                return bad(format!("cap_per_fte_by_team.{team}"), "must be more than 0");
            }
        }
        if let Err((field, message)) = self.caseload_weights.check() {
            return bad(format!("caseload_weights.{field}"), message);
        }
        if self.repeat_every.amount() == 0 {
            return bad("repeat_every".into(), "must be more than zero");
        }
        for (t, tp) in &self.triggers {
            if tp.start_level < 1 || tp.start_level > self.top_level {
                return bad(format!("triggers.{t}.start_level"), "must be between 1 and top_level");
            }
            if tp.resolve_within.is_empty() {
                return bad(format!("triggers.{t}.resolve_within"), "needs at least one timescale");
            }
            if tp.ack_within.amount() == 0 || tp.resolve_within.iter().any(|r| r.amount() == 0) {
                return bad(format!("triggers.{t}"), "timescales must be more than zero");
            }
        }
        Ok(())
    }

    /// The per-FTE cap for a worker: their team's if it has one, else their role's, else
    /// the default; a share of it in their first year after qualifying.
    pub fn cap_per_fte_for(
        &self,
        role: crate::staff::Role,
        team: Option<crate::ids::TeamId>,
        newly_qualified: bool,
    ) -> f64 {
        let base = team
            .and_then(|t| self.cap_per_fte_by_team.get(&t.0))
            .or_else(|| self.cap_per_fte_by_role.get(role.code()))
            .copied()
            .unwrap_or(self.cap_per_fte);
        if newly_qualified { base * self.newly_qualified_cap_factor } else { base }
    }

    /// The settings for a trigger (every trigger has some after parsing).
    pub fn trigger(&self, t: Trigger) -> TriggerPolicy {
        self.triggers.get(&t).cloned().or_else(|| Policy::default().triggers.remove(&t)).unwrap_or(TriggerPolicy {
            start_level: 1,
            ack_within: Timescale::WorkingDays(1),
            resolve_within: vec![Timescale::WorkingDays(1)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_matches_the_contract() {
        let p = Policy::default();
        p.validate().unwrap();
        assert_eq!(p.triggers.len(), 11);
        assert_eq!(p.trigger(Trigger::ChildNotSeen).ack_within.to_string(), "4wh");
        assert_eq!(p.trigger(Trigger::ReferralDecisionOverdue).resolve_at(1).to_string(), "4wh");
        assert_eq!(p.trigger(Trigger::ReferralDecisionOverdue).resolve_at(2).to_string(), "1wd");
        assert_eq!(p.trigger(Trigger::ReferralDecisionOverdue).resolve_at(3).to_string(), "1wd");
        assert_eq!(p.trigger(Trigger::ConcernAfterThresholdNotMet).start_level, 2);
        assert_eq!(p.trigger(Trigger::ConcernAfterThresholdNotMet).resolve_at(2).to_string(), "1wd");
        assert_eq!(p.timescales.visit_lac.to_string(), "6w");
    }

    #[test]
    fn a_file_gives_only_what_it_changes() {
        let p = Policy::from_json(r#"{"overload_threshold": 3, "triggers": {"child_not_seen": {"start_level": 2, "ack_within": "2wh", "resolve_within": ["4wh"]}}}"#).unwrap();
        assert_eq!(p.overload_threshold, 3);
        assert_eq!(p.trigger(Trigger::ChildNotSeen).start_level, 2);
        assert_eq!(p.trigger(Trigger::VisitOverdue), Policy::default().trigger(Trigger::VisitOverdue));
        let back = Policy::from_json(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_policies_name_the_field() {
        let e = Policy::from_json(r#"{"top_level": 7}"#).unwrap_err();
        assert!(e.to_string().contains("top_level"), "{e}");
        let e = Policy::from_json(
            r#"{"triggers": {"child_not_seen": {"start_level": 1, "ack_within": "4wh", "resolve_within": []}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("triggers.child_not_seen.resolve_within"), "{e}");
        assert!(Policy::from_json(r#"{"nonsense": 1}"#).is_err());
        assert!(Policy::from_json(r#"{"repeat_every": "3 days"}"#).is_err());
    }
}
