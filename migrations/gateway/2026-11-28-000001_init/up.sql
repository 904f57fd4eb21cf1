-- Events written in the same transaction as the change; the relay publishes them.
CREATE TABLE gateway.outbox (
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
CREATE INDEX outbox_pending ON gateway.outbox (next_attempt_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON gateway.outbox (sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE gateway.organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    parent_id BIGINT REFERENCES gateway.organizations (id),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE gateway.users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_platform_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE gateway.memberships (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES gateway.users (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL REFERENCES gateway.organizations (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, organization_id)
);

CREATE TABLE gateway.api_keys (
    id BIGSERIAL PRIMARY KEY,
    -- The public key id embedded in the key; the lookup index.
    prefix TEXT NOT NULL UNIQUE,
    -- HMAC-SHA256 of the whole key under the server pepper of pepper_version.
    key_hash BYTEA NOT NULL,
    pepper_version INTEGER NOT NULL,
    name TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES gateway.users (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL REFERENCES gateway.organizations (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at TIMESTAMPTZ,
    rate_limit_per_minute INTEGER,
    rate_limit_burst INTEGER,
    last_used_at TIMESTAMPTZ,
    last_used_ip TEXT,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
