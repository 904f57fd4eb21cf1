DROP TABLE rmm.outbox;
DROP TABLE rmm.inbox;
DROP TABLE rmm.organizations;
