-- Local copy of organization names, fed by organization.created/updated.
CREATE TABLE webhooks.organizations (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ids of consumed events, written in the same transaction as their effect.
CREATE TABLE webhooks.inbox (
    event_id UUID PRIMARY KEY,
    event_type TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE webhooks.endpoints (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT[] NOT NULL,
    secret TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_organization ON webhooks.endpoints (organization_id, id);

-- One row per (endpoint, event): the unit that is sent, retried and logged.
CREATE TABLE webhooks.deliveries (
    id BIGSERIAL PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES webhooks.endpoints (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL,
    event_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    -- The Standard Webhooks message id: stable across retries.
    message_id TEXT NOT NULL,
    -- The exact JSON body, so every attempt signs and sends the same bytes.
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempt_count INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX deliveries_due ON webhooks.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_organization ON webhooks.deliveries (organization_id, id);

CREATE TABLE webhooks.attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhooks.deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    response_status INTEGER,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    response_body TEXT
);
CREATE INDEX attempts_delivery ON webhooks.attempts (delivery_id, id);
