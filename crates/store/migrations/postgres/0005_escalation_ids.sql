-- Escalation ids from a sequence, not the id_counters row: several sweepers raise
-- escalations in bulk at once, and a counter row stays locked from a transaction's first
-- id to its commit, which would make them take turns. A sequence never blocks; the price
-- is that a rolled-back batch leaves a gap in the numbers (the audit log, not the
-- escalation numbers, is the complete record).
-- SQLite has one writer at a time and keeps using id_counters (../sqlite/0005_escalation_ids.sql).

CREATE SEQUENCE escalation_ids;
SELECT setval('escalation_ids', COALESCE((SELECT last_id FROM id_counters WHERE kind = 'escalation'), 0) + 1, false);
