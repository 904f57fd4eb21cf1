//! `/api/v1/monitors/`: create, list, detail (with status, TLS and uptime), replace, update,
//! delete; plus `pause/`, `resume/`, `check-now/` and the paginated `checks/` history.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::reader::{merged, object, requested_organization};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec, reference};
use serde::Deserialize;
use serde_json::{Value, json};

use super::monitor_input;
use crate::db::checks;
use crate::db::monitors::{self as repo, MonitorFilter, MonitorRow};
use crate::error::MonitorError;

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The monitor as the API returns it; `uptime` only on the detail.
fn represent(row: &MonitorRow, organization_name: &str, uptime: Option<[Option<f64>; 3]>) -> Value {
    let tls = row.tls_expires_at.map(|expires| {
        let days_left = (expires - chrono::Utc::now()).num_days();
        json!({
            "expires_at": rfc3339(expires),
            "issuer": row.tls_issuer,
            "subject": row.tls_subject,
            "days_left": days_left,
            "expiring_soon": days_left <= i64::from(row.tls_warning_days),
        })
    });
    let mut value = json!({
        "id": row.id,
        "organization": row.organization_id,
        "organization_name": organization_name,
        "name": row.name,
        "monitor_type": row.monitor_type,
        "url": row.url,
        "host": row.host,
        "port": row.port,
        "interval_seconds": row.interval_seconds,
        "timeout_seconds": row.timeout_seconds,
        "failure_threshold": row.failure_threshold,
        "success_threshold": row.success_threshold,
        "http_method": row.http_method,
        "expected_status": row.expected_status,
        "keyword": row.keyword,
        "follow_redirects": row.follow_redirects,
        "verify_tls": row.verify_tls,
        "tls_warning_days": row.tls_warning_days,
        "is_paused": row.is_paused,
        "maintenance_windows": row.maintenance_windows,
        "status": row.status,
        "last_checked_at": row.last_checked_at.map(rfc3339),
        "last_response_time_ms": row.last_response_time_ms,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "consecutive_failures": row.consecutive_failures,
        "down_since": row.down_since.map(rfc3339),
        "tls": tls,
        "next_check_at": rfc3339(row.next_check_at),
        "created_by": row.created_by,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    });
    if let (Some([day, week, month]), Some(object)) = (uptime, value.as_object_mut()) {
        object.insert(
            "uptime".into(),
            json!({"24h": day, "7d": week, "30d": month}),
        );
    }
    value
}

async fn name_of(context: &Context, org: i64) -> Result<String, ApiError> {
    let mut conn = context.pool.get().await.map_err(MonitorError::from)?;
    Ok(
        clientstor_runtime::organizations::name(&mut conn, crate::SCHEMA, org)
            .await
            .map_err(MonitorError::from)?,
    )
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let map = object(&body)?;
    let requested = requested_organization(map)?;
    let org = principal.target_org(requested)?;
    principal.require(org, "monitoring_create")?;
    let fields = monitor_input::parse(map, context.settings.monitor.min_interval_seconds)
        .map_err(ApiError::Validation)?;
    let row = repo::create(&context.pool, org, principal.uid, &fields).await?;
    context.work.notify_one();
    let name = name_of(&context, org).await?;
    Ok(HttpResponse::Created().json(represent(&row, &name, None)))
}

#[derive(Debug, Deserialize)]
struct Filters {
    status: Option<String>,
    monitor_type: Option<String>,
    is_paused: Option<bool>,
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let f = filters.into_inner();
    let filter = MonitorFilter {
        search: query.search_words(),
        status: f.status,
        monitor_type: f.monitor_type,
        is_paused: f.is_paused,
    };
    let orgs = principal.orgs_with("monitoring_view");
    let (count, rows) = repo::list(&context.pool, &orgs, &filter, &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut conn = context.pool.get().await.map_err(MonitorError::from)?;
    let names = clientstor_runtime::organizations::names(&mut conn, crate::SCHEMA, &ids)
        .await
        .map_err(MonitorError::from)?;
    let results = rows
        .iter()
        .map(|r| {
            represent(
                r,
                names.get(&r.organization_id).map_or("", String::as_str),
                None,
            )
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn visible(
    principal: &Principal,
    context: &Context,
    raw: &str,
) -> Result<MonitorRow, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    Ok(repo::get(&context.pool, &principal.orgs_with("monitoring_view"), id).await?)
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    let uptime = checks::uptime(&context.pool, row.id).await?;
    let name = name_of(&context, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &name, Some(uptime))))
}

async fn save(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
    partial: bool,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "monitoring_edit")?;
    let map = if partial {
        merged(represent(&row, "", None), &body)?
    } else {
        object(&body)?.clone()
    };
    let fields = monitor_input::parse(&map, context.settings.monitor.min_interval_seconds)
        .map_err(ApiError::Validation)?;
    let updated = repo::update(&context.pool, &row, &fields).await?;
    context.work.notify_one();
    let name = name_of(&context, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(represent(&updated, &name, None)))
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(principal, context, path, body, false).await
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(principal, context, path, body, true).await
}

async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "monitoring_delete")?;
    repo::delete(&context.pool, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_paused(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    paused: bool,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "monitoring_edit")?;
    let row = repo::set_paused(&context.pool, &row, paused).await?;
    context.work.notify_one();
    let name = name_of(&context, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &name, None)))
}

async fn pause(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_paused(principal, context, path, true).await
}

async fn resume(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_paused(principal, context, path, false).await
}

