//! `safeguard demo`: the command prints a login per role, reuses its file, and never seeds
//! over other data (the seeding itself is tested in `crates/demo`).

use commands::{Caller, Config, Service};
use demo::DEMO_PASSWORD;
use domain::clock::SystemClock;
use std::process::Command;
use std::sync::Arc;
use store::Store;
use store::query;

/// Every role the printed block must offer a login for.
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

fn run_demo(db: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_safeguard"))
        .args(["demo", "--no-serve", "--children", "120", "--db", db])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run safeguard demo")
}

#[tokio::test]
async fn the_command_prints_a_login_per_role_and_reuses_its_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("demo.db").display().to_string();

    let first = run_demo(&db);
    let out = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(first.status.success(), "demo failed: {out}\n{}", String::from_utf8_lossy(&first.stderr));
    assert!(out.contains("seeded"), "{out}");
    assert!(out.contains(&format!("password: {DEMO_PASSWORD}")), "{out}");
    assert!(!std::path::Path::new(&format!("{db}.partial")).exists(), "the temporary file was renamed");

    // Each role has a line, and each printed login signs in with the demo password.
    let store = Store::open(&db).await.expect("open the demo file");
    let (head, _) = query::audit_head(&store).await.expect("head");
    let mut printed = Vec::new();
    for role in ROLES {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(role) && l.contains('('))
            .unwrap_or_else(|| panic!("no line for {role}:\n{out}"));
        let login = line.trim_start()[role.len()..].split_whitespace().next().expect("a login").to_string();
        printed.push(login);
    }

    // Running it again reuses the file: no second authority, nothing written.
    let second = run_demo(&db);
    let again = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(second.status.success(), "{again}");
    assert!(again.contains("reusing"), "{again}");
    assert_eq!(query::teams(&store).await.expect("teams").len(), 4, "no duplicate teams");
    assert_eq!(query::audit_head(&store).await.expect("head").0, head, "reusing writes nothing");

    let svc = Service::new(store.clone(), Arc::new(SystemClock), Config::default());
    for login in &printed {
        svc.sign_in(login, DEMO_PASSWORD).await.unwrap_or_else(|e| panic!("{login} cannot sign in: {e}"));
    }
    store.close().await;
}

#[tokio::test]
async fn the_command_never_seeds_over_other_data() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("real.db").display().to_string();
    let store = Store::open(&db).await.expect("open");
    let svc = Service::new(store.clone(), Arc::new(SystemClock), Config::default());
    svc.create_team(Caller::System("test"), &commands::staff::TeamInput { name: "Real team".into() })
        .await
        .expect("a team");
    let (head, _) = query::audit_head(&store).await.expect("head");

    let out = run_demo(&db);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the safeguard demo"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(query::audit_head(&store).await.expect("head").0, head);
    assert_eq!(query::teams(&store).await.expect("teams").len(), 1);
    store.close().await;
}
