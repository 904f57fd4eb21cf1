-- One login role per service, each owning only its own schema: a service's credentials cannot
-- read or change another service's data. Run once per database by an administrator (a role
-- with CREATEROLE), before the services' migrations:
--
--   psql -v ON_ERROR_STOP=1 -d clientstor -f deploy/sql/service-roles.sql
--
-- then give each role a password (ALTER ROLE clientstor_vault PASSWORD '…') and each service
-- its own URL: CLIENTSTOR_<SERVICE>__DATABASE__URL=postgres://clientstor_<service>:…@…/clientstor.
-- Each service's `migrate` then creates its tables inside its schema.

-- pg_trgm (inventory's search index) lives in public; made here so no service needs CREATE there.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

DO $$
DECLARE
    service text;
    role text;
BEGIN
    FOREACH service IN ARRAY ARRAY['gateway', 'inventory', 'vault', 'monitor', 'webhooks', 'rmm'] LOOP
        role := 'clientstor_' || service;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', role);
        END IF;
        -- A non-superuser administrator must be a member to hand the schema over.
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('GRANT %I TO %I', role, current_user);
        END IF;
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role);
        EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', service, role);
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', service, role);
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', service);
    END LOOP;
    -- Nobody but the administrator creates objects in public.
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
END
$$;
