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
    }
}
