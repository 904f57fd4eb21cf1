// Diesel table definitions of the `monitor` schema (migrations/monitor).

diesel::table! {
    monitor.monitors (id) {
        id -> Int8,
        organization_id -> Int8,
        name -> Text,
        monitor_type -> Text,
        url -> Nullable<Text>,
        host -> Nullable<Text>,
        port -> Nullable<Int4>,
        interval_seconds -> Int4,
        timeout_seconds -> Int4,
        failure_threshold -> Int4,
        success_threshold -> Int4,
        http_method -> Text,
        expected_status -> Text,
        keyword -> Nullable<Text>,
        follow_redirects -> Bool,
        verify_tls -> Bool,
        tls_warning_days -> Int4,
        is_paused -> Bool,
        maintenance_windows -> Jsonb,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        status -> Text,
        announced_status -> Text,
        last_checked_at -> Nullable<Timestamptz>,
        last_response_time_ms -> Nullable<Int4>,
        last_status_code -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        consecutive_failures -> Int4,
        consecutive_successes -> Int4,
        down_since -> Nullable<Timestamptz>,
        tls_expires_at -> Nullable<Timestamptz>,
        tls_issuer -> Nullable<Text>,
        tls_subject -> Nullable<Text>,
        tls_checked_at -> Nullable<Timestamptz>,
        next_check_at -> Timestamptz,
    }
}

diesel::table! {
    monitor.checks (id) {
        id -> Int8,
        monitor_id -> Int8,
        checked_at -> Timestamptz,
        ok -> Bool,
        response_time_ms -> Nullable<Int4>,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
        due_at -> Timestamptz,
    }
}

diesel::table! {
    monitor.rollups (monitor_id, granularity, bucket) {
        monitor_id -> Int8,
        granularity -> Text,
        bucket -> Timestamptz,
        checks -> Int4,
        ok_checks -> Int4,
        avg_response_time_ms -> Nullable<Int4>,
    }
}
