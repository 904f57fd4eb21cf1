// Diesel table definitions of the `vault` schema (migrations/vault).

diesel::table! {
    vault.passwords (id) {
        id -> Int8,
        organization_id -> Int8,
        title -> Text,
        username -> Text,
        url -> Text,
        notes -> Text,
        password_type -> Text,
        password_sealed -> Nullable<Bytea>,
        otp_sealed -> Nullable<Bytea>,
        otp_issuer -> Nullable<Text>,
        key_version -> Nullable<Int4>,
        strength_score -> Nullable<Int2>,
        password_changed_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        tags -> Array<Text>,
        custom_fields -> Jsonb,
        breach_status -> Text,
        breach_count -> Nullable<Int4>,
        breach_checked_at -> Nullable<Timestamptz>,
        breach_attempted_at -> Nullable<Timestamptz>,
        breach_check_due -> Nullable<Timestamptz>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    vault.access_log (id) {
        id -> Int8,
        organization_id -> Int8,
        password_id -> Int8,
        password_title -> Text,
        action -> Text,
        user_id -> Int8,
        api_key_id -> Nullable<Int8>,
        client_address -> Nullable<Text>,
        request_id -> Nullable<Text>,
        at -> Timestamptz,
        previous_hash -> Bytea,
        hash -> Bytea,
    }
}

diesel::table! {
    vault.access_chain (organization_id) {
        organization_id -> Int8,
        last_hash -> Bytea,
    }
}

diesel::table! {
    vault.breach_scans (id) {
        id -> Int8,
        organization_ids -> Array<Int8>,
        requested_by -> Int8,
        total -> Int4,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}
