//! HTML forms built from a request body's schema. The page's script reads each field by its
//! `data-type` and sends JSON; nothing here submits by itself.

use serde_json::{Map, Value};

use super::description::resolve;
use super::page::escape;

/// A field of a form: its name, schema and whether a create needs it.
struct Input<'d> {
    name: &'d str,
    schema: &'d Value,
    required: bool,
}

/// Properties and required names of a body schema (`$ref`, `allOf` and `oneOf` followed).
fn inputs<'d>(document: &'d Value, schema: &'d Value) -> Vec<Input<'d>> {
    let schema = resolve(document, schema);
    if let Some(first) = schema.get("oneOf").and_then(|o| o.get(0)) {
        return inputs(document, first);
    }
    let mut required: Vec<&str> = Vec::new();
    let mut properties: Vec<(&str, &Value)> = Vec::new();
    let mut collect = |schema: &'d Value| {
        let schema = resolve(document, schema);
        for name in schema["required"].as_array().into_iter().flatten() {
            if let Some(name) = name.as_str() {
                required.push(name);
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            properties.push((name.as_str(), property));
        }
    };
    match schema.get("allOf").and_then(Value::as_array) {
        Some(all) => all.iter().for_each(&mut collect),
        None => collect(schema),
    }
    let mut inputs: Vec<Input<'d>> = properties
        .into_iter()
        .map(|(name, schema)| Input {
            name,
            schema,
            required: required.contains(&name),
        })
        .collect();
    // What a create needs comes first.
    inputs.sort_by_key(|input| !input.required);
    inputs
}

/// The non-null type of a schema.
fn kind(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(t) => t,
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ => "json",
    }
}

fn initial_text(value: Option<&Value>, data_type: &str) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if data_type == "list" || data_type == "intlist" => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) if data_type == "json" => {
            serde_json::to_string_pretty(other).unwrap_or_default()
        }
        Some(other) => other.to_string(),
    }
}

fn field(
    document: &Value,
    form: &str,
    input: &Input<'_>,
    current: Option<&Map<String, Value>>,
) -> String {
    let schema = resolve(document, input.schema);
    let name = escape(input.name);
    let id = format!("f-{form}-{name}");
    let secret = schema["writeOnly"].as_bool().unwrap_or(false);
    // A secret is never put back into a page (a revealed password stays out of the edit form).
    let value = current.filter(|_| !secret).and_then(|c| c.get(input.name));
    let required = if input.required { " required" } else { "" };
    let about = schema["description"].as_str().unwrap_or_default();
    let (data_type, control) = if let Some(choices) = schema["enum"].as_array() {
        let selected = value.and_then(Value::as_str).unwrap_or_default();
        let mut options = String::from("<option value=\"\">—</option>");
        for choice in choices.iter().filter_map(Value::as_str) {
            let mark = if choice == selected { " selected" } else { "" };
            let choice = escape(choice);
            options.push_str(&format!("<option{mark}>{choice}</option>"));
        }
        (
            "string",
            format!("<select id=\"{id}\" name=\"{name}\"{required}>{options}</select>"),
        )
    } else {
        match kind(schema) {
            "boolean" => {
                let selected = value.and_then(Value::as_bool);
                let mark = |b: bool| if selected == Some(b) { " selected" } else { "" };
                (
                    "boolean",
                    format!(
                        "<select id=\"{id}\" name=\"{name}\"{required}><option value=\"\">—</option><option{}>true</option><option{}>false</option></select>",
                        mark(true),
                        mark(false)
                    ),
                )
            }
            t @ ("integer" | "number") => (
                if t == "integer" { "integer" } else { "number" },
                format!(
                    "<input id=\"{id}\" name=\"{name}\" type=\"number\" step=\"{}\" value=\"{}\"{required}>",
                    if t == "integer" { "1" } else { "any" },
                    escape(&initial_text(value, "number"))
                ),
            ),
            "array" => {
                let items = resolve(document, &schema["items"]);
                let data_type = match kind(items) {
                    "string" => "list",
                    "integer" => "intlist",
                    _ => "json",
                };
                let text = escape(&initial_text(value, data_type));
                if data_type == "json" {
                    (
                        "json",
                        format!(
                            "<textarea id=\"{id}\" name=\"{name}\" rows=\"3\"{required}>{text}</textarea>"
                        ),
                    )
                } else {
                    (
                        data_type,
                        format!(
                            "<input id=\"{id}\" name=\"{name}\" placeholder=\"comma, separated\" value=\"{text}\"{required}>"
                        ),
                    )
                }
            }
            "string" => {
                let input_type = match schema["format"].as_str() {
                    Some("date") => "date",
                    Some("email") => "email",
                    _ if secret => "password",
                    _ => "text",
                };
                (
                    "string",
                    format!(
                        "<input id=\"{id}\" name=\"{name}\" type=\"{input_type}\" value=\"{}\" autocomplete=\"off\"{required}>",
                        escape(&initial_text(value, "string"))
                    ),
                )
            }
            _ => {
                let text = escape(&initial_text(value, "json"));
                (
                    "json",
                    format!(
                        "<textarea id=\"{id}\" name=\"{name}\" rows=\"3\"{required}>{text}</textarea>"
                    ),
                )
            }
        }
    };
    let nullable = matches!(&schema["type"], Value::Array(t) if t.iter().any(|t| t == "null"));
    let initial = escape(&initial_text(value, data_type));
    let hint = if about.is_empty() {
        String::new()
    } else {
        format!("<small>{}</small>", escape(about))
    };
    let star = if input.required { " *" } else { "" };
    format!(
        "<div class=\"field\" data-field=\"{name}\" data-type=\"{data_type}\" data-nullable=\"{nullable}\" data-initial=\"{initial}\"><label for=\"{id}\">{name}{star}</label>{control}{hint}</div>\n"
    )
}

