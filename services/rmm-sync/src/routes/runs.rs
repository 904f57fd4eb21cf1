//! Runs of an integration: `POST …/{id}/sync/` starts one now (or returns the one already
//! queued or running, 202 either way), `…/{id}/runs/` and `…/runs/{run_id}/` show progress.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec};
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{SYNC, path_id, rfc3339, visible};
use crate::db::runs::{self as repo, RunRow};
use crate::error::RmmError;

pub fn represent(run: &RunRow) -> Value {
    json!({
        "id": run.id,
        "integration": run.integration_id,
        "organization": run.organization_id,
        "status": run.status,
        "trigger": run.trigger,
        "pages_fetched": run.pages_fetched,
        "devices_seen": run.devices_seen,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "retired": run.retired,
        "errors": run.errors,
        "requested_by": run.requested_by,
        "started_at": run.started_at.map(rfc3339),
        "finished_at": run.finished_at.map(rfc3339),
        "created_at": rfc3339(run.created_at),
    })
}

async fn sync(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let integration = visible(&principal, conn, &path).await?;
    principal.require(integration.organization_id, SYNC)?;
    let traceparent = clientstor_events::trace::current().map(|t| t.header());
    let (run, _new) = repo::request(
        conn,
        integration.id,
        integration.organization_id,
        repo::MANUAL,
        Some(principal.uid),
        traceparent,
    )
    .await?;
    context.work.notify_one();
    Ok(HttpResponse::Accepted().json(represent(&run)))
}

#[derive(Debug, Deserialize)]
struct Filters {
    status: Option<String>,
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    if let Some(status) = &filters.status
        && !repo::STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::field(
            "status",
            format!("\"{status}\" is not a valid choice."),
        ));
    }
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let integration = visible(&principal, conn, &path).await?;
    let (count, rows) = repo::list(
        conn,
        integration.id,
        filters.status.as_deref(),
        &ordering,
        page,
    )
    .await?;
    let results = rows.iter().map(represent).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, run_id) = path.into_inner();
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let integration = visible(&principal, conn, &id).await?;
    let run = repo::get(conn, integration.id, path_id(&run_id)?).await?;
    Ok(HttpResponse::Ok().json(represent(&run)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource([
            "/api/v1/integrations/rmm/{id}/sync/",
            "/api/v1/integrations/rmm/{id}/sync",
        ])
        .route(web::post().to(sync)),
    )
    .service(
        web::resource([
            "/api/v1/integrations/rmm/{id}/runs/",
            "/api/v1/integrations/rmm/{id}/runs",
        ])
        .route(web::get().to(list)),
    )
    .service(
        web::resource([
            "/api/v1/integrations/rmm/{id}/runs/{run_id}/",
            "/api/v1/integrations/rmm/{id}/runs/{run_id}",
        ])
        .route(web::get().to(detail)),
    );
}

/// The run representation, for the API description.
pub const MODEL: Model = Model {
    name: "RmmRun",
    noun: "run",
    about: "One sync of an integration: queued by the schedule or a user, then its counts",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("integration", Kind::Integer),
        Field::ro("organization", Kind::Integer).about("The integration's organization"),
        Field::ro("status", Kind::Enum(repo::STATUSES)),
        Field::ro("trigger", Kind::Enum(repo::TRIGGERS)),
        Field::ro("pages_fetched", Kind::Integer),
        Field::ro("devices_seen", Kind::Integer),
        Field::ro("created", Kind::Integer).about("Devices seen for the first time"),
        Field::ro("updated", Kind::Integer).about("Devices that changed (or came back)"),
        Field::ro("unchanged", Kind::Integer),
        Field::ro("retired", Kind::Integer).about("Devices no longer on the platform"),
        Field::ro("errors", Kind::Models(RUN_ERROR))
            .about("Devices or pages that could not be read; the run goes on without them"),
        Field::ro("requested_by", Kind::Integer)
            .nullable()
            .about("The user who started a manual run"),
        Field::ro("started_at", Kind::DateTime).nullable(),
        Field::ro("finished_at", Kind::DateTime).nullable(),
        Field::ro("created_at", Kind::DateTime),
    ],
    search: &[],
};

const RUN_ERROR: &str = "RmmRunError";

/// The integration's `last_run`.
pub fn summary_schema() -> Value {
    let mut schema = MODEL.schema();
    let keep = ["id", "status", "trigger", "started_at", "finished_at"];
    if let Some(properties) = schema["properties"].as_object_mut() {
        properties.retain(|name, _| keep.contains(&name.as_str()));
    }
    schema["required"] = json!(keep);
    schema["description"] = json!("The latest run of the integration");
    schema
}

pub fn openapi(spec: &mut Spec) {
    spec.schema(
        RUN_ERROR,
        json!({
            "type": "object",
            "required": ["external_id", "reason"],
            "properties": {
                "external_id": { "type": ["string", "null"], "description": "The device's id on the platform, when known" },
                "reason": { "type": "string" },
            },
        }),
    )
    .action(
        Action::new(
            "post",
            "/api/v1/integrations/rmm/{id}/sync/",
            "Start a sync now; a run already queued or running is returned instead",
        )
        .answers("202", "The run, to follow at runs/{run_id}/")
        .returns(&MODEL),
    )
    .resource(
        "/api/v1/integrations/rmm/{id}/runs/",
        &MODEL,
        "l",
        &["status"],
    )
    .action(
        Action::new(
            "get",
            "/api/v1/integrations/rmm/{id}/runs/{run_id}/",
            "Get a run",
        )
        .answers("200", "The run")
        .returns(&MODEL),
    );
    spec.ordering("/api/v1/integrations/rmm/{id}/runs/", repo::ORDERING_FIELDS);
}
