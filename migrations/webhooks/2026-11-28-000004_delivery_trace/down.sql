ALTER TABLE webhooks.deliveries DROP COLUMN traceparent;
