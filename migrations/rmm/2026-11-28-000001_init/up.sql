-- Local copy of organization names, fed by organization.created/updated.
CREATE TABLE rmm.organizations (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ids of consumed events, written in the same transaction as their effect.
CREATE TABLE rmm.inbox (
    event_id UUID PRIMARY KEY,
    event_type TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Events written in the same transaction as the change; the relay publishes them.
CREATE TABLE rmm.outbox (
    id BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    payload BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error TEXT,
    sent_at TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON rmm.outbox (next_attempt_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON rmm.outbox (sent_at) WHERE sent_at IS NOT NULL;
