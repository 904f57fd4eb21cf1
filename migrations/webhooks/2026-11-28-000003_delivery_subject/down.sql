DROP INDEX webhooks.deliveries_open_subject;
ALTER TABLE webhooks.deliveries DROP COLUMN subject;
