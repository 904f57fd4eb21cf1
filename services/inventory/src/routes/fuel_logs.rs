//! `/api/v1/vehicles/{id}/fuel-logs/`: fill-ups with miles driven and MPG since the previous
//! (lower) odometer reading; saving one raises the vehicle's `current_mileage`.

use actix_web::{HttpRequest, HttpResponse, web};
use clientstor_http::{ApiError, ListQuery, Page, PageRequest, Principal, ValidationErrors};
use clientstor_runtime::Context;
use clientstor_runtime::openapi::{Field, Kind, Model, Spec};
use serde_json::{Map, Value, json};

use super::vehicles::{editable, record_id, visible};
use crate::db::fuel_logs::{self as repo, FuelLogFields, FuelLogRow};
use clientstor_http::reader::{Reader, decimal, merged, object};

/// A fuel log, for the API description and the browsable forms.
pub const MODEL: Model = Model {
    name: "FuelLog",
    noun: "fuel log",
    about: "A vehicle's fill-ups, with miles driven and MPG since the previous lower odometer reading",
    record: false,
    fields: &[
        Field::ro("id", Kind::Integer),
        Field::ro("vehicle", Kind::Integer),
        Field::rw("date", Kind::Date).required(),
        Field::rw("mileage", Kind::Integer)
            .required()
            .about("The odometer; saving raises the vehicle's current_mileage to it"),
        Field::rw("gallons", Kind::String)
            .required()
            .about("A decimal string with 2 places (a number is accepted), above 0"),
        Field::rw("cost_per_gallon", Kind::String)
            .nullable()
            .about("A decimal string with 3 places (a number is accepted)"),
        Field::rw("total_cost", Kind::String)
            .nullable()
            .about("A decimal string with 2 places (a number is accepted); gallons × cost_per_gallon if not given"),
        Field::rw("station", Kind::String).nullable(),
        Field::ro("miles_driven", Kind::Integer)
            .nullable()
            .about("Since the highest reading below this one; null for the first"),
        Field::ro("mpg", Kind::Number)
            .nullable()
            .about("Miles per gallon over miles_driven"),
        Field::rw("notes", Kind::String),
        Field::ro("created_at", Kind::DateTime),
        Field::ro("updated_at", Kind::DateTime),
    ],
    search: &[],
};

/// Miles since the highest reading below this log's, and miles per gallon over them.
fn consumption(row: &FuelLogRow, mileages: &[i32]) -> (Option<i32>, Option<f64>) {
    let below = mileages.partition_point(|m| *m < row.mileage);
    let Some(previous) = below.checked_sub(1).map(|i| mileages[i]) else {
        return (None, None);
    };
    let miles = row.mileage - previous;
    let mpg = (row.gallons_hundredths > 0).then(|| {
        let raw = f64::from(miles) * 100.0 / row.gallons_hundredths as f64;
        (raw * 100.0).round() / 100.0
    });
    (Some(miles), mpg)
}

fn represent(row: &FuelLogRow, mileages: &[i32]) -> Value {
    let (miles_driven, mpg) = consumption(row, mileages);
    json!({
        "id": row.id,
        "vehicle": row.vehicle_id,
        "date": row.date,
        "mileage": row.mileage,
        "gallons": decimal(row.gallons_hundredths, 2),
        "cost_per_gallon": row.cost_per_gallon_mills.map(|m| decimal(m, 3)),
        "total_cost": row.total_cost_cents.map(|c| decimal(c, 2)),
        "station": row.station,
        "miles_driven": miles_driven,
        "mpg": mpg,
        "notes": row.notes,
        "created_at": row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "updated_at": row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
}

fn parse(map: &Map<String, Value>) -> Result<FuelLogFields, ValidationErrors> {
    let mut r = Reader::new(map);
    let date = r.date("date");
    let mileage = r.number("mileage", 0.0, 10_000_000.0).map(|m| m as i32);
    let gallons = r.fixed("gallons", 2);
    for (field, missing) in [
        ("date", date.is_none()),
        ("mileage", mileage.is_none()),
        ("gallons", gallons.is_none()),
    ] {
        if missing && !r.errors.contains_key(field) {
            r.fail(field, "This field is required.");
        }
    }
    if gallons == Some(0) {
        r.fail("gallons", "Ensure this value is greater than 0.");
    }
    let gallons = gallons.unwrap_or_default();
    let cost_per_gallon_mills = r.fixed("cost_per_gallon", 3);
    // Hundredths of a gallon times tenths of a cent is in 1e-5 dollars; round to cents.
    let total_cost_cents = r.fixed("total_cost", 2).or_else(|| {
        cost_per_gallon_mills
            .and_then(|mills| gallons.checked_mul(mills))
            .map(|units| (units + 500) / 1000)
    });
    let fields = FuelLogFields {
        date: date.unwrap_or_default(),
        mileage: mileage.unwrap_or_default(),
        gallons_hundredths: gallons,
        cost_per_gallon_mills,
        total_cost_cents,
        station: r.text("station", 200),
        notes: r.text("notes", 100_000).unwrap_or_default(),
    };
    if r.errors.is_empty() {
        Ok(fields)
    } else {
        Err(r.errors)
    }
}

async fn list(
    req: HttpRequest,
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = visible(&principal, &context, &path).await?;
    let page = PageRequest::from_request(&req)?;
    let ordering = query.ordering(repo::ORDERING_FIELDS)?;
    let (count, rows) = repo::list(&context.pool, vehicle.id, &ordering, page).await?;
    let mileages = repo::mileages(&context.pool, vehicle.id).await?;
    let results = rows.iter().map(|r| represent(r, &mileages)).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, page, count, results)?))
}

