//! `/api/v1/vehicles/{id}/maintenance/`: a vehicle's service history, with when the next service
//! is due and whether it is overdue. Reading needs `vehicles_view`; writing `vehicles_edit`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, ValidationErrors};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::vehicles::{editable, record_id, visible};
use crate::db::maintenance::{self as repo, MaintenanceFields, MaintenanceRow};
use crate::db::vehicles::VehicleRow;
use clientstor_http::reader::{Reader, decimal, merged, object};

pub const MAINTENANCE_TYPES: &[&str] = &[
    "oil_change",
    "tire_rotation",
    "brake_service",
    "inspection",
    "tune_up",
    "transmission",
    "coolant",
    "battery",
    "repair",
    "other",
];

/// A maintenance record, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "VehicleMaintenance",
    noun: "maintenance record",
    about: "A vehicle's service history, with when the next service is due",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("vehicle", Kind::Integer),
        Field::rw("maintenance_type", Kind::Enum(MAINTENANCE_TYPES)).about("`other` if not given"),
        Field::rw("description", Kind::String),
        Field::rw("service_date", Kind::Date).required(),
        Field::rw("mileage_at_service", Kind::Integer).nullable(),
        Field::rw("performed_by", Kind::String).nullable(),
        Field::rw("labor_cost", Kind::String)
            .about("A decimal string with 2 places (a number is accepted); 0.00 if not given"),
        Field::rw("parts_cost", Kind::String)
            .about("A decimal string with 2 places (a number is accepted); 0.00 if not given"),
        Field::ro("total_cost", Kind::String).about("labor_cost + parts_cost"),
        Field::rw("is_scheduled", Kind::Boolean),
        Field::rw("next_due_mileage", Kind::Integer).nullable(),
        Field::rw("next_due_date", Kind::Date).nullable(),
        Field::ro("overdue", Kind::Boolean).about(
            "The next due date is past or the vehicle's mileage has reached the next due mileage, and no later record of the same type exists",
        ),
        Field::rw("notes", Kind::String),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &[],
};

/// What decides `overdue`: today, the odometer, and the latest service per type.
struct Due {
    today: NaiveDate,
    mileage: i32,
    latest: HashMap<String, NaiveDate>,
}

impl Due {
    async fn of(context: &Context, vehicle: &VehicleRow) -> Result<Self, ApiError> {
        let latest = repo::latest_per_type(&context.pool, vehicle.id)
            .await?
            .into_iter()
            .filter_map(|(kind, date)| Some((kind, date?)))
            .collect();
        Ok(Self {
            today: chrono::Utc::now().date_naive(),
            mileage: vehicle.current_mileage,
            latest,
        })
    }

    /// Past the due date or the due mileage, and not followed by a later service of its type.
    fn overdue(&self, row: &MaintenanceRow) -> bool {
        let past = row.next_due_date.is_some_and(|d| d < self.today)
            || row.next_due_mileage.is_some_and(|m| self.mileage >= m);
        let superseded = self
            .latest
            .get(&row.maintenance_type)
            .is_some_and(|latest| *latest > row.service_date);
        past && !superseded
    }
}

