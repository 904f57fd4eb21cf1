//! `/api/v1/webhooks/`: create, list, detail, replace (`PUT`), update (`PATCH`), delete.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, ValidationErrors};
use clientstor_runtime::Context;
use serde::{Deserialize, Serialize};

use crate::db::endpoints::{self as repo, EndpointRow, NewEndpoint};
use crate::delivery::signing;

#[derive(Debug, Default, Deserialize)]
struct WebhookInput {
    name: Option<String>,
    url: Option<String>,
    events: Option<Vec<String>>,
    secret: Option<String>,
    is_active: Option<bool>,
    organization: Option<i64>,
}

#[derive(Debug, Serialize)]
struct WebhookOut {
    id: i64,
    organization: i64,
    organization_name: String,
    name: String,
    url: String,
    events: Vec<String>,
    is_active: bool,
    created_at: String,
    updated_at: String,
    /// Only in the create response.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookOut {
    fn new(row: EndpointRow, organization_name: String, with_secret: bool) -> Self {
        WebhookOut {
            id: row.id,
            organization: row.organization_id,
            organization_name,
            name: row.name,
            url: row.url,
            events: row.events,
            is_active: row.is_active,
            created_at: row
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            updated_at: row
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            secret: with_secret.then_some(row.secret),
        }
    }
}

async fn validate(
    context: &Context,
    input: WebhookInput,
    organization_id: i64,
) -> Result<NewEndpoint, ApiError> {
    let mut errors = ValidationErrors::new();
    let mut add =
        |field: &str, message: String| errors.entry(field.to_string()).or_default().push(message);
    let name = input.name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 255 {
        add(
            "name",
            "This field is required (at most 255 characters).".into(),
        );
    }
    let url = input.url.unwrap_or_default();
    match clientstor_outbound::Policy::from_settings(&context.settings.outbound) {
        Ok(policy) => {
            if let Err(error) = policy.check_url(&url).await {
                add("url", error.to_string());
            }
        }
        Err(error) => return Err(ApiError::internal(error)),
    }
    let events = input.events.unwrap_or_default();
    if events.is_empty() {
        add(
            "events",
            "Choose at least one event, or \"*\" for all.".into(),
        );
    }
    for event in &events {
        if event != "*" && !clientstor_events::types::is_public(event) {
            add("events", format!("\"{event}\" is not a valid event."));
        }
    }
    let secret = match input.secret {
        Some(secret) => {
            if signing::key_bytes(&secret).is_none() {
                add(
                    "secret",
                    format!(
                        "A secret is whsec_ plus base64, or at least {} characters.",
                        signing::MIN_KEY_BYTES
                    ),
                );
            }
            secret
        }
        None => {
            signing::generate_secret().map_err(|_| ApiError::internal("random generator failed"))?
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(NewEndpoint {
        organization_id,
        name,
        url,
        events,
        secret,
        is_active: input.is_active.unwrap_or(true),
    })
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    body: web::Json<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let org = principal.target_org(input.organization)?;
    principal.require(org, "webhooks_manage")?;
    let new = validate(&context, input, org).await?;
    let row = repo::create(&context.pool, new).await?;
    let name = organization_name(&context, row.organization_id).await?;
    Ok(HttpResponse::Created().json(WebhookOut::new(row, name, true)))
}

async fn organization_name(context: &Context, org: i64) -> Result<String, ApiError> {
    let mut conn = context
        .pool
        .get()
        .await
        .map_err(crate::error::WebhookError::from)?;
    clientstor_runtime::organizations::name(&mut conn, crate::SCHEMA, org)
        .await
        .map_err(|e| crate::error::WebhookError::from(e).into())
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let orgs = principal.orgs_with("webhooks_view");
    let (count, rows) =
        repo::list(&context.pool, &orgs, &query.search_words(), &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut conn = context
        .pool
        .get()
        .await
        .map_err(crate::error::WebhookError::from)?;
    let names = clientstor_runtime::organizations::names(&mut conn, crate::SCHEMA, &ids)
        .await
        .map_err(crate::error::WebhookError::from)?;
    let results = rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.organization_id).cloned().unwrap_or_default();
            WebhookOut::new(row, name, false)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = path.parse().map_err(|_| ApiError::not_found())?;
    let row = repo::get(&context.pool, &principal.orgs_with("webhooks_view"), id).await?;
    let name = organization_name(&context, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(WebhookOut::new(row, name, false)))
}

/// The endpoint if the caller may see it (else 404) and manage webhooks in its organization.
async fn manageable(
    principal: &Principal,
    context: &Context,
    raw: &str,
) -> Result<EndpointRow, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    let row = repo::get(&context.pool, &principal.orgs_with("webhooks_view"), id).await?;
    principal.require(row.organization_id, "webhooks_manage")?;
    Ok(row)
}

async fn save(
    context: &Context,
    row: EndpointRow,
    mut input: WebhookInput,
) -> Result<HttpResponse, ApiError> {
    if input.secret.is_some() {
        return Err(ApiError::field(
            "secret",
            "The secret changes only through rotate-secret.",
        ));
    }
    input.secret = Some(row.secret.clone());
    let new = validate(context, input, row.organization_id).await?;
    let updated = repo::update(&context.pool, row.id, &new).await?;
    let name = organization_name(context, updated.organization_id).await?;
    Ok(HttpResponse::Ok().json(WebhookOut::new(updated, name, false)))
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let row = manageable(&principal, &context, &path).await?;
    save(&context, row, body.into_inner()).await
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let row = manageable(&principal, &context, &path).await?;
    let input = body.into_inner();
    let merged = WebhookInput {
        name: input.name.or_else(|| Some(row.name.clone())),
        url: input.url.or_else(|| Some(row.url.clone())),
        events: input.events.or_else(|| Some(row.events.clone())),
        is_active: input.is_active.or(Some(row.is_active)),
        secret: input.secret,
        organization: None,
    };
    save(&context, row, merged).await
}

async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = manageable(&principal, &context, &path).await?;
    repo::delete(&context.pool, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/webhooks/", "/api/v1/webhooks"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource(["/api/v1/webhooks/{id}/", "/api/v1/webhooks/{id}"])
            .route(web::get().to(detail))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

pub fn openapi_paths() -> serde_json::Value {
    clientstor_runtime::openapi::resource(
        "/api/v1/webhooks/",
        "webhook",
        "lcrpud",
        &["organization"],
    )
}
