-- Per-organization data keys, wrapped by the master key whose fingerprint is kept with them.
-- The highest version is the one new ciphertexts use; older ones open older ciphertexts until
-- a rotation has re-encrypted them.
CREATE TABLE vault.data_keys (
    organization_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    wrapped BYTEA NOT NULL,
    master_fingerprint TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, version)
);

CREATE TABLE vault.passwords (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    password_type TEXT NOT NULL DEFAULT 'other',
    -- Sealed values (crates/crypto); never plaintext.
    password_sealed BYTEA,
    otp_sealed BYTEA,
    otp_issuer TEXT,
    -- The data-key version of the sealed values, kept for rotation.
    key_version INTEGER,
    strength_score SMALLINT,
    password_changed_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    tags TEXT[] NOT NULL DEFAULT '{}',
    custom_fields JSONB NOT NULL DEFAULT '{}',
    breach_status TEXT NOT NULL DEFAULT 'unknown',
    breach_count INTEGER,
    breach_checked_at TIMESTAMPTZ,
    -- The last attempt, successful or not (a scan is done when every entry was attempted).
    breach_attempted_at TIMESTAMPTZ,
    -- When the breach checker should look at this entry next; NULL without a password.
    breach_check_due TIMESTAMPTZ,
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX passwords_organization ON vault.passwords (organization_id, id);
CREATE INDEX passwords_breach_due ON vault.passwords (breach_check_due) WHERE breach_check_due IS NOT NULL;
CREATE INDEX passwords_key_version ON vault.passwords (organization_id, key_version);

-- Every reveal, OTP read, create, update and delete. Append-only (the trigger below refuses
-- changes) and hash-chained per organization: hash = SHA-256(previous hash || record).
CREATE TABLE vault.access_log (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    password_id BIGINT NOT NULL,
    password_title TEXT NOT NULL,
    action TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    api_key_id BIGINT,
    client_address TEXT,
    request_id TEXT,
    at TIMESTAMPTZ NOT NULL,
    previous_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX access_log_organization ON vault.access_log (organization_id, id);
CREATE INDEX access_log_password ON vault.access_log (password_id, id);
CREATE INDEX access_log_user ON vault.access_log (user_id, at);

-- The head of each organization's chain; updating it serialises appends per organization.
CREATE TABLE vault.access_chain (
    organization_id BIGINT PRIMARY KEY,
    last_hash BYTEA NOT NULL
);

CREATE FUNCTION vault.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vault.access_log is append-only';
END
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON vault.access_log
    FOR EACH ROW EXECUTE FUNCTION vault.refuse_change();

-- Breach scans asked for through the API; progress is read from the entries themselves.
CREATE TABLE vault.breach_scans (
    id BIGSERIAL PRIMARY KEY,
    organization_ids BIGINT[] NOT NULL,
    requested_by BIGINT NOT NULL,
    total INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
