DROP INDEX inventory.assets_tags;
DROP INDEX inventory.assets_organization_updated;
DROP INDEX inventory.assets_search;
ALTER TABLE inventory.assets DROP COLUMN search_text;
ALTER TABLE inventory.assets
    DROP COLUMN asset_tag, DROP COLUMN manufacturer, DROP COLUMN model, DROP COLUMN hostname,
    DROP COLUMN ip_address, DROP COLUMN mac_address, DROP COLUMN os_name, DROP COLUMN os_version,
    DROP COLUMN firmware_version, DROP COLUMN cpu, DROP COLUMN ram_gb, DROP COLUMN storage,
    DROP COLUMN status, DROP COLUMN purchase_date, DROP COLUMN warranty_expiry, DROP COLUMN location,
    DROP COLUMN latitude, DROP COLUMN longitude, DROP COLUMN notes, DROP COLUMN tags,
    DROP COLUMN custom_fields, DROP COLUMN needs_reorder, DROP COLUMN source, DROP COLUMN created_by;
