#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Notifications leave by email and webhook through the outbox, on SQLite and
//! PostgreSQL, against a real SMTP server and a real HTTP receiver started by the test:
//! sent once and recorded once, retried through an outage on the simulated clock,
//! failed loudly when they cannot go, and never carrying a child's name by email.

use commands::delivery::Couriers;
use commands::input::{AllocationInput, DecisionInput, ReferralInput, VisitInput};
use commands::notifications::{ContactInput, WebhookInput};
use commands::practice::PlanInput;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, CommandError, Config, Service};
use domain::Rejection;
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::delivery::RetryPolicy;
use domain::ids::*;
use jiff::SignedDuration;
use notify::testing::{SmtpSink, WebhookReceiver};
use notify::{SmtpConfig, WebhookClient};
use std::sync::Arc;
use std::time::Duration;
use store::{Store, query, store_test};

const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "police-control-room-shared-secret-0123456789";

struct World {
    svc: Service,
    clock: Arc<SimulatedClock>,
    team: TeamId,
    tm: Actor,
    sm: Actor,
    sw: Actor,
    admin: Actor,
    sink: SmtpSink,
    hooks: WebhookReceiver,
    couriers: Couriers,
}

async fn staff(svc: &Service, login: &str, role: &str, team: Option<TeamId>, agency: Option<&str>) -> Actor {
    svc.add_staff(
        Caller::System("test"),
        &StaffInput {
            login: login.into(),
            name: format!("{login} person"),
            role: role.into(),
            agency: agency.map(Into::into),
            team: team.map(|t| t.0),
            password: PASSWORD.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    svc.sign_in(login, PASSWORD).await.unwrap().actor
}

async fn email(svc: &Service, who: &Actor, on: bool) {
    let input = ContactInput { email: Some(format!("{}@council.gov.uk", who.login)), email_notifications: Some(on) };
    svc.set_contact(Caller::Staff(who), who.staff, &input).await.unwrap();
}

async fn world(store: &Store, retry: RetryPolicy) -> World {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let config = Config { retry, public_url: "https://safeguard.example.gov.uk".into(), ..Config::default() };
    let svc = Service::new(store.clone(), clock.clone(), config);
    let sys = Caller::System("test");
    let team = svc.create_team(sys, &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", Some(team), None).await;
    let sm = staff(&svc, "sm1", "service_manager", Some(team), None).await;
    let hos = staff(&svc, "hos1", "head_of_service", Some(team), None).await;
    let sw = staff(&svc, "sw1", "social_worker", Some(team), None).await;
    let admin = staff(&svc, "admin", "administrator", None, None).await;
    staff(&svc, "pc1", "partner", None, Some("police")).await;
    let line = LeadershipInput {
        team_manager: Some(tm.staff.0),
        service_manager: Some(sm.staff.0),
        head_of_service: Some(hos.staff.0),
    };
    svc.set_team_leadership(sys, team, &line).await.unwrap();
    for who in [&tm, &sm, &sw] {
        email(&svc, who, true).await;
    }
    let sink = SmtpSink::start().await;
    let hooks = WebhookReceiver::start(SECRET).await;
    // The receiver checks signatures against the real clock; these tests run in March
    // 2026 on a simulated one, and check the timestamp against it themselves.
    hooks.set_tolerance(20 * 365 * 24 * 3600);
    let mut smtp = SmtpConfig::parse(&sink.url(), "safeguard <safeguard@example.gov.uk>").unwrap();
    smtp.timeout = Duration::from_secs(5);
    let couriers = Couriers {
        mailer: Some(notify::Mailer::new(&smtp).unwrap()),
        webhooks: WebhookClient::new(Duration::from_secs(2)),
    };
    World { svc, clock, team, tm, sm, sw, admin, sink, hooks, couriers }
}

fn referral(team: TeamId) -> ReferralInput {
    serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "school", "referrer": "Head teacher, Hill School",
        "concern": "bruising to face", "categories": ["physical"],
        "children": [{"given_name": "Alfie", "family_name": "Scott", "dob": "2014-01-01", "sex": "male"}]
    }))
    .unwrap()
}

/// A referral nobody decides: at 09:00 the next working day the team manager holds a
/// `referral_decision_overdue` escalation, notified by inbox and email.
async fn undecided_referral(w: &World) -> ReferralId {
    let r = w.svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();
    w.clock.set("2026-03-03T09:30:00Z".parse().unwrap());
    assert_eq!(w.svc.sweep().await.unwrap().fired, 1);
    r
}

