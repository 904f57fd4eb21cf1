-- WAN monitors: what to check, their state, and when each is next due. Workers claim due
-- monitors with SKIP LOCKED and move next_check_at on by one interval in the same statement, so
-- no two replicas check a monitor in the same interval and nobody owns a monitor for longer.
CREATE TABLE monitor.monitors (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    monitor_type TEXT NOT NULL,
    url TEXT,
    host TEXT,
    port INTEGER,
    interval_seconds INTEGER NOT NULL DEFAULT 60,
    timeout_seconds INTEGER NOT NULL DEFAULT 10,
    failure_threshold INTEGER NOT NULL DEFAULT 3,
    success_threshold INTEGER NOT NULL DEFAULT 2,
    http_method TEXT NOT NULL DEFAULT 'GET',
    expected_status TEXT NOT NULL DEFAULT '200-399',
    keyword TEXT,
    follow_redirects BOOLEAN NOT NULL DEFAULT true,
    verify_tls BOOLEAN NOT NULL DEFAULT true,
    tls_warning_days INTEGER NOT NULL DEFAULT 14,
    is_paused BOOLEAN NOT NULL DEFAULT false,
    -- [{"start": "...", "end": "..."}] one-off, or {"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"} weekly (UTC)
    maintenance_windows JSONB NOT NULL DEFAULT '[]',
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- State, written by the worker.
    status TEXT NOT NULL DEFAULT 'pending',
    -- The last state announced by an event (up or down); events fire when the confirmed state
    -- differs from it outside pauses and maintenance.
    announced_status TEXT NOT NULL DEFAULT 'up',
    last_checked_at TIMESTAMPTZ,
    last_response_time_ms INTEGER,
    last_status_code INTEGER,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    consecutive_successes INTEGER NOT NULL DEFAULT 0,
    down_since TIMESTAMPTZ,
    tls_expires_at TIMESTAMPTZ,
    tls_issuer TEXT,
    tls_subject TEXT,
    tls_checked_at TIMESTAMPTZ,
    next_check_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX monitors_organization ON monitor.monitors (organization_id, id);
CREATE INDEX monitors_due ON monitor.monitors (next_check_at) WHERE NOT is_paused;

-- Raw results, kept MONITOR__RAW_RETENTION_DAYS (7).
CREATE TABLE monitor.checks (
    id BIGSERIAL PRIMARY KEY,
    monitor_id BIGINT NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL,
    ok BOOLEAN NOT NULL,
    response_time_ms INTEGER,
    status_code INTEGER,
    error TEXT,
    -- When it was due, for schedule lag.
    due_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX checks_monitor ON monitor.checks (monitor_id, checked_at DESC);
CREATE INDEX checks_time ON monitor.checks (checked_at);

-- Hourly and daily rollups, kept 90 days.
CREATE TABLE monitor.rollups (
    monitor_id BIGINT NOT NULL,
    granularity TEXT NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    checks INTEGER NOT NULL,
    ok_checks INTEGER NOT NULL,
    avg_response_time_ms INTEGER,
    PRIMARY KEY (monitor_id, granularity, bucket)
);
CREATE INDEX rollups_bucket ON monitor.rollups (granularity, bucket);
