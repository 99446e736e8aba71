//! Jobs that must run on one process at a time, whatever the number of `serve`
//! processes: each round takes a lease row first, and only its holder does the work.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, Result, Service};
use jiff::SignedDuration;

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

/// Removes expired sessions (on the trail when there were any).
struct PurgeSessions;

impl Command for PurgeSessions {
    type Output = u64;
    const ACTION: &'static str = "session.purge";
    const RECORDED_WHEN_EMPTY: bool = false;

    fn authorise(&self, _caller: &Caller<'_>) -> Result<()> {
        // Background work of the process holding the lease.
        Ok(())
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<u64>> {
        let now = load.now();
        let count = load.expired_sessions(now).await?;
        let events = domain::accounts::purge_sessions(now, count).into_iter().collect();
        Ok(Decided::new("sessions", events, count))
    }
}

impl Service {
    /// One round of leader-only work for the process named `holder`: take or renew the
    /// lease; if held, remove expired sessions (on the trail when there were any).
    pub async fn housekeeping(&self, holder: &str) -> Result<Housekeeping> {
        let now = self.now();
        let mut batch = self.batch().await?;
        let work = async {
            if !batch.bookkeeping().take_lease(LEASE, holder, now, now + LEASE_FOR).await? {
                return Ok(Housekeeping::default());
            }
            let sessions_purged = batch.run(Caller::System("housekeeping"), PurgeSessions).await?;
            Ok(Housekeeping { leader: true, sessions_purged })
        }
        .await;
        batch.finish(work).await
    }
}
