//! `/api/v1/memberships/`: a user's role in an organization. Visible with `org_view_members`,
//! managed by Owners (`org_manage_members`).

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, Page, PageRequest, Principal, Role};
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec};
use serde::Deserialize;
use serde_json::json;

use super::audit::audit;
use crate::db::people::{self as repo, MembershipFilter};
use crate::state::Gateway;

/// A membership's `role`: a built-in role, or `custom` with `custom_role`.
const MEMBERSHIP_ROLES: &[&str] = &["owner", "admin", "editor", "readonly", "custom"];

/// The membership representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "Membership",
    noun: "membership",
    about: "A user's role in an organization (and the organizations below it)",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::rw("user", Kind::Integer)
            .required()
            .about("Set on create only; a create for a user already in the organization replaces the role"),
        Field::rw("organization", Kind::Integer).about(
            "Set on create only: the organization's id (else ?organization= or the key's home)",
        ),
        Field::rw("role", Kind::Enum(MEMBERSHIP_ROLES))
            .about("A built-in role, or `custom` (or left out) with custom_role; one of the two is required"),
        Field::rw("custom_role", Kind::Integer)
            .nullable()
            .about("A custom role of the organization, or a global one"),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &[],
};

#[derive(Debug, Deserialize)]
struct Filters {
    user: Option<i64>,
    organization: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct MembershipInput {
    user: Option<i64>,
    organization: Option<i64>,
    role: Option<String>,
    custom_role: Option<i64>,
}

async fn list(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let orgs = principal.orgs_with("org_view_members");
    let filter = MembershipFilter {
        user: filters.user,
        organization: filters.organization,
    };
    let (count, rows) = repo::list_memberships(&gateway.context.pool, &orgs, &filter, page).await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, rows)?))
}

/// `(role, custom role id)` after checking the custom role belongs to `org` or is global.
async fn grant(
    gateway: &Gateway,
    org: i64,
    input: &MembershipInput,
) -> Result<(String, Option<i64>), ApiError> {
    match (input.role.as_deref(), input.custom_role) {
        (Some(role), None) if Role::parse(role).is_some() => Ok((role.to_string(), None)),
        (None | Some("custom"), Some(id)) => {
            let role = repo::role(&gateway.context.pool, id)
                .await
                .map_err(|_| ApiError::field("custom_role", "Unknown role."))?;
            if role.organization_id.is_some_and(|o| o != org) {
                return Err(ApiError::field(
                    "custom_role",
                    "That role belongs to another organization.",
                ));
            }
            Ok(("custom".to_string(), Some(id)))
        }
        _ => Err(ApiError::field(
            "role",
            "Choose owner, admin, editor or readonly, or give custom_role.",
        )),
    }
}

async fn create(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    body: web::Json<MembershipInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let org = principal.target_org(input.organization)?;
    principal.require(org, "org_manage_members")?;
    let user = input
        .user
        .ok_or_else(|| ApiError::field("user", "This field is required."))?;
    repo::user(&gateway.context.pool, user)
        .await
        .map_err(|_| ApiError::field("user", "Unknown user."))?;
    let (role, custom) = grant(&gateway, org, &input).await?;
    let row = repo::put_membership(&gateway.context.pool, user, org, &role, custom).await?;
    audit(
        &gateway,
        &req,
        &principal,
        Some(org),
        "membership.created",
        ("membership", row.id),
        json!({"user": user, "role": role, "custom_role": custom}),
    );
    Ok(HttpResponse::Created().json(row))
}

async fn visible(
    principal: &Principal,
    gateway: &Gateway,
    raw: &str,
) -> Result<repo::MembershipView, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    let row = repo::membership(&gateway.context.pool, id).await?;
    if principal.can(row.organization_id, "org_view_members") {
        Ok(row)
    } else {
        Err(ApiError::not_found())
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
    body: web::Json<MembershipInput>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &gateway, &path).await?;
    principal.require(row.organization_id, "org_manage_members")?;
    let input = body.into_inner();
    let (role, custom) = grant(&gateway, row.organization_id, &input).await?;
    let row = repo::put_membership(
        &gateway.context.pool,
        row.user_id,
        row.organization_id,
        &role,
        custom,
    )
    .await?;
    audit(
        &gateway,
        &req,
        &principal,
        Some(row.organization_id),
        "membership.updated",
        ("membership", row.id),
        json!({"role": role, "custom_role": custom}),
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
    principal.require(row.organization_id, "org_manage_members")?;
    repo::delete_membership(&gateway.context.pool, row.id).await?;
    audit(
        &gateway,
        &req,
        &principal,
        Some(row.organization_id),
        "membership.deleted",
        ("membership", row.id),
        json!({"user": row.user_id}),
    );
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([
                format!("{prefix}/memberships/"),
                format!("{prefix}/memberships"),
            ])
            .route(web::get().to(list))
            .route(web::post().to(create)),
        )
        .service(
            web::resource([
                format!("{prefix}/memberships/{{id}}/"),
                format!("{prefix}/memberships/{{id}}"),
            ])
            .route(web::get().to(detail))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    spec.resource("/api/v1/memberships/", &MODEL, "crud", &[])
        .action(super::paged(
            Action::new("get", "/api/v1/memberships/", "List memberships")
                .answers("200", "A page of memberships, oldest first")
                .returns_page(&MODEL)
                .query("user", Kind::Integer, "Only this user's memberships")
                .query(
                    "organization",
                    Kind::Integer,
                    "Only memberships in this organization (its id)",
                ),
        ));
}
