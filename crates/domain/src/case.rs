//! Cases: a child's episode of involvement, its stages, allocation, visits and notes.

use crate::authz::Actor;
use crate::caseload;
use crate::error::Rejection;
use crate::event::Event;
use crate::ids::{CaseId, NoteId, PersonId, StaffId, TeamId, VisitId};
use crate::staff::{Fte, Role};
use crate::text::{NoteText, Reason};
use crate::visit::VisitOutcome;
use jiff::{SignedDuration, Timestamp};

// Declared below the caseload arithmetic, which weighs children by stage, beside the plans.
pub use crate::event::cases::Stage;
// Formats loads and caps; it lives with the caseload arithmetic, which needs it too.
pub use crate::caseload::trim_number;

/// A case as the rules need to see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseState {
    /// Which case.
    pub id: CaseId,
    /// The child.
    pub child: PersonId,
    /// The team holding it.
    pub team: TeamId,
    /// Current stage.
    pub stage: Stage,
    /// When it opened.
    pub opened_at: Timestamp,
    /// The allocated worker, if any.
    pub worker: Option<StaffId>,
}

impl CaseState {
    /// Whether the case is still open.
    pub fn is_open(&self) -> bool {
        self.stage != Stage::Closed
    }

    fn require_open(&self) -> Result<(), Rejection> {
        if self.is_open() {
            Ok(())
        } else {
            Err(Rejection::Conflict { field: None, message: format!("case {} is closed", self.id.reference()) })
        }
    }
}

/// A prospective worker as allocation needs to see them.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerState {
    /// Who.
    pub id: StaffId,
    /// Their name, for messages.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their team.
    pub team: Option<TeamId>,
    /// Whether their account is active.
    pub active: bool,
    /// Full-time equivalence.
    pub fte: Fte,
    /// Their weighted caseload now.
    pub load: f64,
    /// The per-FTE cap that applies to them.
    pub cap_per_fte: f64,
    /// In their first year after qualifying.
    pub newly_qualified: bool,
}

/// Allocates a case to a worker, refusing one that would take them over their cap unless a
/// manager gives a reason.
pub fn allocate(
    case: &CaseState,
    worker: &WorkerState,
    by: &Actor,
    now: Timestamp,
    override_reason: Option<Reason>,
    case_weight: f64,
) -> Result<Vec<Event>, Rejection> {
    case.require_open()?;
    if !worker.active {
        return Err(Rejection::invalid("worker", format!("{} no longer has an active account", worker.name)));
    }
    if !worker.role.is_practitioner() {
        return Err(Rejection::invalid(
            "worker",
            format!("{} is a {}, not a case-holding social worker", worker.name, worker.role.label().to_lowercase()),
        ));
    }
    if worker.team != Some(case.team) {
        return Err(Rejection::invalid(
            "worker",
            format!("{} works in another team; transfer the case to their team first", worker.name),
        ));
    }
    if case.worker == Some(worker.id) {
        return Err(Rejection::conflict("worker", format!("the case is already allocated to {}", worker.name)));
    }
    let cap = caseload::cap(worker.fte, worker.cap_per_fte);
    let load_after = worker.load + case_weight;
    let nq_cp = worker.newly_qualified && case.stage == Stage::Cp;
    if nq_cp && override_reason.is_none() {
        return Err(Rejection::invalid(
            "override_reason",
            format!(
                "{} qualified less than a year ago; a manager must give a reason to allocate a child protection case",
                worker.name
            ),
        ));
    }
    if caseload::is_over_cap(load_after, cap) && override_reason.is_none() {
        return Err(Rejection::invalid(
            "override_reason",
            format!(
                "this would take {} to a caseload of {} against a cap of {}; a manager must give a reason to go over the cap",
                worker.name,
                trim_number(load_after),
                trim_number(cap)
            ),
        ));
    }
    if override_reason.is_some() && !by.role.is_manager() {
        return Err(Rejection::Forbidden("only a team manager or above can override the caseload cap".into()));
    }
    Ok(vec![Event::CaseAllocated {
        case: case.id,
        child: case.child,
        worker: worker.id,
        previous: case.worker,
        by: by.staff,
        at: now,
        // A reason is kept only when it was needed, so the trail shows real overrides.
        override_reason: if caseload::is_over_cap(load_after, cap) || nq_cp { override_reason } else { None },
        load_after,
        cap,
    }])
}

/// How far ahead of now a visit time may be (clock skew between devices).
const FUTURE_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);

