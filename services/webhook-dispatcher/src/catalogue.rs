//! The `data` object of each public event, as JSON Schema. The webhook payload is
//! `{"event", "timestamp", "organization": {"id", "name"}, "data"}`.

use serde_json::{Value, json};

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

pub fn data_schema(event: &str) -> Value {
    let string = json!({"type": "string"});
    let nullable_string = json!({"type": ["string", "null"]});
    let integer = json!({"type": "integer"});
    let time = json!({"type": "string", "format": "date-time"});
    match event {
        "asset.created" | "asset.updated" | "asset.deleted" => object(
            json!({
                "id": integer, "name": string, "asset_type": string, "serial_number": nullable_string,
                "created_at": time, "updated_at": time,
            }),
            &["id", "name", "asset_type", "created_at", "updated_at"],
        ),
        "monitor.down" | "monitor.up" => object(
            json!({ "monitor_id": integer, "name": string, "url": nullable_string, "error": nullable_string }),
            &["monitor_id", "name", "url", "error"],
        ),
        "vulnerability.found" => object(
            json!({ "cve_id": string, "asset_id": integer, "severity": string, "cvss": {"type": ["number", "null"]} }),
            &["cve_id", "asset_id", "severity"],
        ),
        "vault.breach" => object(
            json!({ "password_id": integer, "title": string, "count": integer, "checked_at": time }),
            &["password_id", "title", "count"],
        ),
        _ => json!({"type": "object"}),
    }
}
