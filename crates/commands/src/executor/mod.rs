//! The one path every change takes: authorise, load, decide, apply, react, record,
//! commit.
//!
//! A command is a value of a type implementing [`Command`]: it says who may ask for it,
//! then, handed a [`Load`] (the transaction's reading half, which cannot write), loads
//! what the rules need and lets the domain decide. The executor does everything else, the
//! same way for every command: it applies the events, works out what follows from them
//! (timers, escalations, flags), records one audit entry and commits, or, on any error,
//! rolls everything back and returns the connection clean. No other module begins,
//! records or commits a transaction (a test in this module checks the sources).

mod react;

use crate::{Caller, CommandError, Result, Service};
use domain::authz::Actor;
use domain::escalation::Policy;
use domain::event::Event;
use domain::timer::TimerChange;
use domain::working_time::Calendar;
use jiff::Timestamp;
use std::future::Future;
use std::sync::Arc;
use store::{AuditActor, Reads, StoreError, Tx};

/// What a command decided.
#[derive(Debug)]
pub(crate) struct Decided<T> {
    /// What the change is about, as the trail names it (`referral:7`).
    pub subject: String,
    /// The events the domain decided on.
    pub events: Vec<Event>,
    /// Timers the decision itself starts, moves or meets (most come from reactions).
    pub timers: Vec<TimerChange>,
    /// What the caller gets back.
    pub output: T,
}

impl<T> Decided<T> {
    /// A decision about `subject`: these events, and `output` for the caller.
    pub fn new(subject: impl Into<String>, events: Vec<Event>, output: T) -> Self {
        Self { subject: subject.into(), events, timers: Vec::new(), output }
    }

    /// The same decision, also changing these timers.
    pub fn with_timers(mut self, timers: Vec<TimerChange>) -> Self {
        self.timers = timers;
        self
    }
}

/// A change someone asks for, as a value. It never writes: it decides, and the executor
/// writes what it decided.
pub(crate) trait Command: Send + Sized {
    /// What the caller gets back.
    type Output: Send;
    /// The trail's name for it, e.g. `referral.decide`.
    const ACTION: &'static str;
    /// Whether an entry goes on the trail when nothing happened (no events): yes for what
    /// people ask; background work that found nothing to do leaves no entry.
    const RECORDED_WHEN_EMPTY: bool = true;

    /// The trail's name for this one (the same for every command of a type, unless the
    /// type covers several steps).
    fn action(&self) -> String {
        Self::ACTION.to_string()
    }

    /// Whether the caller may ask for this at all; checked before anything is read.
    fn authorise(&self, caller: &Caller<'_>) -> Result<()>;

    /// Loads what the rules need and lets the domain decide.
    fn decide(self, load: &mut Load<'_>) -> impl Future<Output = Result<Decided<Self::Output>>> + Send;
}

/// What a command sees while it decides: the transaction's reading half (derefs to
/// [`Reads`]), who is asking, the moment, the calendar and the policy in force.
pub(crate) struct Load<'a> {
    reads: &'a mut Reads,
    svc: &'a Service,
    caller: Caller<'a>,
    now: Timestamp,
}

impl std::ops::Deref for Load<'_> {
    type Target = Reads;
    fn deref(&self) -> &Reads {
        self.reads
    }
}

impl std::ops::DerefMut for Load<'_> {
    fn deref_mut(&mut self) -> &mut Reads {
        self.reads
    }
}

impl<'a> Load<'a> {
    /// The moment the command runs at.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Today's date in England.
    pub fn today(&self) -> jiff::civil::Date {
        self.svc.calendar().local_date(self.now)
    }

