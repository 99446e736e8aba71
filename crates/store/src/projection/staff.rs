//! Teams and staff: teams and their management line, staff accounts, deputies,
//! passwords, absences, contact details and qualification.

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a team's or a member of staff's record.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    let c = tx.db().await?;
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
        Event::AbsenceSet { staff, until } => {
            sqlx::query("UPDATE staff SET absent_until = $2 WHERE id = $1")
                .bind(staff.0)
                .bind(until.map(to_micros))
                .execute(c)
                .await?;
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
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
