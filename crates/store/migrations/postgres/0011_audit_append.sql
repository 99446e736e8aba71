-- Nothing on PostgreSQL: an audit entry is appended by one statement, a WITH that moves
-- the head only if it is still where the appending transaction believes (its seq and
-- hash), row-locking it, and inserts the entries only if it moved (see store::trail::append).
-- SQLite has no writes inside WITH; ../sqlite/0011_audit_append.sql gives it a view whose
-- trigger does the same.

-- Nothing reads the trail by actor, and each index on it costs every command a page
-- written at commit.
DROP INDEX audit_log_actor;
