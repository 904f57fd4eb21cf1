-- What a delivery is about (for example "asset:7"), so that an endpoint with `ordered` gets
-- the events about one subject in the order they happened.
ALTER TABLE webhooks.deliveries ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_open_subject ON webhooks.deliveries (endpoint_id, subject, id)
    WHERE status IN ('pending', 'failed');
