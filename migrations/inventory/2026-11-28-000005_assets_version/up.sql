-- A counter per organization, raised by every transaction that writes its assets. List answers
-- (count and page ids) are cached under the sum of the counters of the organizations they
-- cover, so a cached answer is never served after a change.
ALTER TABLE inventory.organizations ADD COLUMN assets_version BIGINT NOT NULL DEFAULT 0;

-- Deferred to commit, and once per organization and transaction (a transaction-local flag), so
-- the organization's row is locked only while the transaction commits: concurrent writers to
-- one organization queue for the commit only, not for their whole transaction.
CREATE FUNCTION inventory.raise_assets_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org BIGINT := CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;
    flag TEXT := 'clientstor.assets_version_' || org;
BEGIN
    IF coalesce(current_setting(flag, true), '') <> 'raised' THEN
        -- The row may not exist yet when the organization's event has not arrived; its name
        -- follows with the event.
        INSERT INTO inventory.organizations (id, name, assets_version) VALUES (org, '', 1)
        ON CONFLICT (id) DO UPDATE SET assets_version = inventory.organizations.assets_version + 1;
        PERFORM set_config(flag, 'raised', true);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.organization_id <> NEW.organization_id THEN
        INSERT INTO inventory.organizations (id, name, assets_version)
        VALUES (OLD.organization_id, '', 1)
        ON CONFLICT (id) DO UPDATE SET assets_version = inventory.organizations.assets_version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER assets_version AFTER INSERT OR UPDATE OR DELETE ON inventory.assets
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION inventory.raise_assets_version();
