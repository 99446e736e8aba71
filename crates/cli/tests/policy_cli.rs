#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `safeguard policy show|set`: a new version goes on the trail; a bad file exits 2
//! naming the field and changes nothing.

use std::process::Command;

fn safeguard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_safeguard")).args(args).env("SAFEGUARD_LOG", "warn").output().unwrap()
}

#[test]
fn a_policy_file_becomes_the_next_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db").display().to_string();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"overload_threshold": 5}"#).unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"triggers": {"child_not_seen": {"start_level": 1, "ack_within": "4wh", "resolve_within": []}}}"#,
    )
    .unwrap();

    let shown = safeguard(&["policy", "show", "--db", &db]);
    assert!(shown.status.success());
    assert!(String::from_utf8_lossy(&shown.stderr).contains("version 0"));

    let set = safeguard(&["policy", "set", "--db", &db, good.to_str().unwrap()]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    assert!(String::from_utf8_lossy(&set.stdout).contains("policy version 1"));

    let refused = safeguard(&["policy", "set", "--db", &db, bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("triggers.child_not_seen.resolve_within"));

    let shown = safeguard(&["policy", "show", "--db", &db]);
    assert!(String::from_utf8_lossy(&shown.stderr).contains("version 1"));
    let policy: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(policy["overload_threshold"], 5);
}
