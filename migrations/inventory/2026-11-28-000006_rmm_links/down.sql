DROP INDEX inventory.vehicles_rmm_device;
DROP INDEX inventory.assets_match_hostname;
DROP INDEX inventory.assets_match_mac;
DROP INDEX inventory.assets_match_serial;
DROP INDEX inventory.assets_rmm_link;
ALTER TABLE inventory.assets DROP COLUMN rmm_observed_at;
