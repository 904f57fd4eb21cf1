//! The skeleton of every service's OpenAPI 3.1 document; services add their paths.

use serde_json::{Value, json};

pub fn document(title: &str, paths: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": env!("CARGO_PKG_VERSION") },
        "servers": [{ "url": "/" }],
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "bearer", "description": "itdocs_live_… API key" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["detail", "code", "request_id"],
                    "properties": {
                        "detail": { "type": "string" },
                        "code": { "type": "string" },
                        "request_id": { "type": "string" }
                    }
                }
            }
        },
        "security": [{ "apiKey": [] }],
        "paths": paths,
    })
}