fn represent(row: &MaintenanceRow, due: &Due) -> Value {
    json!({
        "id": row.id,
        "vehicle": row.vehicle_id,
        "maintenance_type": row.maintenance_type,
        "description": row.description,
        "service_date": row.service_date,
        "mileage_at_service": row.mileage_at_service,
        "performed_by": row.performed_by,
        "labor_cost": decimal(row.labor_cost_cents, 2),
        "parts_cost": decimal(row.parts_cost_cents, 2),
        "total_cost": decimal(row.labor_cost_cents + row.parts_cost_cents, 2),
        "is_scheduled": row.is_scheduled,
        "next_due_mileage": row.next_due_mileage,
        "next_due_date": row.next_due_date,
        "overdue": due.overdue(row),
        "notes": row.notes,
        "created_at": row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "updated_at": row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
}

fn parse(map: &Map<String, Value>) -> Result<MaintenanceFields, ValidationErrors> {
    let mut r = Reader::new(map);
    let service_date = r.date("service_date");
    if service_date.is_none() && !r.errors.contains_key("service_date") {
        r.fail("service_date", "This field is required.");
    }
    let mileage = |r: &mut Reader<'_>, field| r.number(field, 0.0, 10_000_000.0).map(|m| m as i32);
    let fields = MaintenanceFields {
        maintenance_type: r.choice("maintenance_type", MAINTENANCE_TYPES, "other"),
        description: r.text("description", 10_000).unwrap_or_default(),
        service_date: service_date.unwrap_or_default(),
        mileage_at_service: mileage(&mut r, "mileage_at_service"),
        performed_by: r.text("performed_by", 200),
        labor_cost_cents: r.fixed("labor_cost", 2).unwrap_or(0),
        parts_cost_cents: r.fixed("parts_cost", 2).unwrap_or(0),
        is_scheduled: r.boolean("is_scheduled"),
        next_due_mileage: mileage(&mut r, "next_due_mileage"),
        next_due_date: r.date("next_due_date"),
        notes: r.text("notes", 100_000).unwrap_or_default(),
    };
    if r.errors.is_empty() {
        Ok(fields)
    } else {
        Err(r.errors)
    }
}

#[derive(Debug, Deserialize)]
struct Filters {
    maintenance_type: Option<String>,
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = visible(&principal, &context, &path).await?;
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let (count, rows) = repo::list(
        &context.pool,
        vehicle.id,
        filters.maintenance_type.as_deref(),
        &ordering,
        page,
    )
    .await?;
    let due = Due::of(&context, &vehicle).await?;
    let results = rows.iter().map(|r| represent(r, &due)).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = editable(&principal, &context, &path).await?;
    let fields = parse(object(&body)?).map_err(ApiError::Validation)?;
    let row = repo::create(&context.pool, vehicle.id, &fields).await?;
    let due = Due::of(&context, &vehicle).await?;
    Ok(HttpResponse::Created().json(represent(&row, &due)))
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = visible(&principal, &context, &path.0).await?;
    let row = repo::get(&context.pool, vehicle.id, record_id(&path.1)?).await?;
    let due = Due::of(&context, &vehicle).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &due)))
}

async fn save(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    partial: bool,
) -> Result<HttpResponse, ApiError> {
    let vehicle = editable(&principal, &context, &path.0).await?;
    let current = repo::get(&context.pool, vehicle.id, record_id(&path.1)?).await?;
    let due = Due::of(&context, &vehicle).await?;
    let map = if partial {
        merged(represent(&current, &due), &body)?
    } else {
        object(&body)?.clone()
    };
    let fields = parse(&map).map_err(ApiError::Validation)?;
    let row = repo::update(&context.pool, current.id, &fields).await?;
    let due = Due::of(&context, &vehicle).await?;
    Ok(HttpResponse::Ok().json(represent(&row, &due)))
}

async fn replace(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(principal, context, path, body, false).await
}

async fn patch(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    save(principal, context, path, body, true).await
}

async fn delete(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = editable(&principal, &context, &path.0).await?;
    let row = repo::get(&context.pool, vehicle.id, record_id(&path.1)?).await?;
    repo::delete(&context.pool, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource([
            "/api/v1/vehicles/{id}/maintenance/",
            "/api/v1/vehicles/{id}/maintenance",
        ])
        .route(web::get().to(list))
        .route(web::post().to(create)),
    )
    .service(
        web::resource([
            "/api/v1/vehicles/{id}/maintenance/{record_id}/",
            "/api/v1/vehicles/{id}/maintenance/{record_id}",
        ])
        .route(web::get().to(detail))
        .route(web::put().to(replace))
        .route(web::patch().to(patch))
        .route(web::delete().to(delete)),
    );
}

/// The API description of the vehicles' service history.
pub fn openapi(spec: &mut Spec) {
    spec.resource(
        "/api/v1/vehicles/{id}/maintenance/",
        &MODEL,
        "lcrpud",
        &["maintenance_type"],
    );
    spec.ordering("/api/v1/vehicles/{id}/maintenance/", repo::ORDERING_FIELDS);
}
