-- Professional disagreements raised by partner agencies about decisions.
-- Keep in step with ../sqlite/0003_disagreements.sql.

CREATE TABLE disagreements (
    id BIGINT PRIMARY KEY,
    referral_id BIGINT NOT NULL REFERENCES referrals (id),
    team_id BIGINT NOT NULL REFERENCES teams (id),
    raised_by BIGINT NOT NULL REFERENCES staff (id),
    body TEXT NOT NULL,
    raised_at BIGINT NOT NULL
);
CREATE INDEX disagreements_raised_by ON disagreements (raised_by, raised_at);
