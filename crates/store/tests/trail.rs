#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The trail as a Merkle tree, on SQLite and PostgreSQL alike: proofs verify against
//! signed checkpoints, and every way of quietly rewriting the log — changing a row,
//! deleting one, truncating the tail and appending anew, restoring an older backup — is
//! caught by `audit verify` or by a checkpoint an auditor kept.

use audit::merkle;
use audit::{SigningKey, VerifierKey};
use jiff::Timestamp;
use sqlx::Row;
use store::{AuditActor, Store, store_test, trail};

fn key() -> SigningKey {
    SigningKey::from_seed("test.example/audit", &[7u8; 32]).unwrap()
}

fn verifier() -> VerifierKey {
    key().verifier()
}

fn at(n: u64) -> Timestamp {
    Timestamp::from_second(1_772_442_000 + i64::try_from(n).unwrap()).unwrap()
}

/// Appends `n` entries, in transactions of varying sizes.
async fn append(store: &Store, n: u64, what: &str) {
    let mut done = 0;
    let mut batch = 1;
    while done < n {
        let mut tx = store.begin().await.unwrap();
        for _ in 0..batch.min(n - done) {
            done += 1;
            tx.record(&AuditActor::System("test"), what, &format!("thing:{done}"), at(done), &[]).await.unwrap();
        }
        tx.commit().await.unwrap();
        batch = batch % 7 + 1;
    }
}

/// Signs the log as it is now; the checkpoint's text, as an auditor would keep it.
async fn checkpoint(store: &Store, when: u64) -> String {
    let (c, signed) = trail::sign_checkpoint(store, &key(), at(when)).await.unwrap();
    assert!(signed, "a new checkpoint");
    c.unwrap().text
}

async fn verify(store: &Store, supplied: Option<&str>) -> Result<trail::Verified, audit::ChainError> {
    trail::verify(store, &verifier(), supplied).await.unwrap()
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(store.pool()).await.unwrap();
}

