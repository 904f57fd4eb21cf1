//! The access log, for Owners and Admins (`audit_view`): per entry at
//! `/api/v1/passwords/{id}/access-log/`, and across entries at `/api/v1/vault/access-log/`
//! (`?user=&since=&until=` is the offboarding report: everything a user revealed in a period).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec};
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

/// The actions an access record names.
pub const ACTIONS: &[&str] = &[
    repo::REVEAL,
    repo::OTP,
    repo::CREATE,
    repo::UPDATE,
    repo::DELETE,
];

/// An access record, for the API description.
pub const MODEL: Model = Model {
    name: "PasswordAccess",
    noun: "access record",
    about: "The vault access log: every reveal, OTP read, create, update and delete, hash-chained per organization",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("organization", Kind::Integer),
        Field::ro("password", Kind::Integer).about("The entry's id"),
        Field::ro("password_title", Kind::String).about("The entry's title at the time"),
        Field::ro("action", Kind::Enum(ACTIONS)),
        Field::ro("user", Kind::Integer),
        Field::ro("api_key", Kind::Integer)
            .nullable()
            .about("The API key used, if any"),
        Field::ro("client_address", Kind::String).nullable(),
        Field::ro("request_id", Kind::String).nullable(),
        Field::ro("at", Kind::DateTime),
        Field::ro("hash", Kind::String)
            .about("Hex SHA-256 over the previous record's hash and this record"),
    ],
    search: &[],
};

/// The filters both lists read, newest record first, and paging.
fn filtered(action: Action) -> Action {
    action
        .query("user", Kind::Integer, "The user who acted")
        .query("action", Kind::Enum(ACTIONS), "")
        .query("since", Kind::DateTime, "At or after (RFC 3339)")
        .query("until", Kind::DateTime, "Before (RFC 3339)")
        .query("page", Kind::Integer, "1-based")
        .query(
            "page_size",
            Kind::Integer,
            "25 by default; above 200 is served as 200",
        )
        .returns_page(&MODEL)
        .error("400", "A filter or paging parameter is not valid")
}

pub fn openapi(spec: &mut Spec) {
    // Registers the schema and describes the `vault` tag; the lists are actions (no search,
    // no ordering).
    spec.resource("/api/v1/vault/access-log/", &MODEL, "", &[])
        .action(
            filtered(
                Action::new(
                    "get",
                    "/api/v1/vault/access-log/",
                    "List vault access records (the offboarding report)",
                )
                .answers(
                    "200",
                    "A page of access records, newest first; needs audit_view",
                )
                .organization()
                .query("password", Kind::Integer, "The entry's id"),
            )
            .error("404", "A page past the end"),
        )
        .action(
            filtered(
                Action::new(
                    "get",
                    "/api/v1/passwords/{id}/access-log/",
                    "List an entry's access records",
                )
                .answers(
                    "200",
                    "A page of the entry's access records, newest first; needs audit_view",
                ),
            )
            .error("404", "No such entry, or a page past the end"),
        );
}
