DROP TABLE vault.breach_scans;
DROP TRIGGER access_log_append_only ON vault.access_log;
DROP FUNCTION vault.refuse_change();
DROP TABLE vault.access_chain;
DROP TABLE vault.access_log;
DROP TABLE vault.passwords;
DROP TABLE vault.data_keys;
