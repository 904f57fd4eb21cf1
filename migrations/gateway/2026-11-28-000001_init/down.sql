DROP TABLE gateway.api_keys;
DROP TABLE gateway.memberships;
DROP TABLE gateway.users;
DROP TABLE gateway.organizations;
DROP TABLE gateway.outbox;