/// The names an edit may send back: the body's properties that are not secrets.
pub(super) fn editable<'d>(document: &'d Value, schema: &'d Value) -> Vec<&'d str> {
    inputs(document, schema)
        .into_iter()
        .filter(|input| {
            !resolve(document, input.schema)["writeOnly"]
                .as_bool()
                .unwrap_or(false)
        })
        .map(|input| input.name)
        .collect()
}

/// Whether a body is not an object of fields (an array, say): such a body is edited as JSON.
fn is_whole_json(document: &Value, schema: &Value) -> bool {
    let schema = resolve(document, schema);
    let fielded = schema.get("properties").is_some()
        || schema.get("allOf").is_some()
        || schema.get("oneOf").is_some();
    !fielded && schema["type"] != "object"
}

/// A form sending `method` to `url` with the fields of `schema`; `current` pre-fills an edit
/// form, whose script then sends only what changed. A body that is not an object of fields is
/// one JSON text.
pub fn form(
    document: &Value,
    id: &str,
    title: &str,
    method: &str,
    url: &str,
    schema: &Value,
    current: Option<&Map<String, Value>>,
) -> String {
    let mut fields = String::new();
    if is_whole_json(document, schema) {
        let example = if resolve(document, schema)["type"] == "array" {
            "[]"
        } else {
            "{}"
        };
        fields.push_str(&format!(
            "<div class=\"field\" data-body=\"json\"><label for=\"f-{id}-body\">JSON body</label><textarea id=\"f-{id}-body\" rows=\"6\" spellcheck=\"false\">{example}</textarea></div>\n",
            id = escape(id)
        ));
    }
    for input in inputs(document, schema) {
        fields.push_str(&field(document, id, &input, current));
    }
    let changed_only = if current.is_some() { "true" } else { "false" };
    format!(
        r#"<details class="form"{open}><summary>{title}</summary>
<form id="{id}" data-role="send" data-method="{method}" data-url="{url}" data-changed-only="{changed_only}">
{fields}<button type="submit">{method}</button>
<div class="result" aria-live="polite"></div>
</form></details>
"#,
        // Only the create form starts open; edits and actions (which may replace a whole list)
        // are opened on purpose.
        open = if id == "create" { " open" } else { "" },
        title = escape(title),
        id = escape(id),
        method = escape(method),
        url = escape(url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_typed_fields_from_the_schema() {
        let document = json!({ "components": { "schemas": { "ThingInput": { "type": "object", "properties": {
            "name": { "type": "string" },
            "kind": { "type": "string", "enum": ["a", "b"] },
            "tags": { "type": "array", "items": { "type": "string" } },
            "size": { "type": ["integer", "null"] },
            "secret": { "type": "string", "writeOnly": true }
        }}}}});
        let schema = json!({ "allOf": [{ "$ref": "#/components/schemas/ThingInput" }, { "required": ["name"] }] });
        let html = form(
            &document,
            "create",
            "Create",
            "POST",
            "/api/v1/things/",
            &schema,
            None,
        );
        assert!(html.contains(r#"name="name" type="text" value="" autocomplete="off" required"#));
        assert!(html.contains("<option>b</option>"));
        assert!(html.contains(r#"data-field="tags" data-type="list""#));
        assert!(html.contains(r#"data-field="size" data-type="integer" data-nullable="true""#));
        assert!(html.contains(r#"type="password""#));
        let edit = |current: Value| {
            form(
                &document,
                "edit",
                "Edit",
                "PATCH",
                "/api/v1/things/1/",
                &schema,
                current.as_object(),
            )
        };
        let html = edit(json!({ "name": "<x>", "tags": ["a", "b"] }));
        assert!(html.contains(r#"value="&lt;x&gt;""#));
        assert!(html.contains(r#"data-initial="a, b""#));
        assert!(html.contains(r#"type="number" step="1""#));

        // A revealed secret is not put back into the edit form.
        let html = edit(json!({ "name": "n", "secret": "hunter2" }));
        assert!(!html.contains("hunter2"), "{html}");
        assert_eq!(
            editable(&document, &schema),
            ["name", "kind", "size", "tags"]
        );

        // A list body is one JSON text.
        let list = json!({ "type": "array", "items": { "type": "object" } });
        let html = form(&document, "put", "Replace", "PUT", "/x/", &list, None);
        assert!(html.contains(r#"data-body="json""#) && html.contains(">[]</textarea>"));
    }
}
