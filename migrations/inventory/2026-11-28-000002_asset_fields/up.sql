-- The asset fields upstream keeps, and a trigram-indexed search column so that substring
-- search stays fast at millions of rows.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

ALTER TABLE inventory.assets
    ADD COLUMN asset_tag TEXT,
    ADD COLUMN manufacturer TEXT,
    ADD COLUMN model TEXT,
    ADD COLUMN hostname TEXT,
    ADD COLUMN ip_address TEXT,
    ADD COLUMN mac_address TEXT,
    ADD COLUMN os_name TEXT,
    ADD COLUMN os_version TEXT,
    ADD COLUMN firmware_version TEXT,
    ADD COLUMN cpu TEXT,
    ADD COLUMN ram_gb INTEGER,
    ADD COLUMN storage TEXT,
    ADD COLUMN status TEXT NOT NULL DEFAULT 'active',
    ADD COLUMN purchase_date DATE,
    ADD COLUMN warranty_expiry DATE,
    ADD COLUMN location TEXT,
    ADD COLUMN latitude DOUBLE PRECISION,
    ADD COLUMN longitude DOUBLE PRECISION,
    ADD COLUMN notes TEXT NOT NULL DEFAULT '',
    ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN needs_reorder BOOLEAN NOT NULL DEFAULT FALSE,
    -- Which RMM integration and external id own the asset, if any.
    ADD COLUMN source JSONB,
    ADD COLUMN created_by BIGINT;

ALTER TABLE inventory.assets ADD COLUMN search_text TEXT GENERATED ALWAYS AS (lower(
    coalesce(name, '') || ' ' || coalesce(serial_number, '') || ' ' || coalesce(asset_tag, '') || ' ' ||
    coalesce(model, '') || ' ' || coalesce(manufacturer, '') || ' ' || coalesce(hostname, '') || ' ' ||
    coalesce(ip_address, '') || ' ' || coalesce(mac_address, ''))) STORED;

CREATE INDEX assets_search ON inventory.assets USING gin (search_text public.gin_trgm_ops);
CREATE INDEX assets_organization_updated ON inventory.assets (organization_id, updated_at DESC, id);
CREATE INDEX assets_tags ON inventory.assets USING gin (tags);
