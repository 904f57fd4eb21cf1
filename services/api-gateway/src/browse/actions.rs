//! What a page lets one do: action buttons and links from the paths below it, the create and
//! edit forms, the delete button and the raw JSON editor.

use serde_json::Value;

use super::forms;
use super::page::escape;

/// Buttons and links for the operations below `template` (`…/{id}/sync/`, `…/{id}/otp/`).
/// `item` is the concrete path they act on.
pub(super) fn actions(document: &Value, template: &str, item: &str, compact: bool) -> String {
    let mut out = String::new();
    for (child, operations) in document["paths"].as_object().into_iter().flatten() {
        let Some(rest) = child.strip_prefix(template) else {
            continue;
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('{') {
            continue;
        }
        let url = format!("{item}{rest}/");
        for (method, operation) in operations.as_object().into_iter().flatten() {
            let summary = operation["summary"].as_str().unwrap_or(rest);
            let label = rest.replace('-', " ");
            if method == "get" {
                if !compact {
                    out.push_str(&format!(
                        "<a class=\"action\" href=\"{}\" title=\"{}\">{}</a>\n",
                        escape(&url),
                        escape(summary),
                        escape(&label)
                    ));
                }
            } else if operation.get("requestBody").is_none() {
                out.push_str(&format!(
                    "<button type=\"button\" class=\"action\" data-role=\"action\" data-method=\"{}\" data-url=\"{}\" title=\"{}\">{}</button>\n",
                    escape(&method.to_uppercase()),
                    escape(&url),
                    escape(summary),
                    escape(&label)
                ));
            } else if !compact {
                let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
                out.push_str(&forms::form(
                    document,
                    &format!(
                        "action-{}",
                        rest.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                    ),
                    summary,
                    &method.to_uppercase(),
                    &url,
                    schema,
                    None,
                ));
            }
        }
    }
    out
}

/// Actions, the create form and the edit form of a path that answered successfully.
pub(super) fn controls(
    document: &Value,
    operations: &Value,
    get: Option<&Value>,
    template: &str,
    here: &str,
    body: &Value,
    is_list: bool,
) -> String {
    let mut html = String::new();
    html.push_str("<section class=\"actions\">\n");
    html.push_str(&actions(document, template, here, false));
    for parameter in get
        .map(|g| &g["parameters"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !is_list && parameter["in"] == "query" && parameter["schema"]["type"] == "boolean" {
            let name = parameter["name"].as_str().unwrap_or_default();
            html.push_str(&format!(
                "<a class=\"action\" href=\"{}?{}=true\" title=\"{}\">{}</a>\n",
                escape(here),
                escape(name),
                escape(parameter["description"].as_str().unwrap_or_default()),
                escape(name)
            ));
        }
    }
    if operations.get("delete").is_some() {
        html.push_str(&format!(
            "<button type=\"button\" class=\"action danger\" data-role=\"action\" data-method=\"DELETE\" data-url=\"{}\" data-confirm=\"Delete this record?\">delete</button>\n",
            escape(here)
        ));
    }
    html.push_str("</section>\n");
    let body_schema = |method: &str| {
        operations[method]["requestBody"]["content"]["application/json"]["schema"]
            .as_object()
            .map(|_| &operations[method]["requestBody"]["content"]["application/json"]["schema"])
    };
    let noun = get
        .and_then(|g| g["summary"].as_str())
        .unwrap_or("record")
        .trim_start_matches("List ")
        .trim_start_matches("Get ");
    if let Some(schema) = body_schema("post") {
        let summary = operations["post"]["summary"].as_str().unwrap_or("Create");
        html.push_str(&forms::form(
            document, "create", summary, "POST", here, schema, None,
        ));
    }
    if let Some(schema) = body_schema("patch").or_else(|| body_schema("put")) {
        let method = if operations.get("patch").is_some() {
            "PATCH"
        } else {
            "PUT"
        };
        html.push_str(&forms::form(
            document,
            "edit",
            &format!("Edit {noun}"),
            method,
            here,
            schema,
            body.as_object(),
        ));
    }
    html
}

/// A raw JSON editor for any allowed method. A record's page starts it with what an edit may
/// send back (no ids, no timestamps, no secrets).
pub(super) fn raw_editor(
    document: &Value,
    operations: Option<&Value>,
    (allowed, here): (&[String], &str),
    body: &Value,
    status: u16,
) -> String {
    let methods: String = allowed
        .iter()
        .filter(|m| *m != "GET")
        .map(|m| format!("<option>{}</option>", escape(m)))
        .collect();
    if methods.is_empty() {
        return String::new();
    }
    let edit_schema = operations.and_then(|o| {
        ["patch", "put"]
            .iter()
            .map(|m| &o[*m]["requestBody"]["content"]["application/json"]["schema"])
            .find(|schema| schema.is_object())
    });
    let prefill = match (edit_schema, body.as_object()) {
        (Some(schema), Some(record))
            if (200..300).contains(&status) && body.get("results").is_none() =>
        {
            let editable = forms::editable(document, schema);
            let shown: serde_json::Map<String, Value> = record
                .iter()
                .filter(|(key, _)| editable.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        }
        _ => "{}".into(),
    };
    format!(
        r#"<details class="raw"><summary>Raw JSON request</summary>
<form id="raw" data-role="raw" data-url="{url}">
<select name="method" id="raw-method">{methods}</select>
<textarea name="body" id="raw-body" rows="10" spellcheck="false">{prefill}</textarea>
<button type="submit">Send</button>
<div class="result" aria-live="polite"></div>
</form></details>
"#,
        url = escape(here),
        prefill = escape(&prefill)
    )
}
