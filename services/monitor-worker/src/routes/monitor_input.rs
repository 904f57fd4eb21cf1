//! Reading and checking monitor input.

use clientstor_http::ValidationErrors;
use clientstor_http::reader::Reader;
use clientstor_runtime::openapi::{Field, Kind, Model};
use serde_json::{Map, Value};

use crate::check::status_list_valid;
use crate::db::monitors::MonitorFields;
use crate::maintenance;

pub const MONITOR_TYPES: &[&str] = &["http", "tcp", "icmp"];
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// What `status` shows.
pub const STATUSES: &[&str] = &["pending", "up", "down", "paused", "maintenance"];

/// The monitor representation (without the detail's `uptime`), for the API description and the
/// browsable forms.
pub const MODEL: Model = Model {
    name: "Monitor",
    noun: "monitor",
    about: "WAN monitors: HTTP(S), TCP and ICMP checks on a schedule, with history, uptime and TLS expiry",
    record: true,
    fields: &[
        Field::rw("name", Kind::String).required(),
        Field::rw("monitor_type", Kind::Enum(MONITOR_TYPES)).about("`http` if not given"),
        Field::rw("url", Kind::Uri)
            .nullable()
            .about("An http:// or https:// URL; required for http, null for the others"),
        Field::rw("host", Kind::String)
            .nullable()
            .about("Required for tcp and icmp, null for http"),
        Field::rw("port", Kind::Integer)
            .nullable()
            .about("1 to 65535; required for tcp, null for the others"),
        Field::rw("interval_seconds", Kind::Integer).about(
            "60 if not given; from MONITOR__MIN_INTERVAL_SECONDS (10 by default) to 86400",
        ),
        Field::rw("timeout_seconds", Kind::Integer)
            .about("10 if not given; 1 to 120, at most the interval"),
        Field::rw("failure_threshold", Kind::Integer)
            .about("Consecutive failures that confirm `down`; 3 if not given, 1 to 100"),
        Field::rw("success_threshold", Kind::Integer)
            .about("Consecutive successes that confirm `up` again; 2 if not given, 1 to 100"),
        Field::rw("http_method", Kind::Enum(METHODS)).about("`GET` if not given (any case)"),
        Field::rw("expected_status", Kind::String)
            .about("Codes and ranges, e.g. 200-299,301; 200-399 if not given"),
        Field::rw("keyword", Kind::String)
            .nullable()
            .about("Looked for in the first MiB of the body"),
        Field::rw("follow_redirects", Kind::Boolean).about("true if not given"),
        Field::rw("verify_tls", Kind::Boolean)
            .about("true if not given; false for self-signed appliances"),
        Field::rw("tls_warning_days", Kind::Integer)
            .about("Days before the certificate expires that tls.expiring_soon turns true; 14 if not given, 0 to 365"),
        Field::rw("is_paused", Kind::Boolean),
        Field::rw("maintenance_windows", Kind::Models("MaintenanceWindow"))
            .about("When checks go on but no event is sent"),
        Field::ro("status", Kind::Enum(STATUSES)),
        Field::ro("last_checked_at", Kind::DateTime).nullable(),
        Field::ro("last_response_time_ms", Kind::Integer).nullable(),
        Field::ro("last_status_code", Kind::Integer).nullable(),
        Field::ro("last_error", Kind::String).nullable(),
        Field::ro("consecutive_failures", Kind::Integer),
        Field::ro("down_since", Kind::DateTime).nullable(),
        Field::ro("tls", Kind::Model("MonitorTls"))
            .nullable()
            .about("The certificate of an https monitor, once read"),
        Field::ro("next_check_at", Kind::DateTime),
        Field::ro("created_by", Kind::Integer).nullable(),
    ],
    search: &["name", "url", "host"],
};