    /// Working time, with the authority's closures.
    pub fn calendar(&self) -> &'a Calendar {
        self.svc.calendar()
    }

    /// Who is asking.
    pub fn caller(&self) -> Caller<'a> {
        self.caller
    }

    /// The signed-in person asking; refused for background work, which has no one.
    pub fn actor(&self) -> Result<&'a Actor> {
        match self.caller {
            Caller::Staff(a) => Ok(a),
            Caller::System(_) => {
                Err(CommandError::Rejected(domain::Rejection::Forbidden("this is done by a signed-in person".into())))
            }
        }
    }

    /// The escalation policy in force.
    pub async fn policy(&mut self) -> Result<Arc<Policy>> {
        self.svc.policy_in(self.reads).await
    }

    /// Who an escalation about `subject` goes to now, and whom else to tell.
    pub async fn routing_for(
        &mut self,
        subject: domain::escalation::Subject,
        team_hint: Option<domain::ids::TeamId>,
    ) -> Result<(Option<domain::ids::TeamId>, domain::escalation::Routing)> {
        self.svc.routing_for(self.reads, subject, team_hint, self.now).await
    }

    /// A child's flags re-evaluated against what is held: the events that raise and
    /// clear them, and the flag-window timer.
    pub async fn flag_changes(&mut self, child: domain::ids::PersonId) -> Result<(Vec<Event>, Vec<TimerChange>)> {
        let policy = self.policy().await?;
        let ctx = domain::escalation::Ctx { policy: &policy, calendar: self.calendar(), now: self.now };
        let (mut events, mut timers) = (vec![], vec![]);
        for step in react::reflag(self.reads, &ctx, child).await? {
            match step {
                domain::reactions::Step::Events(e) => events.extend(e),
                domain::reactions::Step::Timers(t) => timers.extend(t),
                // Flags only raise and clear flags and move their timer.
                other => tracing::error!(?other, "a flag rule asked for an escalation step"),
            }
        }
        Ok((events, timers))
    }
}

impl CommandError {
    /// The store's error behind this one, if any (for noting an unavailable database).
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            CommandError::Store(e) | CommandError::Unavailable(e) => Some(e),
            _ => None,
        }
    }
}

impl Service {
    /// Runs one command in a transaction of its own.
    pub(crate) async fn execute<C: Command>(&self, caller: Caller<'_>, command: C) -> Result<C::Output> {
        Ok(self.execute_entry(caller, command).await?.0)
    }

    /// [`Service::execute`], also returning the sequence number of the command's audit
    /// entry (`None` when nothing was recorded).
    pub(crate) async fn execute_entry<C: Command>(
        &self,
        caller: Caller<'_>,
        command: C,
    ) -> Result<(C::Output, Option<i64>)> {
        command.authorise(&caller)?;
        let mut tx = self.store_handle().begin().await?;
        match self.run_in(&mut tx, caller, self.now(), command).await {
            Ok(output) => {
                let seq = tx.commit().await?;
                Ok((output, seq))
            }
            Err(e) => {
                tx.rollback(e.store_error()).await;
                Err(e)
            }
        }
    }

    /// Opens a batch: several commands in one transaction (background work handling
    /// hundreds of timers or deliveries at once). Each is still authorised, reacted to
    /// and recorded on its own; [`Batch::finish`] commits them together, or rolls all
    /// back.
    pub(crate) async fn batch(&self) -> Result<Batch<'_>> {
        Ok(Batch { tx: self.store_handle().begin().await?, svc: self })
    }

    /// Decides, applies, reacts and records one command inside `tx`.
    async fn run_in<C: Command>(
        &self,
        tx: &mut Tx,
        caller: Caller<'_>,
        now: Timestamp,
        command: C,
    ) -> Result<C::Output> {
        let action = command.action();
        let decided = {
            let mut load = Load { reads: tx.reads(), svc: self, caller, now };
            command.decide(&mut load).await?
        };
        tx.apply(&decided.events, now).await?;
        tx.change_timers(&decided.timers, now).await?;
        self.react(tx, &decided.events, now).await?;
        if C::RECORDED_WHEN_EMPTY || tx.has_pending() {
            tx.record(&caller.audit(), &action, &decided.subject, now, &[]).await?;
        }
        Ok(decided.output)
    }
}

