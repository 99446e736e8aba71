//! `safeguard simulate` as a user runs it: the real binary, its exit status, stdout and
//! stderr (`contracts/SCENARIOS.md`: 0 when the scenario ran; 2 when the file is invalid,
//! naming the step and field on stderr, with nothing on stdout).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn safeguard(args: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
    cmd.arg("simulate");
    for a in args {
        cmd.arg(a);
    }
    cmd.output().expect("the safeguard binary runs")
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../simulate/scenarios").join(name)
}

/// A file in a directory of this test run's own.
fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("safeguard-simulate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A valid scenario header with `steps` spliced in.
fn with_steps(steps: &str) -> String {
    format!(
        r#"{{"name": "t", "start": "2026-03-02T09:00:00Z", "end": "2026-03-06T17:00:00Z",
            "teams": [{{"id": "north", "team_manager": "tm1", "service_manager": "sm1"}}],
            "staff": [{{"id": "sw1", "role": "social_worker", "team": "north"}},
                      {{"id": "tm1", "role": "team_manager", "team": "north"}},
                      {{"id": "sm1", "role": "service_manager"}}],
            "steps": [{steps}]}}"#
    )
}

const REFERRAL: &str = r#"{"at": "2026-03-02T09:00:00Z", "do": "referral", "id": "r1", "team": "north", "source": "school",
    "child": {"id": "c1", "given_name": "Alfie", "family_name": "Scott", "dob": "2014-01-01"},
    "concern": "bruising", "categories": ["physical"]}"#;

const DECIDE: &str = r#"{"at": "2026-03-02T10:00:00Z", "do": "decide_referral", "referral": "r1", "by": "tm1", "decision": "assessment", "reason": "needs assessment"}"#;

/// Exit status 2, nothing on stdout, and stderr containing every one of `words`.
fn assert_invalid(out: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit status; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout must be empty, got: {}", String::from_utf8_lossy(&out.stdout));
    for w in words {
        assert!(stderr.contains(w), "stderr should mention {w:?}: {stderr}");
    }
}

#[test]
fn a_bad_value_in_a_step_names_the_step_and_field() {
    let path = write(
        "bad-outcome.json",
        &with_steps(&format!(
            r#"{REFERRAL}, {DECIDE},
           {{"at": "2026-03-02T11:00:00Z", "do": "visit", "child": "c1", "by": "tm1", "outcome": "peeked through the window"}}"#
        )),
    );
    assert_invalid(&safeguard(&[&path]), &["step 3", "outcome"]);
}

#[test]
fn a_missing_field_in_a_step_names_the_step_and_field() {
    let path = write(
        "no-action.json",
        &with_steps(&format!(
            r#"{REFERRAL}, {{"at": "2026-03-03T11:00:00Z", "do": "resolve", "escalation": "E-1", "by": "tm1"}}"#
        )),
    );
    assert_invalid(&safeguard(&[&path]), &["step 2", "action", "required"]);
}

#[test]
fn steps_out_of_order_name_the_step_and_at() {
    let path = write(
        "out-of-order.json",
        &with_steps(&format!(
            r#"{REFERRAL}, {{"at": "2026-03-02T08:59:00Z", "do": "concern", "child": "c1", "source": "school", "concern": "x", "categories": ["neglect"]}}"#
        )),
    );
    assert_invalid(&safeguard(&[&path]), &["step 2", "at", "time order"]);
}

#[test]
fn an_unknown_child_or_person_names_the_step_and_field() {
    let path = write(
        "unknown-child.json",
        &with_steps(&format!(
            r#"{REFERRAL}, {DECIDE}, {{"at": "2026-03-02T11:00:00Z", "do": "allocate", "child": "c2", "worker": "sw1", "by": "tm1"}}"#
        )),
    );
    assert_invalid(&safeguard(&[&path]), &["step 3", "child", "c2"]);
    let path = write(
        "unknown-person.json",
        &with_steps(&format!(
            r#"{REFERRAL}, {DECIDE}, {{"at": "2026-03-02T11:00:00Z", "do": "allocate", "child": "c1", "worker": "sw9", "by": "tm1"}}"#
        )),
    );
    assert_invalid(&safeguard(&[&path]), &["step 3", "worker", "sw9"]);
}

#[test]
fn a_bad_staff_role_names_the_field() {
    let text = with_steps(REFERRAL).replace(r#""role": "service_manager""#, r#""role": "deputy_director_of_vibes""#);
    let path = write("bad-role.json", &text);
    assert_invalid(&safeguard(&[&path]), &["staff[2].role"]);
}

#[test]
fn not_json_missing_files_and_bad_policies_exit_2() {
    let path = write("broken.json", "{\"name\": \"t\", \"start\": ");
    assert_invalid(&safeguard(&[&path]), &["not valid JSON"]);
    let missing = std::env::temp_dir().join("safeguard-simulate-cli-no-such-file.json");
    assert_invalid(&safeguard(&[&missing]), &["no-such-file"]);
    let good = scenario("welfare-check-once.json");
    let policy = write("bad.policy.json", r#"{"top_level": 9}"#);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
    let out = cmd.arg("simulate").arg(&good).arg("--policy").arg(&policy).output().unwrap();
    assert_invalid(&out, &["top_level"]);
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn a_valid_scenario_exits_0_with_the_same_lines_every_time() {
    let path = scenario("welfare-check-once.json");
    let first = safeguard(&[&path]);
    assert_eq!(first.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&first.stderr));
    let got = lines(&first);
    let last = got.last().expect("some output");
    assert_eq!(
        (last["event"].as_str(), last["open_escalations"].as_i64(), last["steps"].as_i64()),
        (Some("summary"), Some(0), Some(13))
    );
    assert!(got.iter().all(|l| l["at"].is_string() && l["event"].is_string()), "every line has at and event");
    let raised = got.iter().filter(|l| l["event"] == "escalation.raised").count();
    assert_eq!(raised, 2);
    // Time order.
    let times: Vec<&str> = got.iter().filter_map(|l| l["at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "lines are in time order");

    let second = safeguard(&[&path]);
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(first.stdout, second.stdout, "the same file gives the same lines");
}

#[test]
fn the_policy_option_changes_what_happens() {
    let path = scenario("reminders-policy-override.json");
    let policy = scenario("reminders-policy-override.policy.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
    let with = cmd.arg("simulate").arg(&path).arg("--policy").arg(&policy).output().unwrap();
    assert_eq!(with.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&with.stderr));
    let without = safeguard(&[&path]);
    assert_eq!(without.status.code(), Some(0));
    let top = |out: &Output| {
        lines(out).iter().filter(|l| l["event"] == "escalation.climbed").filter_map(|l| l["level"].as_i64()).max()
    };
    assert_eq!(top(&with), Some(2), "the policy's top level is 2");
    assert_eq!(top(&without), Some(3), "the default top level is 3");
}
