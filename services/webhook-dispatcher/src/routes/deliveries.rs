//! The delivery log: `/api/v1/webhooks/{id}/deliveries/` (filters status, event,
//! created_after/before), `…/{record_id}/` with every attempt, and
//! `…/{record_id}/retry/` to send one again now.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec};
use serde::{Deserialize, Serialize};

use crate::db::deliveries::{self as repo, AttemptView, DeliveryFilter, DeliveryView};
use crate::db::endpoints;

#[derive(Debug, Deserialize)]
struct Filters {
    status: Option<String>,
    event: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct DeliveryOut {
    #[serde(flatten)]
    delivery: DeliveryView,
    attempts: Vec<AttemptView>,
}

const STATUSES: &[&str] = &["pending", "success", "failed", "exhausted"];

/// The fields of a delivery (`DeliveryView`).
const DELIVERY_FIELDS: [Field; 10] = [
    Field::ro("id", Kind::Integer),
    Field::ro("webhook", Kind::Integer).about("The webhook's id"),
    Field::ro("event_id", Kind::String).about("The event's UUID"),
    Field::ro("event", Kind::String).about("The event name (`webhook.test` for a test)"),
    Field::ro("webhook_id", Kind::String)
        .about("The Standard Webhooks message id (`webhook-id` header), the same on every attempt"),
    Field::ro("status", Kind::Enum(STATUSES)),
    Field::ro("attempt_count", Kind::Integer),
    Field::ro("next_attempt_at", Kind::DateTime)
        .nullable()
        .about("When it is due next; null once it succeeded or is exhausted"),
    Field::ro("created_at", Kind::DateTime),
    Field::ro("updated_at", Kind::DateTime),
];

const fn with_attempts(fields: [Field; 10]) -> [Field; 11] {
    let mut all = [Field::ro("attempts", Kind::Models("WebhookAttempt")); 11];
    let mut i = 0;
    while i < fields.len() {
        all[i] = fields[i];
        i += 1;
    }
    all
}

/// A delivery with every attempt, oldest first (the list and the detail).
pub const DELIVERY: Model = Model {
    name: "WebhookDelivery",
    noun: "delivery",
    about: "One event sent to a webhook, with every attempt",
    record: false,
    fields: &with_attempts(DELIVERY_FIELDS),
    search: &["event"],
};

/// A delivery without its attempts (the test and retry answers).
pub const QUEUED: Model = Model {
    name: "WebhookDeliveryQueued",
    noun: "delivery",
    about: "A delivery that is due now, without its attempts",
    record: false,
    fields: &DELIVERY_FIELDS,
    search: &[],
};

/// The endpoint id from the path, if the caller can see it.
async fn visible_endpoint(
    principal: &Principal,
    context: &Context,
    raw: &str,
) -> Result<i64, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    endpoints::get(&context.pool, &principal.orgs_with("webhooks_view"), id).await?;
    Ok(id)
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = visible_endpoint(&principal, &context, &path).await?;
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let filters = filters.into_inner();
    if let Some(status) = filters.status.as_deref()
        && !STATUSES.contains(&status)
    {
        return Err(ApiError::field(
            "status",
            format!("Choose one of {}.", STATUSES.join(", ")),
        ));
    }
    let filter = DeliveryFilter {
        status: filters.status,
        event: filters.event,
        created_after: filters.created_after,
        created_before: filters.created_before,
        search: query.search_words(),
    };
    let (count, rows) = repo::list(&context.pool, endpoint, &filter, &ordering, page).await?;
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let mut attempts = repo::attempts_of(&context.pool, &ids).await?;
    let results: Vec<DeliveryOut> = rows
        .into_iter()
        .map(|delivery| DeliveryOut {
            attempts: attempts.remove(&delivery.id).unwrap_or_default(),
            delivery,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, delivery) = path.into_inner();
    let endpoint = visible_endpoint(&principal, &context, &endpoint).await?;
    let delivery: i64 = delivery.parse().map_err(|_| ApiError::not_found())?;
    let (delivery, attempts) = repo::detail(&context.pool, endpoint, delivery).await?;
    Ok(HttpResponse::Ok().json(DeliveryOut { delivery, attempts }))
}

/// The seed's manual retry: the delivery is due again now, whatever its state.
async fn retry(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, delivery) = path.into_inner();
    let row = super::webhooks::manageable(&principal, &context, &endpoint).await?;
    let delivery: i64 = delivery.parse().map_err(|_| ApiError::not_found())?;
    let view = repo::retry_now(&context.pool, row.id, delivery).await?;
    Ok(HttpResponse::Accepted().json(view))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource([
            "/api/v1/webhooks/{id}/deliveries/",
            "/api/v1/webhooks/{id}/deliveries",
        ])
        .route(web::get().to(list)),
    )
    .service(
        web::resource([
            "/api/v1/webhooks/{id}/deliveries/{record_id}/",
            "/api/v1/webhooks/{id}/deliveries/{record_id}",
        ])
        .route(web::get().to(detail)),
    )
    .service(
        web::resource([
            "/api/v1/webhooks/{id}/deliveries/{record_id}/retry/",
            "/api/v1/webhooks/{id}/deliveries/{record_id}/retry",
        ])
        .route(web::post().to(retry)),
    );
}

pub fn openapi(spec: &mut Spec) {
    spec.schema(
        "WebhookAttempt",
        serde_json::json!({
            "type": "object",
            "description": "One POST of a delivery",
            "required": ["attempted_at", "response_status", "duration_ms", "error", "response_body"],
            "properties": {
                "attempted_at": { "type": "string", "format": "date-time" },
                "response_status": { "type": ["integer", "null"], "description": "null when no answer came" },
                "duration_ms": { "type": "integer" },
                "error": { "type": ["string", "null"] },
                "response_body": { "type": ["string", "null"], "description": "The first 4 KiB of the answer" }
            }
        }),
    )
    .model(&QUEUED)
    .resource(
        "/api/v1/webhooks/{id}/deliveries/",
        &DELIVERY,
        "lr",
        &["status", "event", "created_after", "created_before"],
    )
    .action(
        Action::new(
            "post",
            "/api/v1/webhooks/{id}/deliveries/{record_id}/retry/",
            "Send a delivery again now",
        )
        .answers("202", "Due now, whatever its state")
        .returns(&QUEUED),
    );
    spec.ordering("/api/v1/webhooks/{id}/deliveries/", repo::ORDERING_FIELDS);
}
