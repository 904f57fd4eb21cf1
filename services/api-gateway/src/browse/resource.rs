//! A resource's answer as a page: the request and its status, what the path accepts (methods,
//! filters, forms and actions, all from the API description), pagination and the JSON itself
//! with its links made clickable.

use serde_json::Value;

use super::actions::{controls, raw_editor};
use super::description;
use super::json_html::{Links, json_html};
use super::listing::{Table, filters, named, pagination, table};
use super::page::escape;

/// What was asked and answered.
pub struct Exchange<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// The host the browser used: absolute URLs on it are this API's own.
    pub host: &'a str,
    pub status: u16,
    pub reason: &'a str,
    pub body: &'a [u8],
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
            html.push_str(&pagination(page, &query, (&here, exchange.host)));
            let results = page["results"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let shown = Table {
                item_template: item_template.as_deref(),
                base: &here,
                orderable: &named(get, "x-ordering-fields"),
                query: &query,
            };
            html.push_str(&table(document, results, &shown));
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
    let links = Links {
        host: exchange.host,
        items: is_list
            .then_some(())
            .and(item_template.as_ref())
            .map(|_| here.as_str()),
    };
    let mut pretty = String::new();
    json_html(&body, 0, links, &mut pretty);
    html.push_str(&format!(
        "<h2>Answer</h2>\n<pre class=\"json\" id=\"answer\">{pretty}</pre>\n"
    ));
    html.push_str(&raw_editor(
        document,
        operations,
        (&allowed, &here),
        &body,
        exchange.status,
    ));
    (title, html)
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
                "get": { "summary": "List things", "description": "Things", "x-search-fields": ["name"], "x-ordering-fields": ["id", "name"],
                         "parameters": [{ "name": "status", "in": "query", "schema": { "type": "string", "enum": ["on", "off"] } },
                                        { "name": "ordering", "in": "query", "schema": { "type": "string" } },
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
            host: "h",
            status: 200,
            reason: "OK",
            body: body.as_bytes(),
        };
        let (title, html) = render(&document(), &exchange);
        assert_eq!(title, "List things");
        assert!(html.contains("<option selected>on</option>"), "{html}");
        assert!(!html.contains("id=\"q-page\""));
        assert!(html.contains(r#"<a rel="next" href="/api/v1/things/?page=2">"#));
        assert!(html.contains("page 1 of 1 · 1 in all"), "{html}");
        assert!(html.contains(r#"<span class="off">« first</span>"#));
        assert!(html.contains(r#"<td><a href="/api/v1/things/4/">4</a></td>"#));
        // Headings order the list, filters kept; the ordering input offers what the list takes.
        assert!(
            html.contains(
                r#"<th><a href="/api/v1/things/?status=on&amp;ordering=name" data-order="name""#
            ),
            "{html}"
        );
        assert!(html.contains("<option>-name</option>"));
        assert!(html.contains(r#"<a class="n" href="/api/v1/things/4/">4</a>"#));
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
            host: "h",
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
