//! `POST /api/v1/passwords/breach-scan/` makes every entry of the caller's organizations due for
//! a breach check now (202); `GET …/breach-scan/{id}/` tells how far it got.

use actix_web::{HttpResponse, web};
use clientstor_http::{ApiError, Principal};
use clientstor_runtime::Context;
use serde_json::{Value, json};

use super::path_id;
use crate::db::breach::{self, ScanProgress, ScanRow};

fn represent(scan: &ScanRow, progress: &ScanProgress) -> Value {
    json!({
        "id": scan.id,
        "status": if scan.finished_at.is_some() { "finished" } else { "running" },
        "organizations": scan.organization_ids,
        "total": scan.total,
        "remaining": progress.remaining,
        "results": { "safe": progress.safe, "breached": progress.breached, "unknown": progress.unknown },
        "created_at": scan.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "finished_at": scan.finished_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        "url": format!("/api/v1/passwords/breach-scan/{}/", scan.id),
    })
}

async fn start(
    principal: Principal,
    context: web::Data<Context>,
) -> Result<HttpResponse, ApiError> {
    let orgs = principal.orgs_with("vault_edit");
    if orgs.is_empty() {
        return Err(ApiError::Forbidden(
            "Starting a breach scan needs vault_edit.".into(),
        ));
    }
    let scan = breach::start_scan(&context.pool, &orgs, principal.uid).await?;
    context.work.notify_one();
    let (scan, progress) = breach::scan(&context.pool, &orgs, scan.id).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            "location",
            format!("/api/v1/passwords/breach-scan/{}/", scan.id),
        ))
        .json(represent(&scan, &progress)))
}

async fn status(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let orgs = principal.orgs_with("vault_view");
    let (scan, progress) = breach::scan(&context.pool, &orgs, path_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(represent(&scan, &progress)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource([
            "/api/v1/passwords/breach-scan/",
            "/api/v1/passwords/breach-scan",
        ])
        .route(web::post().to(start)),
    )
    .service(
        web::resource([
            "/api/v1/passwords/breach-scan/{id}/",
            "/api/v1/passwords/breach-scan/{id}",
        ])
        .route(web::get().to(status)),
    );
}

pub fn openapi_paths() -> Value {
    json!({
        "/api/v1/passwords/breach-scan/": {
            "post": { "summary": "Check every entry against the breach corpus now",
                      "responses": { "202": { "description": "The scan, to poll at its url" } } }
        },
        "/api/v1/passwords/breach-scan/{id}/": {
            "get": { "summary": "A breach scan's progress",
                     "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }],
                     "responses": { "200": { "description": "The scan" } } }
        }
    })
}
