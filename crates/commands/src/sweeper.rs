//! The sweeper: fires every timer that has fallen due, earliest first.
//!
//! Each timer is handled inside a transaction that also marks it fired, so a crash
//! before commit leaves it due (fired again later) and a crash after leaves it fired:
//! an escalation is never raised twice and never lost. On PostgreSQL timers are claimed
//! with `FOR UPDATE SKIP LOCKED`, so any number of `serve` processes share the work.

use crate::executor::{Batch, Command, Decided, Load};
use crate::{Caller, CommandError, Result, Service};
use domain::escalation::{self, Ctx, EscalationId, Subject};
use domain::ids::{PersonId, ReferralId};
use domain::reactions;
use domain::timer::TimerKind;
use jiff::Timestamp;
use store::{DueTimer, Preload};

/// How many timers one transaction fires at most, unless configured otherwise: large
/// enough that a burst costs few statements, small enough that a transaction stays short.
pub const BATCH: i64 = 500;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Timers fired.
    pub fired: usize,
    /// Timers that could not be handled and were set aside (logged).
    pub failed: usize,
}

fn person(subject: &str) -> Option<PersonId> {
    match Subject::parse_key(subject)? {
        Subject::Child(p) => Some(p),
        _ => None,
    }
}

/// Whether a timer of this kind, falling due, may raise a new escalation.
fn raises(kind: TimerKind) -> bool {
    match kind {
        TimerKind::ReferralDecisionDue
        | TimerKind::VisitDue
        | TimerKind::AssessmentDue
        | TimerKind::IcpcDue
        | TimerKind::CaseUnallocatedDue
        | TimerKind::ThresholdReviewDue => true,
        TimerKind::ReviewConferenceDue
        | TimerKind::FlagWindow
        | TimerKind::EscalationAck
        | TimerKind::EscalationResolve
        | TimerKind::EscalationReminder => false,
    }
}

/// What firing `due` will read, to load in a few statements before the first.
fn preload(due: &[DueTimer]) -> Preload {
    let mut p = Preload::default();
    for t in due {
        match t.kind {
            TimerKind::ReferralDecisionDue => {
                if let Some(r) = t.subject.strip_prefix("referral:").and_then(|s| s.parse().ok()).map(ReferralId) {
                    p.referrals.push(r);
                    p.subjects.push(Subject::Referral(r));
                }
            }
            TimerKind::VisitDue
            | TimerKind::AssessmentDue
            | TimerKind::IcpcDue
            | TimerKind::CaseUnallocatedDue
            | TimerKind::ThresholdReviewDue => {
                if let Some(child) = person(&t.subject) {
                    p.children.push(child);
                    p.subjects.push(Subject::Child(child));
                }
            }
            TimerKind::EscalationAck | TimerKind::EscalationResolve | TimerKind::EscalationReminder => {
                if let Some(e) = t.subject.strip_prefix("escalation:").and_then(|s| s.parse().ok()).map(EscalationId) {
                    p.escalations.push(e);
                }
            }
            TimerKind::ReviewConferenceDue | TimerKind::FlagWindow => {}
        }
    }
    p.children.sort();
    p.children.dedup();
    p.referrals.sort();
    p.referrals.dedup();
    p.subjects.sort();
    p.subjects.dedup();
    p.escalations.sort();
    p.escalations.dedup();
    p
}

/// Fires one claimed (and marked) timer: a deadline passing (the rules decide whether its
/// condition still calls for an escalation), an escalation's own timer (climb, remind),
/// or a flag's window closing.
struct FireTimer<'t> {
    timer: &'t DueTimer,
}

