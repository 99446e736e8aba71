#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The store's own promises, on SQLite and PostgreSQL alike: migrations, the audit chain,
//! rollback, and the timer table's semantics (upsert, due order, claiming).

use domain::event::Event;
use domain::ids::TeamId;
use domain::text::Label;
use domain::timer::{TimerChange, TimerKind};
use jiff::Timestamp;
use store::{AuditActor, Backend, query, store_test};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn team(id: i64, name: &str) -> Event {
    Event::TeamCreated { team: TeamId(id), name: Label::parse(name).unwrap() }
}

store_test!(migrations_are_idempotent_and_current, |store| async move {
    assert!(store.schema_is_current().await.unwrap());
    assert_eq!(store.migrate().await.unwrap(), 0, "nothing left to apply");
});

store_test!(entries_chain_across_transactions_and_batches, |store| async move {
    let now = ts("2026-03-02T09:00:00Z");
    let mut tx = store.begin().await.unwrap();
    tx.record(&AuditActor::System("test"), "team.create", "team:1", now, &[team(1, "North")]).await.unwrap();
    tx.record(&AuditActor::System("test"), "team.create", "team:2", now, &[team(2, "South")]).await.unwrap();
    let b = tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.record(&AuditActor::System("test"), "team.create", "team:3", now, &[team(3, "East")]).await.unwrap();
    let c = tx.commit().await.unwrap();
    let nothing = store.begin().await.unwrap().commit().await.unwrap();
    assert_eq!((b, c, nothing), (Some(2), Some(3), None));
    let (n, head) = query::audit_head(store).await.unwrap();
    let verified = store::trail::verify_entries(store).await.unwrap().unwrap();
    assert_eq!((n, head), (i64::try_from(verified.entries).unwrap(), verified.chain));
    assert_eq!(query::teams(store).await.unwrap().len(), 3);
});

store_test!(a_rolled_back_transaction_leaves_no_trace, |store| async move {
    let now = ts("2026-03-02T09:00:00Z");
    {
        let mut tx = store.begin().await.unwrap();
        tx.record(&AuditActor::System("test"), "team.create", "team:1", now, &[team(1, "North")]).await.unwrap();
        tx.change_timers(&[TimerChange::schedule(TimerKind::VisitDue, "person:1", now, 0)], now).await.unwrap();
        // Dropped without commit.
    }
    assert_eq!(query::audit_head(store).await.unwrap().0, 0);
    assert!(query::teams(store).await.unwrap().is_empty());
    assert_eq!(query::next_timer_due(store).await.unwrap(), None);
    // And the next transaction chains from the genesis as if nothing happened.
    let mut tx = store.begin().await.unwrap();
    tx.record(&AuditActor::System("test"), "team.create", "team:1", now, &[team(1, "North")]).await.unwrap();
    assert_eq!(tx.commit().await.unwrap(), Some(1));
    store::trail::verify_entries(store).await.unwrap().unwrap();
});

