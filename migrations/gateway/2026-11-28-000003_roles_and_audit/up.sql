-- Custom roles: named sets of permissions, per organization or global (organization_id NULL).
CREATE TABLE gateway.roles (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT REFERENCES gateway.organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_name ON gateway.roles (COALESCE(organization_id, 0), lower(name));

-- A membership holds a built-in role, or 'custom' with the custom role it refers to.
ALTER TABLE gateway.memberships
    ADD COLUMN custom_role_id BIGINT REFERENCES gateway.roles (id) ON DELETE RESTRICT;

-- Who did what: key and membership changes, role changes, failed authentications.
CREATE TABLE gateway.audit_log (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT,
    user_id BIGINT,
    key_id BIGINT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    detail JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_organization ON gateway.audit_log (organization_id, created_at DESC);
CREATE INDEX audit_log_created ON gateway.audit_log (created_at DESC);
