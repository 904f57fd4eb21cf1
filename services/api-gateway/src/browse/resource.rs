//! A resource's answer as a page: the request and its status, what the path accepts (methods,
//! filters, forms and actions, all from the API description), pagination and the JSON itself
//! with its links made clickable.

use serde_json::{Map, Value};

use super::description::{self, resolve};
use super::forms;
use super::page::escape;

/// What was asked and answered.
pub struct Exchange<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub status: u16,
    pub reason: &'a str,
    pub body: &'a [u8],
}

/// JSON as HTML, with same-origin API URLs as links and record ids linked to their page.
fn json_html(value: &Value, indent: usize, item_link: Option<&str>, out: &mut String) {
    let pad = "  ".repeat(indent + 1);
    let end_pad = "  ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (key, value)) in map.iter().enumerate() {
                out.push_str(&format!(
                    "{pad}<span class=\"k\">\"{}\"</span>: ",
                    escape(key)
                ));
                match (key.as_str(), value, item_link) {
                    ("id", Value::Number(id), Some(base)) => out.push_str(&format!(
                        "<a class=\"n\" href=\"{}{id}/\">{id}</a>",
                        escape(base)
                    )),
                    _ => json_html(value, indent + 1, None, out),
                }
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end_pad}}}"));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                json_html(item, indent + 1, item_link, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end_pad}]"));
        }
        Value::String(text) => {
            let quoted = escape(&Value::String(text.clone()).to_string());
            match api_link(text) {
                Some(href) => out.push_str(&format!(
                    "<a class=\"s\" href=\"{}\">{quoted}</a>",
                    escape(&href)
                )),
                None => out.push_str(&format!("<span class=\"s\">{quoted}</span>")),
            }
        }
        Value::Number(_) => out.push_str(&format!("<span class=\"n\">{value}</span>")),
        Value::Bool(_) | Value::Null => out.push_str(&format!("<span class=\"b\">{value}</span>")),
        _ => out.push_str(&escape(&value.to_string())),
    }
}

/// The path and query of an absolute or rooted URL into the API, else nothing: other URLs in
/// records (a webhook's target, say) are shown, not linked.
fn api_link(text: &str) -> Option<String> {
    let rest = if text.starts_with('/') {
        text
    } else {
        let after_scheme = text
            .strip_prefix("http://")
            .or_else(|| text.strip_prefix("https://"))?;
        &after_scheme[after_scheme.find('/')?..]
    };
    (rest.starts_with("/api/") && !rest.contains(char::is_whitespace)).then(|| rest.to_string())
}

/// The filter form of a list: every query parameter of its `GET` but the page number.
fn filters(document: &Value, operation: &Value, query: &[(String, String)]) -> String {
    let mut fields = String::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let parameter = resolve(document, parameter);
        if parameter["in"] != "query" || parameter["name"] == "page" {
            continue;
        }
        let Some(name) = parameter["name"].as_str() else {
            continue;
        };
        let current = query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let schema = &parameter["schema"];
        let id = format!("q-{}", escape(name));
        let control = if let Some(choices) = schema["enum"].as_array() {
            let mut options = String::from("<option value=\"\">any</option>");
            for choice in choices.iter().filter_map(Value::as_str) {
                let mark = if choice == current { " selected" } else { "" };
                options.push_str(&format!("<option{mark}>{}</option>", escape(choice)));
            }
            format!(
                "<select id=\"{id}\" name=\"{}\">{options}</select>",
                escape(name)
            )
        } else if schema["type"] == "boolean" {
            let mark = |b: &str| if current == b { " selected" } else { "" };
            format!(
                "<select id=\"{id}\" name=\"{}\"><option value=\"\">any</option><option{}>true</option><option{}>false</option></select>",
                escape(name),
                mark("true"),
                mark("false")
            )
        } else {
            format!(
                "<input id=\"{id}\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(current)
            )
        };
        let title = parameter["description"].as_str().unwrap_or_default();
        fields.push_str(&format!(
            "<div class=\"field\" title=\"{}\"><label for=\"{id}\">{}</label>{control}</div>\n",
            escape(title),
            escape(name)
        ));
    }
    let search_fields: Vec<&str> = operation["x-search-fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut searches = if search_fields.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"hint\">search looks in: {}</p>",
            escape(&search_fields.join(", "))
        )
    };
    let orderable = orderable(document, operation);
    if !orderable.is_empty() {
        searches.push_str(&format!(
            "<p class=\"hint\" id=\"ordering-fields\">ordering by: {} (a <code>-</code> before a field for descending, commas between fields)</p>",
            escape(&orderable.join(", "))
        ));
    }
    format!(
        "<details class=\"filters\" open><summary>Filters</summary><form id=\"filters\" data-role=\"filters\">\n{fields}<button type=\"submit\">Apply</button> <a href=\"?\" id=\"clear-filters\">Clear</a></form>{searches}</details>\n"
    )
}

