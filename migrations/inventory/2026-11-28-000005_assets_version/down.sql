DROP TRIGGER assets_deleted ON inventory.assets;
DROP TRIGGER assets_updated ON inventory.assets;
DROP TRIGGER assets_inserted ON inventory.assets;
DROP FUNCTION inventory.raise_assets_version();
ALTER TABLE inventory.organizations DROP COLUMN assets_version;
