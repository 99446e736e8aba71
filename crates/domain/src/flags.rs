//! Flags on a child's record: transparent rules a practitioner can read and challenge,
//! each shown with the events that raised it. Never a score.

use crate::escalation::Policy;
use crate::visit::VisitOutcome;
use crate::working_time::{Calendar, Timescale};
use jiff::Timestamp;

// Declared beside `Event`, which carries it, so events need not import the rules that raise it.
pub use crate::event::flags::Flag;

// The rule's words read the policy's numbers, which sit above the events, so they are said
// here rather than beside the flag.
impl Flag {
    /// The rule, in words, for the record page.
    pub fn rule(self, policy: &Policy) -> String {
        let f = &policy.flags;
        match self {
            Flag::NotSeenAlone => format!(
                "On a child protection plan, the last {} visits that saw the child did not see them alone.",
                f.not_seen_alone_visits
            ),
            Flag::RepeatReferrals => {
                format!("{} or more referrals within {}.", f.repeat_referrals_count, f.repeat_referrals_window)
            }
            Flag::DisguisedCompliance => format!(
                "Cooperation was recorded as a reason in a decision, and within {} there were {} or more further concerns, referrals or visits that did not see the child.",
                f.disguised_compliance_window, f.disguised_compliance_count
            ),
            Flag::CumulativeHarm => format!(
                "{} or more concerns within {}, whatever each one's outcome.",
                f.cumulative_harm_count, f.cumulative_harm_window
            ),
        }
    }
}

/// One thing in a child's history that a flag rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Happening {
    /// When.
    pub at: Timestamp,
    /// What, as the record shows it (e.g. "Referral R-4 from police").
    pub what: String,
    /// Which kind.
    pub kind: HappeningKind,
}

/// The kinds of [`Happening`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HappeningKind {
    /// A referral arrived.
    Referral,
    /// A new concern was recorded.
    Concern,
    /// A visit, with its outcome.
    Visit(VisitOutcome),
    /// A threshold decision; `true` when cooperation was a reason.
    ThresholdDecision {
        /// Whether the family's cooperation was given as a reason.
        cooperation_noted: bool,
    },
}

/// What the flag rules need to know about a child.
#[derive(Debug, Clone, Default)]
pub struct ChildHistory {
    /// Everything, in any order.
    pub happenings: Vec<Happening>,
    /// When the current child protection plan started, if on one.
    pub cp_plan_since: Option<Timestamp>,
}

/// A flag whose rule holds now, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFlag {
    /// Which flag.
    pub flag: Flag,
    /// The events that raised it.
    pub evidence: Vec<String>,
    /// When it stops holding if nothing else happens (windowed flags).
    pub holds_until: Option<Timestamp>,
}