/// How many rows a table holds in a state.
async fn deliveries(store: &Store, state: &str) -> i64 {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM deliveries WHERE state = $1")
        .bind(state.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    sqlx::Row::get(&row, "n")
}

async fn trail_count(store: &Store, action: &str) -> usize {
    query::audit_entries(store, 1, 100_000).await.unwrap().iter().filter(|e| e.action == action).count()
}

store_test!(an_escalation_is_emailed_once_with_initials_and_a_link, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    undecided_referral(&w).await;
    // The inbox has it at once; the email waits in the outbox for the notifier.
    let inbox = w.svc.inbox(&w.tm).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(deliveries(store, "pending").await, 1);
    assert_eq!(w.sink.count(), 0);

    let round = w.svc.deliver_all_due(&w.couriers).await.unwrap();
    assert_eq!((round.sent, round.deferred, round.failed), (1, 0, 0));
    let mail = &w.sink.messages()[0];
    assert_eq!(mail.to, ["tm1@council.gov.uk"]);
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains("Escalation E-1") && subject.contains("Referral not decided in time"), "{subject}");
    let body = mail.body();
    assert!(body.contains("A.S."), "initials, not names: {body}");
    assert!(body.contains("https://safeguard.example.gov.uk/escalations/1"), "{body}");
    for secret in ["Alfie", "Scott", "bruising", "Hill School", "Mill Lane"] {
        assert!(!mail.data.contains(secret), "the email must not carry {secret:?}");
    }
    let key = mail.header("X-Safeguard-Delivery").unwrap();
    assert_eq!(mail.header("Message-ID").unwrap(), format!("<{key}@safeguard>"));

    // Recorded once, on the trail; nothing further to send.
    assert_eq!(deliveries(store, "sent").await, 1);
    assert_eq!(trail_count(store, "delivery.sent").await, 1);
    assert_eq!(w.svc.deliver_all_due(&w.couriers).await.unwrap().handled(), 0);
    assert_eq!(w.sink.count(), 1);
    store::trail::verify_entries(store).await.unwrap().unwrap();
});

store_test!(choices_decide_who_gets_email_but_the_inbox_always_has_it, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    // The team manager turns email off: the escalation still reaches the inbox.
    email(&w.svc, &w.tm, false).await;
    undecided_referral(&w).await;
    assert_eq!(w.svc.inbox(&w.tm).await.unwrap().len(), 1);
    assert_eq!(deliveries(store, "pending").await, 0);
    let contact = w.svc.contact(Caller::Staff(&w.tm), w.tm.staff).await.unwrap();
    assert_eq!(contact.email.as_deref(), Some("tm1@council.gov.uk"));
    assert!(!contact.email_notifications && contact.inbox);

    // A bad address is refused, naming the field, and changes nothing.
    let bad = ContactInput { email: Some("tm1 at council".into()), email_notifications: Some(true) };
    match w.svc.set_contact(Caller::Staff(&w.tm), w.tm.staff, &bad).await {
        Err(CommandError::Rejected(Rejection::Invalid(errors))) => assert_eq!(errors[0].field, "email"),
        other => panic!("expected the email to be refused, got {other:?}"),
    }
    // Nobody may change someone else's choices but an administrator.
    let theirs = ContactInput { email: Some("x@council.gov.uk".into()), email_notifications: Some(true) };
    assert!(matches!(
        w.svc.set_contact(Caller::Staff(&w.sw), w.tm.staff, &theirs).await,
        Err(CommandError::Rejected(Rejection::Forbidden(_)))
    ));
    w.svc.set_contact(Caller::Staff(&w.admin), w.tm.staff, &theirs).await.unwrap();
});

store_test!(allocation_and_referral_outcome_are_emailed, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    let r = w.svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();
    let decision = DecisionInput { decision: "assessment".into(), reason: "needs a closer look".into() };
    let outcome = w.svc.decide_referral(&w.tm, r, &decision).await.unwrap();
    w.svc
        .allocate(&w.tm, outcome.opened[0], &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None })
        .await
        .unwrap();
    assert_eq!(w.svc.deliver_all_due(&w.couriers).await.unwrap().sent, 2);
    let subjects: Vec<String> = w.sink.messages().iter().map(|m| m.header("Subject").unwrap()).collect();
    assert!(
        subjects.iter().any(|s| s.contains(&format!("Referral {} has been decided", r.reference()))),
        "{subjects:?}"
    );
    assert!(subjects.iter().any(|s| s.contains("Case allocated to you")), "{subjects:?}");
    assert!(w.sink.messages().iter().all(|m| m.to == ["sw1@council.gov.uk"]));
});

