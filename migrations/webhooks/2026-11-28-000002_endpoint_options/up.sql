-- Endpoint options, secret rotation with a grace period, and automatic disabling.
ALTER TABLE webhooks.endpoints
    ADD COLUMN description TEXT NOT NULL DEFAULT '',
    ADD COLUMN custom_headers JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN previous_secret TEXT,
    ADD COLUMN previous_secret_expires_at TIMESTAMPTZ,
    ADD COLUMN disabled_reason TEXT,
    -- Start of the current run of failures; cleared by any success.
    ADD COLUMN failing_since TIMESTAMPTZ;

CREATE INDEX deliveries_endpoint ON webhooks.deliveries (endpoint_id, id);
