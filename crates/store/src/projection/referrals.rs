//! Referrals, the children they name, their decisions, and disagreements with them.

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a referral's record.
pub(super) async fn apply(tx: &mut Tx, event: &Event) -> Result<(), StoreError> {
    let c = tx.db().await?;
    match event {
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
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
