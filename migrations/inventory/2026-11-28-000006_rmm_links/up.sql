-- When the RMM device linked to an asset was last read, so an older event never overwrites
-- a newer one.
ALTER TABLE inventory.assets ADD COLUMN rmm_observed_at TIMESTAMPTZ;

-- One asset per (integration, external id).
CREATE UNIQUE INDEX assets_rmm_link ON inventory.assets
    ((source ->> 'integration'), (source ->> 'external_id'))
    WHERE source IS NOT NULL;

-- Matching a new device to an existing asset of its organization: serial, then MAC, then
-- hostname.
CREATE INDEX assets_match_serial ON inventory.assets (organization_id, lower(serial_number));
CREATE INDEX assets_match_mac ON inventory.assets (organization_id, mac_address);
CREATE INDEX assets_match_hostname ON inventory.assets (organization_id, lower(hostname));

CREATE INDEX vehicles_rmm_device ON inventory.vehicles
    ((rmm_device ->> 'integration'), (rmm_device ->> 'external_id'))
    WHERE rmm_device IS NOT NULL;
