//! Routing: who an escalation goes to at a level, going round people who are away or
//! already overloaded, so no escalation waits on one desk.

use super::RoutingReason;
use crate::ids::StaffId;
use std::collections::BTreeMap;

/// The people who hold each level of escalation for a subject's team
/// (level 1 team manager, 2 service manager, 3 head of service, 4 director).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// Index 0 is level 1.
    pub levels: [Option<StaffId>; 4],
}

impl Line {
    /// The person who holds `level` (1–4), if anyone.
    pub fn at(&self, level: u8) -> Option<StaffId> {
        self.levels.get(usize::from(level).checked_sub(1)?).copied().flatten()
    }
}

/// What routing needs to know about a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StaffStatus {
    /// Away (absence recorded and not yet over).
    pub absent: bool,
    /// Who covers for them.
    pub deputy: Option<StaffId>,
    /// How many open, unacknowledged escalations they hold.
    pub open_unacknowledged: u32,
}

/// Where an escalation lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The level it is at (may be above the one asked for).
    pub level: u8,
    /// Who holds it.
    pub assignee: StaffId,
    /// The person the asked-for level names, when it went to someone else.
    pub routed_from: Option<StaffId>,
    /// Why it went to someone else.
    pub reason: Option<RoutingReason>,
}

/// Routes an escalation that should be at `level`: to the person the level names unless
/// they are absent or hold more than `overload_threshold` unacknowledged escalations; then
/// to their deputy if available; else up a level, and so on to level 4. A level nobody
/// holds is passed over with the reason `no_one_at_level`. If nobody anywhere above is
/// available it stays with the first person named (never with nobody), with the reason
/// recorded; if the line names nobody at or above `level`, it goes to the nearest person
/// below. `None` only when the line names nobody at all.
pub fn route(
    level: u8,
    line: &Line,
    status: &BTreeMap<StaffId, StaffStatus>,
    overload_threshold: u32,
) -> Option<Route> {
    let of = |p: StaffId| status.get(&p).copied().unwrap_or_default();
    let unavailable = |p: StaffId| -> Option<RoutingReason> {
        let s = of(p);
        if s.absent {
            Some(RoutingReason::AssigneeAbsent)
        } else if s.open_unacknowledged > overload_threshold {
            Some(RoutingReason::AssigneeOverloaded)
        } else {
            None
        }
    };
    let named = line.at(level);
    let mut reason: Option<RoutingReason> = if named.is_none() { Some(RoutingReason::NoOneAtLevel) } else { None };
    let mut fallback: Option<(u8, StaffId)> = None;
    for l in level.max(1)..=4 {
        let Some(p) = line.at(l) else { continue };
        fallback.get_or_insert((l, p));
        match unavailable(p) {
            None => {
                let moved = Some(p) != named;
                return Some(Route {
                    level: l,
                    assignee: p,
                    routed_from: if moved { named } else { None },
                    reason: if moved { reason } else { None },
                });
            }
            Some(why) => {
                reason.get_or_insert(why);
                if let Some(d) = of(p).deputy.filter(|d| *d != p && unavailable(*d).is_none()) {
                    return Some(Route { level: l, assignee: d, routed_from: named.or(Some(p)), reason });
                }
            }
        }
    }
    if let Some((l, p)) = fallback {
        return Some(Route { level: l, assignee: p, routed_from: None, reason });
    }
    // Nobody at or above: the nearest person below, rather than nobody at all.
    (1..level.max(1)).rev().find_map(|l| line.at(l)).map(|p| Route {
        level: level.max(1),
        assignee: p,
        routed_from: None,
        reason: Some(RoutingReason::NoOneAtLevel),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line {
        Line { levels: [Some(StaffId(1)), Some(StaffId(2)), Some(StaffId(3)), Some(StaffId(4))] }
    }

    fn absent(deputy: Option<i64>) -> StaffStatus {
        StaffStatus { absent: true, deputy: deputy.map(StaffId), open_unacknowledged: 0 }
    }

    #[test]
    fn goes_to_the_person_the_level_names() {
        let r = route(1, &line(), &BTreeMap::new(), 10).unwrap();
        assert_eq!(r, Route { level: 1, assignee: StaffId(1), routed_from: None, reason: None });
        assert_eq!(route(2, &line(), &BTreeMap::new(), 10).unwrap().assignee, StaffId(2));
    }

    #[test]
    fn absent_goes_to_the_deputy_when_available() {
        let status = BTreeMap::from([(StaffId(1), absent(Some(9)))]);
        let r = route(1, &line(), &status, 10).unwrap();
        assert_eq!(
            r,
            Route {
                level: 1,
                assignee: StaffId(9),
                routed_from: Some(StaffId(1)),
                reason: Some(RoutingReason::AssigneeAbsent)
            }
        );
    }

    #[test]
    fn absent_without_a_deputy_goes_up_a_level() {
        let status = BTreeMap::from([(StaffId(1), absent(None))]);
        let r = route(1, &line(), &status, 10).unwrap();
        assert_eq!(
            r,
            Route {
                level: 2,
                assignee: StaffId(2),
                routed_from: Some(StaffId(1)),
                reason: Some(RoutingReason::AssigneeAbsent)
            }
        );
        // An absent deputy does not count as available.
        let status = BTreeMap::from([(StaffId(1), absent(Some(9))), (StaffId(9), absent(None))]);
        assert_eq!(route(1, &line(), &status, 10).unwrap().assignee, StaffId(2));
    }

    #[test]
    fn overloaded_means_more_than_the_threshold() {
        let busy = |n| StaffStatus { absent: false, deputy: None, open_unacknowledged: n };
        let status = BTreeMap::from([(StaffId(1), busy(10))]);
        assert_eq!(route(1, &line(), &status, 10).unwrap().assignee, StaffId(1));
        let status = BTreeMap::from([(StaffId(1), busy(11))]);
        let r = route(1, &line(), &status, 10).unwrap();
        assert_eq!((r.level, r.assignee, r.reason), (2, StaffId(2), Some(RoutingReason::AssigneeOverloaded)));
    }

    #[test]
    fn a_gap_in_the_line_is_skipped_and_nobody_available_keeps_the_first_named() {
        let gap = Line { levels: [Some(StaffId(1)), None, Some(StaffId(3)), None] };
        let status = BTreeMap::from([(StaffId(1), absent(None))]);
        let r = route(1, &gap, &status, 10).unwrap();
        assert_eq!((r.level, r.assignee), (3, StaffId(3)));
        let all_away = BTreeMap::from([(StaffId(1), absent(None)), (StaffId(3), absent(None))]);
        let r = route(1, &gap, &all_away, 10).unwrap();
        assert_eq!((r.level, r.assignee, r.reason), (1, StaffId(1), Some(RoutingReason::AssigneeAbsent)));
        let r = route(2, &gap, &BTreeMap::new(), 10).unwrap();
        assert_eq!((r.level, r.assignee, r.reason), (3, StaffId(3), Some(RoutingReason::NoOneAtLevel)));
        assert_eq!(route(1, &Line::default(), &BTreeMap::new(), 10), None);
        // Nobody at or above the level asked for: the nearest person below takes it, at
        // that level, rather than nobody.
        let only_team_manager = Line { levels: [Some(StaffId(1)), None, None, None] };
        let r = route(2, &only_team_manager, &BTreeMap::new(), 10).unwrap();
        assert_eq!((r.level, r.assignee, r.reason), (2, StaffId(1), Some(RoutingReason::NoOneAtLevel)));
    }
}