/// Several commands in one transaction (see [`Service::batch`]).
pub(crate) struct Batch<'s> {
    tx: Tx,
    svc: &'s Service,
}

impl Batch<'_> {
    /// Runs one command in the batch's transaction.
    pub async fn run<C: Command>(&mut self, caller: Caller<'_>, command: C) -> Result<C::Output> {
        command.authorise(&caller)?;
        let now = self.svc.now();
        self.svc.run_in(&mut self.tx, caller, now, command).await
    }

    /// Ends the batch with the outcome of its work: commits when it is `Ok`, rolls
    /// everything back when it is an error (which is returned).
    pub async fn finish<T>(self, outcome: Result<T>) -> Result<T> {
        match outcome {
            Ok(out) => {
                self.tx.commit().await?;
                Ok(out)
            }
            Err(e) => {
                self.tx.rollback(e.store_error()).await;
                Err(e)
            }
        }
    }

    /// The transaction's reading half, for what the batch loads before its commands.
    pub fn reads(&mut self) -> &mut Reads {
        self.tx.reads()
    }

    /// The transaction itself, for the bookkeeping of background work that is not a
    /// change to any record: claiming timers and marking them handled, taking a lease.
    pub fn bookkeeping(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

/// The trail's name for a caller.
impl Caller<'_> {
    /// The actor as the trail records them.
    pub fn audit(&self) -> AuditActor {
        match self {
            Caller::Staff(a) => AuditActor::Staff(a.staff),
            Caller::System(name) => AuditActor::System(name),
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every source file of this crate, by name.
    const SOURCES: &[(&str, &str)] = &[
        ("auth.rs", include_str!("../auth.rs")),
        ("caseloads.rs", include_str!("../caseloads.rs")),
        ("cases.rs", include_str!("../cases.rs")),
        ("delivery.rs", include_str!("../delivery.rs")),
        ("duplicates.rs", include_str!("../duplicates.rs")),
        ("escalations.rs", include_str!("../escalations.rs")),
        ("housekeeping.rs", include_str!("../housekeeping.rs")),
        ("input.rs", include_str!("../input.rs")),
        ("lib.rs", include_str!("../lib.rs")),
        ("matching.rs", include_str!("../matching.rs")),
        ("notifications.rs", include_str!("../notifications.rs")),
        ("people.rs", include_str!("../people.rs")),
        ("practice.rs", include_str!("../practice.rs")),
        ("read_models.rs", include_str!("../read_models.rs")),
        ("readback.rs", include_str!("../readback.rs")),
        ("reads.rs", include_str!("../reads.rs")),
        ("referrals.rs", include_str!("../referrals.rs")),
        ("staff.rs", include_str!("../staff.rs")),
        ("sweeper.rs", include_str!("../sweeper.rs")),
        ("trail.rs", include_str!("../trail.rs")),
        ("views.rs", include_str!("../views.rs")),
    ];

    #[test]
    fn only_the_executor_begins_records_or_commits() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut listed: Vec<&str> = SOURCES.iter().map(|(n, _)| *n).collect();
        listed.sort_unstable();
        // The executor's own files (src/executor/) are where writing happens.
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("src is readable")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".rs"))
            .collect();
        on_disk.sort_unstable();
        assert_eq!(listed, on_disk, "every source file of the crate is checked (add new ones to SOURCES)");
        for (name, text) in SOURCES {
            // The transaction's writing calls, as they are written (each takes a
            // reference first), so a method of the same name elsewhere does not count.
            for forbidden in [".begin().await", ".commit().await", ".record(&", ".apply(&", ".change_timers(&"] {
                assert!(
                    !text.contains(forbidden),
                    "{name} calls `{forbidden}`: commands decide, the executor writes (run it as a Command)"
                );
            }
        }
    }
}