store_test!(an_smtp_outage_of_ten_minutes_loses_nothing, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    // Five escalations fall due while the mail server refuses everything.
    for _ in 0..5 {
        w.svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();
    }
    w.sink.set_refusing(true);
    w.clock.set("2026-03-03T09:30:00Z".parse().unwrap());
    assert_eq!(w.svc.sweep().await.unwrap().fired, 5);
    let start = w.svc.now();
    // Ten minutes of simulated time, the notifier running every 15 s: every try fails.
    let mut deferred = 0;
    while w.svc.now() < start + SignedDuration::from_mins(10) {
        let r = w.svc.deliver_all_due(&w.couriers).await.unwrap();
        assert_eq!((r.sent, r.failed), (0, 0), "nothing sent, nothing given up, during the outage");
        deferred += r.deferred;
        w.clock.advance(SignedDuration::from_secs(15));
    }
    assert!(deferred >= 5 * 4, "each email was tried repeatedly with backoff ({deferred} tries)");
    assert_eq!(w.sink.count(), 0);
    assert_eq!(deliveries(store, "pending").await, 5);
    // The server recovers: within the longest wait, everything arrives, once each.
    w.sink.set_refusing(false);
    let mut sent = 0;
    for _ in 0..(3600 / 15) {
        sent += w.svc.deliver_all_due(&w.couriers).await.unwrap().sent;
        w.clock.advance(SignedDuration::from_secs(15));
    }
    assert_eq!(sent, 5);
    assert_eq!(w.sink.count(), 5);
    let mut keys: Vec<String> = w.sink.messages().iter().map(|m| m.header("X-Safeguard-Delivery").unwrap()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 5, "five different deliveries, none twice");
    assert_eq!(deliveries(store, "sent").await, 5);
    assert_eq!(trail_count(store, "delivery.sent").await, 5);
    assert_eq!(deliveries(store, "failed").await, 0);
});

store_test!(a_delivery_that_cannot_go_is_failed_and_people_are_told, |store| async move {
    let w = world(store, RetryPolicy { attempts: 3, ..RetryPolicy::default() }).await;
    w.sink.set_refusing(true);
    let before_admin = w.svc.inbox(&w.admin).await.unwrap().len();
    let before_sm = w.svc.inbox(&w.sm).await.unwrap().len();
    undecided_referral(&w).await;
    for _ in 0..(3600 / 15) {
        w.svc.deliver_all_due(&w.couriers).await.unwrap();
        w.clock.advance(SignedDuration::from_secs(15));
    }
    assert_eq!(deliveries(store, "failed").await, 1, "three tries, then failed");
    assert_eq!(trail_count(store, "delivery.deferred").await, 2);
    assert_eq!(trail_count(store, "delivery.failed").await, 1);
    // The administrator and the next level up (the service manager) hear of it in
    // their inboxes; nothing about a failure is itself emailed.
    let admin = w.svc.inbox(&w.admin).await.unwrap();
    assert_eq!(admin.len(), before_admin + 1);
    assert!(
        admin[0].body.starts_with("Delivery failed: The email to tm1@council.gov.uk about E-1"),
        "{}",
        admin[0].body
    );
    let sm = w.svc.inbox(&w.sm).await.unwrap();
    assert_eq!(sm.len(), before_sm + 1);
    assert_eq!(deliveries(store, "pending").await, 0);

    // Only an administrator may send it again; then it goes.
    let failed = w.svc.deliveries(Caller::Staff(&w.admin), "failed", 10).await.unwrap();
    assert!(matches!(
        w.svc.retry_delivery(Caller::Staff(&w.tm), failed[0].id).await,
        Err(CommandError::Rejected(Rejection::Forbidden(_)))
    ));
    assert!(matches!(
        w.svc.deliveries(Caller::Staff(&w.tm), "failed", 10).await,
        Err(CommandError::Rejected(Rejection::Forbidden(_)))
    ));
    w.sink.set_refusing(false);
    w.svc.retry_delivery(Caller::Staff(&w.admin), failed[0].id).await.unwrap();
    assert_eq!(w.svc.deliver_all_due(&w.couriers).await.unwrap().sent, 1);
    assert_eq!(w.sink.count(), 1);
    assert!(w.svc.retry_delivery(Caller::Staff(&w.admin), failed[0].id).await.is_err(), "sent: nothing to retry");
});

/// A child on a CP plan is not seen; at level 2 the police are asked, by webhook.
async fn welfare_check(w: &World) {
    let r = w.svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();
    let decision = DecisionInput { decision: "strategy_discussion".into(), reason: "injury".into() };
    let case = w.svc.decide_referral(&w.tm, r, &decision).await.unwrap().opened[0];
    let child = query::case(w.svc.store(), case).await.unwrap().unwrap().child.id;
    let address = domain::person::AddressInput {
        line: "1 Mill Lane".into(),
        town: Some("Leeds".into()),
        postcode: Some("LS1 1AA".into()),
        ..Default::default()
    };
    w.svc.add_address(&w.tm, child, &address).await.unwrap();
    w.svc.allocate(&w.tm, case, &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None }).await.unwrap();
    let plan = PlanInput { plan: "cp".into(), category: Some("physical".into()), at: None };
    w.svc.start_plan(&w.tm, case, &plan).await.unwrap();
    w.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let visit = VisitInput { visited_at: None, outcome: "no_access".into(), note: None };
    w.svc.record_visit(&w.sw, case, &visit).await.unwrap();
    w.clock.set("2026-03-03T14:00:00Z".parse().unwrap());
    w.svc.sweep().await.unwrap();
}

