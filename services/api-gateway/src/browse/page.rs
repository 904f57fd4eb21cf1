//! The frame of every browsable page: the key form, the navigation and the security headers.
//! All script and style come from the binary (`/api/v1/docs/…`); nothing inline.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::Value;

/// No inline script or style, nothing from another origin, no framing.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page around `main`.
pub fn page(status: StatusCode, title: &str, kind: &str, main: &str) -> HttpResponse {
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · ClientSt0r API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/v1/docs/browse.css">
<script src="/api/v1/docs/browse.js" defer></script>
</head>
<body data-page="{kind}">
<header class="top">
  <a class="brand" href="/api/">ClientSt0r API</a>
  <nav><a href="/api/">Resources</a> <a href="/api/v1/docs/" data-plain>OpenAPI (Swagger UI)</a> <a href="/api/v1/openapi.json" data-plain>openapi.json</a></nav>
  <form id="key-form" autocomplete="off">
    <label for="api-key">API key</label>
    <input id="api-key" type="password" placeholder="itdocs_live_…" spellcheck="false">
    <button type="submit" id="use-key">Use key</button>
    <button type="button" id="forget-key" hidden>Forget key</button>
    <span id="key-status" role="status"></span>
  </form>
</header>
<main id="content">
{main}
</main>
<footer>The key is kept in this tab only (session storage) and sent as the Bearer header.
Add <code>?format=json</code> to a URL for the raw answer.</footer>
</body>
</html>
"#,
        title = escape(title),
        kind = escape(kind),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", PAGE_CSP))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header(("cache-control", "no-store"))
        .body(body)
}

/// Without a key: what the page is, and the key form above.
pub fn shell(path: &str, message: &str) -> HttpResponse {
    let main = format!(
        r#"<section class="shell">
<h1>{path}</h1>
<p class="notice">{message}</p>
<p>Paste an API key (<code>itdocs_live_…</code>) in the form above. Keys are made under
<a href="/api/v1/api-keys/">API keys</a> or with <code>api-gateway admin key create</code>;
<code>make up</code> prints one.</p>
</section>"#,
        path = escape(path),
        message = escape(message),
    );
    page(StatusCode::UNAUTHORIZED, path, "shell", &main)
}

/// `/api/`: every top-level resource with its one-line description, from the API description.
pub fn root(document: &Value) -> HttpResponse {
    let mut rows = String::new();
    for (path, list) in super::description::resources(document) {
        let item = &document["paths"][path];
        let about = list["description"]
            .as_str()
            .filter(|d| !d.is_empty())
            .or(list["summary"].as_str())
            .unwrap_or_default();
        let methods: Vec<String> = item
            .as_object()
            .into_iter()
            .flatten()
            .map(|(m, _)| m.to_uppercase())
            .collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"{path}\">{path}</a></td><td>{about}</td><td class=\"methods\">{methods}</td></tr>\n",
            path = escape(path),
            about = escape(about),
            methods = escape(&methods.join(", ")),
        ));
    }
    let main = format!(
        r#"<h1>Resources</h1>
<p class="notice" id="key-hint">Start here: paste an API key (<code>itdocs_live_…</code>; <code>make up</code>
prints one) into the key box above, then open a resource.</p>
<p>Every resource of the API. Open one to list, filter, create and change records; the same
URLs answer JSON to scripts. The full description is the
<a href="/api/v1/openapi.json" data-plain>OpenAPI document</a>, browsable in
<a href="/api/v1/docs/" data-plain>Swagger UI</a>.</p>
<table class="resources"><thead><tr><th>Path</th><th>What</th><th>Methods</th></tr></thead>
<tbody>
{rows}</tbody></table>"#
    );
    page(StatusCode::OK, "Resources", "root", &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
