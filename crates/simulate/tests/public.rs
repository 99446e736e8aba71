#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The public example scenarios give exactly the lines their README lists.

use serde_json::{Value, json};

async fn run(file: &str) -> Vec<Value> {
    let path = format!("{}/scenarios/public/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario = simulate::parse(&text).unwrap();
    let lines = simulate::run(&scenario, None).await.unwrap();
    lines.iter().map(|l| serde_json::from_str(&l.to_json()).unwrap()).collect()
}

/// Every expected line appears, in order, matching the fields given (others may differ).
fn assert_lines(got: &[Value], expected: &[Value]) {
    let mut from = 0;
    for want in expected {
        let found = got[from..].iter().position(|g| want.as_object().unwrap().iter().all(|(k, v)| g.get(k) == Some(v)));
        match found {
            Some(i) => from += i + 1,
            None => panic!(
                "missing (in order) {want}\ngot:\n{}",
                got.iter().map(|g| g.to_string()).collect::<Vec<_>>().join("\n")
            ),
        }
    }
}

#[tokio::test]
async fn no_access_on_a_cp_case() {
    let got = run("no-access-cp.json").await;
    assert_lines(
        &got,
        &[
            json!({"at": "2026-03-06T15:00:00Z", "event": "escalation.raised", "trigger": "child_not_seen", "subject": "c1", "level": 1, "assignee": "tm1"}),
            json!({"at": "2026-03-09T11:00:00Z", "event": "escalation.climbed", "level": 2, "assignee": "sm1", "reason": "unacknowledged"}),
            json!({"at": "2026-03-09T11:00:00Z", "event": "welfare_check.requested", "child": "c1", "agency": "police"}),
            json!({"at": "2026-03-09T15:00:00Z", "event": "escalation.climbed", "level": 3, "assignee": "hos", "reason": "unacknowledged"}),
            json!({"at": "2026-03-10T15:00:00Z", "event": "escalation.reminded", "level": 3, "assignee": "hos"}),
            json!({"at": "2026-03-11T10:00:00Z", "event": "escalation.resolved", "reason": "condition_cleared"}),
            json!({"event": "summary", "open_escalations": 0}),
        ],
    );
    // Nothing else climbs, and the allocated worker hears of each raise and climb.
    assert_eq!(got.iter().filter(|l| l["event"] == "escalation.climbed").count(), 2);
    assert!(got.iter().any(|l| l["event"] == "notification.sent" && l["to"] == "sw1"));
    assert_eq!(got.iter().filter(|l| l["event"] == "welfare_check.requested").count(), 1);
}

#[tokio::test]
async fn referral_undecided_over_a_weekend() {
    let got = run("referral-undecided.json").await;
    assert_lines(
        &got,
        &[
            json!({"at": "2026-03-09T16:30:00Z", "event": "escalation.raised", "trigger": "referral_decision_overdue", "subject": "r1", "level": 1, "assignee": "tm1"}),
            json!({"at": "2026-03-10T12:30:00Z", "event": "escalation.climbed", "level": 2, "assignee": "sm1", "reason": "unresolved"}),
            json!({"at": "2026-03-10T13:00:00Z", "event": "escalation.resolved", "reason": "condition_cleared"}),
            // The assessment opened a case nobody allocated: a day later that escalates too.
            json!({"at": "2026-03-11T13:00:00Z", "event": "escalation.raised", "trigger": "case_unallocated", "subject": "c1", "level": 1}),
        ],
    );
}

#[tokio::test]
async fn caseload_cap() {
    let got = run("caseload-cap.json").await;
    // The step allocating c16 without a reason is step 48 (32 referral steps, 15 allocations).
    assert_lines(
        &got,
        &[
            json!({"event": "rejected", "step": 48}),
            json!({"at": "2026-04-13T11:05:00Z", "event": "escalation.raised", "trigger": "caseload_over_cap", "subject": "sw1", "level": 1, "assignee": "tm1"}),
            json!({"at": "2026-04-14T11:05:00Z", "event": "escalation.climbed", "level": 2, "assignee": "sm1", "reason": "unacknowledged"}),
        ],
    );
    assert_eq!(got.iter().filter(|l| l["event"] == "rejected").count(), 1);
}

#[tokio::test]
async fn the_same_file_gives_the_same_lines() {
    assert_eq!(run("no-access-cp.json").await, run("no-access-cp.json").await);
}
