//! `/api/v1/vulnerabilities/` (findings across the caller's organizations),
//! `/api/v1/assets/{id}/vulnerabilities/`, `PATCH` to ignore a finding with a reason (or open
//! it again), and `POST /api/v1/vulnerabilities/feed-sync/` with its status.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::reader::object;
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::assets::visible;
use crate::db::feed_syncs::{self, FeedSyncRow};
use crate::db::findings::{self, FindingFilter, FindingView};
use crate::error::InventoryError;

const VIEW: &str = "vulnerabilities_view";
const MANAGE: &str = "vulnerabilities_manage";

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn represent(f: &FindingView, organization_name: &str) -> Value {
    json!({
        "id": f.id,
        "organization": f.organization_id,
        "organization_name": organization_name,
        "asset": f.asset_id,
        "asset_name": f.asset_name,
        "cve_id": f.cve_id,
        "summary": f.summary,
        "severity": f.severity,
        "cvss_score": f.cvss_score,
        "known_exploited": f.known_exploited,
        "published_at": f.published_at.map(rfc3339),
        "status": f.status,
        "ignored_reason": f.ignored_reason,
        "matched": {"product": f.matched_product, "version": f.matched_version, "source": f.source},
        "resolved_at": f.resolved_at.map(rfc3339),
        "created_at": rfc3339(f.created_at),
        "updated_at": rfc3339(f.updated_at),
    })
}

#[derive(Debug, Deserialize)]
struct Filters {
    asset: Option<i64>,
    severity: Option<String>,
    cvss_min: Option<f64>,
    known_exploited: Option<bool>,
    status: Option<String>,
    cve_id: Option<String>,
}

async fn page_of(
    req: &HttpRequest,
    principal: &Principal,
    context: &Context,
    query: &ListQuery,
    mut filter: FindingFilter,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(req)?;
    let ordering = query.ordering(findings::ORDERING_FIELDS)?;
    if let Some(status) = &filter.status
        && !findings::STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::field(
            "status",
            format!("\"{status}\" is not a valid choice."),
        ));
    }
    filter.search = query.search_words();
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let orgs = principal.orgs_with(VIEW);
    let (count, rows) = findings::list(conn, &orgs, &filter, &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = clientstor_runtime::organizations::names(conn, crate::SCHEMA, &ids)
        .await
        .map_err(InventoryError::from)?;
    let results = rows
        .iter()
        .map(|r| represent(r, names.get(&r.organization_id).map_or("", String::as_str)))
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(req, page, count, results)?))
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let f = filters.into_inner();
    let filter = FindingFilter {
        search: Vec::new(),
        asset: f.asset,
        severity: f.severity,
        cvss_min: f.cvss_min,
        known_exploited: f.known_exploited,
        status: f.status,
        cve_id: f.cve_id,
    };
    page_of(&req, &principal, &context, &query, filter).await
}

async fn of_asset(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let asset = visible(&principal, &context, &path).await?;
    let f = filters.into_inner();
    let filter = FindingFilter {
        search: Vec::new(),
        asset: Some(asset.id),
        severity: f.severity,
        cvss_min: f.cvss_min,
        known_exploited: f.known_exploited,
        status: f.status,
        cve_id: f.cve_id,
    };
    page_of(&req, &principal, &context, &query, filter).await
}

async fn finding(
    principal: &Principal,
    conn: &mut AsyncPgConnection,
    raw: &str,
) -> Result<FindingView, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    Ok(findings::get(conn, &principal.orgs_with(VIEW), id).await?)
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    let f = finding(&principal, &mut conn, &path).await?;
    let name = clientstor_runtime::organizations::name(&mut conn, crate::SCHEMA, f.organization_id)
        .await
        .map_err(InventoryError::from)?;
    Ok(HttpResponse::Ok().json(represent(&f, &name)))
}

