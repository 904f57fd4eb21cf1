//! `/api/v1/roles/`: the built-in roles and custom roles (sets of permission names), per
//! organization or global. Custom roles are managed by Owners (`org_manage_members`); global
//! ones by platform administrators.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, Page, PageRequest, Principal, Role};
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec, reference};
use serde::Deserialize;
use serde_json::json;

use super::audit::audit;
use crate::db::people as repo;
use crate::roles::unknown_permissions;
use crate::state::Gateway;

/// The custom role representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "Role",
    noun: "role",
    about: "Roles: the four built-in ones and custom sets of permissions, per organization or global",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::rw("organization", Kind::Integer).nullable().about(
            "Set on create only: the organization the role belongs to (needs \
             org_manage_members there); null or left out for a global role (platform \
             administrators only)",
        ),
        Field::rw("name", Kind::String)
            .required()
            .about("Not a built-in role's name, nor `custom`"),
        Field::rw("description", Kind::String),
        Field::rw("permissions", Kind::Strings)
            .required()
            .about("At least one; names from /api/v1/permissions/"),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &[],
};

const BUILTIN: &str = "BuiltinRole";

#[derive(Debug, Deserialize)]
struct RoleInput {
    name: Option<String>,
    description: Option<String>,
    permissions: Option<Vec<String>>,
    organization: Option<i64>,
}

async fn list(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let orgs: Vec<i64> = principal.orgs.keys().copied().collect();
    // The built-in roles head the list, the custom ones follow: one list, paged as one.
    let builtin: Vec<serde_json::Value> = [Role::Owner, Role::Admin, Role::Editor, Role::ReadOnly]
        .map(|r| {
            json!({"id": null, "name": r.name(), "builtin": true, "organization": null, "permissions": r.permissions()})
        })
        .into();
    let fixed = builtin.len() as i64;
    let (start, end) = (page.offset(), page.offset().saturating_add(page.limit()));
    let shown_builtin = (end.min(fixed) - start).max(0);
    let (custom, rows) = repo::list_roles(
        &gateway.context.pool,
        &orgs,
        (start - fixed).max(0),
        page.limit() - shown_builtin,
    )
    .await?;
    let mut results: Vec<serde_json::Value> = builtin
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(shown_builtin).unwrap_or(0))
        .collect();
    results.extend(rows.into_iter().map(|r| json!(r)));
    Ok(HttpResponse::Ok().json(Page::new(&req, page, custom + fixed, results)?))
}

fn validate_permissions(permissions: &[String]) -> Result<(), ApiError> {
    let unknown = unknown_permissions(permissions);
    if permissions.is_empty() {
        return Err(ApiError::field(
            "permissions",
            "Choose at least one permission.",
        ));
    }
    if !unknown.is_empty() {
        return Err(ApiError::field(
            "permissions",
            format!("Unknown permissions: {}.", unknown.join(", ")),
        ));
    }
    Ok(())
}

fn may_manage(principal: &Principal, org: Option<i64>) -> Result<(), ApiError> {
    match org {
        Some(org) if principal.reaches(org) => principal.require(org, "org_manage_members"),
        Some(_) => Err(ApiError::field(
            "organization",
            "Unknown organization or not reachable with this key.",
        )),
        None if principal.adm => Ok(()),
        None => Err(ApiError::Forbidden(
            "Only platform administrators manage global roles.".into(),
        )),
    }
}

async fn create(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    body: web::Json<RoleInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    may_manage(&principal, input.organization)?;
    let name = input.name.unwrap_or_default().trim().to_string();
    if name.is_empty()
        || Role::parse(&name.to_lowercase()).is_some()
        || name.eq_ignore_ascii_case("custom")
    {
        return Err(ApiError::field(
            "name",
            "Give the role a name of its own (not a built-in role).",
        ));
    }
    let permissions = input.permissions.unwrap_or_default();
    validate_permissions(&permissions)?;
    let row = repo::create_role(
        &gateway.context.pool,
        input.organization,
        &name,
        &input.description.unwrap_or_default(),
        &permissions,
    )
    .await?;
    audit(
        &gateway,
        &req,
        &principal,
        row.organization_id,
        "role.created",
        ("role", row.id),
        json!({"permissions": row.permissions}),
    );
    Ok(HttpResponse::Created().json(row))
}

async fn visible(
    principal: &Principal,
    gateway: &Gateway,
    raw: &str,
) -> Result<repo::RoleView, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    let row = repo::role(&gateway.context.pool, id).await?;
    match row.organization_id {
        Some(org) if !principal.reaches(org) => Err(ApiError::not_found()),
        _ => Ok(row),
    }
}

async fn detail(
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(visible(&principal, &gateway, &path).await?))
}

async fn update(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
    body: web::Json<RoleInput>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &gateway, &path).await?;
    may_manage(&principal, row.organization_id)?;
    let input = body.into_inner();
    if let Some(permissions) = input.permissions.as_deref() {
        validate_permissions(permissions)?;
    }
    let row = repo::update_role(
        &gateway.context.pool,
        row.id,
        input.name.as_deref(),
        input.description.as_deref(),
        input.permissions.as_deref(),
    )
    .await?;
    // Keys holding the role pick up the change within the key cache's lifetime.
    audit(
        &gateway,
        &req,
        &principal,
        row.organization_id,
        "role.updated",
        ("role", row.id),
        json!({"permissions": row.permissions}),
    );
    Ok(HttpResponse::Ok().json(row))
}

async fn delete(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &gateway, &path).await?;
    may_manage(&principal, row.organization_id)?;
    repo::delete_role(&gateway.context.pool, row.id).await?;
    audit(
        &gateway,
        &req,
        &principal,
        row.organization_id,
        "role.deleted",
        ("role", row.id),
        json!({"name": row.name}),
    );
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([format!("{prefix}/roles/"), format!("{prefix}/roles")])
                .route(web::get().to(list))
                .route(web::post().to(create)),
        )
        .service(
            web::resource([
                format!("{prefix}/roles/{{id}}/"),
                format!("{prefix}/roles/{{id}}"),
            ])
            .route(web::get().to(detail))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    let mut page = clientstor_runtime::openapi::page_schema(&MODEL);
    page["properties"]["results"]["items"] =
        json!({ "oneOf": [reference(BUILTIN), reference(MODEL.name)] });
    spec.resource("/api/v1/roles/", &MODEL, "crud", &[])
        .schema(
            BUILTIN,
            json!({
                "type": "object",
                "description": "A built-in role; it cannot be changed",
                "required": ["id", "name", "builtin", "organization", "permissions"],
                "properties": {
                    "id": { "type": "null" },
                    "name": { "type": "string", "enum": super::ROLES },
                    "builtin": { "const": true },
                    "organization": { "type": "null" },
                    "permissions": { "type": "array", "items": { "type": "string" } },
                },
            }),
        )
        .action(super::paged(
            Action::new("get", "/api/v1/roles/", "List roles")
                .answers(
                    "200",
                    "The four built-in roles first, then the custom roles of the organizations \
                     the key reaches and the global ones, paged as one list",
                )
                .returns_schema(page),
        ));
}
