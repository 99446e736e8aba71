//! Seeding the demo: the authority looks like real work, sits wholly on the audit trail, and
//! is the same for the same seed.

use demo::{Contents, Options};
use store::query::{self, CaseFilter, ReferralFilter};
use store::{Store, store_test};

/// Every role a login is offered for, in order.
const ROLES: [&str; 11] = [
    "social worker",
    "senior practitioner",
    "team manager",
    "service manager",
    "head of service",
    "director",
    "administrator",
    "partner (police)",
    "partner (school)",
    "partner (health)",
    "auditor",
];

fn options(children: usize, seed: u64) -> Options {
    // A fixed "today" (a Wednesday afternoon) keeps the history identical run to run.
    Options { children, seed, now: "2026-03-04T16:30:00Z".parse().expect("a moment") }
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::Row::get(&sqlx::query(sql).fetch_one(store.pool()).await.expect("count"), "n")
}

store_test!(a_small_authority_is_realistic_and_wholly_on_the_record, |store| async move {
    let seeded = demo::seed(store, &options(450, demo::DEFAULT_SEED)).await.expect("seeding");

    // Every change went through a command, and each command wrote one chained entry.
    let verified = store::trail::verify_entries(store).await.expect("read the trail").expect("the chain verifies");
    let entries = i64::try_from(verified.entries).expect("a count");
    assert_eq!(entries, seeded.commands as i64, "one audit entry per command issued");
    assert_eq!(query::audit_head(store).await.expect("head").0, entries);
    // Three years of history, ending at (never after) "today".
    let today = options(450, demo::DEFAULT_SEED).now;
    let first = &query::audit_entries(store, 1, 1).await.expect("first entry")[0];
    let last = &query::audit_entries(store, entries, 1).await.expect("last entry")[0];
    assert!(last.at <= today, "the history runs into the future: {}", last.at);
    assert!(today.duration_since(first.at).as_hours() > 3 * 365 * 24, "three years of history, from {}", first.at);
    assert!(today.duration_since(last.at).as_hours() < 24, "the history ends today, not at {}", last.at);

    // 450 children, a few of them recorded twice (a second, thinner record nobody
    // referred), and the engine has queued those pairs for a manager.
    let twice = count(
        store,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM people p WHERE kind = 'child'
         AND NOT EXISTS (SELECT 1 FROM referral_children rc WHERE rc.person_id = p.id)",
    )
    .await;
    assert!((3..=10).contains(&twice), "{twice} children recorded twice");
    assert_eq!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM people WHERE kind = 'child'").await,
        450 + twice
    );
    let queued = count(
        store,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM duplicate_pairs d WHERE state = 'open' AND NOT EXISTS
         (SELECT 1 FROM referral_children rc WHERE rc.person_id = d.person_b)",
    )
    .await;
    assert!(queued >= twice - 1, "the engine finds (nearly) every child recorded twice: {queued} of {twice}");
    assert!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM people WHERE kind = 'adult'").await > 100,
        "parents are recorded"
    );
    assert!(count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM relationships").await > 200, "families are linked");
    assert!(count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM visits WHERE outcome = 'no_access'").await > 0);
    assert!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM cases WHERE closed_at IS NOT NULL").await > 50,
        "cases close"
    );

    // Assessments are completed (most in time) and children go onto every kind of plan.
    let completed =
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM cases WHERE assessment_completed_at IS NOT NULL");
    assert!(completed.await > 50, "assessments are completed");
    for (stage, sql) in [
        ("cin", "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM case_stages WHERE stage = 'cin'"),
        ("cp", "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM case_stages WHERE stage = 'cp'"),
        ("lac", "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM case_stages WHERE stage = 'lac'"),
    ] {
        assert!(count(store, sql).await > 5, "children on {stage} plans");
    }
    // One worker is newly qualified (in their first year).
    assert_eq!(count(store, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM staff WHERE qualified_on IS NOT NULL").await, 1);

    // Caseloads vary as in real teams: the heaviest well above the middle.
    let mut loads = Vec::new();
    for team in query::teams(store).await.expect("teams") {
        loads.extend(
            query::team_workers(store, team.id, &Default::default())
                .await
                .expect("workers")
                .into_iter()
                .map(|w| w.open_cases),
        );
    }
    loads.sort_unstable();
    assert!(loads.len() >= 15, "about twenty case-holding workers, got {}", loads.len());
    let (median, max) = (loads[loads.len() / 2] as f64, *loads.last().expect("workers") as f64);
    assert!(max > 1.3 * median, "caseloads should vary: {loads:?}");

    // Some work waits: open cases with nobody allocated, referrals nobody has decided.
    let unallocated = query::cases(store, &CaseFilter { unallocated: true, limit: 10_000, ..Default::default() })
        .await
        .expect("cases");
    assert!(!unallocated.is_empty(), "some open cases are unallocated");
    let undecided = query::referrals(store, &ReferralFilter { undecided: true, limit: 10_000, ..Default::default() })
        .await
        .expect("referrals");
    assert!(!undecided.is_empty(), "some referrals are still undecided");
    let decided =
        query::referrals(store, &ReferralFilter { limit: 10_000, ..Default::default() }).await.expect("referrals");
    for d in ["nfa", "early_help", "assessment", "strategy_discussion"] {
        assert!(decided.iter().any(|r| r.decision.is_some_and(|x| x.code() == d)), "some referrals are decided {d}");
    }

    // It is recognised as the demo, and one login per role is offered.
    assert_eq!(demo::contents(store).await.expect("contents"), Contents::Demo);
    let logins = demo::logins(store).await.expect("logins");
    let roles: Vec<&str> = logins.iter().map(|l| l.role.as_str()).collect();
    assert_eq!(roles, ROLES);

    // Seeding again is refused and writes nothing.
    assert!(demo::seed(store, &options(450, demo::DEFAULT_SEED)).await.is_err());
    assert_eq!(query::audit_head(store).await.expect("head").0, entries);
});

#[tokio::test]
async fn the_same_seed_gives_the_same_authority() {
    let mut heads = Vec::new();
    for seed in [7, 7, 8] {
        let t = store::testing::TestStore::sqlite().await;
        demo::seed(&t.store, &options(80, seed)).await.expect("seeding");
        heads.push(query::audit_head(&t.store).await.expect("head"));
        t.teardown().await;
    }
    assert_eq!(heads[0], heads[1], "the same seed writes the same trail, entry for entry");
    assert_ne!(heads[0].1, heads[2].1, "another seed gives another authority");
}
