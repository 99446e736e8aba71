-- An audit entry is appended by one statement: an insert into audit_append, whose
-- trigger refuses an entry that does not follow the head (its seq and prev_hash, with
-- the tree up to date), then
-- writes the entry and moves the head onto it. The store remembers the head it last
-- committed and appends after it without reading it first; when another process has
-- appended since, this refusal tells it to read the head and try again. The database
-- itself so refuses an entry that would fork the chain.
-- frontier is the tree's right edge after the entry (NULL leaves the head's as it is:
-- a statement appending several entries gives it with the last).
-- PostgreSQL appends with one statement too (an update of the head guarded the same
-- way, and the insert, in one WITH), so ../postgres/0011_audit_append.sql is empty.

CREATE VIEW audit_append AS
SELECT seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes, NULL AS frontier
FROM audit_log WHERE 0;

CREATE TRIGGER audit_append_chains INSTEAD OF INSERT ON audit_append
BEGIN
    SELECT RAISE(ABORT, 'audit entry does not follow the head')
    FROM audit_head WHERE id = 1 AND (seq <> NEW.seq - 1 OR hash <> NEW.prev_hash OR tree_size <> seq);
    INSERT INTO audit_log (seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes)
    VALUES (NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.subject, NEW.entry, NEW.prev_hash, NEW.hash,
            NEW.leaf_hash, NEW.nodes);
    UPDATE audit_head
    SET seq = NEW.seq, hash = NEW.hash, tree_size = NEW.seq, frontier = coalesce(NEW.frontier, frontier)
    WHERE id = 1;
END;

-- Nothing reads the trail by actor, and each index on it costs every command a page
-- written at commit.
DROP INDEX audit_log_actor;
