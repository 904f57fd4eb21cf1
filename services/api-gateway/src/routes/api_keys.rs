//! `/api/v1/api-keys/`: list (own keys, plus all keys of organizations the caller manages keys
//! of), create (the plaintext is in the create response only), detail, and `DELETE` = revoke.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, Role, ValidationErrors};
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde::Deserialize;
use serde_json::json;

use super::audit::audit;
use crate::db::api_keys as repo;
use crate::db::identity::{self, NewKey};
use crate::keys;
use crate::state::Gateway;

/// What a key reaches from its home organization.
const SCOPES: &[&str] = &["single", "descendants", "all"];

/// The API key representation, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "ApiKey",
    noun: "API key",
    about: "API keys: the caller's own, and every key of the organizations where it has api_keys_manage; DELETE revokes",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::rw("name", Kind::String)
            .required()
            .about("At most 255 characters"),
        Field::ro("key", Kind::String).optional().about(
            "The plaintext key (itdocs_live_…): in the create answer only, never again; \
             absent from every other answer",
        ),
        Field::ro("prefix", Kind::String).about("The key's public id"),
        Field::ro("user", Kind::Integer).about("The user the key acts for (its creator)"),
        Field::rw("organization", Kind::Integer).about(
            "Set on create only: the key's home organization (else ?organization= or the home \
             of the key used)",
        ),
        Field::rw("role", Kind::Enum(super::ROLES)).about(
            "Set on create only: the key's ceiling, up to the caller's own role there (the \
             default)",
        ),
        Field::rw("scope", Kind::Enum(SCOPES)).about(
            "Set on create only: the home organization alone, with the organizations below it, \
             or every organization the user reaches; `single` if not given",
        ),
        Field::rw("expires_at", Kind::DateTime)
            .nullable()
            .about("Set on create only, in the future; never if not given"),
        Field::rw("rate_limit_per_minute", Kind::Integer)
            .nullable()
            .about(
                "Set on create only, by Owners and Admins: 1 up to the organization's ceiling; the \
             default limit if not given",
            ),
        Field::rw("rate_limit_burst", Kind::Integer)
            .nullable()
            .about("As rate_limit_per_minute"),
        Field::ro("last_used_at", Kind::DateTime).nullable(),
        Field::ro("last_used_ip", Kind::String).nullable(),
        Field::ro("revoked_at", Kind::DateTime).nullable(),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &["name"],
};

#[derive(Debug, Deserialize)]
struct KeyInput {
    name: Option<String>,
    organization: Option<i64>,
    role: Option<String>,
    scope: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    rate_limit_per_minute: Option<i32>,
    rate_limit_burst: Option<i32>,
}

async fn list(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let managed = principal.orgs_with("api_keys_manage");
    let (count, rows) = repo::list(
        &gateway.context.pool,
        principal.uid,
        &managed,
        &query.search_words(),
        &ordering,
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, rows)?))
}

async fn visible_key(
    principal: &Principal,
    gateway: &Gateway,
    raw: &str,
) -> Result<repo::KeyView, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    let key = repo::get(&gateway.context.pool, id).await?;
    if key.user_id == principal.uid || principal.can(key.organization_id, "api_keys_manage") {
        Ok(key)
    } else {
        Err(ApiError::not_found())
    }
}

async fn detail(
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(visible_key(&principal, &gateway, &path).await?))
}

async fn revoke(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = visible_key(&principal, &gateway, &path).await?;
    let prefix = repo::revoke(&gateway.context.pool, key.id).await?;
    gateway.keys.forget(&prefix);
    tracing::info!(key_id = key.id, "API key revoked");
    audit(
        &gateway,
        &req,
        &principal,
        Some(key.organization_id),
        "api_key.revoked",
        ("api_key", key.id),
        json!({"prefix": prefix}),
    );
    Ok(HttpResponse::NoContent().finish())
}

