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

fn error_responses() -> Value {
    let error = json!({ "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    json!({
        "401": { "description": "No key, or a bad one", "content": error["content"] },
        "403": { "description": "The key's role does not allow it", "content": error["content"] },
        "429": { "description": "Rate limited; see Retry-After", "content": error["content"] },
    })
}

fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{noun}s"),
    }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

/// The paths of a resource at `base` (`/api/v1/assets/`). `ops` names the operations:
/// `l`ist, `c`reate, `r`etrieve, re`p`lace (PUT), `u`pdate (PATCH), `d`elete.
/// `filters` are the list's query parameters beyond search, ordering and paging.
pub fn resource(base: &str, noun: &str, ops: &str, filters: &[&str]) -> Value {
    let mut collection = json!({});
    let mut item = json!({});
    // A nested resource (`/vehicles/{id}/maintenance/`) names its own id `record_id`.
    let nested = base.contains("{id}");
    let param = |name: &str| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer" } });
    let parent: Vec<Value> = if nested { vec![param("id")] } else { vec![] };
    let item_id = if nested { "record_id" } else { "id" };
    let mut id = parent.clone();
    id.push(param(item_id));
    let id = Value::Array(id);
    let body = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } });
    let with = |status: &str, description: String| {
        let mut responses = error_responses();
        merge(
            &mut responses,
            json!({ status: { "description": description } }),
        );
        responses
    };
    for op in ops.chars() {
        match op {
            'l' => {
                let mut parameters: Vec<Value> = parent.clone();
                parameters.extend(["search", "ordering"].iter().chain(filters).map(
                    |name| json!({ "name": name, "in": "query", "schema": { "type": "string" } }),
                ));
                parameters.push(json!({ "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1 } }));
                parameters.push(json!({ "name": "page_size", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }));
                merge(
                    &mut collection,
                    json!({ "get": { "summary": format!("List {}", plural(noun)), "parameters": parameters, "responses": with("200", format!("A page of {}", plural(noun))) } }),
                );
            }
            'c' => merge(
                &mut collection,
                json!({ "post": { "summary": format!("Create {} {noun}", article(noun)), "parameters": parent, "requestBody": body, "responses": with("201", "Created".into()) } }),
            ),
            'r' => merge(
                &mut item,
                json!({ "get": { "summary": format!("Get {} {noun}", article(noun)), "parameters": id, "responses": with("200", format!("The {noun}")) } }),
            ),
            'p' => merge(
                &mut item,
                json!({ "put": { "summary": format!("Replace {} {noun}", article(noun)), "parameters": id, "requestBody": body, "responses": with("200", "Replaced".into()) } }),
            ),
            'u' => merge(
                &mut item,
                json!({ "patch": { "summary": format!("Update {} {noun}", article(noun)), "parameters": id, "requestBody": body, "responses": with("200", "Updated".into()) } }),
            ),
            'd' => merge(
                &mut item,
                json!({ "delete": { "summary": format!("Delete {} {noun}", article(noun)), "parameters": id, "responses": with("204", "Deleted".into()) } }),
            ),
            _ => {}
        }
    }
    let mut paths = json!({});
    if collection.as_object().is_some_and(|o| !o.is_empty()) {
        merge(&mut paths, json!({ base: collection }));
    }
    if item.as_object().is_some_and(|o| !o.is_empty()) {
        merge(&mut paths, json!({ format!("{base}{{{item_id}}}/"): item }));
    }
    paths
}

/// Several resources' paths in one object.
pub fn paths(resources: Vec<Value>) -> Value {
    let mut all = json!({});
    for resource in resources {
        merge(&mut all, resource);
    }
    all
}

/// One operation that is not plain CRUD (`POST …/{id}/sync/`, `GET …/{id}/mapping/`): its path
/// parameters are read from the path, its answer is `status` with `description`.
pub fn action(path: &str, method: &str, summary: &str, status: &str, description: &str) -> Value {
    let parameters: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer" } }))
        .collect();
    let mut responses = error_responses();
    merge(
        &mut responses,
        json!({ status: { "description": description } }),
    );
    json!({ path: { method: { "summary": summary, "parameters": parameters, "responses": responses } } })
}
