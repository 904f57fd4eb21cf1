// Tables of the `inventory` schema; keep in step with migrations/inventory.

diesel::table! {
    inventory.assets (id) {
        id -> Int8,
        organization_id -> Int8,
        name -> Text,
        asset_type -> Text,
        serial_number -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        asset_tag -> Nullable<Text>,
        manufacturer -> Nullable<Text>,
        model -> Nullable<Text>,
        hostname -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        mac_address -> Nullable<Text>,
        os_name -> Nullable<Text>,
        os_version -> Nullable<Text>,
        firmware_version -> Nullable<Text>,
        cpu -> Nullable<Text>,
        ram_gb -> Nullable<Int4>,
        storage -> Nullable<Text>,
        status -> Text,
        purchase_date -> Nullable<Date>,
        warranty_expiry -> Nullable<Date>,
        location -> Nullable<Text>,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        notes -> Text,
        tags -> Array<Text>,
        custom_fields -> Jsonb,
        needs_reorder -> Bool,
        source -> Nullable<Jsonb>,
        created_by -> Nullable<Int8>,
        search_text -> Nullable<Text>,
        rmm_observed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    inventory.vehicles (id) {
        id -> Int8,
        organization_id -> Int8,
        name -> Text,
        vehicle_type -> Text,
        make -> Nullable<Text>,
        model -> Nullable<Text>,
        year -> Nullable<Int4>,
        color -> Nullable<Text>,
        vin -> Nullable<Text>,
        license_plate -> Nullable<Text>,
        status -> Text,
        condition -> Text,
        current_mileage -> Int4,
        insurance_provider -> Nullable<Text>,
        insurance_policy_number -> Nullable<Text>,
        insurance_expires_at -> Nullable<Date>,
        registration_expires_at -> Nullable<Date>,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        last_location_update -> Nullable<Timestamptz>,
        assigned_to -> Nullable<Int8>,
        purchase_date -> Nullable<Date>,
        purchase_price_cents -> Nullable<Int8>,
        notes -> Text,
        rmm_device -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inventory.vehicle_maintenance (id) {
        id -> Int8,
        vehicle_id -> Int8,
        maintenance_type -> Text,
        description -> Text,
        service_date -> Date,
        mileage_at_service -> Nullable<Int4>,
        performed_by -> Nullable<Text>,
        labor_cost_cents -> Int8,
        parts_cost_cents -> Int8,
        is_scheduled -> Bool,
        next_due_mileage -> Nullable<Int4>,
        next_due_date -> Nullable<Date>,
        notes -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inventory.vehicle_fuel_logs (id) {
        id -> Int8,
        vehicle_id -> Int8,
        date -> Date,
        mileage -> Int4,
        gallons_hundredths -> Int8,
        cost_per_gallon_mills -> Nullable<Int8>,
        total_cost_cents -> Nullable<Int8>,
        station -> Nullable<Text>,
        notes -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(vehicle_maintenance -> vehicles (vehicle_id));
diesel::joinable!(vehicle_fuel_logs -> vehicles (vehicle_id));
diesel::allow_tables_to_appear_in_same_query!(
    assets,
    vehicles,
    vehicle_maintenance,
    vehicle_fuel_logs
);

diesel::table! {
    inventory.asset_software (id) {
        id -> Int8,
        asset_id -> Int8,
        position -> Int4,
        name -> Text,
        vendor -> Nullable<Text>,
        version -> Nullable<Text>,
        cpe -> Nullable<Text>,
    }
}

diesel::table! {
    inventory.vulns_pending (asset_id) {
        asset_id -> Int8,
    }
}

diesel::table! {
    inventory.cves (cve_id) {
        cve_id -> Text,
        summary -> Text,
        published_at -> Nullable<Timestamptz>,
        last_modified -> Nullable<Timestamptz>,
        cvss_score -> Nullable<Float8>,
        severity -> Nullable<Text>,
        known_exploited -> Bool,
        rejected -> Bool,
        configurations -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inventory.cve_products (vendor, product, cve_id) {
        vendor -> Text,
        product -> Text,
        cve_id -> Text,
    }
}

diesel::table! {
    inventory.kev (cve_id) {
        cve_id -> Text,
        date_added -> Nullable<Date>,
        ransomware -> Bool,
    }
}

diesel::table! {
    inventory.vulnerability_findings (id) {
        id -> Int8,
        organization_id -> Int8,
        asset_id -> Int8,
        cve_id -> Text,
        status -> Text,
        ignored_reason -> Nullable<Text>,
        matched_product -> Text,
        matched_version -> Text,
        source -> Text,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inventory.feed_syncs (id) {
        id -> Int8,
        status -> Text,
        trigger -> Text,
        requested_by -> Nullable<Int8>,
        cves_received -> Int4,
        kev_entries -> Int4,
        errors -> Jsonb,
        lease_until -> Nullable<Timestamptz>,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    inventory.feed_state (id) {
        id -> Int4,
        nvd_checkpoint -> Nullable<Timestamptz>,
        next_sync_at -> Timestamptz,
    }
}

diesel::joinable!(asset_software -> assets (asset_id));
diesel::joinable!(vulnerability_findings -> assets (asset_id));
diesel::joinable!(vulnerability_findings -> cves (cve_id));
diesel::allow_tables_to_appear_in_same_query!(
    assets,
    asset_software,
    vulnerability_findings,
    cves,
    cve_products,
    vulns_pending,
);
