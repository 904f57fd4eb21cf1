//! `POST /api/v1/passwords/breach-scan/` makes every entry of the caller's organizations due for
//! a breach check now (202); `GET …/breach-scan/{id}/` tells how far it got.

use actix_web::{HttpResponse, web};
use clientstor_http::{ApiError, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec};
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

/// A breach scan, for the API description.
pub const MODEL: Model = Model {
    name: "BreachScan",
    noun: "breach scan",
    about: "A check of every entry of the caller's organizations against the Pwned Passwords corpus",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("status", Kind::Enum(&["running", "finished"])),
        Field::ro("organizations", Kind::Integers).about("The organizations it covers"),
        Field::ro("total", Kind::Integer).about("Entries with a password when it started"),
        Field::ro("remaining", Kind::Integer).about("Entries not checked yet"),
        Field::ro("results", Kind::Model("BreachScanResults")),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("finished_at", Kind::DateTime).nullable(),
        Field::ro("url", Kind::String).about("Where to poll it"),
    ],
    search: &[],
};

pub fn openapi(spec: &mut Spec) {
    spec.model(&MODEL)
        .schema(
            "BreachScanResults",
            json!({
                "type": "object",
                "description": "The covered entries by breach status",
                "required": ["safe", "breached", "unknown"],
                "properties": {
                    "safe": { "type": "integer" },
                    "breached": { "type": "integer" },
                    "unknown": { "type": "integer" }
                }
            }),
        )
        .action(
            Action::new(
                "post",
                "/api/v1/passwords/breach-scan/",
                "Check every entry against the breach corpus now",
            )
            .answers(
                "202",
                "Started; poll it at its url (also in Location). Needs vault_edit; covers the organizations where the key has it",
            )
            .organization()
            .returns(&MODEL),
        )
        .action(
            Action::new(
                "get",
                "/api/v1/passwords/breach-scan/{id}/",
                "Get a breach scan's progress",
            )
            .answers("200", "The scan")
            .returns(&MODEL),
        );
}
