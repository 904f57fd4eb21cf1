// Tables of the `rmm` schema; keep in step with migrations/rmm.

diesel::table! {
    rmm.integrations (id) {
        id -> Int8,
        organization_id -> Int8,
        provider -> Text,
        name -> Text,
        base_url -> Nullable<Text>,
        region -> Nullable<Text>,
        credentials_sealed -> Bytea,
        sync_interval_minutes -> Int4,
        enabled -> Bool,
        organization_mapping -> Jsonb,
        mapping_scope -> Array<Int8>,
        gps_extra_data_field -> Nullable<Text>,
        next_run_at -> Timestamptz,
        consecutive_failures -> Int4,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    rmm.runs (id) {
        id -> Int8,
        integration_id -> Int8,
        organization_id -> Int8,
        status -> Text,
        trigger -> Text,
        pages_fetched -> Int4,
        devices_seen -> Int4,
        created -> Int4,
        updated -> Int4,
        unchanged -> Int4,
        retired -> Int4,
        errors -> Jsonb,
        requested_by -> Nullable<Int8>,
        traceparent -> Nullable<Text>,
        lease_until -> Nullable<Timestamptz>,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rmm.devices (id) {
        id -> Int8,
        integration_id -> Int8,
        organization_id -> Int8,
        external_id -> Text,
        hostname -> Nullable<Text>,
        serial -> Nullable<Text>,
        manufacturer -> Nullable<Text>,
        model -> Nullable<Text>,
        os_name -> Nullable<Text>,
        os_version -> Nullable<Text>,
        firmware_version -> Nullable<Text>,
        ip_addresses -> Array<Text>,
        mac_addresses -> Array<Text>,
        online -> Nullable<Bool>,
        last_seen -> Nullable<Timestamptz>,
        client_id -> Nullable<Text>,
        client_name -> Nullable<Text>,
        site_id -> Nullable<Text>,
        site_name -> Nullable<Text>,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        asset_type -> Nullable<Text>,
        audit_stamp -> Nullable<Text>,
        fingerprint -> Text,
        removed_at -> Nullable<Timestamptz>,
        synced_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    rmm.alerts (id) {
        id -> Int8,
        integration_id -> Int8,
        organization_id -> Int8,
        external_id -> Text,
        device_external_id -> Nullable<Text>,
        device_name -> Nullable<Text>,
        status -> Text,
        severity -> Text,
        message -> Text,
        alert_type -> Nullable<Text>,
        triggered_at -> Nullable<Timestamptz>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(runs -> integrations (integration_id));
diesel::joinable!(devices -> integrations (integration_id));
diesel::joinable!(alerts -> integrations (integration_id));
diesel::allow_tables_to_appear_in_same_query!(integrations, runs, devices, alerts);
