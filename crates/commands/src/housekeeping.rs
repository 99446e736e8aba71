//! Jobs that must run on one process at a time, whatever the number of `serve`
//! processes: each round takes a lease row first, and only its holder does the work.

use crate::{Result, Service};
use domain::event::Event;
use jiff::SignedDuration;
use store::AuditActor;

/// The lease's name.
const LEASE: &str = "housekeeping";

/// How long a lease lasts: a holder that dies is replaced after this.
pub const LEASE_FOR: SignedDuration = SignedDuration::from_secs(90);

/// What a round of housekeeping did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housekeeping {
    /// Whether this process held the lease (and so did the work).
    pub leader: bool,
    /// Expired sessions removed.
    pub sessions_purged: u64,
}

impl Service {
    /// One round of leader-only work for the process named `holder`: take or renew the
    /// lease; if held, remove expired sessions (on the trail when there were any).
    pub async fn housekeeping(&self, holder: &str) -> Result<Housekeeping> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx.take_lease(LEASE, holder, now, now + LEASE_FOR).await? {
            return Ok(Housekeeping::default());
        }
        let count = tx.expired_sessions(now).await?;
        if count > 0 {
            let event = Event::SessionsPurged { before: now, count };
            tx.record(&AuditActor::System("housekeeping"), "session.purge", "sessions", now, &[event]).await?;
        }
        tx.commit().await?;
        Ok(Housekeeping { leader: true, sessions_purged: count })
    }
}
