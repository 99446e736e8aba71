//! Loading what the escalation engine and the sweeper need, inside a transaction.

use crate::load::code;
use crate::memo::OpenCase;
use crate::time::{from_micros, to_micros};
use crate::{Reads, StoreError, Tx};
use domain::escalation::{Escalation, EscalationId, EscalationState, Line, StaffStatus, Subject, Trigger};
use domain::flags::{ChildHistory, Flag, Happening, HappeningKind};
use domain::ids::{PersonId, ReferralId, StaffId, TeamId};
use domain::practice::ThresholdOutcome;
use domain::timer::TimerKind;
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// A timer that has fallen due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// Its row.
    pub id: i64,
    /// What for.
    pub kind: TimerKind,
    /// About what.
    pub subject: String,
    /// When it fell due.
    pub due_at: Timestamp,
    /// What it was set for.
    pub token: i64,
}

/// What a batch of timers will read, to load in a few statements ([`crate::Reads::preload`]).
#[derive(Debug, Clone, Default)]
pub struct Preload {
    /// Referrals (locked).
    pub referrals: Vec<ReferralId>,
    /// Children whose open case is read.
    pub children: Vec<PersonId>,
    /// Subjects whose open escalations are read (locked).
    pub subjects: Vec<Subject>,
    /// Escalations (locked).
    pub escalations: Vec<EscalationId>,
}

// What the reaction rules read, defined with them in the domain.
pub use domain::reactions::{CaseTimes, LatestThreshold};

fn escalation_from_row(r: &AnyRow) -> Result<Escalation, StoreError> {
    let subject: String = r.try_get("subject")?;
    Ok(Escalation {
        id: EscalationId(r.try_get("id")?),
        trigger: code("escalations", &r.try_get::<String, _>("trigger")?, Trigger::parse)?,
        subject: Subject::parse_key(&subject)
            .ok_or(StoreError::Corrupt { table: "escalations", detail: format!("subject {subject:?}") })?,
        team: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        level: u8::try_from(r.try_get::<i64, _>("level")?).unwrap_or(u8::MAX),
        assignee: StaffId(r.try_get("assignee_id")?),
        state: code("escalations", &r.try_get::<String, _>("state")?, EscalationState::parse)?,
        level_reached_at: from_micros(r.try_get("level_reached_at")?),
        welfare_check_requested: r.try_get::<i64, _>("welfare_check_requested")? != 0,
    })
}

const ESC_COLUMNS: &str =
    "id, trigger, subject, team_id, level, assignee_id, state, level_reached_at, welfare_check_requested";

impl Reads {
    /// The open (unresolved) escalation for a trigger and subject, locked.
    pub async fn open_escalation(
        &mut self,
        trigger: Trigger,
        subject: &Subject,
    ) -> Result<Option<Escalation>, StoreError> {
        let key = (trigger.code(), subject.key());
        if let Some(known) = self.memo.open.get(&key) {
            return Ok(known.and_then(|id| self.memo.escalations.get(&id).cloned()));
        }
        if self.memo.subjects_loaded.contains(&key.1) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {ESC_COLUMNS} FROM escalations WHERE trigger = $1 AND subject = $2 AND state <> 'resolved'{}",
            self.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(trigger.code())
            .bind(key.1.clone())
            .fetch_optional(self.db().await?)
            .await?;
        let found = row.as_ref().map(escalation_from_row).transpose()?;
        self.remember(found.iter().cloned());
        self.memo.open.insert(key, found.as_ref().map(|e| e.id));
        Ok(found)
    }

    /// Remembers escalations read (locked) in this transaction.
    fn remember(&mut self, found: impl IntoIterator<Item = Escalation>) {
        for e in found {
            if e.state != EscalationState::Resolved {
                self.memo.open.insert((e.trigger.code(), e.subject.key()), Some(e.id));
            }
            self.memo.escalations.insert(e.id, e);
        }
    }

