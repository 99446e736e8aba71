//! Regression scenarios: every `scenarios/NAME.json` is run and checked against the lines
//! it lists, so adding a scenario needs no code.
//!
//! Besides the scenario itself (`contracts/SCENARIOS.md`; `simulate::parse` reads only the
//! keys it knows), each file carries:
//!
//! - `why`: the working-out of every expected time, for a reviewer to check by hand;
//! - `expect`: lines that must appear, in this order, each matching the fields given
//!   (other fields, and other lines in between, may be anything);
//! - `forbid` (optional): lines that must not appear at all;
//! - `count` (optional): `{"n": N, "line": {...}}`, exactly N lines match.
//!
//! In a pattern a field whose value is `null` must be absent from the line, and fields
//! whose names start with `_` are comments. A sibling `NAME.policy.json` is passed as
//! the policy (as `--policy` would be).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every scenario file (not policy files), in name order.
fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("crates/simulate/scenarios exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".policy.json")
        })
        .collect();
    files.sort();
    files
}

/// Whether a line matches a pattern: every non-comment field equal, `null` meaning absent.
fn matches(line: &Value, pattern: &Map<String, Value>) -> bool {
    pattern.iter().filter(|(k, _)| !k.starts_with('_')).all(|(k, want)| match want {
        Value::Null => line.get(k).is_none(),
        _ => line.get(k) == Some(want),
    })
}

fn pattern(v: &Value, what: &str) -> Result<Map<String, Value>, String> {
    v.as_object().cloned().ok_or_else(|| format!("{what}: each entry must be an object, got {v}"))
}

fn list<'a>(file: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match file.get(key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{key} must be a list")),
    }
}

fn show(got: &[Value]) -> String {
    got.iter().filter(|g| g["event"] != "notification.sent").map(|g| format!("  {g}")).collect::<Vec<_>>().join("\n")
}

/// Checks one run's lines against a file's `expect`, `forbid` and `count`.
fn check(file: &Value, got: &[Value]) -> Result<(), String> {
    let mut problems = vec![];
    let mut from = 0;
    for want in list(file, "expect")? {
        let p = pattern(want, "expect")?;
        match got[from..].iter().position(|g| matches(g, &p)) {
            Some(i) => from += i + 1,
            None => {
                let anywhere = got.iter().any(|g| matches(g, &p));
                problems.push(format!(
                    "missing {}: {want}",
                    if anywhere { "(it appears, but earlier than the line before it)" } else { "" }
                ));
                // Later expectations are still checked from the same place.
            }
        }
    }
    for bad in list(file, "forbid")? {
        let p = pattern(bad, "forbid")?;
        for g in got.iter().filter(|g| matches(g, &p)) {
            problems.push(format!("forbidden {bad} matched {g}"));
        }
    }
    for c in list(file, "count")? {
        let n = c.get("n").and_then(Value::as_u64).ok_or_else(|| format!("count: {c} needs a number n"))?;
        let p = pattern(c.get("line").unwrap_or(&Value::Null), "count.line")?;
        let found = got.iter().filter(|g| matches(g, &p)).count() as u64;
        if found != n {
            problems.push(format!("expected {n} lines matching {} but found {found}", Value::Object(p)));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\ngot (without notifications):\n{}", problems.join("\n"), show(got)))
    }
}

async fn run_file(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let file: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let why = file.get("why").and_then(Value::as_str).unwrap_or_default();
    if why.trim().is_empty() {
        return Err("needs a `why` with the working-out of its expected times".into());
    }
    if list(&file, "expect")?.is_empty() {
        return Err("needs at least one `expect` line".into());
    }
    let scenario = simulate::parse(&text).map_err(|e| format!("invalid scenario: {e}"))?;
    let policy_path = path.with_extension("policy.json");
    let policy = match std::fs::read_to_string(&policy_path) {
        Ok(p) => {
            Some(domain::escalation::Policy::from_json(&p).map_err(|e| format!("{}: {e}", policy_path.display()))?)
        }
        Err(_) => None,
    };
    let lines = simulate::run(&scenario, policy.as_ref()).await.map_err(|e| format!("run failed: {e}"))?;
    let got: Vec<Value> = lines.iter().map(|l| serde_json::from_str(&l.to_json()).expect("a line is JSON")).collect();
    check(&file, &got)
}

#[tokio::test]
async fn every_scenario_gives_its_expected_lines() {
    let files = scenario_files();
    assert!(files.len() >= 10, "expected the regression scenarios in {}", dir().display());
    let mut failures = vec![];
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if let Err(e) = run_file(path).await {
            failures.push(format!("=== {name}\n{e}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} scenarios failed:\n{}", failures.len(), files.len(), failures.join("\n\n"));
}

#[test]
fn a_pattern_checks_fields_absence_and_order() {
    let got: Vec<Value> = vec![
        serde_json::json!({"at": "1", "event": "escalation.raised", "level": 1}),
        serde_json::json!({"at": "2", "event": "escalation.climbed", "level": 2, "routed_from": "tm1"}),
    ];
    let file = serde_json::json!({
        "expect": [{"event": "escalation.raised", "routed_from": null, "_why": "comment"}, {"event": "escalation.climbed", "level": 2}],
        "forbid": [{"event": "welfare_check.requested"}],
        "count": [{"n": 1, "line": {"event": "escalation.climbed"}}],
    });
    check(&file, &got).unwrap();
    // Out of order, a field that should be absent, a forbidden line and a wrong count all fail.
    assert!(check(&serde_json::json!({"expect": [{"level": 2}, {"level": 1}]}), &got).is_err());
    assert!(
        check(&serde_json::json!({"expect": [{"event": "escalation.climbed", "routed_from": null}]}), &got).is_err()
    );
    assert!(check(&serde_json::json!({"forbid": [{"level": 2}]}), &got).is_err());
    assert!(check(&serde_json::json!({"count": [{"n": 2, "line": {"level": 1}}]}), &got).is_err());
}
