//! What an integration reached: `…/{id}/devices/` (the platform's devices as last seen),
//! `…/{id}/alerts/` (Datto alerts), `…/{id}/mapping/` (where each of the platform's clients
//! goes under the current mapping) and `POST …/{id}/test/` (log in and read one page).

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_keyring::KeyringCell;
use clientstor_runtime::Context;
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CONFIGURE, keyring, rfc3339, visible};
use crate::SCHEMA;
use crate::connectors::Http;
use crate::connectors::http::Retry;
use crate::db::alerts::{self, AlertFilter, AlertRow};
use crate::db::devices::{self, DeviceFilter, DeviceRow};
use crate::device::Device;
use crate::error::RmmError;
use crate::mapping::Mapping;

fn represent_device(row: &DeviceRow) -> Value {
    json!({
        "id": row.id,
        "integration": row.integration_id,
        "organization": row.organization_id,
        "external_id": row.external_id,
        "hostname": row.hostname,
        "serial": row.serial,
        "manufacturer": row.manufacturer,
        "model": row.model,
        "os_name": row.os_name,
        "os_version": row.os_version,
        "firmware_version": row.firmware_version,
        "ip_addresses": row.ip_addresses,
        "mac_addresses": row.mac_addresses,
        "online": row.online,
        "last_seen": row.last_seen.map(rfc3339),
        "client_id": row.client_id,
        "client_name": row.client_name,
        "site_id": row.site_id,
        "site_name": row.site_name,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "asset_type": row.asset_type,
        "removed_at": row.removed_at.map(rfc3339),
        "synced_at": rfc3339(row.synced_at),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

fn represent_alert(row: &AlertRow) -> Value {
    json!({
        "id": row.id,
        "integration": row.integration_id,
        "organization": row.organization_id,
        "external_id": row.external_id,
        "device_external_id": row.device_external_id,
        "device_name": row.device_name,
        "status": row.status,
        "severity": row.severity,
        "message": row.message,
        "alert_type": row.alert_type,
        "triggered_at": row.triggered_at.map(rfc3339),
        "resolved_at": row.resolved_at.map(rfc3339),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

#[derive(Debug, Deserialize)]
struct DeviceFilters {
    online: Option<bool>,
    removed: Option<bool>,
}

async fn list_devices(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    filters: web::Query<DeviceFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(devices::ORDERING_FIELDS)?;
    let filter = DeviceFilter {
        search: query.search_words(),
        online: filters.online,
        removed: filters.removed,
    };
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let integration = visible(&principal, conn, &path).await?;
    let (count, rows) = devices::list(conn, integration.id, &filter, &ordering, page).await?;
    let results = rows.iter().map(represent_device).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

#[derive(Debug, Deserialize)]
struct AlertFilters {
    status: Option<String>,
    severity: Option<String>,
}

async fn list_alerts(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    filters: web::Query<AlertFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(alerts::ORDERING_FIELDS)?;
    let f = filters.into_inner();
    let filter = AlertFilter {
        search: query.search_words(),
        status: f.status,
        severity: f.severity,
    };
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let integration = visible(&principal, conn, &path).await?;
    let (count, rows) = alerts::list(conn, integration.id, &filter, &ordering, page).await?;
    let results = rows.iter().map(represent_alert).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

/// Each client of the platform seen by the last run, with its devices and where the current
/// mapping puts them.
async fn mapping(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let integration = visible(&principal, conn, &path).await?;
    let mapping = Mapping::load(conn, &integration)
        .await
        .map_err(RmmError::from)?;
    let clients = devices::clients(conn, integration.id).await?;
    let targets: Vec<i64> = clients
        .iter()
        .map(|(id, name, _)| {
            mapping.target(&Device {
                client_id: id.clone(),
                client_name: name.clone(),
                ..Device::default()
            })
        })
        .collect();
    let mut ids = targets.clone();
    ids.sort_unstable();
    ids.dedup();
    let names = clientstor_runtime::organizations::names(conn, SCHEMA, &ids)
        .await
        .map_err(RmmError::from)?;
    let rows: Vec<Value> = clients
        .iter()
        .zip(&targets)
        .map(|((id, name, count), target)| {
            json!({
                "client_id": id,
                "client_name": name,
                "devices": count,
                "organization": target,
                "organization_name": names.get(target).cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "organization_mapping": integration.organization_mapping,
        "clients": rows,
    })))
}

/// Logs in and reads the first page, without storing anything.
async fn test(
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let integration = {
        let mut conn = context.pool.get().await.map_err(RmmError::from)?;
        visible(&principal, &mut conn, &path).await?
    };
    principal.require(integration.organization_id, CONFIGURE)?;
    let keyring = keyring(&cell, &context)?;
    let policy = clientstor_outbound::Policy::from_settings(&context.settings.outbound)
        .map_err(ApiError::internal)?;
    let timeout = std::time::Duration::from_secs(context.settings.outbound.timeout_seconds.max(1));
    // One try per call: a test reports what happens now.
    let retry = Retry {
        attempts: 1,
        rate_limited: 1,
        max_wait: std::time::Duration::from_secs(5),
        ..Retry::default()
    };
    let http =
        Http::new(std::sync::Arc::new(policy), timeout, retry).map_err(ApiError::internal)?;
    let mut connector = {
        let mut conn = context.pool.get().await.map_err(RmmError::from)?;
        crate::sync::connector(
            &http,
            &context.settings.rmm,
            &keyring,
            &mut conn,
            &integration,
        )
        .await?
    };
    let body = match connector.test().await {
        Ok(report) => json!({
            "ok": true,
            "authenticated": report.authenticated,
            "devices_on_first_page": report.devices_on_first_page,
            "clients": report.clients.iter().map(|(id, name)| json!({"client_id": id, "client_name": name})).collect::<Vec<_>>(),
        }),
        Err(e) => json!({ "ok": false, "error": e.to_string() }),
    };
    Ok(HttpResponse::Ok().json(body))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let both = |path: &str| {
        [
            format!("/api/v1/integrations/rmm/{{id}}/{path}/"),
            format!("/api/v1/integrations/rmm/{{id}}/{path}"),
        ]
    };
    cfg.service(web::resource(both("devices")).route(web::get().to(list_devices)))
        .service(web::resource(both("alerts")).route(web::get().to(list_alerts)))
        .service(web::resource(both("mapping")).route(web::get().to(mapping)))
        .service(web::resource(both("test")).route(web::post().to(test)));
}

pub fn openapi_paths() -> Value {
    use clientstor_runtime::openapi::{action, paths, resource};
    paths(vec![
        resource(
            "/api/v1/integrations/rmm/{id}/devices/",
            "device",
            "l",
            &["online", "removed"],
        ),
        resource(
            "/api/v1/integrations/rmm/{id}/alerts/",
            "alert",
            "l",
            &["status", "severity"],
        ),
        action(
            "/api/v1/integrations/rmm/{id}/mapping/",
            "get",
            "Where each of the platform's clients goes under the current mapping",
            "200",
            "The clients seen by the last run and their organizations",
        ),
        action(
            "/api/v1/integrations/rmm/{id}/test/",
            "post",
            "Log in to the platform and read one page",
            "200",
            "What the test reached, or the error",
        ),
    ])
}