    /// Loads (and locks) every open escalation about each of `subjects`, and the
    /// escalations `ids`, in two statements, for what follows to read.
    pub(crate) async fn load_escalations(
        &mut self,
        subjects: &[Subject],
        ids: &[EscalationId],
    ) -> Result<(), StoreError> {
        if !subjects.is_empty() {
            let sql = format!(
                "SELECT {ESC_COLUMNS} FROM escalations WHERE subject IN ({}) AND state <> 'resolved' ORDER BY id{}",
                crate::load::placeholders(1, subjects.len()),
                self.for_update()
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in subjects {
                q = q.bind(s.key());
            }
            let rows = q.fetch_all(self.db().await?).await?;
            let found = rows.iter().map(escalation_from_row).collect::<Result<Vec<_>, _>>()?;
            self.remember(found);
            self.memo.subjects_loaded.extend(subjects.iter().map(Subject::key));
        }
        let ids: Vec<EscalationId> = ids.iter().filter(|id| !self.memo.escalations.contains_key(id)).copied().collect();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT {ESC_COLUMNS} FROM escalations WHERE id IN ({}) ORDER BY id{}",
                crate::load::placeholders(1, ids.len()),
                self.for_update()
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in &ids {
                q = q.bind(id.0);
            }
            let rows = q.fetch_all(self.db().await?).await?;
            let found = rows.iter().map(escalation_from_row).collect::<Result<Vec<_>, _>>()?;
            self.remember(found);
        }
        Ok(())
    }