async fn check_now(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "monitoring_trigger")?;
    if row.is_paused {
        return Err(ApiError::Conflict("The monitor is paused.".into()));
    }
    repo::check_now(&context.pool, row.id).await?;
    context.work.notify_one();
    Ok(HttpResponse::Accepted().json(json!({"id": row.id, "detail": "Check scheduled."})))
}

async fn history(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    let page = PageRequest::from_request(&req)?;
    let (count, rows) = checks::list(&context.pool, row.id, page).await?;
    let results = rows
        .iter()
        .map(|c| {
            json!({
                "checked_at": rfc3339(c.checked_at),
                "result": if c.ok { "up" } else { "down" },
                "response_time_ms": c.response_time_ms,
                "status_code": c.status_code,
                "error": c.error,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/monitors/", "/api/v1/monitors"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource(["/api/v1/monitors/{id}/", "/api/v1/monitors/{id}"])
            .route(web::get().to(detail))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
    for (action, handler) in [
        ("pause", web::post().to(pause)),
        ("resume", web::post().to(resume)),
        ("check-now", web::post().to(check_now)),
        ("checks", web::get().to(history)),
    ] {
        cfg.service(
            web::resource([
                format!("/api/v1/monitors/{{id}}/{action}/"),
                format!("/api/v1/monitors/{{id}}/{action}"),
            ])
            .route(handler),
        );
    }
}

/// One check of a monitor's history, for the API description.
const CHECK: Model = Model {
    name: "MonitorCheck",
    noun: "check",
    about: "One check of a monitor",
    record: false,
    fields: &[
        Field::ro("checked_at", Kind::DateTime),
        Field::ro("result", Kind::Enum(&["up", "down"])),
        Field::ro("response_time_ms", Kind::Integer).nullable(),
        Field::ro("status_code", Kind::Integer).nullable(),
        Field::ro("error", Kind::String).nullable(),
    ],
    search: &[],
};

/// The API description of the monitors.
pub fn openapi(spec: &mut Spec) {
    spec.schema(
        "MaintenanceWindow",
        json!({
            "description": "A one-off window, or a weekly one in UTC (an end before the start runs past midnight)",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["start", "end"],
                    "properties": {
                        "start": { "type": "string", "format": "date-time" },
                        "end": { "type": "string", "format": "date-time", "description": "After the start" },
                    }
                },
                {
                    "type": "object",
                    "required": ["weekday", "start", "end"],
                    "properties": {
                        "weekday": { "type": "integer", "minimum": 0, "maximum": 6, "description": "Monday = 0" },
                        "start": { "type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "description": "HH:MM, UTC" },
                        "end": { "type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "description": "HH:MM, UTC" },
                    }
                }
            ]
        }),
    );
    spec.schema(
        "MonitorTls",
        json!({
            "type": "object",
            "required": ["expires_at", "issuer", "subject", "days_left", "expiring_soon"],
            "properties": {
                "expires_at": { "type": "string", "format": "date-time" },
                "issuer": { "type": ["string", "null"] },
                "subject": { "type": ["string", "null"] },
                "days_left": { "type": "integer" },
                "expiring_soon": { "type": "boolean", "description": "days_left is at most tls_warning_days" },
            }
        }),
    );
    let percent =
        json!({ "type": ["number", "null"], "description": "Percent up; null without checks" });
    spec.schema(
        "MonitorDetail",
        json!({
            "allOf": [
                reference(monitor_input::MODEL.name),
                {
                    "type": "object",
                    "required": ["uptime"],
                    "properties": {
                        "uptime": {
                            "type": "object",
                            "required": ["24h", "7d", "30d"],
                            "properties": { "24h": percent, "7d": percent, "30d": percent },
                        }
                    }
                }
            ]
        }),
    );
    spec.resource(
        "/api/v1/monitors/",
        &monitor_input::MODEL,
        "lcpud",
        &["status", "monitor_type", "is_paused"],
    );
    spec.action(
        Action::new(
            "get",
            "/api/v1/monitors/{id}/",
            "Get a monitor, with its uptime",
        )
        .answers("200", "The monitor")
        .returns_schema(reference("MonitorDetail")),
    );
    spec.action(
        Action::new("post", "/api/v1/monitors/{id}/pause/", "Pause a monitor")
            .answers("200", "The monitor")
            .returns(&monitor_input::MODEL),
    );
    spec.action(
        Action::new(
            "post",
            "/api/v1/monitors/{id}/resume/",
            "Resume a monitor; it is checked right away",
        )
        .answers("200", "The monitor")
        .returns(&monitor_input::MODEL),
    );
    spec.action(
        Action::new(
            "post",
            "/api/v1/monitors/{id}/check-now/",
            "Check a monitor now",
        )
        .answers("202", "The check is scheduled")
        .returns_schema(json!({
            "type": "object",
            "required": ["id", "detail"],
            "properties": {
                "id": { "type": "integer" },
                "detail": { "type": "string" },
            }
        }))
        .error("409", "The monitor is paused"),
    );
    spec.model(&CHECK);
    spec.action(
        Action::new(
            "get",
            "/api/v1/monitors/{id}/checks/",
            "A monitor's check history, newest first",
        )
        .answers("200", "A page of checks")
        .returns_page(&CHECK)
        .query("page", Kind::Integer, "1-based")
        .query(
            "page_size",
            Kind::Integer,
            "25 by default; above 200 is served as 200",
        )
        .error("400", "A paging parameter is not valid"),
    );
    spec.ordering("/api/v1/monitors/", repo::ORDERING_FIELDS);
}
