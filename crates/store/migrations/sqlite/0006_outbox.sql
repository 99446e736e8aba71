-- Notifications that leave the building (email, webhooks) go through an outbox: a row
-- per notification and channel, written in the same transaction as the event, claimed
-- by delivery workers, and marked sent (or failed) with an audit entry.

ALTER TABLE staff ADD COLUMN email TEXT;
ALTER TABLE staff ADD COLUMN email_notifications INTEGER NOT NULL DEFAULT 1;

-- A partner agency's system that receives signed webhooks. The secret is never on the trail.
CREATE TABLE webhook_endpoints (
    agency TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    -- Sent with every try (Message-ID, Idempotency-Key), so a retry after a crash is
    -- recognisable downstream.
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    -- email: the member of staff and the address it was queued for; webhook: the agency.
    staff_id INTEGER REFERENCES staff (id),
    recipient TEXT NOT NULL,
    escalation_id INTEGER,
    case_id INTEGER,
    referral_id INTEGER,
    -- What the notification is (escalation, allocation, referral_outcome, welfare_check).
    kind TEXT NOT NULL,
    -- Webhooks: the JSON body, fixed when queued so every retry sends the same bytes.
    payload TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    failed_at INTEGER
);
-- The workers' queue: only undelivered rows, oldest due first.
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE state = 'pending';
CREATE INDEX deliveries_failed ON deliveries (failed_at) WHERE state = 'failed';

-- Jobs that must run on one process at a time (housekeeping) hold a lease.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
