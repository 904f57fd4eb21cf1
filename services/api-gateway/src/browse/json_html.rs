//! JSON as HTML: pretty-printed, escaped, with links into the API made clickable.

use serde_json::Value;

use super::page::escape;

/// JSON as HTML, with same-origin API URLs as links and record ids linked to their page.
pub(super) fn json_html(value: &Value, indent: usize, item_link: Option<&str>, out: &mut String) {
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
pub(super) fn api_link(text: &str) -> Option<String> {
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
