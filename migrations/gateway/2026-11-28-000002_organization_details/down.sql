DROP INDEX gateway.organizations_parent;
ALTER TABLE gateway.organizations
    DROP COLUMN organization_type, DROP COLUMN legal_name, DROP COLUMN tax_id,
    DROP COLUMN street_address, DROP COLUMN street_address_2, DROP COLUMN city, DROP COLUMN state,
    DROP COLUMN postal_code, DROP COLUMN country, DROP COLUMN phone, DROP COLUMN email,
    DROP COLUMN website, DROP COLUMN primary_contact_name, DROP COLUMN primary_contact_title,
    DROP COLUMN primary_contact_email, DROP COLUMN primary_contact_phone, DROP COLUMN region;
