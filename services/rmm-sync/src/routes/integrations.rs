//! `/api/v1/integrations/rmm/`: list, create, detail, replace, update, delete. Credentials are
//! write-only: sealed on the way in, never returned.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::reader::{merged, object, requested_organization};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_keyring::KeyringCell;
use clientstor_runtime::Context;
use clientstor_runtime::openapi::Spec;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde::Deserialize;
use serde_json::{Value, json};

use super::integration_input::{self, Input};
use super::{CONFIGURE, VIEW, keyring, rfc3339, visible};
use crate::SCHEMA;
use crate::connectors::Provider;
use crate::db::devices;
use crate::db::integrations::{self as repo, IntegrationFilter, IntegrationRow};
use crate::db::runs::{self, RunRow};
use crate::error::RmmError;
use crate::secrets;

/// The integration as the API returns it.
pub fn represent(
    row: &IntegrationRow,
    organization_name: &str,
    last_run: Option<&RunRow>,
) -> Value {
    let fields = Provider::parse(&row.provider).map_or(&[][..], |p| p.credential_fields());
    json!({
        "id": row.id,
        "organization": row.organization_id,
        "organization_name": organization_name,
        "provider": row.provider,
        "name": row.name,
        "base_url": row.base_url,
        "region": row.region,
        "has_credentials": !row.credentials_sealed.is_empty(),
        "credential_fields": fields,
        "sync_interval_minutes": row.sync_interval_minutes,
        "enabled": row.enabled,
        "organization_mapping": row.organization_mapping,
        "gps_extra_data_field": row.gps_extra_data_field,
        "next_run_at": rfc3339(row.next_run_at),
        "consecutive_failures": row.consecutive_failures,
        "last_run": last_run.map(|r| json!({
            "id": r.id,
            "status": r.status,
            "trigger": r.trigger,
            "started_at": r.started_at.map(rfc3339),
            "finished_at": r.finished_at.map(rfc3339),
        })),
        "created_by": row.created_by,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

async fn organization_name(conn: &mut AsyncPgConnection, org: i64) -> Result<String, RmmError> {
    Ok(clientstor_runtime::organizations::name(conn, SCHEMA, org).await?)
}

async fn represent_one(
    conn: &mut AsyncPgConnection,
    row: &IntegrationRow,
) -> Result<Value, RmmError> {
    let name = organization_name(conn, row.organization_id).await?;
    let last = runs::latest(conn, &[row.id]).await?;
    Ok(represent(row, &name, last.first()))
}

#[derive(Debug, Deserialize)]
struct Filters {
    provider: Option<String>,
    enabled: Option<bool>,
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
    let filter = IntegrationFilter {
        search: query.search_words(),
        provider: f.provider,
        enabled: f.enabled,
    };
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let orgs = principal.orgs_with(VIEW);
    let (count, rows) = repo::list(conn, &orgs, &filter, &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = clientstor_runtime::organizations::names(conn, SCHEMA, &ids)
        .await
        .map_err(RmmError::from)?;
    let integration_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let last = runs::latest(conn, &integration_ids).await?;
    let results = rows
        .iter()
        .map(|r| {
            let name = names.get(&r.organization_id).map_or("", String::as_str);
            represent(r, name, last.iter().find(|run| run.integration_id == r.id))
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

/// Checks what the caller may configure: mapped organizations must be ones the caller can
/// configure, and the base URL must pass the outbound policy.
async fn authorize(
    principal: &Principal,
    context: &Context,
    org: i64,
    input: &mut Input,
) -> Result<(), ApiError> {
    principal.require(org, CONFIGURE)?;
    let scope = principal.orgs_with(CONFIGURE);
    if let Some((client, _)) = input.mapping.map.iter().find(|(_, o)| !scope.contains(o)) {
        return Err(ApiError::field(
            "organization_mapping",
            format!("map[{client:?}]: unknown organization or not configurable with this key."),
        ));
    }
    input.fields.mapping_scope = if input.mapping.mode == "single" {
        Vec::new()
    } else {
        scope
    };
    if let Some(base) = &input.fields.base_url {
        let policy = clientstor_outbound::Policy::from_settings(&context.settings.outbound)
            .map_err(ApiError::internal)?;
        if let Err(e) = policy.check_url(base).await {
            return Err(ApiError::field(
                "base_url",
                format!("This address cannot be used: {e}"),
            ));
        }
    }
    Ok(())
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let map = object(&body)?;
    let org = principal.target_org(requested_organization(map)?)?;
    let mut input = integration_input::parse(map).map_err(ApiError::Validation)?;
    let Some(credentials) = input.credentials.take() else {
        return Err(ApiError::field("credentials", "This field is required."));
    };
    authorize(&principal, &context, org, &mut input).await?;
    let keyring = keyring(&cell, &context)?;
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let row = conn
        .transaction(async |conn| {
            if repo::name_taken(conn, org, &input.fields.name, None).await? {
                return Ok(None);
            }
            let id = repo::next_id(conn).await?;
            let sealed = secrets::seal(&keyring, conn, org, id, &credentials).await?;
            let row = repo::insert(conn, id, org, principal.uid, &input.fields, &sealed).await?;
            Ok::<_, RmmError>(Some(row))
        })
        .await?;
    let Some(row) = row else {
        return Err(ApiError::field(
            "name",
            "This organization already has an integration of this name.",
        ));
    };
    if row.enabled {
        context.work.notify_one();
    }
    Ok(HttpResponse::Created().json(represent_one(conn, &row).await?))
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let row = visible(&principal, &mut conn, &path).await?;
    Ok(HttpResponse::Ok().json(represent_one(&mut conn, &row).await?))
}

async fn save(
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    body: web::Json<Value>,
    partial: bool,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let current = visible(&principal, conn, &path).await?;
    let map = if partial {
        merged(represent(&current, "", None), &body)?
    } else {
        object(&body)?.clone()
    };
    let mut input = integration_input::parse(&map).map_err(ApiError::Validation)?;
    if input.credentials.is_none() && input.provider.as_str() != current.provider {
        return Err(ApiError::field(
            "credentials",
            "A new provider needs its credentials.",
        ));
    }
    authorize(&principal, &context, current.organization_id, &mut input).await?;
    let keyring = keyring(&cell, &context)?;
    let org = current.organization_id;
    let row = conn
        .transaction(async |conn| {
            if repo::name_taken(conn, org, &input.fields.name, Some(current.id)).await? {
                return Ok(None);
            }
            let sealed = match &input.credentials {
                Some(c) => Some(secrets::seal(&keyring, conn, org, current.id, c).await?),
                None => None,
            };
            let row = repo::update(conn, current.id, &input.fields, sealed.as_deref()).await?;
            Ok::<_, RmmError>(Some(row))
        })
        .await?;
    let Some(row) = row else {
        return Err(ApiError::field(
            "name",
            "This organization already has an integration of this name.",
        ));
    };
    Ok(HttpResponse::Ok().json(represent_one(conn, &row).await?))
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(principal, context, cell, path, body, false).await
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    cell: web::Data<KeyringCell>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(principal, context, cell, path, body, true).await
}

/// Deleting an integration retires its devices' assets (a `rmm.device.removed` each) in the
/// same transaction; the assets themselves stay.
async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = context.pool.get().await.map_err(RmmError::from)?;
    let conn: &mut AsyncPgConnection = &mut conn;
    let row = visible(&principal, conn, &path).await?;
    principal.require(row.organization_id, CONFIGURE)?;
    conn.transaction(async |conn| {
        let present = devices::present(conn, row.id).await?;
        let mut ids: Vec<i64> = present.iter().map(|d| d.organization_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let names = clientstor_runtime::organizations::names(conn, SCHEMA, &ids).await?;
        let now = chrono::Utc::now();
        let events: Vec<_> = present
            .iter()
            .map(|d| {
                let organization = clientstor_events::Organization {
                    id: d.organization_id,
                    name: names.get(&d.organization_id).cloned().unwrap_or_default(),
                };
                crate::events::device_event(
                    clientstor_events::types::RMM_DEVICE_REMOVED,
                    row.id,
                    &row.provider,
                    organization,
                    &d.device(),
                    now,
                )
            })
            .collect();
        clientstor_bus::enqueue_many(conn, SCHEMA, &events).await?;
        repo::delete(conn, row.id).await
    })
    .await?;
    context.outbox.notify();
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/integrations/rmm/", "/api/v1/integrations/rmm"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource([
            "/api/v1/integrations/rmm/{id}/",
            "/api/v1/integrations/rmm/{id}",
        ])
        .route(web::get().to(detail))
        .route(web::put().to(replace))
        .route(web::patch().to(patch))
        .route(web::delete().to(delete)),
    );
}

/// The integration resource and the shapes of its parts.
pub fn openapi(spec: &mut Spec) {
    spec.schema(
        integration_input::CREDENTIALS,
        integration_input::credentials_schema(),
    )
    .schema(
        integration_input::MAPPING,
        integration_input::mapping_schema(),
    )
    .schema(integration_input::LAST_RUN, super::runs::summary_schema())
    .resource(
        "/api/v1/integrations/rmm/",
        &integration_input::MODEL,
        "lcrpud",
        &["provider", "enabled"],
    );
    spec.ordering("/api/v1/integrations/rmm/", repo::ORDERING_FIELDS);
}