async fn create(
    req: HttpRequest,
    principal: web::ReqData<Principal>,
    gateway: web::Data<Gateway>,
    body: web::Json<KeyInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let org = principal.target_org(input.organization)?;
    let mut errors = ValidationErrors::new();
    let name = input.name.unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 255 {
        errors.insert(
            "name".into(),
            vec!["This field is required (at most 255 characters).".into()],
        );
    }
    // The creator's own effective role in the home organization is the highest ceiling allowed.
    let own = principal
        .orgs
        .get(&org)
        .and_then(|r| Role::parse(r))
        .unwrap_or(Role::ReadOnly);
    let role_name = input.role.unwrap_or_else(|| own.name().to_string());
    match Role::parse(&role_name) {
        Some(role) if role <= own => {}
        Some(_) => {
            errors.insert(
                "role".into(),
                vec![format!(
                    "A key cannot be given more than your own role ({}).",
                    own.name()
                )],
            );
        }
        None => {
            errors.insert(
                "role".into(),
                vec!["Choose owner, admin, editor or readonly.".into()],
            );
        }
    }
    let scope = input.scope.unwrap_or_else(|| "single".into());
    if !SCOPES.contains(&scope.as_str()) {
        errors.insert(
            "scope".into(),
            vec!["Choose single, descendants or all.".into()],
        );
    }
    if input.expires_at.is_some_and(|at| at <= Utc::now()) {
        errors.insert("expires_at".into(), vec!["Must be in the future.".into()]);
    }
    let wants_limits = input.rate_limit_per_minute.is_some() || input.rate_limit_burst.is_some();
    if wants_limits && !principal.can(org, "api_keys_manage") {
        errors.insert(
            "rate_limit_per_minute".into(),
            vec!["Only Owners and Admins set a key's limits.".into()],
        );
    }
    let ceiling = gateway.limits.org.per_minute as i32;
    for (field, value) in [
        ("rate_limit_per_minute", input.rate_limit_per_minute),
        ("rate_limit_burst", input.rate_limit_burst),
    ] {
        if let Some(v) = value
            && !(1..=ceiling).contains(&v)
        {
            errors.insert(
                field.into(),
                vec![format!(
                    "Must be between 1 and the organization ceiling ({ceiling})."
                )],
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (prefix, plaintext) =
        keys::generate().map_err(|_| ApiError::internal("random generator failed"))?;
    let pepper = gateway
        .current_pepper()
        .ok_or_else(|| ApiError::internal("no key pepper"))?;
    let id = identity::insert_key(
        &gateway.context.pool,
        NewKey {
            prefix: &prefix,
            key_hash: keys::hash(pepper, &plaintext),
            pepper_version: gateway.pepper_version,
            name: &name,
            user_id: principal.uid,
            organization_id: org,
            role: &role_name,
            scope: &scope,
            expires_at: input.expires_at,
        },
    )
    .await?;
    if wants_limits {
        repo::set_limits(
            &gateway.context.pool,
            id,
            input.rate_limit_per_minute,
            input.rate_limit_burst,
        )
        .await?;
    }
    tracing::info!(key_id = id, "API key created");
    audit(
        &gateway,
        &req,
        &principal,
        Some(org),
        "api_key.created",
        ("api_key", id),
        json!({"prefix": prefix, "role": role_name, "scope": scope}),
    );
    let view = repo::get(&gateway.context.pool, id).await?;
    let mut body = serde_json::to_value(view).map_err(ApiError::internal)?;
    body["key"] = json!(plaintext);
    Ok(HttpResponse::Created().json(body))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/api/v1", "/api"] {
        cfg.service(
            web::resource([format!("{prefix}/api-keys/"), format!("{prefix}/api-keys")])
                .route(web::get().to(list))
                .route(web::post().to(create)),
        )
        .service(
            web::resource([
                format!("{prefix}/api-keys/{{id}}/"),
                format!("{prefix}/api-keys/{{id}}"),
            ])
            .route(web::get().to(detail))
            .route(web::delete().to(revoke)),
        );
    }
}

pub fn openapi(spec: &mut Spec) {
    spec.resource("/api/v1/api-keys/", &MODEL, "lcrd", &[]);
    spec.ordering("/api/v1/api-keys/", repo::ORDERING_FIELDS);
}
