//! Cases: opening, allocation, visits, notes, plans, statutory steps and closure, with
//! the stage and allocation histories.

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a case's record.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    let c = tx.db().await?;
    match event {
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
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
