//! OpenAPI 3.1: each service describes its resources with [`Model`]s and a [`Spec`]; it serves
//! its part at `/openapi.json`, and the gateway merges the parts into `/api/v1/openapi.json`.

mod model;
mod spec;

pub use model::{Access, Field, Kind, Model, reference};
pub use spec::{Action, Spec, page_schema};

use serde_json::{Map, Value, json};

/// One service's paths, schemas, tags and webhook events.
#[derive(Debug, Default)]
pub struct Part {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
    tags: Map<String, Value>,
    webhooks: Map<String, Value>,
}

impl Part {
    /// Reads a part back from a document (what a service serves).
    pub fn from_document(document: &Value) -> Part {
        let object = |value: Option<&Value>| {
            value
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let tags = document["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|tag| Some((tag["name"].as_str()?.to_string(), tag.clone())))
            .collect();
        Part {
            paths: object(document.get("paths")),
            schemas: object(document.pointer("/components/schemas")),
            tags,
            webhooks: object(document.get("webhooks")),
        }
    }

    fn absorb(&mut self, other: Part) {
        self.paths.extend(other.paths);
        self.schemas.extend(other.schemas);
        self.webhooks.extend(other.webhooks);
        for (name, tag) in other.tags {
            self.tags.entry(name).or_insert(tag);
        }
    }
}

fn common_schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "description": "Every 401, 403, 404, 405, 409, 413, 429 and 5xx answer",
            "required": ["detail", "code", "request_id"],
            "properties": {
                "detail": { "type": "string" },
                "code": { "type": "string" },
                "request_id": { "type": "string" }
            }
        }),
    );
    schemas.insert(
        "Invalid".into(),
        json!({
            "description": "Validation errors: messages by field, or for a bulk create an array aligned with the input ({} for good items); a body or query that cannot be read at all gets the Error shape",
            "anyOf": [
                { "$ref": "#/components/schemas/Error" },
                { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } },
                { "type": "array", "items": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } } }
            ]
        }),
    );
    schemas
}

/// A complete document of `part`.
pub fn document(title: &str, part: Part) -> Value {
    let mut schemas = common_schemas();
    schemas.extend(part.schemas);
    // Sorted, so that the document is the same whatever the order of the parts.
    let mut tags: Vec<Value> = part.tags.into_values().collect();
    tags.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": env!("CARGO_PKG_VERSION"),
            "description": "IT documentation and operations API. Authenticate with `Authorization: Bearer itdocs_live_…`. Lists take `search`, `ordering`, `page` and `page_size`; errors are `{detail, code, request_id}`.",
        },
        "servers": [{ "url": "/" }],
        "tags": tags,
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "bearer", "description": "itdocs_live_… API key" }
            },
            "schemas": schemas,
        },
        "security": [{ "apiKey": [] }],
        "paths": part.paths,
    });
    if !part.webhooks.is_empty() {
        document["webhooks"] = Value::Object(part.webhooks);
    }
    document
}

/// The gateway's document: its own part and the services' documents.
pub fn merge(title: &str, own: Spec, documents: &[Value]) -> Value {
    let mut part = own.into_part();
    for document in documents {
        part.absorb(Part::from_document(document));
    }
    document(title, part)
}

/// The `(method, path)` pairs of a document, for comparing it with a routing table.
pub fn operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    operations.sort();
    operations
}

/// The schema names a document refers to (`#/components/schemas/…`) but does not define.
pub fn unresolved_references(document: &Value) -> Vec<String> {
    let text = document.to_string();
    text.split("\"#/components/schemas/")
        .skip(1)
        .filter_map(|part| part.split('"').next())
        .filter(|name| document["components"]["schemas"].get(*name).is_none())
        .map(str::to_string)
        .collect()
}
