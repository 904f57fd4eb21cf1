//! The `data` object of each event a webhook receives, as JSON Schema, and the whole payload
//! `{"event", "timestamp", "organization": {"id", "name"}, "data"}`. `data` is what
//! `clientstor_events::webhook_data` renders from the event's protobuf payload.

use clientstor_runtime::openapi::Spec;
use serde_json::{Value, json};

/// Sent by `POST /api/v1/webhooks/{id}/test/` to that endpoint only; not subscribable.
pub const TEST_EVENT: &str = "webhook.test";

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

/// The fields every asset event carries; `asset.created` and `asset.updated` carry the whole
/// asset as the API returns it.
fn asset_properties() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    json!({
        "id": integer,
        "organization": integer,
        "organization_name": string,
        "name": string,
        "asset_type": string,
        "serial_number": {"type": ["string", "null"]},
        "status": string,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    })
}

const ASSET_REQUIRED: &[&str] = &[
    "id",
    "organization",
    "organization_name",
    "name",
    "asset_type",
    "serial_number",
    "status",
    "created_at",
    "updated_at",
];

pub fn data_schema(event: &str) -> Value {
    let string = json!({"type": "string"});
    let nullable_string = json!({"type": ["string", "null"]});
    let integer = json!({"type": "integer"});
    let time = json!({"type": "string", "format": "date-time"});
    match event {
        "asset.created" => {
            let mut schema = object(asset_properties(), ASSET_REQUIRED);
            schema["description"] =
                json!("The asset as GET /api/v1/assets/{id}/ returns it (every field)");
            schema["additionalProperties"] = json!(true);
            schema
        }
        "asset.updated" => {
            let mut properties = asset_properties();
            properties["changes"] = json!({
                "type": "object",
                "description": "Every field that changed (updated_at aside): [old, new]",
                "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2},
            });
            let mut required = ASSET_REQUIRED.to_vec();
            required.push("changes");
            let mut schema = object(properties, &required);
            schema["description"] = json!(
                "The asset after the change, as GET /api/v1/assets/{id}/ returns it (every field), and what changed"
            );
            schema["additionalProperties"] = json!(true);
            schema
        }
        "asset.deleted" => object(
            json!({
                "id": integer, "name": string, "asset_type": string,
                "serial_number": nullable_string,
            }),
            &["id", "name", "asset_type", "serial_number"],
        ),
        "monitor.down" | "monitor.up" => object(
            json!({
                "monitor_id": integer,
                "name": string,
                "url": {"type": "string", "description": "The URL, host:port or host that is checked"},
                "monitor_type": string,
                "checked_at": time,
                "error": {"type": ["string", "null"], "description": "monitor.down: why the last check failed"},
                "consecutive_failures": integer,
                "down_since": {"type": ["string", "null"], "format": "date-time", "description": "monitor.up: when it went down"},
                "downtime_seconds": {"type": ["integer", "null"], "description": "monitor.up: how long it was down"},
            }),
            &[
                "monitor_id",
                "name",
                "url",
                "monitor_type",
                "checked_at",
                "error",
                "consecutive_failures",
                "down_since",
                "downtime_seconds",
            ],
        ),
        "vulnerability.found" => object(
            json!({
                "cve_id": string,
                "summary": string,
                "severity": {
                    "type": "string",
                    "description": "critical, high, medium, low or none; empty when the CVE has no score yet",
                },
                "cvss_score": {"type": ["number", "null"]},
                "known_exploited": {"type": "boolean", "description": "In the CISA KEV catalogue"},
                "published_at": {"type": "string", "description": "RFC 3339; empty when unknown"},
                "asset_id": integer,
                "asset_name": string,
                "matched": object(
                    json!({
                        "product": string,
                        "version": string,
                        "source": {"type": "string", "enum": ["os", "firmware", "software"]},
                    }),
                    &["product", "version", "source"],
                ),
            }),
            &[
                "cve_id",
                "summary",
                "severity",
                "cvss_score",
                "known_exploited",
                "published_at",
                "asset_id",
                "asset_name",
                "matched",
            ],
        ),
        "vault.breach" => object(
            json!({
                "password_id": integer,
                "title": string,
                "username": string,
                "url": string,
                "breach_count": {"type": "integer", "description": "How often the password appears in the breach corpus"},
                "checked_at": time,
            }),
            &[
                "password_id",
                "title",
                "username",
                "url",
                "breach_count",
                "checked_at",
            ],
        ),
        TEST_EVENT => object(
            json!({ "webhook_id": integer, "message": string }),
            &["webhook_id", "message"],
        ),
        _ => json!({"type": "object"}),
    }
}

/// The whole payload of `event`, as it is POSTed.
pub fn payload_schema(event: &str) -> Value {
    json!({
        "type": "object",
        "required": ["event", "timestamp", "organization", "data"],
        "properties": {
            "event": { "type": "string", "const": event },
            "timestamp": { "type": "string", "format": "date-time", "description": "When the change happened" },
            "organization": {
                "type": "object",
                "required": ["id", "name"],
                "properties": { "id": { "type": "integer" }, "name": { "type": "string" } }
            },
            "data": data_schema(event),
        }
    })
}

/// The OpenAPI `webhooks`: every public event, and the test event.
pub fn openapi(spec: &mut Spec) {
    for (event, description) in clientstor_events::types::PUBLIC {
        spec.webhook(event, description, payload_schema(event));
    }
    spec.webhook(
        TEST_EVENT,
        "Sent by POST /api/v1/webhooks/{id}/test/ to that webhook only",
        payload_schema(TEST_EVENT),
    );
}
