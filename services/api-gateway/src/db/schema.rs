// Tables of the `gateway` schema; keep in step with migrations/gateway.

diesel::table! {
    gateway.organizations (id) {
        id -> Int8,
        name -> Text,
        slug -> Text,
        description -> Text,
        parent_id -> Nullable<Int8>,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        organization_type -> Text,
        legal_name -> Text,
        tax_id -> Text,
        street_address -> Text,
        street_address_2 -> Text,
        city -> Text,
        state -> Text,
        postal_code -> Text,
        country -> Text,
        phone -> Text,
        email -> Text,
        website -> Text,
        primary_contact_name -> Text,
        primary_contact_title -> Text,
        primary_contact_email -> Text,
        primary_contact_phone -> Text,
        region -> Text,
    }
}

diesel::table! {
    gateway.users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        is_active -> Bool,
        is_platform_admin -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    gateway.memberships (id) {
        id -> Int8,
        user_id -> Int8,
        organization_id -> Int8,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        custom_role_id -> Nullable<Int8>,
    }
}

diesel::table! {
    gateway.roles (id) {
        id -> Int8,
        organization_id -> Nullable<Int8>,
        name -> Text,
        description -> Text,
        permissions -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    gateway.audit_log (id) {
        id -> Int8,
        organization_id -> Nullable<Int8>,
        user_id -> Nullable<Int8>,
        key_id -> Nullable<Int8>,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        ip -> Text,
        detail -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    gateway.api_keys (id) {
        id -> Int8,
        prefix -> Text,
        key_hash -> Bytea,
        pepper_version -> Int4,
        name -> Text,
        user_id -> Int8,
        organization_id -> Int8,
        role -> Text,
        scope -> Text,
        expires_at -> Nullable<Timestamptz>,
        rate_limit_per_minute -> Nullable<Int4>,
        rate_limit_burst -> Nullable<Int4>,
        last_used_at -> Nullable<Timestamptz>,
        last_used_ip -> Nullable<Text>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(memberships -> roles (custom_role_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    memberships,
    api_keys,
    roles,
    audit_log
);