/// Every flag whose rule holds at `now`.
pub fn evaluate(history: &ChildHistory, policy: &Policy, cal: &Calendar, now: Timestamp) -> Vec<HeldFlag> {
    let f = &policy.flags;
    let mut items: Vec<&Happening> = history.happenings.iter().filter(|h| h.at <= now).collect();
    items.sort_by_key(|h| h.at);
    let mut held = vec![];

    // Visits on the current CP plan that saw the child: the last N saw them, none alone.
    // A visit that did not see the child (no access, not seen) cannot show the child was
    // seen alone, so it neither raises nor clears this flag; only seeing them alone does.
    if let Some(since) = history.cp_plan_since {
        let visits: Vec<&&Happening> = items
            .iter()
            .filter(|h| matches!(h.kind, HappeningKind::Visit(o) if o.saw_child()) && h.at >= since)
            .collect();
        let n = f.not_seen_alone_visits as usize;
        if n > 0 && visits.len() >= n {
            let last = &visits[visits.len() - n..];
            if last.iter().all(|h| h.kind == HappeningKind::Visit(VisitOutcome::Seen)) {
                held.push(HeldFlag {
                    flag: Flag::NotSeenAlone,
                    evidence: last.iter().map(|h| h.what.clone()).collect(),
                    holds_until: None,
                });
            }
        }
    }

    // Counting flags over a sliding window ending now: the Nth most recent event is what
    // keeps the flag up, and the flag clears when it falls out of the window.
    let windowed = |flag: Flag, count: u32, window, pick: &dyn Fn(&Happening) -> bool| -> Option<HeldFlag> {
        let in_window = within(&items, &window, cal, now, pick);
        let n = count as usize;
        if n == 0 || in_window.len() < n {
            return None;
        }
        let nth_most_recent = in_window[in_window.len() - n];
        Some(HeldFlag {
            flag,
            evidence: in_window.iter().map(|h| h.what.clone()).collect(),
            holds_until: Some(cal.add(nth_most_recent.at, &window)),
        })
    };
    let is_referral = |h: &Happening| h.kind == HappeningKind::Referral;
    let is_concern = |h: &Happening| matches!(h.kind, HappeningKind::Referral | HappeningKind::Concern);
    held.extend(windowed(Flag::RepeatReferrals, f.repeat_referrals_count, f.repeat_referrals_window, &is_referral));

    // Disguised compliance: a decision citing cooperation within the window, then enough
    // further concerns, referrals or missed visits, all still within the window.
    let worrying = |h: &Happening| {
        matches!(
            h.kind,
            HappeningKind::Referral
                | HappeningKind::Concern
                | HappeningKind::Visit(VisitOutcome::NoAccess | VisitOutcome::NotSeen)
        )
    };
    let window = f.disguised_compliance_window;
    let best = items
        .iter()
        .filter(|h| {
            h.kind == HappeningKind::ThresholdDecision { cooperation_noted: true } && cal.add(h.at, &window) > now
        })
        .filter_map(|decision| {
            let after: Vec<&&Happening> =
                items.iter().filter(|h| worrying(h) && h.at > decision.at && cal.add(h.at, &window) > now).collect();
            let n = f.disguised_compliance_count as usize;
            if n == 0 || after.len() < n {
                return None;
            }
            let until = cal.add(decision.at, &window).min(cal.add(after[after.len() - n].at, &window));
            let mut evidence = vec![decision.what.clone()];
            evidence.extend(after.iter().map(|h| h.what.clone()));
            Some(HeldFlag { flag: Flag::DisguisedCompliance, evidence, holds_until: Some(until) })
        })
        .max_by_key(|h| h.holds_until);
    held.extend(best);

    held.extend(windowed(Flag::CumulativeHarm, f.cumulative_harm_count, f.cumulative_harm_window, &is_concern));
    held
}

/// The happenings `pick` chooses that fall within `window` before `now` (of `items`, all
/// at or before `now`), oldest first: what every counting rule counts.
fn within<'h>(
    items: &[&'h Happening],
    window: &Timescale,
    cal: &Calendar,
    now: Timestamp,
    pick: &dyn Fn(&Happening) -> bool,
) -> Vec<&'h Happening> {
    items.iter().copied().filter(|h| pick(h) && cal.add(h.at, window) > now).collect()
}

/// How many referrals about the child arrived within `window` before `now`: what both
/// the `repeat_referrals` flag and the `repeat_referrals` escalation count.
pub fn referrals_within(history: &ChildHistory, window: &Timescale, cal: &Calendar, now: Timestamp) -> usize {
    let items: Vec<&Happening> = history.happenings.iter().filter(|h| h.at <= now).collect();
    within(&items, window, cal, now, &|h| h.kind == HappeningKind::Referral).len()
}

