-- People recorded more than once: the pairs the matching engine found, and what a
-- manager decided about each. A merge moves the duplicate's records onto the person
-- kept and remembers exactly what it moved (moved, JSON), so an unmerge puts back
-- exactly that. The duplicate's own row stays, pointing at the person kept.
-- Keep in step with ../postgres/0009_duplicates.sql.

ALTER TABLE people ADD COLUMN merged_into INTEGER REFERENCES people (id);

CREATE TABLE duplicate_pairs (
    id INTEGER PRIMARY KEY,
    -- The lower id first, so a pair is found once whichever way round.
    person_a INTEGER NOT NULL REFERENCES people (id),
    person_b INTEGER NOT NULL REFERENCES people (id),
    probability REAL NOT NULL,
    evidence TEXT NOT NULL,
    found_at INTEGER NOT NULL,
    -- open, merged or distinct ("not the same person").
    state TEXT NOT NULL,
    decided_by INTEGER REFERENCES staff (id),
    decided_at INTEGER,
    kept_id INTEGER REFERENCES people (id),
    moved TEXT
);
CREATE UNIQUE INDEX duplicate_pairs_pair ON duplicate_pairs (person_a, person_b);
CREATE INDEX duplicate_pairs_state ON duplicate_pairs (state, probability);
