DROP INDEX webhooks.deliveries_endpoint;
ALTER TABLE webhooks.endpoints
    DROP COLUMN description, DROP COLUMN custom_headers, DROP COLUMN ordered,
    DROP COLUMN previous_secret, DROP COLUMN previous_secret_expires_at,
    DROP COLUMN disabled_reason, DROP COLUMN failing_since;
