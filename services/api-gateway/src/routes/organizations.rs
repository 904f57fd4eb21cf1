//! `/api/v1/organizations/`: the organizations the key reaches; create (platform administrators,
//! or Owners of the parent) and update (Owners of the organization).

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, ValidationErrors};
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde::Deserialize;

use super::audit::audit;
use crate::db::organizations::{self as repo, OrgChanges, OrgFilter};
use crate::state::Gateway;

const TYPES: &[&str] = &[
    "",
    "fully_managed",
    "break_fix",
    "co_managed",
    "consulting",
    "project_based",
    "internal",
    "subcontractor",
    "other",
];

/// The organization representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "Organization",
    noun: "organization",
    about: "The client organizations (and their sub-organizations) that everything else belongs to",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::rw("name", Kind::String)
            .required()
            .about("Not blank; at most 255 characters"),
        Field::rw("slug", Kind::String).about(
            "Lowercase letters, digits, hyphens and underscores; from the name if not given on create",
        ),
        Field::rw("description", Kind::String),
        Field::rw("parent", Kind::Integer).nullable().about(
            "The parent organization; creating or moving below one takes Owner there. \
             Top-level organizations are created by platform administrators only",
        ),
        Field::rw("is_active", Kind::Boolean),
        Field::rw("organization_type", Kind::Enum(TYPES)),
        Field::rw("legal_name", Kind::String),
        Field::rw("tax_id", Kind::String),
        Field::rw("street_address", Kind::String),
        Field::rw("street_address_2", Kind::String),
        Field::rw("city", Kind::String),
        Field::rw("state", Kind::String),
        Field::rw("postal_code", Kind::String),
        Field::rw("country", Kind::String),
        Field::rw("phone", Kind::String),
        Field::rw("email", Kind::String),
        Field::rw("website", Kind::String),
        Field::rw("primary_contact_name", Kind::String),
        Field::rw("primary_contact_title", Kind::String),
        Field::rw("primary_contact_email", Kind::String),
        Field::rw("primary_contact_phone", Kind::String),
        Field::rw("region", Kind::String),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &["name", "slug"],
};

#[derive(Debug, Deserialize)]
struct Filters {
    parent: Option<i64>,
    is_active: Option<bool>,
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

fn validate(changes: &mut OrgChanges, creating: bool) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    if let Some(name) = changes.name.as_mut() {
        *name = name.trim().to_string();
    }
    match changes.name.as_deref() {
        Some("") => errors.insert("name".into(), vec!["This field may not be blank.".into()]),
        None if creating => errors.insert("name".into(), vec!["This field is required.".into()]),
        Some(n) if n.chars().count() > 255 => {
            errors.insert("name".into(), vec!["At most 255 characters.".into()])
        }
        _ => None,
    };
    if creating && changes.slug.is_none() {
        changes.slug = changes.name.as_deref().map(slugify);
    }
    if let Some(slug) = changes.slug.as_deref()
        && (slug.is_empty()
            || !slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'))
    {
        errors.insert(
            "slug".into(),
            vec!["Use lowercase letters, digits, hyphens and underscores.".into()],
        );
    }
    if let Some(kind) = changes.organization_type.as_deref()
        && !TYPES.contains(&kind)
    {
        errors.insert(
            "organization_type".into(),
            vec![format!("\"{kind}\" is not a valid choice.")],
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn path_id(path: &str) -> Result<i64, ApiError> {
    path.parse().map_err(|_| ApiError::not_found())
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
    let ids: Vec<i64> = principal.orgs.keys().copied().collect();
    let filter = OrgFilter {
        search: query.search_words(),
        parent: filters.parent,
        is_active: filters.is_active,
    };
    let (count, rows) = repo::list(&gateway.context.pool, &ids, &filter, &ordering, page).await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, rows)?))
}

async fn detail(
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    if !principal.reaches(id) {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(repo::get(&gateway.context.pool, id).await?))
}

async fn create(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    body: web::Json<OrgChanges>,
) -> Result<HttpResponse, ApiError> {
    let mut changes = body.into_inner();
    validate(&mut changes, true)?;
    match changes.parent_id.flatten() {
        Some(parent) if principal.can(parent, "org_manage_settings") => {}
        Some(_) if !principal.adm => {
            return Err(ApiError::field(
                "parent",
                "You must be an Owner of the parent organization.",
            ));
        }
        None if !principal.adm => {
            return Err(ApiError::Forbidden(
                "Only platform administrators create top-level organizations.".into(),
            ));
        }
        _ => {}
    }
    let row = repo::create(&gateway.context.pool, changes, principal.uid).await?;
    gateway.context.outbox.notify();
    audit(
        &gateway,
        &req,
        &principal,
        Some(row.id),
        "organization.created",
        ("organization", row.id),
        serde_json::json!({"name": row.name}),
    );
    Ok(HttpResponse::Created().json(row))
}

async fn update(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
    body: web::Json<OrgChanges>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    if !principal.reaches(id) {
        return Err(ApiError::not_found());
    }
    principal.require(id, "org_manage_settings")?;
    let mut changes = body.into_inner();
    validate(&mut changes, false)?;
    if let Some(Some(parent)) = changes.parent_id {
        if !principal.can(parent, "org_manage_settings") {
            return Err(ApiError::field(
                "parent",
                "You must be an Owner of the new parent organization.",
            ));
        }
        let mut conn = gateway
            .context
            .pool
            .get()
            .await
            .map_err(crate::error::GatewayError::from)?;
        let below = repo::descendants(&mut conn, id)
            .await
            .map_err(crate::error::GatewayError::from)?;
        if below.contains(&parent) {
            return Err(ApiError::field(
                "parent",
                "An organization cannot be placed below itself.",
            ));
        }
    }
    let row = repo::update(&gateway.context.pool, id, changes).await?;
    gateway.context.outbox.notify();
    audit(
        &gateway,
        &req,
        &principal,
        Some(id),
        "organization.updated",
        ("organization", id),
        serde_json::json!({}),
    );
    Ok(HttpResponse::Ok().json(row))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([
                format!("{prefix}/organizations/"),
                format!("{prefix}/organizations"),
            ])
            .route(web::get().to(list))
            .route(web::post().to(create)),
        )
        .service(
            web::resource([
                format!("{prefix}/organizations/{{id}}/"),
                format!("{prefix}/organizations/{{id}}"),
            ])
            .route(web::get().to(detail))
            .route(web::patch().to(update)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    spec.resource(
        "/api/v1/organizations/",
        &MODEL,
        "lcru",
        &["parent", "is_active"],
    );
    spec.ordering("/api/v1/organizations/", repo::ORDERING_FIELDS);
}
