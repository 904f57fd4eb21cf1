//! `/api/v1/users/`: users who share an organization with the caller (`org_view_members`);
//! `POST` invites a user into an organization (`org_invite`), with a role no higher than the
//! caller's own there.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, Role};
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde::Deserialize;
use serde_json::json;

use super::audit::audit;
use crate::db::{identity, people as repo};
use crate::state::Gateway;

/// The user representation; a create is an invitation (`organization` and `role` are only
/// accepted).
pub const MODEL: Model = Model {
    name: "User",
    noun: "user",
    about: "People who share an organization with the caller; POST invites one into an organization",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::rw("email", Kind::Email)
            .required()
            .about("An existing user is added to the organization; a new one is created"),
        Field::rw("name", Kind::String).about("For a new user only"),
        Field::wo("organization", Kind::Integer).about(
            "The organization to invite into (needs org_invite there); else ?organization= or \
             the key's home organization",
        ),
        Field::wo("role", Kind::Enum(super::ROLES))
            .about("A built-in role up to the caller's own there; `readonly` if not given"),
        Field::ro("is_active", Kind::Boolean),
        Field::ro("is_platform_admin", Kind::Boolean),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &["email", "name"],
};

#[derive(Debug, Deserialize)]
struct Invite {
    email: Option<String>,
    name: Option<String>,
    organization: Option<i64>,
    role: Option<String>,
}

async fn list(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let orgs = principal.orgs_with("org_view_members");
    let (count, rows) =
        repo::list_users(&gateway.context.pool, &orgs, &query.search_words(), page).await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, rows)?))
}

async fn detail(
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = path.parse().map_err(|_| ApiError::not_found())?;
    let orgs = principal.orgs_with("org_view_members");
    if id != principal.uid
        && repo::shared_orgs(&gateway.context.pool, id, &orgs)
            .await?
            .is_empty()
    {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(repo::user(&gateway.context.pool, id).await?))
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !email.contains(char::is_whitespace)
        && email.len() <= 254
}

async fn invite(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    body: web::Json<Invite>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let org = principal.target_org(input.organization)?;
    principal.require(org, "org_invite")?;
    let email = input.email.unwrap_or_default().trim().to_lowercase();
    if !valid_email(&email) {
        return Err(ApiError::field("email", "Enter a valid email address."));
    }
    let own = principal
        .orgs
        .get(&org)
        .and_then(|r| Role::parse(r))
        .unwrap_or(Role::ReadOnly);
    let role = input.role.unwrap_or_else(|| "readonly".into());
    match Role::parse(&role) {
        Some(r) if r <= own => {}
        _ => {
            return Err(ApiError::field(
                "role",
                format!("Choose a built-in role up to your own ({}).", own.name()),
            ));
        }
    }
    let pool = &gateway.context.pool;
    let user = match identity::find_user(pool, &email).await {
        Ok(user) => user.id,
        Err(_) => {
            identity::create_user(
                pool,
                &email,
                input.name.as_deref().unwrap_or_default(),
                false,
            )
            .await?
            .id
        }
    };
    let membership = repo::put_membership(pool, user, org, &role, None).await?;
    audit(
        &gateway,
        &req,
        &principal,
        Some(org),
        "membership.created",
        ("membership", membership.id),
        json!({"user": user, "role": role}),
    );
    Ok(HttpResponse::Created().json(repo::user(pool, user).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([format!("{prefix}/users/"), format!("{prefix}/users")])
                .route(web::get().to(list))
                .route(web::post().to(invite)),
        )
        .service(
            web::resource([
                format!("{prefix}/users/{{id}}/"),
                format!("{prefix}/users/{{id}}"),
            ])
            .route(web::get().to(detail)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    spec.resource("/api/v1/users/", &MODEL, "lcr", &[]);
}