store_test!(welfare_checks_reach_the_police_by_signed_webhook, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    let setup = WebhookInput { agency: "police".into(), url: w.hooks.url(), secret: SECRET.into() };
    // Only administrators set up endpoints; a short secret is refused by field.
    assert!(matches!(
        w.svc.set_webhook_endpoint(Caller::Staff(&w.tm), &setup).await,
        Err(CommandError::Rejected(Rejection::Forbidden(_)))
    ));
    let short = WebhookInput { secret: "too-short".into(), ..setup.clone() };
    match w.svc.set_webhook_endpoint(Caller::Staff(&w.admin), &short).await {
        Err(CommandError::Rejected(Rejection::Invalid(errors))) => assert_eq!(errors[0].field, "secret"),
        other => panic!("expected the secret to be refused, got {other:?}"),
    }
    w.svc.set_webhook_endpoint(Caller::Staff(&w.admin), &setup).await.unwrap();
    let listed = w.svc.webhook_endpoints(Caller::Staff(&w.admin)).await.unwrap();
    assert_eq!(listed[0].url, w.hooks.url());
    // The secret never reaches the trail.
    assert!(query::audit_entries(store, 1, 100_000).await.unwrap().iter().all(|e| !e.entry.contains(SECRET)));

    // The partner's system is down (503) for the first try, then answers.
    w.hooks.respond_with(vec![503]);
    welfare_check(&w).await;
    let first = w.svc.deliver_all_due(&w.couriers).await.unwrap();
    let failed = w.svc.deliveries(Caller::Staff(&w.admin), "failed", 10).await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(first.deferred, 1, "{first:?}");
    w.clock.advance(SignedDuration::from_mins(2));
    let second = w.svc.deliver_all_due(&w.couriers).await.unwrap();
    assert_eq!(second.sent, 1, "{second:?}");
    let calls = w.hooks.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].idempotency_key, calls[1].idempotency_key, "a retry is recognisable downstream");
    assert_eq!(calls[0].raw_body, calls[1].raw_body, "every try sends the same bytes");
    let call = &calls[1];
    assert_eq!(call.event, "welfare_check.requested");
    call.verify(SECRET, w.svc.now().as_second(), 300).unwrap();
    assert_eq!(call.body["child"]["given_name"], "Alfie", "the police need to find the child");
    assert_eq!(call.body["address"]["postcode"], "LS1 1AA");
    assert_eq!(call.body["escalation"], "E-1");
});

store_test!(a_webhook_refused_with_a_client_error_is_not_retried, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    let setup = WebhookInput { agency: "police".into(), url: w.hooks.url(), secret: SECRET.into() };
    w.svc.set_webhook_endpoint(Caller::Staff(&w.admin), &setup).await.unwrap();
    w.hooks.respond_with(vec![400]);
    welfare_check(&w).await;
    let r = w.svc.deliver_all_due(&w.couriers).await.unwrap();
    assert_eq!((r.deferred, r.failed), (0, 1), "a 400 will not get better by itself");
    assert_eq!(w.hooks.count(), 1);
    let admin = w.svc.inbox(&w.admin).await.unwrap();
    assert!(admin[0].body.contains("The police webhook"), "{}", admin[0].body);
});

store_test!(housekeeping_runs_on_one_process_at_a_time, |store| async move {
    let w = world(store, RetryPolicy::default()).await;
    let a = w.svc.housekeeping("host-a:1").await.unwrap();
    let b = w.svc.housekeeping("host-b:2").await.unwrap();
    assert!(a.leader && !b.leader, "one leader at a time");
    // The leader renews; when it stops (dies), another takes over after the lease.
    assert!(w.svc.housekeeping("host-a:1").await.unwrap().leader);
    w.clock.advance(commands::housekeeping::LEASE_FOR + SignedDuration::from_secs(1));
    assert!(w.svc.housekeeping("host-b:2").await.unwrap().leader);
    assert!(!w.svc.housekeeping("host-a:1").await.unwrap().leader);
    // Sessions signed in at the start expire after ten hours and are removed, on the trail.
    w.clock.advance(SignedDuration::from_hours(11));
    let h = w.svc.housekeeping("host-b:2").await.unwrap();
    assert!(h.sessions_purged >= 6, "{h:?}");
    assert_eq!(trail_count(store, "session.purge").await, 1);
    assert_eq!(w.svc.housekeeping("host-b:2").await.unwrap().sessions_purged, 0);
});
