//! `/api/v1/audit-log/`: for Owners and Admins (`audit_view`), filtered by user, action and date.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde::Deserialize;

/// The audit entry representation, for the API description.
pub const MODEL: Model = Model {
    name: "AuditEntry",
    noun: "audit entry",
    about: "Who changed organizations, memberships, roles and API keys, and from where (Owners and Admins)",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("organization", Kind::Integer).nullable(),
        Field::ro("user", Kind::Integer).nullable(),
        Field::ro("api_key", Kind::Integer)
            .nullable()
            .about("The key the change was made with"),
        Field::ro("action", Kind::String)
            .about("`organization.created`, `membership.updated`, `api_key.revoked`, …"),
        Field::ro("object_type", Kind::String),
        Field::ro("object_id", Kind::String),
        Field::ro("ip", Kind::String).about("The client's address, or empty"),
        Field::ro("detail", Kind::Object),
        Field::ro("created_at", Kind::DateTime),
    ],
    search: &["action"],
};

use crate::db::audit::{self as repo, AuditFilter};
use crate::state::Gateway;

#[derive(Debug, Deserialize)]
struct Filters {
    user: Option<i64>,
    action: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
}

async fn list(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let orgs = principal.orgs_with("audit_view");
    if orgs.is_empty() && !principal.adm {
        return Err(ApiError::Forbidden(
            "You do not have permission to perform this action.".into(),
        ));
    }
    let filters = filters.into_inner();
    let filter = AuditFilter {
        user: filters.user,
        action: filters.action,
        created_after: filters.created_after,
        created_before: filters.created_before,
        search: query.search_words(),
    };
    let (count, rows) = repo::list(
        &gateway.context.pool,
        &orgs,
        principal.adm,
        &filter,
        &ordering,
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, rows)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([
                format!("{prefix}/audit-log/"),
                format!("{prefix}/audit-log"),
            ])
            .route(web::get().to(list)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    spec.resource(
        "/api/v1/audit-log/",
        &MODEL,
        "l",
        &["user", "action", "created_after", "created_before"],
    );
    spec.ordering("/api/v1/audit-log/", repo::ORDERING_FIELDS);
}
