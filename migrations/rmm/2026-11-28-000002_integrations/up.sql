-- Per-organization data keys sealing the platforms' credentials, wrapped by the master key
-- whose fingerprint is kept with them (the same scheme as vault.data_keys).
CREATE TABLE rmm.data_keys (
    organization_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    wrapped BYTEA NOT NULL,
    master_fingerprint TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, version)
);

CREATE TABLE rmm.integrations (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    provider TEXT NOT NULL,
    name TEXT NOT NULL,
    base_url TEXT,
    region TEXT,
    -- JSON object of the provider's credential fields, sealed; never returned.
    credentials_sealed BYTEA NOT NULL,
    sync_interval_minutes INTEGER NOT NULL DEFAULT 60,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    organization_mapping JSONB NOT NULL DEFAULT '{"mode": "single", "map": {}}',
    -- Organizations the mapping may place devices in, fixed by who configured it.
    mapping_scope BIGINT[] NOT NULL DEFAULT '{}',
    gps_extra_data_field TEXT,
    next_run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);
CREATE INDEX integrations_due ON rmm.integrations (next_run_at) WHERE enabled;

CREATE TABLE rmm.runs (
    id BIGSERIAL PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES rmm.integrations (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    trigger TEXT NOT NULL,
    pages_fetched INTEGER NOT NULL DEFAULT 0,
    devices_seen INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    retired INTEGER NOT NULL DEFAULT 0,
    errors JSONB NOT NULL DEFAULT '[]',
    requested_by BIGINT,
    traceparent TEXT,
    -- A running run whose lease has passed lost its worker and is queued again.
    lease_until TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- At most one queued or running run per integration, whichever replica asks.
CREATE UNIQUE INDEX runs_one_active ON rmm.runs (integration_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX runs_integration ON rmm.runs (integration_id, id DESC);
CREATE INDEX runs_queued ON rmm.runs (id) WHERE status = 'queued';

-- Devices as the platform last reported them, with the organization they map to.
CREATE TABLE rmm.devices (
    id BIGSERIAL PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES rmm.integrations (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    hostname TEXT,
    serial TEXT,
    manufacturer TEXT,
    model TEXT,
    os_name TEXT,
    os_version TEXT,
    firmware_version TEXT,
    ip_addresses TEXT[] NOT NULL DEFAULT '{}',
    mac_addresses TEXT[] NOT NULL DEFAULT '{}',
    online BOOLEAN,
    last_seen TIMESTAMPTZ,
    client_id TEXT,
    client_name TEXT,
    site_id TEXT,
    site_name TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    asset_type TEXT,
    audit_stamp TEXT,
    -- Digest of what is published about the device: unchanged devices publish nothing.
    fingerprint TEXT NOT NULL,
    removed_at TIMESTAMPTZ,
    synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (integration_id, external_id)
);

CREATE TABLE rmm.alerts (
    id BIGSERIAL PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES rmm.integrations (id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    device_external_id TEXT,
    device_name TEXT,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    alert_type TEXT,
    triggered_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (integration_id, external_id)
);