impl Command for FireTimer<'_> {
    type Output = ();
    const ACTION: &'static str = "timer";
    // A timer that finds nothing to do leaves no entry on the trail.
    const RECORDED_WHEN_EMPTY: bool = false;

    fn action(&self) -> String {
        format!("timer.{}", self.timer.kind.code())
    }

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        match caller {
            Caller::System(_) => Ok(()),
            Caller::Staff(_) => {
                Err(domain::Rejection::Forbidden("timers are fired by the sweeper, not by people".into()).into())
            }
        }
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let t = self.timer;
        let mut events = vec![];
        let mut timers = vec![];
        // A deadline passing: what follows (an escalation, if its condition still holds)
        // is for the rules.
        events.extend(reactions::deadline_passed(t.kind, &t.subject, t.due_at));
        match t.kind {
            TimerKind::FlagWindow => {
                if let Some(child) = person(&t.subject) {
                    (events, timers) = load.flag_changes(child).await?;
                }
            }
            TimerKind::EscalationAck | TimerKind::EscalationResolve | TimerKind::EscalationReminder => {
                let id = t.subject.strip_prefix("escalation:").and_then(|s| s.parse().ok()).map(EscalationId);
                if let Some(esc) = match id {
                    Some(id) => load.escalation(id).await?,
                    None => None,
                } {
                    let (_, routing) = load.routing_for(esc.subject, esc.team).await?;
                    let policy = load.policy().await?;
                    let ctx = Ctx { policy: &policy, calendar: load.calendar(), now: load.now() };
                    let out = escalation::on_timer(&ctx, &esc, t.kind, t.token, &routing);
                    (events, timers) = (out.events, out.timers);
                }
            }
            _ => {}
        }
        Ok(Decided::new(t.subject.clone(), events, ()).with_timers(timers))
    }
}

impl Service {
    /// Fires every timer due at or before the clock's now, in batches, until none is left.
    pub async fn sweep(&self) -> Result<Sweep> {
        let mut total = Sweep::default();
        loop {
            let s = self.sweep_batch(self.now(), self.config.sweep_batch.max(1)).await?;
            total.fired += s.fired;
            total.failed += s.failed;
            if s.fired + s.failed == 0 {
                return Ok(total);
            }
        }
    }

    /// Fires up to `limit` due timers in one transaction. If the batch fails (in a
    /// timer or at commit), it is rolled back and the timers are fired one at a time, so
    /// one bad timer cannot hold up the others: it is set aside.
    pub async fn sweep_batch(&self, now: Timestamp, limit: i64) -> Result<Sweep> {
        // The idle case is the common one: one indexed read, no transaction, no lock.
        if store::query::next_timer_due(self.store()).await?.is_none_or(|due| due > now) {
            return Ok(Sweep::default());
        }
        let mut batch = self.batch().await?;
        let claimed = batch.bookkeeping().claim_due_timers(now, limit).await.map_err(CommandError::from);
        let due = match claimed {
            Ok(due) if !due.is_empty() => due,
            other => return batch.finish(other.map(|_| Sweep::default())).await,
        };
        // Rows are written at commit, so a bad timer may show itself only there.
        let fired = self.fire_all(&mut batch, &due, now).await;
        match batch.finish(fired).await {
            Ok(()) => return Ok(Sweep { fired: due.len(), failed: 0 }),
            Err(e) => tracing::warn!(error = %e, timers = due.len(), "a batch of timers failed; retrying one by one"),
        }
        let mut sweep = Sweep::default();
        for t in &due {
            let mut batch = self.batch().await?;
            // Re-claim: another process may have fired it meanwhile.
            let claimed = batch.bookkeeping().claim_due_timers(now, limit).await.map_err(CommandError::from);
            let still_due = match claimed {
                Ok(d) => d.into_iter().any(|d| d.id == t.id),
                Err(e) => return batch.finish(Err(e)).await,
            };
            if !still_due {
                batch.finish(Ok(())).await?;
                continue;
            }
            let fired = self.fire_all(&mut batch, std::slice::from_ref(t), now).await;
            match batch.finish(fired).await {
                Ok(()) => sweep.fired += 1,
                Err(e) => {
                    tracing::error!(timer = t.id, kind = t.kind.code(), subject = %t.subject, error = %e, "timer failed; set aside");
                    let mut batch = self.batch().await?;
                    let set_aside = batch.bookkeeping().set_timer_failed(t.id, now).await.map_err(CommandError::from);
                    batch.finish(set_aside).await?;
                    sweep.failed += 1;
                }
            }
        }
        Ok(sweep)
    }

    /// Marks claimed timers fired and fires each in the batch, loading first what they read.
    async fn fire_all(&self, batch: &mut Batch<'_>, due: &[DueTimer], now: Timestamp) -> Result<()> {
        batch.bookkeeping().mark_fired(due, now).await?;
        batch.reads().preload(&preload(due)).await?;
        // A batch takes its escalation ids in one statement (PostgreSQL), one for each
        // deadline that may raise an escalation.
        if due.len() > 1 {
            batch.reads().reserve_escalation_ids(due.iter().filter(|t| raises(t.kind)).count()).await?;
        }
        for timer in due {
            batch.run(Caller::System("sweeper"), FireTimer { timer }).await?;
        }
        Ok(())
    }
}
