//! Endpoint actions: `rotate-secret/`, `test/`, `recover/`, and the event catalogue at
//! `/api/v1/webhooks/events/`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec, reference};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::deliveries::QUEUED;
use super::webhooks::{WebhookOut, manageable, organization_name};
use crate::db::{deliveries, endpoints};
use crate::delivery::signing;

/// How long the old secret keeps signing after a rotation.
const GRACE: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, Default, Deserialize)]
struct RotateInput {
    /// Supply the new secret, or let one be generated.
    secret: Option<String>,
}

async fn rotate_secret(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: Option<web::Json<RotateInput>>,
) -> Result<HttpResponse, ApiError> {
    let row = manageable(&principal, &context, &path).await?;
    let secret = match body.and_then(|b| b.into_inner().secret) {
        Some(secret) if signing::key_bytes(&secret).is_some() => secret,
        Some(_) => {
            return Err(ApiError::field(
                "secret",
                "A secret is whsec_ plus base64, or at least 24 characters.",
            ));
        }
        None => {
            signing::generate_secret().map_err(|_| ApiError::internal("random generator failed"))?
        }
    };
    let row = endpoints::rotate_secret(&context.pool, row.id, &secret, Utc::now() + GRACE).await?;
    let name = organization_name(&context, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(WebhookOut::new(row, name, true)))
}

/// Queues a `webhook.test` delivery to this endpoint only.
async fn test(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = manageable(&principal, &context, &path).await?;
    let event_id = uuid::Uuid::now_v7();
    let name = organization_name(&context, row.organization_id).await?;
    let body = json!({
        "event": crate::catalogue::TEST_EVENT,
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "organization": {"id": row.organization_id, "name": name},
        "data": {"webhook_id": row.id, "message": "This is a test event from ClientSt0r."},
    });
    let delivery = deliveries::create(
        &context.pool,
        &deliveries::NewDelivery {
            endpoint_id: row.id,
            organization_id: row.organization_id,
            event_id,
            event_type: crate::catalogue::TEST_EVENT.into(),
            message_id: format!("msg_{}", event_id.simple()),
            body: body.to_string(),
            subject: String::new(),
            // The test POST continues the trace of the request that asked for it.
            traceparent: clientstor_events::trace::current()
                .map(|t| t.header())
                .unwrap_or_default(),
        },
    )
    .await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

#[derive(Debug, Deserialize)]
struct RecoverInput {
    since: Option<DateTime<Utc>>,
    #[serde(default)]
    dry_run: bool,
}

/// Retries every failed or exhausted delivery since a time; `dry_run` only counts them.
async fn recover(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<RecoverInput>,
) -> Result<HttpResponse, ApiError> {
    let row = manageable(&principal, &context, &path).await?;
    let input = body.into_inner();
    let since = input
        .since
        .ok_or_else(|| ApiError::field("since", "This field is required (RFC 3339)."))?;
    let count = deliveries::recover(&context.pool, row.id, since, input.dry_run).await?;
    let mut reply = if input.dry_run {
        HttpResponse::Ok()
    } else {
        HttpResponse::Accepted()
    };
    Ok(reply.json(json!({"count": count, "dry_run": input.dry_run})))
}

/// An entry of the event catalogue, for the API description.
pub const EVENT_TYPE: Model = Model {
    name: "WebhookEventType",
    noun: "event type",
    about: "An event a webhook can subscribe to, with the JSON Schema of its data",
    record: false,
    fields: &[
        Field::ro("name", Kind::String),
        Field::ro("description", Kind::String),
        Field::ro("data_schema", Kind::Object).about("The JSON Schema of the payload's `data`"),
    ],
    search: &["name"],
};

#[derive(Serialize)]
struct EventType {
    name: &'static str,
    description: &'static str,
    data_schema: serde_json::Value,
}

async fn events(
    req: HttpRequest,
    _principal: Principal,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let words: Vec<String> = query
        .search_words()
        .iter()
        .map(|w| w.to_lowercase())
        .collect();
    let all: Vec<EventType> = clientstor_events::types::PUBLIC
        .iter()
        .filter(|(name, _)| words.iter().all(|w| name.contains(w.as_str())))
        .map(|(name, description)| EventType {
            name,
            description,
            data_schema: crate::catalogue::data_schema(name),
        })
        .collect();
    let count = all.len() as i64;
    let results: Vec<EventType> = all
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/webhooks/events/", "/api/v1/webhooks/events"])
            .route(web::get().to(events)),
    )
    .service(
        web::resource([
            "/api/v1/webhooks/{id}/rotate-secret/",
            "/api/v1/webhooks/{id}/rotate-secret",
        ])
        .route(web::post().to(rotate_secret)),
    )
    .service(
        web::resource(["/api/v1/webhooks/{id}/test/", "/api/v1/webhooks/{id}/test"])
            .route(web::post().to(test)),
    )
    .service(
        web::resource([
            "/api/v1/webhooks/{id}/recover/",
            "/api/v1/webhooks/{id}/recover",
        ])
        .route(web::post().to(recover)),
    );
}

pub fn openapi(spec: &mut Spec) {
    spec.model(&EVENT_TYPE)
        .action(
            Action::new(
                "get",
                "/api/v1/webhooks/events/",
                "List the events a webhook can subscribe to",
            )
            .answers("200", "A page of event types")
            .query(
                "search",
                Kind::String,
                "Words that must all appear (case-insensitive) in name",
            )
            .query("page", Kind::Integer, "1-based")
            .query(
                "page_size",
                Kind::Integer,
                "25 by default; above 200 is served as 200",
            )
            .returns_page(&EVENT_TYPE)
            .error("400", "A paging parameter is not valid")
            .error("404", "A page past the end"),
        )
        .action(
            Action::new(
                "post",
                "/api/v1/webhooks/{id}/rotate-secret/",
                "Rotate a webhook's signing secret",
            )
            .answers(
                "200",
                "The webhook with its new secret; the old one keeps signing for 24 hours",
            )
            .body(serde_json::json!({
                "type": "object",
                "description": "Optional: without a body a secret is generated",
                "properties": {
                    "secret": {
                        "type": "string",
                        "writeOnly": true,
                        "description": "The new secret: `whsec_` plus base64, or a plain string of at least 24 characters"
                    }
                }
            }))
            .returns_schema(reference("WebhookWithSecret")),
        )
        .action(
            Action::new(
                "post",
                "/api/v1/webhooks/{id}/test/",
                "Send a webhook.test event to this webhook",
            )
            .answers("202", "The test delivery, due now")
            .returns(&QUEUED),
        )
        .action(
            Action::new(
                "post",
                "/api/v1/webhooks/{id}/recover/",
                "Retry every failed or exhausted delivery since a time",
            )
            .answers(
                "202",
                "The deliveries are due again (200 instead with dry_run: only counted)",
            )
            .body(serde_json::json!({
                "type": "object",
                "required": ["since"],
                "properties": {
                    "since": { "type": "string", "format": "date-time", "description": "Deliveries created at or after it (RFC 3339)" },
                    "dry_run": { "type": "boolean", "default": false, "description": "Only count them" }
                }
            }))
            .returns_schema(serde_json::json!({
                "type": "object",
                "required": ["count", "dry_run"],
                "properties": {
                    "count": { "type": "integer", "description": "The deliveries due again (or that would be)" },
                    "dry_run": { "type": "boolean" }
                }
            })),
        );
}
