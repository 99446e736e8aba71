-- PostgreSQL takes escalation ids from a sequence (see ../postgres/0005_escalation_ids.sql).
-- SQLite has one writer at a time and keeps using id_counters: nothing to change.

SELECT 1;