/// The next moment a held windowed flag may clear, for the flag-window timer.
pub fn next_change(held: &[HeldFlag]) -> Option<Timestamp> {
    held.iter().filter_map(|h| h.holds_until).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn h(at: &str, kind: HappeningKind) -> Happening {
        Happening { at: ts(at), what: format!("{kind:?} on {at}"), kind }
    }

    fn flags(history: &ChildHistory, now: &str) -> Vec<Flag> {
        evaluate(history, &Policy::default(), &Calendar::england_and_wales(), ts(now))
            .into_iter()
            .map(|f| f.flag)
            .collect()
    }

    #[test]
    fn not_seen_alone_needs_two_seen_visits_on_a_cp_plan() {
        let mut history = ChildHistory { cp_plan_since: Some(ts("2026-03-02T09:00:00Z")), ..Default::default() };
        history.happenings.push(h("2026-03-03T10:00:00Z", HappeningKind::Visit(VisitOutcome::Seen)));
        assert!(flags(&history, "2026-03-04T10:00:00Z").is_empty());
        history.happenings.push(h("2026-03-10T10:00:00Z", HappeningKind::Visit(VisitOutcome::Seen)));
        assert_eq!(flags(&history, "2026-03-11T10:00:00Z"), [Flag::NotSeenAlone]);
        // A visit that did not see the child leaves the flag up; seeing them alone clears it.
        history.happenings.push(h("2026-03-12T10:00:00Z", HappeningKind::Visit(VisitOutcome::NoAccess)));
        history.happenings.push(h("2026-03-13T10:00:00Z", HappeningKind::Visit(VisitOutcome::NotSeen)));
        assert_eq!(flags(&history, "2026-03-13T11:00:00Z"), [Flag::NotSeenAlone]);
        history.happenings.push(h("2026-03-17T10:00:00Z", HappeningKind::Visit(VisitOutcome::SeenAlone)));
        assert!(flags(&history, "2026-03-18T10:00:00Z").is_empty());
        // Not on a CP plan: no flag (evaluated when the last two visits saw the child not alone).
        history.cp_plan_since = None;
        assert!(flags(&history, "2026-03-11T10:00:00Z").is_empty());
    }

    #[test]
    fn repeat_referrals_hold_for_twelve_months_from_the_third_most_recent() {
        let history = ChildHistory {
            happenings: vec![
                h("2025-01-10T10:00:00Z", HappeningKind::Referral),
                h("2025-06-10T10:00:00Z", HappeningKind::Referral),
                h("2025-12-10T10:00:00Z", HappeningKind::Referral),
            ],
            ..Default::default()
        };
        assert_eq!(flags(&history, "2025-12-10T10:00:00Z"), [Flag::RepeatReferrals]);
        let held = evaluate(&history, &Policy::default(), &Calendar::england_and_wales(), ts("2025-12-11T10:00:00Z"));
        assert_eq!(held[0].holds_until, Some(ts("2026-01-10T10:00:00Z")));
        assert_eq!(held[0].evidence.len(), 3);
        assert!(flags(&history, "2026-01-10T10:00:00Z").is_empty());
        // Two referrals and a concern are not three referrals.
        let mixed = ChildHistory {
            happenings: vec![
                h("2025-01-10T10:00:00Z", HappeningKind::Referral),
                h("2025-06-10T10:00:00Z", HappeningKind::Concern),
                h("2025-12-10T10:00:00Z", HappeningKind::Referral),
            ],
            ..Default::default()
        };
        assert!(flags(&mixed, "2025-12-10T10:00:00Z").is_empty());
    }

    #[test]
    fn cumulative_harm_counts_five_concerns_in_two_years() {
        let mut history = ChildHistory::default();
        for d in ["2024-01-05", "2024-09-05", "2025-04-05", "2025-08-05"] {
            history.happenings.push(h(&format!("{d}T10:00:00Z"), HappeningKind::Concern));
        }
        assert!(flags(&history, "2025-10-01T10:00:00Z").is_empty());
        history.happenings.push(h("2025-10-05T10:00:00Z", HappeningKind::Referral));
        assert_eq!(flags(&history, "2025-10-06T10:00:00Z"), [Flag::CumulativeHarm]);
        assert!(flags(&history, "2026-01-06T10:00:00Z").is_empty(), "the 2024-01 concern fell out");
    }

    #[test]
    fn disguised_compliance_needs_cooperation_then_two_worrying_events() {
        let mut history = ChildHistory::default();
        history
            .happenings
            .push(h("2026-01-05T10:00:00Z", HappeningKind::ThresholdDecision { cooperation_noted: true }));
        history.happenings.push(h("2026-02-05T10:00:00Z", HappeningKind::Visit(VisitOutcome::NoAccess)));
        assert!(flags(&history, "2026-02-06T10:00:00Z").is_empty());
        history.happenings.push(h("2026-03-05T10:00:00Z", HappeningKind::Concern));
        assert_eq!(flags(&history, "2026-03-06T10:00:00Z"), [Flag::DisguisedCompliance]);
        let held = evaluate(&history, &Policy::default(), &Calendar::england_and_wales(), ts("2026-03-06T10:00:00Z"));
        assert_eq!(held[0].holds_until, Some(ts("2026-07-05T09:00:00Z")), "six months after the decision (BST)");
        assert!(flags(&history, "2026-07-06T10:00:00Z").is_empty());
        // Without cooperation noted, nothing.
        history.happenings[0].kind = HappeningKind::ThresholdDecision { cooperation_noted: false };
        assert!(flags(&history, "2026-03-06T10:00:00Z").is_empty());
    }
}
