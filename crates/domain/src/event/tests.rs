//! The events' serialised form (pinned, since the trail hashes it) and the secrets kept out of it.

use super::*;

#[test]
fn secrets_never_reach_the_serialised_event() {
    let e = Event::PasswordSet { staff: StaffId(3), password_hash: "$argon2id$secret".into() };
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(json, r#"{"type":"password_set","staff":3}"#);
    let e = Event::SignedIn {
        staff: StaffId(3),
        expires_at: "2026-03-02T09:00:00Z".parse().unwrap(),
        session_hash: "abc".into(),
    };
    assert!(!serde_json::to_string(&e).unwrap().contains("abc"));
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// One or two events of each subject, covering every type that travels on an event
/// from another module and every serde attribute the enum uses: the audit trail hashes
/// this JSON, so a change here is a change to the trail.
fn representative_events() -> Vec<(Event, &'static str)> {
    use crate::duplicates::MovedRecords;
    let t = at("2026-03-02T09:00:00Z");
    let read = ReadFrom::new("api", "10.0.0.7", "curl/8");
    vec![
        (
            Event::StaffAdded {
                staff: StaffId(4),
                login: Login::parse("asha.patel").unwrap(),
                name: FreeName::parse("Asha Patel").unwrap(),
                role: Role::Partner,
                agency: Some(Agency::Police),
                team: Some(TeamId(2)),
                fte: Fte::new(0.8).unwrap(),
                deputy: None,
                password_hash: Some("$argon2id$secret".into()),
            },
            r#"{"type":"staff_added","staff":4,"login":"asha.patel","name":"Asha Patel","role":"partner","agency":"police","team":2,"fte":0.8,"deputy":null}"#,
        ),
        (
            Event::RelationshipRecorded {
                relationship: RelationshipId(9),
                person: PersonId(3),
                related: PersonId(5),
                kind: RelationshipKind::StepParent,
            },
            r#"{"type":"relationship_recorded","relationship":9,"person":3,"related":5,"kind":"step_parent"}"#,
        ),
        (
            Event::ReferralReceived {
                referral: ReferralId(7),
                team: TeamId(1),
                source: ReferralSource::SelfReferral,
                referrer: None,
                recorded_by: StaffId(2),
                received_at: t,
                concern: ConcernText::parse("Bruising seen at school.").unwrap(),
                categories: vec![Category::Physical, Category::Neglect],
                children: vec![PersonId(3), PersonId(5)],
            },
            r#"{"type":"referral_received","referral":7,"team":1,"source":"self","referrer":null,"recorded_by":2,"received_at":"2026-03-02T09:00:00Z","concern":"Bruising seen at school.","categories":["physical","neglect"],"children":[3,5]}"#,
        ),
        (
            Event::ReferralDecided {
                referral: ReferralId(7),
                decision: Decision::StrategyDiscussion,
                reason: Reason::parse("Reasonable cause to suspect harm.").unwrap(),
                by: StaffId(6),
                at: t,
            },
            r#"{"type":"referral_decided","referral":7,"decision":"strategy_discussion","reason":"Reasonable cause to suspect harm.","by":6,"at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::CaseAllocated {
                case: CaseId(11),
                child: PersonId(3),
                worker: StaffId(8),
                previous: Some(StaffId(9)),
                by: StaffId(6),
                at: t,
                override_reason: None,
                load_after: 16.5,
                cap: 15.0,
            },
            r#"{"type":"case_allocated","case":11,"child":3,"worker":8,"previous":9,"by":6,"at":"2026-03-02T09:00:00Z","override_reason":null,"load_after":16.5,"cap":15.0}"#,
        ),
        (
            Event::VisitRecorded {
                visit: VisitId(21),
                case: CaseId(11),
                child: PersonId(3),
                by: StaffId(8),
                visited_at: t,
                outcome: VisitOutcome::SeenAlone,
                note: None,
            },
            r#"{"type":"visit_recorded","visit":21,"case":11,"child":3,"by":8,"visited_at":"2026-03-02T09:00:00Z","outcome":"seen_alone","note":null}"#,
        ),
        (
            Event::PlanStarted {
                case: CaseId(11),
                child: PersonId(3),
                plan: Plan::Cp,
                category: Some(Category::Emotional),
                by: StaffId(6),
                at: t,
            },
            r#"{"type":"plan_started","case":11,"child":3,"plan":"cp","category":"emotional","by":6,"at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::ThresholdDecisionRecorded {
                decision: 4,
                child: PersonId(3),
                forum: Forum::LegalGateway,
                outcome: ThresholdOutcome::NotMet,
                reason: Reason::parse("Family engaging.").unwrap(),
                cooperation_noted: true,
                review_by: Some(Date::constant(2026, 6, 1)),
                by: StaffId(6),
                at: t,
            },
            r#"{"type":"threshold_decision_recorded","decision":4,"child":3,"forum":"legal_gateway","outcome":"not_met","reason":"Family engaging.","cooperation_noted":true,"review_by":"2026-06-01","by":6,"at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::EscalationRaised {
                escalation: EscalationId(5),
                trigger: Trigger::ChildNotSeen,
                subject: Subject::Child(PersonId(3)),
                team: Some(TeamId(1)),
                level: 1,
                assignee: StaffId(6),
                routed_from: Some(StaffId(7)),
                routing_reason: Some(RoutingReason::AssigneeAbsent),
                detail: "Not seen at the visit.".into(),
                at: t,
            },
            r#"{"type":"escalation_raised","escalation":5,"trigger":"child_not_seen","subject":{"kind":"child","id":3},"team":1,"level":1,"assignee":6,"routed_from":7,"routing_reason":"assignee_absent","detail":"Not seen at the visit.","at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::EscalationClimbed {
                escalation: EscalationId(5),
                from_level: 1,
                level: 2,
                assignee: StaffId(10),
                reason: ClimbReason::Unacknowledged,
                routed_from: None,
                routing_reason: None,
                at: t,
            },
            r#"{"type":"escalation_climbed","escalation":5,"from_level":1,"level":2,"assignee":10,"reason":"unacknowledged","routed_from":null,"routing_reason":null,"at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::EscalationResolved {
                escalation: EscalationId(5),
                resolution: Resolution::ConditionCleared,
                by: None,
                action: None,
                at: t,
            },
            r#"{"type":"escalation_resolved","escalation":5,"resolution":"condition_cleared","by":null,"action":null,"at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::NotificationQueued {
                to: StaffId(6),
                about: Some(EscalationId(5)),
                text: "E-5 is yours.".into(),
                at: t,
                case: None,
                referral: None,
                inbox_only: false,
            },
            r#"{"type":"notification_queued","to":6,"about":5,"text":"E-5 is yours.","at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::NotificationQueued {
                to: StaffId(6),
                about: None,
                text: "A delivery failed.".into(),
                at: t,
                case: Some(CaseId(11)),
                referral: Some(ReferralId(7)),
                inbox_only: true,
            },
            r#"{"type":"notification_queued","to":6,"about":null,"text":"A delivery failed.","at":"2026-03-02T09:00:00Z","case":11,"referral":7,"inbox_only":true}"#,
        ),
        (
            Event::WebhookEndpointSet {
                agency: Agency::Police,
                url: WebhookUrl::parse("https://police.example/hook").unwrap(),
                secret: "shh".into(),
            },
            r#"{"type":"webhook_endpoint_set","agency":"police","url":"https://police.example/hook"}"#,
        ),
        (
            Event::DeliveryFailed {
                delivery: DeliveryId(3),
                channel: Channel::Webhook,
                attempts: 5,
                error: "refused".into(),
                at: t,
            },
            r#"{"type":"delivery_failed","delivery":3,"channel":"webhook","attempts":5,"error":"refused","at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::DeadlinePassed { kind: crate::timer::TimerKind::IcpcDue, subject: "person:3".into(), due_at: t },
            r#"{"type":"deadline_passed","kind":"icpc_due","subject":"person:3","due_at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::FlagRaised {
                child: PersonId(3),
                flag: Flag::NotSeenAlone,
                evidence: vec!["visit V-21".into()],
                at: t,
            },
            r#"{"type":"flag_raised","child":3,"flag":"not_seen_alone","evidence":["visit V-21"],"at":"2026-03-02T09:00:00Z"}"#,
        ),
        (
            Event::PeopleMerged {
                pair: DuplicatePairId(2),
                kept: PersonId(3),
                merged: PersonId(30),
                moved: MovedRecords { referrals: vec![7], ..Default::default() },
                by: StaffId(6),
            },
            r#"{"type":"people_merged","pair":2,"kept":3,"merged":30,"moved":{"referrals":[7],"cases":[],"addresses":[],"aliases":[],"relationships":[],"related":[],"threshold_decisions":[],"concerns":[],"welfare_checks":[],"flags":[],"timers":[],"escalations":[]},"by":6}"#,
        ),
        (
            Event::PeopleSearched { query: "Smith".into(), found: vec![PersonId(3)], read },
            r#"{"type":"people_searched","query":"Smith","found":[3],"read":{"via":"api","from":"10.0.0.7","agent":"curl/8"}}"#,
        ),
    ]
}

#[test]
fn the_serialised_form_is_pinned() {
    for (event, pinned) in representative_events() {
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(json, pinned, "{} serialises differently", event.name());
        // And it reads back as the same event (secrets aside, which never travel).
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}

#[test]
fn a_read_keeps_a_short_user_agent() {
    let read = ReadFrom::new("page", "10.0.0.7", &"x".repeat(500));
    assert_eq!(read.agent.chars().count(), ReadFrom::AGENT_CHARS);
    let e = Event::RecordViewed { person: PersonId(12), read };
    assert!(e.is_read());
    assert_eq!(e.name(), "person.viewed");
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["type"], "record_viewed");
    assert_eq!(json["read"]["from"], "10.0.0.7");
}
