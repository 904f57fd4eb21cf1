-- The trace of the event a delivery carries; its POST continues it with a traceparent header.
ALTER TABLE webhooks.deliveries ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