store_test!(timers_upsert_claim_in_due_order_and_stay_overdue_until_met, |store| async move {
    let now = ts("2026-03-02T09:00:00Z");
    let mut tx = store.begin().await.unwrap();
    tx.change_timers(
        &[
            TimerChange::schedule(TimerKind::VisitDue, "person:1", ts("2026-03-05T09:00:00Z"), 0),
            TimerChange::schedule(TimerKind::EscalationAck, "escalation:1", ts("2026-03-03T09:00:00Z"), 1),
            TimerChange::schedule(TimerKind::AssessmentDue, "person:2", ts("2026-03-04T09:00:00Z"), 0),
        ],
        now,
    )
    .await
    .unwrap();
    // Scheduling the same (kind, subject) again moves it rather than adding one.
    tx.change_timers(&[TimerChange::schedule(TimerKind::VisitDue, "person:1", ts("2026-03-06T09:00:00Z"), 0)], now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(query::next_timer_due(store).await.unwrap(), Some(ts("2026-03-03T09:00:00Z")));

    let later = ts("2026-03-10T09:00:00Z");
    let mut tx = store.begin().await.unwrap();
    let due = tx.claim_due_timers(later, 10).await.unwrap();
    let order: Vec<_> = due.iter().map(|t| (t.kind, t.subject.as_str())).collect();
    assert_eq!(
        order,
        [
            (TimerKind::EscalationAck, "escalation:1"),
            (TimerKind::AssessmentDue, "person:2"),
            (TimerKind::VisitDue, "person:1")
        ]
    );
    assert_eq!(due[2].due_at, ts("2026-03-06T09:00:00Z"));
    for t in &due {
        tx.mark_fired(std::slice::from_ref(t), later).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(query::next_timer_due(store).await.unwrap(), None, "nothing is scheduled any more");
    // Deadlines stay outstanding (overdue) until met; the escalation timer is done.
    let overdue = query::due(store, &[domain::ids::PersonId(1), domain::ids::PersonId(2)], &[]).await.unwrap();
    assert_eq!(overdue.len(), 2);
    assert!(overdue.iter().all(|d| d.overdue));
    // Meeting one removes it; rescheduling the other makes it scheduled (not overdue) again.
    let mut tx = store.begin().await.unwrap();
    tx.change_timers(
        &[
            TimerChange::done(TimerKind::AssessmentDue, "person:2"),
            TimerChange::schedule(TimerKind::VisitDue, "person:1", ts("2026-03-20T09:00:00Z"), 0),
        ],
        later,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let left = query::due(store, &[domain::ids::PersonId(1), domain::ids::PersonId(2)], &[]).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(!left[0].overdue);
    assert_eq!(left[0].due_at, ts("2026-03-20T09:00:00Z"));
});

/// Two transactions claiming at once on PostgreSQL get disjoint timers (SKIP LOCKED).
#[tokio::test]
async fn concurrent_claims_are_disjoint_on_postgres() {
    let Some(t) = store::testing::TestStore::postgres().await else { return };
    assert_eq!(t.store.backend(), Backend::Postgres);
    let now = ts("2026-03-02T09:00:00Z");
    let mut tx = t.store.begin().await.unwrap();
    let changes: Vec<_> =
        (1..=10).map(|i| TimerChange::schedule(TimerKind::VisitDue, format!("person:{i}"), now, 0)).collect();
    tx.change_timers(&changes, now).await.unwrap();
    tx.commit().await.unwrap();
    let other = t.reconnect().await;
    let mut a = t.store.begin().await.unwrap();
    let mut b = other.begin().await.unwrap();
    let got_a = a.claim_due_timers(now, 6).await.unwrap();
    let got_b = b.claim_due_timers(now, 6).await.unwrap();
    assert_eq!(got_a.len(), 6);
    assert_eq!(got_b.len(), 4, "the second claim skips the six locked by the first");
    assert!(got_b.iter().all(|x| got_a.iter().all(|y| x.id != y.id)));
    drop(a);
    drop(b);
    other.close().await;
    t.teardown().await;
}

store_test!(rows_waiting_in_the_write_buffer_are_seen_by_every_later_statement, |store| async move {
    let now = ts("2026-03-02T09:00:00Z");
    let mut tx = store.begin().await.unwrap();
    // Ids: the first takes the counter row, the rest are counted and written back at commit.
    let ids: Vec<i64> = {
        let mut v = vec![];
        for _ in 0..3 {
            v.push(tx.next_id("widget").await.unwrap());
        }
        v
    };
    assert_eq!(ids, vec![1, 2, 3]);
    // The same timer moved twice in one transaction (one multi-row upsert may not touch a
    // row twice), then read back by the claim, which must see the last move.
    let k = TimerKind::VisitDue;
    tx.change_timers(&[TimerChange::schedule(k, "person:1", ts("2026-03-03T09:00:00Z"), 1)], now).await.unwrap();
    tx.change_timers(&[TimerChange::schedule(k, "person:2", ts("2026-03-03T09:00:00Z"), 1)], now).await.unwrap();
    tx.change_timers(&[TimerChange::schedule(k, "person:1", ts("2026-03-02T08:00:00Z"), 2)], now).await.unwrap();
    let due = tx.claim_due_timers(now, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| (d.subject.as_str(), d.token)).collect::<Vec<_>>(), vec![("person:1", 2)]);
    tx.record(&AuditActor::System("test"), "team.create", "team:1", now, &[team(1, "North")]).await.unwrap();
    tx.commit().await.unwrap();

    // After commit: the ids continue from where the transaction left them.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.next_id("widget").await.unwrap(), 4);
    tx.record(&AuditActor::System("test"), "team.create", "team:2", now, &[team(2, "South")]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(query::audit_head(store).await.unwrap().0, 2);
    store::trail::verify_entries(store).await.unwrap().unwrap();
    assert_eq!(query::next_timer_due(store).await.unwrap(), Some(ts("2026-03-02T08:00:00Z")));
});

// PostgreSQL only: a SQLite connection is a file in this process, and nothing can drop it.
#[tokio::test]
async fn connections_the_server_dropped_are_replaced() {
    let Some(t) = store::testing::TestStore::postgres().await else { return };
    let store = &t.store;
    use sqlx::{Connection, Row};
    let mut held = vec![];
    for _ in 0..3 {
        held.push(store.pool().acquire().await.unwrap());
    }
    let mut pids = vec![];
    for c in &mut held {
        let row = sqlx::query("SELECT pg_backend_pid() AS pid").fetch_one(&mut **c).await.unwrap();
        pids.push(row.get::<i32, _>("pid"));
    }
    drop(held);
    // The server ends them while they sit idle (a restart, or an administrator)...
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&store::testing::postgres_url()).await.unwrap();
    for pid in &pids {
        sqlx::query("SELECT pg_terminate_backend($1)").bind(*pid).execute(&mut admin).await.unwrap();
    }
    // ...for longer than the pool trusts an idle connection unchecked (a real second: the
    // pool measures idleness on the machine's clock, not the service's).
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for _ in 0..4 {
        assert!(query::teams(store).await.unwrap().is_empty(), "each read is served by a live connection");
    }
    t.teardown().await;
}

// Who counts as brothers and sisters when cases are allocated together: recorded as
// siblings (either way round), or sharing a parent or a step-parent; not a parent's
// partner, nor someone in the same household.
store_test!(brothers_and_sisters_are_siblings_or_share_a_parent, |store| async move {
    use domain::ids::{PersonId, RelationshipId};
    use domain::person::{PersonDetails, PersonInput, RelationshipKind};
    let now = ts("2026-03-02T09:00:00Z");
    let person = |id: i64, kind: &str| {
        let input = PersonInput {
            kind: Some(kind.into()),
            given_name: "Sam".into(),
            family_name: format!("Family{id}"),
            dob: Some(if kind == "child" { "2015-01-01" } else { "1985-01-01" }.into()),
            ..Default::default()
        };
        let mut errors = domain::FieldErrors::new();
        let details = PersonDetails::parse(&input, jiff::civil::date(2026, 3, 2), &mut errors).unwrap();
        Event::PersonRegistered { person: PersonId(id), details }
    };
    let mut events: Vec<Event> = (1..=8).map(|id| person(id, "child")).collect();
    events.extend((10..=13).map(|id| person(id, "adult")));
    let ties = [
        (1, 2, RelationshipKind::Sibling),
        (4, 3, RelationshipKind::Sibling),
        (10, 5, RelationshipKind::Parent),
        (10, 6, RelationshipKind::Parent),
        (11, 6, RelationshipKind::StepParent),
        (11, 7, RelationshipKind::StepParent),
        (12, 7, RelationshipKind::PartnerOfParent),
        (12, 8, RelationshipKind::PartnerOfParent),
        (13, 1, RelationshipKind::HouseholdMember),
        (13, 8, RelationshipKind::HouseholdMember),
    ];
    for (k, (from, to, kind)) in (1..).zip(ties) {
        events.push(Event::RelationshipRecorded {
            relationship: RelationshipId(k),
            person: PersonId(from),
            related: PersonId(to),
            kind,
        });
    }
    let mut tx = store.begin().await.unwrap();
    tx.record(&AuditActor::System("test"), "test.family", "test:1", now, &events).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let children: Vec<PersonId> = (1..=8).map(PersonId).collect();
    let mut pairs: Vec<(i64, i64)> =
        tx.family_links(&children).await.unwrap().into_iter().map(|(a, b)| (a.0.min(b.0), a.0.max(b.0))).collect();
    pairs.sort_unstable();
    pairs.dedup();
    assert_eq!(pairs, vec![(1, 2), (3, 4), (5, 6), (6, 7)]);
    // Only pairs among those asked about.
    let some: Vec<PersonId> = [1, 5, 7].map(PersonId).to_vec();
    assert_eq!(tx.family_links(&some).await.unwrap(), vec![]);
});
