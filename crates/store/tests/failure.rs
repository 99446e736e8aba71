#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every failure leaves the store usable: a write refused because the database is full
//! or out of reach is reported as such, loses nothing committed, and once the database
//! is back every connection writes again, without restarting anything.

use domain::event::Event;
use domain::ids::TeamId;
use domain::text::Label;
use jiff::Timestamp;
use sqlx::Row;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::testing::TestStore;
use store::{AuditActor, Store, StoreError, query};
use tokio::net::{TcpListener, TcpStream};

fn now() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

/// One command's worth of writing: a team with a long name, and its audit entry.
async fn create_team(store: &Store, id: i64) -> Result<(), StoreError> {
    let name = format!("Team {id} {}", "of a long name ".repeat(5));
    let event = Event::TeamCreated { team: TeamId(id), name: Label::parse(name.trim()).unwrap() };
    let mut tx = store.begin().await?;
    tx.record(&AuditActor::System("test"), "team.create", &format!("team:{id}"), now(), &[event]).await?;
    tx.commit().await.map(|_| ())
}

#[tokio::test]
async fn a_full_sqlite_store_writes_again_once_space_is_freed() {
    let t = TestStore::sqlite().await;
    let store = &t.store;
    create_team(store, 1).await.unwrap();
    let pages = store.page_count().await.unwrap();
    store.limit_pages(Some(pages + 3)).await.unwrap();

    // Write until the database is full.
    let mut written = 1;
    let refused = loop {
        match create_team(store, written + 1).await {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 1_000, "a store capped a few pages above its size fills up");
    };
    assert!(refused.is_unavailable(), "a full database is 'not now', not a bug: {refused}");
    assert!(!store.writable().await.unwrap(), "while it is full the store says it cannot write");

    // Space is freed (the cap lifted): every pooled connection writes again, more
    // writes than the pool has connections, with nothing restarted.
    store.limit_pages(None).await.unwrap();
    assert!(store.writable().await.unwrap(), "the probe finds the store writable again");
    for id in written + 2..written + 12 {
        create_team(store, id).await.unwrap_or_else(|e| panic!("write {id} after space was freed: {e}"));
    }
    // Nothing committed was lost, nothing refused was half-written, and the trail holds.
    let teams = query::teams(store).await.unwrap();
    assert_eq!(teams.len() as i64, written + 10);
    assert!(teams.iter().all(|t| t.id.0 != written + 1), "the refused team was not written");
    let verified = store::trail::verify_entries(store).await.unwrap().unwrap();
    assert_eq!(verified.entries as i64, written + 10);
    let check: String = sqlx::query("PRAGMA integrity_check").fetch_one(store.pool()).await.unwrap().get(0);
    assert_eq!(check, "ok");
    t.teardown().await;
}

#[tokio::test]
async fn a_command_with_unrecorded_events_is_refused_at_commit() {
    for t in [Some(TestStore::sqlite().await), TestStore::postgres().await].into_iter().flatten() {
        let store = &t.store;
        let mut tx = store.begin().await.unwrap();
        let event = Event::TeamCreated { team: TeamId(1), name: Label::parse("North").unwrap() };
        tx.apply(&[event], now()).await.unwrap();
        let e = tx.commit().await.unwrap_err();
        assert!(matches!(e, StoreError::Unrecorded { count: 1, .. }), "{e}");
        assert!(query::teams(store).await.unwrap().is_empty(), "nothing was committed");
        // The store is as usable as before.
        create_team(store, 1).await.unwrap();
        assert_eq!(query::audit_head(store).await.unwrap().0, 1);
        t.teardown().await;
    }
}

/// A TCP proxy standing in for the PostgreSQL server, which a test can cut (every
/// connection dropped, new ones hung up on at once) and restore.
struct Proxy {
    addr: String,
    down: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: &'static str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let down = Arc::new(AtomicBool::new(false));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if d.load(Ordering::SeqCst) {
                    continue; // hung up on: the server is down
                }
                let mut cuts = c.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, down, cut }
    }

    fn stop_server(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn start_server(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_postgres_store_writes_again_after_the_server_comes_back() {
    let Some(t) = TestStore::postgres().await else { return };
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let store = t.reconnect_via(&proxy.addr).await;

    // Under load: four writers, the server stopped part-way and started again.
    let next = Arc::new(std::sync::atomic::AtomicI64::new(1));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (store, next) = (store.clone(), next.clone());
            tokio::spawn(async move {
                let (mut ok, mut refused) = (vec![], vec![]);
                for _ in 0..40 {
                    let id = next.fetch_add(1, Ordering::SeqCst);
                    match create_team(&store, id).await {
                        Ok(()) => ok.push(id),
                        Err(e) => {
                            assert!(e.is_unavailable(), "a stopped server is 'not now': {e}");
                            refused.push(id);
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                (ok, refused)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    proxy.stop_server();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!store.writable().await.unwrap(), "while the server is down the store says it cannot write");
    proxy.start_server();

    let (mut ok, mut refused) = (vec![], vec![]);
    for w in writers {
        let (o, r) = w.await.unwrap();
        ok.extend(o);
        refused.extend(r);
    }
    assert!(!refused.is_empty(), "some writes met the stopped server");
    // Back: every connection the pool hands out writes again.
    assert!(store.writable().await.unwrap());
    for id in 1_000..1_020 {
        create_team(&store, id).await.unwrap_or_else(|e| panic!("write {id} after the server came back: {e}"));
        ok.push(id);
    }
    // Every write that succeeded is there; a refused one is there only if its COMMIT
    // reached the server before the cut (the client cannot know); the trail holds.
    let teams: Vec<i64> = query::teams(&t.store).await.unwrap().iter().map(|t| t.id.0).collect();
    for id in &ok {
        assert!(teams.contains(id), "committed team {id} is kept");
    }
    assert!(teams.iter().all(|id| ok.contains(id) || refused.contains(id)));
    store::trail::verify_entries(&t.store).await.unwrap().unwrap();
    store.close().await;
    t.teardown().await;
}
