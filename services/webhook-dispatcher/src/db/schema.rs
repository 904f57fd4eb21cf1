// Tables of the `webhooks` schema; keep in step with migrations/webhooks.

diesel::table! {
    webhooks.endpoints (id) {
        id -> Int8,
        organization_id -> Int8,
        name -> Text,
        url -> Text,
        events -> Array<Text>,
        secret -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        description -> Text,
        custom_headers -> Jsonb,
        ordered -> Bool,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhooks.deliveries (id) {
        id -> Int8,
        endpoint_id -> Int8,
        organization_id -> Int8,
        event_id -> Uuid,
        event_type -> Text,
        message_id -> Text,
        body -> Text,
        status -> Text,
        attempt_count -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        subject -> Text,
        traceparent -> Text,
    }
}

diesel::table! {
    webhooks.attempts (id) {
        id -> Int8,
        delivery_id -> Int8,
        attempted_at -> Timestamptz,
        response_status -> Nullable<Int4>,
        duration_ms -> Int4,
        error -> Nullable<Text>,
        response_body -> Nullable<Text>,
    }
}

diesel::joinable!(deliveries -> endpoints (endpoint_id));
diesel::joinable!(attempts -> deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(endpoints, deliveries, attempts);
