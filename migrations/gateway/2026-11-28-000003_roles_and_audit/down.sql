DROP TABLE gateway.audit_log;
ALTER TABLE gateway.memberships DROP COLUMN custom_role_id;
DROP TABLE gateway.roles;
