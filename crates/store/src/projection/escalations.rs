//! Escalations and their history (through the write buffer), and welfare checks.

use crate::buffer::Deferred;
use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes an escalation's record.
pub(super) async fn apply(tx: &mut Tx, event: &Event) -> Result<(), StoreError> {
    // Rows nothing reads back before commit wait in the write buffer.
    match event {
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
        _ => {}
    }
    // These touch only escalations (and tables that refer to them).
    let c = tx.db_after(&[Deferred::Escalation]).await?;
    match event {
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
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
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
