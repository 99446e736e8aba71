-- Where /ready proves the database takes writes again after one was refused (full or
-- out of reach): a row large enough to need a new page is written and removed. It holds
-- no record and nothing reads it, so it is not on the trail.
CREATE TABLE write_probe (
    id BIGINT PRIMARY KEY,
    filler TEXT NOT NULL
);
