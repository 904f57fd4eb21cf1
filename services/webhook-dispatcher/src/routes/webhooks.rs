//! `/api/v1/webhooks/`: create, list, detail, replace (`PUT`), update (`PATCH`), delete.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Spec, reference};
use serde::Serialize;
use serde_json::json;

use super::input::{MODEL, WebhookInput, validate};
use crate::db::endpoints::{self as repo, EndpointRow};

const WEBHOOKS: &str = "/api/v1/webhooks/";

#[derive(Debug, Serialize)]
pub(super) struct WebhookOut {
    id: i64,
    organization: i64,
    organization_name: String,
    name: String,
    url: String,
    events: Vec<String>,
    is_active: bool,
    description: String,
    custom_headers: serde_json::Value,
    ordered: bool,
    /// Why the dispatcher disabled the endpoint (410 Gone, failing for 5 days), if it did.
    disabled_reason: Option<String>,
    /// Start of the current run of failed attempts, if the last ones failed.
    failing_since: Option<String>,
    created_at: String,
    updated_at: String,
    /// Only in the create and rotate-secret responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookOut {
    pub(super) fn new(row: EndpointRow, organization_name: String, with_secret: bool) -> Self {
        WebhookOut {
            id: row.id,
            organization: row.organization_id,
            organization_name,
            name: row.name,
            url: row.url,
            events: row.events,
            is_active: row.is_active,
            description: row.description,
            custom_headers: row.custom_headers,
            ordered: row.ordered,
            disabled_reason: row.disabled_reason,
            failing_since: row
                .failing_since
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
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

pub(super) async fn organization_name(context: &Context, org: i64) -> Result<String, ApiError> {
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
pub(super) async fn manageable(
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
    let reenabled = new.is_active && !row.is_active;
    let mut updated = repo::update(&context.pool, row.id, &new).await?;
    if reenabled {
        repo::clear_disabled(&context.pool, row.id).await?;
        updated.disabled_reason = None;
        updated.failing_since = None;
    }
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
        description: input.description.or_else(|| Some(row.description.clone())),
        custom_headers: input
            .custom_headers
            .or_else(|| row.custom_headers.as_object().cloned()),
        ordered: input.ordered.or(Some(row.ordered)),
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

pub fn openapi(spec: &mut Spec) {
    let model = &MODEL;
    spec.resource(WEBHOOKS, model, "lrpud", &[]).schema(
        "WebhookWithSecret",
        json!({
            "description": "A webhook with its signing secret: only the create and rotate-secret answers carry it",
            "allOf": [
                reference(model.name),
                {
                    "type": "object",
                    "required": ["secret"],
                    "properties": {
                        "secret": { "type": "string", "description": "The signing secret (`whsec_…` unless supplied plain)" }
                    }
                }
            ]
        }),
    );
    // The create answer carries the secret, which no other answer but rotate-secret does.
    let required = json!({
        "allOf": [reference(&model.input_name()), { "required": model.required_on_create() }]
    });
    spec.action(
        Action::new("post", WEBHOOKS, "Create a webhook")
            .answers("201", "Created, with its signing secret")
            .organization()
            .body(required)
            .returns_schema(reference("WebhookWithSecret")),
    );
    spec.ordering(WEBHOOKS, repo::ORDERING_FIELDS);
}
