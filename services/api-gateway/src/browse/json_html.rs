//! JSON as HTML: pretty-printed, escaped, with links into the API made clickable.

use serde_json::Value;

use super::page::escape;

/// What a rendering links: URLs of this API (`host` is the one the browser used) and, in a list,
/// record ids to their page under `items`.
#[derive(Clone, Copy)]
pub(super) struct Links<'a> {
    pub host: &'a str,
    pub items: Option<&'a str>,
}

/// JSON as HTML, with this API's URLs as links and a list's record ids linked to their page.
pub(super) fn json_html(value: &Value, indent: usize, links: Links<'_>, out: &mut String) {
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
                match (key.as_str(), value, links.items) {
                    ("id", Value::Number(id), Some(base)) => out.push_str(&format!(
                        "<a class=\"n\" href=\"{}{id}/\">{id}</a>",
                        escape(base)
                    )),
                    // Only the records of a list's `results` link their ids; nested objects
                    // (an organization, a matched product) are not records of this list.
                    ("results", Value::Array(_), _) if indent == 0 => {
                        json_html(value, indent + 1, links, out)
                    }
                    _ => json_html(
                        value,
                        indent + 1,
                        Links {
                            items: None,
                            ..links
                        },
                        out,
                    ),
                }
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end_pad}}}"));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                json_html(item, indent + 1, links, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end_pad}]"));
        }
        Value::String(text) => {
            let quoted = escape(&Value::String(text.clone()).to_string());
            match api_link(text, links.host) {
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

/// The path and query of a rooted URL into the API, or of an absolute one on `host`, else
/// nothing: other URLs in records (a webhook's target, an RMM platform) are shown, not linked,
/// even when their path starts with `/api/`.
pub(super) fn api_link(text: &str, host: &str) -> Option<String> {
    let rest = if text.starts_with('/') && !text.starts_with("//") {
        text
    } else {
        let after_scheme = text
            .strip_prefix("http://")
            .or_else(|| text.strip_prefix("https://"))?;
        let slash = after_scheme.find('/')?;
        if !after_scheme[..slash].eq_ignore_ascii_case(host) {
            return None;
        }
        &after_scheme[slash..]
    };
    (rest.starts_with("/api/") && !rest.contains(char::is_whitespace)).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_this_apis_urls_only() {
        let host = "127.0.0.1:8080";
        assert_eq!(
            api_link("http://127.0.0.1:8080/api/v1/assets/?page=2", host).as_deref(),
            Some("/api/v1/assets/?page=2")
        );
        assert_eq!(
            api_link("/api/v1/assets/4/", host).as_deref(),
            Some("/api/v1/assets/4/")
        );
        for elsewhere in [
            "https://rmm.example/api/v2/devices",
            "http://127.0.0.1:9999/api/v1/assets/",
            "//evil.example/api/v1/",
            "/api/v1/a b/",
            "/other/",
        ] {
            assert_eq!(api_link(elsewhere, host), None, "{elsewhere}");
        }
    }

    #[test]
    fn a_lists_record_ids_link_to_their_pages_and_nothing_nested_does() {
        let page = json!({ "count": 1, "results": [{ "id": 7, "organization": { "id": 3 } }] });
        let mut out = String::new();
        let links = Links {
            host: "h",
            items: Some("/api/v1/assets/"),
        };
        json_html(&page, 0, links, &mut out);
        assert!(
            out.contains(r#"<a class="n" href="/api/v1/assets/7/">7</a>"#),
            "{out}"
        );
        assert!(!out.contains("/api/v1/assets/3/"), "{out}");
        assert!(
            !out.contains("/api/v1/assets/1/"),
            "count is not an id: {out}"
        );
    }
}
