-- Professional disagreements raised by partner agencies about decisions.
-- Keep in step with ../postgres/0003_disagreements.sql.

CREATE TABLE disagreements (
    id INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals (id),
    team_id INTEGER NOT NULL REFERENCES teams (id),
    raised_by INTEGER NOT NULL REFERENCES staff (id),
    body TEXT NOT NULL,
    raised_at INTEGER NOT NULL
);
CREATE INDEX disagreements_raised_by ON disagreements (raised_by, raised_at);
