-- The trail as an RFC 6962 Merkle tree, beside its hash chain (see crates/audit).
-- Each entry's row also holds its leaf hash and the hashes of the perfect subtrees its
-- append completed (levels 1, 2, … in order, hex, concatenated): the node at level L
-- over leaves [i·2^L, (i+1)·2^L) is completed by entry (i+1)·2^L, so any node is read
-- from that entry's row by its primary key, and a proof reads about 2 log2(n) rows.
-- audit_head.frontier is the right edge of the tree of tree_size leaves (the hex of its
-- perfect subtrees' hashes, largest first), so an append reads no other row. The store
-- fills them in the command's own transaction; a log from before this migration is
-- brought up to date when it is opened.
-- audit_checkpoints keeps every signed tree head, as published.
-- Keep in step with ../postgres/0010_audit_tree.sql.

ALTER TABLE audit_log ADD COLUMN leaf_hash TEXT;
ALTER TABLE audit_log ADD COLUMN nodes TEXT;
ALTER TABLE audit_head ADD COLUMN tree_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN frontier TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    signed_at INTEGER NOT NULL,
    key_name TEXT NOT NULL,
    body TEXT NOT NULL
);
