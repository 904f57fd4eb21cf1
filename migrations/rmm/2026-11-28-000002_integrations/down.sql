DROP TABLE rmm.alerts;
DROP TABLE rmm.devices;
DROP TABLE rmm.runs;
DROP TABLE rmm.integrations;
DROP TABLE rmm.data_keys;
