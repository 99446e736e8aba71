//! The sweeper: fires every timer that has fallen due, earliest first.
//!
//! Each timer is handled inside a transaction that also marks it fired, so a crash
//! before commit leaves it due (fired again later) and a crash after leaves it fired:
//! an escalation is never raised twice and never lost. On PostgreSQL timers are claimed
//! with `FOR UPDATE SKIP LOCKED`, so any number of `serve` processes share the work.

use crate::{CommandError, Result, Service};
use domain::escalation::{self, Ctx, EscalationId, Subject, Trigger};
use domain::event::Event;
use domain::ids::{PersonId, ReferralId};
use domain::practice::ThresholdOutcome;
use domain::timer::TimerKind;
use jiff::Timestamp;
use store::{AuditActor, DueTimer, Preload, Tx};

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
        let mut tx = self.store().begin().await?;
        let due = tx.claim_due_timers(now, limit).await?;
        if due.is_empty() {
            return Ok(Sweep::default());
        }
        // Rows are written at commit, so a bad timer may show itself only there.
        let batch = self.fire_all(&mut tx, &due, now).await;
        let committed = match batch {
            Ok(()) => tx.commit().await.map(|_| ()).map_err(CommandError::from),
            Err(e) => {
                drop(tx);
                Err(e)
            }
        };
        match committed {
            Ok(()) => return Ok(Sweep { fired: due.len(), failed: 0 }),
            Err(e) => tracing::warn!(error = %e, timers = due.len(), "a batch of timers failed; retrying one by one"),
        }
        let mut sweep = Sweep::default();
        for t in &due {
            let mut tx = self.store().begin().await?;
            // Re-claim: another process may have fired it meanwhile.
            let still_due = tx.claim_due_timers(now, limit).await?.into_iter().any(|d| d.id == t.id);
            if !still_due {
                continue;
            }
            let fired = match self.fire_all(&mut tx, std::slice::from_ref(t), now).await {
                Ok(()) => tx.commit().await.map(|_| ()).map_err(CommandError::from),
                Err(e) => {
                    drop(tx);
                    Err(e)
                }
            };
            match fired {
                Ok(()) => sweep.fired += 1,
                Err(e) => {
                    tracing::error!(timer = t.id, kind = t.kind.code(), subject = %t.subject, error = %e, "timer failed; set aside");
                    let mut tx = self.store().begin().await?;
                    tx.set_timer_failed(t.id, now).await?;
                    tx.commit().await?;
                    sweep.failed += 1;
                }
            }
        }
        Ok(sweep)
    }

    /// Marks claimed timers fired and fires each inside `tx`, loading first what they read.
    async fn fire_all(&self, tx: &mut Tx, due: &[DueTimer], now: Timestamp) -> Result<()> {
        tx.mark_fired(due, now).await?;
        tx.preload(&preload(due)).await?;
        // A batch takes its escalation ids in one statement (PostgreSQL), one for each
        // deadline that may raise an escalation.
        if due.len() > 1 {
            tx.reserve_escalation_ids(due.iter().filter(|t| raises(t.kind)).count()).await?;
        }
        for t in due {
            self.fire(tx, t, now).await?;
        }
        Ok(())
    }

    /// Fires one claimed (and marked) timer inside `tx`: decides what follows, and
    /// records one audit entry when anything happened.
    async fn fire(&self, tx: &mut Tx, t: &DueTimer, now: Timestamp) -> Result<()> {
        let policy = self.policy_in(tx).await?;
        let ctx = Ctx { policy: &policy, calendar: self.calendar(), now };
        if t.kind.is_deadline() {
            tx.apply(&[Event::DeadlinePassed { kind: t.kind, subject: t.subject.clone(), due_at: t.due_at }], now)
                .await?;
        }
        let cal = self.calendar();
        let when = |at: Timestamp| cal.local_datetime(at).strftime("%-d %b %Y %H:%M").to_string();
        match t.kind {
            TimerKind::ReferralDecisionDue => {
                let id = t.subject.strip_prefix("referral:").and_then(|s| s.parse().ok()).map(ReferralId);
                if let Some(r) = match id {
                    Some(id) => tx.referral_state(id).await?,
                    None => None,
                } && r.decision.is_none()
                {
                    let detail = format!("{} received {} has no decision", r.id.reference(), when(r.received_at));
                    self.raise_or_repeat(
                        tx,
                        &ctx,
                        Trigger::ReferralDecisionOverdue,
                        Subject::Referral(r.id),
                        Some(r.team),
                        None,
                        detail,
                    )
                    .await?;
                }
            }
            TimerKind::VisitDue => {
                if let Some(child) = person(&t.subject) {
                    let detail = format!("No visit has seen the child since the visit due {}", when(t.due_at));
                    if tx.case_times(child).await?.is_some() {
                        self.raise_or_repeat(
                            tx,
                            &ctx,
                            Trigger::VisitOverdue,
                            Subject::Child(child),
                            None,
                            None,
                            detail,
                        )
                        .await?;
                    }
                }
            }
            TimerKind::AssessmentDue => {
                if let Some(child) = person(&t.subject)
                    && tx.case_times(child).await?.is_some_and(|c| c.assessment_completed_at.is_none())
                {
                    let detail = format!("The assessment was due by {}", when(t.due_at));
                    self.raise_or_repeat(
                        tx,
                        &ctx,
                        Trigger::AssessmentOverdue,
                        Subject::Child(child),
                        None,
                        None,
                        detail,
                    )
                    .await?;
                }
            }
            TimerKind::IcpcDue => {
                if let Some(child) = person(&t.subject)
                    && tx.case_times(child).await?.is_some_and(|c| c.s47_started_at.is_some() && c.icpc_at.is_none())
                {
                    let detail = format!("The initial child protection conference was due by {}", when(t.due_at));
                    self.raise_or_repeat(tx, &ctx, Trigger::IcpcOverdue, Subject::Child(child), None, None, detail)
                        .await?;
                }
            }
            TimerKind::CaseUnallocatedDue => {
                if let Some(child) = person(&t.subject)
                    && tx.child_team_and_worker(child).await?.is_some_and(|(_, worker, _)| worker.is_none())
                {
                    let detail = format!("The case has waited for a worker since {}", when(t.due_at));
                    self.raise_or_repeat(tx, &ctx, Trigger::CaseUnallocated, Subject::Child(child), None, None, detail)
                        .await?;
                }
            }
            TimerKind::ThresholdReviewDue => {
                if let Some(child) = person(&t.subject)
                    && let Some(latest) = tx.latest_threshold(child).await?
                    && latest.outcome == ThresholdOutcome::NotMet
                {
                    let detail = format!(
                        "The decision of {} that the threshold was not met was due for review by {}",
                        when(latest.decided_at),
                        when(t.due_at)
                    );
                    self.raise_or_repeat(
                        tx,
                        &ctx,
                        Trigger::ThresholdReviewOverdue,
                        Subject::Child(child),
                        None,
                        None,
                        detail,
                    )
                    .await?;
                }
            }
            // Overdue shows on the record and in My work; there is no trigger for it.
            TimerKind::ReviewConferenceDue => {}
            TimerKind::FlagWindow => {
                if let Some(child) = person(&t.subject) {
                    self.reflag(tx, &ctx, child).await?;
                }
            }
            TimerKind::EscalationAck | TimerKind::EscalationResolve | TimerKind::EscalationReminder => {
                let id = t.subject.strip_prefix("escalation:").and_then(|s| s.parse().ok()).map(EscalationId);
                if let Some(esc) = match id {
                    Some(id) => tx.escalation(id).await?,
                    None => None,
                } {
                    let (_, routing) = self.routing_for(tx, esc.subject, esc.team, now).await?;
                    let out = escalation::on_timer(&ctx, &esc, t.kind, t.token, &routing);
                    self.apply_outcome(tx, out, now).await?;
                }
            }
        }
        if tx.has_pending() {
            tx.record(&AuditActor::System("sweeper"), &format!("timer.{}", t.kind.code()), &t.subject, now, &[])
                .await?;
        }
        Ok(())
    }
}
