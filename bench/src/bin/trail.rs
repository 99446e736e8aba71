#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Trail benchmark (issue 7): what the audit append costs a command, appends per second
//! through the command path with durable commits, `audit verify` throughput over a large
//! log against the machine's raw SHA-256 throughput, and inclusion-proof time.
//!
//! ```text
//! cargo run --release -p safeguard-bench --bin trail -- --backend sqlite --entries 10000000
//! ```

use anyhow::Context;
use audit::merkle::{self, Frontier};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use clap::Parser;
use domain::event::Event;
use domain::ids::PersonId;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use std::time::Instant;
use store::testing::TestStore;
use store::{AuditActor, Backend, Store};
use tower::ServiceExt;

#[derive(Debug, Parser)]
struct Args {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Entries in the large log that is verified and proved against.
    #[arg(long, default_value_t = 1_000_000)]
    entries: u64,
    /// Commands timed for the append figures, each round.
    #[arg(long, default_value_t = 2_000)]
    commands: usize,
    /// Rounds of the append figures, each on a fresh database (0: none).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Also time the append with commits not waiting for the disk (SQLite), to show what
    /// the entry costs besides writing it durably.
    #[arg(long)]
    no_sync: bool,
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.99))
}

fn person(id: i64) -> Event {
    let input = domain::person::PersonInput {
        given_name: "Alfie".into(),
        family_name: format!("Scott{id}"),
        dob: Some("2014-03-04".into()),
        sex: Some("male".into()),
        ..Default::default()
    };
    let mut errors = domain::FieldErrors::new();
    let details = domain::person::PersonDetails::parse(&input, jiff::civil::date(2026, 3, 2), &mut errors).unwrap();
    Event::PersonRegistered { person: PersonId(id), details }
}

/// What the audit entry costs a command: the same writes committed durably without and
/// with it, interleaved, and two commands through the service as a request runs them.
///
/// A durable commit's time here depends on where the database's files lie on the disk:
/// one fresh database differs from the next by tens of microseconds, steadily. So each
/// of `rounds` rounds runs on a fresh database, and the figure is the median round.
async fn append_cost(backend: Backend, n: usize, rounds: usize, nosync: bool) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    let mut rows = Vec::new();
    for round in 0..rounds {
        let test = TestStore::new(backend).await.context("a store")?;
        let store = test.store.clone();
        if nosync {
            store.begin_bulk_load().await?;
        }
        let (mut without, mut with, mut one_statement) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let mut id = 1_000_000;
        for _ in 0..n {
            id += 1;
            let t = Instant::now();
            let mut tx = store.begin().await?;
            tx.apply(&[person(id)], now).await?;
            tx.forget_unrecorded();
            tx.commit().await?;
            without.push(t.elapsed().as_secs_f64() * 1e3);
            // The same writes and one statement that writes nothing: what any statement of
            // the entry's own costs before its work (on PostgreSQL a round trip).
            id += 1;
            let t = Instant::now();
            let mut tx = store.begin().await?;
            tx.apply(&[person(id)], now).await?;
            sqlx::query("SELECT 1").execute(tx.connection().await?).await?;
            tx.forget_unrecorded();
            tx.commit().await?;
            one_statement.push(t.elapsed().as_secs_f64() * 1e3);
            id += 1;
            let t = Instant::now();
            let mut tx = store.begin().await?;
            tx.record(&AuditActor::System("bench"), "person.register", &format!("person:{id}"), now, &[person(id)])
                .await?;
            tx.commit().await?;
            with.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let appends_per_second = with.len() as f64 / (with.iter().sum::<f64>() / 1e3);
        let times = service_commands(&store, n).await?;
        let (w50, _) = percentiles(without);
        let (a50, _) = percentiles(with);
        let (s50, _) = percentiles(one_statement);
        let (p50, _) = percentiles(times.registered);
        let (r50, _) = percentiles(times.referred);
        let (pa50, _) = percentiles(times.registered_by_api);
        let (ra50, _) = percentiles(times.referred_by_api);
        let added = a50 - w50;
        let share = |of: f64| added / of * 100.0;
        println!(
            "append: round {round}: p50 {w50:.3} ms bare writes, {s50:.3} ms with a `SELECT 1` (+{:.3} ms), \
             {a50:.3} ms with the entry (+{added:.3} ms, \
             {appends_per_second:.0} appends/s one after another); \
             register_person {p50:.3} ms ({:.1}%), create_referral {r50:.3} ms ({:.1}%); \
             as API requests {pa50:.3} ms ({:.1}%) and {ra50:.3} ms ({:.1}%)",
            s50 - w50,
            share(p50),
            share(r50),
            share(pa50),
            share(ra50)
        );
        rows.push([added, w50, a50, p50, r50, pa50, ra50]);
        test.teardown().await;
    }
    rows.sort_by(|x, y| x[0].total_cmp(&y[0]));
    let [added, w50, a50, p50, r50, pa50, ra50] = rows[rows.len() / 2];
    let share = |of: f64| added / of * 100.0;
    println!(
        "append: median round: the audit entry (chain + Merkle leaf and nodes + head) adds {added:.3} ms to bare writes of \
         {w50:.3} ms ({a50:.3} ms with it): {:.1}% of register_person (p50 {p50:.3} ms), {:.1}% of create_referral (p50 {r50:.3} ms); \
         as API requests {:.1}% of POST /api/v1/people (p50 {pa50:.3} ms), {:.1}% of POST /api/v1/referrals (p50 {ra50:.3} ms)",
        share(p50),
        share(r50),
        share(pa50),
        share(ra50)
    );
    Ok(())
}