    /// Every open escalation about a subject, locked.
    pub async fn open_escalations_about(&mut self, subject: &Subject) -> Result<Vec<Escalation>, StoreError> {
        let sql = format!(
            "SELECT {ESC_COLUMNS} FROM escalations WHERE subject = $1 AND state <> 'resolved' ORDER BY id{}",
            self.for_update()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(subject.key()).fetch_all(self.db().await?).await?;
        rows.iter().map(escalation_from_row).collect()
    }

    /// One escalation, locked.
    pub async fn escalation(&mut self, id: EscalationId) -> Result<Option<Escalation>, StoreError> {
        if let Some(e) = self.memo.escalations.get(&id) {
            return Ok(Some(e.clone()));
        }
        let sql = format!("SELECT {ESC_COLUMNS} FROM escalations WHERE id = $1{}", self.for_update());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(self.db().await?).await?;
        let found = row.as_ref().map(escalation_from_row).transpose()?;
        self.remember(found.iter().cloned());
        Ok(found)
    }

    /// The people who hold each level for a team; level 4 is the longest-serving
    /// active director.
    pub async fn line_for(&mut self, team: Option<TeamId>) -> Result<Line, StoreError> {
        if let Some(line) = self.memo.lines.get(&team.map(|t| t.0)) {
            return Ok(line.clone());
        }
        let mut line = Line::default();
        if let Some(t) = team
            && let Some(r) =
                sqlx::query("SELECT team_manager_id, service_manager_id, head_of_service_id FROM teams WHERE id = $1")
                    .bind(t.0)
                    .fetch_optional(self.db().await?)
                    .await?
        {
            line.levels[0] = r.try_get::<Option<i64>, _>("team_manager_id")?.map(StaffId);
            line.levels[1] = r.try_get::<Option<i64>, _>("service_manager_id")?.map(StaffId);
            line.levels[2] = r.try_get::<Option<i64>, _>("head_of_service_id")?.map(StaffId);
        }
        line.levels[3] = sqlx::query("SELECT id FROM staff WHERE role = 'director' AND active = 1 ORDER BY id LIMIT 1")
            .fetch_optional(self.db().await?)
            .await?
            .map(|r| r.try_get::<i64, _>("id").map(StaffId))
            .transpose()?;
        self.memo.lines.insert(team.map(|t| t.0), line.clone());
        Ok(line)
    }

    /// Absence, deputy and unacknowledged load of each person in `people` and of their
    /// deputies. Loads are counted up to `count_up_to` (routing only needs to know whether
    /// someone is over the threshold, and a person may hold thousands).
    pub async fn staff_statuses(
        &mut self,
        people: &[StaffId],
        now: Timestamp,
        count_up_to: i64,
    ) -> Result<BTreeMap<StaffId, StaffStatus>, StoreError> {
        if let Some(known) = self.remembered_statuses(people, now, count_up_to) {
            return Ok(known);
        }
        let mut out = BTreeMap::new();
        let mut wanted: Vec<StaffId> = people.to_vec();
        // Two rounds at most: the people, then any deputies not among them.
        for _ in 0..2 {
            wanted.retain(|p| !out.contains_key(p));
            wanted.sort();
            wanted.dedup();
            if wanted.is_empty() {
                break;
            }
            let placeholders: Vec<String> = (0..wanted.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT s.id, s.absent_until, s.deputy_id, s.active,
                        CAST((SELECT COUNT(*) FROM (SELECT 1 FROM escalations e WHERE e.assignee_id = s.id AND e.state = 'open' LIMIT $1) x) AS BIGINT) AS unacked
                   FROM staff s WHERE s.id IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(count_up_to);
            for p in &wanted {
                q = q.bind(p.0);
            }
            let rows = q.fetch_all(self.db().await?).await?;
            let mut deputies = vec![];
            for r in rows {
                let absent_until: Option<i64> = r.try_get("absent_until")?;
                let deputy = r.try_get::<Option<i64>, _>("deputy_id")?.map(StaffId);
                deputies.extend(deputy);
                out.insert(
                    StaffId(r.try_get("id")?),
                    StaffStatus {
                        // A deactivated account counts as away.
                        absent: absent_until.is_some_and(|u| u > to_micros(now)) || r.try_get::<i64, _>("active")? == 0,
                        deputy,
                        open_unacknowledged: u32::try_from(r.try_get::<i64, _>("unacked")?).unwrap_or(u32::MAX),
                    },
                );
            }
            wanted = deputies;
        }
        if self.memo.staff.read_as != Some((now, count_up_to)) {
            self.memo.staff = crate::memo::StaffMemo { read_as: Some((now, count_up_to)), ..Default::default() };
        }
        self.memo.staff.status.extend(out.iter().map(|(id, s)| (*id, *s)));
        Ok(out)
    }

    /// The statuses of `people` and their deputies, if all are remembered as read with
    /// the same `now` and bound.
    fn remembered_statuses(
        &self,
        people: &[StaffId],
        now: Timestamp,
        count_up_to: i64,
    ) -> Option<BTreeMap<StaffId, StaffStatus>> {
        let memo = &self.memo.staff;
        if memo.read_as != Some((now, count_up_to)) {
            return None;
        }
        let mut out = BTreeMap::new();
        for p in people {
            let s = memo.status.get(p)?;
            if let Some(d) = s.deputy {
                out.insert(d, *memo.status.get(&d)?);
            }
            out.insert(*p, *s);
        }
        Some(out)
    }

    /// The moments a child's open case counts from, if the child has an open case.
    pub async fn case_times(&mut self, child: PersonId) -> Result<Option<CaseTimes>, StoreError> {
        Ok(self.open_case(child).await?.map(|c| c.times))
    }

    async fn open_case(&mut self, child: PersonId) -> Result<Option<OpenCase>, StoreError> {
        if !self.memo.cases.contains_key(&child) {
            self.load_open_cases(&[child]).await?;
        }
        Ok(self.memo.cases.get(&child).cloned().flatten())
    }

    /// Loads the open cases of several children in one statement, for what follows to read.
    pub(crate) async fn load_open_cases(&mut self, children: &[PersonId]) -> Result<(), StoreError> {
        if children.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT c.person_id, c.team_id, c.worker_id, c.stage, c.plan_started_at, c.assessment_completed_at,
                    c.s47_started_at, c.icpc_at, c.last_review_conference_at, c.last_seen_at, c.last_visit_at, r.received_at
               FROM cases c JOIN referrals r ON r.id = c.referral_id
              WHERE c.person_id IN ({}) AND c.closed_at IS NULL",
            crate::load::placeholders(1, children.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in children {
            q = q.bind(c.0);
        }
        let rows = q.fetch_all(self.db().await?).await?;
        for c in children {
            self.memo.cases.insert(*c, None);
        }
        for r in rows {
            let t = |c: &str| -> Result<Option<Timestamp>, StoreError> {
                Ok(r.try_get::<Option<i64>, _>(c)?.map(from_micros))
            };
            let case = OpenCase {
                team: TeamId(r.try_get("team_id")?),
                worker: r.try_get::<Option<i64>, _>("worker_id")?.map(StaffId),
                stage: r.try_get("stage")?,
                times: CaseTimes {
                    plan_started_at: t("plan_started_at")?,
                    assessment_completed_at: t("assessment_completed_at")?,
                    s47_started_at: t("s47_started_at")?,
                    icpc_at: t("icpc_at")?,
                    last_review_conference_at: t("last_review_conference_at")?,
                    last_seen_at: t("last_seen_at")?,
                    last_visit_at: t("last_visit_at")?,
                    referral_received_at: t("received_at")?,
                },
            };
            self.memo.cases.insert(PersonId(r.try_get("person_id")?), Some(case));
        }
        Ok(())
    }

    /// Everything the flag rules count for a child, in one round trip.
    pub async fn child_history(&mut self, child: PersonId) -> Result<ChildHistory, StoreError> {
        let rows = sqlx::query(
            "SELECT 'referral' AS k, r.id AS id, r.received_at AS at, r.source AS detail, 0 AS coop
               FROM referral_children rc JOIN referrals r ON r.id = rc.referral_id WHERE rc.person_id = $1
             UNION ALL SELECT 'concern', id, received_at, source, 0 FROM concerns WHERE person_id = $1
             UNION ALL SELECT 'visit', id, visited_at, outcome, 0 FROM visits WHERE person_id = $1
             UNION ALL SELECT 'threshold', id, decided_at, outcome, cooperation_noted FROM threshold_decisions WHERE person_id = $1
             UNION ALL SELECT 'cp', id, plan_started_at, stage, 0 FROM cases
                        WHERE person_id = $1 AND closed_at IS NULL AND stage = 'cp' AND plan_started_at IS NOT NULL",
        )
        .bind(child.0)
        .fetch_all(self.db().await?)
        .await?;
        let mut history = ChildHistory::default();
        for r in rows {
            let kind: String = r.try_get("k")?;
            let id: i64 = r.try_get("id")?;
            let at = from_micros(r.try_get("at")?);
            let detail: String = r.try_get("detail")?;
            let happening = match kind.as_str() {
                "referral" => {
                    Happening { at, what: format!("Referral R-{id} from {detail}"), kind: HappeningKind::Referral }
                }
                "concern" => {
                    Happening { at, what: format!("Concern {id} from {detail}"), kind: HappeningKind::Concern }
                }
                "visit" => {
                    let outcome = code("visits", &detail, VisitOutcome::parse)?;
                    Happening {
                        at,
                        what: format!("Visit V-{id}: {}", outcome.label().to_lowercase()),
                        kind: HappeningKind::Visit(outcome),
                    }
                }
                "threshold" => {
                    let cooperation_noted = r.try_get::<i64, _>("coop")? != 0;
                    Happening {
                        at,
                        what: format!(
                            "Threshold decision {id} ({}{})",
                            detail.replace('_', " "),
                            if cooperation_noted { ", cooperation noted" } else { "" }
                        ),
                        kind: HappeningKind::ThresholdDecision { cooperation_noted },
                    }
                }
                _ => {
                    history.cp_plan_since = Some(at);
                    continue;
                }
            };
            history.happenings.push(happening);
        }
        Ok(history)
    }

    /// The flags currently raised on a child.
    pub async fn raised_flags(&mut self, child: PersonId) -> Result<Vec<Flag>, StoreError> {
        sqlx::query("SELECT flag FROM flags WHERE person_id = $1 AND cleared_at IS NULL ORDER BY flag")
            .bind(child.0)
            .fetch_all(self.db().await?)
            .await?
            .iter()
            .map(|r| code("flags", &r.try_get::<String, _>("flag")?, Flag::parse))
            .collect()
    }

    /// The latest threshold decision about a child, if any.
    pub async fn latest_threshold(&mut self, child: PersonId) -> Result<Option<LatestThreshold>, StoreError> {
        let row = sqlx::query(
            "SELECT id, outcome, reason, decided_at FROM threshold_decisions WHERE person_id = $1 ORDER BY decided_at DESC, id DESC LIMIT 1",
        )
        .bind(child.0)
        .fetch_optional(self.db().await?)
        .await?;
        row.map(|r| {
            Ok(LatestThreshold {
                id: r.try_get("id")?,
                outcome: code("threshold_decisions", &r.try_get::<String, _>("outcome")?, ThresholdOutcome::parse)?,
                reason: r.try_get("reason")?,
                decided_at: from_micros(r.try_get("decided_at")?),
            })
        })
        .transpose()
    }

    /// The escalation policy in force (version and JSON), if one has been stored.
    pub async fn current_policy(&mut self) -> Result<Option<(i64, String)>, StoreError> {
        if let Some(p) = &self.memo.policy {
            return Ok(p.clone());
        }
        let row = sqlx::query("SELECT version, body FROM policies ORDER BY version DESC LIMIT 1")
            .fetch_optional(self.db().await?)
            .await?;
        let p = row.map(|r| Ok::<_, StoreError>((r.try_get("version")?, r.try_get("body")?))).transpose()?;
        self.memo.policy = Some(p.clone());
        Ok(p)
    }

    /// Claims up to `limit` timers due at or before `now`, earliest first. On PostgreSQL
    /// rows another process has claimed are skipped, so sweepers share the work; on SQLite
    /// the transaction's write lock does the same.
    pub async fn claim_due_timers(&mut self, now: Timestamp, limit: i64) -> Result<Vec<DueTimer>, StoreError> {
        let lock = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let sql = format!(
            "SELECT id, kind, subject, due_at, token FROM timers WHERE state = 'scheduled' AND due_at <= $1 ORDER BY due_at, id LIMIT $2{lock}"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_micros(now)).bind(limit).fetch_all(self.db().await?).await?;
        rows.iter()
            .map(|r| {
                Ok(DueTimer {
                    id: r.try_get("id")?,
                    kind: code("timers", &r.try_get::<String, _>("kind")?, TimerKind::parse)?,
                    subject: r.try_get("subject")?,
                    due_at: from_micros(r.try_get("due_at")?),
                    token: r.try_get("token")?,
                })
            })
            .collect()
    }

    /// Loads, in a few statements, what firing a batch of timers will read: the
    /// referrals, the children's open cases, the open escalations about the subjects and
    /// the escalations the timers are for. What is not loaded is read when needed.
    pub async fn preload(&mut self, batch: &Preload) -> Result<(), StoreError> {
        self.load_referrals(&batch.referrals).await?;
        self.load_escalations(&batch.subjects, &batch.escalations).await?;
        // The children the escalations are about, too: routing reads their cases.
        let mut children = batch.children.clone();
        children.extend(batch.escalations.iter().filter_map(|id| match self.memo.escalations.get(id)?.subject {
            Subject::Child(c) => Some(c),
            _ => None,
        }));
        children.sort();
        children.dedup();
        children.retain(|c| !self.memo.cases.contains_key(c));
        self.load_open_cases(&children).await
    }

    /// Whether the police have been asked to check on a child since `since`.
    pub async fn welfare_check_requested(&mut self, child: PersonId, since: Timestamp) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT person_id FROM welfare_checks WHERE person_id = $1 AND requested_at >= $2 LIMIT 1")
            .bind(child.0)
            .bind(to_micros(since))
            .fetch_optional(self.db().await?)
            .await?
            .is_some())
    }

    /// The worker's weighted load and their cap (the policy's, scaled by FTE, and smaller
    /// in their first year after qualifying).
    pub async fn worker_load(
        &mut self,
        worker: StaffId,
        policy: &domain::escalation::Policy,
        today: jiff::civil::Date,
    ) -> Result<Option<(f64, f64)>, StoreError> {
        let Some((fte, per_fte)) = self.worker_standing(worker, policy, today).await? else { return Ok(None) };
        Ok(Some((self.weighted_load(worker, &policy.caseload_weights).await?, per_fte * fte)))
    }

    /// The child's open case's team and worker, if the child has an open case.
    pub async fn child_team_and_worker(
        &mut self,
        child: PersonId,
    ) -> Result<Option<(TeamId, Option<StaffId>, String)>, StoreError> {
        Ok(self.open_case(child).await?.map(|c| (c.team, c.worker, c.stage)))
    }

    /// The team of the latest referral about a child: who answers for a child with no open
    /// case (after a "threshold not met" decision, say). Cases open from referrals and do
    /// not change team, so no case is more recent than this.
    pub async fn child_last_team(&mut self, child: PersonId) -> Result<Option<TeamId>, StoreError> {
        let row = sqlx::query(
            "SELECT r.team_id FROM referral_children rc JOIN referrals r ON r.id = rc.referral_id
              WHERE rc.person_id = $1 ORDER BY r.received_at DESC, r.id DESC LIMIT 1",
        )
        .bind(child.0)
        .fetch_optional(self.db().await?)
        .await?;
        row.map(|r| Ok(TeamId(r.try_get("team_id")?))).transpose()
    }

    /// The team a worker belongs to.
    pub async fn staff_team(&mut self, staff: StaffId) -> Result<Option<TeamId>, StoreError> {
        let row = sqlx::query("SELECT team_id FROM staff WHERE id = $1")
            .bind(staff.0)
            .fetch_optional(self.db().await?)
            .await?;
        Ok(row.and_then(|r| r.try_get::<Option<i64>, _>("team_id").ok().flatten()).map(TeamId))
    }
}

impl Tx {
    /// Marks claimed timers as handled: deadlines stay outstanding (`fired`, i.e.
    /// overdue) until met; everything else is `done`. One statement for each.
    pub async fn mark_fired(&mut self, timers: &[DueTimer], now: Timestamp) -> Result<(), StoreError> {
        let (deadlines, others): (Vec<&DueTimer>, Vec<&DueTimer>) = timers.iter().partition(|t| t.kind.is_deadline());
        for (state, group) in [("fired", deadlines), ("done", others)] {
            if group.is_empty() {
                continue;
            }
            let sql = format!(
                "UPDATE timers SET state = $1, updated_at = $2 WHERE state = 'scheduled' AND id IN ({})",
                crate::load::placeholders(3, group.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(state).bind(to_micros(now));
            for t in group {
                q = q.bind(t.id);
            }
            q.execute(self.db().await?).await?;
        }
        Ok(())
    }

    /// Sets a timer aside after it failed on its own; it stays visible for operators.
    pub async fn set_timer_failed(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE timers SET state = 'failed', updated_at = $2 WHERE id = $1 AND state = 'scheduled'")
            .bind(id)
            .bind(to_micros(now))
            .execute(self.db().await?)
            .await?;
        Ok(())
    }
}
