//! `/api/v1/assets/`: create (one, or a JSON array of up to 1,000, all or nothing), list with
//! search, filters and ordering, detail, replace (`PUT`), update (`PATCH`), delete.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::Spec;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::asset_input;
use crate::db::assets::{self as repo, AssetFilter, AssetRow};
use crate::db::list_cache::ListCache;
use clientstor_http::reader::{merged, object, requested_organization};

const MAX_BULK: usize = 1000;

/// The asset as the API returns it (and as `asset.created` carries it).
pub fn represent(row: &AssetRow, organization_name: &str) -> Value {
    json!({
        "id": row.id,
        "organization": row.organization_id,
        "organization_name": organization_name,
        "name": row.name,
        "asset_type": row.asset_type,
        "asset_tag": row.asset_tag,
        "serial_number": row.serial_number,
        "manufacturer": row.manufacturer,
        "model": row.model,
        "hostname": row.hostname,
        "ip_address": row.ip_address,
        "mac_address": row.mac_address,
        "os_name": row.os_name,
        "os_version": row.os_version,
        "firmware_version": row.firmware_version,
        "cpu": row.cpu,
        "ram_gb": row.ram_gb,
        "storage": row.storage,
        "status": row.status,
        "purchase_date": row.purchase_date,
        "warranty_expiry": row.warranty_expiry,
        "location": row.location,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "notes": row.notes,
        "tags": row.tags,
        "custom_fields": row.custom_fields,
        "needs_reorder": row.needs_reorder,
        "source": row.source,
        "created_by": row.created_by,
        "created_at": row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "updated_at": row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (items, bulk) = match &body {
        Value::Array(items) => (items.clone(), true),
        other => (vec![other.clone()], false),
    };
    if items.is_empty() || items.len() > MAX_BULK {
        return Err(ApiError::field(
            "non_field_errors",
            format!("Send between 1 and {MAX_BULK} assets."),
        ));
    }
    // Every item goes to one organization: the query's, else the first item's, else home.
    let org = principal.target_org(requested_organization(object(&items[0])?)?)?;
    principal.require(org, "assets_create")?;
    let mut fields = Vec::with_capacity(items.len());
    let mut report = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in &items {
        match item.as_object().map(asset_input::parse) {
            Some(Ok(parsed)) => {
                fields.push(parsed);
                report.push(json!({}));
            }
            Some(Err(errors)) => {
                failed = true;
                report.push(json!(errors));
            }
            None => {
                failed = true;
                report.push(json!({"non_field_errors": ["Expected a JSON object."]}));
            }
        }
    }
    if failed {
        return Err(if bulk {
            ApiError::ValidationBody(Value::Array(report))
        } else {
            ApiError::ValidationBody(report.remove(0))
        });
    }
    let (rows, org_name) =
        repo::create_many(&context.pool, org, principal.uid, fields, &represent).await?;
    context.outbox.notify();
    let mut created: Vec<Value> = rows.iter().map(|r| represent(r, &org_name)).collect();
    Ok(HttpResponse::Created().json(if bulk {
        Value::Array(created)
    } else {
        created.remove(0)
    }))
}

#[derive(Debug, Deserialize)]
struct Filters {
    asset_type: Option<String>,
    status: Option<String>,
    manufacturer: Option<String>,
    needs_reorder: Option<bool>,
    tag: Option<String>,
    serial_number: Option<String>,
    hostname: Option<String>,
    ip_address: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    updated_after: Option<DateTime<Utc>>,
    updated_before: Option<DateTime<Utc>>,
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    cache: web::Data<ListCache>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let f = filters.into_inner();
    let filter = AssetFilter {
        search: query.search_words(),
        asset_type: f.asset_type,
        status: f.status,
        manufacturer: f.manufacturer,
        needs_reorder: f.needs_reorder,
        tag: f.tag,
        serial_number: f.serial_number,
        hostname: f.hostname,
        ip_address: f.ip_address,
        created_after: f.created_after,
        created_before: f.created_before,
        updated_after: f.updated_after,
        updated_before: f.updated_before,
    };
    let orgs = principal.orgs_with("assets_view");
    let (count, rows) = repo::list(
        &context.pool,
        &cache,
        context.settings.inventory.search_scan_reach,
        &orgs,
        &filter,
        &ordering,
        page,
    )
    .await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = repo::organization_names(&context.pool, &ids).await?;
    let results: Vec<Value> = rows
        .iter()
        .map(|row| {
            represent(
                row,
                names.get(&row.organization_id).map_or("", String::as_str),
            )
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

pub(crate) async fn visible(
    principal: &Principal,
    context: &Context,
    raw: &str,
) -> Result<AssetRow, ApiError> {
    // A non-numeric id names no asset: 404, like any other unknown id.
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    Ok(repo::get(&context.pool, &principal.orgs_with("assets_view"), id).await?)
}

async fn name_of(context: &Context, org: i64) -> Result<String, ApiError> {
    Ok(repo::organization_names(&context.pool, &[org])
        .await?
        .remove(&org)
        .unwrap_or_default())
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    let name = name_of(&context, row.organization_id).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &name)))
}

async fn save(
    context: &Context,
    before: AssetRow,
    body: &Map<String, Value>,
) -> Result<HttpResponse, ApiError> {
    let fields = asset_input::parse(body).map_err(ApiError::Validation)?;
    let (row, org_name) = repo::update(&context.pool, &before, fields, &represent).await?;
    context.outbox.notify();
    Ok(HttpResponse::Ok().json(represent(&row, &org_name)))
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "assets_edit")?;
    save(&context, row, object(&body)?).await
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "assets_edit")?;
    // Absent fields keep their value; `null` clears a nullable one.
    let merged = merged(represent(&row, ""), &body)?;
    save(&context, row, &merged).await
}

async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "assets_delete")?;
    repo::delete(&context.pool, row.id).await?;
    context.outbox.notify();
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Each worker keeps its own list answers.
    cfg.app_data(web::Data::new(ListCache::default()));
    // With and without the trailing slash, served as is.
    cfg.service(
        web::resource(["/api/v1/assets/", "/api/v1/assets"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource(["/api/v1/assets/{id}/", "/api/v1/assets/{id}"])
            .route(web::get().to(detail))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

/// The API description of the assets.
pub fn openapi(spec: &mut Spec) {
    spec.resource(
        "/api/v1/assets/",
        &asset_input::MODEL,
        "lcbrpud",
        &[
            "asset_type",
            "status",
            "manufacturer",
            "needs_reorder",
            "tag",
            "serial_number",
            "hostname",
            "ip_address",
            "created_after",
            "created_before",
            "updated_after",
            "updated_before",
        ],
    );
    spec.ordering("/api/v1/assets/", repo::ORDERING_FIELDS);
}
