DROP TABLE monitor.outbox;
DROP TABLE monitor.inbox;
DROP TABLE monitor.organizations;