/// `{"status": "ignored", "ignored_reason": "…"}` or `{"status": "open"}`.
async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let map = object(&body)?;
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let current = finding(&principal, conn, &path).await?;
    principal.require(current.organization_id, MANAGE)?;
    let status = match map.get("status") {
        None => current.status.clone(),
        Some(Value::String(s)) if s == "ignored" || s == "open" => s.clone(),
        Some(_) => return Err(ApiError::field("status", "Set \"ignored\" or \"open\".")),
    };
    let reason = match map.get("ignored_reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().len() <= 2000 => Some(s.trim().to_string()),
        Some(_) => {
            return Err(ApiError::field(
                "ignored_reason",
                "A string of at most 2000 characters.",
            ));
        }
    };
    let reason = match (status.as_str(), reason) {
        ("ignored", Some(r)) if !r.is_empty() => Some(r),
        ("ignored", _) => {
            return Err(ApiError::field(
                "ignored_reason",
                "Say why the finding is ignored.",
            ));
        }
        _ => None,
    };
    findings::set_status(conn, current.id, &status, reason.as_deref()).await?;
    let f = findings::get(conn, &[current.organization_id], current.id).await?;
    let name = clientstor_runtime::organizations::name(conn, crate::SCHEMA, f.organization_id)
        .await
        .map_err(InventoryError::from)?;
    Ok(HttpResponse::Ok().json(represent(&f, &name)))
}

fn represent_sync(s: &FeedSyncRow, assets_pending: i64) -> Value {
    json!({
        "id": s.id,
        "status": s.status,
        "trigger": s.trigger,
        "cves_received": s.cves_received,
        "kev_entries": s.kev_entries,
        "errors": s.errors,
        "assets_pending": assets_pending,
        "started_at": s.started_at.map(rfc3339),
        "finished_at": s.finished_at.map(rfc3339),
        "created_at": rfc3339(s.created_at),
    })
}

/// Starts a feed sync now (202); a sync already queued or running is returned instead.
async fn feed_sync(
    principal: Principal,
    context: web::Data<Context>,
) -> Result<HttpResponse, ApiError> {
    if principal.orgs_with(MANAGE).is_empty() {
        return Err(ApiError::Forbidden(
            "This key may not manage vulnerabilities.".into(),
        ));
    }
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    let sync = feed_syncs::request(&mut conn, "manual", Some(principal.uid)).await?;
    let pending = crate::feeds::matching::pending(&mut conn).await?;
    Ok(HttpResponse::Accepted().json(represent_sync(&sync, pending)))
}

async fn feed_sync_status(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if principal.orgs_with(VIEW).is_empty() {
        return Err(ApiError::not_found());
    }
    let id: i64 = path.parse().map_err(|_| ApiError::not_found())?;
    let mut conn = context.pool.get().await.map_err(InventoryError::from)?;
    let sync = feed_syncs::get(&mut conn, id).await?;
    let pending = crate::feeds::matching::pending(&mut conn).await?;
    Ok(HttpResponse::Ok().json(represent_sync(&sync, pending)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Fixed paths before `{id}`.
    cfg.service(
        web::resource([
            "/api/v1/vulnerabilities/feed-sync/",
            "/api/v1/vulnerabilities/feed-sync",
        ])
        .route(web::post().to(feed_sync)),
    )
    .service(
        web::resource([
            "/api/v1/vulnerabilities/feed-sync/{id}/",
            "/api/v1/vulnerabilities/feed-sync/{id}",
        ])
        .route(web::get().to(feed_sync_status)),
    )
    .service(
        web::resource(["/api/v1/vulnerabilities/", "/api/v1/vulnerabilities"])
            .route(web::get().to(list)),
    )
    .service(
        web::resource([
            "/api/v1/vulnerabilities/{id}/",
            "/api/v1/vulnerabilities/{id}",
        ])
        .route(web::get().to(detail))
        .route(web::patch().to(patch)),
    )
    .service(
        web::resource([
            "/api/v1/assets/{id}/vulnerabilities/",
            "/api/v1/assets/{id}/vulnerabilities",
        ])
        .route(web::get().to(of_asset)),
    );
}

pub fn openapi_paths() -> Value {
    use clientstor_runtime::openapi::{action, paths, resource};
    let filters = &[
        "organization",
        "asset",
        "severity",
        "cvss_min",
        "known_exploited",
        "status",
        "cve_id",
    ];
    paths(vec![
        resource(
            "/api/v1/vulnerabilities/",
            "vulnerability finding",
            "lru",
            filters,
        ),
        resource(
            "/api/v1/assets/{id}/vulnerabilities/",
            "vulnerability finding",
            "l",
            filters,
        ),
        action(
            "/api/v1/vulnerabilities/feed-sync/",
            "post",
            "Synchronise the CVE feeds now; a sync already queued or running is returned",
            "202",
            "The sync, to poll at /feed-sync/{id}/",
        ),
        action(
            "/api/v1/vulnerabilities/feed-sync/{id}/",
            "get",
            "A feed sync's progress",
            "200",
            "The sync",
        ),
    ])
}
