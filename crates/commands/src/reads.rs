//! Reads on the trail: opening a child's record, searching for people and exporting are
//! each one audit entry (who, when, what, from where), so a review can ask who knew what.
//!
//! The query that reads the data checks the reader's role first; only a read that was
//! allowed is recorded, and the data is shown only once its entry is committed.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, CommandError, Result, Service, not_found};
use domain::Rejection;
use domain::authz::{Action, Actor, require};
use domain::event::Event;
use domain::ids::PersonId;
use store::access::{self, AccessEntry};

impl Service {
    /// Records one read on the trail in its own transaction: `event` must be a read
    /// ([`Event::is_read`]); `subject` is what was read (`person:12`, `people`,
    /// `caseloads`). Returns the entry's sequence number.
    pub async fn record_read(&self, actor: &Actor, subject: &str, event: Event) -> Result<i64> {
        self.record_read_as(Caller::Staff(actor), subject, event).await
    }

    /// [`Service::record_read`] for any caller: the operator's command line too.
    pub async fn record_read_as(&self, caller: Caller<'_>, subject: &str, event: Event) -> Result<i64> {
        let action = match &event {
            Event::RecordViewed { .. } => access::READ_ACTIONS[0],
            Event::RecordAccessViewed { .. } => access::READ_ACTIONS[1],
            Event::PeopleSearched { .. } => access::SEARCH_ACTION,
            Event::DataExported { .. } => "data.export",
            // A change never rides on a read: it would reach the trail without its rules.
            other => {
                return Err(Rejection::invalid("event", format!("{} is not a read", other.name())).into());
            }
        };
        let read = RecordRead { action, subject, event };
        let (_, seq) = self.execute_entry(caller, read).await?;
        seq.ok_or(CommandError::Store(store::StoreError::Corrupt {
            table: "audit_log",
            detail: "a read committed without its audit entry".into(),
        }))
    }

    /// Every read of and change to a person's record, newest first (managers and
    /// auditors). Reading it is itself a read the caller records.
    pub async fn record_access(&self, actor: &Actor, person: PersonId) -> Result<RecordAccess> {
        require(actor, Action::ViewRecordAccess)?;
        // The person must exist; an auditor is shown their name, never their record.
        let p = store::query::person(self.store(), person).await?.ok_or_else(|| not_found(person.reference()))?;
        let entries = access::record_access(self.store(), person, ACCESS_LIMIT).await?;
        Ok(RecordAccess { person, reference: person.reference(), name: p.full_name(), entries })
    }

    /// The latest records opened, by anyone (managers and auditors).
    pub async fn recent_reads(&self, actor: &Actor, limit: i64) -> Result<Vec<(PersonId, AccessEntry)>> {
        require(actor, Action::ViewRecordAccess)?;
        Ok(access::recent_reads(self.store(), limit.clamp(1, 500)).await?)
    }
}

/// One read, recorded: its only trace is its entry on the trail.
struct RecordRead<'a> {
    action: &'static str,
    subject: &'a str,
    event: Event,
}

impl Command for RecordRead<'_> {
    type Output = ();
    const ACTION: &'static str = "read";

    fn action(&self) -> String {
        self.action.to_string()
    }

    fn authorise(&self, _caller: &Caller<'_>) -> Result<()> {
        // The read itself was authorised by the query that made it.
        Ok(())
    }

    async fn decide(self, _load: &mut Load<'_>) -> Result<Decided<()>> {
        Ok(Decided::new(self.subject, vec![self.event], ()))
    }
}

/// Who has seen and changed one person's record.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RecordAccess {
    /// Whose record.
    pub person: PersonId,
    /// Their reference, e.g. `P-12`.
    pub reference: String,
    /// Their name (and nothing else of their record).
    pub name: String,
    /// Every read and change, newest first.
    pub entries: Vec<AccessEntry>,
}

/// The most entries a record's access list shows (the whole trail stays readable by the
/// auditor's tools).
pub const ACCESS_LIMIT: i64 = 2_000;