/// The audit head as it is now, to put back later (what restoring a backup does).
async fn head(store: &Store) -> (i64, String, i64, String) {
    let r = sqlx::query("SELECT seq, hash, tree_size, frontier FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    (r.get("seq"), r.get("hash"), r.get("tree_size"), r.get("frontier"))
}

/// Puts the trail back as it was at `h`: later entries (with their tree nodes) and
/// checkpoints gone.
async fn restore(store: &Store, h: &(i64, String, i64, String)) {
    let (seq, hash, size, frontier) = h;
    exec(store, &format!("DELETE FROM audit_log WHERE seq > {seq}")).await;
    exec(store, &format!("DELETE FROM audit_checkpoints WHERE size > {size}")).await;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, tree_size = $3, frontier = $4 WHERE id = 1")
        .bind(*seq)
        .bind(hash.clone())
        .bind(*size)
        .bind(frontier.clone())
        .execute(store.pool())
        .await
        .unwrap();
}

store_test!(proofs_verify_against_signed_checkpoints, |store| async move {
    append(store, 37, "first").await;
    let first = checkpoint(store, 100).await;
    append(store, 300, "second").await;
    let second = checkpoint(store, 500).await;
    let c1 = audit::checkpoint::verify(&first, &verifier()).unwrap();
    let c2 = audit::checkpoint::verify(&second, &verifier()).unwrap();
    assert_eq!((c1.size, c2.size), (37, 337));

    // The signed root is the RFC 6962 root of the exported entries' leaf hashes.
    let exported = trail::export(store, 1, 10_000).await.unwrap();
    use base64::Engine as _;
    let leaves: Vec<_> = exported
        .iter()
        .map(|e| merkle::leaf_hash(&base64::engine::general_purpose::STANDARD.decode(&e.entry).unwrap()))
        .collect();
    assert_eq!(merkle::root(&leaves), c2.root);
    assert_eq!(merkle::root(&leaves[..37]), c1.root);

    for seq in [1u64, 2, 17, 36, 37, 38, 200, 336, 337] {
        let p = trail::inclusion_proof(store, seq, Some(337)).await.unwrap();
        let hashes: Vec<_> = p.hashes.iter().map(|h| audit::parse_hash(h).unwrap()).collect();
        merkle::verify_inclusion(&leaves[seq as usize - 1], seq - 1, 337, &hashes, &c2.root)
            .unwrap_or_else(|e| panic!("entry {seq}: {e}"));
        if seq <= 37 {
            let p = trail::inclusion_proof(store, seq, Some(37)).await.unwrap();
            let hashes: Vec<_> = p.hashes.iter().map(|h| audit::parse_hash(h).unwrap()).collect();
            merkle::verify_inclusion(&leaves[seq as usize - 1], seq - 1, 37, &hashes, &c1.root).unwrap();
        }
    }
    let p = trail::consistency_proof(store, 37, 337).await.unwrap();
    let hashes: Vec<_> = p.hashes.iter().map(|h| audit::parse_hash(h).unwrap()).collect();
    merkle::verify_consistency(37, 337, &c1.root, &c2.root, &hashes).unwrap();
    // Proofs of what is not in the log are refused.
    assert!(trail::inclusion_proof(store, 338, None).await.is_err());
    assert!(trail::inclusion_proof(store, 5, Some(400)).await.is_err());
    assert!(trail::consistency_proof(store, 40, 30).await.is_err());

    let v = verify(store, Some(&first)).await.unwrap();
    assert_eq!((v.entries, v.checkpoints, v.supplied), (337, 2, Some(37)));
    // Nothing new: no new checkpoint.
    let (latest, signed) = trail::sign_checkpoint(store, &key(), at(600)).await.unwrap();
    assert!(!signed);
    assert_eq!(latest.unwrap().size, 337);
});

store_test!(a_changed_row_is_named, |store| async move {
    append(store, 60, "x").await;
    checkpoint(store, 100).await;
    exec(store, "UPDATE audit_log SET entry = REPLACE(entry, 'thing:23', 'thing:99') WHERE seq = 23").await;
    let e = verify(store, None).await.unwrap_err();
    assert_eq!(e.seq, 23, "{e}");
    assert!(e.problem.contains("altered"), "{e}");
});

store_test!(a_changed_head_is_named, |store| async move {
    append(store, 20, "x").await;
    let whole = trail::verify_entries(store).await.unwrap().unwrap();
    assert_eq!((whole.entries, whole.chain.clone()), (20, head(store).await.1));
    // The head's chain hash is what the next entry chains onto: a changed one would fork
    // the chain at the next append, so it is caught before that.
    exec(store, &format!("UPDATE audit_head SET hash = '{}' WHERE id = 1", hex::encode([0u8; 32]))).await;
    for e in [verify(store, None).await.unwrap_err(), trail::verify_entries(store).await.unwrap().unwrap_err()] {
        assert_eq!(e.seq, 20, "{e}");
        assert!(e.problem.contains("chain hash"), "{e}");
    }
});

store_test!(a_rewritten_chain_is_caught_by_the_checkpoints, |store| async move {
    append(store, 60, "x").await;
    let kept = checkpoint(store, 100).await;
    // Someone changes entry 23 and recomputes every chain hash after it, so the chain
    // alone looks intact.
    exec(store, "UPDATE audit_log SET entry = REPLACE(entry, 'thing:23', 'thing:99') WHERE seq = 23").await;
    let rows = sqlx::query("SELECT seq, entry FROM audit_log ORDER BY seq").fetch_all(store.pool()).await.unwrap();
    let mut prev = audit::GENESIS;
    for r in rows {
        let seq: i64 = r.get("seq");
        let entry: String = r.get("entry");
        let hash = audit::chain_hash(&prev, entry.as_bytes());
        sqlx::query("UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1")
            .bind(seq)
            .bind(hex::encode(prev))
            .bind(hex::encode(hash))
            .execute(store.pool())
            .await
            .unwrap();
        prev = hash;
    }
    exec(store, &format!("UPDATE audit_head SET hash = '{}' WHERE id = 1", hex::encode(prev))).await;
    let e = verify(store, None).await.unwrap_err();
    assert!(e.seq <= 23, "{e}");
    assert!(e.problem.contains("checkpoint"), "{e}");
    // Remove the stored checkpoints too: the auditor's own copy still catches it.
    exec(store, "DELETE FROM audit_checkpoints").await;
    let e = verify(store, Some(&kept)).await.unwrap_err();
    assert!(e.seq <= 23 && e.problem.contains("checkpoint"), "{e}");
});

store_test!(a_deleted_row_is_named, |store| async move {
    append(store, 40, "x").await;
    exec(store, "DELETE FROM audit_log WHERE seq = 17").await;
    let e = verify(store, None).await.unwrap_err();
    assert_eq!(e.seq, 17, "{e}");
    assert!(e.problem.contains("missing"), "{e}");
});

store_test!(a_truncated_tail_appended_anew_is_caught, |store| async move {
    append(store, 30, "x").await;
    let at_30 = head(store).await;
    append(store, 20, "y").await;
    let kept = checkpoint(store, 100).await;
    // Entries 31–50 are cut off and different ones appended through the normal path: the
    // chain and the tree are whole again, and the stored checkpoints went with the tail.
    restore(store, &at_30).await;
    append(store, 25, "z").await;
    assert!(verify(store, None).await.is_ok(), "the chain alone cannot tell");
    let e = verify(store, Some(&kept)).await.unwrap_err();
    assert!(e.problem.contains("checkpoint"), "{e}");
    assert!(e.seq <= 31, "the change is at or before the first entry after the last matching checkpoint: {e}");
});

store_test!(an_older_backup_is_caught, |store| async move {
    append(store, 30, "x").await;
    let at_30 = head(store).await;
    append(store, 20, "y").await;
    let kept = checkpoint(store, 100).await;
    restore(store, &at_30).await;
    let e = verify(store, Some(&kept)).await.unwrap_err();
    assert!(e.problem.contains("entries were removed"), "{e}");
    assert_eq!(e.seq, 31);
    // Even a checkpoint from someone else's key is no proof of anything.
    let other = SigningKey::from_seed("test.example/audit", &[9u8; 32]).unwrap();
    let forged = other
        .sign(&audit::Checkpoint { origin: "test.example/audit".into(), size: 30, root: [0; 32], time: at(1) })
        .unwrap()
        .to_string();
    assert!(verify(store, Some(&forged)).await.unwrap_err().problem.contains("does not verify"));
});

store_test!(a_log_from_before_the_tree_is_brought_up_to_date, |store| async move {
    append(store, 45, "x").await;
    let (size, root) = trail::tree_head(store).await.unwrap();
    exec(store, "UPDATE audit_log SET leaf_hash = NULL, nodes = NULL").await;
    exec(store, "UPDATE audit_head SET tree_size = 0, frontier = '' WHERE id = 1").await;
    store.bring_trail_up_to_date().await.unwrap();
    assert_eq!(trail::tree_head(store).await.unwrap(), (size, root));
    // And the next append finds it whole even without being asked first.
    exec(store, "UPDATE audit_log SET leaf_hash = NULL, nodes = NULL").await;
    exec(store, "UPDATE audit_head SET tree_size = 0, frontier = '' WHERE id = 1").await;
    append(store, 3, "y").await;
    assert_eq!(trail::tree_head(store).await.unwrap().0, 48);
    assert!(verify(store, None).await.is_ok());
    let p = trail::inclusion_proof(store, 10, None).await.unwrap();
    assert_eq!(p.tree_size, 48);
});

store_test!(batch_boundaries_hide_nothing, |store| async move {
    append(store, 50, "x").await;
    let key = verifier();
    let check = |batch| trail::verify_in_batches(store, &key, None, batch);
    for batch in [1, 7, 49, 50, 51] {
        assert_eq!(check(batch).await.unwrap().unwrap().entries, 50, "batch {batch}");
    }
    // The last entry of a batch of 7 (8..=14), then the first of the next.
    exec(store, "DELETE FROM audit_log WHERE seq = 14").await;
    let e = check(7).await.unwrap().unwrap_err();
    assert_eq!(e.seq, 14, "{e}");
    assert!(e.problem.contains("missing"), "{e}");
    let e = check(20_000).await.unwrap().unwrap_err();
    assert_eq!(e.seq, 14, "{e}");
    exec(store, "DELETE FROM audit_log WHERE seq = 15").await;
    let e = check(7).await.unwrap().unwrap_err();
    assert_eq!(e.seq, 14, "still the first bad entry: {e}");
});

store_test!(a_missing_tail_of_the_last_batch_is_caught, |store| async move {
    append(store, 30, "x").await;
    // The newest entry goes, and the head still says 30.
    exec(store, "DELETE FROM audit_log WHERE seq = 30").await;
    let e = trail::verify_in_batches(store, &verifier(), None, 7).await.unwrap().unwrap_err();
    assert_eq!(e.seq, 30, "{e}");
});

// Two handles on one database (two processes): each remembers where the trail ended at
// its own last commit, so every append after the other's finds that out, reads the head
// and chains on; the log stays one chain and one tree.
store_test!(two_handles_append_in_turn, |t: TestStore| async move {
    let other = t.reconnect().await;
    for round in 0..5 {
        append(&t.store, 3 + round, "mine").await;
        append(&other, 2, "theirs").await;
    }
    // A batch larger than one statement holds (27 entries on SQLite, 300 on PostgreSQL).
    let mut tx = other.begin().await.unwrap();
    for k in 0..700 {
        tx.record(&AuditActor::System("test"), "bulk", &format!("thing:{k}"), at(k), &[]).await.unwrap();
    }
    tx.commit().await.unwrap();
    append(&t.store, 1, "after").await;
    let v = verify(&t.store, None).await.unwrap();
    assert_eq!(v.entries, 25 + 10 + 700 + 1);
    let (size, root) = trail::tree_head(&other).await.unwrap();
    assert_eq!((size, hex::encode(root)), (v.entries, v.root));
    other.close().await;
});

/// A person registered, as a command's event.
fn person_registered(id: i64) -> domain::event::Event {
    let input = domain::person::PersonInput {
        given_name: "Alfie".into(),
        family_name: format!("Scott{id}"),
        dob: Some("2014-03-04".into()),
        ..Default::default()
    };
    let mut errors = domain::FieldErrors::new();
    let details = domain::person::PersonDetails::parse(&input, jiff::civil::date(2026, 3, 2), &mut errors).unwrap();
    domain::event::Event::PersonRegistered { person: domain::ids::PersonId(id), details }
}

/// Registers people `ids` in one transaction, one entry each.
async fn register(store: &Store, ids: std::ops::RangeInclusive<i64>) -> Option<i64> {
    let mut tx = store.begin().await.unwrap();
    for id in ids {
        let subject = format!("person:{id}");
        tx.record(&AuditActor::System("test"), "person.register", &subject, at(1), &[person_registered(id)])
            .await
            .unwrap();
    }
    tx.commit().await.unwrap()
}

// A command's last rows ride with its entry's append. When another process has appended
// since (the append refused), they are still written, once, and the entry chains after
// the other's; a batch too large to ride is written before its append.
store_test!(rows_riding_with_a_refused_append_are_written_once, |t: TestStore| async move {
    let other = t.reconnect().await;
    append(&t.store, 2, "mine").await;
    append(&other, 3, "theirs").await;
    assert_eq!(register(&t.store, 1..=1).await, Some(6), "refused once, then chained after theirs");
    // More values than one statement takes (300 on SQLite, 3,000 on PostgreSQL).
    assert_eq!(register(&other, 2..=302).await, Some(307));
    assert_eq!(register(&t.store, 303..=303).await, Some(308));
    let r = sqlx::query("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids, MAX(id) AS last FROM people")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    let (n, ids, last): (i64, i64, i64) = (r.get("n"), r.get("ids"), r.get("last"));
    assert_eq!((n, ids, last), (303, 303, 303));
    assert_eq!(verify(&t.store, None).await.unwrap().entries, 308);
    other.close().await;
});

/// On PostgreSQL several processes append at once: the chain never forks.
#[tokio::test]
async fn concurrent_appends_on_postgres_keep_one_chain() {
    let Some(t) = store::testing::TestStore::postgres().await else { return };
    let other = t.reconnect().await;
    let mut tasks = Vec::new();
    for (k, s) in [t.store.clone(), other.clone(), t.store.clone(), other.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = s.begin().await.unwrap();
                tx.record(&AuditActor::System("test"), "race", &format!("task:{k}:{i}"), at(i), &[]).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(verify(&t.store, None).await.unwrap().entries, 100);
    other.close().await;
    t.teardown().await;
}

/// SQLite itself refuses an entry that does not follow the head (migration 0011), and
/// writes nothing for it.
#[tokio::test]
async fn sqlite_refuses_an_entry_that_would_fork_the_chain() {
    let t = store::testing::TestStore::sqlite().await;
    let store = &t.store;
    append(store, 3, "x").await;
    let (seq, hash, _, _) = head(store).await;
    let insert = |seq: i64, prev: String| {
        sqlx::query(
            "INSERT INTO audit_append (seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes, frontier)
             VALUES ($1, 0, 'system:test', 'x', 'thing:9', '{}', $2, $3, $3, '', NULL)",
        )
        .bind(seq)
        .bind(prev)
        .bind("ab".repeat(32))
        .execute(store.pool())
    };
    for (at_seq, prev) in [(seq, hash.clone()), (seq + 2, hash.clone()), (seq + 1, "cd".repeat(32))] {
        let e = insert(at_seq, prev).await.unwrap_err();
        assert!(e.to_string().contains("does not follow the head"), "{e}");
    }
    assert_eq!(head(store).await.0, seq, "nothing written");
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(store.pool()).await.unwrap().get("n");
    assert_eq!(n, seq);
    t.teardown().await;
}

/// An in-memory SQLite database (no other connection can open it) is read through the pool.
#[tokio::test]
async fn an_in_memory_log_verifies_too() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    append(&store, 40, "x").await;
    let cp = checkpoint(&store, 100).await;
    let key = verifier();
    let check = |batch| trail::verify_in_batches(&store, &key, Some(&cp), batch);
    for batch in [1, 7, 40, 20_000] {
        assert_eq!(check(batch).await.unwrap().unwrap().entries, 40, "batch {batch}");
    }
    exec(&store, "UPDATE audit_log SET entry = replace(entry, 'thing:9', 'thing:8') WHERE seq = 9").await;
    assert_eq!(check(7).await.unwrap().unwrap_err().seq, 9);
}
