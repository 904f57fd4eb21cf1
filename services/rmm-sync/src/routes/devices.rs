//! What an integration reached: `…/{id}/devices/` (the platform's devices as last seen),
//! `…/{id}/alerts/` (Datto alerts), `…/{id}/mapping/` (where each of the platform's clients
//! goes under the current mapping) and `POST …/{id}/test/` (log in and read one page).

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_keyring::KeyringCell;
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Action, Field, Kind, Model, Spec, reference};
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

/// A device as the platform last showed it, for the API description.
pub const DEVICE_MODEL: Model = Model {
    name: "RmmDevice",
    noun: "device",
    about: "A device of the RMM platform as the last run saw it; each present device is an asset",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("integration", Kind::Integer),
        Field::ro("organization", Kind::Integer).about("Where the organization mapping placed it"),
        Field::ro("external_id", Kind::String).about("The device's id on the platform"),
        Field::ro("hostname", Kind::String).nullable(),
        Field::ro("serial", Kind::String).nullable(),
        Field::ro("manufacturer", Kind::String).nullable(),
        Field::ro("model", Kind::String).nullable(),
        Field::ro("os_name", Kind::String).nullable(),
        Field::ro("os_version", Kind::String).nullable(),
        Field::ro("firmware_version", Kind::String).nullable(),
        Field::ro("ip_addresses", Kind::Strings),
        Field::ro("mac_addresses", Kind::Strings),
        Field::ro("online", Kind::Boolean).nullable(),
        Field::ro("last_seen", Kind::DateTime).nullable(),
        Field::ro("client_id", Kind::String).nullable(),
        Field::ro("client_name", Kind::String).nullable(),
        Field::ro("site_id", Kind::String).nullable(),
        Field::ro("site_name", Kind::String).nullable(),
        Field::ro("latitude", Kind::Number).nullable(),
        Field::ro("longitude", Kind::Number).nullable(),
        Field::ro("asset_type", Kind::String)
            .nullable()
            .about("The asset type it maps to (server, workstation, laptop, …)"),
        Field::ro("removed_at", Kind::DateTime)
            .nullable()
            .about("When a run no longer found it on the platform"),
        Field::ro("synced_at", Kind::DateTime),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &["hostname", "serial"],
};

/// An alert of the platform (Datto RMM), for the API description.
pub const ALERT_MODEL: Model = Model {
    name: "RmmAlert",
    noun: "alert",
    about: "An alert raised on the RMM platform (Datto RMM), kept in step by each run",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("integration", Kind::Integer),
        Field::ro("organization", Kind::Integer),
        Field::ro("external_id", Kind::String).about("The alert's id on the platform"),
        Field::ro("device_external_id", Kind::String).nullable(),
        Field::ro("device_name", Kind::String).nullable(),
        Field::ro("status", Kind::Enum(alerts::STATUSES)),
        Field::ro("severity", Kind::Enum(alerts::SEVERITIES)),
        Field::ro("message", Kind::String),
        Field::ro("alert_type", Kind::String)
            .nullable()
            .about("The platform's kind of alert (Datto's alert context class)"),
        Field::ro("triggered_at", Kind::DateTime).nullable(),
        Field::ro("resolved_at", Kind::DateTime).nullable(),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &["message", "device_name"],
};

const MAPPING_PREVIEW: &str = "RmmMappingPreview";
const TEST_RESULT: &str = "RmmTestResult";

pub fn openapi(spec: &mut Spec) {
    let client = json!({ "type": ["string", "null"] });
    spec.resource(
        "/api/v1/integrations/rmm/{id}/devices/",
        &DEVICE_MODEL,
        "l",
        &["online", "removed:boolean"],
    )
    .resource(
        "/api/v1/integrations/rmm/{id}/alerts/",
        &ALERT_MODEL,
        "l",
        &["status", "severity"],
    )
    .schema(
        MAPPING_PREVIEW,
        json!({
            "type": "object",
            "description": "The platform's clients among the devices present, and where the current mapping puts each",
            "required": ["organization_mapping", "clients"],
            "properties": {
                "organization_mapping": reference(super::integration_input::MAPPING),
                "clients": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["client_id", "client_name", "devices", "organization", "organization_name"],
                        "properties": {
                            "client_id": client,
                            "client_name": client,
                            "devices": { "type": "integer", "description": "Present devices of the client" },
                            "organization": { "type": "integer" },
                            "organization_name": { "type": "string" },
                        },
                    },
                },
            },
        }),
    )
    .action(
        Action::new(
            "get",
            "/api/v1/integrations/rmm/{id}/mapping/",
            "Where each of the platform's clients goes under the current mapping",
        )
        .answers("200", "The clients seen by the last run and their organizations")
        .returns_schema(reference(MAPPING_PREVIEW)),
    )
    .schema(
        TEST_RESULT,
        json!({
            "description": "What the test reached (`ok`), or why it failed",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["ok", "authenticated", "devices_on_first_page", "clients"],
                    "properties": {
                        "ok": { "const": true },
                        "authenticated": { "type": "boolean" },
                        "devices_on_first_page": { "type": "integer" },
                        "clients": {
                            "type": "array",
                            "description": "The clients (customers, sites, organizations) on the first page",
                            "items": {
                                "type": "object",
                                "required": ["client_id", "client_name"],
                                "properties": {
                                    "client_id": { "type": "string" },
                                    "client_name": { "type": "string" },
                                },
                            },
                        },
                    },
                },
                {
                    "type": "object",
                    "required": ["ok", "error"],
                    "properties": {
                        "ok": { "const": false },
                        "error": { "type": "string" },
                    },
                },
            ],
        }),
    )
    .action(
        Action::new(
            "post",
            "/api/v1/integrations/rmm/{id}/test/",
            "Log in to the platform and read one page, storing nothing",
        )
        .answers("200", "What the test reached, or the error")
        .returns_schema(reference(TEST_RESULT)),
    );
    spec.ordering(
        "/api/v1/integrations/rmm/{id}/devices/",
        devices::ORDERING_FIELDS,
    );
    spec.ordering(
        "/api/v1/integrations/rmm/{id}/alerts/",
        alerts::ORDERING_FIELDS,
    );
}