/// Reads a complete monitor (create and `PUT`; `PATCH` merges first). `min_interval` is
/// `MONITOR__MIN_INTERVAL_SECONDS`.
pub fn parse(
    map: &Map<String, Value>,
    min_interval: u64,
) -> Result<MonitorFields, ValidationErrors> {
    let mut r = Reader::new(map);
    let name = r.text("name", 200);
    if name.is_none() && !r.errors.contains_key("name") {
        r.fail("name", "This field is required.");
    }
    let monitor_type = r.choice("monitor_type", MONITOR_TYPES, "http");
    let url = r.text("url", 2_000);
    let host = r.text("host", 255);
    let port = r.number("port", 1.0, 65_535.0).map(|p| p as i32);
    match monitor_type.as_str() {
        "http" => match url.as_deref().map(url::Url::parse) {
            Some(Ok(u)) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            Some(_) => r.fail("url", "Enter a valid http:// or https:// URL."),
            None => r.fail("url", "An http monitor needs a url."),
        },
        "tcp" => {
            if host.is_none() {
                r.fail("host", "A tcp monitor needs a host.");
            }
            if port.is_none() && !r.errors.contains_key("port") {
                r.fail("port", "A tcp monitor needs a port.");
            }
        }
        "icmp" if host.is_none() => r.fail("host", "An icmp monitor needs a host."),
        _ => {}
    }
    let min = min_interval.max(1) as f64;
    let interval = r
        .number("interval_seconds", min, 86_400.0)
        .map_or(60.max(min as i32), |v| v as i32);
    let timeout = r
        .number("timeout_seconds", 1.0, 120.0)
        .map_or(10, |v| v as i32);
    if timeout > interval {
        r.fail(
            "timeout_seconds",
            "Ensure the timeout is at most the interval.",
        );
    }
    let expected_status = r
        .text("expected_status", 200)
        .unwrap_or_else(|| "200-399".into());
    if !status_list_valid(&expected_status) {
        r.fail(
            "expected_status",
            "A list of codes and ranges, e.g. 200-299,301.",
        );
    }
    let http_method = r
        .text("http_method", 10)
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| "GET".into());
    if !METHODS.contains(&http_method.as_str()) {
        r.fail(
            "http_method",
            format!("\"{http_method}\" is not a valid choice."),
        );
    }
    let windows = match map.get("maintenance_windows") {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(Value::Array(items)) => {
            for item in items {
                if let Err(message) = maintenance::check(item) {
                    r.fail("maintenance_windows", message);
                }
            }
            Value::Array(items.clone())
        }
        Some(_) => {
            r.fail("maintenance_windows", "Expected a list of windows.");
            Value::Null
        }
    };
    let boolean = |r: &mut Reader<'_>, field: &str, default: bool| match r.map.get(field) {
        None | Some(Value::Null) => default,
        Some(_) => r.boolean(field),
    };
    let fields = MonitorFields {
        name: name.unwrap_or_default(),
        url: if monitor_type == "http" { url } else { None },
        host: if monitor_type == "http" { None } else { host },
        port: if monitor_type == "tcp" { port } else { None },
        monitor_type,
        interval_seconds: interval,
        timeout_seconds: timeout,
        failure_threshold: r
            .number("failure_threshold", 1.0, 100.0)
            .map_or(3, |v| v as i32),
        success_threshold: r
            .number("success_threshold", 1.0, 100.0)
            .map_or(2, |v| v as i32),
        http_method,
        expected_status,
        keyword: r.text("keyword", 500),
        follow_redirects: boolean(&mut r, "follow_redirects", true),
        verify_tls: boolean(&mut r, "verify_tls", true),
        tls_warning_days: r
            .number("tls_warning_days", 0.0, 365.0)
            .map_or(14, |v| v as i32),
        is_paused: boolean(&mut r, "is_paused", false),
        maintenance_windows: windows,
    };
    if r.errors.is_empty() {
        Ok(fields)
    } else {
        Err(r.errors)
    }
}
