//! The browsable API and the API description: `/api/` as a page, every resource as a page for
//! a browser (content negotiation), `/api/v1/openapi.json` merged from the services, and
//! Swagger UI at `/api/v1/docs/`. Every script and style is served from the binary.

mod actions;
pub mod description;
mod forms;
mod json_html;
mod listing;
mod page;
mod resource;

use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, AUTHORIZATION};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::Gateway;

pub use page::shell;

/// Whether the client asked for the page rather than JSON: `?format=api` or a browser's
/// `Accept` putting `text/html` before JSON; `?format=json` always means JSON.
pub fn wants_html(req: &HttpRequest) -> bool {
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if key == "format" {
            return value == "api";
        }
    }
    let accept = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match (accept.find("text/html"), accept.find("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

pub fn has_credentials(req: &HttpRequest) -> bool {
    req.headers().contains_key(AUTHORIZATION)
}

/// The answer to a browser: `body` (JSON) rendered with what its path accepts.
pub async fn render(
    gateway: &Gateway,
    (method, path, query): (&str, &str, &str),
    host: &str,
    status: StatusCode,
    body: &[u8],
) -> HttpResponse {
    let document = gateway.description.get(gateway).await;
    let exchange = resource::Exchange {
        method,
        path,
        query,
        host,
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default(),
        body,
    };
    let (title, main) = resource::render(&document, &exchange);
    page::page(status, &title, "resource", &main)
}

/// `/api/` and `/api/v1/`: the page for a browser, else the resources and where they live.
pub async fn root(req: HttpRequest, gateway: web::Data<Gateway>) -> HttpResponse {
    let document = gateway.description.get(&gateway).await;
    if wants_html(&req) {
        return page::root(&document);
    }
    let mut resources = serde_json::Map::new();
    for (path, _) in description::resources(&document) {
        let rest = path.trim_start_matches("/api/v1/").trim_end_matches('/');
        resources.insert(rest.replace(['/', '-'], "_"), path.into());
    }
    HttpResponse::Ok().json(resources)
}

/// The printed URL (`http://127.0.0.1:8080`) leads to the API root.
async fn to_root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("location", "/api/"))
        .finish()
}

async fn openapi(gateway: web::Data<Gateway>) -> HttpResponse {
    let document = gateway.description.get(&gateway).await;
    HttpResponse::Ok()
        .insert_header(("access-control-allow-origin", "*"))
        .json(document.as_ref())
}

/// Swagger UI's own page: its bundle needs inline styles, nothing else is relaxed.
async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        ))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(DOCS_PAGE)
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ClientSt0r API · Swagger UI</title>
<link rel="stylesheet" href="/api/v1/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/v1/docs/swagger-ui-bundle.js"></script>
<script src="/api/v1/docs/swagger-init.js"></script>
</body>
</html>
"#;

/// Files served from the binary: `(name, content type, bytes)`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "browse.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/browse.js"),
    ),
    (
        "browse.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/browse.css"),
    ),
    (
        "swagger-init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-init.js"),
    ),
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    ),
];

async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(file, _, _)| *file == name.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("x-content-type-options", "nosniff"))
            .insert_header(("cache-control", "public, max-age=3600"))
            .body(*bytes),
        None => actix_web::ResponseError::error_response(&clientstor_http::ApiError::not_found()),
    }
}

/// The public routes: the root, the description, Swagger UI and the page assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(to_root))
        .route("/api/", web::get().to(root))
        .route("/api/v1/", web::get().to(root))
        .route("/api/v1/openapi.json", web::get().to(openapi))
        .route("/api/openapi.json", web::get().to(openapi))
        .route("/api/v1/docs/", web::get().to(docs))
        .route("/api/v1/docs", web::get().to(docs))
        .route("/api/v1/docs/{name}", web::get().to(asset));
}
