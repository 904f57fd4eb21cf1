-- A counter per organization, raised by every statement that writes its assets, in the writing
-- transaction. List answers (count and page ids) are cached under the sum of the counters of
-- the organizations they cover, so a cached answer is never served after a change.
ALTER TABLE inventory.organizations ADD COLUMN assets_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION inventory.raise_assets_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The row may not exist yet when the organization's event has not arrived; its name
    -- follows with the event. Ordered by id so that concurrent writers lock in one order.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inventory.organizations (id, name, assets_version)
        SELECT DISTINCT organization_id, '', 1 FROM changed_rows ORDER BY 1
        ON CONFLICT (id) DO UPDATE SET assets_version = inventory.organizations.assets_version + 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO inventory.organizations (id, name, assets_version)
        SELECT DISTINCT organization_id, '', 1 FROM removed_rows ORDER BY 1
        ON CONFLICT (id) DO UPDATE SET assets_version = inventory.organizations.assets_version + 1;
    ELSE
        INSERT INTO inventory.organizations (id, name, assets_version)
        SELECT organization_id, '', 1 FROM changed_rows
        UNION SELECT organization_id, '', 1 FROM removed_rows ORDER BY 1
        ON CONFLICT (id) DO UPDATE SET assets_version = inventory.organizations.assets_version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER assets_inserted AFTER INSERT ON inventory.assets
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.raise_assets_version();
CREATE TRIGGER assets_updated AFTER UPDATE ON inventory.assets
    REFERENCING OLD TABLE AS removed_rows NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.raise_assets_version();
CREATE TRIGGER assets_deleted AFTER DELETE ON inventory.assets
    REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.raise_assets_version();
