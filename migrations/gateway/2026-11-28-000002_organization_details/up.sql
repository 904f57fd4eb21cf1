-- The organization fields upstream keeps: type, legal and contact details, address, region.
ALTER TABLE gateway.organizations
    ADD COLUMN organization_type TEXT NOT NULL DEFAULT '',
    ADD COLUMN legal_name TEXT NOT NULL DEFAULT '',
    ADD COLUMN tax_id TEXT NOT NULL DEFAULT '',
    ADD COLUMN street_address TEXT NOT NULL DEFAULT '',
    ADD COLUMN street_address_2 TEXT NOT NULL DEFAULT '',
    ADD COLUMN city TEXT NOT NULL DEFAULT '',
    ADD COLUMN state TEXT NOT NULL DEFAULT '',
    ADD COLUMN postal_code TEXT NOT NULL DEFAULT '',
    ADD COLUMN country TEXT NOT NULL DEFAULT '',
    ADD COLUMN phone TEXT NOT NULL DEFAULT '',
    ADD COLUMN email TEXT NOT NULL DEFAULT '',
    ADD COLUMN website TEXT NOT NULL DEFAULT '',
    ADD COLUMN primary_contact_name TEXT NOT NULL DEFAULT '',
    ADD COLUMN primary_contact_title TEXT NOT NULL DEFAULT '',
    ADD COLUMN primary_contact_email TEXT NOT NULL DEFAULT '',
    ADD COLUMN primary_contact_phone TEXT NOT NULL DEFAULT '',
    ADD COLUMN region TEXT NOT NULL DEFAULT '';
CREATE INDEX organizations_parent ON gateway.organizations (parent_id);
