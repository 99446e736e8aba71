#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `safeguard audit …` end to end, and an outside verifier (`verifier/verify_trail.py`,
//! Python's standard library and `openssl` only, written from the README) that checks
//! the export, the proofs and the checkpoint signature without trusting the server.

use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn safeguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safeguard"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SAFEGUARD_AUDIT_KEY")
        .output()
        .expect("run safeguard")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn verifier() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../verifier/verify_trail.py")
}

fn outside(dir: &Path, vkey: &str, checkpoint: &str, export: &str, extra: &[&str]) -> Output {
    Command::new("python3")
        .arg(verifier())
        .args(["--vkey", vkey, "--checkpoint", checkpoint, "--export", export])
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("python3 runs")
}

#[test]
fn an_outside_verifier_checks_the_export_the_proofs_and_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(safeguard(d, &["demo", "--db", "t.db", "--no-serve", "--children", "12"]));
    let vkey = ok(safeguard(d, &["audit", "key", "--db", "t.db"])).trim().to_string();
    assert!(vkey.starts_with("safeguard.local/audit+"), "{vkey}");
    assert!(d.join("t.db.audit-key").exists(), "the key lives beside the database, not in it");
    let checkpoint = ok(safeguard(d, &["audit", "checkpoint", "--db", "t.db"]));
    std::fs::write(d.join("cp.txt"), &checkpoint).unwrap();
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    assert!(size > 50, "{checkpoint}");
    // Asking again signs nothing new.
    assert_eq!(ok(safeguard(d, &["audit", "checkpoint", "--db", "t.db"])), checkpoint);
    let export = safeguard(d, &["audit", "export", "--db", "t.db"]);
    let said = String::from_utf8_lossy(&export.stderr).to_string();
    std::fs::write(d.join("export.jsonl"), ok(export)).unwrap();
    // The export is itself a read on the trail, the entry after those it exported.
    assert!(said.contains(&format!("exported {size} entries; the export itself is entry {}", size + 1)), "{said}");
    let last = ok(safeguard(d, &["audit", "export", "--db", "t.db", "--from", &(size + 1).to_string()]));
    let entry = serde_json::from_str::<serde_json::Value>(last.lines().next().unwrap()).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(entry["entry"].as_str().unwrap()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(r#""actor":"system:audit-cli","action":"data.export""#), "{text}");
    let size_text = size.to_string();
    std::fs::write(
        d.join("inc.json"),
        ok(safeguard(d, &["audit", "prove", "--db", "t.db", "7", "--size", &size_text])),
    )
    .unwrap();
    let old = (size / 3).to_string();
    std::fs::write(
        d.join("con.json"),
        ok(safeguard(d, &["audit", "consistency", "--db", "t.db", &old, &size.to_string()])),
    )
    .unwrap();
    let run = outside(d, &vkey, "cp.txt", "export.jsonl", &["--inclusion", "inc.json", "--consistency", "con.json"]);
    let said = ok(run);
    assert!(said.contains("inclusion proof of entry 7") && said.contains("consistency proof from"), "{said}");
    ok(safeguard(d, &["audit", "verify", "--db", "t.db", "--from-checkpoint", "cp.txt"]));

    // One changed byte in one exported entry: named.
    let export = std::fs::read_to_string(d.join("export.jsonl")).unwrap();
    let mut lines: Vec<String> = export.lines().map(str::to_string).collect();
    let mut e: serde_json::Value = serde_json::from_str(&lines[9]).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(e["entry"].as_str().unwrap()).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 1;
    e["entry"] = b64.encode(&bytes).into();
    lines[9] = e.to_string();
    std::fs::write(d.join("bad.jsonl"), lines.join("\n") + "\n").unwrap();
    let run = outside(d, &vkey, "cp.txt", "bad.jsonl", &[]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("entry 10"), "{}", String::from_utf8_lossy(&run.stderr));
    // A checkpoint with its size changed no longer verifies; nor with another key.
    let forged = checkpoint.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size - 1), 1);
    std::fs::write(d.join("forged.txt"), forged).unwrap();
    assert!(!outside(d, &vkey, "forged.txt", "export.jsonl", &[]).status.success());
    let other = ok(safeguard(d, &["audit", "key", "--db", "t.db", "--audit-key", "other.key"])).trim().to_string();
    assert!(!outside(d, &other, "cp.txt", "export.jsonl", &[]).status.success());
    // And the server's own check refuses a forged checkpoint.
    let run = safeguard(d, &["audit", "verify", "--db", "t.db", "--from-checkpoint", "forged.txt"]);
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn verify_names_the_first_bad_entry_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(safeguard(d, &["demo", "--db", "t.db", "--no-serve", "--children", "10"]));
    ok(safeguard(d, &["audit", "checkpoint", "--db", "t.db"]));
    let said = ok(safeguard(d, &["audit", "verify", "--db", "t.db"]));
    assert!(said.contains("the trail verifies"), "{said}");
    // Someone with the database changes one entry.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open(d.join("t.db").to_str().unwrap()).await.unwrap();
        sqlx::query("UPDATE audit_log SET entry = REPLACE(entry, '\"seq\":12,', '\"seq\":12,\"x\":1,') WHERE seq = 12")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let run = safeguard(d, &["audit", "verify", "--db", "t.db"]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("audit entry 12"), "{err}");
}
