//! Escalations about a child with no open case (after a "threshold not met" decision the
//! child usually has none) still reach the team that took the latest referral.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use commands::input::{DecisionInput, ReferralInput};
use commands::practice::{ConcernInput, ThresholdInput};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Config, Service};
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::escalation::Subject;
use domain::ids::*;
use std::sync::Arc;
use store::{Store, query, store_test};

async fn staff(svc: &Service, login: &str, role: &str, team: Option<TeamId>) -> Actor {
    let input = StaffInput {
        login: login.into(),
        name: login.into(),
        role: role.into(),
        team: team.map(|t| t.0),
        ..Default::default()
    };
    let id = svc.add_staff(Caller::System("test"), &input).await.unwrap();
    Actor { staff: id, login: login.into(), role: domain::staff::Role::parse(role).unwrap(), team, agency: None }
}

/// A team with a manager and a service manager, and a child referred and decided "no
/// further action" (so no case), with a "threshold not met" decision to review by 6 March.
async fn child_without_a_case(store: &Store) -> (Service, Arc<SimulatedClock>, Actor, Actor, PersonId) {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", Some(team)).await;
    let sm = staff(&svc, "sm1", "service_manager", None).await;
    let leaders =
        LeadershipInput { team_manager: Some(tm.staff.0), service_manager: Some(sm.staff.0), head_of_service: None };
    svc.set_team_leadership(Caller::System("test"), team, &leaders).await.unwrap();
    let referral: ReferralInput = serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "school", "concern": "bruise on arm", "categories": ["physical"],
        "children": [{"given_name": "Poppy", "family_name": "Reid", "dob": "2013-02-02"}]
    }))
    .unwrap();
    let r = svc.create_referral(&tm, &referral).await.unwrap();
    let decision = DecisionInput { decision: "nfa".into(), reason: "strategy discussion to follow".into() };
    let outcome = svc.decide_referral(&tm, r, &decision).await.unwrap();
    assert!(outcome.opened.is_empty());
    let child = query::referral(store, r).await.unwrap().unwrap().children[0].id;
    let not_met = ThresholdInput {
        forum: "strategy_discussion".into(),
        outcome: "not_met".into(),
        reason: "consistent explanation".into(),
        cooperation_noted: false,
        review_by: Some("2026-03-06".into()),
    };
    svc.threshold_decision(&tm, child, &not_met).await.unwrap();
    (svc, clock, tm, sm, child)
}

async fn assignee(store: &Store, trigger: &str, child: PersonId) -> Option<i64> {
    let id = query::latest_escalation(store, trigger, &Subject::Child(child).key()).await.unwrap()?;
    let row = sqlx::query("SELECT assignee_id FROM escalations WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    Some(sqlx::Row::get(&row, "assignee_id"))
}

store_test!(a_concern_after_threshold_not_met_reaches_the_service_manager, |store| async move {
    let (svc, clock, tm, sm, child) = child_without_a_case(store).await;
    clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let concern = ConcernInput {
        source: "school".into(),
        concern: "new bruising".into(),
        categories: vec!["physical".into()],
        received_at: None,
    };
    svc.record_concern(&tm, child, &concern).await.unwrap();
    assert_eq!(assignee(store, "concern_after_threshold_not_met", child).await, Some(sm.staff.0), "starts at level 2");
});

store_test!(an_overdue_threshold_review_reaches_the_team_manager, |store| async move {
    let (svc, clock, tm, _sm, child) = child_without_a_case(store).await;
    // Review by Fri 6 March: due 17:00 that day.
    clock.set("2026-03-06T16:59:00Z".parse().unwrap());
    svc.sweep().await.unwrap();
    assert_eq!(assignee(store, "threshold_review_overdue", child).await, None);
    clock.set("2026-03-06T17:00:00Z".parse().unwrap());
    svc.sweep().await.unwrap();
    assert_eq!(assignee(store, "threshold_review_overdue", child).await, Some(tm.staff.0));
});
