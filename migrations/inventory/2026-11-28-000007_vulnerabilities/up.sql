-- What an asset runs besides its OS and firmware, set by users, scripts or an RMM.
CREATE TABLE inventory.asset_software (
    id BIGSERIAL PRIMARY KEY,
    asset_id BIGINT NOT NULL REFERENCES inventory.assets (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    vendor TEXT,
    version TEXT,
    cpe TEXT
);
CREATE INDEX asset_software_asset ON inventory.asset_software (asset_id, position);

-- Assets whose findings must be computed again: new, their OS, firmware or software changed,
-- or the CVE data did. The matcher takes rows out in the transaction that writes the findings.
CREATE TABLE inventory.vulns_pending (
    asset_id BIGINT PRIMARY KEY REFERENCES inventory.assets (id) ON DELETE CASCADE
);
INSERT INTO inventory.vulns_pending SELECT id FROM inventory.assets;

CREATE FUNCTION inventory.assets_vulns_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory.vulns_pending (asset_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER assets_vulns_pending_insert
    AFTER INSERT ON inventory.assets
    FOR EACH ROW EXECUTE FUNCTION inventory.assets_vulns_pending();
CREATE TRIGGER assets_vulns_pending_update
    AFTER UPDATE OF manufacturer, model, os_name, os_version, firmware_version
    ON inventory.assets
    FOR EACH ROW
    WHEN (OLD.manufacturer IS DISTINCT FROM NEW.manufacturer
          OR OLD.model IS DISTINCT FROM NEW.model
          OR OLD.os_name IS DISTINCT FROM NEW.os_name
          OR OLD.os_version IS DISTINCT FROM NEW.os_version
          OR OLD.firmware_version IS DISTINCT FROM NEW.firmware_version)
    EXECUTE FUNCTION inventory.assets_vulns_pending();

-- CVEs from the NVD (or an imported file), shared by every organization.
CREATE TABLE inventory.cves (
    cve_id TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    published_at TIMESTAMPTZ,
    last_modified TIMESTAMPTZ,
    cvss_score DOUBLE PRECISION,
    severity TEXT,
    -- In CISA's Known Exploited Vulnerabilities catalogue (from the NVD record or the KEV feed).
    known_exploited BOOLEAN NOT NULL DEFAULT FALSE,
    rejected BOOLEAN NOT NULL DEFAULT FALSE,
    configurations JSONB NOT NULL DEFAULT '[]',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The (vendor, product) pairs of each CVE's vulnerable criteria: the matcher's prefilter.
CREATE TABLE inventory.cve_products (
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    cve_id TEXT NOT NULL REFERENCES inventory.cves (cve_id) ON DELETE CASCADE,
    PRIMARY KEY (vendor, product, cve_id)
);
CREATE INDEX cve_products_cve ON inventory.cve_products (cve_id);

CREATE TABLE inventory.kev (
    cve_id TEXT PRIMARY KEY,
    date_added DATE,
    ransomware BOOLEAN NOT NULL DEFAULT FALSE
);

-- One row per (asset, CVE) ever found: `vulnerability.found` is sent when it is inserted.
CREATE TABLE inventory.vulnerability_findings (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL REFERENCES inventory.assets (id) ON DELETE CASCADE,
    cve_id TEXT NOT NULL REFERENCES inventory.cves (cve_id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'open',
    ignored_reason TEXT,
    matched_product TEXT NOT NULL,
    matched_version TEXT NOT NULL,
    source TEXT NOT NULL,
    resolved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (asset_id, cve_id)
);
CREATE INDEX findings_organization ON inventory.vulnerability_findings (organization_id, status);
CREATE INDEX findings_cve ON inventory.vulnerability_findings (cve_id);

-- Feed synchronisations, scheduled or requested; one queued or running at a time.
CREATE TABLE inventory.feed_syncs (
    id BIGSERIAL PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'queued',
    trigger TEXT NOT NULL,
    requested_by BIGINT,
    cves_received INTEGER NOT NULL DEFAULT 0,
    kev_entries INTEGER NOT NULL DEFAULT 0,
    errors JSONB NOT NULL DEFAULT '[]',
    lease_until TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX feed_syncs_one_active ON inventory.feed_syncs ((TRUE))
    WHERE status IN ('queued', 'running');

-- Where the last successful NVD window ended.
CREATE TABLE inventory.feed_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    nvd_checkpoint TIMESTAMPTZ,
    next_sync_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO inventory.feed_state (id) VALUES (1);
