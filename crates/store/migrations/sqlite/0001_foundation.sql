-- Foundation: the trail, staff and teams, people, referrals, cases, visits, notes.
-- Times are microseconds since the Unix epoch (UTC); dates are ISO text (YYYY-MM-DD).
-- Keep in step with ../postgres/0001_foundation.sql.

CREATE TABLE id_counters (
    kind TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    entry TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    team_manager_id INTEGER,
    service_manager_id INTEGER,
    head_of_service_id INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT,
    team_id INTEGER REFERENCES teams (id),
    fte REAL NOT NULL,
    deputy_id INTEGER REFERENCES staff (id),
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    absent_until INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX staff_team ON staff (team_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_staff ON sessions (staff_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    dob TEXT,
    dob_precision TEXT NOT NULL,
    sex TEXT NOT NULL,
    nhs_number TEXT,
    upn TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX people_name ON people (family_name, given_name);
CREATE INDEX people_nhs_number ON people (nhs_number);

CREATE TABLE person_aliases (
    person_id INTEGER NOT NULL REFERENCES people (id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX person_aliases_person ON person_aliases (person_id);

CREATE TABLE person_addresses (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id),
    line TEXT NOT NULL,
    town TEXT,
    postcode TEXT,
    from_date TEXT,
    to_date TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX person_addresses_person ON person_addresses (person_id);

CREATE TABLE relationships (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id),
    related_person_id INTEGER NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX relationships_person ON relationships (person_id);
CREATE INDEX relationships_related ON relationships (related_person_id);

CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams (id),
    source TEXT NOT NULL,
    referrer TEXT,
    recorded_by INTEGER NOT NULL REFERENCES staff (id),
    received_at INTEGER NOT NULL,
    concern TEXT NOT NULL,
    categories TEXT NOT NULL,
    decision TEXT,
    decision_reason TEXT,
    decided_by INTEGER REFERENCES staff (id),
    decided_at INTEGER
);
CREATE INDEX referrals_team_received ON referrals (team_id, received_at);
CREATE INDEX referrals_recorded_by ON referrals (recorded_by, received_at);

CREATE TABLE referral_children (
    referral_id INTEGER NOT NULL REFERENCES referrals (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    case_id INTEGER,
    PRIMARY KEY (referral_id, person_id)
);
CREATE INDEX referral_children_person ON referral_children (person_id);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id),
    team_id INTEGER NOT NULL REFERENCES teams (id),
    referral_id INTEGER NOT NULL REFERENCES referrals (id),
    stage TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    closure_reason TEXT,
    worker_id INTEGER REFERENCES staff (id),
    allocated_at INTEGER,
    last_visit_at INTEGER,
    last_seen_at INTEGER,
    last_seen_alone_at INTEGER
);
CREATE UNIQUE INDEX cases_one_open_per_child ON cases (person_id) WHERE closed_at IS NULL;
CREATE INDEX cases_worker ON cases (worker_id) WHERE closed_at IS NULL;
CREATE INDEX cases_team_open ON cases (team_id) WHERE closed_at IS NULL;

CREATE TABLE case_stages (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    stage TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    category TEXT
);
CREATE INDEX case_stages_case ON case_stages (case_id, started_at);

CREATE TABLE allocations (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    worker_id INTEGER NOT NULL REFERENCES staff (id),
    from_at INTEGER NOT NULL,
    to_at INTEGER,
    allocated_by INTEGER NOT NULL REFERENCES staff (id),
    override_reason TEXT
);
CREATE INDEX allocations_case ON allocations (case_id, from_at);
CREATE INDEX allocations_worker ON allocations (worker_id, from_at);

CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    by_staff_id INTEGER NOT NULL REFERENCES staff (id),
    visited_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    note TEXT,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX visits_person ON visits (person_id, visited_at);
CREATE INDEX visits_case ON visits (case_id, visited_at);

CREATE TABLE case_notes (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    author_id INTEGER NOT NULL REFERENCES staff (id),
    written_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX case_notes_person ON case_notes (person_id, written_at);
