-- Escalation: statutory steps, timers, escalations, inbox, flags, policy versions.
-- Keep in step with ../postgres/0002_escalation.sql.

ALTER TABLE cases ADD COLUMN plan_started_at INTEGER;
ALTER TABLE cases ADD COLUMN plan_category TEXT;
ALTER TABLE cases ADD COLUMN assessment_completed_at INTEGER;
ALTER TABLE cases ADD COLUMN s47_started_at INTEGER;
ALTER TABLE cases ADD COLUMN icpc_at INTEGER;
ALTER TABLE cases ADD COLUMN last_review_conference_at INTEGER;

CREATE TABLE strategy_discussions (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    s47 INTEGER NOT NULL,
    held_at INTEGER NOT NULL,
    by_staff_id INTEGER NOT NULL REFERENCES staff (id)
);
CREATE INDEX strategy_discussions_person ON strategy_discussions (person_id, held_at);

CREATE TABLE conferences (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    held_at INTEGER NOT NULL,
    by_staff_id INTEGER NOT NULL REFERENCES staff (id)
);
CREATE INDEX conferences_person ON conferences (person_id, held_at);

CREATE TABLE threshold_decisions (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id),
    forum TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    cooperation_noted INTEGER NOT NULL,
    review_by TEXT,
    by_staff_id INTEGER NOT NULL REFERENCES staff (id),
    decided_at INTEGER NOT NULL
);
CREATE INDEX threshold_decisions_person ON threshold_decisions (person_id, decided_at);

CREATE TABLE concerns (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id),
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    categories TEXT NOT NULL,
    by_staff_id INTEGER NOT NULL REFERENCES staff (id),
    received_at INTEGER NOT NULL
);
CREATE INDEX concerns_person ON concerns (person_id, received_at);

-- A timer is outstanding until 'done'. Deadlines stay 'fired' (overdue) until met.
CREATE TABLE timers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    token INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX timers_outstanding ON timers (kind, subject) WHERE state <> 'done';
CREATE INDEX timers_due ON timers (due_at, id) WHERE state = 'scheduled';
CREATE INDEX timers_subject ON timers (subject) WHERE state <> 'done';

CREATE TABLE escalations (
    id INTEGER PRIMARY KEY,
    trigger TEXT NOT NULL,
    subject TEXT NOT NULL,
    team_id INTEGER REFERENCES teams (id),
    level INTEGER NOT NULL,
    assignee_id INTEGER NOT NULL REFERENCES staff (id),
    state TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    level_reached_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by INTEGER REFERENCES staff (id),
    resolved_at INTEGER,
    resolved_by INTEGER REFERENCES staff (id),
    resolution TEXT,
    action TEXT,
    welfare_check_requested INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX escalations_one_open ON escalations (trigger, subject) WHERE state <> 'resolved';
CREATE INDEX escalations_assignee ON escalations (assignee_id, state);
CREATE INDEX escalations_subject ON escalations (subject, state);

CREATE TABLE escalation_history (
    escalation_id INTEGER NOT NULL REFERENCES escalations (id),
    at INTEGER NOT NULL,
    what TEXT NOT NULL,
    level INTEGER,
    assignee_id INTEGER REFERENCES staff (id),
    reason TEXT,
    routed_from INTEGER REFERENCES staff (id),
    by_staff_id INTEGER REFERENCES staff (id),
    note TEXT
);
CREATE INDEX escalation_history_escalation ON escalation_history (escalation_id, at);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    escalation_id INTEGER REFERENCES escalations (id),
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_staff ON notifications (staff_id, created_at);

CREATE TABLE welfare_checks (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id),
    escalation_id INTEGER NOT NULL REFERENCES escalations (id),
    agency TEXT NOT NULL,
    requested_at INTEGER NOT NULL
);
CREATE INDEX welfare_checks_person ON welfare_checks (person_id);

CREATE TABLE flags (
    person_id INTEGER NOT NULL REFERENCES people (id),
    flag TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    cleared_at INTEGER
);
CREATE UNIQUE INDEX flags_one_open ON flags (person_id, flag) WHERE cleared_at IS NULL;

CREATE TABLE policies (
    version INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
