//! A list's page furniture: the filter form, the pagination and the results table.

use serde_json::{Map, Value};

use super::actions::actions;
use super::description::resolve;
use super::json_html::api_link;
use super::page::escape;

/// The filter form of a list: every query parameter of its `GET` but the page number.
pub(super) fn filters(document: &Value, operation: &Value, query: &[(String, String)]) -> String {
    let search_fields = named(operation, "x-search-fields");
    let orderable = named(operation, "x-ordering-fields");
    let mut fields = String::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let parameter = resolve(document, parameter);
        if parameter["in"] != "query" || parameter["name"] == "page" {
            continue;
        }
        let Some(name) = parameter["name"].as_str() else {
            continue;
        };
        // A list without search fields or orderings ignores those parameters: no input for them.
        if (name == "search" && search_fields.is_empty())
            || (name == "ordering" && orderable.is_empty())
        {
            continue;
        }
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
        } else if name == "ordering" {
            let choices: String = orderable
                .iter()
                .map(|field| {
                    let field = escape(field);
                    format!("<option>{field}</option><option>-{field}</option>")
                })
                .collect();
            format!(
                "<input id=\"{id}\" name=\"ordering\" value=\"{}\" list=\"ordering-choices\"><datalist id=\"ordering-choices\">{choices}</datalist>",
                escape(current)
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
    let mut searches = if search_fields.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"hint\">search looks in: {}</p>",
            escape(&search_fields.join(", "))
        )
    };
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

/// The names an extension of the operation lists (`x-search-fields`, `x-ordering-fields`): the
/// services' own lists, so the page offers exactly what the list accepts.
pub(super) fn named<'d>(operation: &'d Value, extension: &str) -> Vec<&'d str> {
    operation[extension]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The first, previous (the service's own link), next (likewise) and last pages, and the
/// position in the list.
pub(super) fn pagination(
    page: &Map<String, Value>,
    query: &[(String, String)],
    (base, host): (&str, &str),
) -> String {
    let link = |key: &str, label: &str| match page
        .get(key)
        .and_then(Value::as_str)
        .and_then(|url| api_link(url, host))
    {
        Some(href) => format!("<a rel=\"{key}\" href=\"{}\">{label}</a>", escape(&href)),
        None => format!("<span class=\"off\">{label}</span>"),
    };
    let number_of = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .filter(|n| *n > 0)
    };
    let count = page.get("count").and_then(Value::as_u64).unwrap_or(0);
    let number = number_of("page").unwrap_or(1);
    // The services' paging: 25 a page unless asked, at most 200.
    let size = number_of("page_size").unwrap_or(25).min(200);
    let pages = count.div_ceil(size).max(1);
    let jump = |rel: &str, label: &str, to: u64, open: bool| {
        if open {
            let page = (to > 1).then(|| to.to_string());
            format!(
                "<a rel=\"{rel}\" href=\"{}\">{label}</a>",
                escape(&with(base, query, "page", page.as_deref()))
            )
        } else {
            format!("<span class=\"off\">{label}</span>")
        }
    };
    format!(
        "<nav class=\"pages\">{} {} <span>page {number} of {pages} · {count} in all</span> {} {}</nav>\n",
        jump("first", "« first", 1, number > 1),
        link("previous", "‹ previous"),
        link("next", "next ›"),
        jump("last", "last »", pages, number < pages)
    )
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

/// `base` with `query`, `key` set to `value` (or left out), and `page` dropped unless it is
/// the key: a new order starts at the first page.
fn with(base: &str, query: &[(String, String)], key: &str, value: Option<&str>) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (name, current) in query {
        if name != key && name != "page" {
            url.append_pair(name, current);
        }
    }
    if let Some(value) = value {
        url.append_pair(key, value);
    }
    let query = url.finish();
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{query}")
    }
}

/// A column's heading; a column the list can be ordered by links to that order (again: the
/// other way round).
fn heading(column: &str, orderable: &[&str], base: &str, query: &[(String, String)]) -> String {
    if !orderable.contains(&column) {
        return format!("<th>{}</th>", escape(column));
    }
    let current = query
        .iter()
        .find(|(k, _)| k == "ordering")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let descending = format!("-{column}");
    let (next, mark, sorted) = if current == column {
        (descending.as_str(), " ▲", " class=\"sorted\"")
    } else if current == descending {
        (column, " ▼", " class=\"sorted\"")
    } else {
        (column, "", "")
    };
    format!(
        "<th><a{sorted} href=\"{}\" data-order=\"{}\" title=\"order by {}\">{}{mark}</a></th>",
        escape(&with(base, query, "ordering", Some(next))),
        escape(column),
        escape(next),
        escape(column)
    )
}

/// What a results table shows and links.
pub(super) struct Table<'a> {
    /// The record page of an item, when there is one (`/api/v1/assets/{id}/`).
    pub item_template: Option<&'a str>,
    /// The list's own path (`/api/v1/assets/`).
    pub base: &'a str,
    pub orderable: &'a [&'a str],
    pub query: &'a [(String, String)],
}

/// A table of the results: the first scalar columns (headings that order the list), the id
/// linked, and per-row actions.
pub(super) fn table(document: &Value, results: &[Value], shown: &Table<'_>) -> String {
    let (item_template, base) = (shown.item_template, shown.base);
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
        html.push_str(&heading(column, shown.orderable, base, shown.query));
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
