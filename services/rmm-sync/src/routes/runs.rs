//! Runs of an integration: `POST …/{id}/sync/` starts one now (or returns the one already
//! queued or running, 202 either way), `…/{id}/runs/` and `…/runs/{run_id}/` show progress.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
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
        "manual",
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

pub fn openapi_paths() -> Value {
    clientstor_runtime::openapi::paths(vec![
        clientstor_runtime::openapi::action(
            "/api/v1/integrations/rmm/{id}/sync/",
            "post",
            "Start a sync now; a run already queued or running is returned instead",
            "202",
            "The run, to poll at /runs/{run_id}/",
        ),
        clientstor_runtime::openapi::resource(
            "/api/v1/integrations/rmm/{id}/runs/",
            "run",
            "lr",
            &["status"],
        ),
    ])
}