/// The scalar fields of a list's records: what `ordering` takes.
fn orderable<'d>(document: &'d Value, operation: &'d Value) -> Vec<&'d str> {
    let items = &operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
        ["results"]["items"];
    let record = resolve(document, items);
    record["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, schema)| {
            let kinds: Vec<&str> = match &schema["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            kinds
                .iter()
                .any(|k| matches!(*k, "string" | "integer" | "number" | "boolean"))
                && !kinds.iter().any(|k| matches!(*k, "object" | "array"))
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

/// Previous and next links and the position in the list.
fn pagination(page: &Map<String, Value>, query: &[(String, String)]) -> String {
    let link =
        |key: &str, label: &str| match page.get(key).and_then(Value::as_str).and_then(api_link) {
            Some(href) => format!("<a rel=\"{key}\" href=\"{}\">{label}</a>", escape(&href)),
            None => format!("<span class=\"off\">{label}</span>"),
        };
    let count = page.get("count").and_then(Value::as_u64).unwrap_or(0);
    let number = query
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(1);
    format!(
        "<nav class=\"pages\">{} <span>page {number} · {count} in all</span> {}</nav>\n",
        link("previous", "« previous"),
        link("next", "next »")
    )
}

/// Buttons and links for the operations below `template` (`…/{id}/sync/`, `…/{id}/otp/`).
/// `item` is the concrete path they act on.
fn actions(document: &Value, template: &str, item: &str, compact: bool) -> String {
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

/// Columns shown first in a results table, when a record has them.
const LEADING_COLUMNS: &[&str] = &[
    "id",
    "name",
    "title",
    "hostname",
    "event",
    "cve_id",
    "status",
    "asset_type",
    "vehicle_type",
    "monitor_type",
    "provider",
    "severity",
    "username",
    "prefix",
    "role",
    "action",
    "serial_number",
    "url",
    "organization_name",
    "created_at",
];

/// A table of the results: the first scalar columns, the id linked, and per-row actions.
fn table(document: &Value, results: &[Value], item_template: Option<&str>, base: &str) -> String {
    let Some(first) = results.first().and_then(Value::as_object) else {
        return "<p class=\"empty\">No results.</p>\n".into();
    };
    // The telling fields first (answers list their keys alphabetically), then other scalars.
    let scalar = |key: &str| {
        first
            .get(key)
            .is_some_and(|v| !matches!(v, Value::Object(_) | Value::Array(_)))
    };
    let mut columns: Vec<&str> = LEADING_COLUMNS
        .iter()
        .copied()
        .filter(|k| scalar(k))
        .take(7)
        .collect();
    for key in first.keys() {
        if columns.len() >= 5 {
            break;
        }
        if scalar(key)
            && !columns.contains(&key.as_str())
            && !matches!(key.as_str(), "organization" | "notes" | "updated_at")
        {
            columns.push(key);
        }
    }
    let mut html = String::from("<table class=\"results\"><thead><tr>");
    for column in &columns {
        html.push_str(&format!("<th>{}</th>", escape(column)));
    }
    if item_template.is_some() {
        html.push_str("<th></th>");
    }
    html.push_str("</tr></thead><tbody>\n");
    for row in results.iter().filter_map(Value::as_object) {
        html.push_str("<tr>");
        let id = row.get("id").map(|id| id.to_string());
        for column in &columns {
            let cell = match row.get(*column) {
                Some(Value::String(s)) => escape(s),
                Some(Value::Null) | None => String::new(),
                Some(other) => escape(&other.to_string()),
            };
            match (*column, &id, item_template) {
                ("id", Some(id), Some(_)) => html.push_str(&format!(
                    "<td><a href=\"{}{}/\">{cell}</a></td>",
                    escape(base),
                    escape(id)
                )),
                _ => html.push_str(&format!("<td>{cell}</td>")),
            }
        }
        if let (Some(template), Some(id)) = (item_template, &id) {
            let item = format!("{base}{id}/");
            html.push_str(&format!(
                "<td class=\"row-actions\">{}</td>",
                actions(document, template, &item, true)
            ));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
    html
}

/// Actions, the create form and the edit form of a path that answered successfully.
fn controls(
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

/// The page content for `exchange`, and its title.
pub fn render(document: &Value, exchange: &Exchange<'_>) -> (String, String) {
    let body: Value = serde_json::from_slice(exchange.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(exchange.body).into_owned()));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(exchange.query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "format")
        .collect();
    let matched = description::template(document, exchange.path);
    let template = matched.as_ref().map(|(t, _)| *t);
    let operations = template.map(|t| &document["paths"][t]);
    let get = operations.map(|o| &o["get"]).filter(|o| o.is_object());
    let title = get
        .and_then(|g| g["summary"].as_str())
        .unwrap_or(exchange.path)
        .to_string();
    let here = description::canonical(exchange.path);
    let shown_query = if exchange.query.is_empty() {
        String::new()
    } else {
        format!("?{}", exchange.query)
    };
    let mut html = format!(
        "<nav class=\"crumbs\">{}</nav>\n<h1>{}</h1>\n",
        crumbs(&here),
        escape(&title)
    );
    if let Some(about) = get
        .and_then(|g| g["description"].as_str())
        .filter(|d| !d.is_empty())
    {
        html.push_str(&format!("<p class=\"about\">{}</p>\n", escape(about)));
    }
    let allowed: Vec<String> = operations
        .and_then(Value::as_object)
        .map(|o| o.keys().map(|m| m.to_uppercase()).collect())
        .unwrap_or_default();
    html.push_str(&format!(
        "<p class=\"request\"><code>{} {}{}</code> <span class=\"status s{}\">HTTP {} {}</span> <span class=\"allow\">Allow: {}</span></p>\n",
        escape(exchange.method),
        escape(exchange.path),
        escape(&shown_query),
        exchange.status / 100,
        exchange.status,
        escape(exchange.reason),
        escape(&allowed.join(", "))
    ));
    let is_list = body.get("results").is_some_and(Value::is_array) && body.get("count").is_some();
    // The record page of a list's items, when there is one.
    let item_template = template.and_then(|t| {
        ["{id}/", "{record_id}/"]
            .iter()
            .map(|suffix| format!("{t}{suffix}"))
            .find(|candidate| document["paths"][candidate.as_str()]["get"].is_object())
    });
    let template_text = template.unwrap_or_default();
    if let (true, Some(get)) = (is_list, get) {
        html.push_str(&filters(document, get, &query));
        if let Some(page) = body.as_object() {
            html.push_str(&pagination(page, &query));
            let results = page["results"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            html.push_str(&table(document, results, item_template.as_deref(), &here));
        }
    }
    // Forms and actions, for a successful answer.
    if let (true, Some(operations)) = ((200..300).contains(&exchange.status), operations) {
        html.push_str(&controls(
            document,
            operations,
            get,
            template_text,
            &here,
            &body,
            is_list,
        ));
    }
    let link_base = is_list
        .then_some(())
        .and(item_template.as_ref())
        .map(|_| here.as_str());
    let mut pretty = String::new();
    json_html(&body, 0, link_base, &mut pretty);
    html.push_str(&format!(
        "<h2>Answer</h2>\n<pre class=\"json\" id=\"answer\">{pretty}</pre>\n"
    ));
    html.push_str(&raw_editor(&allowed, &here, &body, exchange.status));
    (title, html)
}

/// A raw JSON editor for any allowed method.
fn raw_editor(allowed: &[String], here: &str, body: &Value, status: u16) -> String {
    let methods: String = allowed
        .iter()
        .filter(|m| *m != "GET")
        .map(|m| format!("<option>{}</option>", escape(m)))
        .collect();
    if methods.is_empty() {
        return String::new();
    }
    let prefill =
        if (200..300).contains(&status) && body.get("results").is_none() && body.is_object() {
            serde_json::to_string_pretty(body).unwrap_or_default()
        } else {
            "{}".into()
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

/// `/api/v1/assets/7/` as links to each level.
fn crumbs(path: &str) -> String {
    let mut out = String::from("<a href=\"/api/\">api</a>");
    let mut so_far = String::from("/api/");
    for segment in path
        .trim_start_matches("/api/")
        .trim_end_matches('/')
        .split('/')
    {
        if segment.is_empty() {
            continue;
        }
        so_far.push_str(segment);
        so_far.push('/');
        if segment == "v1" {
            continue;
        }
        out.push_str(&format!(
            " / <a href=\"{}\">{}</a>",
            escape(&so_far),
            escape(segment)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({ "paths": {
            "/api/v1/things/": {
                "get": { "summary": "List things", "description": "Things", "x-search-fields": ["name"],
                         "parameters": [{ "name": "status", "in": "query", "schema": { "type": "string", "enum": ["on", "off"] } },
                                        { "name": "page", "in": "query", "schema": { "type": "integer" } }] },
                "post": { "summary": "Create a thing", "requestBody": { "content": { "application/json": { "schema": { "type": "object", "properties": { "name": { "type": "string" } } } } } } }
            },
            "/api/v1/things/{id}/": { "get": { "summary": "Get a thing", "parameters": [{ "name": "reveal", "in": "query", "schema": { "type": "boolean" } }] }, "delete": {} },
            "/api/v1/things/{id}/retry/": { "post": { "summary": "Retry it" } },
            "/api/v1/things/{id}/log/": { "get": { "summary": "The log" } }
        }})
    }

    #[test]
    fn a_list_has_filters_rows_with_actions_and_a_create_form() {
        let body = json!({ "count": 1, "next": "http://h/api/v1/things/?page=2", "previous": null,
                           "results": [{ "id": 4, "name": "<b>", "url": "https://elsewhere.example/x" }] });
        let body = body.to_string();
        let exchange = Exchange {
            method: "GET",
            path: "/api/v1/things/",
            query: "status=on&format=api",
            status: 200,
            reason: "OK",
            body: body.as_bytes(),
        };
        let (title, html) = render(&document(), &exchange);
        assert_eq!(title, "List things");
        assert!(html.contains("<option selected>on</option>"), "{html}");
        assert!(!html.contains("id=\"q-page\""));
        assert!(html.contains(r#"<a rel="next" href="/api/v1/things/?page=2">"#));
        assert!(html.contains(r#"<td><a href="/api/v1/things/4/">4</a></td>"#));
        assert!(html.contains(r#"data-url="/api/v1/things/4/retry/""#));
        assert!(html.contains("&lt;b&gt;") && !html.contains("<b>"));
        assert!(html.contains(r#"data-role="send" data-method="POST""#));
        assert!(html.contains(r#"<span class="s">&quot;https://elsewhere.example/x&quot;</span>"#));
    }

    #[test]
    fn a_record_has_actions_links_and_an_edit_form_free_of_markup() {
        let body = json!({ "id": 4, "name": "x" }).to_string();
        let exchange = Exchange {
            method: "GET",
            path: "/api/things/4",
            query: "",
            status: 200,
            reason: "OK",
            body: body.as_bytes(),
        };
        let (_, html) = render(&document(), &exchange);
        assert!(html.contains(r#"href="/api/v1/things/4/log/""#));
        assert!(html.contains(r#"data-url="/api/v1/things/4/retry/""#));
        assert!(html.contains(r#"href="/api/v1/things/4/?reveal=true""#));
        assert!(html.contains(r#"data-method="DELETE""#));
    }
}
