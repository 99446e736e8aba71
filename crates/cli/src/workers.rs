//! The background work every `serve` process does beside answering requests: the
//! sweeper (due timers), the notifier (the outbox) and, on one process at a time,
//! housekeeping. Each loop logs errors and carries on: the work stays in the database,
//! so nothing is lost while it is unreachable.

use commands::Service;
use commands::delivery::Couriers;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the sweeper looks for due timers.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How often an idle notifier looks for due deliveries (sooner when this process's
/// sweeper has just fired timers).
const DELIVER_EVERY: Duration = Duration::from_millis(500);
/// How often housekeeping runs (and renews its lease).
const HOUSEKEEP_EVERY: Duration = Duration::from_secs(30);

/// The running background loops; dropping this stops them.
pub struct Workers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the sweeper, the notifier and housekeeping for `svc`, and builds its index of
/// people for matching.
pub fn start(svc: Service, couriers: Couriers) -> Workers {
    let swept = Arc::new(Notify::new());
    let holder = format!("{}:{}", hostname(), std::process::id());
    Workers {
        tasks: vec![
            tokio::spawn(sweeper(svc.clone(), swept.clone())),
            tokio::spawn(notifier(svc.clone(), couriers, swept)),
            tokio::spawn(housekeeper(svc.clone(), holder)),
            tokio::spawn(checkpoints(svc.clone())),
            tokio::spawn(figures(svc)),
        ],
    }
}

/// Signs a checkpoint of the trail every `checkpoint_every` (a minute by default) when
/// there are new entries, so an auditor can hold the service to what it has recorded.
async fn checkpoints(svc: Service) {
    let mut tick = tokio::time::interval(svc.config().checkpoint_every);
    loop {
        tick.tick().await;
        if let Err(e) = svc.sign_checkpoint(commands::Caller::System("checkpoints")).await {
            tracing::warn!(error = %e, "signing a checkpoint of the trail failed; trying again at the next tick");
        }
    }
}

/// Work that keeps pages quick: the people index at start-up ("who might this be?" is
/// ready before the first referral is typed), and the dashboard's timeliness ahead of
/// anyone asking for it.
async fn figures(svc: Service) {
    if let Err(e) = svc.prepare_people_index().await {
        tracing::error!(error = %e, "building the people index failed; it is built at the first look-up");
    }
    let every = std::time::Duration::from_secs(commands::caseloads::TIMELINESS_WARM_EVERY.as_secs().unsigned_abs());
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = svc.warm_timeliness().await {
            tracing::warn!(error = %e, "working out timeliness ahead failed; the dashboard works it out when asked");
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into())
}

async fn sweeper(svc: Service, swept: Arc<Notify>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match svc.sweep().await {
            Ok(s) if s.fired + s.failed > 0 => {
                tracing::info!(fired = s.fired, failed = s.failed, "sweep");
                swept.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "sweep failed; retrying"),
        }
    }
}

async fn notifier(svc: Service, couriers: Couriers, swept: Arc<Notify>) {
    loop {
        match svc.deliver_due(&couriers).await {
            // A full batch may have more behind it: go straight on.
            Ok(r) if r.handled() > 0 => {
                tracing::info!(sent = r.sent, deferred = r.deferred, failed = r.failed, "deliveries");
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "delivery round failed; retrying"),
        }
        tokio::select! {
            _ = swept.notified() => {}
            _ = tokio::time::sleep(DELIVER_EVERY) => {}
        }
    }
}

async fn housekeeper(svc: Service, holder: String) {
    let mut tick = tokio::time::interval(HOUSEKEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_leader = false;
    loop {
        tick.tick().await;
        match svc.housekeeping(&holder).await {
            Ok(h) => {
                if h.leader != was_leader {
                    tracing::info!(holder = %holder, leader = h.leader, "housekeeping lease");
                    was_leader = h.leader;
                }
                if h.sessions_purged > 0 {
                    tracing::info!(sessions = h.sessions_purged, "expired sessions removed");
                }
            }
            Err(e) => tracing::error!(error = %e, "housekeeping failed; retrying"),
        }
    }
}