/// Records a visit: by the allocated worker, or by a manager.
#[allow(clippy::too_many_arguments)]
pub fn record_visit(
    case: &CaseState,
    by: &Actor,
    id: VisitId,
    visited_at: Timestamp,
    outcome: VisitOutcome,
    note: Option<NoteText>,
    now: Timestamp,
    welfare_check_requested: bool,
) -> Result<Vec<Event>, Rejection> {
    case.require_open()?;
    // Police record the visit they make when asked for a welfare check, and no other.
    let police = by.role == crate::staff::Role::Partner
        && by.agency == Some(crate::staff::Agency::Police)
        && welfare_check_requested;
    if case.worker != Some(by.staff) && !by.role.is_manager() && !police {
        return Err(Rejection::Forbidden(
            "only the allocated worker, a manager, or the police after a welfare-check request can record a visit on this case".into(),
        ));
    }
    if visited_at > now.checked_add(FUTURE_TOLERANCE).unwrap_or(now) {
        return Err(Rejection::invalid("visited_at", "the visit time cannot be in the future"));
    }
    if visited_at < case.opened_at {
        return Err(Rejection::invalid("visited_at", "the visit time is before the case opened"));
    }
    Ok(vec![Event::VisitRecorded {
        visit: id,
        case: case.id,
        child: case.child,
        by: by.staff,
        visited_at,
        outcome,
        note,
    }])
}

/// Adds a case note. Any practitioner or manager may write one (a duty worker takes calls).
pub fn add_note(
    case: &CaseState,
    by: &Actor,
    id: NoteId,
    text: NoteText,
    now: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    if !by.role.is_practice_staff() {
        return Err(Rejection::Forbidden("only social care staff can write case notes".into()));
    }
    Ok(vec![Event::CaseNoteAdded { note: id, case: case.id, child: case.child, author: by.staff, at: now, text }])
}

