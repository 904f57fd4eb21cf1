DROP TABLE inventory.assets;
DROP TABLE inventory.outbox;
DROP TABLE inventory.inbox;
DROP TABLE inventory.organizations;
