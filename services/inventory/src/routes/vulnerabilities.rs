//! `/api/v1/vulnerabilities/` (findings across the caller's organizations),
//! `/api/v1/assets/{id}/vulnerabilities/`, `PATCH` to ignore a finding with a reason (or open
//! it again), and `POST /api/v1/vulnerabilities/feed-sync/` with its status.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::reader::object;
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec};
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::assets::visible;
use crate::db::feed_syncs::{self, FeedSyncRow};
use crate::db::findings::{self, FindingFilter, FindingView};
use crate::error::InventoryError;

const VIEW: &str = "vulnerabilities_view";
const MANAGE: &str = "vulnerabilities_manage";

/// NVD's CVSS severities, lower-cased.
const SEVERITIES: &[&str] = &["none", "low", "medium", "high", "critical"];
/// What of an asset a CVE matched.
const MATCH_SOURCES: &[&str] = &["os", "firmware", "software"];
const SYNC_STATUSES: &[&str] = &[
    "queued",
    "running",
    "succeeded",
    "partially_failed",
    "failed",
];
const SYNC_TRIGGERS: &[&str] = &["manual", "schedule"];

/// A vulnerability finding, for the API description.
pub const FINDING: Model = Model {
    name: "VulnerabilityFinding",
    noun: "vulnerability finding",
    about: "CVEs that apply to the assets: one finding per asset and CVE, open, resolved or ignored",
    record: true,
    fields: &[
        Field::ro("asset", Kind::Integer),
        Field::ro("asset_name", Kind::String),
        Field::ro("cve_id", Kind::String),
        Field::ro("summary", Kind::String),
        Field::ro("severity", Kind::Enum(SEVERITIES)).nullable(),
        Field::ro("cvss_score", Kind::Number).nullable(),
        Field::ro("known_exploited", Kind::Boolean).about("In CISA's KEV catalog"),
        Field::ro("published_at", Kind::DateTime).nullable(),
        Field::ro("status", Kind::Enum(findings::STATUSES)).about(
            "`open` when found, `resolved` when the asset no longer matches, `ignored` by a PATCH",
        ),
        Field::ro("ignored_reason", Kind::String).nullable(),
        Field::ro("matched", Kind::Model("VulnerabilityMatch")),
        Field::ro("resolved_at", Kind::DateTime).nullable(),
    ],
    search: &["cve_id"],
};

/// A CVE feed sync, for the API description.
pub const FEED_SYNC: Model = Model {
    name: "FeedSync",
    noun: "feed sync",
    about: "A synchronisation of the CVE feeds (CISA KEV, then the NVD)",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("status", Kind::Enum(SYNC_STATUSES)),
        Field::ro("trigger", Kind::Enum(SYNC_TRIGGERS)),
        Field::ro("cves_received", Kind::Integer),
        Field::ro("kev_entries", Kind::Integer),
        Field::ro("errors", Kind::Models("FeedSyncError")),
        Field::ro("assets_pending", Kind::Integer)
            .about("Assets of your organizations waiting to be matched against the CVEs"),
        Field::ro("started_at", Kind::DateTime).nullable(),
        Field::ro("finished_at", Kind::DateTime).nullable(),
        Field::ro("created_at", Kind::DateTime),
    ],
    search: &[],
};

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
    let pending = crate::feeds::matching::pending(&mut conn, &principal.orgs_with(VIEW)).await?;
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
    let pending = crate::feeds::matching::pending(&mut conn, &principal.orgs_with(VIEW)).await?;
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

/// The API description of the vulnerability findings and the feed syncs.
pub fn openapi(spec: &mut Spec) {
    spec.schema(
        "VulnerabilityMatch",
        json!({
            "type": "object",
            "description": "What of the asset the CVE matched",
            "required": ["product", "version", "source"],
            "properties": {
                "product": { "type": "string" },
                "version": { "type": "string" },
                "source": { "type": "string", "enum": MATCH_SOURCES },
            }
        }),
    );
    spec.schema(
        "FeedSyncError",
        json!({
            "type": "object",
            "required": ["feed", "reason"],
            "properties": {
                "feed": { "type": "string", "enum": ["kev", "nvd"] },
                "reason": { "type": "string" },
            }
        }),
    );
    spec.model(&FEED_SYNC);
    // Fixed paths first, as in `configure`.
    spec.action(
        Action::new(
            "post",
            "/api/v1/vulnerabilities/feed-sync/",
            "Synchronise the CVE feeds now; a sync already queued or running is returned",
        )
        .answers(
            "202",
            "The sync, to poll at /api/v1/vulnerabilities/feed-sync/{id}/",
        )
        .returns(&FEED_SYNC),
    );
    spec.action(
        Action::new(
            "get",
            "/api/v1/vulnerabilities/feed-sync/{id}/",
            "A feed sync's progress",
        )
        .answers("200", "The sync")
        .returns(&FEED_SYNC),
    );
    spec.resource(
        "/api/v1/vulnerabilities/",
        &FINDING,
        "lr",
        &[
            "asset",
            "severity",
            "cvss_min:number",
            "known_exploited",
            "status",
            "cve_id",
        ],
    );
    spec.action(
        Action::new(
            "patch",
            "/api/v1/vulnerabilities/{id}/",
            "Ignore a vulnerability finding (with a reason), or open it again",
        )
        .body(json!({
            "type": "object",
            "properties": {
                "status": { "type": "string", "enum": ["ignored", "open"] },
                "ignored_reason": {
                    "type": ["string", "null"],
                    "maxLength": 2000,
                    "description": "Required when the status is `ignored`",
                },
            }
        }))
        .answers("200", "The vulnerability finding")
        .returns(&FINDING),
    );
    // The asset's own findings: the path names the asset, so no `asset` filter.
    spec.resource(
        "/api/v1/assets/{id}/vulnerabilities/",
        &FINDING,
        "l",
        &[
            "severity",
            "cvss_min:number",
            "known_exploited",
            "status",
            "cve_id",
        ],
    );
    spec.ordering("/api/v1/vulnerabilities/", findings::ORDERING_FIELDS);
    spec.ordering(
        "/api/v1/assets/{id}/vulnerabilities/",
        findings::ORDERING_FIELDS,
    );
}
