//! `/api/v1/vehicles/`: create, list (search, filters incl. `expiring_within_days`, ordering),
//! detail, replace (`PUT`), update (`PATCH`), delete.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::Spec;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::vehicle_input;
use crate::db::vehicles::{self as repo, VehicleFilter, VehicleRow};
use clientstor_http::reader::{decimal, merged, object, requested_organization};

/// The vehicle as the API returns it.
fn represent(row: &VehicleRow, organization_name: &str) -> Value {
    json!({
        "id": row.id,
        "organization": row.organization_id,
        "organization_name": organization_name,
        "name": row.name,
        "vehicle_type": row.vehicle_type,
        "make": row.make,
        "model": row.model,
        "year": row.year,
        "color": row.color,
        "vin": row.vin,
        "license_plate": row.license_plate,
        "status": row.status,
        "condition": row.condition,
        "current_mileage": row.current_mileage,
        "insurance_provider": row.insurance_provider,
        "insurance_policy_number": row.insurance_policy_number,
        "insurance_expires_at": row.insurance_expires_at,
        "registration_expires_at": row.registration_expires_at,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "last_location_update": row.last_location_update,
        "assigned_to": row.assigned_to,
        "purchase_date": row.purchase_date,
        "purchase_price": row.purchase_price_cents.map(|c| decimal(c, 2)),
        "notes": row.notes,
        "rmm_device": row.rmm_device,
        "created_at": row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "updated_at": row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
}

async fn name_of(context: &Context, org: i64) -> Result<String, ApiError> {
    Ok(crate::db::assets::organization_names(&context.pool, &[org])
        .await?
        .remove(&org)
        .unwrap_or_default())
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let map = object(&body)?;
    let requested = requested_organization(map)?;
    let org = principal.target_org(requested)?;
    principal.require(org, "vehicles_create")?;
    let fields = vehicle_input::parse(map).map_err(ApiError::Validation)?;
    let row = repo::create(&context.pool, org, &fields).await?;
    let name = name_of(&context, org).await?;
    Ok(HttpResponse::Created().json(represent(&row, &name)))
}

#[derive(Debug, Deserialize)]
struct Filters {
    status: Option<String>,
    vehicle_type: Option<String>,
    assigned_to: Option<i64>,
    expiring_within_days: Option<u32>,
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
    let today = chrono::Utc::now().date_naive();
    let filter = VehicleFilter {
        search: query.search_words(),
        status: f.status,
        vehicle_type: f.vehicle_type,
        assigned_to: f.assigned_to,
        // Past the last representable date is a bad filter, not an overflow.
        expiring_by: match f.expiring_within_days {
            Some(days) => Some(
                today
                    .checked_add_days(chrono::Days::new(u64::from(days)))
                    .ok_or_else(|| {
                        ApiError::field("expiring_within_days", "Ensure this value is smaller.")
                    })?,
            ),
            None => None,
        },
    };
    let orgs = principal.orgs_with("vehicles_view");
    let (count, rows) = repo::list(&context.pool, &orgs, &filter, &ordering, page).await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = crate::db::assets::organization_names(&context.pool, &ids).await?;
    let results: Vec<Value> = rows
        .iter()
        .map(|r| represent(r, names.get(&r.organization_id).map_or("", String::as_str)))
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

/// The vehicle if the caller may view it; any other id is a 404.
pub(super) async fn visible(
    principal: &Principal,
    context: &Context,
    raw: &str,
) -> Result<VehicleRow, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found())?;
    Ok(repo::get(&context.pool, &principal.orgs_with("vehicles_view"), id).await?)
}

/// The vehicle if the caller may edit it (nested records are edited under `vehicles_edit`).
pub(super) async fn editable(
    principal: &Principal,
    context: &Context,
    raw: &str,
) -> Result<VehicleRow, ApiError> {
    let vehicle = visible(principal, context, raw).await?;
    principal.require(vehicle.organization_id, "vehicles_edit")?;
    Ok(vehicle)
}

/// A nested record's id from the path; anything else is a 404.
pub(super) fn record_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
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
    id: i64,
    org: i64,
    map: &Map<String, Value>,
) -> Result<HttpResponse, ApiError> {
    let fields = vehicle_input::parse(map).map_err(ApiError::Validation)?;
    let row = repo::update(&context.pool, id, &fields).await?;
    let name = name_of(context, org).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &name)))
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "vehicles_edit")?;
    save(&context, row.id, row.organization_id, object(&body)?).await
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "vehicles_edit")?;
    let merged = merged(represent(&row, ""), &body)?;
    save(&context, row.id, row.organization_id, &merged).await
}

async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = visible(&principal, &context, &path).await?;
    principal.require(row.organization_id, "vehicles_delete")?;
    repo::delete(&context.pool, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/vehicles/", "/api/v1/vehicles"])
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource(["/api/v1/vehicles/{id}/", "/api/v1/vehicles/{id}"])
            .route(web::get().to(detail))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

/// The API description of the vehicles.
pub fn openapi(spec: &mut Spec) {
    spec.resource(
        "/api/v1/vehicles/",
        &vehicle_input::MODEL,
        "lcrpud",
        &[
            "status",
            "vehicle_type",
            "assigned_to",
            "expiring_within_days:integer",
        ],
    );
    spec.ordering("/api/v1/vehicles/", repo::ORDERING_FIELDS);
}
