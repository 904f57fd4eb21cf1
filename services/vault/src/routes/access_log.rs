//! The access log, for Owners and Admins (`audit_view`): per entry at
//! `/api/v1/passwords/{id}/access-log/`, and across entries at `/api/v1/vault/access-log/`
//! (`?user=&since=&until=` is the offboarding report: everything a user revealed in a period).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use serde::Deserialize;
use serde_json::{Value, json};

use super::passwords::visible;
use crate::db::access_log::{self as repo, AccessFilter, AccessRow};
use crate::error::VaultError;

fn represent(row: &AccessRow) -> Value {
    json!({
        "id": row.id,
        "organization": row.organization_id,
        "password": row.password_id,
        "password_title": row.password_title,
        "action": row.action,
        "user": row.user_id,
        "api_key": row.api_key_id,
        "client_address": row.client_address,
        "request_id": row.request_id,
        "at": row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "hash": hex::encode(&row.hash),
    })
}

#[derive(Debug, Deserialize)]
struct Filters {
    user: Option<i64>,
    action: Option<String>,
    password: Option<i64>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

async fn respond(
    req: &HttpRequest,
    context: &Context,
    orgs: &[i64],
    filter: AccessFilter,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(req)?;
    let (count, rows) = repo::list(&context.pool, orgs, &filter, page).await?;
    let results = rows.iter().map(represent).collect();
    Ok(HttpResponse::Ok().json(Page::new(req, page, count, results)?))
}

async fn all(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let orgs = principal.orgs_with("audit_view");
    if orgs.is_empty() {
        return Err(ApiError::Forbidden(
            "The access log is for Owners and Admins.".into(),
        ));
    }
    let f = filters.into_inner();
    let filter = AccessFilter {
        password_id: f.password,
        user_id: f.user,
        action: f.action,
        since: f.since,
        until: f.until,
    };
    respond(&req, &context, &orgs, filter).await
}

async fn of_entry(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(VaultError::from)?;
    let row = visible(&principal, &mut conn, &path).await?;
    drop(conn);
    principal.require(row.organization_id, "audit_view")?;
    let f = filters.into_inner();
    let filter = AccessFilter {
        password_id: Some(row.id),
        user_id: f.user,
        action: f.action,
        since: f.since,
        until: f.until,
    };
    respond(&req, &context, &[row.organization_id], filter).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/vault/access-log/", "/api/v1/vault/access-log"])
            .route(web::get().to(all)),
    )
    .service(
        web::resource([
            "/api/v1/passwords/{id}/access-log/",
            "/api/v1/passwords/{id}/access-log",
        ])
        .route(web::get().to(of_entry)),
    );
}

pub fn openapi_paths() -> Value {
    let filters = [
        "user",
        "action",
        "password",
        "since",
        "until",
        "page",
        "page_size",
    ]
    .iter()
    .map(|name| json!({ "name": name, "in": "query", "schema": { "type": "string" } }))
    .collect::<Vec<_>>();
    json!({
        "/api/v1/vault/access-log/": {
            "get": { "summary": "Vault access records (offboarding report)", "parameters": filters,
                     "responses": { "200": { "description": "A page of access records" } } }
        },
        "/api/v1/passwords/{id}/access-log/": {
            "get": { "summary": "Access records of one entry",
                     "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                     "responses": { "200": { "description": "A page of access records" } } }
        }
    })
}