async fn respond(
    context: &Context,
    row: &FuelLogRow,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    let mileages = repo::mileages(&context.pool, row.vehicle_id).await?;
    let body = represent(row, &mileages);
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

async fn create(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = editable(&principal, &context, &path).await?;
    let fields = parse(object(&body)?).map_err(ApiError::Validation)?;
    let row = repo::save(&context.pool, vehicle.id, None, &fields).await?;
    respond(&context, &row, true).await
}

async fn detail(
    principal: Principal,
    context: web::Data<Context>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let vehicle = visible(&principal, &context, &path.0).await?;
    let row = repo::get(&context.pool, vehicle.id, record_id(&path.1)?).await?;
    respond(&context, &row, false).await
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
    let map = if partial {
        let mut base = represent(&current, &[]);
        // A new price without a new total recomputes the total.
        if (body.get("cost_per_gallon").is_some() || body.get("gallons").is_some())
            && let Some(base) = base.as_object_mut()
        {
            base.remove("total_cost");
        }
        merged(base, &body)?
    } else {
        object(&body)?.clone()
    };
    let fields = parse(&map).map_err(ApiError::Validation)?;
    let row = repo::save(&context.pool, vehicle.id, Some(current.id), &fields).await?;
    respond(&context, &row, false).await
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
            "/api/v1/vehicles/{id}/fuel-logs/",
            "/api/v1/vehicles/{id}/fuel-logs",
        ])
        .route(web::get().to(list))
        .route(web::post().to(create)),
    )
    .service(
        web::resource([
            "/api/v1/vehicles/{id}/fuel-logs/{record_id}/",
            "/api/v1/vehicles/{id}/fuel-logs/{record_id}",
        ])
        .route(web::get().to(detail))
        .route(web::put().to(replace))
        .route(web::patch().to(patch))
        .route(web::delete().to(delete)),
    );
}

/// The API description of the vehicles' fuel logs.
pub fn openapi(spec: &mut Spec) {
    spec.resource("/api/v1/vehicles/{id}/fuel-logs/", &MODEL, "lcrpud", &[]);
    spec.ordering("/api/v1/vehicles/{id}/fuel-logs/", repo::ORDERING_FIELDS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miles_and_mpg_come_from_the_previous_lower_reading() {
        let now = chrono::Utc::now();
        let row = |mileage, gallons_hundredths| FuelLogRow {
            id: 1,
            vehicle_id: 1,
            date: now.date_naive(),
            mileage,
            gallons_hundredths,
            cost_per_gallon_mills: None,
            total_cost_cents: None,
            station: None,
            notes: String::new(),
            created_at: now,
            updated_at: now,
        };
        let mileages = [1000, 1300, 1300, 1650];
        assert_eq!(consumption(&row(1000, 1000), &mileages), (None, None));
        assert_eq!(
            consumption(&row(1300, 1200), &mileages),
            (Some(300), Some(25.0))
        );
        assert_eq!(
            consumption(&row(1650, 1100), &mileages),
            (Some(350), Some(31.82))
        );
    }
}
