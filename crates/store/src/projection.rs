//! Applying events to the tables. Nothing writes a table except through here.

use crate::buffer::Deferred;
use crate::outbox::{DeliveryKind, Queued};
use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::delivery::Channel;
use domain::event::Event;
use jiff::Timestamp;

pub(crate) async fn apply(tx: &mut Tx, event: &Event, at: Timestamp) -> Result<(), StoreError> {
    let now = to_micros(at);
    // Rows nothing reads back before commit wait in the write buffer.
    match event {
        Event::PersonRegistered { person, details } => {
            tx.buffer.push(
                Deferred::Person,
                vec![
                    person.0.into(),
                    details.kind.code().into(),
                    details.given_name.as_str().into(),
                    details.family_name.as_str().into(),
                    details.dob.date().map(|d| d.to_string()).into(),
                    details.dob.precision().into(),
                    details.sex.code().into(),
                    details.nhs_number.as_ref().map(|n| n.as_str().to_string()).into(),
                    details.upn.as_ref().map(|u| u.as_str().to_string()).into(),
                    now.into(),
                ],
            );
            return Ok(());
        }
        Event::EscalationRaised {
            escalation,
            trigger,
            subject,
            team,
            level,
            assignee,
            routed_from,
            routing_reason,
            detail,
            at,
        } => {
            let at = to_micros(*at);
            tx.buffer.push(
                Deferred::Escalation,
                vec![
                    escalation.0.into(),
                    trigger.code().into(),
                    subject.key().into(),
                    team.map(|t| t.0).into(),
                    i64::from(*level).into(),
                    assignee.0.into(),
                    "open".into(),
                    detail.clone().into(),
                    at.into(),
                    at.into(),
                ],
            );
            let r = routing_reason.map(|r| r.code());
            history(
                tx,
                escalation.0,
                at,
                "raised",
                Some(*level),
                Some(assignee.0),
                r,
                routed_from.map(|r| r.0),
                None,
                Some(detail),
            );
            return Ok(());
        }
        Event::EscalationReminded { escalation, level, assignee, at } => {
            let at = to_micros(*at);
            history(tx, escalation.0, at, "reminded", Some(*level), Some(assignee.0), None, None, None, None);
            return Ok(());
        }
        Event::EscalationRepeated { escalation, detail, at } => {
            history(tx, escalation.0, to_micros(*at), "repeated", None, None, None, None, None, Some(detail));
            return Ok(());
        }
        Event::NotificationQueued { to, about, text, at, case, referral, inbox_only } => {
            tx.buffer.push(
                Deferred::Notification,
                vec![
                    to.0.into(),
                    about.map(|e| e.0).into(),
                    "inbox".into(),
                    text.clone().into(),
                    to_micros(*at).into(),
                ],
            );
            if !*inbox_only && let Some(email) = tx.email_for(*to).await? {
                let kind = match (about, case, referral) {
                    (Some(_), _, _) => DeliveryKind::Escalation,
                    (None, Some(_), _) => DeliveryKind::Allocation,
                    (None, None, Some(_)) => DeliveryKind::ReferralOutcome,
                    (None, None, None) => DeliveryKind::Notice,
                };
                tx.queue_delivery(Queued {
                    channel: Channel::Email,
                    staff: Some(*to),
                    recipient: &email,
                    kind,
                    escalation: *about,
                    case: *case,
                    referral: *referral,
                    payload: None,
                    at: *at,
                });
            }
            return Ok(());
        }
        // Nothing to write: the event is on the trail, and the timer row says overdue.
        Event::PlanEnded { .. } | Event::DeadlinePassed { .. } => return Ok(()),
        // Reads: the trail is their only record.
        Event::RecordViewed { .. }
        | Event::RecordAccessViewed { .. }
        | Event::PeopleSearched { .. }
        | Event::DataExported { .. } => return Ok(()),
        _ => {}
    }
    let c = match event {
        // These touch only escalations (and tables that refer to them).
        Event::EscalationClimbed { .. }
        | Event::EscalationAcknowledged { .. }
        | Event::EscalationResolved { .. }
        | Event::WelfareCheckRequested { .. } => tx.db_after(&[Deferred::Escalation]).await?,
        _ => tx.db().await?,
    };
    match event {
        Event::TeamCreated { team, name } => {
            sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(team.0)
                .bind(name.as_str().to_string())
                .bind(now)
                .execute(c)
                .await?;
        }
        Event::TeamLeadershipSet { team, team_manager, service_manager, head_of_service } => {
            sqlx::query(
                "UPDATE teams SET team_manager_id = $2, service_manager_id = $3, head_of_service_id = $4 WHERE id = $1",
            )
            .bind(team.0)
            .bind(team_manager.map(|s| s.0))
            .bind(service_manager.map(|s| s.0))
            .bind(head_of_service.map(|s| s.0))
            .execute(c)
            .await?;
        }
        Event::StaffAdded { staff, login, name, role, agency, team, fte, deputy, password_hash } => {
            sqlx::query(
                "INSERT INTO staff (id, login, name, role, agency, team_id, fte, deputy_id, password_hash, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
            )
            .bind(staff.0)
            .bind(login.as_str().to_string())
            .bind(name.as_str().to_string())
            .bind(role.code())
            .bind(agency.map(|a| a.code()))
            .bind(team.map(|t| t.0))
            .bind(fte.value())
            .bind(deputy.map(|d| d.0))
            .bind(password_hash.clone())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::DeputySet { staff, deputy } => {
            sqlx::query("UPDATE staff SET deputy_id = $2 WHERE id = $1")
                .bind(staff.0)
                .bind(deputy.map(|d| d.0))
                .execute(c)
                .await?;
        }
        Event::PasswordSet { staff, password_hash } => {
            sqlx::query("UPDATE staff SET password_hash = $2 WHERE id = $1")
                .bind(staff.0)
                .bind(password_hash.clone())
                .execute(&mut *c)
                .await?;
            // A new password ends every existing session.
            sqlx::query("DELETE FROM sessions WHERE staff_id = $1").bind(staff.0).execute(c).await?;
        }
        Event::SignedIn { staff, expires_at, session_hash } => {
            sqlx::query("INSERT INTO sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(session_hash.clone())
                .bind(staff.0)
                .bind(now)
                .bind(to_micros(*expires_at))
                .execute(c)
                .await?;
        }
        Event::SignedOut { session_hash, .. } => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(session_hash.clone()).execute(c).await?;
        }
        Event::ApiTokenIssued { token, staff, name, token_hash } => {
            sqlx::query(
                "INSERT INTO api_tokens (id, token_hash, staff_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.0)
            .bind(token_hash.clone())
            .bind(staff.0)
            .bind(name.as_str().to_string())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::AliasAdded { person, given_name, family_name } => {
            sqlx::query(
                "INSERT INTO person_aliases (person_id, given_name, family_name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(person.0)
            .bind(given_name.as_str().to_string())
            .bind(family_name.as_str().to_string())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::AddressAdded { address_id, person, address } => {
            sqlx::query(
                "INSERT INTO person_addresses (id, person_id, line, town, postcode, from_date, to_date, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(address_id.0)
            .bind(person.0)
            .bind(address.line.clone())
            .bind(address.town.clone())
            .bind(address.postcode.as_ref().map(|p| p.as_str().to_string()))
            .bind(address.from.map(|d| d.to_string()))
            .bind(address.to.map(|d| d.to_string()))
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::RelationshipRecorded { relationship, person, related, kind } => {
            sqlx::query(
                "INSERT INTO relationships (id, person_id, related_person_id, kind, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(relationship.0)
            .bind(person.0)
            .bind(related.0)
            .bind(kind.code())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::ReferralReceived {
            referral,
            team,
            source,
            referrer,
            recorded_by,
            received_at,
            concern,
            categories,
            children,
        } => {
            sqlx::query(
                "INSERT INTO referrals (id, team_id, source, referrer, recorded_by, received_at, concern, categories)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(referral.0)
            .bind(team.0)
            .bind(source.code())
            .bind(referrer.as_ref().map(|r| r.as_str().to_string()))
            .bind(recorded_by.0)
            .bind(to_micros(*received_at))
            .bind(concern.as_str().to_string())
            .bind(categories.iter().map(|c| c.code()).collect::<Vec<_>>().join(","))
            .execute(&mut *c)
            .await?;
            for child in children {
                sqlx::query("INSERT INTO referral_children (referral_id, person_id) VALUES ($1, $2)")
                    .bind(referral.0)
                    .bind(child.0)
                    .execute(&mut *c)
                    .await?;
            }
        }
        Event::ReferralDecided { referral, decision, reason, by, at } => {
            sqlx::query("UPDATE referrals SET decision = $2, decision_reason = $3, decided_by = $4, decided_at = $5 WHERE id = $1")
                .bind(referral.0)
                .bind(decision.code())
                .bind(reason.as_str().to_string())
                .bind(by.0)
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::ReferralLinkedToCase { referral, case, child } => {
            sqlx::query("UPDATE referral_children SET case_id = $3 WHERE referral_id = $1 AND person_id = $2")
                .bind(referral.0)
                .bind(child.0)
                .bind(case.0)
                .execute(c)
                .await?;
        }
        Event::CaseOpened { case, child, team, referral, at } => {
            let at = to_micros(*at);
            sqlx::query(
                "INSERT INTO cases (id, person_id, team_id, referral_id, stage, opened_at) VALUES ($1, $2, $3, $4, 'assessment', $5)",
            )
            .bind(case.0)
            .bind(child.0)
            .bind(team.0)
            .bind(referral.0)
            .bind(at)
            .execute(&mut *c)
            .await?;
            sqlx::query("INSERT INTO case_stages (case_id, stage, started_at) VALUES ($1, 'assessment', $2)")
                .bind(case.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE referral_children SET case_id = $3 WHERE referral_id = $1 AND person_id = $2")
                .bind(referral.0)
                .bind(child.0)
                .bind(case.0)
                .execute(c)
                .await?;
        }
        Event::CaseAllocated { case, worker, by, at, override_reason, .. } => {
            let at = to_micros(*at);
            sqlx::query("UPDATE allocations SET to_at = $2 WHERE case_id = $1 AND to_at IS NULL")
                .bind(case.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO allocations (case_id, worker_id, from_at, allocated_by, override_reason) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(case.0)
            .bind(worker.0)
            .bind(at)
            .bind(by.0)
            .bind(override_reason.as_ref().map(|r| r.as_str().to_string()))
            .execute(&mut *c)
            .await?;
            sqlx::query("UPDATE cases SET worker_id = $2, allocated_at = $3 WHERE id = $1")
                .bind(case.0)
                .bind(worker.0)
                .bind(at)
                .execute(c)
                .await?;
        }
        Event::VisitRecorded { visit, case, child, by, visited_at, outcome, note } => {
            let v = to_micros(*visited_at);
            sqlx::query(
                "INSERT INTO visits (id, case_id, person_id, by_staff_id, visited_at, outcome, note, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(visit.0)
            .bind(case.0)
            .bind(child.0)
            .bind(by.0)
            .bind(v)
            .bind(outcome.code())
            .bind(note.as_ref().map(|n| n.as_str().to_string()))
            .bind(now)
            .execute(&mut *c)
            .await?;
            // Visits may be recorded late and out of order: keep the latest of each.
            let seen = if outcome.saw_child() { Some(v) } else { None };
            let alone = if *outcome == domain::visit::VisitOutcome::SeenAlone { Some(v) } else { None };
            sqlx::query(
                "UPDATE cases SET
                    last_visit_at = CASE WHEN last_visit_at IS NULL OR last_visit_at < $2 THEN $2 ELSE last_visit_at END,
                    last_seen_at = CASE WHEN $3 IS NOT NULL AND (last_seen_at IS NULL OR last_seen_at < $3) THEN $3 ELSE last_seen_at END,
                    last_seen_alone_at = CASE WHEN $4 IS NOT NULL AND (last_seen_alone_at IS NULL OR last_seen_alone_at < $4) THEN $4 ELSE last_seen_alone_at END
                 WHERE id = $1",
            )
            .bind(case.0)
            .bind(v)
            .bind(seen)
            .bind(alone)
            .execute(c)
            .await?;
        }
        Event::CaseNoteAdded { note, case, child, author, at, text } => {
            sqlx::query("INSERT INTO case_notes (id, case_id, person_id, author_id, written_at, body) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(note.0)
                .bind(case.0)
                .bind(child.0)
                .bind(author.0)
                .bind(to_micros(*at))
                .bind(text.as_str().to_string())
                .execute(c)
                .await?;
        }
        Event::PlanStarted { case, plan, category, at, .. } => {
            let at = to_micros(*at);
            sqlx::query("UPDATE case_stages SET ended_at = $2 WHERE case_id = $1 AND ended_at IS NULL")
                .bind(case.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query("INSERT INTO case_stages (case_id, stage, started_at, category) VALUES ($1, $2, $3, $4)")
                .bind(case.0)
                .bind(plan.stage().code())
                .bind(at)
                .bind(category.map(|c| c.code()))
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE cases SET stage = $2, plan_started_at = $3, plan_category = $4 WHERE id = $1")
                .bind(case.0)
                .bind(plan.stage().code())
                .bind(at)
                .bind(category.map(|c| c.code()))
                .execute(c)
                .await?;
        }
        // The stage history row is closed by whatever comes next (a plan or closure).
        // Handled above.
        Event::PlanEnded { .. }
        | Event::DeadlinePassed { .. }
        | Event::PersonRegistered { .. }
        | Event::EscalationRaised { .. }
        | Event::EscalationReminded { .. }
        | Event::EscalationRepeated { .. }
        | Event::NotificationQueued { .. }
        | Event::RecordViewed { .. }
        | Event::RecordAccessViewed { .. }
        | Event::PeopleSearched { .. }
        | Event::DataExported { .. } => {}
        Event::StrategyDiscussionHeld { case, child, s47, by, at } => {
            sqlx::query("INSERT INTO strategy_discussions (case_id, person_id, s47, held_at, by_staff_id) VALUES ($1, $2, $3, $4, $5)")
                .bind(case.0)
                .bind(child.0)
                .bind(i64::from(*s47))
                .bind(to_micros(*at))
                .bind(by.0)
                .execute(&mut *c)
                .await?;
            if *s47 {
                sqlx::query("UPDATE cases SET s47_started_at = $2, icpc_at = NULL WHERE id = $1")
                    .bind(case.0)
                    .bind(to_micros(*at))
                    .execute(c)
                    .await?;
            }
        }
        Event::IcpcHeld { case, child, by, at } | Event::ReviewConferenceHeld { case, child, by, at } => {
            let initial = matches!(event, Event::IcpcHeld { .. });
            sqlx::query(
                "INSERT INTO conferences (case_id, person_id, kind, held_at, by_staff_id) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(case.0)
            .bind(child.0)
            .bind(if initial { "icpc" } else { "review" })
            .bind(to_micros(*at))
            .bind(by.0)
            .execute(&mut *c)
            .await?;
            let sql = if initial {
                "UPDATE cases SET icpc_at = $2, last_review_conference_at = NULL WHERE id = $1"
            } else {
                "UPDATE cases SET last_review_conference_at = $2 WHERE id = $1"
            };
            sqlx::query(sql).bind(case.0).bind(to_micros(*at)).execute(c).await?;
        }
        Event::AssessmentCompleted { case, at, .. } => {
            sqlx::query("UPDATE cases SET assessment_completed_at = $2 WHERE id = $1")
                .bind(case.0)
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::ThresholdDecisionRecorded {
            decision,
            child,
            forum,
            outcome,
            reason,
            cooperation_noted,
            review_by,
            by,
            at,
        } => {
            sqlx::query(
                "INSERT INTO threshold_decisions (id, person_id, forum, outcome, reason, cooperation_noted, review_by, by_staff_id, decided_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(*decision)
            .bind(child.0)
            .bind(forum.code())
            .bind(outcome.code())
            .bind(reason.as_str().to_string())
            .bind(i64::from(*cooperation_noted))
            .bind(review_by.map(|d| d.to_string()))
            .bind(by.0)
            .bind(to_micros(*at))
            .execute(c)
            .await?;
        }
        Event::ConcernRecorded { concern, child, source, text, categories, by, at } => {
            sqlx::query(
                "INSERT INTO concerns (id, person_id, source, body, categories, by_staff_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(*concern)
            .bind(child.0)
            .bind(source.code())
            .bind(text.as_str().to_string())
            .bind(categories.iter().map(|c| c.code()).collect::<Vec<_>>().join(","))
            .bind(by.0)
            .bind(to_micros(*at))
            .execute(c)
            .await?;
        }
        Event::DisagreementRaised { disagreement, referral, team, by, text, at } => {
            sqlx::query("INSERT INTO disagreements (id, referral_id, team_id, raised_by, body, raised_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(*disagreement)
                .bind(referral.0)
                .bind(team.0)
                .bind(by.0)
                .bind(text.as_str().to_string())
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::AbsenceSet { staff, until } => {
            sqlx::query("UPDATE staff SET absent_until = $2 WHERE id = $1")
                .bind(staff.0)
                .bind(until.map(to_micros))
                .execute(c)
                .await?;
        }
        Event::PolicySet { version, policy } => {
            sqlx::query("INSERT INTO policies (version, body, created_at) VALUES ($1, $2, $3)")
                .bind(*version)
                .bind(policy.to_string())
                .bind(now)
                .execute(c)
                .await?;
        }
        Event::EscalationClimbed { escalation, level, assignee, reason, routed_from, routing_reason, at, .. } => {
            let at = to_micros(*at);
            sqlx::query("UPDATE escalations SET level = $2, assignee_id = $3, state = 'open', level_reached_at = $4 WHERE id = $1")
                .bind(escalation.0)
                .bind(i64::from(*level))
                .bind(assignee.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            let why = match routing_reason {
                Some(r) => format!("{}; routed: {}", reason.code(), r.code()),
                None => reason.code().to_string(),
            };
            history(
                tx,
                escalation.0,
                at,
                "climbed",
                Some(*level),
                Some(assignee.0),
                Some(&why),
                routed_from.map(|r| r.0),
                None,
                None,
            );
        }
        Event::EscalationAcknowledged { escalation, by, note, at } => {
            let at = to_micros(*at);
            sqlx::query("UPDATE escalations SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1")
                .bind(escalation.0)
                .bind(at)
                .bind(by.0)
                .execute(&mut *c)
                .await?;
            history(tx, escalation.0, at, "acknowledged", None, None, None, None, Some(by.0), note.as_ref());
        }
        Event::EscalationResolved { escalation, resolution, by, action, at } => {
            let at = to_micros(*at);
            sqlx::query("UPDATE escalations SET state = 'resolved', resolved_at = $2, resolved_by = $3, resolution = $4, action = $5 WHERE id = $1")
                .bind(escalation.0)
                .bind(at)
                .bind(by.map(|b| b.0))
                .bind(resolution.code())
                .bind(action.clone())
                .execute(&mut *c)
                .await?;
            history(
                tx,
                escalation.0,
                at,
                "resolved",
                None,
                None,
                Some(resolution.code()),
                None,
                by.map(|b| b.0),
                action.as_ref(),
            );
        }
        Event::WelfareCheckRequested { child, agency, escalation, at } => {
            let at = to_micros(*at);
            sqlx::query(
                "INSERT INTO welfare_checks (person_id, escalation_id, agency, requested_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(child.0)
            .bind(escalation.0)
            .bind(agency.code())
            .bind(at)
            .execute(&mut *c)
            .await?;
            sqlx::query("UPDATE escalations SET welfare_check_requested = 1 WHERE id = $1")
                .bind(escalation.0)
                .execute(&mut *c)
                .await?;
            history(tx, escalation.0, at, "welfare_check_requested", None, None, Some(agency.code()), None, None, None);
            crate::outbox::queue_welfare_check_webhook(tx, *child, *agency, *escalation, at).await?;
        }
        Event::ContactSet { staff, email, email_notifications } => {
            sqlx::query("UPDATE staff SET email = $2, email_notifications = $3 WHERE id = $1")
                .bind(staff.0)
                .bind(email.as_ref().map(|e| e.as_str().to_string()))
                .bind(i64::from(*email_notifications))
                .execute(c)
                .await?;
        }
        Event::QualificationRecorded { staff, qualified_on } => {
            sqlx::query("UPDATE staff SET qualified_on = $2 WHERE id = $1")
                .bind(staff.0)
                .bind(qualified_on.to_string())
                .execute(c)
                .await?;
        }
        Event::WebhookEndpointSet { agency, url, secret } => {
            sqlx::query(
                "INSERT INTO webhook_endpoints (agency, url, secret, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (agency) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at",
            )
            .bind(agency.code())
            .bind(url.as_str().to_string())
            .bind(secret.clone())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::SessionsPurged { before, .. } => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(to_micros(*before)).execute(c).await?;
        }
        Event::DeliverySent { delivery, attempts, at, .. } => {
            sqlx::query("UPDATE deliveries SET state = 'sent', attempts = $2, sent_at = $3 WHERE id = $1")
                .bind(delivery.0)
                .bind(i64::from(*attempts))
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::DeliveryDeferred { delivery, attempts, error, retry_at, .. } => {
            sqlx::query("UPDATE deliveries SET attempts = $2, due_at = $3, last_error = $4 WHERE id = $1")
                .bind(delivery.0)
                .bind(i64::from(*attempts))
                .bind(to_micros(*retry_at))
                .bind(error.clone())
                .execute(c)
                .await?;
        }
        Event::DeliveryFailed { delivery, attempts, error, at, .. } => {
            sqlx::query(
                "UPDATE deliveries SET state = 'failed', attempts = $2, failed_at = $3, last_error = $4 WHERE id = $1",
            )
            .bind(delivery.0)
            .bind(i64::from(*attempts))
            .bind(to_micros(*at))
            .bind(error.clone())
            .execute(c)
            .await?;
        }
        Event::DeliveryRetried { delivery, at, .. } => {
            // A fresh set of tries, starting now.
            sqlx::query(
                "UPDATE deliveries SET state = 'pending', attempts = 0, due_at = $2, failed_at = NULL WHERE id = $1",
            )
            .bind(delivery.0)
            .bind(to_micros(*at))
            .execute(c)
            .await?;
        }
        Event::FlagRaised { child, flag, evidence, at } => {
            sqlx::query("INSERT INTO flags (person_id, flag, evidence, raised_at) VALUES ($1, $2, $3, $4)")
                .bind(child.0)
                .bind(flag.code())
                .bind(serde_json::to_string(evidence).unwrap_or_default())
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::FlagCleared { child, flag, at } => {
            sqlx::query("UPDATE flags SET cleared_at = $3 WHERE person_id = $1 AND flag = $2 AND cleared_at IS NULL")
                .bind(child.0)
                .bind(flag.code())
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::CaseClosed { case, at, reason, .. } => {
            let at = to_micros(*at);
            sqlx::query("UPDATE case_stages SET ended_at = $2 WHERE case_id = $1 AND ended_at IS NULL")
                .bind(case.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query("INSERT INTO case_stages (case_id, stage, started_at) VALUES ($1, 'closed', $2)")
                .bind(case.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE allocations SET to_at = $2 WHERE case_id = $1 AND to_at IS NULL")
                .bind(case.0)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE cases SET stage = 'closed', closed_at = $2, closure_reason = $3 WHERE id = $1")
                .bind(case.0)
                .bind(at)
                .bind(reason.as_str().to_string())
                .execute(c)
                .await?;
        }
        Event::DuplicatesFound { pairs } => {
            for p in pairs {
                sqlx::query(
                    "INSERT INTO duplicate_pairs (id, person_a, person_b, probability, evidence, found_at, state)
                     VALUES ($1, $2, $3, $4, $5, $6, 'open')",
                )
                .bind(p.pair.0)
                .bind(p.person_a.0)
                .bind(p.person_b.0)
                .bind(p.probability)
                .bind(p.evidence.clone())
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
        }
        Event::PeopleMerged { pair, kept, merged, moved, by } => {
            crate::duplicates::move_records(c, moved, *merged, *kept).await?;
            sqlx::query("UPDATE people SET merged_into = $2 WHERE id = $1")
                .bind(merged.0)
                .bind(kept.0)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "UPDATE duplicate_pairs SET state = 'merged', kept_id = $2, moved = $3, decided_by = $4, decided_at = $5
                 WHERE id = $1",
            )
            .bind(pair.0)
            .bind(kept.0)
            .bind(serde_json::to_string(moved).unwrap_or_default())
            .bind(by.0)
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::PeopleUnmerged { pair, kept, merged, moved, by } => {
            crate::duplicates::move_records(c, moved, *kept, *merged).await?;
            sqlx::query("UPDATE people SET merged_into = NULL WHERE id = $1").bind(merged.0).execute(&mut *c).await?;
            sqlx::query(
                "UPDATE duplicate_pairs SET state = 'open', kept_id = NULL, moved = NULL, decided_by = $2, decided_at = $3
                 WHERE id = $1",
            )
            .bind(pair.0)
            .bind(by.0)
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::PeopleMarkedDistinct { pair, by, .. } => {
            sqlx::query(
                "UPDATE duplicate_pairs SET state = 'distinct', decided_by = $2, decided_at = $3 WHERE id = $1",
            )
            .bind(pair.0)
            .bind(by.0)
            .bind(now)
            .execute(c)
            .await?;
        }
    }
    Ok(())
}

/// Adds an escalation history row to the write buffer.
#[allow(clippy::too_many_arguments)]
fn history(
    tx: &mut Tx,
    escalation: i64,
    at: i64,
    what: &str,
    level: Option<u8>,
    assignee: Option<i64>,
    reason: Option<&str>,
    routed_from: Option<i64>,
    by: Option<i64>,
    note: Option<&String>,
) {
    tx.buffer.push(
        Deferred::History,
        vec![
            escalation.into(),
            at.into(),
            what.into(),
            level.map(i64::from).into(),
            assignee.into(),
            reason.map(str::to_string).into(),
            routed_from.into(),
            by.into(),
            note.cloned().into(),
        ],
    );
}