/// Closes a case with a reason.
pub fn close(case: &CaseState, by: &Actor, reason: Reason, now: Timestamp) -> Result<Vec<Event>, Rejection> {
    case.require_open()?;
    Ok(vec![Event::CaseClosed { case: case.id, child: case.child, by: by.staff, at: now, reason }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn case() -> CaseState {
        CaseState {
            id: CaseId(1),
            child: PersonId(7),
            team: TeamId(1),
            stage: Stage::Assessment,
            opened_at: ts("2026-03-02T11:00:00Z"),
            worker: None,
        }
    }

    fn actor(role: Role, staff: i64) -> Actor {
        Actor { staff: StaffId(staff), login: "x".into(), role, team: Some(TeamId(1)), agency: None }
    }

    fn worker(load: f64) -> WorkerState {
        WorkerState {
            id: StaffId(5),
            name: "Sam Worker".into(),
            role: Role::SocialWorker,
            team: Some(TeamId(1)),
            active: true,
            fte: Fte::FULL,
            load,
            cap_per_fte: caseload::DEFAULT_CAP_PER_FTE,
            newly_qualified: false,
        }
    }

    #[test]
    fn a_newly_qualified_worker_takes_a_cp_case_only_with_a_managers_reason() {
        let tm = actor(Role::TeamManager, 2);
        let nq = WorkerState { newly_qualified: true, cap_per_fte: 12.0, ..worker(2.0) };
        let cp = CaseState { stage: Stage::Cp, ..case() };
        let at = ts("2026-03-02T12:00:00Z");
        match allocate(&cp, &nq, &tm, at, None, 1.0).unwrap_err() {
            Rejection::Invalid(f) => {
                assert_eq!(f[0].field, "override_reason");
                assert!(f[0].message.contains("qualified less than a year ago"), "{}", f[0].message);
            }
            other => panic!("{other:?}"),
        }
        let reason = Reason::parse("co-worked with the senior practitioner").unwrap();
        let events = allocate(&cp, &nq, &tm, at, Some(reason.clone()), 1.0).unwrap();
        assert!(
            matches!(&events[0], Event::CaseAllocated { override_reason: Some(r), cap, .. } if *r == reason && *cap == 12.0),
            "the reason is kept on the trail"
        );
        // Any other case is within their (smaller) cap without a reason.
        assert!(allocate(&case(), &nq, &tm, at, None, 1.0).is_ok());
    }

    #[test]
    fn allocation_up_to_the_cap_needs_no_reason() {
        let tm = actor(Role::TeamManager, 2);
        let events = allocate(&case(), &worker(14.0), &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).unwrap();
        assert!(
            matches!(&events[0], Event::CaseAllocated { load_after, cap, override_reason: None, .. } if *load_after == 15.0 && *cap == 15.0)
        );
    }

    #[test]
    fn over_the_cap_needs_a_managers_reason() {
        let tm = actor(Role::TeamManager, 2);
        let err = allocate(&case(), &worker(15.0), &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).unwrap_err();
        match err {
            Rejection::Invalid(f) => {
                assert_eq!(f[0].field, "override_reason");
                assert!(f[0].message.contains("caseload of 16 against a cap of 15"), "{}", f[0].message);
            }
            other => panic!("{other:?}"),
        }
        let reason = Reason::parse("sibling of a child she holds").unwrap();
        let events =
            allocate(&case(), &worker(15.0), &tm, ts("2026-03-02T12:00:00Z"), Some(reason.clone()), 1.0).unwrap();
        assert!(matches!(&events[0], Event::CaseAllocated { override_reason: Some(r), .. } if *r == reason));
    }

    #[test]
    fn part_time_workers_have_a_smaller_cap() {
        let tm = actor(Role::TeamManager, 2);
        let mut w = worker(9.0);
        w.fte = Fte::new(0.6).unwrap();
        assert!(allocate(&case(), &w, &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).is_err());
    }

    #[test]
    fn allocation_refuses_the_wrong_worker() {
        let tm = actor(Role::TeamManager, 2);
        let mut w = worker(0.0);
        w.role = Role::TeamManager;
        assert!(allocate(&case(), &w, &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).is_err());
        let mut w = worker(0.0);
        w.team = Some(TeamId(9));
        assert!(allocate(&case(), &w, &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).is_err());
        let mut w = worker(0.0);
        w.active = false;
        assert!(allocate(&case(), &w, &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).is_err());
        let mut c = case();
        c.worker = Some(StaffId(5));
        assert!(matches!(
            allocate(&c, &worker(0.0), &tm, ts("2026-03-02T12:00:00Z"), None, 1.0),
            Err(Rejection::Conflict { .. })
        ));
        c.stage = Stage::Closed;
        assert!(allocate(&c, &worker(0.0), &tm, ts("2026-03-02T12:00:00Z"), None, 1.0).is_err());
    }

    #[test]
    fn visits_are_recorded_by_the_allocated_worker_or_a_manager() {
        let mut c = case();
        c.worker = Some(StaffId(5));
        let now = ts("2026-03-06T16:00:00Z");
        let at = ts("2026-03-06T15:00:00Z");
        assert!(
            record_visit(&c, &actor(Role::SocialWorker, 5), VisitId(1), at, VisitOutcome::NoAccess, None, now, false)
                .is_ok()
        );
        assert!(
            record_visit(&c, &actor(Role::TeamManager, 2), VisitId(1), at, VisitOutcome::Seen, None, now, false)
                .is_ok()
        );
        assert!(matches!(
            record_visit(&c, &actor(Role::SocialWorker, 6), VisitId(1), at, VisitOutcome::Seen, None, now, false),
            Err(Rejection::Forbidden(_))
        ));
        let future = ts("2026-03-06T17:00:00Z");
        assert!(matches!(
            record_visit(&c, &actor(Role::SocialWorker, 5), VisitId(1), future, VisitOutcome::Seen, None, now, false),
            Err(Rejection::Invalid(f)) if f[0].field == "visited_at"
        ));
        let before = ts("2026-03-01T10:00:00Z");
        assert!(
            record_visit(&c, &actor(Role::SocialWorker, 5), VisitId(1), before, VisitOutcome::Seen, None, now, false)
                .is_err()
        );
    }

    #[test]
    fn police_record_a_visit_only_after_a_welfare_check_request() {
        let mut c = case();
        c.worker = Some(StaffId(5));
        let now = ts("2026-03-09T16:00:00Z");
        let police = Actor {
            staff: StaffId(8),
            login: "pc".into(),
            role: Role::Partner,
            team: None,
            agency: Some(crate::staff::Agency::Police),
        };
        let school = Actor { agency: Some(crate::staff::Agency::School), ..police.clone() };
        assert!(matches!(
            record_visit(&c, &police, VisitId(1), now, VisitOutcome::Seen, None, now, false),
            Err(Rejection::Forbidden(_))
        ));
        assert!(record_visit(&c, &police, VisitId(1), now, VisitOutcome::SeenAlone, None, now, true).is_ok());
        assert!(matches!(
            record_visit(&c, &school, VisitId(1), now, VisitOutcome::Seen, None, now, true),
            Err(Rejection::Forbidden(_))
        ));
    }

    #[test]
    fn closed_cases_take_no_visits_and_close_once() {
        let tm = actor(Role::TeamManager, 2);
        let now = ts("2026-03-06T16:00:00Z");
        let events = close(&case(), &tm, Reason::parse("needs met").unwrap(), now).unwrap();
        assert_eq!(events[0].name(), "case.closed");
        let mut c = case();
        c.stage = Stage::Closed;
        assert!(close(&c, &tm, Reason::parse("again").unwrap(), now).is_err());
        assert!(record_visit(&c, &tm, VisitId(1), now, VisitOutcome::Seen, None, now, false).is_err());
    }
}