/// Latencies (ms) of the two commands timed: as the service runs them, and as whole API
/// requests (`POST /api/v1/people`, `POST /api/v1/referrals`) through the router.
struct CommandTimes {
    registered: Vec<f64>,
    referred: Vec<f64>,
    registered_by_api: Vec<f64>,
    referred_by_api: Vec<f64>,
}

/// Times `n` people registered and then `n` referrals about them, through the service
/// as requests run them (authorisation, parsing, ids, projections, timers and the entry),
/// and as many again as whole API requests (the bearer token looked up, the JSON read,
/// the command, the record read back and written out as JSON).
async fn service_commands(store: &Store, n: usize) -> anyhow::Result<CommandTimes> {
    let svc = commands::Service::new(
        store.clone(),
        std::sync::Arc::new(domain::clock::SystemClock),
        commands::Config::default(),
    );
    let team =
        svc.create_team(commands::Caller::System("bench"), &commands::staff::TeamInput { name: "T".into() }).await?;
    let input = commands::staff::StaffInput {
        login: "bench.tm".into(),
        name: "Bench Manager".into(),
        role: "team_manager".into(),
        team: Some(team.0),
        password: "bench correct horse battery".into(),
        ..Default::default()
    };
    svc.add_staff(commands::Caller::System("bench"), &input).await?;
    let actor = svc.sign_in("bench.tm", "bench correct horse battery").await?.actor;
    let (mut registered, mut referred, mut people) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::new());
    for i in 0..n {
        let input = domain::person::PersonInput {
            given_name: "Alfie".into(),
            family_name: format!("Scott{i}"),
            dob: Some("2014-03-04".into()),
            sex: Some("male".into()),
            ..Default::default()
        };
        let t = Instant::now();
        people.push(svc.register_person(&actor, &input).await?);
        registered.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for person in people {
        let input: commands::input::ReferralInput = serde_json::from_value(serde_json::json!({
            "team": team.0, "source": "school", "concern": "bruise on arm", "categories": ["physical"],
            "children": [{"person_id": person.0}]
        }))?;
        let t = Instant::now();
        svc.create_referral(&actor, &input).await?;
        referred.push(t.elapsed().as_secs_f64() * 1e3);
    }

    let token = svc.issue_token(&actor, "bench").await?.1;
    let app = web::router(web::AppState { svc: svc.clone(), secure_cookies: false });
    let post = |path: &'static str, body: serde_json::Value| {
        let app = app.clone();
        let bearer = format!("Bearer {token}");
        async move {
            let req = Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::AUTHORIZATION, bearer)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))?;
            let t = Instant::now();
            let res = app.oneshot(req).await?;
            let status = res.status();
            let bytes = res.into_body().collect().await?.to_bytes();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            anyhow::ensure!(status == StatusCode::CREATED, "{path}: {status} {}", String::from_utf8_lossy(&bytes));
            let id = serde_json::from_slice::<serde_json::Value>(&bytes)?["id"].as_i64().context("an id")?;
            Ok::<_, anyhow::Error>((ms, id))
        }
    };
    let (mut registered_by_api, mut referred_by_api, mut people) =
        (Vec::with_capacity(n), Vec::with_capacity(n), vec![]);
    for i in 0..n {
        let body = serde_json::json!({
            "given_name": "Alfie", "family_name": format!("Jones{i}"), "dob": "2014-03-04", "sex": "male"
        });
        let (ms, id) = post("/api/v1/people", body).await?;
        registered_by_api.push(ms);
        people.push(id);
    }
    for person in people {
        let body = serde_json::json!({
            "team": team.0, "source": "school", "concern": "bruise on arm", "categories": ["physical"],
            "children": [{"person_id": person}]
        });
        referred_by_api.push(post("/api/v1/referrals", body).await?.0);
    }
    Ok(CommandTimes { registered, referred, registered_by_api, referred_by_api })
}

