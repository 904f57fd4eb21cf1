DROP TRIGGER assets_version ON inventory.assets;
DROP FUNCTION inventory.raise_assets_version();
ALTER TABLE inventory.organizations DROP COLUMN assets_version;