/// Raw SHA-256 throughput of this machine in MB/s, each call hashing `size` bytes (the
/// previous digest, 32 bytes, chained in front of `size - 32` bytes of data, so one call
/// costs what hashing one chain link does).
fn raw_sha256(size: usize) -> f64 {
    let buf = vec![0x5au8; size.saturating_sub(32)];
    let calls = 2_000_000_000usize / size;
    let t = Instant::now();
    let mut acc = [0u8; 32];
    for _ in 0..calls {
        let mut h = Sha256::new();
        h.update(acc);
        h.update(&buf);
        acc = h.finalize().into();
    }
    std::hint::black_box(acc);
    // Every byte each call hashes counts: 32 of the digest and the rest of the buffer.
    (calls * (32 + buf.len())) as f64 / t.elapsed().as_secs_f64() / 1e6
}

/// Writes a log of `n` entries (chain, leaves, nodes, head) straight into the tables.
async fn fill(store: &Store, backend: Backend, n: u64) -> anyhow::Result<u64> {
    let mut prev = audit::GENESIS;
    let mut tree = Frontier::new();
    let mut bytes = 0u64;
    let mut seq = 0u64;
    let conn = &mut *store.pool().acquire().await?;
    let rows_per = if backend == Backend::Sqlite { 40 } else { 400 };
    while seq < n {
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        for _ in 0..(50_000 / rows_per) {
            if seq >= n {
                break;
            }
            let mut entries = Vec::with_capacity(rows_per);
            for _ in 0..rows_per {
                if seq >= n {
                    break;
                }
                seq += 1;
                let entry = format!(
                    r#"{{"seq":{seq},"at":"2026-03-02T09:00:00Z","actor":"staff:{}","action":"visit.record","subject":"case:{}","events":[{{"case":{},"child":{},"outcome":"seen_alone","type":"visit_recorded","visit":{seq},"visited_at":"2026-03-02T08:30:00Z"}}]}}"#,
                    seq % 200 + 1,
                    seq % 20_000 + 1,
                    seq % 20_000 + 1,
                    seq % 20_000 + 1
                );
                bytes += entry.len() as u64;
                let hash = audit::chain_hash(&prev, entry.as_bytes());
                let leaf = merkle::leaf_hash(entry.as_bytes());
                let mut nodes = String::new();
                tree.push_each(leaf, |l, _, h| {
                    if l > 0 {
                        nodes.push_str(&hex::encode(h));
                    }
                });
                entries.push((seq, entry, hex::encode(prev), hex::encode(hash), hex::encode(leaf), nodes));
                prev = hash;
            }
            let mut sql = String::from(
                "INSERT INTO audit_log (seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes) VALUES ",
            );
            for (k, _) in entries.iter().enumerate() {
                let b = k * 7;
                if k > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, 0, 'staff:1', 'visit.record', ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                ));
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (s, e, p, h, l, nodes) in entries {
                q = q
                    .bind(i64::try_from(s)?)
                    .bind(format!("case:{}", s % 20_000 + 1))
                    .bind(e)
                    .bind(p)
                    .bind(h)
                    .bind(l)
                    .bind(nodes);
            }
            q.execute(&mut *conn).await?;
        }
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        if seq % 1_000_000 < 50_000 {
            eprintln!("  {seq} entries written");
        }
    }
    let frontier: String = tree.hashes().iter().map(hex::encode).collect();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, tree_size = $1, frontier = $3 WHERE id = 1")
        .bind(i64::try_from(n)?)
        .bind(hex::encode(prev))
        .bind(frontier)
        .execute(&mut *conn)
        .await?;
    Ok(bytes)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let backend = if a.backend == "postgres" { Backend::Postgres } else { Backend::Sqlite };
    println!("backend {backend:?}");
    if a.rounds > 0 {
        append_cost(backend, a.commands, a.rounds, false).await?;
    }
    if a.no_sync && a.rounds > 0 {
        println!("again with commits not waiting for the disk (SQLite synchronous=OFF):");
        append_cost(backend, a.commands, a.rounds, true).await?;
    }
    if a.entries == 0 {
        return Ok(());
    }

    // A fresh store for the large log.
    let big = TestStore::new(backend).await.context("a second store")?;
    let store = big.store.clone();
    let t = Instant::now();
    let entry_bytes = fill(&store, backend, a.entries).await?;
    println!(
        "fixture: {} entries ({:.0} bytes each on average) written in {:.0} s",
        a.entries,
        entry_bytes as f64 / a.entries as f64,
        t.elapsed().as_secs_f64()
    );
    // The fixture's gigabytes are still being written back to the disk for a while: the
    // proofs timed during that write-back would measure it, not the store.
    std::process::Command::new("sync").status().context("sync")?;
    let key = audit::SigningKey::from_seed("bench.example/audit", &[1u8; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (c, _) = store::trail::sign_checkpoint(&store, &key, jiff::Timestamp::now()).await?;
    let cp = c.context("a checkpoint")?.text;

    let raw = raw_sha256(1024);
    let raw_small = raw_sha256(352);
    println!("raw SHA-256: {raw:.0} MB/s (1 KiB calls), {raw_small:.0} MB/s (352-byte calls)");
    let t = Instant::now();
    let v = store::trail::verify(&store, &key.verifier(), Some(&cp)).await?;
    let secs = t.elapsed().as_secs_f64();
    let v = v.map_err(|e| anyhow::anyhow!("{e}"))?;
    // Bytes hashed: each leaf (0x00 + entry), each chain link (32 + entry), and one
    // 65-byte node hash per entry on average.
    let hashed = (entry_bytes + a.entries) + (entry_bytes + 32 * a.entries) + 65 * a.entries;
    let mbs = hashed as f64 / secs / 1e6;
    println!(
        "verify: {} entries in {secs:.1} s = {:.0} entries/s, {mbs:.0} MB/s hashed = {:.0}% of raw SHA-256 (352-byte calls)",
        v.entries,
        v.entries as f64 / secs,
        mbs / raw_small * 100.0
    );

    let mut times = Vec::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let seq = x % a.entries + 1;
        let t = Instant::now();
        let p = store::trail::inclusion_proof(&store, seq, None).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(p.tree_size, a.entries);
    }
    let (p50, p99) = percentiles(times);
    println!("inclusion proof at {} entries (read from the store): p50 {p50:.3} ms, p99 {p99:.3} ms", a.entries);
    let mut times = Vec::new();
    for k in 1..=200u64 {
        let old = a.entries * k / 201;
        let t = Instant::now();
        store::trail::consistency_proof(&store, old.max(1), a.entries).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = percentiles(times);
    println!("consistency proof to {} entries: p50 {p50:.3} ms, p99 {p99:.3} ms", a.entries);
    big.teardown().await;
    Ok(())
}
